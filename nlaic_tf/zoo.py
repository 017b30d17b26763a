"""Building models from configurations, and the pretrained models by name.

  >>> codec = nlaic_tf.zoo.load_codec("nlaic-mse")   # or a SavedModel folder

The pretrained models ship inside the package (`nlaic_tf.resources`), so they
load offline from any working directory. TensorFlow is imported only by the
functions that need it.
"""
import dataclasses
import json
import os

from nlaic_tf import resources

MODEL_INFO = "model.json"  # Beside an exported SavedModel; see read_model_info.


@dataclasses.dataclass(frozen=True)
class PretrainedModel:
  """An exported codec that ships with the package, loadable by `name`."""
  name: str          # what users type: `load_codec(name)`, `nlaic ... --model name`
  folder: str        # its export under saved_models/ (in the repository and the wheel)
  distortion: str    # what it was trained for: "mse" (PSNR) or "ms-ssim"
  description: str


PRETRAINED = {model.name: model for model in (
    PretrainedModel(
        "nlaic-mse", "nlaic_mse", "mse",
        "configuration medium-rc, 8 rate levels, trained for MSE; integer "
        "entropy parameters (files decode identically on every machine)"),
    PretrainedModel(
        "nlaic-msssim", "nlaic_msssim", "ms-ssim",
        "configuration medium-rc, 8 rate levels, the nlaic-mse of version "
        "0.1.0 fine-tuned for MS-SSIM; integer entropy parameters"),
    PretrainedModel(
        "nlaic-small", "nlaic_small", "mse",
        "configuration small, 8 rate levels (0.044-1.083 bpp on Kodak), "
        "trained for MSE; float entropy parameters; kept so that the files "
        "it wrote still decode"),
)}
# The best model for MSE (PSNR), used when no model is named.
DEFAULT_MODEL = "nlaic-mse"


@dataclasses.dataclass(frozen=True)
class RetiredModel:
  """A pretrained model that a later version replaced under the same name.

  This version no longer decodes its files; `decode_hint` says what does.
  """
  model_id: str      # hex, as its files' headers record it
  name: str          # the name it shipped under
  last_version: str  # the last nlaic_tf version that shipped it
  commit: str        # a commit of the repository whose saved_models/<folder> holds it
  folder: str

  def decode_hint(self):
    return (f"{self.name} of nlaic_tf {self.last_version} (model {self.model_id}), "
            f"since replaced: decode it with nlaic_tf {self.last_version}, or with "
            f"that export (saved_models/{self.folder} at commit {self.commit[:12]} "
            f"of the nlaic_tf repository) as --model FOLDER")


RETIRED = {model.model_id: model for model in (
    RetiredModel("17eb2a145bb4eb75", "nlaic-mse", "0.1.0",
                 "e8a4e645b01a466932ba50b3c4601a0933c27658", "nlaic_mse"),
)}


def read_weights(model, weights):
  """Reads every weight of built `model` from `weights`: a checkpoint prefix
  (train.py's `best/weights`, a SavedModel's `variables/variables`) or a
  snapshot's `weights.npz` (`nlaic_tf.snapshot`). Raises
  AssertionError or ValueError if a weight is missing or does not fit."""
  import tensorflow as tf
  if weights.endswith(".npz"):
    from nlaic_tf.snapshot import read_snapshot
    read_snapshot(model, weights)
    return
  status = tf.train.Checkpoint(model=model).read(weights)
  status.expect_partial().assert_existing_objects_matched()


def build_model(config, weights=None, **kwargs):
  """NLAIC with its variables created; `weights`: as `read_weights` reads.

  `config`: a `ModelConfig` or the name of one in `CONFIGS`.
  """
  import tensorflow as tf
  from nlaic_tf.models import NLAIC, ModelConfig, get_config
  if not isinstance(config, ModelConfig):
    config = get_config(config)
  model = NLAIC(config, **kwargs)
  model(tf.zeros([1, 64, 64, 3]), tf.zeros([1]))
  if weights:
    read_weights(model, weights)
  return model


def build_codec(config, weights=None, raster=False):
  """NLAICCodec around `build_model(config, weights)`."""
  from nlaic_tf.models.codec import NLAICCodec
  return NLAICCodec(build_model(config, weights), raster=raster)


