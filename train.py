"""Trains a variable-rate NLAIC model.

  python train.py                      # the shipped configuration (medium-rc) in runs/medium-rc
  python train.py --config small       # another configuration, in runs/small

Resumes automatically from `<workdir>/checkpoints`; the best weights by
validation loss are in `<workdir>/best`; TensorBoard logs in `<workdir>/tb`.
Several GPUs or hosts: --strategy mirrored|multi_worker (docs/distributed-training.md).
"""
import dataclasses

from absl import app, flags

from nlaic_tf.training.options import DEFAULT_CONFIG, TrainingOptions, default_workdir
from nlaic_tf.training.distribute import STRATEGIES
from nlaic_tf.training.precision import PRECISIONS

DEFAULTS = TrainingOptions()
FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Checkpoints, logs and best weights (default: "
                    f"{default_workdir('<config>')}).")
flags.DEFINE_string("config", DEFAULT_CONFIG, "Model configuration name "
                    "(nlaic_tf.models.CONFIGS; default: the shipped model's).")
flags.DEFINE_enum("distortion", DEFAULTS.distortion, ["mse", "ms-ssim"],
                  "What the rate levels trade bits against (default: the configuration's, "
                  "mse for the built-in ones). The levels' lambdas serve both: an MS-SSIM "
                  "model fine-tuned from MSE weights (--init_from) keeps about their rates.")
flags.DEFINE_string("train_glob", DEFAULTS.train_glob, "Comma-separated globs of training images.")
flags.DEFINE_bool("sample_by_area", DEFAULTS.sample_by_area,
                  "Draw training crops from each file in proportion to its pixel "
                  "count (files repeated round(pixels / median) times per epoch), "
                  "instead of one crop per file per epoch.")
flags.DEFINE_string("tfds_name", DEFAULTS.tfds_name,
                    "tensorflow-datasets name used instead of --train_glob.")
flags.DEFINE_string("val_glob", DEFAULTS.val_glob,
                    "Validation images (never the evaluation set).")
flags.DEFINE_integer("crop", DEFAULTS.crop, "Training crop size (>= 176 for ms-ssim; the "
                     "README's Training section compares 128 and 256).")
flags.DEFINE_float("min_scale", DEFAULTS.min_scale,
                   "Training images are resampled by a random factor in [min_scale, "
                   "max_scale] before cropping (raised where an image is smaller than the "
                   "crop). 1 and 1 (default): crops of the source pixels, not resampled; "
                   "any resampling blurs, so downscale only sources much larger than the crop.")
flags.DEFINE_float("max_scale", DEFAULTS.max_scale, "See --min_scale.")
flags.DEFINE_string("resize_filter", DEFAULTS.resize_filter,
                    "tf.image.resize method (antialiased) where an image is resampled: "
                    "lanczos3, lanczos5, area, bicubic, mitchellcubic, gaussian or bilinear "
                    "(nlaic_tf.data.RESIZE_FILTERS).")
flags.DEFINE_integer("batch_size", DEFAULTS.batch_size,
                     "Global batch size (split evenly across the replicas of --strategy).")
flags.DEFINE_integer("steps", DEFAULTS.steps, "Total training steps.")
flags.DEFINE_float("lr", DEFAULTS.lr, "Initial Adam learning rate.")
flags.DEFINE_list("lr_drops", list(map(str, DEFAULTS.lr_drops)),
                  "Steps at which the learning rate is multiplied by --lr_drop_factor.")
flags.DEFINE_float("lr_drop_factor", DEFAULTS.lr_drop_factor,
                   "Learning-rate factor at each drop.")
flags.DEFINE_integer("warmup_steps", DEFAULTS.warmup_steps,
                     "Steps over which the learning rate rises linearly to --lr at the "
                     "start of a workdir (0: none). Adam's moments start at zero in every "
                     "new workdir, also one started from --init_from weights; a warm-up "
                     "keeps its first, noisy updates small.")
