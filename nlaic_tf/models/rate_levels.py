"""Learned per-channel quality scaling of the latent: one model, many rates."""
import math

import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="nlaic")
class RateGains(tf.keras.layers.Layer):
  """Gains g(q) [channels] for a quality q in [0, num_levels - 1].

  Level l has learned log-gains; a fractional q interpolates the log-gains of
  the two adjacent levels (geometric interpolation), giving continuous rate
  control. The latent is scaled by g(q) before quantization and by 1 / g(q)
  after, so the entropy model works in one scaled domain for every level.
  Initialised at 0.5 * log(lambda_l / mean lambda): the MSE-optimal step
  size shrinks like 1 / sqrt(lambda).
  """

  def __init__(self, lambdas, channels, **kwargs):
    super().__init__(**kwargs)
    self.lambdas = tuple(float(l) for l in lambdas)
    self.channels = int(channels)

  def build(self, input_shape):
    reference = math.exp(sum(map(math.log, self.lambdas)) / len(self.lambdas))
    init = [[0.5 * math.log(l / reference)] * self.channels
            for l in self.lambdas]
    self.log_gains = self.add_weight(
        "log_gains", [len(self.lambdas), self.channels],
        initializer=tf.constant_initializer(init))
    super().build(input_shape)

  @property
  def num_levels(self):
    return len(self.lambdas)

  def call(self, quality):
    """quality [B] float (clipped to the level range) -> gains [B, 1, 1, C]."""
    if not self.built:
      self.build(None)
    q = tf.clip_by_value(tf.cast(quality, tf.float32), 0.,
                         self.num_levels - 1.)
    low = tf.minimum(tf.floor(q), self.num_levels - 2.)
    frac = (q - low)[:, None]
    low = tf.cast(tf.maximum(low, 0.), tf.int32)
    high = tf.minimum(low + 1, self.num_levels - 1)
    log_gain = ((1. - frac) * tf.gather(self.log_gains, low)
                + frac * tf.gather(self.log_gains, high))
    return tf.exp(log_gain)[:, None, None, :]

  def get_config(self):
    return dict(super().get_config(), lambdas=self.lambdas,
                channels=self.channels)
