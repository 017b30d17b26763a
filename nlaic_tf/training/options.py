"""Training options: the one place their defaults live (`train.py` flags read them).

Imports no TensorFlow, so `train.py --help` stays fast.
"""
import dataclasses
from typing import Optional, Tuple

# The configuration `train.py` trains by default: that of the shipped default
# model (saved_models/nlaic_mse, `nlaic_tf.zoo.DEFAULT_MODEL`).
DEFAULT_CONFIG = "medium-rc"


def default_workdir(config: str = DEFAULT_CONFIG) -> str:
  """Where `train.py --config <config>` works unless --workdir says otherwise."""
  return f"runs/{config}"


@dataclasses.dataclass
class TrainingOptions:
  """What `train.py` flags set; see there for meanings. Globs are relative to
  the working directory (the defaults suit a checkout beside `../shared/data`)."""
  workdir: str = default_workdir()
  train_glob: str = "../shared/data/bsds500/train/*.jpg,../shared/data/bsds500/test/*.jpg"
  val_glob: str = "../shared/data/bsds500/val/*.jpg"
  tfds_name: str = ""
  sample_by_area: bool = False
  distortion: Optional[str] = None  # None: the model configuration's
  crop: int = 256
  min_scale: float = 1.
  max_scale: float = 1.
  resize_filter: str = "lanczos3"
  batch_size: int = 2
  steps: int = 100000
  lr: float = 1e-4
  lr_drops: Tuple[int, ...] = ()
  lr_drop_factor: float = 0.3
  warmup_steps: int = 0
  grad_clip: float = 5.
  weight_average: float = 0.  # decay of the kept moving average; 0: off
  level_balance: float = 0.5
  checkpoint_minutes: float = 5.
  val_every: int = 500
  val_images: int = 12
  val_crop: int = 256
  log_every: int = 50
  seed: int = 0
  init_from: Optional[str] = None
  precision: str = "auto"
  strategy: str = "default"
  devices: Tuple[str, ...] = ()
