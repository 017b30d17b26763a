"""Bjøntegaard delta rate and quality between two rate-distortion curves.

BD-rate is the average rate difference of a test curve against an anchor at
equal quality: log-rate is interpolated as a function of quality with a
piecewise cubic Hermite interpolant (PCHIP, monotone and free of the overshoot
of the original cubic polynomial fit), both curves are integrated over the
quality range they share, and the mean log-rate difference d gives
BD-rate = (exp(d) - 1) * 100 %. Negative means the test codec needs fewer bits.

BD-quality (BD-PSNR for PSNR) swaps the roles: quality as a function of
log-rate, averaged over the shared log-rate range, in the quality's unit.

Rates may be in any positive unit (bpp, bytes) as long as both curves use the
same one. Points may come in any order; they are sorted first.
"""
from typing import Sequence, Tuple

import numpy as np
from scipy.interpolate import PchipInterpolator


def _curve(x: Sequence[float], y: Sequence[float], what: str) -> Tuple[np.ndarray, np.ndarray]:
  """Validates one curve and returns it sorted by x, as float arrays."""
  x = np.asarray(x, dtype=np.float64).ravel()
  y = np.asarray(y, dtype=np.float64).ravel()
  if x.shape != y.shape:
    raise ValueError(f"{what}: rates and qualities differ in length ({x.size} vs {y.size})")
  if x.size < 2:
    raise ValueError(f"{what}: need at least 2 rate-quality points, got {x.size}")
  if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
    raise ValueError(f"{what}: rates and qualities must be finite")
  order = np.argsort(x, kind="stable")
  x, y = x[order], y[order]
  if np.any(np.diff(x) == 0):
    raise ValueError(f"{what}: repeated value {x[np.argmax(np.diff(x) == 0)]:g}; "
                     "interpolation needs distinct points")
  return x, y


def _log_rates(rates: Sequence[float], what: str) -> np.ndarray:
  rates = np.asarray(rates, dtype=np.float64)
  if np.any(rates <= 0):
    raise ValueError(f"{what}: rates must be positive")
  return np.log(rates)


def _mean_difference(x_anchor, y_anchor, x_test, y_test) -> float:
  """Mean of (test - anchor) of y(x) over the shared x range, PCHIP-interpolated."""
  x_anchor, y_anchor = _curve(x_anchor, y_anchor, "anchor")
  x_test, y_test = _curve(x_test, y_test, "test")
  low = max(x_anchor[0], x_test[0])
  high = min(x_anchor[-1], x_test[-1])
  if high <= low:
    raise ValueError(
        f"the curves do not overlap: anchor spans [{x_anchor[0]:g}, {x_anchor[-1]:g}], "
        f"test spans [{x_test[0]:g}, {x_test[-1]:g}]")
  area_anchor = PchipInterpolator(x_anchor, y_anchor).integrate(low, high)
  area_test = PchipInterpolator(x_test, y_test).integrate(low, high)
  return float((area_test - area_anchor) / (high - low))


def bd_rate(rate_anchor: Sequence[float], quality_anchor: Sequence[float],
            rate_test: Sequence[float], quality_test: Sequence[float]) -> float:
  """Bjøntegaard delta rate of the test curve against the anchor, in percent.

  Args:
    rate_anchor, quality_anchor: the anchor's points (e.g. bpp and PSNR in dB).
    rate_test, quality_test: the test codec's points, same units.

  Returns:
    Average rate change at equal quality in percent (-20.0: 20 % fewer bits).

  Raises:
    ValueError: fewer than 2 points, non-positive or non-finite values,
      repeated qualities, or no overlapping quality range.
  """
  difference = _mean_difference(quality_anchor, _log_rates(rate_anchor, "anchor"),
                                quality_test, _log_rates(rate_test, "test"))
  return float(np.expm1(difference) * 100.0)


def bd_quality(rate_anchor: Sequence[float], quality_anchor: Sequence[float],
               rate_test: Sequence[float], quality_test: Sequence[float]) -> float:
  """Bjøntegaard delta quality (BD-PSNR for PSNR) of test against anchor.

  Returns:
    Average quality change at equal rate, in the quality's unit (dB for PSNR).
  """
  return _mean_difference(_log_rates(rate_anchor, "anchor"), quality_anchor,
                          _log_rates(rate_test, "test"), quality_test)
