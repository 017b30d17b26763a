"""Weights-only snapshots of a training run, small enough to commit.

A snapshot is a folder with `weights.npz` (every model weight in creation
order, float16 where that loses nothing that training cannot recover) and
`metrics.json` (config, step, total_steps, as `<workdir>/best`), so that
`train.py --init_from <folder>/weights.npz` continues the run on another
machine (new optimizer state; the step count goes on from total_steps).

Writer and reader of the format live together here, below `zoo` (which reads
snapshots like any other weights) and `scripts/snapshot_weights.py` (which
writes them), so that neither reaches into the training package.
"""
import json
import os

import numpy as np

from nlaic_tf.io.atomic import atomic_directory

WEIGHTS = "weights.npz"


def write_snapshot(model, folder, info, dtype=np.float16):
  """Writes `model`'s weights as `dtype` and `info` (JSON-able dict) to
  `folder`, replacing it atomically. Returns the weights' path."""
  arrays = {f"w{i:04d}": weight.numpy().astype(dtype)
            for i, weight in enumerate(model.weights)}
  with atomic_directory(folder) as tmp:
    np.savez_compressed(os.path.join(tmp, WEIGHTS), **arrays)
    with open(os.path.join(tmp, "metrics.json"), "w") as f:
      json.dump(info, f, indent=1)
  return os.path.join(folder, WEIGHTS)


def read_snapshot(model, path):
  """Assigns the weights in `path` (a `write_snapshot` file) to built `model`,
  as float32. Raises ValueError if their number or shapes differ."""
  with np.load(path) as data:
    arrays = [data[key] for key in sorted(data.files)]
  if len(arrays) != len(model.weights):
    raise ValueError(f"{path} holds {len(arrays)} weights, the model has "
                     f"{len(model.weights)}")
  for weight, value in zip(model.weights, arrays):
    if tuple(weight.shape) != value.shape:
      raise ValueError(f"{path}: weight {weight.name} has shape "
                       f"{tuple(weight.shape)}, the snapshot {value.shape}")
    weight.assign(value.astype(np.float32))
