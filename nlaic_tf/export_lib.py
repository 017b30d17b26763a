"""Exporting a trained NLAIC codec: a SavedModel with named signatures, and TFLite transforms.

Layout of an export directory `out`:

  out/saved_model.pb, out/variables/   the `NLAICCodec` module; signatures
      compress:   image uint8 [H, W, 3], quality float32 [] -> {"bitstream_bytes": string []}
      compress_refined: image, quality, steps int32 [] -> {"bitstream_bytes": string []}
                  (encoder-side latent refinement; an ordinary bitstream)
      decompress: bitstream_bytes string [] -> {"image": uint8 [H, W, 3]}
                  (so decompress(**compress(...)) chains; earlier exports,
                  whose model.json says so, named this input `bitstream`)
    and the attributes compress, compress_refined, decompress, decode,
    model_id, config_json (tf.functions and variables, as on `NLAICCodec`;
    encode and encode_refined stay out: `NLAICCodec.PYTHON_ONLY`).
    `tf.train.Checkpoint(model=model).read(out + "/variables/variables")`
    restores the Keras weights of an `NLAIC` (the checkpoint root is the
    codec, whose attribute `model` is the Keras model).
  out/tflite/analysis.tflite    image float32 [1, H, W, 3] in [0, 1] -> y [1, H/16, W/16, M]
  out/tflite/synthesis.tflite   y_hat [1, h, w, M] -> image float32 [1, 16h, 16w, 3] (unclipped)
      (weights stored as float16 by default, half the size, computed in
      float32; `TFLITE_WEIGHTS`)
  out/tflite/rate_gains.json    per-level gains g(q) [M]: the codec codes y * g(q)
  out/model.json                configuration, model id, source weights, steps, metrics

Everything is written to a temporary directory next to `out`, checked, and only
then swapped in, so a failed export never replaces a good one.
"""
import contextlib
import datetime
import importlib.metadata
import json
import os

import numpy as np
import tensorflow as tf

from nlaic_tf import zoo
from nlaic_tf.io.atomic import atomic_directory
from nlaic_tf.models import ModelConfig, get_config
from nlaic_tf.models.codec import (BITSTREAM_SPEC, IMAGE_SPEC, QUALITY_SPEC,
                                   STEPS_SPEC, NLAICCodec)

# Image sizes (height, width) the TFLite transforms are checked at. At 320x448
# the latent (20x28) exceeds the 16x16 non-local window of the shipped
# configurations, so the windowed attention path, with padding, is covered.
TFLITE_CHECK_SIZES = ((64, 64), (320, 448))
# Largest allowed |TFLite - Keras|, relative to the Keras output's value range.
TFLITE_TOLERANCE = 1e-3
# How the TFLite transforms store their weights: "float16" (half the file
# size; the interpreter widens them to float32 once, when it loads the model)
# or "float32".
TFLITE_WEIGHTS = ("float16", "float32")

# Refinement steps the export check runs through compress_refined.
CHECK_REFINE_STEPS = 2
# Name of the .nlaic file in the signatures: the output of compress and
# compress_refined and the input of decompress, so that the one feeds the other.
# TF Serving's REST API base64-encodes ({"b64": ...}) only string outputs whose
# name ends in "_bytes"; any other string output is written raw into the JSON,
# which corrupts binary data.
BITSTREAM_KEY = "bitstream_bytes"


class ExportError(RuntimeError):
  """An export that failed a check; the existing export (if any) is untouched."""


# ------------------------------------------------------------------ SavedModel


def _without_keras_traces():
  """Context in which saving skips Keras' per-layer call traces.

  tf.saved_model.save (and the TFLite converter, which saves its trackable
  first) otherwise traces every Keras layer's call for Keras reloading: about
  10x slower and a 2.5x larger saved_model.pb, of no use here (the codec's own
  tf.functions are saved either way). Falls back to a no-op if this Keras
  version lacks the option.
  """
  try:
    from keras.src.saving.legacy.saved_model.utils import keras_option_scope
  except ImportError:
    return contextlib.nullcontext()
  return keras_option_scope(save_traces=False, in_tf_saved_model_scope=True)


