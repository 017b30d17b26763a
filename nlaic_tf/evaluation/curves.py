"""Rate-distortion curves: what plots and BD-rate tables are drawn from."""
import dataclasses
from typing import Dict, Iterable, List, Optional

import numpy as np

from nlaic_tf.evaluation.records import SummaryRow


@dataclasses.dataclass(frozen=True)
class RDCurve:
  """One codec's rate-distortion points, sorted by rate.

  Attributes:
    name: identifier, e.g. "jpeg420" or "balle2018".
    label: legend text.
    bpp: (N,) mean bits per pixel.
    psnr: (N,) mean RGB PSNR in dB.
    ms_ssim: (N,) mean MS-SSIM in [0, 1], or None when not available.
    source: where published numbers come from; None for measured curves.
  """
  name: str
  label: str
  bpp: np.ndarray
  psnr: np.ndarray
  ms_ssim: Optional[np.ndarray] = None
  source: Optional[str] = None

  @property
  def published(self) -> bool:
    return self.source is not None


def make_curve(name: str, label: str, bpp, psnr, ms_ssim=None,
               source: Optional[str] = None) -> RDCurve:
  """Builds an RDCurve from sequences, sorting the points by rate."""
  bpp = np.asarray(bpp, dtype=np.float64)
  order = np.argsort(bpp, kind="stable")
  arrays = [np.asarray(v, dtype=np.float64)[order] if v is not None else None
            for v in (bpp, psnr, ms_ssim)]
  return RDCurve(name, label, *arrays, source=source)


def curves_from_summary(rows: Iterable[SummaryRow],
                        labels: Optional[Dict[str, str]] = None) -> List[RDCurve]:
  """One curve per codec in the summary rows, in order of first appearance.

  Args:
    rows: summary rows (several qualities per codec).
    labels: optional legend text per codec name; the name is used otherwise.
  """
  by_codec: Dict[str, List[SummaryRow]] = {}
  for row in rows:
    by_codec.setdefault(row.codec, []).append(row)
  labels = labels or {}
  curves = []
  for codec, group in by_codec.items():
    ms_ssim = [r.ms_ssim for r in group]
    curves.append(make_curve(codec, labels.get(codec, codec), [r.bpp for r in group],
                             [r.psnr for r in group],
                             None if np.all(np.isnan(ms_ssim)) else ms_ssim))
  return curves
