"""Starting a model from another's trained weights when their configurations
differ in what can be carried over: the rate levels, the rate conditioning,
the distortion, residual blocks added to the main transforms and latent
channels added.
"""
import dataclasses

import numpy as np
import tensorflow as tf

from nlaic_tf.layers import NonLocalBlock, RateModulation, ResidualBlock
from nlaic_tf.models.rate_levels import remap_log_gains

TRANSFORMS = ("analysis", "synthesis", "hyper_analysis", "hyper_synthesis")
# Residual blocks per stage of the main transforms: a target may have more.
BLOCK_FIELDS = ("encoder_blocks", "decoder_blocks")


def _deeper_or_equal(source_blocks, target_blocks):
  return len(source_blocks) == len(target_blocks) and all(
      t >= s for s, t in zip(source_blocks, target_blocks))


def check_transferable(source, target):
  """Raises ValueError unless configurations `source` and `target` differ at
  most in name, distortion, rate levels (lambdas), rate conditioning added,
  residual blocks added to the main transforms' stages and latent channels
  added (a trained rate modulation is never dropped, nor remapped to other
  levels; no block or channel is dropped)."""
  carried = dict(name=target.name, lambdas=target.lambdas,
                 rate_conditioned=target.rate_conditioned,
                 distortion=target.distortion)
  carried.update({field: getattr(target, field) for field in BLOCK_FIELDS
                  if _deeper_or_equal(getattr(source, field), getattr(target, field))})
  if target.latent_channels >= source.latent_channels:
    carried["latent_channels"] = target.latent_channels
  if dataclasses.replace(source, **carried) != target:
    raise ValueError(
        f"configuration {source.name!r} differs from {target.name!r} in more "
        "than its distortion, rate levels (lambdas), rate conditioning, "
        "residual blocks added to the main transforms and latent channels added")
  if source.rate_conditioned and (source.lambdas != target.lambdas
                                  or not target.rate_conditioned):
    raise ValueError("a rate-conditioned model transfers only to one with the "
                     "same rate levels and rate conditioning")


def _start_as_identity(block):
  """Zeroes a residual block's last convolution, so that it passes its input
  through unchanged (its first convolution keeps its random start)."""
  for weight in block.conv2.weights:
    weight.assign(weight * 0)


def _kernel_axes(layer):
  """(input axis, output axis) of a convolution's kernel, None for other
  layers."""
  if isinstance(layer, tf.keras.layers.Conv2DTranspose):
    return 3, 2  # [k, k, C_out, C_in]
  if isinstance(layer, tf.keras.layers.Conv2D):
    return 2, 3  # [k, k, C_in, C_out]
  return None


def _widened(trained, fresh, in_axis, out_axis, silent_outputs=False):
  """A convolution's trained kernel or bias (numpy) embedded in the larger
  freshly initialised `fresh` of a layer with more input and/or output
  channels: the trained values in the leading corner, zero from every new
  input to every trained output (so trained outputs are unchanged), and the
  new outputs as initialised (zero if `silent_outputs`). A bias has no
  input axis (None)."""
  value = fresh.copy()
  value[tuple(map(slice, trained.shape))] = trained
  trained_outputs = slice(0, trained.shape[out_axis])
  if in_axis is not None:
    index = [slice(None)] * value.ndim
    index[in_axis] = slice(trained.shape[in_axis], None)
    index[out_axis] = trained_outputs
    value[tuple(index)] = 0
  if silent_outputs:
    index = [slice(None)] * value.ndim
    index[out_axis] = slice(trained.shape[out_axis], None)
    value[tuple(index)] = 0
  return value


def _copy_layer(source, target, silent_outputs=False):
  """Copies the weights of transform layer `source` into `target`, which may
  have more channels (`_widened`) in its convolutions; with `silent_outputs`
  the new channels it outputs start at zero. The attention logits of a
  widened `NonLocalBlock` stay those of the trained channels: its new theta
  outputs start at zero."""
  silent = {id(block.theta) for block in [target, *target.submodules]
            if isinstance(block, NonLocalBlock)}
  leaves = [[l for l in [layer, *layer.submodules]
             if isinstance(l, tf.keras.layers.Layer) and l.weights
             and not any(isinstance(m, tf.keras.layers.Layer) for m in l.submodules)]
            for layer in (source, target)]
  for trained, fresh in zip(*leaves):
    for w_trained, w_fresh in zip(trained.weights, fresh.weights):
      if w_trained.shape == w_fresh.shape:
        w_fresh.assign(w_trained)
        continue
      axes = _kernel_axes(fresh)
      if axes is None:
        raise ValueError(f"{fresh.name}: weight {w_fresh.name} cannot be widened")
      in_axis = axes[0] if len(w_fresh.shape) > 1 else None
      out_axis = axes[1] if len(w_fresh.shape) > 1 else 0
      w_fresh.assign(_widened(w_trained.numpy(), w_fresh.numpy(), in_axis,
                              out_axis, silent_outputs or id(fresh) in silent))


# The largest |mean| the context model may predict for a silent new channel.
SILENT_MEAN = 0.1
# How far below the smallest trained gain of each level added latent channels
# start (log scale): their scaled values are small, so they cost few bits.
NEW_CHANNEL_LOG_GAIN = -2.


