"""RateDistortionLoss: the one objective of training, validation, refinement and scripts."""
import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf

from nlaic_tf.models.config import ModelConfig, get_config
from nlaic_tf.models.losses import MS_SSIM_SCALE, RateDistortionLoss
from nlaic_tf.models.rate_levels import level_weights


def _coded(height, width, seed=0):
  """x [2, H, W, 3] and an `out` dict whose x_hat is padded to H+8 x W+8 and
  partly outside [0, 1]."""
  rng = np.random.default_rng(seed)
  x = tf.constant(rng.uniform(0., 1., (2, height, width, 3)), tf.float32)
  x_hat = tf.constant(rng.uniform(-.1, 1.1, (2, height + 8, width + 8, 3)), tf.float32)
  return x, dict(x_hat=x_hat, bits_y=tf.constant([300., 500.]),
                 bits_z=tf.constant([20., 40.]))


def test_mse_terms_score_the_unpadded_image_at_interpolated_lambdas():
  rd_loss = RateDistortionLoss("mse", (0.01, 0.04))
  x, out = _coded(24, 40)
  terms = rd_loss(x, out, tf.constant([0., 0.5]))
  x_hat = out["x_hat"].numpy()[:, :24, :40]
  mse = ((x.numpy() - x_hat) ** 2).mean((1, 2, 3)) * 255. ** 2
  bpp = np.array([320., 540.]) / (24 * 40)
  np.testing.assert_allclose(terms["mse"], mse, rtol=1e-5)
  np.testing.assert_allclose(terms["distortion"], mse, rtol=1e-5)
  np.testing.assert_allclose(terms["bpp"], bpp, rtol=1e-6)
  np.testing.assert_allclose(terms["loss"], [0.01, 0.02] * mse + bpp, rtol=1e-5)
  clipped_mse = ((x.numpy() - np.clip(x_hat, 0., 1.)) ** 2).mean((1, 2, 3))
  np.testing.assert_allclose(terms["psnr"], -10. * np.log10(clipped_mse), rtol=1e-5)
  assert "ms_ssim" not in terms


def test_ms_ssim_terms_report_the_ms_ssim_behind_the_scaled_distortion():
  rd_loss = RateDistortionLoss("ms-ssim", (0.01, 0.04))
  x, out = _coded(176, 168, seed=1)
  terms = rd_loss(x, out, tf.constant([1., 0.]))
  clipped = tf.clip_by_value(out["x_hat"][:, :176, :168], 0., 1.)
  ms_ssim = tf.image.ssim_multiscale(x, clipped, 1.).numpy()
  np.testing.assert_allclose(terms["ms_ssim"], ms_ssim, rtol=1e-6)
  np.testing.assert_allclose(terms["distortion"], MS_SSIM_SCALE * (1. - ms_ssim), rtol=1e-5)
  np.testing.assert_allclose(terms["loss"], [0.04, 0.01] * terms["distortion"].numpy()
                             + terms["bpp"].numpy(), rtol=1e-6)


def test_level_weights_and_their_average_follow_the_balance():
  lambdas = (0.001, 0.01, 0.1)
  rd_loss = RateDistortionLoss("mse", lambdas, level_balance=0.5)
  weights = level_weights(lambdas, 0.5)
  np.testing.assert_array_equal(rd_loss.level_weights, weights)
  np.testing.assert_allclose(rd_loss.weigh_levels(tf.constant([1., 2.]), tf.constant([2, 0])),
                             [weights[2], 2. * weights[0]], rtol=1e-6)
  assert rd_loss.average_levels([1., 2., 3.]) == pytest.approx(
      np.average([1., 2., 3.], weights=weights))


def test_measured_loss_of_a_coded_file():
  mse = RateDistortionLoss("mse", (0.01, 0.1))
  assert mse.measured_loss(1, 0.5, 30., math.nan) == pytest.approx(
      0.1 * 255. ** 2 * 1e-3 + 0.5)
  ms_ssim = RateDistortionLoss("ms-ssim", (0.01, 0.1))
  assert ms_ssim.measured_loss(0, 0.5, math.nan, 0.99) == pytest.approx(
      0.01 * MS_SSIM_SCALE * 0.01 + 0.5)


def test_the_objective_of_a_configuration():
  config = dataclasses.replace(get_config("tiny"), distortion="ms-ssim")
  rd_loss = RateDistortionLoss.for_config(config, level_balance=0.25)
  assert (rd_loss.distortion, rd_loss.lambdas, rd_loss.num_levels) == (
      "ms-ssim", config.lambdas, config.num_levels)
  assert rd_loss.level_balance == 0.25
  for make in (lambda: RateDistortionLoss("psnr", (0.01,)),
               lambda: ModelConfig(distortion="psnr")):
    with pytest.raises(ValueError, match="distortion must be one of"):
      make()
