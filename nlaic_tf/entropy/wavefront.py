"""Wavefront-parallel coding of a latent volume with a causal 3D context.

Element (c, h, w) of a [C, H, W] volume is coded at step t = a*c + b*h + w.
For a type-A k x k x k mask (p = k // 2) every causal neighbour
(c + dc, h + dh, w + dw) has a smaller t when b = p + 1 and a = p * (b + 1) + 1
(k=5: t = 9c + 3h + w; k=11: t = 36c + 6h + w), so all elements of one step
can be coded together: a*(C-1) + b*(H-1) + W sequential steps instead of C*H*W.
Raster order (a, b) = (H*W, W) is the one-element-per-step special case.

`code_latents` is the single loop that encoder and decoder both run: the
entropy parameters of every element are computed with the same ops, shapes
and order on both sides, only the range-coder call differs.
"""
import tensorflow as tf


def wavefront_coefficients(kernel_size):
  """(a, b, d) of t = a*c + b*h + d*w for a type-A mask of `kernel_size`.

  kernel_size 1 has no causal taps (a mean-scale hyperprior without context):
  every element is coded in a single step.
  """
  p = int(kernel_size) // 2
  if p == 0:
    return 0, 0, 0
  b = p + 1
  return p * (b + 1) + 1, b, 1


class WavefrontSchedule:
  """Coding order of a [channels, height, width] volume (dynamic sizes allowed).

  Attributes (int32 tensors):
    order: [C*H*W] raster indices (c*H*W + h*W + w) sorted by step.
    starts, counts: [num_steps] slice of `order` coded at each step.
    num_steps: scalar.
  """

  def __init__(self, kernel_size, channels, height, width, raster=False):
    self.kernel_size = int(kernel_size)
    self.shape = tuple(tf.cast(s, tf.int32) for s in (channels, height, width))
    c, h, w = self.shape
    a, b, d = (h * w, w, 1) if raster else wavefront_coefficients(kernel_size)
    grid_c, grid_h, grid_w = tf.meshgrid(
        tf.range(c), tf.range(h), tf.range(w), indexing="ij")
    step = tf.reshape(a * grid_c + b * grid_h + d * grid_w, [-1])
    self.num_steps = a * (c - 1) + b * (h - 1) + d * (w - 1) + 1
    self.order = tf.argsort(step, stable=True)
    self.counts = tf.math.bincount(step, minlength=self.num_steps,
                                   maxlength=self.num_steps, dtype=tf.int32)
    self.starts = tf.cumsum(self.counts, exclusive=True)


def code_latents(parameters, schedule, features, code_step, handle):
  """Codes a volume element by element in `schedule` order.

  Args:
    parameters: `FloatParameters` or `IntegerParameters` (see
      `nlaic_tf.entropy.parameters`).
    schedule: `WavefrontSchedule` of the volume [C, H, W].
    features: [C*H*W, K] hyperprior features in raster order
      (`parameters.features`).
    code_step: fn(handle, indexes [n] int32, mu [n], positions [n] int32)
      -> (handle, symbols [n] int32); the only encoder/decoder difference.
    handle: range encoder or decoder handle.

  Returns:
    (handle, y_hat [C*H*W] float32, indexes [C*H*W] int32, symbols
    [C*H*W] int32), all in raster order; y_hat = symbol + mu.
  """
  p = schedule.kernel_size // 2
  c, h, w = schedule.shape
  hp, wp = h + 2 * p, w + 2 * p
  grid_c, grid_h, grid_w = tf.meshgrid(
      tf.range(c), tf.range(h), tf.range(w), indexing="ij")
  padded_index = tf.reshape(((grid_c + p) * hp + grid_h + p) * wp + grid_w + p,
                            [-1])
  offsets = tf.constant(parameters.offsets)
  taps = (offsets[:, 0] * hp + offsets[:, 1]) * wp + offsets[:, 2]
  prepared = parameters.prepare()

  def body(t, handle, volume, coded):
    positions = tf.slice(schedule.order, [schedule.starts[t]],
                         [schedule.counts[t]])
    centres = tf.gather(padded_index, positions)
    patches = tf.gather(volume, centres[:, None] + taps[None, :])
    indexes, mu = parameters(patches, tf.gather(features, positions), prepared)
    handle, symbols = code_step(handle, indexes, mu, positions)
    y_hat = tf.cast(symbols, mu.dtype) + mu
    # The context reads the volume, so every step writes a new one (a copy);
    # what is only returned goes to a TensorArray (no copy per step).
    volume = tf.tensor_scatter_nd_update(volume, centres[:, None], y_hat)
    return t + 1, handle, volume, coded.write(t, tf.stack([indexes, symbols], 1))

  volume = tf.zeros([(c + 2 * p) * hp * wp], parameters.dtype)
  coded = tf.TensorArray(tf.int32, size=schedule.num_steps, infer_shape=False,
                         element_shape=[None, 2])
  _, handle, volume, coded = tf.while_loop(
      lambda t, *_: t < schedule.num_steps, body, (0, handle, volume, coded))
  # Steps in order are the elements in schedule order: back to raster order.
  coded = tf.scatter_nd(schedule.order[:, None], coded.concat(), [c * h * w, 2])
  y_hat = tf.cast(tf.gather(volume, padded_index), tf.float32)
  return handle, y_hat, coded[:, 0], coded[:, 1]
