"""NLAIC model: gradients, rate levels, the reconstruction ceiling and that training reduces the loss."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import smooth_image
from nlaic_tf.evaluation.ceiling import channels_for_share, level_psnr_and_ceiling
from nlaic_tf.models import RateGains
from nlaic_tf.models.nlaic import per_example_uniform
from nlaic_tf.models.rate_levels import level_weights, remap_log_gains
from nlaic_tf.zoo import build_model


def _batch(n=4, size=64, seed=0):
  return np.stack([smooth_image(size, size, seed + i) for i in range(n)]) / 255.


def test_forward_shapes_and_rates():
  model = build_model("tiny")
  x = _batch(2)
  out = model(x, tf.constant([0., 1.]), training=True)
  assert out["x_hat"].shape == x.shape
  assert out["bits_y"].shape == (2,) and out["bits_z"].shape == (2,)
  assert (out["bits_y"].numpy() > 0).all() and (out["bits_z"].numpy() > 0).all()


def test_gradients_reach_every_trainable_variable():
  model = build_model("tiny")
  model.compile(optimizer=tf.keras.optimizers.Adam(1e-3))
  x = tf.constant(_batch(2, size=128), tf.float32)  # z is 2x2: attention varies
  model.train_step(x)  # moves the zero-initialised non-local outputs off zero
  with tf.GradientTape() as tape:
    loss = tf.reduce_mean(model.losses_per_example(x, tf.constant([0, 1]), True)["loss"])
  grads = tape.gradient(loss, model.trainable_variables)
  missing = [v.name for v, g in zip(model.trainable_variables, grads)
             if g is None or not np.any(tf.convert_to_tensor(g).numpy())]
  assert not missing


def test_rate_gains_are_invertible_and_interpolate():
  gains = RateGains([0.001, 0.01, 0.1], channels=5)
  gains.build(None)
  gains.log_gains.assign(np.random.default_rng(0).normal(size=(3, 5)))
  y = tf.random.normal([3, 2, 2, 5], seed=1)
  q = tf.constant([0., 1.3, 2.])
  g = gains(q)
  np.testing.assert_allclose((y * g) / g, y, rtol=1e-6)
  log_g = gains.log_gains.numpy()
  np.testing.assert_allclose(np.log(g[0, 0, 0]), log_g[0], rtol=1e-5)
  np.testing.assert_allclose(np.log(g[2, 0, 0]), log_g[2], rtol=1e-5)
  np.testing.assert_allclose(np.log(g[1, 0, 0]), .7 * log_g[1] + .3 * log_g[2],
                             rtol=1e-5)
  # Out-of-range qualities clip to the end levels.
  np.testing.assert_allclose(gains(tf.constant([-1., 9.])).numpy(),
                             gains(tf.constant([0., 2.])).numpy())


def test_remapped_gains_interpolate_inside_and_follow_the_slope_outside():
  lambdas = (0.001, 0.004, 0.016)
  rng = np.random.default_rng(0)
  offset, slope = rng.normal(size=4), rng.uniform(0.2, 0.6, size=4)
  linear = lambda l: offset + slope * np.log(l)
  log_gains = np.stack([linear(l) for l in lambdas])
  np.testing.assert_allclose(remap_log_gains(lambdas, log_gains, lambdas),
                             log_gains, atol=1e-6)
  # Gains linear in log(lambda) stay on their line, also beyond the range.
  new = (0.0001, 0.002, 0.05)
  np.testing.assert_allclose(remap_log_gains(lambdas, log_gains, new),
                             np.stack([linear(l) for l in new]), atol=1e-5)
  # Between two levels: the weighted mean of those two only.
  bent = log_gains.copy()
  bent[2] += 1.
  np.testing.assert_allclose(remap_log_gains(lambdas, bent, (0.002,))[0],
                             0.5 * (bent[0] + bent[1]), atol=1e-6)
  with pytest.raises(ValueError, match="increasing"):
    remap_log_gains((0.004, 0.001), log_gains[:2], new)


def test_initial_gains_order_levels_by_rate():
  model = build_model("tiny")
  x = _batch(2)
  bpp = [float(tf.reduce_mean(model.losses_per_example(
      x, tf.fill([2], float(q)), training=False)["bpp"])) for q in (0, 1)]
  assert bpp[0] < bpp[1]


def test_training_steps_reduce_the_loss():
  tf.keras.utils.set_random_seed(0)
  model = build_model("tiny")
  model.compile(optimizer=tf.keras.optimizers.Adam(2e-3))
  x = tf.constant(_batch(4, seed=10), tf.float32)
  levels = tf.constant([0, 1, 0, 1])
  evaluate = lambda: float(tf.reduce_mean(
      model.losses_per_example(x, levels, training=False)["loss"]))
  before = evaluate()
  step = tf.function(model.train_step)
  for _ in range(40):
    step(x)
  assert evaluate() < 0.7 * before


def test_level_weights_have_mean_one_and_follow_lambda():
  lambdas = [0.0002, 0.002, 0.02]
  np.testing.assert_allclose(level_weights(lambdas, 0.), [1., 1., 1.])
  w = level_weights(lambdas, 0.5)
  assert w.mean() == pytest.approx(1.)
  np.testing.assert_allclose(w[:-1] / w[1:], [10 ** 0.5] * 2, rtol=1e-5)


def _sgd_update(model, x, seeds):
  """The change of every trainable variable after one plain SGD `rd_step`
  (the variables are put back afterwards)."""
  before = [v.numpy() for v in model.trainable_variables]
  model.rd_step(x, tf.keras.optimizers.SGD(1e-3), seeds=seeds)
  after = [v.numpy() for v in model.trainable_variables]
  for v, value in zip(model.trainable_variables, before):
    v.assign(value)
  return np.concatenate([(a - b).ravel() for a, b in zip(after, before)])


def test_level_balance_scales_each_examples_step_by_its_level_weight():
  # One example, a fixed seed (so the same rate level and noise in every
  # step), no gradient clipping: the SGD step of the balanced model is the
  # plain model's step times the weight of the example's level.
  tf.keras.utils.set_random_seed(0)
  plain = build_model("tiny", grad_clip=0.)
  balanced = build_model("tiny", grad_clip=0., level_balance=1.)
  balanced.set_weights(plain.get_weights())
  x = tf.constant(_batch(1, seed=10), tf.float32)
  weights = level_weights(plain.config.lambdas, 1.)
  assert weights[0] > 5 * weights[1]
  levels_seen = set()
  for seed in range(8):
    seeds = tf.constant([[seed, 7]])
    level = int(per_example_uniform(seeds, 0, [], 0, plain.config.num_levels,
                                    tf.int32)[0])
    levels_seen.add(level)
    expected = weights[level] * _sgd_update(plain, x, seeds)
    np.testing.assert_allclose(_sgd_update(balanced, x, seeds), expected,
                               rtol=1e-3, atol=1e-4 * np.abs(expected).max())
  assert levels_seen == {0, 1}


def test_fine_quantization_approaches_the_reconstruction_ceiling():
  tf.keras.utils.set_random_seed(0)
  model = build_model("tiny")
  x = _batch(2, size=64)
  _, ceiling, channel_bits = level_psnr_and_ceiling(model, [x])
  out = model(x, tf.constant([1., 1.]))
  np.testing.assert_allclose(channel_bits[1], out["channel_bits_y"].numpy().sum(0), rtol=1e-5)
  np.testing.assert_allclose(out["channel_bits_y"].numpy().sum(1), out["bits_y"], rtol=1e-5)
  assert list(channels_for_share([[5., 1., 0., 4.]], 0.9)) == [2]
  assert list(channels_for_share([[5., 1., 0., 4.]], 0.95)) == [3]
  q = tf.zeros([2])
  direct = tf.image.psnr(x, tf.clip_by_value(model.synthesize(model.analyze(x, q), q), 0., 1.), 1.)
  assert ceiling == pytest.approx([float(tf.reduce_mean(direct))] * 2, abs=1e-4)
  far_from_ceiling = {}
  for shift in (-6., 8.):  # quantization steps ~400 and ~3e-4 times the trained ones
    model.gains.log_gains.assign_add(tf.fill(model.gains.log_gains.shape, shift))
    psnr, same_ceiling, _ = level_psnr_and_ceiling(model, [x])
    model.gains.log_gains.assign_add(tf.fill(model.gains.log_gains.shape, -shift))
    assert psnr.shape == (2,) and same_ceiling == pytest.approx(ceiling, abs=1e-4)
    far_from_ceiling[shift] = abs(psnr - ceiling).max()
  assert far_from_ceiling[8.] < 1e-3 and far_from_ceiling[-6.] > 0.05


def test_validation_terms_are_the_rounded_losses_and_the_ceiling():
  tf.keras.utils.set_random_seed(1)
  model = build_model("tiny")
  x = tf.constant(_batch(2, size=64), tf.float32)
  q = tf.constant([0., 1.])
  terms = model.validation_terms(x, q)
  expected = dict(model.losses_per_example(x, q, training=False),
                  ceiling=model.ceiling_psnr(x, q))
  assert terms.keys() == expected.keys()
  for key in expected:
    np.testing.assert_allclose(terms[key], expected[key], rtol=1e-6, err_msg=key)


def _conditioned(name="tiny"):
  import dataclasses
  from nlaic_tf.models import get_config
  return dataclasses.replace(get_config(name), name=f"{name}-rc",
                             rate_conditioned=True)


def test_rate_modulation_starts_as_identity_and_interpolates_levels():
  from nlaic_tf.layers import RateModulation
  layer = RateModulation(3)
  x = tf.random.normal([3, 2, 2, 4], seed=2)
  q = tf.constant([0., 1.25, 2.])
  np.testing.assert_array_equal(layer(x, q).numpy(), x.numpy())
  rng = np.random.default_rng(1)
  s, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
  layer.log_scale.assign(s)
  layer.bias.assign(b)
  got = layer(x, q).numpy()
  for i, (lo, hi, t) in enumerate([(0, 0, 0.), (1, 2, .25), (2, 2, 0.)]):
    scale = np.exp((1 - t) * s[lo] + t * s[hi])
    bias = (1 - t) * b[lo] + t * b[hi]
    np.testing.assert_allclose(got[i], x.numpy()[i] * scale + bias, rtol=1e-5, atol=1e-6)


def test_rate_conditioned_transforms_differ_per_level_and_train():
  tf.keras.utils.set_random_seed(0)
  model = build_model(_conditioned())
  plain = build_model("tiny")
  modulations = [w for w in model.trainable_variables if "log_scale" in w.name]
  assert len(modulations) == 6  # 3 in the analysis, 3 in the synthesis
  assert len(model.weights) == len(plain.weights) + 12
  x = tf.constant(_batch(2), tf.float32)
  same = model.analyze(x, tf.constant([0., 0.])), model.analyze(x, tf.constant([1., 1.]))
  np.testing.assert_array_equal(same[0].numpy(), same[1].numpy())  # identity at start
  model.compile(optimizer=tf.keras.optimizers.Adam(1e-2))
  for _ in range(3):
    model.train_step(x)
  assert all(np.any(w.numpy() != 0.) for w in modulations)
  y0, y1 = model.analyze(x, tf.constant([0., 0.])), model.analyze(x, tf.constant([1., 1.]))
  assert not np.allclose(y0.numpy(), y1.numpy())


def test_mixed_bfloat16_trains_float32_weights_interchangeable_with_float32():
  tf.keras.utils.set_random_seed(0)
  model = build_model("tiny", precision="mixed_bfloat16")
  assert model.analysis.layers[0].compute_dtype == "bfloat16"
  assert model.context.compute_dtype == "float32"  # the entropy side stays float32
  assert all(w.dtype == tf.float32 for w in model.weights)
  x = tf.constant(_batch(2), tf.float32)
  out = model(x, tf.constant([0., 1.]), training=True)
  assert all(out[k].dtype == tf.float32 for k in ("x_hat", "bits_y", "bits_z"))
  optimizer = tf.keras.optimizers.Adam(1e-3)
  losses = [float(model.rd_step(x, optimizer)["loss"]) for _ in range(3)]
  assert np.all(np.isfinite(losses))
  twin = build_model("tiny")  # float32: reads the same checkpoint
  for a, b in zip(twin.weights, model.weights):
    a.assign(b)
  q = tf.constant([1., 1.])
  full, low = twin.analyze(x, q).numpy(), model.analyze(x, q).numpy()
  assert np.abs(full - low).max() < 0.05 * np.ptp(full)  # bfloat16 rounding only


def test_mixed_float16_scales_the_loss():
  model = build_model("tiny", precision="mixed_float16")
  optimizer = tf.keras.mixed_precision.LossScaleOptimizer(tf.keras.optimizers.Adam(1e-3))
  before = [w.numpy().copy() for w in model.trainable_variables]
  x = tf.constant(_batch(2), tf.float32)
  for _ in range(20):  # steps whose scaled gradients overflow are skipped
    assert np.isfinite(float(model.rd_step(x, optimizer)["loss"]))
    moved = [np.any(w.numpy() != b) for w, b in zip(model.trainable_variables, before)]
    if any(moved):
      break
  assert sum(moved) > len(moved) // 2
  assert 1. < float(optimizer.loss_scale) < 2. ** 15  # lowered from its start


def test_ms_ssim_model_scores_images_too_small_for_ms_ssim_by_mse():
  """An MS-SSIM model's loss on an image under MS_SSIM_MIN_SIZE (161) is the
  MSE one (MS_SSIM_SCALE makes the units agree), with static and dynamic
  shapes, so that refinement (and an export's check) works on small images."""
  import dataclasses
  from nlaic_tf.models.codec import NLAICCodec
  from nlaic_tf.models.config import get_config
  from nlaic_tf.models.losses import MS_SSIM_SCALE
  model = build_model(dataclasses.replace(get_config("tiny"), distortion="ms-ssim"))
  q = tf.constant([1.])
  small = tf.constant(_batch(1, size=64), tf.float32)
  terms = model.losses_per_example(small, q, training=False)
  np.testing.assert_allclose(terms["distortion"], terms["mse"], rtol=1e-6)
  assert np.isnan(terms["ms_ssim"].numpy()).all()  # undefined, not made up
  dynamic = tf.function(
      lambda x: model.losses_per_example(x, q, training=False)["distortion"],
      input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32)])
  np.testing.assert_allclose(dynamic(small), terms["mse"], rtol=1e-5)
  large = tf.constant(_batch(1, size=192), tf.float32)
  x_hat = tf.clip_by_value(model(large, q, training=False)["x_hat"], 0., 1.)
  expected = MS_SSIM_SCALE * (1. - tf.image.ssim_multiscale(large, x_hat, 1.))
  np.testing.assert_allclose(dynamic(large), expected, rtol=1e-4)
  codec = NLAICCodec(model)
  image = smooth_image(40, 56)
  refined = codec.compress_refined(image, 1., 2).numpy()
  assert codec.decompress(refined).shape == image.shape
