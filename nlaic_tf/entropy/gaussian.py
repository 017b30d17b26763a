"""Gaussian rate model and the quantized scale tables shared by encoder and decoder."""
import math

import tensorflow as tf
import tensorflow_compression as tfc


def gaussian_bits(values, mu, sigma):
  """Bits of `values` under N(mu, sigma) convolved with U(-1/2, 1/2).

  For integer-shifted values (values - mu integer) this is the exact discrete
  probability used by the range coder (up to table quantization); for noisy
  values it is the usual differentiable training proxy. Elementwise, same shape.
  """
  log_prob = tfc.NoisyNormal(loc=mu, scale=sigma).log_prob(values)
  return log_prob / -math.log(2.)


class ScaleTable:
  """Log-spaced Gaussian scales and their range-coding CDF tables.

  Scale i is exp(log(scale_min) + i * step) for i in [0, num_scales). A
  predicted sigma is coded with the table of the nearest scale in log domain.
  """

  def __init__(self, num_scales, scale_min, scale_max):
    self.num_scales = int(num_scales)
    self.log_min = math.log(scale_min)
    self.step = (math.log(scale_max) - self.log_min) / (self.num_scales - 1)
    self.scale_min, self.scale_max = float(scale_min), float(scale_max)

  def scale(self, index):
    """float index (any shape) -> scale."""
    return tf.exp(self.log_min + self.step * tf.cast(index, tf.float32))

  def index(self, sigma):
    """sigma (any shape) -> int32 table index, nearest in log domain."""
    index = tf.round((tf.math.log(sigma) - self.log_min) / self.step)
    return tf.cast(tf.clip_by_value(index, 0., self.num_scales - 1.), tf.int32)

  def clip(self, sigma):
    """Bounds sigma to the table's range, passing gradients that move inside."""
    sigma = tfc.lower_bound(sigma, self.scale_min)
    return tfc.upper_bound(sigma, self.scale_max)

  def entropy_model(self):
    """tfc model whose `cdf` / `cdf_offset` are the range-coding tables."""
    return tfc.LocationScaleIndexedEntropyModel(
        tfc.NoisyNormal, self.num_scales, self.scale, coding_rank=1,
        compression=True)
