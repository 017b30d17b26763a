"""Training loop with exact resume, validation and TensorBoard logging."""
from nlaic_tf.training.trainer import Trainer, TrainingOptions

__all__ = ["Trainer", "TrainingOptions"]
