"""BD-rate and BD-quality against answers known in closed form."""
import math

import numpy as np
import pytest

from nlaic_tf.evaluation.bd_rate import bd_quality, bd_rate

RATES = np.array([0.12, 0.25, 0.48, 0.81, 1.3])
PSNR = np.array([27.1, 29.4, 32.0, 34.6, 37.3])


@pytest.mark.parametrize("factor", [0.8, 1.25, 0.5])
def test_rate_scaled_copy_gives_exactly_that_factor(factor):
  assert bd_rate(RATES, PSNR, RATES * factor, PSNR) == pytest.approx((factor - 1) * 100,
                                                                     abs=1e-9)


def test_identical_curves_give_zero():
  assert bd_rate(RATES, PSNR, RATES, PSNR) == pytest.approx(0.0, abs=1e-12)
  assert bd_quality(RATES, PSNR, RATES, PSNR) == pytest.approx(0.0, abs=1e-12)


def test_quality_shifted_copy_gives_that_shift_in_bd_psnr():
  assert bd_quality(RATES, PSNR, RATES, PSNR + 0.5) == pytest.approx(0.5, abs=1e-9)


def test_linear_log_rate_difference_by_hand():
  # log r_anchor = q / 10 and log r_test = q / 10 + 0.01 (q - 30) on q in [30, 36]:
  # PCHIP reproduces straight lines, the mean difference is 0.01 * 3 = 0.03, and
  # BD-rate = exp(0.03) - 1 = 3.0454534 %.
  q = np.array([30.0, 31.5, 33.0, 34.5, 36.0])
  rate_anchor = np.exp(q / 10)
  rate_test = np.exp(q / 10 + 0.01 * (q - 30))
  assert bd_rate(rate_anchor, q, rate_test, q) == pytest.approx(math.expm1(0.03) * 100,
                                                                abs=1e-9)


def test_only_the_overlapping_quality_range_counts():
  # Anchor: log r = q / 10 on [30, 36]; test: log r = q / 10 + 0.01 (q - 30) on
  # [33, 40]. Both are straight lines (PCHIP keeps them straight); over the shared
  # [33, 36] the mean difference is 0.01 * (34.5 - 30) = 0.045, whereas the
  # anchor's whole range would give 0.03.
  q_anchor = np.array([30.0, 32.0, 34.0, 36.0])
  q_test = np.array([33.0, 35.0, 37.5, 40.0])
  rate_anchor = np.exp(q_anchor / 10)
  rate_test = np.exp(q_test / 10 + 0.01 * (q_test - 30))
  assert bd_rate(rate_anchor, q_anchor, rate_test, q_test) == pytest.approx(
      math.expm1(0.045) * 100, abs=1e-9)


def test_point_order_does_not_matter():
  order = [3, 0, 4, 1, 2]
  expected = bd_rate(RATES, PSNR, RATES * 0.7, PSNR + 0.2)
  assert bd_rate(RATES[order], PSNR[order], (RATES * 0.7)[::-1],
                 (PSNR + 0.2)[::-1]) == pytest.approx(expected, abs=1e-12)


def test_better_codec_has_negative_bd_rate_and_positive_bd_psnr():
  assert bd_rate(RATES, PSNR, RATES, PSNR + 1.0) < 0
  assert bd_quality(RATES, PSNR, RATES * 0.8, PSNR) > 0


@pytest.mark.parametrize("args, message", [
    (([0.1], [30.0], RATES, PSNR), "at least 2"),
    ((RATES, PSNR, RATES, PSNR + 20), "do not overlap"),
    ((RATES, PSNR, RATES * -1, PSNR), "positive"),
    ((RATES, PSNR, RATES, [27.1, 29.4, 29.4, 34.6, 37.3]), "repeated"),
    ((RATES, PSNR, RATES[:4], PSNR), "differ in length"),
    ((RATES, PSNR, RATES, [27.1, np.nan, 32.0, 34.6, 37.3]), "finite"),
])
def test_invalid_curves_raise_clear_errors(args, message):
  with pytest.raises(ValueError, match=message):
    bd_rate(*args)