flags.DEFINE_float("grad_clip", DEFAULTS.grad_clip, "Global gradient-norm clipping (0: off).")
flags.DEFINE_float("level_balance", DEFAULTS.level_balance,
                   "Rate-level loss weights proportional to lambda ** -level_balance "
                   "(0: plain mean, dominated by the highest levels; 0.5: about equal "
                   "shares, as in the shipped model's last phases). Also weighs the "
                   "validation loss that picks the best weights.")
flags.DEFINE_float("weight_average", DEFAULTS.weight_average,
                   "Decay of an exponential moving average of the weights (e.g. 0.999: "
                   "about the last 1,000 steps), which validation measures and best/ "
                   "keeps; the raw weights are validated beside it (history.jsonl "
                   "\"raw\"). 0: off, the raw weights are kept.")
flags.DEFINE_float("checkpoint_minutes", DEFAULTS.checkpoint_minutes,
                   "Minutes between checkpoints.")
flags.DEFINE_integer("val_every", DEFAULTS.val_every, "Steps between validations.")
flags.DEFINE_integer("val_images", DEFAULTS.val_images, "Validation images (centre crops).")
flags.DEFINE_integer("val_crop", DEFAULTS.val_crop,
                     "Validation centre-crop size (multiple of 64; validation losses are "
                     "only comparable at the same size).")
flags.DEFINE_integer("log_every", DEFAULTS.log_every, "Steps between progress lines.")
flags.DEFINE_integer("seed", DEFAULTS.seed, "Seed of the data, the initial weights and "
                     "the per-example rate levels and noise.")
flags.DEFINE_string("init_from", DEFAULTS.init_from,
                    "Checkpoint prefix to take initial weights from when the workdir has none "
                    "(e.g. saved_models/nlaic_mse/variables/variables).")
flags.DEFINE_enum("precision", DEFAULTS.precision, list(PRECISIONS),
                  "Dtype policy of the transforms: auto picks mixed_float16 (loss "
                  "scaling) on GPUs, mixed_bfloat16 on CPUs with native bfloat16 "
                  "(AVX512-BF16, AMX), else float32. The entropy side is float32 in "
                  "every case; weights and exported models are float32.")
flags.DEFINE_enum("strategy", DEFAULTS.strategy, list(STRATEGIES),
                  "tf.distribute strategy: default (one device), mirrored (the GPUs, or "
                  "--devices, of this machine) or multi_worker (hosts listed in TF_CONFIG). "
                  "A run resumes only under the strategy kind it started with (default vs "
                  "the others: their checkpoints differ in the data position).")
flags.DEFINE_list("devices", list(DEFAULTS.devices),
                  "Devices for --strategy mirrored, e.g. /gpu:0,/gpu:1 (default: all GPUs).")
flags.DEFINE_integer("threads", 0, "Intra-op threads (0: TensorFlow's default).")


def options_from_flags():
  """TrainingOptions with every field that has a flag taken from it."""
  values = {field.name: FLAGS[field.name].value
            for field in dataclasses.fields(TrainingOptions) if field.name in FLAGS}
  values["workdir"] = values["workdir"] or default_workdir(FLAGS.config)
  values["lr_drops"] = tuple(int(s) for s in values["lr_drops"])
  values["devices"] = tuple(values["devices"])
  return TrainingOptions(**values)


def main(_):
  import tensorflow as tf
  from nlaic_tf.models import get_config
  from nlaic_tf.training import Trainer

  if FLAGS.threads:
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
  result = Trainer(get_config(FLAGS.config), options_from_flags()).run(
      log=lambda m: print(m, flush=True))
  print(result, flush=True)


if __name__ == "__main__":
  # TensorFlow is imported before app.run, so that tf.init_scope finds the eager
  # context (tensorflow/tensorflow#55889; export.py says what else it breaks), and
  # only here, so that importing this module for its flags stays light.
  import tensorflow  # noqa: F401  pylint: disable=unused-import
  app.run(main)
