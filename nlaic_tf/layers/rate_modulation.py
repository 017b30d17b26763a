"""Per-rate-level channel-wise scale and bias inside the transforms."""
import tensorflow as tf


def interpolate_levels(values, quality):
  """Per-level values [L, ...] at quality [B] float -> [B, ...].

  quality is clipped to [0, L - 1]; a fractional quality interpolates
  linearly between the two adjacent levels (of log values, for a geometric
  interpolation).
  """
  levels = tf.shape(values)[0]
  top = tf.cast(levels - 1, tf.float32)
  q = tf.clip_by_value(tf.cast(quality, tf.float32), 0., top)
  low = tf.maximum(tf.minimum(tf.floor(q), top - 1.), 0.)
  frac = q - low
  low = tf.cast(low, tf.int32)
  high = tf.minimum(low + 1, levels - 1)
  frac = tf.reshape(frac, [-1] + [1] * (values.shape.rank - 1))
  return (1. - frac) * tf.gather(values, low) + frac * tf.gather(values, high)


@tf.keras.utils.register_keras_serializable(package="nlaic")
class RateModulation(tf.keras.layers.Layer):
  """`x * exp(s(q)) + b(q)` per channel, with a learned log-scale s and bias b
  per rate level, interpolated for fractional qualities q as the gains are.

  Starts as the identity (s = b = 0). Lets transforms shared by every rate
  level shape their features per level (rate-conditioned transforms).
  Always computes in float32 (its inputs are cast), whatever the model's
  mixed-precision policy.

  x [B, H, W, C], quality [B] float -> [B, H, W, C].
  """

  def __init__(self, num_levels, **kwargs):
    kwargs["dtype"] = "float32"
    super().__init__(**kwargs)
    self.num_levels = int(num_levels)

  def build(self, input_shape):
    channels = int(input_shape[-1])
    self.log_scale = self.add_weight(
        "log_scale", [self.num_levels, channels], initializer="zeros")
    self.bias = self.add_weight(
        "bias", [self.num_levels, channels], initializer="zeros")
    super().build(input_shape)

  def call(self, x, quality):
    scale = tf.exp(interpolate_levels(self.log_scale, quality))
    bias = interpolate_levels(self.bias, quality)
    return x * scale[:, None, None, :] + bias[:, None, None, :]

  def get_config(self):
    return dict(super().get_config(), num_levels=self.num_levels)
