"""Trains a variable-rate NLAIC model.

  python train.py --workdir runs/small --config small

Resumes automatically from `<workdir>/checkpoints`; the best weights by
validation loss are in `<workdir>/best`; TensorBoard logs in `<workdir>/tb`.
"""
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", "runs/small", "Checkpoints, logs and best weights.")
flags.DEFINE_string("config", "small", "Model configuration name (nlaic_tf.models.CONFIGS).")
flags.DEFINE_enum("distortion", "mse", ["mse", "ms-ssim"], "Distortion measure.")
flags.DEFINE_string("train_glob",
                    "../shared/data/bsds500/train/*.jpg,../shared/data/bsds500/test/*.jpg",
                    "Comma-separated globs of training images.")
flags.DEFINE_string("tfds_name", "", "tensorflow-datasets name used instead of --train_glob.")
flags.DEFINE_string("val_glob", "../shared/data/bsds500/val/*.jpg",
                    "Validation images (never the evaluation set).")
flags.DEFINE_integer("crop", 256, "Training crop size (>= 176 for ms-ssim; the README's "
                     "Training section compares 128 and 256).")
flags.DEFINE_integer("batch_size", 2, "Batch size.")
flags.DEFINE_integer("steps", 100000, "Total training steps.")
flags.DEFINE_float("lr", 1e-4, "Initial Adam learning rate.")
flags.DEFINE_list("lr_drops", [], "Steps at which the learning rate is multiplied by --lr_drop_factor.")
flags.DEFINE_float("lr_drop_factor", 0.3, "Learning-rate factor at each drop.")
flags.DEFINE_float("grad_clip", 5., "Global gradient-norm clipping (0: off).")
flags.DEFINE_float("level_balance", 0.5,
                   "Rate-level loss weights proportional to lambda ** -level_balance "
                   "(0: plain mean, dominated by the highest levels; 0.5: about equal "
                   "shares, as in the shipped model's last two phases). Also weighs the "
                   "validation loss that picks the best weights.")
flags.DEFINE_float("checkpoint_minutes", 5., "Minutes between checkpoints.")
flags.DEFINE_integer("val_every", 500, "Steps between validations.")
flags.DEFINE_integer("val_images", 12, "Validation images (centre crops).")
flags.DEFINE_integer("log_every", 50, "Steps between progress lines.")
flags.DEFINE_integer("seed", 0, "Data seed.")
flags.DEFINE_string("init_from", None,
                    "Checkpoint prefix to take initial weights from when the workdir has none "
                    "(e.g. saved_models/nlaic_small/variables/variables).")
flags.DEFINE_integer("threads", 0, "Intra-op threads (0: TensorFlow's default).")


def main(_):
  import tensorflow as tf
  from nlaic_tf.models import get_config
  from nlaic_tf.training import Trainer, TrainingOptions

  if FLAGS.threads:
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
  options = TrainingOptions(
      workdir=FLAGS.workdir, train_glob=FLAGS.train_glob, val_glob=FLAGS.val_glob,
      tfds_name=FLAGS.tfds_name, distortion=FLAGS.distortion, crop=FLAGS.crop,
      batch_size=FLAGS.batch_size, steps=FLAGS.steps, lr=FLAGS.lr,
      lr_drops=tuple(int(s) for s in FLAGS.lr_drops),
      lr_drop_factor=FLAGS.lr_drop_factor, grad_clip=FLAGS.grad_clip,
      level_balance=FLAGS.level_balance,
      checkpoint_minutes=FLAGS.checkpoint_minutes, val_every=FLAGS.val_every,
      val_images=FLAGS.val_images, log_every=FLAGS.log_every, seed=FLAGS.seed,
      init_from=FLAGS.init_from)
  result = Trainer(get_config(FLAGS.config), options).run(
      log=lambda m: print(m, flush=True))
  print(result, flush=True)


if __name__ == "__main__":
  app.run(main)
