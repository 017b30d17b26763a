"""Measure codecs on a set of images: per-image CSV, summary CSV and RD plot.

Every image is coded by every codec at every quality of its grid; the file
sizes are real (complete files), PSNR and MS-SSIM compare the decoded image
with the original. Unreadable files and codec failures are reported and
skipped. Outputs go to OUT/NAME.csv, OUT/NAME_summary.csv and OUT/NAME_rd.png.

While it runs, OUT/NAME.partial.csv holds every image finished so far; an
interrupted run, started again with the same arguments, takes the
conventional codecs' results from it and goes on (learned codecs run again).
It is deleted when the outputs are written.

examples:
  nlaic evaluate                                    # all codecs, Kodak
  nlaic evaluate --codecs jpeg420 --limit 2 --out runs/demo
  nlaic evaluate --images 'photos/*.png' --codecs webp --qualities webp:50,75,90
  nlaic evaluate --reuse results/kodak.csv          # a new model, the anchors kept
  nlaic evaluate --codecs nlaic,runs/mine/export    # an own export beside nlaic-mse
"""
import glob
import logging
from pathlib import Path
from typing import Dict, List, Sequence

from nlaic_tf.cli.errors import UserError, require_eval_extra

NAME = "evaluate"
HELP = "rate-distortion evaluation of codecs on a folder of images"
DEFAULT_IMAGES = "../shared/data/kodak"

logger = logging.getLogger(__name__)


def add_arguments(parser) -> None:
  from nlaic_tf.evaluation.codecs import CONVENTIONAL_CODECS

  parser.add_argument(
      "--images", default=DEFAULT_IMAGES,
      help="folder, glob pattern (quote it) or single image file (default: %(default)s)")
  parser.add_argument(
      "--codecs", default=",".join(CONVENTIONAL_CODECS),
      help="comma-separated codec names (`nlaic codecs`) or folders written by "
           "export.py, in table order; the first is the BD-rate anchor "
           "(default: %(default)s)")
  parser.add_argument(
      "--qualities", action="append", default=[], metavar="[CODEC:]Q1,Q2,...",
      help="quality grid instead of the default; with CODEC: for that codec only, "
           "without for every codec; repeatable")
  parser.add_argument("--out", default="results", help="output folder (default: %(default)s)")
  parser.add_argument("--name", help="output file prefix (default: name of the image folder)")
  parser.add_argument("--limit", type=int, help="use only the first N images (sorted by name)")
  parser.add_argument(
      "--anchors", default="",
      help="published curves to draw dashed, comma-separated names or 'all' "
           "(see `nlaic bdrate --help`)")
  parser.add_argument(
      "--reuse", metavar="CSV",
      help="per-image CSV of an earlier run on the same images with the same tools "
           "and settings: on each image, conventional codecs found there at every "
           "quality are taken from it, not run again (their timings are that "
           "run's); learned codecs always run")
  parser.add_argument("--workers", type=int, default=1,
                      help="parallel processes (default 1; timings are only comparable with 1)")
  parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _split(text: str) -> List[str]:
  return [part.strip() for part in text.split(",") if part.strip()]


def _default_name(images: str) -> str:
  """Output prefix for --images: a folder's name, a file's stem, or "images" for a glob."""
  path = Path(images.rstrip("/"))
  if path.is_file():
    return path.stem
  return "images" if glob.has_magic(images) or not path.name else path.name


def parse_qualities(specs: Sequence[str], codec_names: Sequence[str]) -> Dict[str, List[float]]:
  """Turns ["jpeg420:10,50", "20,80"] into a grid per codec name.

  A spec without "CODEC:" applies to every codec in `codec_names`; a spec
  with one overrides it for that codec.
  """
  grids: Dict[str, List[float]] = {}
  for spec in specs:
    codec, _, values = spec.rpartition(":")
    try:
      grid = [float(v) for v in _split(values)]
    except ValueError:
      raise UserError(f"--qualities {spec!r}: qualities must be numbers") from None
    if not grid:
      raise UserError(f"--qualities {spec!r}: no qualities given")
    if codec and codec not in codec_names:
      raise UserError(f"--qualities {spec!r}: {codec!r} is not among --codecs")
    for name in [codec] if codec else codec_names:
      if not codec and name in grids:
        continue  # A codec-specific grid wins over a general one, whatever the order.
      grids[name] = grid
  return grids


