"""Encoder-side latent refinement: lowers the loss, stays decodable, deterministic."""
import types

import numpy as np
import pytest
import tensorflow as tf

from conftest import smooth_image
from nlaic_tf import api
from nlaic_tf.models.codec import NLAICCodec
from nlaic_tf.models.refinement import BASE_STEP_SIZE, refine_latents, step_size
from nlaic_tf.zoo import build_model


def _latents(model, image, quality):
  x = tf.constant(image[None] / 255., tf.float32)
  q = tf.constant([quality])
  gains = model.gains(q)
  return x, model.analyze(x, q) * gains, gains


def _rounded_loss(model, x, ys, gains, quality):
  out = model.from_latents(ys, gains, tf.constant([quality]), training=False)
  return float(model.rd_loss(x, out, tf.constant([quality]))["loss"][0])


def _seeded_model(seed=0):
  tf.keras.utils.set_random_seed(seed)  # random weights, but the same each run
  return build_model("tiny")


def test_refinement_lowers_the_rounded_loss_and_reports_it():
  model = _seeded_model()
  x, ys, gains = _latents(model, smooth_image(64, 64, seed=7), 1.)
  start = _rounded_loss(model, x, ys, gains, 1.)
  same, loss0 = refine_latents(model, x, ys, gains, 1., 0, 0.05)
  np.testing.assert_array_equal(same.numpy(), ys.numpy())
  assert float(loss0[0]) == pytest.approx(start, rel=1e-6)
  refined, loss = refine_latents(model, x, ys, gains, 1., 8, 0.05)
  assert float(loss[0]) < start
  assert float(loss[0]) == pytest.approx(
      _rounded_loss(model, x, refined, gains, 1.), rel=1e-5)


def test_loss_scores_only_the_image_not_the_padding():
  model = build_model("tiny")
  image = smooth_image(64, 64, seed=8)
  x, ys, gains = _latents(model, image, 0.)
  out = model.from_latents(ys, gains, tf.constant([0.]), training=False)
  crop = x[:, :40, :50]
  terms = model.rd_loss(crop, out, tf.constant([0.]))
  mse = np.mean((crop.numpy() - out["x_hat"].numpy()[:, :40, :50]) ** 2) * 255 ** 2
  assert float(terms["mse"][0]) == pytest.approx(mse, rel=1e-5)
  bits = float(out["bits_y"][0] + out["bits_z"][0])
  assert float(terms["bpp"][0]) == pytest.approx(bits / (40 * 50), rel=1e-6)


def test_lambda_interpolates_geometrically_between_levels():
  model = build_model("tiny")
  lambdas = model.config.lambdas
  got = model.rd_loss.lambda_of(tf.constant([0., 0.5, 1.])).numpy()
  np.testing.assert_allclose(
      got, [lambdas[0], np.sqrt(lambdas[0] * lambdas[1]), lambdas[1]], rtol=1e-5)


def test_step_size_doubles_per_level_above_the_third_highest():
  sizes = [float(step_size(q, 8)) for q in (0., 3., 5., 5.5, 6., 7.)]
  np.testing.assert_allclose(
      sizes, BASE_STEP_SIZE * np.array([1., 1., 1., 2 ** .5, 2., 4.]), rtol=1e-6)
  assert float(step_size(2., 4)) == pytest.approx(2 * BASE_STEP_SIZE)


def test_refined_bitstream_is_ordinary_exact_and_deterministic():
  codec = NLAICCodec(_seeded_model())
  image = smooth_image(50, 70, seed=9)  # padded to 64 x 128 inside
  plain = codec.compress(image, 1.).numpy()
  assert codec.compress_refined(image, 1., 0).numpy() == plain
  data, _, reconstruction = codec.encode_refined(image, 1., 8)
  assert data.numpy() != plain
  decoded = api.decompress(data.numpy(), codec)
  np.testing.assert_array_equal(decoded, reconstruction.numpy())
  assert codec.compress_refined(image, 1., 8).numpy() == data.numpy()


def test_api_refine_steps(tiny_codec):
  image = smooth_image(64, 64, seed=10)
  assert api.compress(image, 1., tiny_codec, refine_steps=3) == \
      tiny_codec.compress_refined(image, 1., 3).numpy()
  with pytest.raises(ValueError, match="refine_steps"):
    api.compress(image, 1., tiny_codec, refine_steps=-1)

  older_export = types.SimpleNamespace(  # saved before compress_refined existed
      config_json=tiny_codec.config_json, compress=tiny_codec.compress)
  assert api.compress(image, 1., older_export) == tiny_codec.compress(image, 1.).numpy()
  with pytest.raises(ValueError, match="re-export"):
    api.compress(image, 1., older_export, refine_steps=2)