def serving_signatures(codec: NLAICCodec):
  """{"compress", "compress_refined", "decompress"} tf.functions with input
  signatures and named outputs.

  compress(image uint8 [H, W, 3], quality float32 []) -> {BITSTREAM_KEY: string []};
  the codec rejects a quality outside [0, num_levels - 1].
  compress_refined(image, quality, steps int32 []) -> the same, after `steps`
  of encoder-side latent refinement.
  decompress(BITSTREAM_KEY: string []) -> {"image": uint8 [H, W, 3]}.
  """

  # Named serve_*: the codec's own functions keep their names in the graph.
  @tf.function(autograph=False, input_signature=[IMAGE_SPEC, QUALITY_SPEC])
  def serve_compress(image, quality):
    return {BITSTREAM_KEY: codec.compress(image, quality)}

  @tf.function(autograph=False, input_signature=[IMAGE_SPEC, QUALITY_SPEC, STEPS_SPEC])
  def serve_compress_refined(image, quality, steps):
    return {BITSTREAM_KEY: codec.compress_refined(image, quality, steps)}

  @tf.function(autograph=False, input_signature=[
      tf.TensorSpec(BITSTREAM_SPEC.shape, BITSTREAM_SPEC.dtype, name=BITSTREAM_KEY)])
  def serve_decompress(bitstream_bytes):
    return {"image": codec.decompress(bitstream_bytes)}

  return {"compress": serve_compress, "compress_refined": serve_compress_refined,
          "decompress": serve_decompress}


def save_codec(codec: NLAICCodec, path: str) -> None:
  """Writes `codec` as a SavedModel with the `serving_signatures` to `path`.

  The signatures are handed over untraced: `tf.saved_model.save` traces them
  in its save context, where the codec's own tf.functions (which they call)
  are traced for saving too, so each is saved once. Traced before the save,
  they would hold a second copy of every codec function (the save context is
  part of tf.function's cache key): a 2x larger saved_model.pb, all of it
  deserialized when the model is loaded.
  """
  signatures = serving_signatures(codec)
  with _without_keras_traces():
    tf.saved_model.save(codec, path, signatures=signatures)


def check_saved_model(codec: NLAICCodec, path: str, image: np.ndarray,
                      quality: float = 0.) -> None:
  """Raises ExportError unless the SavedModel at `path` decodes `codec`'s
  bitstream of `image` (uint8 [H, W, 3]) to the encoder's reconstruction,
  through the `decompress` signature, and its `compress` and
  `compress_refined` signatures write the same bitstreams as `codec`.
  """
  loaded = tf.saved_model.load(path)
  bitstream, _, reconstruction = codec.encode(image, quality)
  decoded = loaded.signatures["decompress"](
      **{BITSTREAM_KEY: bitstream})["image"]
  if not np.array_equal(decoded.numpy(), reconstruction.numpy()):
    raise ExportError(
        f"the exported decompress signature does not reproduce the encoder's "
        f"reconstruction ({_count_differences(decoded, reconstruction)} values "
        "differ)")
  exported = loaded.signatures["compress"](
      image=tf.constant(image), quality=tf.constant(quality, tf.float32))
  if exported[BITSTREAM_KEY].numpy() != bitstream.numpy():
    raise ExportError("the exported compress signature writes a different "
                      "bitstream from the Python codec")
  refined = loaded.signatures["compress_refined"](
      image=tf.constant(image), quality=tf.constant(quality, tf.float32),
      steps=tf.constant(CHECK_REFINE_STEPS))
  expected = codec.compress_refined(image, quality, CHECK_REFINE_STEPS)
  if refined[BITSTREAM_KEY].numpy() != expected.numpy():
    raise ExportError("the exported compress_refined signature writes a "
                      "different bitstream from the Python codec")


def _count_differences(a, b):
  return int(np.sum(np.asarray(a) != np.asarray(b)))


# ---------------------------------------------------------------------- TFLite


def transform_functions(model):
  """{"analysis", "synthesis"}: (tf.function, input specs).

  Inputs: image [1, H, W, 3] or y_hat [1, h, w, M] (float32), and for a
  rate-conditioned model also quality [1] (float32 level).
  """
  m = model.config.latent_channels
  specs = {
      "analysis": [tf.TensorSpec([1, None, None, 3], tf.float32, name="image")],
      "synthesis": [tf.TensorSpec([1, None, None, m], tf.float32, name="y_hat")],
  }
  if model.config.rate_conditioned:
    quality = tf.TensorSpec([1], tf.float32, name="quality")
    return {
        "analysis": (tf.function(lambda x, q: model.analyze(x, q), autograph=False),
                     specs["analysis"] + [quality]),
        "synthesis": (tf.function(lambda y, q: model.synthesize(y, q), autograph=False),
                      specs["synthesis"] + [quality]),
    }
  zero = tf.zeros([1])
  return {
      "analysis": (tf.function(lambda x: model.analyze(x, zero), autograph=False),
                   specs["analysis"]),
      "synthesis": (tf.function(lambda y: model.synthesize(y, zero), autograph=False),
                    specs["synthesis"]),
  }


