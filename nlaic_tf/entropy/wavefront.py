"""Wavefront-parallel coding of a latent volume with a causal 3D context.

Element (c, h, w) of a [C, H, W] volume is coded at step t = a*c + b*h + w.
For a type-A k x k x k mask (p = k // 2) every causal neighbour
(c + dc, h + dh, w + dw) has a smaller t when b = p + 1 and a = p * (b + 1) + 1
(k=5: t = 9c + 3h + w; k=11: t = 36c + 6h + w), so all elements of one step
can be coded together: a*(C-1) + b*(H-1) + W sequential steps instead of C*H*W.
Raster order (a, b) = (H*W, W) is the one-element-per-step special case.

The elements of a step are computed in closed form when the step runs
(`WavefrontSchedule.positions`), so nothing the size of the volume is sorted
or enumerated ahead of the loop.

The channels coded at one step form a contiguous range of at most
`WavefrontSchedule.channels_per_step` channels, and the context reads only
channels c - p .. c, so the loop keeps a ring of that many + p channel planes
(channel c in slot c mod ring size) instead of the whole volume: each step
copies the ring, not C planes.

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


def _ceil_div(x, y):
  """ceil(x / y) of int32 tensors, y > 0 (x may be negative)."""
  return -((-x) // y)


class WavefrontSchedule:
  """Coding order of a [channels, height, width] volume (dynamic sizes allowed).

  Attributes (int32 scalar tensors):
    shape: (C, H, W).
    num_steps: number of sequential steps.
    channels_per_step: an upper bound of the distinct channels one step codes.
    max_count: an upper bound of the elements coded in one step.
  `positions(t)` gives the elements of step t.
  """

  def __init__(self, kernel_size, channels, height, width, raster=False):
    self.kernel_size = int(kernel_size)
    self.shape = tuple(tf.cast(s, tf.int32) for s in (channels, height, width))
    c, h, w = self.shape
    if raster:
      self.coefficients = (h * w, w, 1)
    else:
      self.coefficients = tuple(
          tf.constant(v, tf.int32) for v in wavefront_coefficients(kernel_size))
    a, b, d = self.coefficients
    self.all_at_once = wavefront_coefficients(kernel_size)[0] == 0 and not raster
    if self.all_at_once:
      self.num_steps = tf.constant(1, tf.int32)
      self.channels_per_step = c
      self.max_count = c * h * w
    else:
      self.num_steps = a * (c - 1) + b * (h - 1) + d * (w - 1) + 1
      # Channel c meets steps a*c .. a*c + b*(H-1) + (W-1), rows likewise
      # (d = 1: a row meets a step in at most one element).
      self.channels_per_step = tf.minimum(c, (b * (h - 1) + w - 1) // a + 1)
      self.max_count = self.channels_per_step * tf.minimum(h, (w - 1) // b + 1)

  def positions(self, t):
    """Raster indices (c*H*W + h*W + w, int32 [n], ascending) of the elements
    coded at step `t`, and their (c, h, w) as three int32 [n]."""
    c, h, w = self.shape
    if self.all_at_once:
      index = tf.range(c * h * w)
      return index, index // (h * w), index // w % h, index % w
    a, b, _ = self.coefficients
    # Channels whose elements can reach step t, then in each the rows
    # 0 <= t - a*c - b*row < W.
    first = tf.maximum(0, _ceil_div(t - b * (h - 1) - (w - 1), a))
    last = tf.minimum(c - 1, t // a)
    channels = tf.range(first, last + 1)
    rest = t - a * channels
    rows = tf.ragged.range(tf.maximum(0, _ceil_div(rest - (w - 1), b)),
                           tf.minimum(h - 1, rest // b) + 1)
    row = rows.flat_values
    channel = tf.gather(channels, rows.value_rowids())
    column = t - a * channel - b * row
    return (channel * h + row) * w + column, channel, row, column


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
  # Step t codes channels first..last (at most channels_per_step of them) and
  # reads channels first - p .. last at positions already coded, which no lower
  # channel of the same slot can have overwritten; no channel above last is
  # coded yet. So with this many slots (channel i in slot i mod slots) every
  # read finds its channel's value, and zeros for channels -p..-1.
  slots = schedule.channels_per_step + p
  offsets = tf.constant(parameters.offsets)
  prepared = parameters.prepare()

  def ring_index(channel, row, column):
    """Flat index in the ring [slots, H+2p, W+2p] of (channel, row, column),
    int32 tensors of one shape: channel >= -p, row in [-p, H+p), column in
    [-p, W+p)."""
    return ((channel % slots) * hp + row + p) * wp + column + p

  def body(t, handle, ring, coded, values):
    positions, channel, row, column = schedule.positions(t)
    patches = tf.gather(ring, ring_index(channel[:, None] + offsets[None, :, 0],
                                         row[:, None] + offsets[None, :, 1],
                                         column[:, None] + offsets[None, :, 2]))
    indexes, mu = parameters(patches, tf.gather(features, positions), prepared)
    handle, symbols = code_step(handle, indexes, mu, positions)
    y_hat = tf.cast(symbols, mu.dtype) + mu
    # The context reads the ring, so every step writes a new one (a copy);
    # what is only returned goes to TensorArrays (no copy per step).
    ring = tf.tensor_scatter_nd_update(
        ring, ring_index(channel, row, column)[:, None], y_hat)
    return (t + 1, handle, ring,
            coded.write(t, tf.stack([positions, indexes, symbols], 1)),
            values.write(t, tf.cast(y_hat, tf.float32)))

  ring = tf.zeros([slots * hp * wp], parameters.dtype)
  coded = tf.TensorArray(tf.int32, size=schedule.num_steps, infer_shape=False,
                         element_shape=[None, 3])
  values = tf.TensorArray(tf.float32, size=schedule.num_steps, infer_shape=False,
                          element_shape=[None])
  _, handle, _, coded, values = tf.while_loop(
      lambda t, *_: t < schedule.num_steps, body,
      (0, handle, ring, coded, values))
  coded = coded.concat()
  # Back to raster order.
  y_hat = tf.scatter_nd(coded[:, :1], values.concat(), [c * h * w])
  coded = tf.scatter_nd(coded[:, :1], coded[:, 1:], [c * h * w, 2])
  return handle, y_hat, coded[:, 0], coded[:, 1]
