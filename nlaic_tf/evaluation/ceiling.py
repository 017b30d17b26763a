"""Reconstruction ceiling: how well the transforms alone reproduce an image.

synthesize(analyze(x, q), q) without quantization (the gains cancel) is a
floor under the distortion of level q: as the quantization step shrinks, the
level's PSNR approaches this ceiling. It is the same at every level unless the
transforms are rate-conditioned. A top level
close to the ceiling is limited by the transforms, not by the entropy model.
"""
import numpy as np
import tensorflow as tf


def _psnr(x, x_hat):
  return tf.image.psnr(x, tf.clip_by_value(x_hat, 0., 1.), max_val=1.).numpy()


def level_psnr_and_ceiling(model, batches):
  """PSNR per rate level (rounded latents), without quantization, and where
  each level spends its bits.

  Args:
    model: a built `NLAIC`.
    batches: iterable of images [B, H, W, 3] in [0, 1], H and W multiples of 64.

  Returns:
    (psnr [num_levels], ceiling [num_levels], channel_bits [num_levels, M]):
    PSNR and ceiling in dB, means over the images; bits of y per latent
    channel, summed over them.
  """
  levels, ceiling, channel_bits = [], [], 0.
  for x in batches:
    x = tf.convert_to_tensor(x, tf.float32)
    qualities = [tf.fill([x.shape[0]], float(q))
                 for q in range(model.config.num_levels)]
    ceiling.append([model.ceiling_psnr(x, q).numpy() for q in qualities])
    outs = [model(x, q, training=False) for q in qualities]
    levels.append([_psnr(x, out["x_hat"]) for out in outs])
    channel_bits = channel_bits + np.stack(
        [out["channel_bits_y"].numpy().sum(0) for out in outs])
  return (np.concatenate(levels, axis=1).mean(1),
          np.concatenate(ceiling, axis=1).mean(1), channel_bits)


def channels_for_share(channel_bits, share):
  """Fewest latent channels that carry `share` of the bits, per level [L]."""
  ordered = -np.sort(-np.asarray(channel_bits, np.float64), axis=-1)
  cumulative = np.cumsum(ordered, -1) / ordered.sum(-1, keepdims=True)
  return (cumulative < share - 1e-9).sum(-1) + 1
