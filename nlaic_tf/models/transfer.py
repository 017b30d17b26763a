"""Starting a model from weights trained with other rate levels or fewer latent channels.

Rate levels: every weight is copied except the per-level gains, which
`remap_log_gains` moves onto the new lambdas.

More latent channels (M -> M' > M): the old channels come first and keep their
weights; the new ones start so that the reconstruction and the old channels'
entropy parameters are exactly those of the source model:
  - every weight that reads latent-sized inputs gets zeros for the new inputs
    (conv kernels' input axis, the non-local block's query projection for new
    attention features), so nothing downstream sees the new channels yet;
  - weights that produce new channels keep their fresh initialisation, so the
    new channels carry features and receive gradients from the first step;
  - the new channels' log-gains start at each level's mean over the old ones.
The 3D context is causal over channels and the new channels follow the old
ones, so the old channels' (mu, sigma) do not change either; only the new
channels' bits are added.
"""
import dataclasses

import numpy as np
import tensorflow as tf

from nlaic_tf.layers import NonLocalBlock
from nlaic_tf.models.config import ModelConfig
from nlaic_tf.models.rate_levels import remap_log_gains


def check_transferable(source: ModelConfig, target: ModelConfig):
  """Raises ValueError unless `target` differs from `source` only in its
  lambdas and a latent_channels at least as large."""
  same_rest = dataclasses.replace(source, name=target.name, lambdas=target.lambdas,
                                  latent_channels=target.latent_channels) == target
  if not same_rest or target.latent_channels < source.latent_channels:
    raise ValueError(
        f"configuration {source.name!r} differs from {target.name!r} in more "
        "than its rate levels (lambdas) and a larger latent_channels")


def _zeroed_axes(model):
  """{id(variable): axes whose new part must start at zero} for conv weights."""
  axes = {}
  for layer in model.submodules:
    if isinstance(layer, tf.keras.layers.Conv2DTranspose):
      axes[id(layer.kernel)] = (3,)       # [kh, kw, out, in]
    elif isinstance(layer, tf.keras.layers.Conv2D):
      axes[id(layer.kernel)] = (2,)       # [kh, kw, in, out]
  for block in model.submodules:
    if isinstance(block, NonLocalBlock):
      # New query features would change the attention logits theta . phi.
      axes[id(block.theta.kernel)] = (2, 3)
      axes[id(block.theta.bias)] = (0,)
  return axes


def _grown(old, fresh, zeroed):
  """`fresh` with `old` in its leading slices and zeros in the new part of
  the `zeroed` axes."""
  if old.ndim != fresh.ndim or any(o > f for o, f in zip(old.shape, fresh.shape)):
    raise ValueError(f"cannot grow a weight of shape {old.shape} to {fresh.shape}")
  value = fresh.copy()
  for axis in zeroed:
    index = [slice(None)] * value.ndim
    index[axis] = slice(old.shape[axis], None)
    value[tuple(index)] = 0.
  value[tuple(slice(0, n) for n in old.shape)] = old
  return value


def transfer_weights(source, target):
  """Sets every weight of NLAIC `target` from NLAIC `source` (both built).

  The configurations must pass `check_transferable`. Returns a sentence saying
  what was remapped or grown.
  """
  check_transferable(source.config, target.config)
  zeroed = _zeroed_axes(target)
  for old, new in zip(source.weights, target.weights):
    value = old.numpy()
    if new is target.gains.log_gains:
      if source.config.lambdas != target.config.lambdas:
        value = remap_log_gains(source.config.lambdas, value,
                                target.config.lambdas)
      extra = new.shape[1] - value.shape[1]
      value = np.concatenate(
          [value, np.repeat(value.mean(1, keepdims=True), extra, 1)], 1)
    elif value.shape != tuple(new.shape):
      value = _grown(value, new.numpy(), zeroed.get(id(new), ()))
    new.assign(value)
  changes = []
  if source.config.lambdas != target.config.lambdas:
    changes.append(f"rate levels remapped from lambdas {source.config.lambdas} "
                   f"to {target.config.lambdas}")
  if source.config.latent_channels != target.config.latent_channels:
    changes.append(f"latent channels grown from {source.config.latent_channels} "
                   f"to {target.config.latent_channels}")
  return ", ".join(changes)
