"""Building models from configurations and loading the shipped codec.

TensorFlow is imported only by the functions that need it.
"""
import json
import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL_DIR = os.path.join(REPO_ROOT, "saved_models", "nlaic_small")
MODEL_INFO = "model.json"  # Beside an exported SavedModel; see read_model_info.


def build_model(config, weights=None, **kwargs):
  """NLAIC with its variables created; `weights`: checkpoint prefix to read.

  `config`: a `ModelConfig` or the name of one in `CONFIGS`.
  """
  import tensorflow as tf
  from nlaic_tf.models import NLAIC, ModelConfig, get_config
  if not isinstance(config, ModelConfig):
    config = get_config(config)
  model = NLAIC(config, **kwargs)
  model(tf.zeros([1, 64, 64, 3]), tf.zeros([1]))
  if weights:
    status = tf.train.Checkpoint(model=model).read(weights)
    status.expect_partial().assert_existing_objects_matched()
  return model


def build_codec(config, weights=None, raster=False):
  """NLAICCodec around `build_model(config, weights)`."""
  from nlaic_tf.models.codec import NLAICCodec
  return NLAICCodec(build_model(config, weights), raster=raster)


def default_model_dir():
  """$NLAIC_MODEL if set, else the SavedModel shipped in saved_models/."""
  return os.environ.get("NLAIC_MODEL", DEFAULT_MODEL_DIR)


def read_model_info(path=None):
  """The model.json dict that export.py writes beside a SavedModel (default:
  `default_model_dir()`): config, model_id, step, validation. Raises OSError
  or ValueError if it is missing or unreadable."""
  with open(os.path.join(path or default_model_dir(), MODEL_INFO)) as f:
    return json.load(f)


def weights_info(prefix):
  """What was recorded beside a weights checkpoint `prefix` ({} if nothing):
  a dict with config, step, total_steps and validation.

  Knows train.py's `<workdir>/best/weights` (metrics.json) and an exported
  SavedModel's `variables/variables` (model.json).
  """
  if not prefix:
    return {}
  folder = os.path.dirname(os.path.abspath(prefix))
  metrics = os.path.join(folder, "metrics.json")
  if os.path.exists(metrics):
    with open(metrics) as f:
      return json.load(f)
  export_dir = os.path.dirname(folder)
  if os.path.exists(os.path.join(export_dir, MODEL_INFO)):
    return read_model_info(export_dir)
  return {}


def recorded_config(info):
  """The ModelConfig in a `weights_info` dict, or None."""
  from nlaic_tf.models import ModelConfig
  config = info.get("config")
  return ModelConfig.from_dict(config) if config is not None else None


def total_steps(info):
  """Training steps behind the weights that `weights_info` describes (0 if
  unknown), counting those of the weights they were initialised from."""
  return info.get("total_steps", info.get("step")) or 0


def load_codec(path=None):
  """Loads an exported codec SavedModel (default: `default_model_dir()`).

  The result has `compress(image, quality)`, `decompress(bitstream)`,
  `encode`, `decode`, `model_id` and `config_json`, as `NLAICCodec`.
  """
  path = path or default_model_dir()
  if not os.path.exists(os.path.join(path, "saved_model.pb")):
    raise FileNotFoundError(
        f"no nlaic SavedModel at {path!r} (export one with export.py, or set "
        "NLAIC_MODEL)")
  import tensorflow as tf
  import tensorflow_compression  # noqa: F401  registers the range-coding ops
  return tf.saved_model.load(path)
