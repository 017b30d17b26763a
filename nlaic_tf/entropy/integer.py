"""Integer entropy parameters: exact on every machine, converted from float weights.

Everything that decides a latent's coding distribution (hyper synthesis up to
the features, 3D masked context, parameter MLP, scale-table index, mean) is
evaluated in fixed point, after Ballé, Johnston and Minnen, "Integer networks
for data compression with latent-variable models" (ICLR 2019):

- activations are integers a = floor(x * 2^ACTIVATION_BITS);
- each layer's kernel is rounded per output channel c to integers
  round(w * 2^e_c), e_c chosen so that the largest magnitude is below
  2^WEIGHT_BITS; the bias to round(b * 2^(ACTIVATION_BITS + e_c));
- a layer is im2col + matmul (no Winograd or FFT, whose intermediates are not
  integers) followed by floor(acc / 2^e_c): a power-of-two rescale; a
  convolution's im2col is built for BAND_ROWS output rows at a time, so that
  its memory grows with the band, not the image;
- ReLU and residual additions are exact on integers;
- the scale index counts the precomputed integer thresholds that the raw
  scale output reaches (softplus and the log-domain rounding folded into the
  thresholds), the mean is the integer mu_q and the latent volume holds
  symbol + mu_q / 2^ACTIVATION_BITS.

Integers are held in float64: every product and partial sum is an integer
below 2^53 (checked at run time, see `_exact`), so any summation order, any
blocking and any FMA give the same result. Float64 is computed by Eigen on
every CPU build (oneDNN and the AVX-512/AVX2 choice do not apply to it).

Conversion needs no data and no fine-tuning: the rounding errors are about
2^-12 of an activation's unit and 2^-13 of a weight's largest magnitude (see
docs/portability.md for the measured RD cost).

The hyper synthesis may contain only Conv2D, Conv2DTranspose (stride 2,
"same"), `ResidualBlock` and the float32 output cast. An NLAM (the `small`
configuration's hyper synthesis) has no integer form here: `IntegerParameters`
refuses it unless `float_layers=True`, which evaluates such layers in float
between two roundings, for measuring the RD cost only (not portable).
"""
import math

import numpy as np
import tensorflow as tf

from nlaic_tf.entropy.parameters import feature_rows
from nlaic_tf.layers import ResidualBlock

ACTIVATION_BITS = 12
WEIGHT_BITS = 13
# Smallest relative distance from a scale threshold to an integer
# (`scale_thresholds`): about 5e6 float64 ulps.
THRESHOLD_MARGIN = 1e-9
_EXACT_LIMIT = 2. ** 53
# Output rows per im2col band of a convolution: at 4K (latents 136 x 240) the
# 5x5x128 patches of a band take 16 * 240 * 3200 * 8 bytes = 98 MB, those of the
# whole image 835 MB.
BAND_ROWS = 16


def supports_integer(config):
  """Whether `IntegerParameters` converts a model of `config` exactly."""
  return not config.hyper_synthesis_nlam


def _exact(values, bound, name):
  """Asserts that `bound(values)` < 2^53, the limit of exact float64 integers."""
  return tf.debugging.Assert(
      bound < _EXACT_LIMIT,
      [f"nlaic: integer entropy parameters out of the exact range in {name}"])


class IntegerDense:
  """Integer affine map of the last axis: float kernel [..., in, out] -> fixed point.

  `__call__(a)`: a [n, in] integers (scale 2^ACTIVATION_BITS) -> [n, out]
  integers at the same scale, floor(a @ Wq + bq) / 2^e per column.
  """

  def __init__(self, kernel, bias, name, relu=False):
    kernel = np.asarray(kernel, np.float64)
    kernel = kernel.reshape(-1, kernel.shape[-1])
    largest = np.max(np.abs(kernel), axis=0, initial=0.)
    # frexp is exact (log2 is not on every libm): largest = m * 2^e, m in [1/2, 1).
    exponent = np.where(largest > 0, WEIGHT_BITS - np.frexp(largest)[1], 0)
    scale = np.ldexp(1., exponent)
    quantized = np.round(kernel * scale)
    bias = np.zeros(kernel.shape[1]) if bias is None else np.asarray(bias, np.float64)
    # |quantized| <= 2^WEIGHT_BITS: stored as int16 (a quarter of float64's bytes
    # in a SavedModel), widened to float64 where it is used.
    self.kernel = tf.constant(quantized.astype(np.int16))
    self.bias = tf.constant(np.round(bias * scale * 2. ** ACTIVATION_BITS),
                            tf.float64)
    self.inverse = tf.constant(np.ldexp(1., -exponent), tf.float64)
    self.out_channels = kernel.shape[1]
    self.column_l1 = float(np.max(np.sum(np.abs(quantized), axis=0)))
    self.bias_max = float(np.max(np.abs(self.bias.numpy()), initial=0.))
    self.name, self.relu = name, relu

  def __call__(self, a):
    bound = tf.reduce_max(tf.abs(a)) * self.column_l1 + self.bias_max
    with tf.control_dependencies([_exact(a, bound, self.name)]):
      out = tf.floor((tf.matmul(a, tf.cast(self.kernel, tf.float64)) + self.bias)
                     * self.inverse)
    return tf.maximum(out, 0.) if self.relu else out


