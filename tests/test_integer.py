"""Integer entropy parameters: conversion accuracy, exact round trips, file flags."""
import dataclasses
import types

import numpy as np
import pytest
import tensorflow as tf

from conftest import smooth_image, tiny_integer_config
from nlaic_tf import api
from nlaic_tf.bitstream import read_header
from nlaic_tf.bitstream.format import FLAG_INTEGER
from nlaic_tf.entropy import integer

ONE = 2. ** integer.ACTIVATION_BITS


@pytest.fixture(scope="module")
def int_codec():
  from nlaic_tf.models.codec import NLAICCodec
  from nlaic_tf.zoo import build_model
  tf.keras.utils.set_random_seed(5)
  model = build_model(tiny_integer_config())
  for weight in model.hyper_synthesis.weights + model.context.weights:
    if "bias" in weight.name:  # biases off zero, so that they are exercised
      weight.assign(tf.random.normal(weight.shape, stddev=.1, seed=6))
  return NLAICCodec(model)  # converts the weights as they are now


@pytest.mark.parametrize("layer", [
    tf.keras.layers.Conv2D(6, 3, padding="same", activation="relu"),
    tf.keras.layers.Conv2DTranspose(6, 5, 2, "same")])
def test_integer_convolutions_match_keras(layer):
  x = np.round(np.random.default_rng(0).normal(0., 3., (1, 5, 7, 4)))
  layer.build(x.shape)
  layer.bias.assign(tf.random.normal(layer.bias.shape, seed=1))
  expected = layer(tf.constant(x, tf.float32)).numpy()
  got = integer._convert(layer, False)(tf.constant(x * ONE, tf.float64)).numpy()
  assert got.shape == expected.shape
  np.testing.assert_array_equal(got, np.floor(got))  # integers
  np.testing.assert_allclose(got / ONE, expected, atol=2e-3 * np.abs(expected).max())


@pytest.mark.parametrize("layer,height", [
    (tf.keras.layers.Conv2D(6, 3, padding="same", activation="relu"), 11),
    (tf.keras.layers.Conv2DTranspose(6, 5, 2, "same"), 5)])
def test_convolution_bands_give_the_whole_image_integers(layer, height):
  """Output rows in bands of 4 (heights 11 and 10: the last band shorter) equal
  one im2col over the whole image, integer for integer."""
  x = np.floor(np.random.default_rng(2).normal(0., 3., (1, height, 7, 4)) * ONE)
  layer.build(x.shape)
  layer.bias.assign(tf.random.normal(layer.bias.shape, seed=3))
  banded = integer.IntegerConv2D(layer, band_rows=4)(tf.constant(x)).numpy()
  whole = integer.IntegerConv2D(layer, band_rows=1000)(tf.constant(x)).numpy()
  stride = layer.strides[0]
  assert banded.shape == whole.shape == (1, height * stride, 7 * stride, 6)
  np.testing.assert_array_equal(banded, whole)
  assert np.abs(whole).max() > ONE  # not trivially zero


def test_scale_thresholds_pick_the_float_index():
  from nlaic_tf.entropy import ScaleTable
  table = ScaleTable(64, .11, 256.)
  raw = np.random.default_rng(1).uniform(-4., 300., 20000)
  expected = table.index(tf.math.softplus(tf.constant(raw, tf.float32))).numpy()
  raw_q = np.floor(raw * ONE)
  got = np.sum(raw_q[:, None] >= integer.scale_thresholds(table)[None, :], -1)
  assert np.mean(got == expected) > .999 and np.all(np.abs(got - expected) <= 1)


def test_scale_thresholds_do_not_hang_on_the_last_bits_of_exp_and_log():
  """A codec built from weights on any machine (`zoo.load_codec` does) gets
  the thresholds the encoder had: every configuration's lie far from an
  integer, and a table with one on an integer is refused."""
  from nlaic_tf.entropy import ScaleTable
  from nlaic_tf.models import CONFIGS, get_config
  for name in CONFIGS:
    config = get_config(name)
    integer.scale_thresholds(
        ScaleTable(config.num_scales, config.scale_min, config.scale_max))
  # softplus(1) as the first edge: its threshold is 1 * ONE, an integer.
  step = .1
  on_integer = types.SimpleNamespace(
      num_scales=3, step=step, log_min=np.log(np.log1p(np.e)) - step / 2)
  with pytest.raises(ValueError, match="too close to an integer"):
    integer.scale_thresholds(on_integer)


