"""Runs codecs over images at several qualities and records real file sizes.

For every image, codec and quality: encode (timed), decode (timed), count the
bytes of the complete compressed file, and compare the decoded image with the
original (PSNR, MS-SSIM). A file that cannot be read, or a codec that fails
on one image or quality, is logged and listed in `EvaluationResult.failures`;
the run always goes on with the rest.
"""
import concurrent.futures
import dataclasses
import logging
import math
import multiprocessing
import os
import time
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from tqdm import tqdm

from nlaic_tf import metrics
from nlaic_tf.evaluation.codecs import CONVENTIONAL_CODECS, Codec, Quality
from nlaic_tf.evaluation.curves import RDCurve, curves_from_summary
from nlaic_tf.evaluation.plot import plot_rd
from nlaic_tf.evaluation.records import (Measurement, summarize, write_measurements_csv,
                                         write_summary_csv)
from nlaic_tf.io.images import ImageReadError, read_image

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Failure:
  """Something that was skipped: an unreadable image, or one codec run."""
  image: str                 # Image name, or "*" for a codec skipped entirely.
  codec: Optional[str]       # None when the image itself could not be read.
  quality: Optional[Quality]
  error: str

  def __str__(self) -> str:
    where = self.image if self.codec is None else f"{self.image}, {self.codec}"
    if self.quality is not None:
      where += f" at quality {self.quality:g}"
    return f"{where}: {self.error}"


@dataclasses.dataclass
class EvaluationResult:
  measurements: List[Measurement]
  failures: List[Failure]


def image_names(paths: Sequence[Path]) -> List[str]:
  """Names for the CSV: file names, or paths relative to their common folder
  when file names repeat."""
  names = [p.name for p in paths]
  if len(set(names)) == len(names):
    return names
  root = os.path.commonpath([str(p.resolve().parent) for p in paths])
  return [os.path.relpath(p.resolve(), root) for p in paths]


def measurement(codec_name: str, name: str, quality: Quality, image, data: bytes, decoded,
                encode_s: float = math.nan, decode_s: float = math.nan) -> Measurement:
  """The Measurement of `image` (uint8 HxWx3) coded to the file `data` and
  decoded to `decoded`; MS-SSIM is NaN for images too small for it.

  Raises:
    ValueError: `decoded` differs from `image` in shape.
  """
  if decoded.shape != image.shape:
    raise ValueError(f"decoded shape {decoded.shape} differs from the original {image.shape}")
  height, width = image.shape[:2]
  has_ms_ssim = min(height, width) >= metrics.MS_SSIM_MIN_SIZE
  return Measurement(
      codec=codec_name, image=name, quality=quality, bytes=len(data),
      bpp=metrics.bpp(len(data), height, width), psnr=metrics.psnr(image, decoded),
      ms_ssim=metrics.ms_ssim(image, decoded) if has_ms_ssim else math.nan,
      encode_s=encode_s, decode_s=decode_s)


def _measure(codec: Codec, image, quality: Quality, name: str) -> Measurement:
  start = time.perf_counter()
  data = codec.encode(image, quality)
  encode_s = time.perf_counter() - start
  start = time.perf_counter()
  decoded = codec.decode(data)
  decode_s = time.perf_counter() - start
  return measurement(codec.name, name, quality, image, data, decoded, encode_s, decode_s)


def _evaluate_image(path: Path, name: str, grids: Sequence[Tuple[Codec, Sequence[Quality]]],
                    on_point: Optional[Callable[[], None]] = None
                    ) -> Tuple[List[Measurement], List[Failure]]:
  """All codecs and qualities on one image; never raises for bad input."""
  measurements, failures = [], []
  try:
    image = read_image(path)
  except ImageReadError as e:
    return [], [Failure(name, None, None, f"cannot read image ({e.reason})")]
  if min(image.shape[:2]) < metrics.MS_SSIM_MIN_SIZE:
    logger.warning("%s: %dx%d is smaller than %d pixels on a side; its MS-SSIM is left "
                   "empty", name, image.shape[1], image.shape[0], metrics.MS_SSIM_MIN_SIZE)
  for codec, qualities in grids:
    for quality in qualities:
      try:
        measurements.append(_measure(codec, image, quality, name))
      except Exception as e:  # Any codec error is recorded; the run goes on.
        failures.append(Failure(name, codec.name, quality, f"{type(e).__name__}: {e}"))
      if on_point is not None:
        on_point()
  return measurements, failures


def _usable_grids(codecs: Sequence[Codec], qualities: Optional[Mapping[str, Sequence[Quality]]]
                  ) -> Tuple[List[Tuple[Codec, List[Quality]]], List[Failure]]:
  """Pairs each available codec with its validated quality grid."""
  grids, failures = [], []
  for codec in codecs:
    reason = codec.unavailable_reason()
    if reason:
      failures.append(Failure("*", codec.name, None, f"codec unavailable: {reason}"))
      continue
    grid = (qualities or {}).get(codec.name, codec.qualities)
    grids.append((codec, sorted({codec.check_quality(q) for q in grid})))
  return grids, failures


