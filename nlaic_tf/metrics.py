"""Image quality and rate metrics for 8-bit RGB images.

A base module (no imports from the package): the model's loss takes the
smallest MS-SSIM image size from here, the API and the evaluation take the
metrics themselves.

All image arguments are uint8 arrays of shape (height, width, 3) with values
in 0..255; both images of a pair must have the same shape.
"""
import math

import numpy as np

# Weights of the five MS-SSIM scales (Wang, Simoncelli & Bovik 2003), finest first.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_SSIM_FILTER_SIZE = 11
# Each of the 4 downsamplings halves the size (rounding up); the coarsest scale
# must still hold the 11-pixel filter: ceil(n / 16) >= 11  <=>  n >= 161.
MS_SSIM_MIN_SIZE = (MS_SSIM_FILTER_SIZE - 1) * 2 ** (len(MS_SSIM_WEIGHTS) - 1) + 1


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
  for name, image in (("a", a), ("b", b)):
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
      raise ValueError(f"image {name} must be uint8 HxWx3, got {image.dtype} {image.shape}")
  if a.shape != b.shape:
    raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
  """Peak signal-to-noise ratio in dB, over all pixels and the 3 channels.

  PSNR = 10 log10(255^2 / MSE). Identical images give math.inf.
  """
  a, b = np.asarray(a), np.asarray(b)
  _check_pair(a, b)
  mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
  if mse == 0:
    return math.inf
  return float(10.0 * np.log10(255.0 ** 2 / mse))


def ms_ssim(a: np.ndarray, b: np.ndarray) -> float:
  """Multi-scale SSIM (5 scales, standard weights, 11-px Gaussian, sigma 1.5).

  Computed by tf.image.ssim_multiscale with max_val=255 on each RGB channel
  and averaged over the channels; 1.0 for identical images.

  Raises:
    ValueError: the shorter side is below MS_SSIM_MIN_SIZE (161) pixels, too
      small for five scales. No fallback with fewer scales is used, because its
      values would not be comparable with published MS-SSIM numbers.
  """
  a, b = np.asarray(a), np.asarray(b)
  _check_pair(a, b)
  if min(a.shape[:2]) < MS_SSIM_MIN_SIZE:
    raise ValueError(
        f"MS-SSIM needs images of at least {MS_SSIM_MIN_SIZE}x{MS_SSIM_MIN_SIZE} pixels "
        f"(5 scales with an {MS_SSIM_FILTER_SIZE}-pixel filter); got "
        f"{a.shape[1]}x{a.shape[0]}")
  import tensorflow as tf  # Deferred: TensorFlow takes seconds to import.

  value = tf.image.ssim_multiscale(
      tf.constant(a[np.newaxis], tf.float32), tf.constant(b[np.newaxis], tf.float32),
      max_val=255.0, power_factors=MS_SSIM_WEIGHTS, filter_size=MS_SSIM_FILTER_SIZE,
      filter_sigma=1.5, k1=0.01, k2=0.03)
  return float(value.numpy()[0])


def ms_ssim_db(value):
  """MS-SSIM in decibels, -10 log10(1 - value); math.inf for 1.0. Works on arrays."""
  with np.errstate(divide="ignore"):
    return -10.0 * np.log10(1.0 - np.asarray(value, dtype=np.float64))


def bpp(num_bytes: int, height: int, width: int) -> float:
  """Bits per pixel of a file of `num_bytes` bytes coding a height x width image."""
  if height <= 0 or width <= 0:
    raise ValueError(f"image size must be positive, got {height}x{width}")
  if num_bytes < 0:
    raise ValueError(f"byte count must be non-negative, got {num_bytes}")
  return 8.0 * num_bytes / (height * width)


def laplacian_energy(images) -> float:
  """Fine detail of images [..., H, W, 3] (any dtype and range; the result is
  in the input's units squared): the mean square of the 4-neighbour
  Laplacian of their luma (BT.601 weights). A low-pass filter, e.g. any
  resampling, lowers it."""
  luma = np.asarray(images, np.float64) @ np.array([0.299, 0.587, 0.114])
  lap = (4 * luma[..., 1:-1, 1:-1] - luma[..., :-2, 1:-1] - luma[..., 2:, 1:-1]
         - luma[..., 1:-1, :-2] - luma[..., 1:-1, 2:])
  return float(np.mean(lap ** 2))
