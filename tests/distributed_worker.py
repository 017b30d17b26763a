"""Subprocess body of tests/test_distributed.py (logical devices and
TF_CONFIG must be set before TensorFlow initialises).

  python distributed_worker.py same_step <image_dir> <out.npz>
  python distributed_worker.py paper_step <image_dir>
"""
import os
import sys

import numpy as np
import tensorflow as tf

from conftest import smooth_image
from nlaic_tf import data
from nlaic_tf.models import get_config
from nlaic_tf.models.codec import NLAICCodec
from nlaic_tf.training import Trainer, TrainingOptions


def options(workdir, image_dir, batch_size=4, **kwargs):
  glob = os.path.join(image_dir, "*.png")
  return TrainingOptions(workdir=workdir, train_glob=glob, val_glob=glob, crop=64,
                         batch_size=batch_size, steps=1, lr=1e-3, val_every=1000,
                         val_images=1, val_crop=64, log_every=1,
                         checkpoint_minutes=1e9, precision="float32", **kwargs)


def two_cpus():
  cpu = tf.config.list_physical_devices("CPU")[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


def same_step(image_dir, out):
  """One step on the global batch of step 0, with a weight average: on one
  device (default strategy, batch fed directly) and under MirroredStrategy on
  two CPU devices."""
  two_cpus()
  config = get_config("tiny")
  one = Trainer(config, options(out + ".one", image_dir, weight_average=0.9))
  two = Trainer(config, options(out + ".two", image_dir, strategy="mirrored",
                                devices=("/cpu:0", "/cpu:1"), weight_average=0.9))
  for a, b in zip(one.model.weights, two.model.weights):
    b.assign(a)
  before = [w.numpy() for w in one.model.weights]
  indices, x = next(iter(data.step_indexed_dataset(
      data.image_files(os.path.join(image_dir, "*.png")), 0, 4, 4, crop=64)))
  # The step `run` takes (without its validation and checkpoint): one device
  # fed directly, two from the distributed pipeline of step 0.
  for trainer, batch in [(one, (indices, x)),
                         (two, two._next_batch(two._distributed_batches()))]:
    trainer.average.restart()
    trainer.optimizer.learning_rate.assign(trainer.learning_rate(0))
    trainer._train_fn(*batch, tf.zeros([2]))
  assert two.strategy.num_replicas_in_sync == 2
  np.savez(out, before=np.array(before, dtype=object),
           one=np.array([w.numpy() for w in one.model.weights], dtype=object),
           two=np.array([w.numpy() for w in two.model.weights], dtype=object),
           average_one=np.array([a.numpy() for a in one.average.averages], dtype=object),
           average_two=np.array([a.numpy() for a in two.average.averages], dtype=object),
           indices=indices.numpy())


def paper_step(image_dir):
  """One training step of the paper configuration on 64x64 crops; then the
  trained model codes a 40x56 image exactly (latents and pixels). Under the
  default strategy: `same_step` shows MirroredStrategy's step equal to one
  device's, and two replicas would more than double this run's tracing
  (measured: 70 s against 29 s for the step)."""
  workdir = os.path.join(image_dir, "paper_run")
  config = get_config("paper")
  assert config.context_kernel == 11, config
  trainer = Trainer(config, options(workdir, image_dir, batch_size=2))
  before = [w.numpy() for w in trainer.model.trainable_weights]
  result = trainer.run(log=print)
  assert result["step"] == 1, result
  changed = sum(not np.array_equal(a, b.numpy())
                for a, b in zip(before, trainer.model.trainable_weights))
  assert changed > 0.9 * len(before), changed

  codec = NLAICCodec(trainer.model)
  data, y_enc, recon = codec.encode(smooth_image(40, 56, seed=9), np.float32(1.))
  decoded, y_dec = codec.decode(data)
  np.testing.assert_array_equal(y_dec.numpy(), y_enc.numpy())
  np.testing.assert_array_equal(decoded.numpy(), recon.numpy())
  print("ok", changed, len(before), len(data.numpy()))


if __name__ == "__main__":
  dict(same_step=same_step, paper_step=paper_step)[sys.argv[1]](*sys.argv[2:])
