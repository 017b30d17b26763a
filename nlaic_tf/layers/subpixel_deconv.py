"""Stride-2 transposed convolution computed as a stride-1 convolution followed
by depth-to-space (sub-pixel), with the weights of a Keras `Conv2DTranspose`.

Why: TensorFlow's CPU kernels for `Conv2DTranspose` (the gradient of a
convolution) build a column buffer of [h * w, k * k * C_out] for an h x w
input, several times the layer's output and growing with the image
(measured sizes: docs/benchmarks.md, "Large images"). A stride-1 convolution
needs no such buffer.

The two are the same linear map. For kernel size k (odd), stride 2 and 'same'
padding, output row 2i + a (phase a in {0, 1}) is the sum over kernel rows t
with (a + p - t) even, p = (k - 2) // 2, of input row i + (a + p - t) / 2 times
kernel row t (zero outside the input). So output phase (a, b) is a stride-1
convolution of the input with a (2r + 1) x (2r + 1) kernel (r = 1 for k = 5)
that holds the taps of that phase and zeros elsewhere; the four phases are the
four channel groups that `tf.nn.depth_to_space` interleaves. Results equal
`Conv2DTranspose`'s up to float rounding (summation order), which is why the
hyper synthesis, whose float output decides the entropy parameters of files
already written, keeps Keras' layer.

Variables, names and checkpoints are exactly those of `Conv2DTranspose`
(kernel [k, k, C_out, C_in], bias [C_out]); only `call` differs.
"""
import numpy as np
import tensorflow as tf


def phase_taps(kernel_size):
  """int32 [2, 2r + 1]: for output phase a and input offset u = index - r,
  the kernel row that connects them, or `kernel_size` where none does."""
  k = int(kernel_size)
  p = (k - 2) // 2
  offsets = {(a, (a + p - t) // 2): t
             for a in (0, 1) for t in range(k) if (a + p - t) % 2 == 0}
  r = max(abs(u) for _, u in offsets)
  table = np.full([2, 2 * r + 1], k, np.int32)
  for (a, u), t in offsets.items():
    table[a, u + r] = t
  return table


@tf.keras.utils.register_keras_serializable(package="nlaic")
class SubpixelConv2DTranspose(tf.keras.layers.Conv2DTranspose):
  """`Conv2DTranspose(filters, kernel_size, strides=2, padding="same")` with a
  bounded-memory kernel (see the module docstring).

  Input [B, h, w, C_in] -> output [B, 2h, 2w, filters].
  """

  def __init__(self, filters, kernel_size, **kwargs):
    kwargs.setdefault("strides", 2)
    kwargs.setdefault("padding", "same")
    super().__init__(filters, kernel_size, **kwargs)
    if (tuple(self.strides) != (2, 2) or self.padding != "same"
        or self.kernel_size[0] != self.kernel_size[1]
        or self.kernel_size[0] % 2 == 0 or self.data_format != "channels_last"
        or tuple(self.dilation_rate) != (1, 1) or self.output_padding is not None):
      raise ValueError("SubpixelConv2DTranspose: square odd kernel, stride 2, "
                       "'same' padding, channels_last only")
    self._taps = phase_taps(self.kernel_size[0])

  def subpixel_kernel(self):
    """[2r + 1, 2r + 1, C_in, 4 * C_out]: channel (2a + b) * C_out + c is
    output channel c at phase (a, b)."""
    # [k + 1, k + 1, C_out, C_in]: tap index k reads zeros.
    kernel = tf.pad(self.kernel, [[0, 1], [0, 1], [0, 0], [0, 0]])
    kernel = tf.gather(kernel, self._taps, axis=0)  # [2, n, k + 1, C_out, C_in]
    kernel = tf.gather(kernel, self._taps, axis=2)  # [2, n, 2, n, C_out, C_in]
    n = self._taps.shape[1]
    kernel = tf.transpose(kernel, [1, 3, 5, 0, 2, 4])  # [n, n, C_in, 2, 2, C_out]
    return tf.reshape(kernel, [n, n, kernel.shape[2], 4 * self.filters])

  def call(self, inputs):
    outputs = tf.nn.conv2d(inputs, self.subpixel_kernel(), 1, "SAME")
    outputs = tf.nn.depth_to_space(outputs, 2)
    if self.use_bias:
      outputs = tf.nn.bias_add(outputs, self.bias)
    if self.activation is not None:
      outputs = self.activation(outputs)
    return outputs
