"""Writes a weights-only snapshot of a training run's latest checkpoint.

  python scripts/snapshot_weights.py --workdir runs/medium --out snapshots/medium

The snapshot (`nlaic_tf.snapshot`: float16 weights.npz + metrics.json)
replaces the folder `--out`; continue the run elsewhere with
`train.py --config <same> --init_from <out>/weights.npz ...`. From a run with
`--weight_average` it holds the average (the weights the run validates and
keeps), not the raw weights; metrics.json says which.
"""
import argparse
import contextlib
import json
import os


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True, help="train.py's --workdir")
  parser.add_argument("--out", required=True, help="snapshot folder (replaced)")
  args = parser.parse_args()

  import tensorflow as tf
  from nlaic_tf import zoo
  from nlaic_tf.snapshot import write_snapshot
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
  print(f"{path}: {config.name}, {info['total_steps']} steps in total, "
        f"weights: {info['weights']} ({os.path.getsize(path) / 2 ** 20:.1f} MB)")


if __name__ == "__main__":
  main()