def model_dir(model=None):
  """Folder of the SavedModel that `model` names.

  `model`: a name in `PRETRAINED` (the folder shipped with the package), or
  the path of an exported SavedModel folder; None: $NLAIC_MODEL if set (a
  name or a folder), else `DEFAULT_MODEL`. A name wins over a folder of the
  same name in the working directory (write `./nlaic-mse` for the folder).
  """
  model = model or os.environ.get("NLAIC_MODEL") or DEFAULT_MODEL
  if model in PRETRAINED:
    return str(resources.shipped_path("saved_models", PRETRAINED[model].folder))
  return model


def read_model_info(model=None):
  """The model.json dict that export.py writes beside a SavedModel (`model`:
  as `model_dir`): config, model_id, step, validation. Raises OSError or
  ValueError if it is missing or unreadable."""
  with open(os.path.join(model_dir(model), MODEL_INFO)) as f:
    return json.load(f)


def weights_info(prefix):
  """What was recorded beside a weights checkpoint `prefix` ({} if nothing):
  a dict with config, step, total_steps and validation.

  Knows train.py's `<workdir>/best/weights` and a snapshot's `weights.npz`
  (metrics.json beside them) and an exported SavedModel's
  `variables/variables` (model.json).
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


def pretrained_for_model_id(model_id):
  """The name of the pretrained model whose identifier is `model_id` (bytes
  or hex, as a file's header records it), or None. Reads each shipped
  model.json (a few small files)."""
  wanted = model_id.hex() if isinstance(model_id, bytes) else model_id
  for name in PRETRAINED:
    try:
      if read_model_info(name)["model_id"] == wanted:
        return name
    except (OSError, ValueError, KeyError):
      continue
  return None


def retired_model(model_id):
  """The `RetiredModel` whose identifier is `model_id` (bytes or hex), or None."""
  return RETIRED.get(model_id.hex() if isinstance(model_id, bytes) else model_id)


def load_codec(model=None, saved_model=False):
  """Loads an exported codec: a pretrained model's name or a folder written
  by export.py, as `model_dir` (default: $NLAIC_MODEL, else `DEFAULT_MODEL`).

  The codec is an `NLAICCodec` built by this package's code from the
  export's configuration (model.json), weights and range-coding tables
  (variables/), checked to have the model id model.json records: the files
  it writes and reads are the SavedModel's. Its tf.functions are traced at
  first use, which is faster than loading the SavedModel's graphs and takes
  less memory (docs/benchmarks.md, "First image" and "Large images").
  `saved_model=True`, and a folder without a configuration in model.json,
  load the SavedModel's own graphs (`tf.saved_model.load`: what TF Serving
  and other apps run), which have `compress`, `compress_refined`,
  `decompress`, `decode`, `model_id` and `config_json` (and `encode`,
  `encode_refined` where the export kept them, see `NLAICCodec.PYTHON_ONLY`).
  Raises FileNotFoundError if there is no SavedModel there, ValueError if its
  weights are not the model model.json names.
  """
  path = model_dir(model)
  if not os.path.exists(os.path.join(path, "saved_model.pb")):
    raise FileNotFoundError(
        f"no nlaic SavedModel at {path!r}: give a folder written by export.py "
        f"or a pretrained model's name ({', '.join(PRETRAINED)})")
  import tensorflow as tf
  import tensorflow_compression  # noqa: F401  registers the range-coding ops
  try:
    info = read_model_info(path)
  except (OSError, ValueError):
    info = {}
  config = recorded_config(info)
  if saved_model or config is None:
    return tf.saved_model.load(path)
  weights = os.path.join(path, "variables", "variables")
  from nlaic_tf.models.codec import NLAICCodec
  # The range-coding tables as the export stores them, not recomputed here in
  # float: every user of an export codes with the same tables.
  codec = NLAICCodec(build_model(config, weights), tables=weights)
  model_id = codec.model_id.numpy().hex()
  if info.get("model_id", model_id) != model_id:
    raise ValueError(f"the weights in {path!r} are model {model_id}, not the "
                     f"model {info['model_id']} that its {MODEL_INFO} names")
  return codec
