"""Rate-distortion plot: bpp vs PSNR and bpp vs MS-SSIM (in dB), one line per codec."""
import io
import os
from typing import Optional, Sequence, Union

import numpy as np

from nlaic_tf.evaluation.curves import RDCurve
from nlaic_tf.io.atomic import atomic_write_bytes
from nlaic_tf.metrics import ms_ssim_db


def plot_rd(curves: Sequence[RDCurve], path: Union[str, os.PathLike], title: str = "",
            max_bpp: Optional[float] = None) -> None:
  """Draws measured curves as solid lines and published ones dashed; writes a PNG.

  Args:
    curves: the curves to draw; non-finite points (lossless PSNR) are left out.
    path: PNG file, written atomically.
    title: figure title, e.g. "Kodak (24 images)".
    max_bpp: right end of the rate axis; points beyond it are left out.
      Default: just past the highest rate of the measured (not published) curves.
  """
  import matplotlib
  matplotlib.use("Agg")  # Files only; no display needed.
  from matplotlib import pyplot as plt

  if max_bpp is None:
    measured = [c for c in curves if not c.published] or list(curves)
    max_bpp = 1.05 * max(float(np.nanmax(c.bpp)) for c in measured)
  figure, (ax_psnr, ax_ssim) = plt.subplots(1, 2, figsize=(13, 5.5))
  for curve in curves:
    style = dict(linestyle="--", marker=None) if curve.published else dict(marker="o", ms=3.5)
    label = f"{curve.label} (published)" if curve.published else curve.label
    for ax, quality in ((ax_psnr, curve.psnr),
                        (ax_ssim, None if curve.ms_ssim is None else ms_ssim_db(curve.ms_ssim))):
      if quality is None:
        continue
      keep = np.isfinite(quality) & (curve.bpp <= max_bpp)
      ax.plot(curve.bpp[keep], quality[keep], label=label, linewidth=1.4, **style)
  ax_psnr.set_ylabel("PSNR (dB, RGB)")
  ax_ssim.set_ylabel("MS-SSIM (dB) = -10 log10(1 - MS-SSIM)")
  for ax in (ax_psnr, ax_ssim):
    ax.set_xlabel("bits per pixel")
    ax.set_xlim(0, max_bpp)
    ax.grid(True, alpha=0.3)
  ax_psnr.legend(loc="lower right", fontsize=8)
  if title:
    figure.suptitle(title)
  figure.tight_layout()
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png", dpi=110)
  plt.close(figure)
  atomic_write_bytes(path, buffer.getvalue())
