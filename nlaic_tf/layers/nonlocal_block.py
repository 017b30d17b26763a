"""Embedded-Gaussian non-local block, dense or sparse (block-partitioned).

Memory of the attention map (float32, batch 1, one NLAM), from `attention_bytes`:

  image        NLAM at   positions   dense (H*W)^2   sparse, block_size=16
  768x512      H/16      1,536       9.4 MB          1.6 MB
  3840x2160    H/16      32,400      4.2 GB          33 MB
  768x512      H/4       24,576      2.4 GB          25 MB
  3840x2160    H/4       518,400     1.07 TB         531 MB

Sparse mode partitions the positions into non-overlapping block_size x block_size
windows and attends within each window, so memory grows like H*W*block_size^2
instead of (H*W)^2. Inputs no larger than one window are processed densely, so
a model trained on small crops behaves identically in both modes on them.
"""
import tensorflow as tf


def attention_bytes(height, width, block_size=None, dtype_bytes=4):
  """Bytes of the attention map for a [1, height, width, C] input."""
  positions = height * width
  if block_size is None or (height <= block_size and width <= block_size):
    return positions * positions * dtype_bytes
  bh, bw = min(block_size, height), min(block_size, width)
  blocks = -(-height // bh) * -(-width // bw)
  return blocks * (bh * bw) ** 2 * dtype_bytes


@tf.keras.utils.register_keras_serializable(package="nlaic")
class NonLocalBlock(tf.keras.layers.Layer):
  """`x + W_z(softmax(theta(x) phi(x)^T) g(x))` with 1x1 projections.

  theta, phi, g: 1x1 convs C -> C // reduction. W_z: 1x1 conv back to C,
  initialised to zero, so the block is the identity at initialisation.
  Softmax runs over positions (within a window in sparse mode); no 1/sqrt(d)
  scaling, as in the embedded-Gaussian formulation.

  Input and output: [B, H, W, C], any H and W.
  """

  def __init__(self, filters, reduction=2, block_size=None, **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    self.reduction = int(reduction)
    self.block_size = None if block_size is None else int(block_size)
    inner = max(1, self.filters // self.reduction)
    self.theta = tf.keras.layers.Conv2D(inner, 1, name="theta")
    # A bias on phi adds a per-query constant to the logits, which softmax
    # removes: it would never receive a gradient.
    self.phi = tf.keras.layers.Conv2D(inner, 1, use_bias=False, name="phi")
    self.g = tf.keras.layers.Conv2D(inner, 1, name="g")
    self.w_z = tf.keras.layers.Conv2D(
        self.filters, 1, kernel_initializer="zeros", name="w_z")

  def _windows(self, t, bh, bw):
    """[B, H', W', c] -> [B * nH * nW, bh * bw, c] with H' = nH * bh, W' = nW * bw."""
    shape = tf.shape(t)
    b, h, w, c = shape[0], shape[1], shape[2], t.shape[-1]
    t = tf.reshape(t, [b, h // bh, bh, w // bw, bw, c])
    t = tf.transpose(t, [0, 1, 3, 2, 4, 5])
    return tf.reshape(t, [-1, bh * bw, c])

  def _unwindows(self, t, b, h, w, bh, bw):
    """Inverse of `_windows` for the padded size h x w."""
    c = t.shape[-1]
    t = tf.reshape(t, [b, h // bh, w // bw, bh, bw, c])
    t = tf.transpose(t, [0, 1, 3, 2, 4, 5])
    return tf.reshape(t, [b, h, w, c])

  def call(self, x):
    shape = tf.shape(x)
    b, h, w = shape[0], shape[1], shape[2]
    if self.block_size is None:
      bh, bw = h, w
    else:
      bh, bw = tf.minimum(h, self.block_size), tf.minimum(w, self.block_size)
    pad_h, pad_w = (-h) % bh, (-w) % bw
    paddings = [[0, 0], [0, pad_h], [0, pad_w], [0, 0]]
    theta, phi, g = (tf.pad(f(x), paddings)
                     for f in (self.theta, self.phi, self.g))
    valid = tf.pad(tf.ones([1, h, w, 1], x.dtype), paddings)
    valid = tf.tile(valid, [b, 1, 1, 1])
    theta, phi, g, valid = (self._windows(t, bh, bw)
                            for t in (theta, phi, g, valid))
    logits = tf.matmul(theta, phi, transpose_b=True)
    # Padded keys get the lowest value of the dtype (a sum with a large
    # constant would make 0 * inf = NaN in float16).
    logits = tf.where(tf.transpose(valid, [0, 2, 1]) > 0., logits,
                      logits.dtype.min)
    y = tf.matmul(tf.nn.softmax(logits, axis=-1), g)
    y = self._unwindows(y, b, h + pad_h, w + pad_w, bh, bw)[:, :h, :w, :]
    return x + self.w_z(y)

  def get_config(self):
    return dict(super().get_config(), filters=self.filters,
                reduction=self.reduction, block_size=self.block_size)
