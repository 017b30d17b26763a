"""Rate-distortion measurements, their per-codec/quality summary, and CSV files.

Per-image CSV ("tidy": one row per codec, image and quality):
  codec, image, quality, bytes, bpp, psnr, ms_ssim, encode_s, decode_s
Summary CSV (one row per codec and quality, means over the images):
  codec, quality, images, bpp, psnr, ms_ssim, encode_s, decode_s

Units: bytes of the complete compressed file; bpp = 8 * bytes / (H * W);
psnr in dB over RGB; ms_ssim in [0, 1] (empty when the image is too small for
it); encode_s and decode_s in wall-clock seconds. The summary's psnr is the
mean of the per-image PSNRs (not the PSNR of the mean MSE).
"""
import csv
import dataclasses
import math
import os
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np

from nlaic_tf.evaluation.codecs import Quality
from nlaic_tf.io.atomic import atomic_write


@dataclasses.dataclass(frozen=True)
class Measurement:
  """One image coded by one codec at one quality."""
  codec: str
  image: str
  quality: Quality
  bytes: int
  bpp: float
  psnr: float
  ms_ssim: float  # NaN when the image is too small for MS-SSIM.
  encode_s: float
  decode_s: float


@dataclasses.dataclass(frozen=True)
class SummaryRow:
  """Means over the images coded by one codec at one quality."""
  codec: str
  quality: Quality
  images: int
  bpp: float
  psnr: float
  ms_ssim: float
  encode_s: float
  decode_s: float


MEASUREMENT_COLUMNS = tuple(f.name for f in dataclasses.fields(Measurement))
SUMMARY_COLUMNS = tuple(f.name for f in dataclasses.fields(SummaryRow))

# Decimal places written per float column.
_DECIMALS = {"bpp": 6, "psnr": 4, "ms_ssim": 6, "encode_s": 4, "decode_s": 4}


def summarize(measurements: Iterable[Measurement]) -> List[SummaryRow]:
  """Averages measurements per (codec, quality).

  Rows keep the order in which codecs first appear, with qualities ascending.
  A mean containing NaN (MS-SSIM of a too-small image) is NaN; one containing
  inf (PSNR of a lossless result) is inf.
  """
  groups: Dict[Tuple[str, Quality], List[Measurement]] = {}
  for m in measurements:
    groups.setdefault((m.codec, m.quality), []).append(m)
  codec_order = {codec: i for i, codec in enumerate(dict.fromkeys(c for c, _ in groups))}
  rows = []
  for (codec, quality), group in sorted(groups.items(),
                                        key=lambda kv: (codec_order[kv[0][0]], kv[0][1])):
    means = {column: float(np.mean([getattr(m, column) for m in group]))
             for column in _DECIMALS}
    rows.append(SummaryRow(codec=codec, quality=quality, images=len(group), **means))
  return rows


def _format(column: str, value) -> str:
  if column == "quality":
    return f"{value:g}"
  if column not in _DECIMALS:
    return str(value)
  if math.isnan(value):
    return ""
  if math.isinf(value):
    return "inf" if value > 0 else "-inf"
  return f"{value:.{_DECIMALS[column]}f}"


def _write_csv(path: Union[str, os.PathLike], columns: Sequence[str], rows) -> None:
  with atomic_write(path, "w", encoding="utf-8", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
      writer.writerow([_format(c, getattr(row, c)) for c in columns])


def write_measurements_csv(path: Union[str, os.PathLike],
                           measurements: Iterable[Measurement]) -> None:
  """Writes the per-image CSV atomically."""
  _write_csv(path, MEASUREMENT_COLUMNS, measurements)


def write_summary_csv(path: Union[str, os.PathLike], rows: Iterable[SummaryRow]) -> None:
  """Writes the summary CSV atomically."""
  _write_csv(path, SUMMARY_COLUMNS, rows)


def _parse_quality(text: str) -> Quality:
  value = float(text)
  return int(value) if value.is_integer() else value


def _read_csv(path: Union[str, os.PathLike], row_type, kind: str) -> list:
  """Rows of `row_type` (Measurement or SummaryRow) from a CSV written by
  `_write_csv`; empty float cells are NaN."""
  columns = tuple(f.name for f in dataclasses.fields(row_type))
  with open(path, encoding="utf-8", newline="") as f:
    reader = csv.DictReader(f)
    missing = [c for c in columns if c not in (reader.fieldnames or ())]
    if missing:
      raise ValueError(f"{path}: not a {kind} CSV; missing columns: {', '.join(missing)}")
    integers = {"bytes", "images"}.intersection(columns)
    rows = []
    for line, record in enumerate(reader, start=2):
      try:
        values = {c: record[c] for c in columns}  # codec, image: strings
        values["quality"] = _parse_quality(record["quality"])
        for c in integers:
          values[c] = int(record[c])
        for c in _DECIMALS:
          values[c] = float(record[c]) if record[c] else math.nan
        rows.append(row_type(**values))
      except ValueError as e:
        raise ValueError(f"{path}, line {line}: {e}") from None
  return rows


def read_summary_csv(path: Union[str, os.PathLike]) -> List[SummaryRow]:
  """Reads a summary CSV written by `write_summary_csv`.

  Raises:
    ValueError: a column is missing or a value does not parse (message names the line).
  """
  return _read_csv(path, SummaryRow, "summary")


def read_measurements_csv(path: Union[str, os.PathLike]) -> List[Measurement]:
  """Reads a per-image CSV written by `write_measurements_csv`.

  Raises:
    ValueError: a column is missing or a value does not parse (message names the line).
  """
  return _read_csv(path, Measurement, "per-image")


def on_images(measurements: Iterable[Measurement],
              images: Sequence[str]) -> List[Measurement]:
  """The measurements of `images` from the (codec, quality) pairs that have
  every one of them, so that their means are over the same images.

  E.g. the anchors of a full Kodak CSV for a run on kodim01-06.
  """
  wanted = set(images)
  groups: Dict[Tuple[str, Quality], List[Measurement]] = {}
  for m in measurements:
    if m.image in wanted:
      groups.setdefault((m.codec, m.quality), []).append(m)
  return [m for group in groups.values() if {m.image for m in group} == wanted
          for m in group]
