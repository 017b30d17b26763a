"""Exports a trained NLAIC model: SavedModel (compress/decompress signatures) and TFLite.

  python export.py --out runs/medium-rc/export   # runs/medium-rc/best/weights (train.py's default)
  python export.py --config tiny --weights /path/to/weights --out /tmp/nlaic_tiny

--out is required, and a shipped model's folder (saved_models/nlaic_mse, ...)
is replaced only with --replace_shipped. The destination is replaced only
after every step (and, with --check, the SavedModel round trip and the
TFLite-vs-Keras comparison) succeeded. Layout and usage:
nlaic_tf/export_lib.py and docs/serving.md.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow is imported before app.run: imported inside main, it finds no eager
# context there (tensorflow/tensorflow#55889), so the codec's tf.functions would
# be traced twice and the SavedModel would hold every one of them twice.
import tensorflow  # noqa: F401  pylint: disable=unused-import
from absl import app, flags, logging

from nlaic_tf.training.options import default_workdir

FLAGS = flags.FLAGS
flags.DEFINE_string("config", None,
                    "Model configuration name (nlaic_tf.models.CONFIGS). Default: the "
                    "configuration recorded beside --weights (train.py writes it), else small.")
flags.DEFINE_string("weights", f"{default_workdir()}/best/weights",
                    "Checkpoint prefix of the trained weights (as written by train.py, or a "
                    "SavedModel's variables/variables), or a snapshot's weights.npz.")
flags.DEFINE_string("out", None, "Export directory (replaced atomically). Required.")
flags.mark_flag_as_required("out")
flags.DEFINE_bool("replace_shipped", False,
                  "Allow --out to be the folder of a pretrained model shipped with the "
                  "package (nlaic_tf.zoo.PRETRAINED); without it export.py refuses.")
flags.DEFINE_bool("tflite", True, "Also write tflite/analysis.tflite and tflite/synthesis.tflite.")
flags.DEFINE_enum("tflite_weights", "float16", ["float16", "float32"],
                  "How the TFLite transforms store their weights (float16: half the size, "
                  "computed in float32).")
flags.DEFINE_bool("check", True,
                  "Verify the SavedModel round trip and the TFLite transforms against Keras "
                  "(at 64x64 and 320x448); fail the export on a mismatch.")


def shipped_model(folder):
  """The name of the pretrained model whose shipped folder `folder` is, else None."""
  from nlaic_tf import zoo
  for name in zoo.PRETRAINED:
    if os.path.realpath(folder) == os.path.realpath(zoo.model_dir(name)):
      return name
  return None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if not FLAGS["verbosity"].present:  # TensorFlow's save/convert INFO lines.
    logging.set_verbosity(logging.WARNING)
  shipped = shipped_model(FLAGS.out)
  if shipped and not FLAGS.replace_shipped:
    print(f"export.py: --out={FLAGS.out!r} is the shipped model {shipped}; pass "
          "--replace_shipped to replace it, or choose another --out", file=sys.stderr)
    return 1
  from nlaic_tf import export_lib
  from nlaic_tf.zoo import build_codec

  snapshot = FLAGS.weights.endswith(".npz")
  if not os.path.exists(FLAGS.weights if snapshot else FLAGS.weights + ".index"):
    expected = FLAGS.weights if snapshot else FLAGS.weights + ".index"
    print(f"export.py: no weights at --weights={FLAGS.weights!r} "
          f"(expected {expected})", file=sys.stderr)
    return 1
  try:
    config = export_lib.weights_model_config(FLAGS.weights, FLAGS.config)
    try:
      codec = build_codec(config, FLAGS.weights)
    except (ValueError, AssertionError) as e:
      raise ValueError(f"cannot restore {FLAGS.weights} as configuration "
                       f"{config.name!r}: {e}") from e
    export_lib.export(codec, FLAGS.out, weights=FLAGS.weights,
                      tflite=FLAGS.tflite, check=FLAGS.check,
                      tflite_weights=FLAGS.tflite_weights,
                      log=lambda message: print(message, flush=True))
  except (ValueError, export_lib.ExportError) as e:
    print(f"export.py: {e}", file=sys.stderr)
    return 1
  return 0


if __name__ == "__main__":
  app.run(main)
