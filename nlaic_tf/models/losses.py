"""The rate-distortion objective: what NLAIC trains for and how its codings are scored.

Per example, loss = lambda(q) * D + bpp at rate level q, with D one of
`DISTORTIONS`:

  "mse":      D = 255^2 * MSE
  "ms-ssim":  D = MS_SSIM_SCALE * (1 - MS-SSIM)

`RateDistortionLoss` holds the distortion measure, the lambdas of the rate
levels and the levels' weights in training, so that the training step, the
validation, encoder-side refinement and the scripts compute one objective.
It lives with the models because it is defined over their rate levels
(geometric interpolation between levels as `RateGains` does, weights from
`level_weights`), not over any one architecture.
"""
import numpy as np
import tensorflow as tf

from nlaic_tf.layers.rate_modulation import interpolate_levels
from nlaic_tf.metrics import MS_SSIM_MIN_SIZE
from nlaic_tf.models.rate_levels import level_weights

DISTORTIONS = ("mse", "ms-ssim")
# MS-SSIM distortion is MS_SSIM_SCALE * (1 - MS-SSIM), in the units of
# 255^2 * MSE, so that one list of lambdas serves both measures and a rate
# level keeps about its bit rate when a model is fine-tuned from MSE to
# MS-SSIM. It is the ratio d(255^2 MSE) / d(1 - MS-SSIM) between adjacent
# levels of MSE-trained models (docs/model.md has the measurement).
MS_SSIM_SCALE = 1800.


class RateDistortionLoss:
  """lambda(q) * D + bpp per example, for one distortion measure and one list
  of rate levels.

  `distortion`: "mse" or "ms-ssim"; `lambdas`: one per rate level, increasing;
  `level_balance`: how training weighs the levels (`level_weights`: 0 weighs
  every example alike).
  """

  def __init__(self, distortion, lambdas, level_balance=0.):
    if distortion not in DISTORTIONS:
      raise ValueError(f"distortion must be one of {DISTORTIONS}, got {distortion!r}")
    self.distortion = distortion
    self.lambdas = tuple(float(l) for l in lambdas)
    self.level_balance = level_balance
    self.level_weights = level_weights(self.lambdas, level_balance)  # [L] float32
    self._lambdas = tf.constant(self.lambdas, tf.float32)
    self._level_weights = tf.constant(self.level_weights)

  @classmethod
  def for_config(cls, config, level_balance=0.):
    """The objective of a `ModelConfig`: its distortion and lambdas."""
    return cls(config.distortion, config.lambdas, level_balance)

  @property
  def num_levels(self):
    return len(self.lambdas)

  def lambda_of(self, quality):
    """quality [B] float -> lambda [B], geometric between adjacent levels
    (as `RateGains` interpolates the gains)."""
    return tf.exp(interpolate_levels(tf.math.log(self._lambdas), quality))

  def __call__(self, x, out, quality):
    """Loss terms of x [B, H, W, 3] in [0, 1] coded as `out` at quality [B].

    `out`: dict with x_hat [B, >= H, >= W, 3] (its top-left H x W is scored,
    e.g. of a padded image), bits_y and bits_z [B] (counted per H * W
    pixels), as `NLAIC.call` returns it.

    Returns a dict of loss, bpp, mse (on [0, 255]), psnr, distortion (D
    above) and, for "ms-ssim", ms_ssim; each [B]. An image with a side under
    MS_SSIM_MIN_SIZE (161, too small for MS-SSIM's five scales) has D = 255^2
    MSE (the unit MS_SSIM_SCALE matches) and ms_ssim NaN.
    """
    shape = tf.shape(x)
    x_hat = out["x_hat"][:, :shape[1], :shape[2], :]
    pixels = tf.cast(shape[1] * shape[2], tf.float32)
    bpp = (out["bits_y"] + out["bits_z"]) / pixels
    mse = tf.reduce_mean(tf.square(x - x_hat), [1, 2, 3]) * 255. ** 2
    clipped = tf.clip_by_value(x_hat, 0., 1.)
    terms = {}
    if self.distortion == "mse":
      distortion = mse
    else:
      distortion, terms["ms_ssim"] = _ms_ssim_or_mse(x, clipped, mse)
    psnr = tf.image.psnr(x, clipped, max_val=1.)
    return dict(loss=self.lambda_of(quality) * distortion + bpp, bpp=bpp,
                mse=mse, psnr=psnr, distortion=distortion, **terms)

  def weigh_levels(self, loss, levels):
    """Per-example loss [B] at integer rate levels [B], times each level's
    training weight."""
    return tf.gather(self._level_weights, levels) * loss

  def average_levels(self, values):
    """Mean of per-level values [L] weighted as training weighs the levels."""
    return float(np.average(values, weights=self.level_weights))

  def measured_loss(self, level, bpp, psnr, ms_ssim):
    """lambda * D + bpp of a coded file at integer rate `level`, from its
    measured bpp and PSNR in dB or MS-SSIM (the one `distortion` uses)."""
    if self.distortion == "mse":
      distortion = 255. ** 2 * 10. ** (-psnr / 10.)
    else:
      distortion = MS_SSIM_SCALE * (1. - ms_ssim)
    return self.lambdas[level] * distortion + bpp


def _ms_ssim_or_mse(x, x_hat, mse):
  """(MS_SSIM_SCALE * (1 - MS-SSIM), MS-SSIM), each [B], of images [B, H, W, 3]
  in [0, 1]; (mse, NaN) for images with a side under MS_SSIM_MIN_SIZE. The
  size decides statically when it is known, else in the graph."""
  def ms_ssim():
    value = tf.image.ssim_multiscale(x, x_hat, max_val=1.)
    return MS_SSIM_SCALE * (1. - value), value

  def too_small():
    return mse, tf.fill(tf.shape(mse), np.float32(np.nan))
  size = x.shape[1:3]
  if None not in size:
    return ms_ssim() if min(size) >= MS_SSIM_MIN_SIZE else too_small()
  shape = tf.shape(x)
  return tf.cond(tf.minimum(shape[1], shape[2]) >= MS_SSIM_MIN_SIZE,
                 ms_ssim, too_small)
