"""Main analysis (image -> y, 16x down) and synthesis (y -> image) transforms."""
import tensorflow as tf

from nlaic_tf.layers import (NLAM, RateModulation, ResidualBlock,
                             SubpixelConv2DTranspose)


def apply(transform, x, quality):
  """Runs a transform of this package on x at quality [B] (float levels).

  The transforms are `tf.keras.Sequential` containers (their layers, and so
  their checkpoints, in order) that are never called as a whole, because
  `RateModulation` layers also take the quality; the container counts as
  built once its layers are.
  """
  x = apply_layers(transform.layers, x, quality)
  transform.built = True
  return x


def apply_layers(layers, x, quality):
  """Runs `layers` (part of a transform, in order) on x at quality [B]."""
  for layer in layers:
    x = layer(x, quality) if isinstance(layer, RateModulation) else layer(x)
  return x


def _conv(filters, name):
  return tf.keras.layers.Conv2D(filters, 5, strides=2, padding="same", name=name)


def _deconv(filters, name):
  return SubpixelConv2DTranspose(filters, 5, name=name)


def float32_output(name):
  """Last layer of every transform: returns float32 whatever the transform's
  dtype policy (mixed precision computes in bfloat16 or float16 before it)."""
  return tf.keras.layers.Activation("linear", dtype="float32", name=name)


def _nlam(config, filters, factor, prefix):
  return [NLAM(filters, config.nlam_blocks, config.nonlocal_block_size,
               name=f"{prefix}_nlam{factor}")]


def _modulation(config, name):
  if not config.rate_conditioned:
    return []
  return [RateModulation(config.num_levels, name=name)]


def analysis_transform(config):
  """[B, H, W, 3] in [0, 1] -> y [B, H/16, W/16, latent_channels] (H, W % 16 == 0).

  Rate-conditioned configurations modulate the features after each of the
  first three stages; run it with `apply`.
  """
  n, m = config.main_filters, config.latent_channels
  layers = []
  for stage in range(4):
    factor = 2 ** (stage + 1)
    filters = m if stage == 3 else n
    layers.append(_conv(filters, f"down{factor}"))
    if stage < 3:
      layers += [ResidualBlock(n, name=f"enc_rb{factor}_{i}")
                 for i in range(config.encoder_blocks[stage])]
    if factor in config.nlam_factors:
      layers += _nlam(config, filters, factor, "enc")
    if stage < 3:
      layers += _modulation(config, f"enc_mod{factor}")
  layers.append(float32_output("y"))
  return tf.keras.Sequential(layers, name="analysis")


def synthesis_transform(config):
  """y_hat [B, h, w, latent_channels] -> image [B, 16h, 16w, 3] (unclipped, ~[0, 1]).

  Rate-conditioned configurations modulate the features after each of the
  first three upsamplings; run it with `apply`.
  """
  n, m = config.main_filters, config.latent_channels
  layers = []
  for stage in reversed(range(4)):
    factor = 2 ** (stage + 1)
    filters = m if stage == 3 else n
    if factor in config.nlam_factors:
      layers += _nlam(config, filters, factor, "dec")
    if stage < 3:
      layers += [ResidualBlock(n, name=f"dec_rb{factor}_{i}")
                 for i in range(config.decoder_blocks[stage])]
    layers.append(_deconv(3 if stage == 0 else n, f"up{factor}"))
    if stage > 0:
      layers += _modulation(config, f"dec_mod{factor}")
  layers.append(float32_output("x_hat"))
  return tf.keras.Sequential(layers, name="synthesis")
