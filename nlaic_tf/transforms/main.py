"""Main analysis (image -> y, 16x down) and synthesis (y -> image) transforms."""
import tensorflow as tf

from nlaic_tf.layers import NLAM, ResidualBlock


def _conv(filters, name):
  return tf.keras.layers.Conv2D(filters, 5, strides=2, padding="same", name=name)


def _deconv(filters, name):
  return tf.keras.layers.Conv2DTranspose(
      filters, 5, strides=2, padding="same", name=name)


def float32_output(name):
  """Last layer of every transform: returns float32 whatever the transform's
  dtype policy (mixed precision computes in bfloat16 or float16 before it)."""
  return tf.keras.layers.Activation("linear", dtype="float32", name=name)


def _nlam(config, filters, factor, prefix):
  return [NLAM(filters, config.nlam_blocks, config.nonlocal_block_size,
               name=f"{prefix}_nlam{factor}")]


def analysis_transform(config):
  """[B, H, W, 3] in [0, 1] -> y [B, H/16, W/16, latent_channels] (H, W % 16 == 0)."""
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
  layers.append(float32_output("y"))
  return tf.keras.Sequential(layers, name="analysis")


def synthesis_transform(config):
  """y_hat [B, h, w, latent_channels] -> image [B, 16h, 16w, 3] (unclipped, ~[0, 1])."""
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
  layers.append(float32_output("x_hat"))
  return tf.keras.Sequential(layers, name="synthesis")
