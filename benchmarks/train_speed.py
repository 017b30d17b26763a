"""Training speed and peak memory of model configurations, each in its own process.

  python benchmarks/train_speed.py                       # small vs small-hyperprior
  python benchmarks/train_speed.py --configs small,narrow --steps 50 --data bsds
  python benchmarks/train_speed.py --configs small --precisions float32,mixed_bfloat16

Each configuration (at each of `--precisions`, train.py's `--precision`)
runs in a fresh subprocess (so one configuration's allocations
do not count against another's): build the model, `--warmup` untimed steps (tracing
and the first graph run), then `--steps` timed steps of `NLAIC.rd_step` (the
function `train.py` runs) on batches of `--batch` x `--crop` x `--crop`.
Peak memory is the child's ru_maxrss (peak resident set, whole process). Prints
one table; ratios are relative to the first row.
"""
import os
import resource
import sys
import time

from absl import app, flags

import child_process
from child_process import REPO_ROOT
from nlaic_tf.training.options import TrainingOptions

BSDS_GLOB = os.path.join(REPO_ROOT, "..", "shared", "data", "bsds500", "train", "*.jpg")

FLAGS = flags.FLAGS
flags.DEFINE_list("configs", ["small", "small-hyperprior"],
                  "Configurations (nlaic_tf.models.CONFIGS) to compare; the first is the reference.")
_TRAINING = TrainingOptions(workdir="")
flags.DEFINE_list("precisions", ["float32"],
                  "Transform precisions to measure each configuration at (train.py's "
                  "--precision values).")
flags.DEFINE_integer("batch", _TRAINING.batch_size, "Batch size (default: train.py's).")
flags.DEFINE_integer("crop", _TRAINING.crop, "Crop size in pixels (default: train.py's).")
flags.DEFINE_integer("warmup", 3, "Untimed steps before timing (the first one traces).")
flags.DEFINE_integer("steps", 20, "Timed steps.")
flags.DEFINE_string("data", "random",
                    "'random' (one fixed uniform-noise batch: model time only), 'bsds' "
                    "(BSDS500 train crops through the training pipeline) or a glob of images.")
flags.DEFINE_integer("threads", 0, "Intra-op threads (0: TensorFlow's default).")
flags.DEFINE_string("child", None, "Internal: run one configuration and print its result.")


def _batches():
  """Iterator of float32 batches [batch, crop, crop, 3] in [0, 1] per --data."""
  import tensorflow as tf
  if FLAGS.data == "random":
    batch = tf.random.stateless_uniform([FLAGS.batch, FLAGS.crop, FLAGS.crop, 3], [1, 2])
    while True:
      yield batch
  from nlaic_tf import data
  pattern = BSDS_GLOB if FLAGS.data == "bsds" else FLAGS.data
  yield from data.training_dataset(data.image_files(pattern), FLAGS.crop, FLAGS.batch)


def _rss_mb():
  """Current resident set of this process in MB (Linux)."""
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith("VmRSS:"):
        return int(line.split()[1]) / 1024.
  return float("nan")


def measure(case):
  """Trains `case` ("config:precision") for warmup + steps; returns a dict of
  measurements."""
  import tensorflow as tf
  from nlaic_tf.training.precision import resolve_precision
  from nlaic_tf.zoo import build_model
  if FLAGS.threads:
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
  config_name, precision = case.split(":")
  precision = resolve_precision(precision)
  model = build_model(config_name, precision=precision)
  optimizer = tf.keras.optimizers.Adam(1e-4)
  if precision == "mixed_float16":  # as the Trainer
    optimizer = tf.keras.mixed_precision.LossScaleOptimizer(optimizer)
  optimizer.build(model.trainable_variables)  # as the Trainer: slots before tracing
  train_step = tf.function(lambda x: model.rd_step(x, optimizer))
  batches = _batches()
  built_mb = _rss_mb()
  start = time.perf_counter()
  for _ in range(FLAGS.warmup):
    float(train_step(next(batches))["loss"])
  warmup_s = time.perf_counter() - start
  start = time.perf_counter()
  for _ in range(FLAGS.steps):
    logs = train_step(next(batches))
  float(logs["loss"])  # waits for the last step
  seconds = time.perf_counter() - start
  return dict(config=case, params=int(model.count_params()),
              steps_per_s=FLAGS.steps / seconds, ms_per_step=1000. * seconds / FLAGS.steps,
              warmup_s=warmup_s, built_mb=built_mb,
              peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.)


def run_child(case):
  """Runs `measure(case)` in a fresh interpreter; returns its dict."""
  return child_process.run_child(
      __file__, case,
      {name: FLAGS[name].serialize().split("=", 1)[1]
       for name in ("batch", "crop", "warmup", "steps", "data", "threads")},
      case)


def print_table(rows):
  reference = rows[0]
  print(f"training: batch {FLAGS.batch} x {FLAGS.crop}x{FLAGS.crop}, data {FLAGS.data}, "
        f"{FLAGS.warmup} warm-up + {FLAGS.steps} timed steps, one process per configuration")
  print(f"{'config:precision':<28} {'params':>10} {'steps/s':>8} {'ms/step':>9} {'speed ratio':>11} "
        f"{'warm-up s':>9} {'built MB':>9} {'peak MB':>8} {'peak ratio':>10}")
  for row in rows:
    print(f"{row['config']:<28} {row['params']:>10,} {row['steps_per_s']:>8.3f} "
          f"{row['ms_per_step']:>9.1f} {row['steps_per_s'] / reference['steps_per_s']:>11.2f} "
          f"{row['warmup_s']:>9.1f} {row['built_mb']:>9.0f} {row['peak_mb']:>8.0f} "
          f"{row['peak_mb'] / reference['peak_mb']:>10.2f}")
  print("speed ratio: steps/s relative to the first row; built MB: resident set after "
        "building the model; peak MB: peak resident set of the process (ru_maxrss)")


def main(argv):
  del argv
  if FLAGS.child:
    child_process.print_result(measure(FLAGS.child))
    return 0
  rows = []
  for name in FLAGS.configs:
    for precision in FLAGS.precisions:
      print(f"measuring {name} at {precision} ...", file=sys.stderr, flush=True)
      rows.append(run_child(f"{name}:{precision}"))
  print_table(rows)
  return 0


if __name__ == "__main__":
  app.run(main)
