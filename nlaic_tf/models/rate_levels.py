"""Learned per-channel quality scaling of the latent: one model, many rates."""
import math

import numpy as np
import tensorflow as tf

from nlaic_tf.layers.rate_modulation import interpolate_levels


def remap_log_gains(lambdas, log_gains, new_lambdas):
  """Log-gains [len(new_lambdas), C] for new levels from trained ones [L, C].

  Piecewise linear in log(lambda) between the trained levels; beyond them,
  each channel continues from the nearest end level along its least-squares
  slope over all trained levels (L >= 2), so a model can be given new rate
  levels and fine-tuned instead of retrained.
  """
  x = np.log(np.asarray(lambdas, np.float64))
  g = np.asarray(log_gains, np.float64)
  if len(x) < 2 or g.shape[0] != len(x) or np.any(np.diff(x) <= 0):
    raise ValueError("need >= 2 increasing lambdas, one row of log-gains each")
  slope = ((x - x.mean())[:, None] * (g - g.mean(0))).sum(0) / (
      (x - x.mean()) ** 2).sum()
  rows = []
  for l in np.log(np.asarray(new_lambdas, np.float64)):
    if l <= x[0]:
      rows.append(g[0] + slope * (l - x[0]))
    elif l >= x[-1]:
      rows.append(g[-1] + slope * (l - x[-1]))
    else:
      i = np.searchsorted(x, l) - 1
      t = (l - x[i]) / (x[i + 1] - x[i])
      rows.append((1 - t) * g[i] + t * g[i + 1])
  return np.stack(rows).astype(np.float32)


def level_weights(lambdas, balance):
  """Training weight per rate level [L], proportional to lambda ** -balance
  and with mean 1.

  The loss lambda * D + R of a level grows roughly like lambda ** 0.55 for
  these models, so with plain averaging (balance 0) the highest level gives
  ~40 % of the gradient of the shared transforms and the lowest ~2 %;
  balance 0.5 gives every level about the same share.
  """
  w = np.asarray(lambdas, np.float64) ** -float(balance)
  return (w / w.mean()).astype(np.float32)


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
    return tf.exp(interpolate_levels(self.log_gains, quality))[:, None, None, :]

  def get_config(self):
    return dict(super().get_config(), lambdas=self.lambdas,
                channels=self.channels)