def convert_to_tflite(function, specs, trackable, weights="float16") -> bytes:
  """Converts `function(*specs)` to a TFLite flatbuffer with builtin ops only,
  its weights stored as `weights` (one of TFLITE_WEIGHTS).

  Raises ExportError naming the ops that need Flex (select TF ops).
  """
  if weights not in TFLITE_WEIGHTS:
    raise ValueError(f"TFLite weights must be one of {TFLITE_WEIGHTS}, got {weights!r}")
  concrete = function.get_concrete_function(*specs)
  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [concrete], trackable)
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
  if weights == "float16":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
  try:
    with _without_keras_traces():
      return converter.convert()
  except Exception as e:  # ConverterError; message lists the unsupported ops.
    raise ExportError(f"TFLite conversion with builtin ops only failed: {e}") from e


def run_tflite(flatbuffer: bytes, inputs) -> np.ndarray:
  """Runs a single-output TFLite model at the shapes of `inputs`, a dict of
  arrays by input name (the names of `transform_functions`' specs)."""
  runner = tf.lite.Interpreter(model_content=flatbuffer).get_signature_runner()
  return next(iter(runner(**inputs).values()))


def test_image(height, width, seed=0):
  """uint8 [height, width, 3]: a smooth colour pattern plus mild noise."""
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
  image = np.stack([128 + 90 * np.sin(0.05 * (c + 1) * yy + 0.07 * xx)
                    for c in range(3)], -1)
  image += rng.normal(0., 6., image.shape)
  return np.clip(np.round(image), 0, 255).astype(np.uint8)


def check_inputs(model, height, width):
  """Realistic inputs of both transforms for an image of height x width.

  Returns {"analysis": {"image": float32 [1, H, W, 3] in [0, 1] (`test_image`)},
           "synthesis": {"y_hat": float32 [1, H/16, W/16, M] (its rounded analysis)}},
  each with "quality": float32 [1] (the top level) for a rate-conditioned model.
  """
  image = test_image(height, width)[None].astype(np.float32) / 255.
  quality = np.full([1], model.config.num_levels - 1, np.float32)
  y_hat = np.round(model.analyze(image, quality).numpy()).astype(np.float32)
  extra = {"quality": quality} if model.config.rate_conditioned else {}
  return {"analysis": dict(image=image, **extra),
          "synthesis": dict(y_hat=y_hat, **extra)}


def check_tflite(model, flatbuffers, sizes=TFLITE_CHECK_SIZES,
                 tolerance=TFLITE_TOLERANCE):
  """Compares each TFLite transform with the Keras one at each image size.

  Args:
    model: `NLAIC`.
    flatbuffers: {"analysis": bytes, "synthesis": bytes}.
    sizes: (height, width) image sizes, multiples of 16.
    tolerance: largest allowed max |TFLite - Keras| / (Keras output range).

  Returns:
    {name: [{"size": [H, W], "max_abs_diff": float, "relative": float}]}.
  Raises:
    ExportError when a difference exceeds the tolerance.
  """
  functions = transform_functions(model)
  report = {name: [] for name in flatbuffers}
  for height, width in sizes:
    inputs = check_inputs(model, height, width)
    for name, flatbuffer in flatbuffers.items():
      function, specs = functions[name]
      expected = function(*[inputs[name][spec.name] for spec in specs]).numpy()
      actual = run_tflite(flatbuffer, inputs[name])
      if actual.shape != expected.shape:
        raise ExportError(f"{name}.tflite at {height}x{width}: output shape "
                          f"{actual.shape}, Keras gives {expected.shape}")
      diff = float(np.max(np.abs(actual - expected)))
      scale = max(float(np.ptp(expected)), 1e-6)
      report[name].append(dict(size=[height, width], max_abs_diff=diff,
                               relative=diff / scale))
      if diff > tolerance * scale:
        raise ExportError(
            f"{name}.tflite at {height}x{width}: max |TFLite - Keras| = {diff:.3g}, "
            f"above {tolerance:g} x output range {scale:.3g}")
  return report