def _take_reused(grids: Sequence[Tuple[Codec, List[Quality]]], name: str,
                 found: Mapping[Tuple[str, str, float], Measurement]
                 ) -> Tuple[List[Tuple[Codec, List[Quality]]], List[Measurement]]:
  """Splits `grids` into the codecs still to run on the image `name` and the
  measurements taken from `found` (earlier ones by codec, image and quality):
  a conventional codec (whose results depend on the image, the quality and
  its tool only) found there at every quality of its grid is not run again
  on that image. Learned codecs always run."""
  to_run, taken = [], []
  for codec, grid in grids:
    rows = [found.get((codec.name, name, float(q))) for q in grid]
    if codec.name in CONVENTIONAL_CODECS and rows and all(rows):
      taken.extend(rows)
    else:
      to_run.append((codec, grid))
  return to_run, taken


def evaluate(paths: Sequence[Path], codecs: Sequence[Codec],
             qualities: Optional[Mapping[str, Sequence[Quality]]] = None,
             workers: int = 1, progress: bool = True,
             reuse: Sequence[Measurement] = (),
             on_image: Optional[Callable[[List[Measurement]], None]] = None
             ) -> EvaluationResult:
  """Measures every codec at every quality on every image.

  Args:
    paths: image files (see nlaic_tf.io.images for the conversions applied).
    codecs: codecs to run.
    qualities: optional grid per codec name; a codec's default grid otherwise.
    workers: processes to use. Timings are only comparable between codecs
      with workers=1 on an otherwise idle machine.
    progress: show a tqdm progress bar (on stderr).
    reuse: measurements of an earlier run (same images, tools and settings):
      on each image, conventional codecs found there at every quality are
      taken from it instead of being run (`_take_reused`); their timings are
      the earlier run's.
    on_image: called after each image with every measurement so far (those
      reused included), e.g. to keep a partial CSV that a rerun can reuse.

  Returns:
    Measurements ordered by codec (as given), image, quality; and failures.

  Raises:
    ValueError: a quality outside a codec's range (checked before any work).
  """
  paths = [Path(p) for p in paths]
  names = image_names(paths)
  grids, failures = _usable_grids(codecs, qualities)
  for failure in failures:
    logger.warning("skipping codec %s", failure)
  found = {(m.codec, m.image, float(m.quality)): m for m in reuse}
  measurements, work = [], []  # work: (path, name, codecs to run, points)
  for path, name in zip(paths, names):
    to_run, taken = _take_reused(grids, name, found)
    measurements.extend(taken)
    if to_run:
      work.append((path, name, to_run, sum(len(grid) for _, grid in to_run)))
  if measurements:
    logger.info("%d measurement(s) reused, not run again", len(measurements))

  def collect(new_measurements, new_failures):
    measurements.extend(new_measurements)
    for failure in new_failures:
      logger.error("skipped %s", failure)
    failures.extend(new_failures)
    if on_image is not None:
      on_image(list(measurements))

  with tqdm(total=sum(points for *_, points in work), desc="coding", unit="run",
            disable=not progress, dynamic_ncols=True) as bar:
    if workers <= 1:
      for path, name, to_run, _ in work:
        collect(*_evaluate_image(path, name, to_run, on_point=lambda: bar.update(1)))
    else:
      context = multiprocessing.get_context("spawn")  # Safe with TensorFlow loaded.
      with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {pool.submit(_evaluate_image, path, name, to_run): points
                   for path, name, to_run, points in work}
        for future in concurrent.futures.as_completed(futures):
          collect(*future.result())
          bar.update(futures[future])
  codec_order = {codec.name: i for i, codec in enumerate(codecs)}
  measurements.sort(key=lambda m: (codec_order[m.codec], m.image, m.quality))
  return EvaluationResult(measurements, failures)


def write_outputs(result: EvaluationResult, codecs: Sequence[Codec], out_dir: Path, name: str,
                  extra_curves: Sequence[RDCurve] = (), title: str = "") -> Dict[str, Path]:
  """Writes the per-image CSV, the summary CSV and the RD plot, each atomically.

  Files: <out_dir>/<name>.csv, <name>_summary.csv and <name>_rd.png.

  Args:
    result: from `evaluate`.
    codecs: the codecs evaluated (for their labels).
    extra_curves: more curves for the plot, e.g. published ones (drawn dashed).

  Returns:
    {"measurements": path, "summary": path, "plot": path}.

  Raises:
    ValueError: there are no measurements (existing files are left alone).
  """
  if not result.measurements:
    raise ValueError("no measurements to write: every image or codec failed")
  out_dir = Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  paths = {"measurements": out_dir / f"{name}.csv",
           "summary": out_dir / f"{name}_summary.csv",
           "plot": out_dir / f"{name}_rd.png"}
  rows = summarize(result.measurements)
  write_measurements_csv(paths["measurements"], result.measurements)
  write_summary_csv(paths["summary"], rows)
  labels = {codec.name: codec.label for codec in codecs}
  plot_rd(curves_from_summary(rows, labels) + list(extra_curves), paths["plot"], title=title)
  return paths
