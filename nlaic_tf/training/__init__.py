"""Training loop with exact resume, validation and TensorBoard logging.

`TrainingOptions` imports without TensorFlow; `Trainer` imports it on first use.
"""
from nlaic_tf.training.options import TrainingOptions

__all__ = ["Trainer", "TrainingOptions"]


def __getattr__(name):
  if name == "Trainer":
    from nlaic_tf.training.trainer import Trainer
    return Trainer
  raise AttributeError(f"module 'nlaic_tf.training' has no attribute {name!r}")
