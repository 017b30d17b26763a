"""Tiled transforms: large images in bounded memory, results as without tiles."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import smooth_image
from nlaic_tf.layers import NLAM
from nlaic_tf.models.codec import NLAICCodec
from nlaic_tf.transforms import apply_layers
from nlaic_tf.transforms.tiling import plan, reach, tiled


def test_plan_splits_at_the_nlams(tiny_codec):
  model = tiny_codec.model  # NLAMs at H/16 with 2-latent windows
  analysis = plan(model.analysis.layers, 512, 1)
  assert [type(run.layers[0]) is NLAM for run in analysis] == [False, True]
  front, nlam = analysis
  assert (front.core, front.scale, front.margin % 16) == (512, 1 / 16, 0)
  assert nlam.core % 2 == 0 and nlam.margin >= 2 and nlam.margin % 2 == 0
  assert nlam.layers[-1].name == "y"  # the float32 output joins the NLAM's run
  synthesis = plan(model.synthesis.layers, 512, 16)
  assert [(run.core, run.scale, run.channels) for run in synthesis] == [
      (256, 1., 8), (32, 16., 3)]
  assert all(run.core is None for run in plan(model.synthesis.layers, 0, 16))


@pytest.mark.parametrize("transform,index", [("analysis", 0), ("synthesis", 1)])
def test_reach_bounds_what_an_output_depends_on(tiny_codec, transform, index):
  """The gradient of one output position reaches no input position farther
  than `reach` says (random weights: every tap is nonzero)."""
  model = tiny_codec.model
  run = plan(getattr(model, transform).layers, 512, 1)[index]
  radius, scale = reach(run.layers)
  size, channels = (64, 3) if scale < 1 else (8, 8)
  x = tf.random.stateless_normal([1, size, size, channels], [4, 2])
  out_pos = int(size * scale) // 2
  with tf.GradientTape() as tape:
    tape.watch(x)
    out = apply_layers(run.layers, x, tf.constant([1.]))
    value = tf.reduce_sum(out[0, out_pos, out_pos])
  reached = np.argwhere(np.abs(tape.gradient(value, x)[0].numpy()).sum(-1) > 0)
  centre = out_pos / scale
  assert reached.size and np.abs(reached - centre).max() <= radius
  # The bound is not loose by more than a convolution's width.
  assert np.abs(reached - centre).max() >= radius - 3 * max(1., 1 / scale)


def test_tiles_reassemble_a_local_transform_exactly():
  """A 3x3 box filter with 2x upsampling, tiled with a margin wider than its
  reach, equals the untiled result, including ragged last tiles."""
  def transform(t):
    t = tf.nn.avg_pool2d(tf.pad(t, [[0, 0], [1, 1], [1, 1], [0, 0]], "SYMMETRIC"),
                         3, 1, "VALID")
    return tf.repeat(tf.repeat(t, 2, axis=1), 2, axis=2)

  x = tf.random.stateless_uniform([1, 37, 53, 2], [1, 2])
  whole = transform(x)
  for core, margin in ((8, 4), (16, 8), (64, 4)):
    out = tiled(transform, x, core, margin, 2., 2)
    assert out.shape == whole.shape
    # Tiles differ from the whole only where the symmetric padding of a tile
    # edge reaches into its core, which a margin >= 1 excludes.
    np.testing.assert_allclose(out.numpy(), whole.numpy(), atol=1e-6)


@pytest.fixture(scope="module")
def codecs(tiny_codec):
  # 64-pixel cores: the analysis front runs in 11 x 11 tiles, the NLAMs and
  # the synthesis in tiles of their own.
  return NLAICCodec(tiny_codec.model, tile_pixels=64), NLAICCodec(
      tiny_codec.model, tile_pixels=0)


def test_tiled_codec_matches_the_untiled_one(codecs):
  tiled_codec, whole_codec = codecs
  assert tiled_codec.analysis.runs[0].core == 64
  assert all(run.core is None for run in whole_codec.analysis.runs)
  image = smooth_image(650, 700, seed=3)  # clipped margins, ragged last tiles
  quality = tf.constant(1.)
  ys = [codec._analyze(image, quality).numpy() for codec in codecs]
  np.testing.assert_allclose(ys[0], ys[1], atol=1e-4)  # float rounding only
  files = [codec.compress(image, np.float32(1.)).numpy() for codec in codecs]
  for data in files:
    a = tiled_codec.decompress(data).numpy().astype(int)
    b = whole_codec.decompress(data).numpy().astype(int)
    assert a.shape == image.shape
    assert np.abs(a - b).max() <= 1  # synthesis: float rounding only
  assert abs(len(files[0]) - len(files[1])) <= 8


def test_untiled_twins_give_the_same_file_and_pixels_where_the_image_fits(codecs):
  tiled_codec, _ = codecs
  # 64-pixel cores: a padded image up to two cores (128 pixels) each way runs
  # untiled in the graph; one more padding step (192) does not.
  assert tiled_codec.fits_untiled(128, 100) and tiled_codec.fits_untiled(65, 1)
  assert not tiled_codec.fits_untiled(129, 64)
  assert not tiled_codec.fits_untiled(650, 700)
  image = smooth_image(100, 120, seed=5)
  quality = np.float32(1.)
  data = tiled_codec.compress(image, quality).numpy()
  assert tiled_codec.compress_untiled(image, quality).numpy() == data
  np.testing.assert_array_equal(
      tiled_codec.decompress_untiled(data, integer=False).numpy(),
      tiled_codec.decompress(data).numpy())
  # The API picks the twin where it fits, the general function elsewhere.
  from nlaic_tf import api
  assert api.compress(image, 1., tiled_codec) == data
  np.testing.assert_array_equal(api.decompress(data, tiled_codec),
                                tiled_codec.decompress(data).numpy())
