"""Writes a weights-only snapshot of a training run's latest checkpoint.

  python scripts/snapshot_weights.py --workdir runs/medium --out snapshots/medium
  python scripts/snapshot_weights.py --weights runs/medium/best/weights --out runs/medium/best16

The snapshot (`nlaic_tf.snapshot`: float16 weights.npz + metrics.json)
replaces the folder `--out`; continue the run elsewhere with
`train.py --config <same> --init_from <out>/weights.npz ...`. From a run with
`--weight_average` it holds the average (the weights the run validates and
keeps), not the raw weights; metrics.json says which. `--weights` snapshots
weights that train.py kept (`<workdir>/best/weights`, its metrics.json
beside them) instead: e.g. to export the best weights as float16 values,
which a repository stores in about 60 % of the bytes of float32 ones.
"""
import argparse
import contextlib
import json
import os

from nlaic_tf import zoo  # (loads no TensorFlow)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  source = parser.add_mutually_exclusive_group(required=True)
  source.add_argument("--workdir", help="train.py's --workdir: its latest checkpoint")
  source.add_argument("--weights", help="a checkpoint prefix with metrics.json beside "
                                        "it, e.g. <workdir>/best/weights")
  parser.add_argument("--out", required=True, help="snapshot folder (replaced)")
  args = parser.parse_args()

  from nlaic_tf.snapshot import write_snapshot
  if args.weights:
    info = dict(zoo.weights_info(args.weights), checkpoint=args.weights)
    config = zoo.recorded_config(info)
    if config is None:
      raise SystemExit(f"no metrics.json with a configuration beside {args.weights}")
    path = write_snapshot(zoo.build_model(config, args.weights), args.out, info)
    _report(path, config, info)
    return

  import tensorflow as tf
  from nlaic_tf.training import weight_average
  best = os.path.join(args.workdir, "best", "metrics.json")
  with open(best) as f:
    config = zoo.recorded_config(json.load(f))
  latest = tf.train.latest_checkpoint(os.path.join(args.workdir, "checkpoints"))
  if latest is None:
    raise SystemExit(f"no checkpoint in {args.workdir}/checkpoints")
  model = zoo.build_model(config)
  step = tf.Variable(0, dtype=tf.int64)
  tracked = dict(model=model, step=step)
  average = None
  if weight_average.in_checkpoint(latest):
    # (only read here: the decay matters to updates alone)
    average = weight_average.WeightAverage(model.trainable_variables, 0.999)
    tracked[weight_average.CHECKPOINT_KEY] = average
  tf.train.Checkpoint(**tracked).read(latest).expect_partial()
  steps_before = 0
  init = os.path.join(args.workdir, "init.json")
  if os.path.exists(init):
    with open(init) as f:
      steps_before = json.load(f)["steps_before"]
  info = dict(config=json.loads(config.to_json()), step=int(step),
              total_steps=steps_before + int(step), checkpoint=latest,
              weights="raw" if average is None else
              f"average of {int(average.updates)} steps")
  with contextlib.nullcontext() if average is None else average.swapped_in():
    path = write_snapshot(model, args.out, info)
  _report(path, config, info)


def _report(path, config, info):
  print(f"{path}: {config.name}, {zoo.total_steps(info)} steps in total, "
        f"weights: {info.get('weights') or info.get('checkpoint')} "
        f"({os.path.getsize(path) / 2 ** 20:.1f} MB)")


if __name__ == "__main__":
  main()