def run(args) -> int:
  require_eval_extra("scipy", "matplotlib")  # BD-rates and plots.
  from tqdm.contrib.logging import logging_redirect_tqdm

  from nlaic_tf.evaluation import harness, published, report
  from nlaic_tf.evaluation import registry as codec_registry
  from nlaic_tf.evaluation.curves import curves_from_summary
  from nlaic_tf.evaluation.records import (read_measurements_csv, summarize,
                                           write_measurements_csv)
  from nlaic_tf.io.images import find_images

  try:
    codecs = codec_registry.get_codecs(_split(args.codecs))
    qualities = parse_qualities(args.qualities, [c.name for c in codecs])
    anchors = published.load_published(_split(args.anchors)) if args.anchors else []
  except ValueError as e:
    raise UserError(str(e)) from None
  if not codecs:
    raise UserError("--codecs names no codec")
  if args.limit is not None and args.limit < 1:
    raise UserError("--limit must be at least 1")
  if args.workers < 1:
    raise UserError("--workers must be at least 1")
  try:
    reuse = read_measurements_csv(args.reuse) if args.reuse else []
  except (OSError, ValueError) as e:
    raise UserError(f"--reuse {args.reuse}: {e}") from None
  try:
    paths, ignored = find_images(args.images)
  except FileNotFoundError as e:
    hint = " (the Kodak images are expected there; pass --images)" if (
        args.images == DEFAULT_IMAGES) else ""
    raise UserError(f"{e}{hint}") from None
  if ignored:
    logger.warning("ignoring %d file(s) without an image suffix: %s", len(ignored),
                   ", ".join(p.name for p in ignored))
  paths = paths[:args.limit]
  name = args.name or _default_name(args.images)
  partial = Path(args.out) / f"{name}.partial.csv"
  if partial.exists():
    try:
      resumed = read_measurements_csv(partial)
    except (OSError, ValueError) as e:
      raise UserError(f"{partial} (left by an interrupted run) cannot be read: {e}; "
                      "delete it to start over") from None
    logger.info("going on from %s: %d measurement(s)", partial, len(resumed))
    reuse = reuse + resumed  # The later match wins: this run's own results.
  logger.info("evaluating %d codec(s) on %d image(s) from %s", len(codecs), len(paths),
              args.images)

  def keep_partial(measurements):
    partial.parent.mkdir(parents=True, exist_ok=True)
    write_measurements_csv(partial, measurements)

  with logging_redirect_tqdm():
    try:
      result = harness.evaluate(paths, codecs, qualities, workers=args.workers,
                                progress=not args.no_progress, reuse=reuse,
                                on_image=keep_partial)
    except ValueError as e:  # An invalid quality, found before any work.
      raise UserError(str(e)) from None
  try:
    written = harness.write_outputs(result, codecs, Path(args.out), name, anchors,
                                    title=f"{name}: {len(paths)} image(s)")
  except ValueError as e:
    raise UserError(str(e)) from None
  partial.unlink(missing_ok=True)

  rows = summarize(result.measurements)
  print(report.summary_table(rows))
  curves = curves_from_summary(rows, {c.name: c.label for c in codecs}) + anchors
  if len(curves) > 1:
    print()
    print(report.bd_table(curves, anchor=curves[0].name))
  print()
  for kind, path in written.items():
    print(f"wrote {kind}: {path}")
  if result.failures:
    print(f"\n{len(result.failures)} item(s) skipped:")
    for failure in result.failures:
      print(f"  {failure}")
  return 0
