"""Running a transform over a large image in tiles, so that peak memory grows
with the tile rather than with the image, with the untiled result.

A transform of this package is a list of layers (`transforms.apply_layers`).
`TiledTransform` splits it into runs, each NLAM alone and the local layers
between them (convolutions, residual blocks, strided up- and downsamplings,
per-channel modulations), and takes each run over the whole feature map in
tiles: a `core` block plus up to `margin` of context on each side (clipped at
the map's border), keeping only the output that belongs to the core.

- A local run's margin covers its reach (`reach`), so every kept output
  position sees exactly the inputs it sees untiled. Cores and margins are
  multiples of the run's total stride, so that every strided convolution keeps
  its phase. Its core is `tile_pixels` image pixels square: the
  full-resolution stages, whose feature maps are the largest, are bounded by
  the tile (their tiles overlap by the small reach of convolutions only).
- An NLAM run's cores and margins are multiples of its sparse non-local window
  (so every window inside a tile is one of the whole map's windows, complete),
  with a margin of at least one window and the reach of its residual blocks.
  Its core holds `tile_pixels / 2` positions square: NLAMs sit at H/16 (or H/4)
  where a whole 8K map fits two cores. Dense attention (no window) runs untiled.

So tiles change results by float rounding only (a convolution over a tile of
another shape may sum in another order); `tests/test_tiling.py` checks it.
Between runs the whole feature map is held: for the `small` configuration at
3840x2160 the largest is y itself (136x240x128 floats, 17 MB).

Shapes: inputs are [1, H, W, C] with H and W multiples of the transform's
total stride (the codec pads images to 64); the output is
[1, H * scale, W * scale, C'].
"""
import dataclasses
import math
from typing import Optional, Tuple

import tensorflow as tf

from nlaic_tf.layers import NLAM, RateModulation, ResidualBlock
from nlaic_tf.transforms.main import apply_layers

# Image pixels of a tile's core (square) in the local runs.
DEFAULT_TILE_PIXELS = 512