def _widened_gains(log_gains, channels):
  """[levels, M] log-gains -> [levels, channels]: new channels start at each
  level's smallest log-gain plus NEW_CHANNEL_LOG_GAIN."""
  new = log_gains.min(1, keepdims=True) + NEW_CHANNEL_LOG_GAIN
  return np.concatenate([log_gains, np.repeat(new, channels - log_gains.shape[1], 1)], 1)


def _silent_features(context):
  """Hyperprior features [K] (one value per feature, K = the context model's
  hyper_features) for which `context` predicts its smallest scale when the
  causal neighbours are zero: a new latent channel with them and a value
  near its mean costs almost no bits. Searched on a grid of [-8, 8]^K."""
  grid = np.linspace(-8., 8., 65)
  points = np.stack(np.meshgrid(*[grid] * context.hyper_features), -1)
  points = points.reshape(-1, context.hyper_features).astype(np.float32)
  patches = tf.zeros([len(points), len(context.offsets)])
  mu, sigma = context.params_from_patches(
      patches, tf.constant(points), context.masked_conv.causal_matrix())
  # A zero must stay well inside the bin around the mean (see the docstring
  # of `_silence_new_channels`).
  sigma = np.where(np.abs(mu.numpy()) <= SILENT_MEAN, sigma.numpy(), np.inf)
  if not np.isfinite(sigma).any():
    raise ValueError("the context model predicts no mean near zero: latent "
                     "channels cannot be added silently")
  return points[int(np.argmin(sigma))]


def _silence_new_channels(target, trained_channels):
  """Makes the hyperprior features of every latent channel from
  `trained_channels` on the constant `_silent_features` (zero kernel; output
  channel c * K + k of the hyper synthesis is feature k of latent channel
  c).

  The analysis gives those channels zero at first (`_copy_layer` with
  silent outputs), which codes at almost no cost under a small scale around
  a mean near zero. The mean is not exactly zero, so the synthesis receives
  a constant from each new channel, learns weights for it, and the analysis
  then receives gradients that switch the channel on where it pays."""
  layer = target.hyper_synthesis.get_layer("hsout")
  start = trained_channels * target.config.hyper_features
  silent = _silent_features(target.context)
  kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
  kernel[..., start:] = 0
  bias[start:] = np.tile(silent, (len(bias) - start) // len(silent))
  layer.kernel.assign(kernel)
  layer.bias.assign(bias)


def transfer_weights(source, target):
  """Copies the weights of built `NLAIC` `source` into built `target`.

  Transform layers are matched by name, so `RateModulation` layers that only
  the target has keep their identity initialisation, and `ResidualBlock`s
  that only the target has start as identities: the target computes what the
  source did until it trains. Latent channels that only the target has
  start silent: the analysis outputs zero in them, nothing the source
  computed reads them (`_widened`), and they code at almost no cost (gains
  below the trained ones, `_widened_gains`; hyperprior features for a small
  scale, `_silence_new_channels`), so the image and the trained channels'
  bits stay those of the source until training switches them on. Other
  weights (context, hyperprior, gains) are matched in order. Gains are
  remapped to the target's rate levels with `remap_log_gains`. Returns a
  sentence saying what changed.
  """
  check_transferable(source.config, target.config)
  added_channels = target.config.latent_channels > source.config.latent_channels
  copied, added_blocks = set(), []
  for attr in TRANSFORMS:
    layers = {layer.name: layer for layer in getattr(source, attr).layers}
    for layer in getattr(target, attr).layers:
      if layer.name in layers:
        _copy_layer(layers[layer.name], layer, silent_outputs=attr == "analysis")
        copied.update(id(weight) for weight in layer.weights)
      elif isinstance(layer, ResidualBlock):
        _start_as_identity(layer)
        copied.update(id(weight) for weight in layer.weights)
        added_blocks.append(layer.name)
      elif not isinstance(layer, RateModulation):
        raise ValueError(f"layer {attr}/{layer.name} missing in the source")
  rest = [w for w in source.weights
          if not any(w is v for attr in TRANSFORMS for v in getattr(source, attr).weights)]
  targets = [w for w in target.weights if id(w) not in copied and not any(
      w is v for attr in TRANSFORMS for v in getattr(target, attr).weights)]
  changes = []
  for weight, value in zip(targets, rest):
    if weight is target.gains.log_gains:
      value = value.numpy()
      if source.config.lambdas != target.config.lambdas:
        value = remap_log_gains(source.config.lambdas, value, target.config.lambdas)
        changes.append(f"rate levels remapped from lambdas {source.config.lambdas} "
                       f"to {target.config.lambdas}")
      if added_channels:
        value = _widened_gains(value, target.config.latent_channels)
    weight.assign(value)
  if added_channels:
    _silence_new_channels(target, source.config.latent_channels)
    changes.append(f"latent channels {source.config.latent_channels} -> "
                   f"{target.config.latent_channels}")
  if target.config.rate_conditioned and not source.config.rate_conditioned:
    changes.append("rate modulation added (identity)")
  if added_blocks:
    changes.append(f"residual blocks added (identity): {', '.join(added_blocks)}")
  if target.config.distortion != source.config.distortion:
    changes.append(f"distortion {source.config.distortion} -> {target.config.distortion}")
  return ", ".join(changes)