def _patches(band, kernel_size):
  """[1, rows + 2p, w + 2p, c] (zero-padded) -> [rows*w, k*k*c], the values
  of each row in (dy, dx, channel) order."""
  patches = tf.image.extract_patches(band, [1, kernel_size, kernel_size, 1],
                                     [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
  return tf.reshape(patches, [-1, patches.shape[-1]])


def _banded_convolution(a, kernel_size, dense, band_rows):
  """'SAME' stride-1 convolution [1, h, w, c] -> [1, h, w, out] as `dense`
  over the im2col patches of `band_rows` output rows at a time (the last band
  may be shorter), so that the patches take k*k*c values per pixel of one
  band only; each band reads its rows plus the kernel's halo of p = k // 2."""
  p = kernel_size // 2
  shape = tf.shape(a)
  a = tf.pad(a, [[0, 0], [p, p], [p, p], [0, 0]])
  bands = (shape[1] + band_rows - 1) // band_rows

  def body(i, out):
    band = a[:, i * band_rows:(i + 1) * band_rows + 2 * p]
    return i + 1, out.write(i, dense(_patches(band, kernel_size)))

  out = tf.TensorArray(tf.float64, size=bands, infer_shape=False,
                       element_shape=[None, dense.out_channels])
  # One band at a time: bands in flight would each hold their patches.
  _, out = tf.while_loop(lambda i, _: i < bands, body, (0, out),
                         parallel_iterations=1)
  return tf.reshape(out.concat(), [1, shape[1], shape[2], dense.out_channels])


class IntegerConv2D:
  """Conv2D (stride 1, 'same') or Conv2DTranspose (stride 2, 'same') in integers.

  The transposed convolution is the stride-1 convolution, with the spatially
  flipped kernel, of the input with a zero inserted after every row and
  column (output 2h x 2w). Output rows are computed `band_rows` at a time
  (`_banded_convolution`): the same integers as one whole-image im2col.
  """

  def __init__(self, layer, relu=False, band_rows=BAND_ROWS):
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    self.transposed = isinstance(layer, tf.keras.layers.Conv2DTranspose)
    if self.transposed:  # [k, k, out, in] -> flipped [k, k, in, out]
      if tuple(layer.strides) != (2, 2) or layer.padding != "same":
        raise NotImplementedError("only stride-2 'same' transposed convolutions")
      kernel = np.transpose(kernel[::-1, ::-1], [0, 1, 3, 2])
    elif tuple(layer.strides) != (1, 1) or layer.padding != "same":
      raise NotImplementedError("only stride-1 'same' convolutions")
    self.kernel_size, self.in_channels = kernel.shape[0], kernel.shape[2]
    self.dense = IntegerDense(kernel, bias, layer.name, relu=relu)
    self.band_rows = int(band_rows)

  def __call__(self, a):
    # Decoded z arrives without a static channel count; the patches need one.
    a = tf.ensure_shape(a, [1, None, None, self.in_channels])
    shape = tf.shape(a)
    if self.transposed:
      zeros = tf.zeros_like(a)
      a = tf.reshape(tf.stack([a, zeros], 3),
                     [1, shape[1], 2 * shape[2], a.shape[-1]])
      a = tf.reshape(tf.stack([a, tf.zeros_like(a)], 2),
                     [1, 2 * shape[1], 2 * shape[2], a.shape[-1]])
      a = tf.pad(a, [[0, 0], [1, 0], [1, 0], [0, 0]])[:, :-1, :-1, :]
    return _banded_convolution(a, self.kernel_size, self.dense, self.band_rows)


class _IntegerResidual:
  def __init__(self, block):
    self.conv1 = IntegerConv2D(block.conv1, relu=True)
    self.conv2 = IntegerConv2D(block.conv2)

  def __call__(self, a):
    return a + self.conv2(self.conv1(a))


class _FloatLayer:
  """A float layer between two roundings: for RD measurements only."""

  def __init__(self, layer):
    self.layer = layer

  def __call__(self, a):
    x = tf.cast(a * 2. ** -ACTIVATION_BITS, tf.float32)
    return tf.floor(tf.cast(self.layer(x), tf.float64) * 2. ** ACTIVATION_BITS)


def _convert(layer, float_layers):
  if isinstance(layer, (tf.keras.layers.Conv2D, tf.keras.layers.Conv2DTranspose)):
    activation = getattr(layer.activation, "__name__", "linear")
    if activation not in ("linear", "relu"):
      raise NotImplementedError(f"activation {activation} of {layer.name}")
    return IntegerConv2D(layer, relu=activation == "relu")
  if isinstance(layer, ResidualBlock):
    return _IntegerResidual(layer)
  if isinstance(layer, tf.keras.layers.Activation):  # the float32 output cast
    return None
  if float_layers:
    return _FloatLayer(layer)
  raise NotImplementedError(
      f"{type(layer).__name__} ({layer.name}) has no integer implementation; "
      "configurations with hyper_synthesis_nlam=True use the float path")


def scale_thresholds(scale_table):
  """float64 [num_scales - 1]: integer raw-scale thresholds of the table indexes.

  Index i >= 1 is chosen iff softplus(raw) >= exp(log_min + (i - 1/2) * step),
  i.e. raw >= log(expm1(that)); in units of 2^-ACTIVATION_BITS, rounded up.
  """
  edges = np.exp(scale_table.log_min +
                 (np.arange(1, scale_table.num_scales) - .5) * scale_table.step)
  raw = (edges + np.log(-np.expm1(-edges))) * 2. ** ACTIVATION_BITS  # log(expm1)
  # exp, log and expm1 may differ between libms and CPUs in the last bits; the
  # thresholds must not, so each must lie millions of ulps from an integer
  # (the shipped tables: at least 2e-7 of its value).
  close = np.abs(raw - np.round(raw)) < THRESHOLD_MARGIN * np.abs(raw)
  if np.any(close):
    raise ValueError(f"scale table thresholds {raw[close]} lie too close to an "
                     "integer to be computed identically on every machine; "
                     "change scale_min, scale_max or num_scales slightly")
  return np.ceil(raw)


class IntegerParameters:
  """Entropy parameters of a trained `NLAIC` in exact integer arithmetic.

  Implements the interface of `nlaic_tf.entropy.parameters`. The fixed-point
  weights are derived from the model's float weights when this object is
  built (rounding only: deterministic on every machine).
  """

  integer = True
  dtype = tf.float64

  def __init__(self, model, float_layers=False):
    self.config = model.config
    context = model.context
    self.offsets = context.offsets
    self.kernel_size = model.config.context_kernel
    self.layers = [converted for converted in
                   (_convert(layer, float_layers)
                    for layer in model.hyper_synthesis.layers)
                   if converted is not None]
    self.portable = not any(isinstance(layer, _FloatLayer) for layer in self.layers)
    masked = context.masked_conv
    self.context = IntegerDense(masked.causal_matrix().numpy(),
                                masked.bias.numpy(), "masked_conv")
    self.mlp = [IntegerDense(layer.kernel.numpy(), layer.bias.numpy(), layer.name,
                             relu=i < len(context.mlp) - 1)
                for i, layer in enumerate(context.mlp)]
    self.thresholds = tf.constant(scale_thresholds(model.scale_table), tf.float64)

  def features(self, z_hat):
    """z_hat [1, h/4, w/4, N2] (integers) -> [M*h*w, K] integer features."""
    a = tf.cast(z_hat, tf.float64) * 2. ** ACTIVATION_BITS
    for layer in self.layers:
      a = layer(a)
    return feature_rows(a, self.config)

  def prepare(self):
    return ()

  def __call__(self, patches, features, prepared):
    """patches [n, taps] float64 (symbol + mu), features [n, K] ->
    (indexes int32 [n], mu float64 [n], a multiple of 2^-ACTIVATION_BITS)."""
    del prepared
    n = tf.shape(features)[0]
    if len(self.offsets):
      context = self.context(patches * 2. ** ACTIVATION_BITS)
    else:
      context = (tf.zeros([n, 1], tf.float64) +
                 tf.floor(self.context.bias * self.context.inverse))
    a = tf.concat([context, features], -1)
    for layer in self.mlp:
      a = layer(a)
    mu, raw_scale = tf.unstack(a, axis=-1)
    indexes = tf.reduce_sum(
        tf.cast(raw_scale[:, None] >= self.thresholds[None, :], tf.int32), -1)
    return indexes, mu * 2. ** -ACTIVATION_BITS