def test_parameters_are_close_to_the_float_ones(int_codec):
  model = int_codec.model
  params = int_codec.integer_parameters
  z_hat = tf.round(tf.random.normal([1, 2, 3, model.config.hyper_latent_channels],
                                    stddev=3., seed=2))
  float_features = int_codec.float_parameters.features(z_hat)
  features = params.features(z_hat)
  np.testing.assert_allclose(features.numpy() / ONE, float_features.numpy(),
                             atol=1e-2 * np.abs(float_features.numpy()).max())
  taps = len(params.offsets)
  patches = np.round(np.random.default_rng(3).normal(0., 4., (50, taps)) * 16) / 16
  idx, mu = params(tf.constant(patches), features[:50], ())
  float_idx, float_mu = int_codec.float_parameters(
      tf.constant(patches, tf.float32), tf.cast(features[:50] / ONE, tf.float32),
      int_codec.float_parameters.prepare())
  assert np.mean(idx.numpy() == float_idx.numpy()) > .9
  np.testing.assert_allclose(mu.numpy(), float_mu.numpy(), atol=2e-2)


def test_integer_round_trip_is_exact_and_flagged(int_codec):
  image = smooth_image(64, 96, seed=11)
  data, y_enc, recon = int_codec.encode(image, np.float32(1.))
  assert read_header(data.numpy()).flags == FLAG_INTEGER
  decoded, y_dec = int_codec.decode(data)
  np.testing.assert_array_equal(y_dec.numpy(), y_enc.numpy())
  np.testing.assert_array_equal(decoded.numpy(), recon.numpy())


def test_integer_codec_reads_float_files_of_the_same_model(int_codec):
  from nlaic_tf.models.codec import NLAICCodec
  float_codec = NLAICCodec(int_codec.model, integer=False)
  image = smooth_image(64, 64, seed=12)
  data, _, recon = float_codec.encode(image, np.float32(0.))
  assert read_header(data.numpy()).flags == 0
  np.testing.assert_array_equal(api.decompress(data.numpy(), int_codec), recon.numpy())
  # That ran the untiled twin built for float files only (the header's flag
  # chose it): it refuses an integer file rather than decode it wrongly.
  integer_file = int_codec.encode(image, np.float32(0.))[0]
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="not written with float entropy parameters"):
    int_codec.decompress_untiled(integer_file, integer=False)


def test_hyper_synthesis_nlam_has_no_integer_form(tiny_codec):
  assert not integer.supports_integer(tiny_codec.model.config)
  assert tiny_codec.integer_parameters is None
  with pytest.raises(NotImplementedError, match="no integer implementation"):
    integer.IntegerParameters(tiny_codec.model)


def test_no_context_taps_mean_scale_hyperprior():
  """context_kernel 1 (small-hyperprior): parameters from the features alone."""
  from nlaic_tf.entropy.parameters import FloatParameters
  from nlaic_tf.zoo import build_model
  model = build_model(dataclasses.replace(tiny_integer_config(), context_kernel=1))
  model.context.masked_conv.bias.assign(tf.fill([model.config.context_filters], .3))
  params, reference = integer.IntegerParameters(model), FloatParameters(model)
  features = tf.random.normal([20, model.config.hyper_features], seed=8)
  idx, mu = params(tf.zeros([20, 0], tf.float64),
                   tf.floor(tf.cast(features, tf.float64) * ONE), ())
  float_idx, float_mu = reference(tf.zeros([20, 0]), features, reference.prepare())
  assert np.mean(idx.numpy() == float_idx.numpy()) > .9
  np.testing.assert_allclose(mu.numpy(), float_mu.numpy(), atol=1e-2)
