"""Running a transform over a large image in tiles, so that peak memory grows
with the tile rather than with the image.

A tile is a `core` x `core` block of the input plus up to `margin` of context
on each side (clipped at the image border); the transform runs on the tile and
only the part of its output that belongs to the core is kept. Cores and
margins are multiples of the transforms' alignment (the sparse non-local
windows, at every NLAM position, and the strides), so that every non-local
window inside a core sees exactly the positions it sees in the whole image and
every strided convolution keeps its phase.

What this costs in exactness (measured in `tests/test_tiling.py` and stated in
the README):
- synthesis: exact up to float rounding. Its receptive field in the latent
  (the NLAM's mask and trunk convolutions, the residual blocks and the four
  upsamplings) is well inside one 16-latent margin, and the NLAM comes first,
  on the decoded latents themselves;
- analysis: the NLAM at H/16 follows the downsamplings, so the positions of a
  non-local window next to a core edge see a margin's worth of context less
  than in the whole image. y differs by small amounts near core edges; the
  file is an ordinary file (the decoder needs no tiling to read it).

Shapes: `x` is [1, H, W, C] with H and W multiples of `1 / scale` when
scale < 1; the output is [1, H * scale, W * scale, C'].
"""
import math

import tensorflow as tf

# Context each side of a tile, in image pixels, at least: one non-local window
# of the small and medium configurations (16 latents of 16 pixels).
MIN_MARGIN_PIXELS = 256
DEFAULT_TILE_PIXELS = 1024


def alignment_pixels(config):
  """Image pixels that tile offsets must be multiples of: the least common
  multiple of every NLAM's window in pixels and of the 64-pixel padding; None
  when the transforms have dense (whole-image) attention, which cannot tile."""
  factors = tuple(config.nlam_factors)
  if factors and config.nonlocal_block_size is None:
    return None
  align = 64
  for factor in factors:
    align = math.lcm(align, factor * config.nonlocal_block_size)
  return align


def tile_geometry(config, tile_pixels=DEFAULT_TILE_PIXELS):
  """(core, margin) in image pixels for `config`, or None (no tiling).

  tile_pixels is rounded up to the alignment; 0 or None turns tiling off.
  """
  align = alignment_pixels(config)
  if not tile_pixels or align is None:
    return None
  round_up = lambda v: -(-int(v) // align) * align
  return round_up(tile_pixels), round_up(MIN_MARGIN_PIXELS)


def _pieces(length, core, margin):
  """Tile starts along one axis -> (count, window start/end, keep start/end)
  as functions of the tile index (int32 scalars), all in input units."""
  count = (length + core - 1) // core

  def window(i):
    start, end = i * core, tf.minimum((i + 1) * core, length)
    low, high = tf.maximum(start - margin, 0), tf.minimum(end + margin, length)
    return low, high, start - low, end - low

  return count, window


def tiled(transform, x, core, margin, scale, channels):
  """transform applied to x in tiles (see the module docstring).

  transform: [1, h, w, C] -> [1, h * scale, w * scale, channels] (Python
  callable).
  x: [1, H, W, C]; core, margin: ints in x's pixels; scale: output pixels per
  input pixel (1/16 for the analysis, 16 for the synthesis).
  An x that fits one core runs untiled, as one call.
  """
  shape = tf.shape(x)
  height, width = shape[1], shape[2]
  rows, row_window = _pieces(height, core, margin)
  cols, col_window = _pieces(width, core, margin)
  out_units = lambda v: tf.cast(tf.cast(v, tf.float64) * scale, tf.int32)

  def tile(i, j):
    top, bottom, keep_top, keep_bottom = row_window(i)
    left, right, keep_left, keep_right = col_window(j)
    out = transform(x[:, top:bottom, left:right, :])
    return out[0, out_units(keep_top):out_units(keep_bottom),
               out_units(keep_left):out_units(keep_right), :]

  def row(i):
    # Pieces of one tile row, transposed so that TensorArray.concat (axis 0)
    # joins them along the width.
    def body(j, pieces):
      return j + 1, pieces.write(j, tf.transpose(tile(i, j), [1, 0, 2]))

    _, pieces = tf.while_loop(
        lambda j, _: j < cols, body,
        (0, tf.TensorArray(x.dtype, size=cols, infer_shape=False)),
        parallel_iterations=1)
    return tf.transpose(pieces.concat(), [1, 0, 2])

  def all_rows():
    def body(i, strips):
      return i + 1, strips.write(i, row(i))

    _, strips = tf.while_loop(
        lambda i, _: i < rows, body,
        (0, tf.TensorArray(x.dtype, size=rows, infer_shape=False)),
        parallel_iterations=1)
    return strips.concat()[None]

  out = tf.cond(tf.logical_and(rows == 1, cols == 1),
                lambda: transform(x), all_rows)
  return tf.ensure_shape(out, [1, None, None, channels])
