"""Causal (masked) 3D convolution over a latent volume [B, C, H, W, 1]."""
import numpy as np
import tensorflow as tf


def causal_mask(kernel_size, mask_type="A"):
  """Mask [k, k, k] that keeps kernel taps before the centre in (c, h, w) order.

  Type A excludes the centre (first layer: an element never sees itself);
  type B includes it (later layers).
  """
  if mask_type not in ("A", "B"):
    raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
  k = int(kernel_size)
  if k < 1 or k % 2 == 0:
    raise ValueError(f"kernel_size must be odd and positive, got {k}")
  mask = np.zeros(k ** 3, np.float32)
  centre = (k ** 3) // 2
  mask[:centre + (mask_type == "B")] = 1.
  return mask.reshape(k, k, k)


def causal_offsets(kernel_size, mask_type="A"):
  """int32 [n, 3]: (dc, dh, dw) of the taps kept by `causal_mask`, in raster order."""
  mask = causal_mask(kernel_size, mask_type)
  p = int(kernel_size) // 2
  return (np.argwhere(mask > 0) - p).astype(np.int32)


@tf.keras.utils.register_keras_serializable(package="nlaic")
class MaskedConv3D(tf.keras.layers.Layer):
  """3D convolution whose kernel sees only earlier elements in coding order.

  The latent [B, H, W, C] is viewed as a one-feature volume [B, C, H, W, 1]
  (depth = channels). Coding order is channel, then row, then column.
  Output: [B, C, H, W, filters], zero padding ('SAME').

  `causal_matrix()` gives the same kernel as a [n_taps, filters] matrix over
  the taps of `causal_offsets`, for computing outputs at chosen positions from
  gathered neighbourhoods (the wavefront decoder).
  """

  def __init__(self, filters, kernel_size=5, mask_type="A", **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    self.kernel_size = int(kernel_size)
    self.mask_type = mask_type
    self._mask = causal_mask(self.kernel_size, mask_type)
    self.offsets = causal_offsets(self.kernel_size, mask_type)

  def build(self, input_shape):
    k = self.kernel_size
    self.kernel = self.add_weight(
        "kernel", [k, k, k, 1, self.filters],
        initializer=tf.keras.initializers.VarianceScaling(
            2.0 * k ** 3 / max(1, len(self.offsets))))
    self.bias = self.add_weight("bias", [self.filters], initializer="zeros")
    super().build(input_shape)

  def call(self, volume):
    kernel = self.kernel * self._mask[..., None, None]
    out = tf.nn.conv3d(volume, kernel, [1, 1, 1, 1, 1], "SAME")
    return out + self.bias

  def causal_matrix(self):
    """[n_taps, filters] kernel rows for the taps in `self.offsets`."""
    p = self.kernel_size // 2
    return tf.gather_nd(self.kernel[..., 0, :], self.offsets + p)

  def get_config(self):
    return dict(super().get_config(), filters=self.filters,
                kernel_size=self.kernel_size, mask_type=self.mask_type)