def export_tflite(model, directory, check=True, weights="float16"):
  """Writes analysis.tflite, synthesis.tflite (weights stored as `weights`,
  one of TFLITE_WEIGHTS) and rate_gains.json to `directory`.

  Returns the `check_tflite` report, or {} if check is False.
  """
  os.makedirs(directory, exist_ok=True)
  flatbuffers = {name: convert_to_tflite(function, specs, model, weights)
                 for name, (function, specs) in transform_functions(model).items()}
  report = check_tflite(model, flatbuffers) if check else {}
  for name, flatbuffer in flatbuffers.items():
    with open(os.path.join(directory, f"{name}.tflite"), "wb") as f:
      f.write(flatbuffer)
  levels = np.arange(model.config.num_levels, dtype=np.float32)
  gains = model.gains(levels).numpy()[:, 0, 0, :]
  with open(os.path.join(directory, "rate_gains.json"), "w") as f:
    json.dump(dict(description="gains[level] [M]: the codec quantizes "
                   "analysis(x) * gain and feeds y_hat / gain to synthesis; "
                   "fractional qualities interpolate log-gains linearly",
                   gains=gains.tolist()), f)
  return report


# ------------------------------------------------------------------ metadata


def weights_model_config(weights, name=None) -> ModelConfig:
  """The configuration to build `weights` with: the one recorded beside them
  (train.py's metrics.json or a SavedModel's model.json), else `CONFIGS[name]`.

  Raises ExportError if the recorded one is not called `name` (when given).
  """
  recorded = zoo.recorded_config(zoo.weights_info(weights))
  if recorded is None:
    return get_config(name or "small")
  if name is not None and recorded.name != name:
    raise ExportError(
        f"{weights} was trained with configuration {recorded.name!r}, "
        f"not {name!r}; pass --config {recorded.name} or leave --config out")
  return recorded


def _package_version(name):
  try:
    return importlib.metadata.version(name)
  except importlib.metadata.PackageNotFoundError:
    return None


def model_info(codec: NLAICCodec, weights=None, tflite_report=None,
               tflite_weights=None):
  """The contents of model.json (a dict)."""
  metrics = zoo.weights_info(weights)
  return dict(
      config=json.loads(codec.config_json.numpy().decode()),
      model_id=codec.model_id.numpy().hex(),
      weights=weights or None,
      step=metrics.get("step"),
      total_steps=zoo.total_steps(metrics) or None,
      validation=metrics.get("validation"),
      exported=datetime.datetime.now(datetime.timezone.utc).isoformat(
          timespec="seconds"),
      tensorflow=tf.__version__,
      tensorflow_compression=_package_version("tensorflow-compression"),
      signatures=dict(
          compress=dict(inputs=dict(image="uint8 [H, W, 3]",
                                    quality=f"float32 [] in [0, {codec.num_levels - 1}]"),
                        outputs={BITSTREAM_KEY: "string []"}),
          decompress=dict(inputs={BITSTREAM_KEY: "string []"},
                          outputs=dict(image="uint8 [H, W, 3]"))),
      tflite=tflite_report or None,
      tflite_weights=tflite_weights,
  )


# -------------------------------------------------------------------- export


def export(codec: NLAICCodec, out, weights=None, tflite=True, check=True,
           log=print, tflite_weights="float16"):
  """Exports `codec` to the directory `out` atomically (layout: module docstring).

  Args:
    codec: `NLAICCodec` with the weights to export (wavefront order).
    out: destination directory; replaced only if everything succeeded.
    weights: checkpoint prefix the weights came from (for model.json).
    tflite: also write the TFLite transforms.
    tflite_weights: how they store their weights (one of TFLITE_WEIGHTS).
    check: verify the SavedModel round trip and TFLite against Keras.
    log: progress messages.

  Returns:
    The model.json dict.
  """
  if codec.raster:
    raise ExportError("export the wavefront codec (raster=False); raster order "
                      "is for benchmarks only")
  with atomic_directory(out) as staging:
    log(f"writing SavedModel (staging in {staging})")
    save_codec(codec, staging)
    if check:
      check_saved_model(codec, staging, test_image(64, 96))
      log("SavedModel round trip: decompress exact, compress and "
          "compress_refined identical")
    report = None
    if tflite:
      log("converting analysis and synthesis to TFLite (builtin ops)")
      report = export_tflite(codec.model, os.path.join(staging, "tflite"), check,
                             tflite_weights)
      for name, rows in report.items():
        for row in rows:
          log(f"  {name}.tflite {row['size'][0]}x{row['size'][1]}: max |TFLite - "
              f"Keras| = {row['max_abs_diff']:.2e} ({row['relative']:.1e} of range)")
    info = model_info(codec, weights, report, tflite_weights if tflite else None)
    with open(os.path.join(staging, zoo.MODEL_INFO), "w") as f:
      json.dump(info, f, indent=1)
  log(f"exported model {info['model_id']} to {os.path.abspath(out)}")
  return info

