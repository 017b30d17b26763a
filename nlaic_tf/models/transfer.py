"""Starting a model from another's trained weights when their configurations
differ in what can be carried over: the rate levels, the rate conditioning and
the distortion.
"""
import dataclasses

from nlaic_tf.layers import RateModulation
from nlaic_tf.models.rate_levels import remap_log_gains

TRANSFORMS = ("analysis", "synthesis", "hyper_analysis", "hyper_synthesis")


def check_transferable(source, target):
  """Raises ValueError unless configurations `source` and `target` differ at
  most in name, distortion, rate levels (lambdas) and rate conditioning added
  (a trained rate modulation is never dropped, nor remapped to other levels)."""
  carried = dict(name=target.name, lambdas=target.lambdas,
                 rate_conditioned=target.rate_conditioned,
                 distortion=target.distortion)
  if dataclasses.replace(source, **carried) != target:
    raise ValueError(
        f"configuration {source.name!r} differs from {target.name!r} in more "
        "than its distortion, rate levels (lambdas) and rate conditioning")
  if source.rate_conditioned and (source.lambdas != target.lambdas
                                  or not target.rate_conditioned):
    raise ValueError("a rate-conditioned model transfers only to one with the "
                     "same rate levels and rate conditioning")


def transfer_weights(source, target):
  """Copies the weights of built `NLAIC` `source` into built `target`.

  Transform layers are matched by name, so `RateModulation` layers that only
  the target has keep their identity initialisation; other weights (context,
  hyperprior, gains) are matched in order. Gains are remapped to the target's
  rate levels with `remap_log_gains`. Returns a sentence saying what changed.
  """
  check_transferable(source.config, target.config)
  copied = set()
  for attr in TRANSFORMS:
    layers = {layer.name: layer for layer in getattr(source, attr).layers}
    for layer in getattr(target, attr).layers:
      if layer.name in layers:
        for weight, value in zip(layer.weights, layers[layer.name].weights):
          weight.assign(value)
          copied.add(id(weight))
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
  if target.config.distortion != source.config.distortion:
    changes.append(f"distortion {source.config.distortion} -> {target.config.distortion}")
  return ", ".join(changes)
