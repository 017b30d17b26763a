"""Markdown tables of evaluation results: the summary, and BD-rates against an anchor."""
import math
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from nlaic_tf.evaluation.bd_rate import bd_quality, bd_rate
from nlaic_tf.evaluation.curves import RDCurve
from nlaic_tf.evaluation.records import SummaryRow
from nlaic_tf.metrics import ms_ssim_db


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
  lines = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
  lines += ["| " + " | ".join(row) + " |" for row in rows]
  return "\n".join(lines)


def _number(value: float, decimals: int) -> str:
  if value is None or math.isnan(value):
    return "n/a"
  return "inf" if math.isinf(value) else f"{value:.{decimals}f}"


def summary_table(rows: Sequence[SummaryRow]) -> str:
  """One line per codec and quality: means over the images."""
  return _markdown(
      ["codec", "quality", "images", "bpp", "PSNR (dB)", "MS-SSIM", "MS-SSIM (dB)",
       "encode (s)", "decode (s)"],
      [[r.codec, f"{r.quality:g}", str(r.images), _number(r.bpp, 3), _number(r.psnr, 2),
        _number(r.ms_ssim, 4), _number(ms_ssim_db(r.ms_ssim), 2), _number(r.encode_s, 3),
        _number(r.decode_s, 3)] for r in rows])


def _range(values: Optional[np.ndarray], decimals: int) -> str:
  if values is None or not np.any(np.isfinite(values)):
    return "n/a"
  finite = values[np.isfinite(values)]
  return f"{finite.min():.{decimals}f}–{finite.max():.{decimals}f}"


def _bd(function: Callable, anchor: RDCurve, curve: RDCurve, metric: str) -> Optional[float]:
  """A BD value for `metric` ("psnr" or "ms_ssim"), or None if undefined."""
  def quality(c):
    return c.psnr if metric == "psnr" else (None if c.ms_ssim is None else ms_ssim_db(c.ms_ssim))
  q_anchor, q_curve = quality(anchor), quality(curve)
  if q_anchor is None or q_curve is None:
    return None
  keep_anchor, keep_curve = np.isfinite(q_anchor), np.isfinite(q_curve)
  try:
    return function(anchor.bpp[keep_anchor], q_anchor[keep_anchor],
                    curve.bpp[keep_curve], q_curve[keep_curve])
  except ValueError:  # Too few points or no overlap: undefined, shown as n/a.
    return None


def _by_name(curves: Sequence[RDCurve], name: str, role: str) -> Dict[str, RDCurve]:
  by_name: Dict[str, RDCurve] = {c.name: c for c in curves}
  if name not in by_name:
    raise ValueError(f"{role} {name!r} is not among the curves: {', '.join(by_name)}")
  return by_name


def _label(curve: RDCurve) -> str:
  return f"{curve.label} (published)" if curve.published else curve.label


def _bd_columns(anchor: RDCurve, curve: RDCurve) -> List[str]:
  """BD-rate at equal PSNR, at equal MS-SSIM, and BD-PSNR of `curve` vs `anchor`."""
  return [_signed(_bd(bd_rate, anchor, curve, "psnr"), "%"),
          _signed(_bd(bd_rate, anchor, curve, "ms_ssim"), "%"),
          _signed(_bd(bd_quality, anchor, curve, "psnr"), "")]


def bd_table(curves: Sequence[RDCurve], anchor: str) -> str:
  """Per curve: its rate and quality ranges and BD values against `anchor`.

  BD-rate (%) at equal PSNR and at equal MS-SSIM (interpolated in dB); BD-PSNR
  (dB) at equal rate. "n/a" where the curves do not overlap.

  Raises:
    ValueError: no curve is called `anchor`.
  """
  reference = _by_name(curves, anchor, "anchor")[anchor]
  rows = [[curve.name, _label(curve), str(len(curve.bpp)), _range(curve.bpp, 3),
           _range(curve.psnr, 2),
           _range(None if curve.ms_ssim is None else ms_ssim_db(curve.ms_ssim), 2)]
          + _bd_columns(reference, curve) for curve in curves]
  return _markdown(
      ["codec", "label", "points", "bpp", "PSNR (dB)", "MS-SSIM (dB)",
       f"BD-rate PSNR vs {anchor}", f"BD-rate MS-SSIM vs {anchor}", f"BD-PSNR vs {anchor} (dB)"],
      rows)


def codec_table(curves: Sequence[RDCurve], codec: str) -> str:
  """BD values of `codec` against every other curve as the anchor, one row each.

  Raises:
    ValueError: no curve is called `codec`.
  """
  subject = _by_name(curves, codec, "codec")[codec]
  rows = [[anchor.name, _label(anchor), _range(anchor.bpp, 3)] + _bd_columns(anchor, subject)
          for anchor in curves if anchor.name != codec]
  return _markdown(
      ["anchor", "label", "anchor bpp", f"BD-rate PSNR of {codec}",
       f"BD-rate MS-SSIM of {codec}", f"BD-PSNR of {codec} (dB)"], rows)


def _signed(value: Optional[float], unit: str) -> str:
  return "n/a" if value is None else f"{value:+.2f}{unit}"
