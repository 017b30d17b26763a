"""Exponential moving average of a model's trainable weights (Polyak averaging).

With batches of two crops the raw weights wander from step to step: the
validations of the 2026-12-07 sharp-crop run, 1,000 steps apart, moved its
PSNR BD-rate by 0.5 to 1 % up and down around a slow trend. The average
follows the trend with less of that noise; with `--weight_average` a run
keeps (validates, and writes to `best/`) the average and trains the raw
weights as before.
"""
import contextlib

import tensorflow as tf

# Updates before the average reaches its full decay: the decay of update n is
# min(decay, (1 + n) / (10 + n)), as in tf.train.ExponentialMovingAverage with
# num_updates, so an average started at random weights forgets them quickly.
_WARMUP = 10.


# Key under which a run's checkpoint tracks its average (`Trainer`).
CHECKPOINT_KEY = "weight_average"


def in_checkpoint(path):
  """Whether the checkpoint `path` (a prefix) holds a weight average."""
  return any(name.startswith(CHECKPOINT_KEY + "/")
             for name, _ in tf.train.list_variables(path))


class WeightAverage(tf.Module):
  """Moving averages [same shapes] of `variables`, updated once per step.

  Create it under the strategy scope of the variables. `averages` and
  `updates` (how many steps the average has seen) go into the checkpoint with
  the rest of the run.
  """

  def __init__(self, variables, decay, name=CHECKPOINT_KEY):
    super().__init__(name=name)
    if not 0. < decay < 1.:
      raise ValueError(f"the weight average's decay must be in (0, 1), got {decay}")
    self.decay = float(decay)
    self._variables = list(variables)
    replicated = dict(trainable=False,
                      aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
    self.averages = [tf.Variable(tf.zeros(v.shape, v.dtype), **replicated)
                     for v in self._variables]
    self.updates = tf.Variable(0, dtype=tf.int64, **replicated)

  def restart(self):
    """The average of nothing yet: set to the current weights, 0 updates."""
    for average, variable in zip(self.averages, self._variables):
      average.assign(variable)
    self.updates.assign(0)

  def update(self):
    """One step: average <- d * average + (1 - d) * weights (replica context
    too, after the optimizer step, whose new weights it reads)."""
    n = tf.cast(self.updates, tf.float32)
    decay = tf.minimum(self.decay, (1. + n) / (_WARMUP + n))
    for average, variable in zip(self.averages, self._variables):
      average.assign(decay * average + (1. - decay) * variable)
    self.updates.assign_add(1)

  @contextlib.contextmanager
  def swapped_in(self):
    """Context in which the variables hold the averages; the raw weights
    are back afterwards, also after an exception."""
    raw = [tf.identity(v) for v in self._variables]
    for variable, average in zip(self._variables, self.averages):
      variable.assign(average)
    try:
      yield
    finally:
      for variable, value in zip(self._variables, raw):
        variable.assign(value)
