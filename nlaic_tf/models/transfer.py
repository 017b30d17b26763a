"""Starting a model from another's trained weights when their configurations
differ in what can be carried over: the rate levels, the rate conditioning,
the distortion and residual blocks added to the main transforms.
"""
import dataclasses

from nlaic_tf.layers import RateModulation, ResidualBlock
from nlaic_tf.models.rate_levels import remap_log_gains

TRANSFORMS = ("analysis", "synthesis", "hyper_analysis", "hyper_synthesis")
# Residual blocks per stage of the main transforms: a target may have more.
BLOCK_FIELDS = ("encoder_blocks", "decoder_blocks")


def _deeper_or_equal(source_blocks, target_blocks):
  return len(source_blocks) == len(target_blocks) and all(
      t >= s for s, t in zip(source_blocks, target_blocks))


def check_transferable(source, target):
  """Raises ValueError unless configurations `source` and `target` differ at
  most in name, distortion, rate levels (lambdas), rate conditioning added
  and residual blocks added to the main transforms' stages (a trained rate
  modulation is never dropped, nor remapped to other levels; no block is
  dropped)."""
  carried = dict(name=target.name, lambdas=target.lambdas,
                 rate_conditioned=target.rate_conditioned,
                 distortion=target.distortion)
  carried.update({field: getattr(target, field) for field in BLOCK_FIELDS
                  if _deeper_or_equal(getattr(source, field), getattr(target, field))})
  if dataclasses.replace(source, **carried) != target:
    raise ValueError(
        f"configuration {source.name!r} differs from {target.name!r} in more "
        "than its distortion, rate levels (lambdas), rate conditioning and "
        "residual blocks added to the main transforms")
  if source.rate_conditioned and (source.lambdas != target.lambdas
                                  or not target.rate_conditioned):
    raise ValueError("a rate-conditioned model transfers only to one with the "
                     "same rate levels and rate conditioning")


def _start_as_identity(block):
  """Zeroes a residual block's last convolution, so that it passes its input
  through unchanged (its first convolution keeps its random start)."""
  for weight in block.conv2.weights:
    weight.assign(weight * 0)


def transfer_weights(source, target):
  """Copies the weights of built `NLAIC` `source` into built `target`.

  Transform layers are matched by name, so `RateModulation` layers that only
  the target has keep their identity initialisation, and `ResidualBlock`s
  that only the target has start as identities: the target computes what the
  source did until it trains. Other weights (context, hyperprior, gains) are
  matched in order. Gains are remapped to the target's
  rate levels with `remap_log_gains`. Returns a sentence saying what changed.
  """
  check_transferable(source.config, target.config)
  copied, added_blocks = set(), []
  for attr in TRANSFORMS:
    layers = {layer.name: layer for layer in getattr(source, attr).layers}
    for layer in getattr(target, attr).layers:
      if layer.name in layers:
        for weight, value in zip(layer.weights, layers[layer.name].weights):
          weight.assign(value)
          copied.add(id(weight))
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
    if weight is target.gains.log_gains and source.config.lambdas != target.config.lambdas:
      value = remap_log_gains(source.config.lambdas, value.numpy(),
                              target.config.lambdas)
      changes.append(f"rate levels remapped from lambdas {source.config.lambdas} "
                     f"to {target.config.lambdas}")
    weight.assign(value)
  if target.config.rate_conditioned and not source.config.rate_conditioned:
    changes.append("rate modulation added (identity)")
  if added_blocks:
    changes.append(f"residual blocks added (identity): {', '.join(added_blocks)}")
  if target.config.distortion != source.config.distortion:
    changes.append(f"distortion {source.config.distortion} -> {target.config.distortion}")
  return ", ".join(changes)
