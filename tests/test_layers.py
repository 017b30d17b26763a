"""NLAM, (sparse) non-local block, masked 3D convolution and the sub-pixel
transposed convolution."""
import numpy as np
import pytest
import tensorflow as tf

from nlaic_tf.layers import NLAM, MaskedConv3D, NonLocalBlock, SubpixelConv2DTranspose
from nlaic_tf.layers.masked_conv3d import causal_mask, causal_offsets
from nlaic_tf.layers.nonlocal_block import attention_bytes


def _randomize_output_projection(block, seed=0):
  rng = np.random.default_rng(seed)
  block.w_z.kernel.assign(rng.normal(0, .3, block.w_z.kernel.shape))


@pytest.mark.parametrize("block_size", [None, 2, 4])
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 5, 7), (1, 8, 8)])
def test_nonlocal_block_is_identity_at_init(block_size, shape):
  x = tf.random.normal(shape + (6,), seed=1)
  block = NonLocalBlock(6, block_size=block_size)
  np.testing.assert_array_equal(block(x).numpy(), x.numpy())


def test_sparse_equals_dense_within_one_window_and_differs_beyond():
  dense = NonLocalBlock(8)
  sparse = NonLocalBlock(8, block_size=4)
  small = tf.random.normal([2, 4, 3, 8], seed=2)
  dense(small), sparse(small)
  _randomize_output_projection(dense)
  sparse.set_weights(dense.get_weights())
  np.testing.assert_allclose(sparse(small), dense(small), atol=1e-5)
  large = tf.random.normal([1, 9, 10, 8], seed=3)
  assert np.abs(sparse(large) - dense(large)).max() > 1e-3
  assert sparse(large).shape == large.shape


def test_sparse_attention_only_within_windows():
  """Changing a position in one window leaves outputs of other windows unchanged."""
  block = NonLocalBlock(4, block_size=3)
  x = np.random.default_rng(4).normal(size=(1, 7, 8, 4)).astype(np.float32)
  block(x)
  _randomize_output_projection(block)
  y = block(x).numpy()
  x2 = x.copy()
  x2[0, 0, 0] += 5.  # window rows 0-2, cols 0-2
  y2 = block(x2).numpy()
  assert np.abs(y2[0, :3, :3] - y[0, :3, :3]).max() > 1e-4
  np.testing.assert_array_equal(y2[0, 3:], y[0, 3:])
  np.testing.assert_array_equal(y2[0, :, 3:], y[0, :, 3:])


def test_attention_memory_bounded_by_window():
  assert attention_bytes(32, 48) == (32 * 48) ** 2 * 4
  assert attention_bytes(135, 240) == 32400 ** 2 * 4
  assert attention_bytes(135, 240, 16) == 9 * 15 * 256 ** 2 * 4
  assert attention_bytes(8, 8, 16) == attention_bytes(8, 8)


@pytest.mark.parametrize("block_size", [None, 4])
def test_nlam_shape_and_mask_range(block_size):
  layer = NLAM(8, num_blocks=2, block_size=block_size)
  x = tf.random.normal([2, 6, 9, 8], seed=5)
  out = layer(x)
  assert out.shape == x.shape
  # Zero trunk => output equals input, whatever the mask.
  for block in layer.trunk:
    for conv in (block.conv1, block.conv2):
      conv.kernel.assign(tf.zeros_like(conv.kernel))
      conv.bias.assign(tf.zeros_like(conv.bias))
  np.testing.assert_allclose(layer(x), x + x * tf.sigmoid(
      layer.mask_out(_mask_features(layer, x))), atol=1e-5)


def _mask_features(layer, x):
  m = layer.nonlocal_block(x)
  for block in layer.mask:
    m = block(m)
  return m


@pytest.mark.parametrize("k", [1, 3, 5])
def test_masks(k):
  a, b = causal_mask(k, "A"), causal_mask(k, "B")
  assert a.sum() == (k ** 3 - 1) // 2 and b.sum() == a.sum() + 1
  assert a[k // 2, k // 2, k // 2] == 0 and b[k // 2, k // 2, k // 2] == 1
  offsets = causal_offsets(k)
  # Every kept tap is strictly before the centre in (c, h, w) raster order.
  assert all(tuple(o) < (0, 0, 0) for o in offsets)
  with pytest.raises(ValueError):
    causal_mask(4)


def test_masked_conv3d_is_strictly_causal():
  """Changing element e never changes the output at e or any earlier element."""
  conv = MaskedConv3D(3, kernel_size=3)
  rng = np.random.default_rng(6)
  volume = rng.normal(size=(1, 4, 5, 6, 1)).astype(np.float32)
  base = conv(volume).numpy()
  for flat in rng.choice(4 * 5 * 6, 10, replace=False):
    changed = volume.copy()
    changed.reshape(-1)[flat] += 3.
    diff = np.abs(conv(changed).numpy() - base).max(-1).reshape(-1)
    assert diff[:flat + 1].max() == 0.
    if flat < 4 * 5 * 6 - 1:
      assert diff[flat + 1:].max() > 0.


def test_causal_matrix_matches_convolution():
  conv = MaskedConv3D(4, kernel_size=3)
  volume = np.random.default_rng(7).normal(size=(1, 3, 4, 5, 1)).astype(np.float32)
  full = conv(volume).numpy()[0]
  padded = np.pad(volume[0, ..., 0], 1)
  for c, h, w in [(0, 0, 0), (1, 2, 3), (2, 3, 4)]:
    patch = [padded[c + 1 + dc, h + 1 + dh, w + 1 + dw] for dc, dh, dw in conv.offsets]
    value = np.array(patch) @ conv.causal_matrix().numpy() + conv.bias.numpy()
    np.testing.assert_allclose(value, full[c, h, w], atol=1e-5)


@pytest.mark.parametrize("kernel_size", [3, 5, 7])
def test_subpixel_deconv_equals_conv2d_transpose(kernel_size):
  """Same variables, same outputs (to float rounding) as Keras' layer,
  on odd sizes, with a gradient that agrees too."""
  reference = tf.keras.layers.Conv2DTranspose(6, kernel_size, 2, "same")
  layer = SubpixelConv2DTranspose(6, kernel_size)
  x = tf.random.stateless_normal([2, 7, 9, 4], seed=[1, kernel_size])
  reference(x), layer(x)
  assert [v.shape for v in layer.weights] == [v.shape for v in reference.weights]
  layer.set_weights([np.random.default_rng(kernel_size).normal(size=v.shape)
                     for v in reference.weights])
  reference.set_weights(layer.get_weights())
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    outputs = [reference(x), layer(x)]
  assert outputs[1].shape == (2, 14, 18, 6)
  np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-5)
  for grads in zip(*(tape.gradient(out, [x, lay.kernel])
                     for out, lay in zip(outputs, (reference, layer)))):
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-4)


def test_subpixel_deconv_reads_conv2d_transpose_checkpoints(tmp_path):
  """The main synthesis' upsamplings were Keras Conv2DTranspose layers:
  checkpoints written then load unchanged."""
  x = tf.random.stateless_normal([1, 4, 4, 3], seed=[2, 0])
  old = tf.keras.Sequential([tf.keras.layers.Conv2DTranspose(5, 5, 2, "same")])
  old(x)
  path = tf.train.Checkpoint(model=old).write(str(tmp_path / "ckpt"))
  new = tf.keras.Sequential([SubpixelConv2DTranspose(5, 5)])
  new(x)
  tf.train.Checkpoint(model=new).read(path).assert_consumed()
  np.testing.assert_allclose(new(x), old(x), atol=1e-5)
