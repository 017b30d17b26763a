"""Context model, wavefront schedule and Gaussian rate model."""
import numpy as np
import pytest
import tensorflow as tf

from nlaic_tf.entropy import ContextModel, ScaleTable, WavefrontSchedule, gaussian_bits
from nlaic_tf.entropy.wavefront import code_latents, wavefront_coefficients
from nlaic_tf.layers.masked_conv3d import causal_offsets


@pytest.mark.parametrize("k", [3, 5, 7, 11])
def test_wavefront_respects_every_causal_dependency(k):
  a, b, d = wavefront_coefficients(k)
  for dc, dh, dw in causal_offsets(k):
    assert a * dc + b * dh + d * dw < 0, (dc, dh, dw)
  assert wavefront_coefficients(5) == (9, 3, 1)
  assert wavefront_coefficients(11) == (36, 6, 1)


@pytest.mark.parametrize("k", [1, 3, 5, 11])
@pytest.mark.parametrize("raster", [False, True])
@pytest.mark.parametrize("shape", [(4, 3, 5), (1, 1, 1), (3, 7, 2), (20, 2, 9)])
def test_schedule_covers_each_element_once_in_step_order(k, raster, shape):
  """Step t codes exactly the elements with a*c + b*h + w = t, in raster
  order (the order files were written in), at most `max_count` of them."""
  s = WavefrontSchedule(k, *shape, raster=raster)
  n_c, n_h, n_w = shape
  a, b, d = ((n_h * n_w, n_w, 1) if raster else wavefront_coefficients(k))
  c, h, w = np.unravel_index(np.arange(n_c * n_h * n_w), shape)
  t = a * c + b * h + d * w
  assert int(s.num_steps) == t.max() + 1
  seen = []
  for step in range(int(s.num_steps)):
    positions, channel, row, column = (v.numpy() for v in s.positions(step))
    np.testing.assert_array_equal(positions, np.flatnonzero(t == step))
    np.testing.assert_array_equal((channel, row, column),
                                  np.unravel_index(positions, shape))
    assert len(positions) <= int(s.max_count)
    assert len(set(channel)) <= int(s.channels_per_step)
    seen.extend(positions)
  assert sorted(seen) == list(range(n_c * n_h * n_w))


def test_no_context_is_one_step():
  assert int(WavefrontSchedule(1, 8, 4, 4).num_steps) == 1


class _TapParameters:
  """Parameters whose mean and index hash every tap of the context (values
  multiples of 1/4, all arithmetic exact): a tap read from the wrong place
  changes the outputs."""

  dtype = tf.float64

  def __init__(self, k, seed):
    self.kernel_size = k
    self.offsets = causal_offsets(k)
    rng = np.random.default_rng(seed)
    self.weights = tf.constant(rng.integers(1, 50, (len(self.offsets), 2)),
                               tf.float64)

  def prepare(self):
    return ()

  def __call__(self, patches, features, prepared):
    """patches [n, taps] float64, features [n, 1] -> (indexes int32 [n], mu [n])."""
    del prepared
    hashed = tf.math.floormod(tf.matmul(patches * 4., self.weights) + features, 97.)
    return tf.cast(hashed[:, 0], tf.int32), (hashed[:, 1] - 48.) / 4.


def _reference_coding(params, shape, symbols):
  """The same coding, one element at a time in raster order over a zero-padded
  copy of the whole volume -> (y_hat, indexes) [C*H*W]."""
  p = params.kernel_size // 2
  volume = np.zeros([s + 2 * p for s in shape])
  y_hat, indexes = np.zeros(symbols.size), np.zeros(symbols.size, np.int32)
  for i, (c, h, w) in enumerate(np.ndindex(*shape)):
    taps = params.offsets + [c + p, h + p, w + p]
    patch = volume[taps[:, 0], taps[:, 1], taps[:, 2]][None]
    index, mu = params(tf.constant(patch), tf.constant([[float(i)]], tf.float64), ())
    y_hat[i], indexes[i] = symbols[i] + mu.numpy()[0], index.numpy()[0]
    volume[c + p, h + p, w + p] = y_hat[i]
  return y_hat, indexes


@pytest.mark.parametrize("k,raster", [(1, False), (3, False), (5, False),
                                      (3, True), (5, True)])
