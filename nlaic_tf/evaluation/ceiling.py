"""Reconstruction ceiling: how well the transforms alone reproduce an image.

synthesis(analysis(x)) without quantization does not depend on the rate level
(the gains cancel), and its distortion is a floor under every level's: as the
quantization step shrinks, a level's PSNR approaches this ceiling. A top level
close to the ceiling is limited by the transforms, not by the entropy model.
"""
import numpy as np
import tensorflow as tf


def _psnr(x, x_hat):
  return tf.image.psnr(x, tf.clip_by_value(x_hat, 0., 1.), max_val=1.).numpy()


def level_psnr_and_ceiling(model, batches):
  """PSNR per rate level (rounded latents) and without quantization.

  Args:
    model: a built `NLAIC`.
    batches: iterable of images [B, H, W, 3] in [0, 1], H and W multiples of 64.

  Returns:
    (psnr [num_levels], ceiling) in dB, means over the images.
  """
  levels, ceiling = [], []
  for x in batches:
    x = tf.convert_to_tensor(x, tf.float32)
    ceiling.append(_psnr(x, model.synthesis(model.analysis(x))))
    levels.append([
        _psnr(x, model(x, tf.fill([x.shape[0]], float(q)), training=False)["x_hat"])
        for q in range(model.config.num_levels)])
  return (np.concatenate(levels, axis=1).mean(1),
          float(np.concatenate(ceiling).mean()))
