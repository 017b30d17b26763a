"""PSNR, MS-SSIM and bpp against hand-computed values."""
import math

import numpy as np
import pytest

from nlaic_tf import metrics


def test_psnr_single_error_by_hand():
  a = np.zeros((2, 2, 3), np.uint8)
  b = a.copy()
  b[0, 1, 2] = 10  # One error of 10 among 12 samples: MSE = 100 / 12.
  expected = 10 * math.log10(255 ** 2 / (100 / 12))
  assert metrics.psnr(a, b) == pytest.approx(expected, abs=1e-12)
  assert metrics.psnr(b, a) == pytest.approx(expected, abs=1e-12)


def test_psnr_unit_error_everywhere_is_20_log10_255():
  a = np.full((5, 7, 3), 100, np.uint8)
  assert metrics.psnr(a, a + 1) == pytest.approx(20 * math.log10(255), abs=1e-12)


def test_psnr_does_not_wrap_around_uint8():
  a = np.zeros((1, 1, 3), np.uint8)
  b = np.full((1, 1, 3), 255, np.uint8)  # Largest possible error: 0 dB.
  assert metrics.psnr(a, b) == pytest.approx(0.0, abs=1e-12)


def test_psnr_of_identical_images_is_infinite():
  a = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
  assert metrics.psnr(a, a.copy()) == math.inf


@pytest.mark.parametrize("b", [np.zeros((2, 3, 3), np.uint8), np.zeros((2, 2, 3), np.float32),
                               np.zeros((2, 2), np.uint8)])
def test_psnr_rejects_mismatched_or_wrong_inputs(b):
  with pytest.raises(ValueError):
    metrics.psnr(np.zeros((2, 2, 3), np.uint8), b)


def test_ms_ssim_of_constant_images_by_hand():
  # Without variance every contrast-structure term is (0 + C2) / (0 + C2) = 1,
  # so only the coarsest scale's luminance term remains, raised to its weight.
  # (TensorFlow's float32 variances of constant images are off by rounding,
  # hence the tolerance; a wrong weight or scale count would be off by > 0.01.)
  x, y = 50.0, 200.0
  c1 = (0.01 * 255) ** 2
  luminance = (2 * x * y + c1) / (x ** 2 + y ** 2 + c1)
  expected = luminance ** metrics.MS_SSIM_WEIGHTS[-1]
  a = np.full((170, 161, 3), x, np.uint8)
  b = np.full((170, 161, 3), y, np.uint8)
  assert expected == pytest.approx(0.9045, abs=1e-4)
  assert metrics.ms_ssim(a, b) == pytest.approx(expected, abs=5e-4)


def test_ms_ssim_is_one_for_identical_and_falls_with_noise(make_image):
  a = make_image(176, 192, seed=1)
  rng = np.random.default_rng(0)
  noisy = [np.clip(a + rng.normal(0, s, a.shape), 0, 255).astype(np.uint8) for s in (2, 8)]
  assert metrics.ms_ssim(a, a) == pytest.approx(1.0, abs=1e-6)
  values = [metrics.ms_ssim(a, n) for n in noisy]
  assert 1.0 > values[0] > values[1] > 0.0


def test_ms_ssim_size_limit_is_161_pixels():
  assert metrics.MS_SSIM_MIN_SIZE == 161
  small = np.zeros((160, 300, 3), np.uint8)
  with pytest.raises(ValueError, match="at least 161x161"):
    metrics.ms_ssim(small, small)
  edge = np.full((161, 161, 3), 7, np.uint8)
  assert metrics.ms_ssim(edge, edge) == pytest.approx(1.0, abs=1e-6)


def test_ms_ssim_db():
  assert metrics.ms_ssim_db(0.99) == pytest.approx(20.0)
  assert metrics.ms_ssim_db(0.9) == pytest.approx(10.0)
  assert metrics.ms_ssim_db(1.0) == math.inf
  np.testing.assert_allclose(metrics.ms_ssim_db(np.array([0.9, 0.999])), [10.0, 30.0])


def test_bpp_from_bytes():
  assert metrics.bpp(1000, 100, 80) == pytest.approx(1.0)
  assert metrics.bpp(49152, 512, 768) == pytest.approx(1.0)  # A Kodak image at 1 bpp.
  assert metrics.bpp(0, 3, 7) == 0.0
  with pytest.raises(ValueError):
    metrics.bpp(10, 0, 5)
  with pytest.raises(ValueError):
    metrics.bpp(-1, 5, 5)