@pytest.mark.parametrize("shape", [(20, 3, 5), (7, 6, 9), (2, 1, 4)])
def test_ring_of_channels_reads_what_the_whole_volume_holds(k, raster, shape):
  """`code_latents` keeps only `channels_per_step + p` channel planes (for
  C = 20 and 7 fewer than C, so slots are reused): every element's context,
  mean, index, symbol and y_hat equal those of a loop over the whole volume."""
  params = _TapParameters(k, seed=sum(shape) + k)
  symbols = np.random.default_rng(k).integers(-20, 20, np.prod(shape)).astype(np.int32)
  features = tf.range(np.prod(shape), dtype=tf.float64)[:, None]

  def code_step(handle, indexes, mu, positions):
    return handle + tf.size(positions), tf.gather(symbols, positions)

  @tf.function(autograph=False)
  def run():
    schedule = WavefrontSchedule(k, *shape, raster=raster)
    return code_latents(params, schedule, features, code_step, tf.constant(0))

  count, y_hat, indexes, coded = (v.numpy() for v in run())
  expected_y, expected_indexes = _reference_coding(params, shape, symbols)
  assert count == symbols.size
  np.testing.assert_array_equal(coded, symbols)
  np.testing.assert_array_equal(indexes, expected_indexes)
  np.testing.assert_array_equal(y_hat, expected_y.astype(np.float32))


def _context_and_inputs(seed=0, k=3):
  ctx = ContextModel(filters=4, kernel_size=k, hyper_features=2, hidden=(8,))
  rng = np.random.default_rng(seed)
  y = rng.normal(0, 2, size=(1, 3, 4, 5)).astype(np.float32)
  hyper = rng.normal(size=(1, 3, 4, 10)).astype(np.float32)
  ctx(y, hyper)
  return ctx, y, hyper


def test_context_model_is_causal():
  """Changing y at element e changes no (mu, sigma) at e or before it in coding order."""
  ctx, y, hyper = _context_and_inputs()
  volume_order = lambda t: np.transpose(t[0], [2, 0, 1]).reshape(-1)
  mu, sigma = (volume_order(t.numpy()) for t in ctx(y, hyper))
  for flat in [0, 7, 31, 59]:
    c, h, w = np.unravel_index(flat, (5, 3, 4))
    changed = y.copy()
    changed[0, h, w, c] += 4.
    mu2, sigma2 = (volume_order(t.numpy()) for t in ctx(changed, hyper))
    diff = np.maximum(np.abs(mu2 - mu), np.abs(sigma2 - sigma))
    assert diff[:flat + 1].max() == 0.
    if flat < 59:
      assert diff[flat + 1:].max() > 0.


def test_patch_path_matches_convolution_path():
  ctx, y, hyper = _context_and_inputs(seed=1)
  mu, sigma = ctx(y, hyper)
  p = 1
  vol = np.pad(np.transpose(y[0], [2, 0, 1]), p)
  feats = hyper[0].reshape(3, 4, 5, 2)
  for c, h, w in [(0, 0, 0), (2, 1, 3), (4, 2, 3)]:
    patch = np.array([[vol[c + p + dc, h + p + dh, w + p + dw]
                       for dc, dh, dw in ctx.offsets]], np.float32)
    m, s = ctx.params_from_patches(patch, feats[h, w, c][None],
                                   ctx.masked_conv.causal_matrix())
    np.testing.assert_allclose(m[0], mu[0, h, w, c], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s[0], sigma[0, h, w, c], rtol=1e-5, atol=1e-5)


def test_gaussian_bits_match_discrete_probability():
  from scipy.stats import norm
  mu, sigma = np.float32(0.3), np.float32(1.7)
  values = np.arange(-6, 7).astype(np.float32) + mu
  expected = -np.log2(norm.cdf(values - mu + .5, scale=sigma) -
                      norm.cdf(values - mu - .5, scale=sigma))
  np.testing.assert_allclose(gaussian_bits(values, mu, sigma), expected, rtol=1e-4)


def test_scale_table_index_is_nearest_in_log_domain():
  table = ScaleTable(64, .11, 256.)
  scales = table.scale(tf.range(64)).numpy()
  assert np.isclose(scales[0], .11) and np.isclose(scales[-1], 256.)
  np.testing.assert_array_equal(table.index(scales).numpy(), np.arange(64))
  mid = np.sqrt(scales[10] * scales[11])
  assert table.index([mid * .99, mid * 1.01]).numpy().tolist() == [10, 11]
  assert table.index([1e-3, 1e4]).numpy().tolist() == [0, 63]