def _round_up(value, multiple):
  return -(-int(math.ceil(value)) // multiple) * multiple


def reach(layers):
  """(radius, scale) of a run of local layers.

  radius: an output position depends only on input positions at most this
  many input positions away (an upper bound, rounded up); scale: output
  positions per input position. Raises ValueError for a layer that is not
  local (an NLAM) or unknown here.
  """
  radius, step = 0., 1.  # step: input positions per position of the current map
  for layer in layers:
    if isinstance(layer, ResidualBlock):  # two stride-1 convolutions
      radius += 2 * (layer.kernel_size // 2) * step
    elif isinstance(layer, tf.keras.layers.Conv2DTranspose):
      k, s = layer.kernel_size[0], layer.strides[0]
      radius += -(-(k // 2) // s) * step  # (a stride-1 conv of the input)
      step /= s
    elif isinstance(layer, tf.keras.layers.Conv2D):
      k, s, d = layer.kernel_size[0], layer.strides[0], layer.dilation_rate[0]
      radius += ((k // 2) * d + s - 1) * step  # "same" pads one less on the left
      step *= s
    elif not isinstance(layer, (RateModulation, tf.keras.layers.Activation)):
      raise ValueError(f"tiling: no known reach for layer {layer.name} "
                       f"({type(layer).__name__})")
  return math.ceil(radius), 1. / step


@dataclasses.dataclass(frozen=True)
class Run:
  """Consecutive layers taken over the map in tiles of `core` + `margin`
  input positions (core None: untiled); scale: output per input positions;
  channels: of the output."""
  layers: Tuple[tf.keras.layers.Layer, ...]
  core: Optional[int]
  margin: int
  scale: float
  channels: int


def plan(layers, tile_pixels, input_pixels):
  """Splits `layers` into `Run`s with their tile sizes.

  tile_pixels: core of the local runs in image pixels (0 or None: untiled);
  input_pixels: image pixels per position of the transform's input (1 for
  the analysis, 16 for the synthesis).
  """
  runs, local = [], []
  pixels = float(input_pixels)  # image pixels per position of the current map
  channels = None

  def close_local():
    nonlocal pixels
    if not local:
      return
    radius, scale = reach(local)
    align = max(1, round(1. / scale))  # the run's total stride
    core = _round_up(tile_pixels / pixels, align) if tile_pixels else None
    runs.append(Run(tuple(local), core, _round_up(radius, align), scale,
                    channels))
    pixels /= scale
    local.clear()

  for layer in layers:
    channels = getattr(layer, "filters", channels)
    if isinstance(layer, (RateModulation, tf.keras.layers.Activation)) and (
        runs and not local):
      # Per-position layers after an NLAM join its run.
      runs[-1] = dataclasses.replace(runs[-1], layers=runs[-1].layers + (layer,))
    elif not isinstance(layer, NLAM):
      local.append(layer)
    else:
      close_local()
      window = layer.block_size
      if not tile_pixels or window is None:
        runs.append(Run((layer,), None, 0, 1., channels))
        continue
      radius, _ = reach(layer.trunk + layer.mask)
      runs.append(Run((layer,), _round_up(tile_pixels / 2, window),
                      _round_up(max(radius, 1), window), 1., channels))
  close_local()
  return tuple(runs)


class TiledTransform:
  """A transform's layers applied run by run in tiles (see the module doc).

  transform: a built transform of this package (`tf.keras.Sequential` of
  layers, as `transforms.analysis_transform` makes).
  """

  def __init__(self, transform, tile_pixels=DEFAULT_TILE_PIXELS, input_pixels=1):
    self.runs = plan(transform.layers, tile_pixels, input_pixels)

  def fits_untiled(self, height, width):
    """Whether an input of height x width positions runs untiled in every
    run (no larger than two of the run's cores each way), as `tiled` decides
    in the graph."""
    for run in self.runs:
      if run.core is not None and max(height, width) > 2 * run.core:
        return False
      height, width = round(height * run.scale), round(width * run.scale)
    return True

  def __call__(self, x, quality, prepare=None, finish=None, dtype=tf.float32,
               untiled=False):
    """x [1, H, W, C], quality [1] -> [1, H * scale, W * scale, C'].

    prepare: applied to each tile of the first run's input (e.g. uint8 pixels
    to floats), finish: to each tile of the last run's output, of `dtype`
    (e.g. floats to uint8 pixels), so that the whole image is only ever held
    in the small type. untiled: every run as one call, without the tiling
    loops in the graph: what the graph computes for an x that
    `fits_untiled`, in a graph that traces and starts faster.
    """
    last = len(self.runs) - 1
    for i, run in enumerate(self.runs):
      def transform(t, run=run, i=i):
        if i == 0 and prepare is not None:
          t = prepare(t)
        t = apply_layers(run.layers, t, quality)
        return finish(t) if i == last and finish is not None else t

      x = tiled(transform, x, None if untiled else run.core, run.margin,
                run.scale, run.channels, dtype if i == last else tf.float32)
    return x


def _pieces(length, core, margin):
  """Tile starts along one axis -> (count, window start/end, keep start/end)
  as functions of the tile index (int32 scalars), all in input units."""
  count = (length + core - 1) // core

  def window(i):
    start, end = i * core, tf.minimum((i + 1) * core, length)
    low, high = tf.maximum(start - margin, 0), tf.minimum(end + margin, length)
    return low, high, start - low, end - low

  return count, window


def tiled(transform, x, core, margin, scale, channels, dtype=tf.float32):
  """transform applied to x in tiles of `core` + `margin` (see the module doc).

  transform: [1, h, w, C] -> [1, h * scale, w * scale, C'] of `dtype`
  (Python callable). Only the tiles' outputs are stitched.
  x: [1, H, W, C]; core, margin: ints in x's positions; scale: output
  positions per input position; channels: C'. An x no larger than two cores
  each way (or core None) runs untiled, as one call: its tiles would overlap
  more than they save (a Kodak image at the default 512-pixel cores).
  """
  if core is None:
    return transform(x)
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
        (0, tf.TensorArray(dtype, size=cols, infer_shape=False)),
        parallel_iterations=1)
    return tf.transpose(pieces.concat(), [1, 0, 2])

  def all_rows():
    def body(i, strips):
      return i + 1, strips.write(i, row(i))

    _, strips = tf.while_loop(
        lambda i, _: i < rows, body,
        (0, tf.TensorArray(dtype, size=rows, infer_shape=False)),
        parallel_iterations=1)
    return strips.concat()[None]

  out = tf.cond(tf.logical_and(height <= 2 * core, width <= 2 * core),
                lambda: transform(x), all_rows)
  return tf.ensure_shape(out, [1, None, None, channels])
