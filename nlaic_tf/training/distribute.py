"""tf.distribute strategies for training: which one, and which task is chief.

Imports no TensorFlow at module level, so `train.py --help` stays fast.
"""
STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name, devices=()):
  """`name` (one of STRATEGIES) -> a tf.distribute.Strategy.

  default: no distribution (one device); mirrored: `MirroredStrategy` over
  `devices` (e.g. ("/gpu:0", "/gpu:1"); default every GPU, else the CPU);
  multi_worker: `MultiWorkerMirroredStrategy`, the cluster and this task
  read from the TF_CONFIG environment variable (`devices` not allowed).
  """
  import tensorflow as tf
  if name not in STRATEGIES:
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")
  if devices and name != "mirrored":
    raise ValueError(f"devices are chosen by strategy 'mirrored' only, not {name!r}")
  if name == "mirrored":
    return tf.distribute.MirroredStrategy(list(devices) or None)
  if name == "multi_worker":
    return tf.distribute.MultiWorkerMirroredStrategy()
  return tf.distribute.get_strategy()


def is_chief(strategy):
  """Whether this process writes checkpoints and logs: without a cluster
  (one process) it does; in a cluster the "chief" task does, else worker 0."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  task_type = resolver.task_type
  has_chief = "chief" in resolver.cluster_spec().as_dict()
  return task_type == "chief" or (
      task_type == "worker" and resolver.task_id == 0 and not has_chief)
