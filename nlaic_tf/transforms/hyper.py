"""Hyper analysis (y -> z, 4x down) and hyper synthesis (z -> per-element features)."""
import tensorflow as tf

from nlaic_tf.layers import NLAM, ResidualBlock
from nlaic_tf.transforms.main import float32_output


def _blocks(config, prefix):
  return [ResidualBlock(config.hyper_filters, name=f"{prefix}_{i}")
          for i in range(config.hyper_blocks)]


def _nlam(config, name, enabled):
  if not enabled:
    return []
  return [NLAM(config.hyper_filters, config.nlam_blocks,
               config.nonlocal_block_size, name=name)]


def hyper_analysis(config):
  """y [B, h, w, latent_channels] -> z [B, h/4, w/4, hyper_latent_channels]."""
  nh = config.hyper_filters
  layers = [tf.keras.layers.Conv2D(nh, 3, padding="same", name="hin")]
  layers += _blocks(config, "ha_rb1")
  layers.append(tf.keras.layers.Conv2D(nh, 5, 2, "same", name="hdown1"))
  layers += _blocks(config, "ha_rb2")
  layers.append(tf.keras.layers.Conv2D(nh, 5, 2, "same", name="hdown2"))
  layers += _nlam(config, "ha_nlam", config.hyper_nlam)
  layers.append(tf.keras.layers.Conv2D(
      config.hyper_latent_channels, 3, padding="same", name="hout"))
  layers.append(float32_output("z"))
  return tf.keras.Sequential(layers, name="hyper_analysis")


def hyper_synthesis(config):
  """z_hat [B, h/4, w/4, hyper_latent_channels] -> [B, h, w, latent_channels * hyper_features].

  Output channel c * hyper_features + k is feature k of latent channel c.
  """
  nh = config.hyper_filters
  layers = [tf.keras.layers.Conv2D(nh, 3, padding="same", name="hsin")]
  layers += _nlam(config, "hs_nlam", config.hyper_synthesis_nlam)
  layers += _blocks(config, "hs_rb1")
  layers.append(tf.keras.layers.Conv2DTranspose(nh, 5, 2, "same", name="hup1"))
  layers += _blocks(config, "hs_rb2")
  layers.append(tf.keras.layers.Conv2DTranspose(nh, 5, 2, "same", name="hup2"))
  layers += _blocks(config, "hs_rb3")
  layers.append(tf.keras.layers.Conv2D(
      config.latent_channels * config.hyper_features, 3, padding="same",
      name="hsout"))
  layers.append(float32_output("features"))
  return tf.keras.Sequential(layers, name="hyper_synthesis")
