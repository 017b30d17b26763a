"""Tiled transforms: large images in bounded memory, results as without tiles."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from conftest import smooth_image
from nlaic_tf.models import get_config
from nlaic_tf.models.codec import NLAICCodec
from nlaic_tf.transforms.tiling import alignment_pixels, tile_geometry, tiled


def test_geometry_follows_the_non_local_windows():
  small = get_config("small")  # NLAM at H/16, 16-latent windows: 256 pixels
  assert alignment_pixels(small) == 256
  assert tile_geometry(small, 1000) == (1024, 256)
  assert alignment_pixels(get_config("paper")) == 256  # H/4 and H/16
  assert tile_geometry(small, 0) is None
  dense = dataclasses.replace(small, nonlocal_block_size=None)
  assert tile_geometry(dense) is None  # whole-image attention cannot tile


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
  # tiny: 64-pixel alignment, so 64-pixel cores and 256-pixel margins.
  return NLAICCodec(tiny_codec.model, tile_pixels=64), NLAICCodec(
      tiny_codec.model, tile_pixels=0)


def test_tiled_codec_matches_the_untiled_one(codecs):
  tiled_codec, whole_codec = codecs
  assert tiled_codec.tile == (64, 256) and whole_codec.tile is None
  image = smooth_image(650, 700, seed=3)  # 11 x 11 cores, clipped margins
  files = [codec.compress(image, np.float32(1.)).numpy()
           for codec in (tiled_codec, whole_codec)]
  for data in files:
    a = tiled_codec.decompress(data).numpy().astype(int)
    b = whole_codec.decompress(data).numpy().astype(int)
    assert a.shape == image.shape
    assert np.abs(a - b).max() <= 1  # synthesis: float rounding only
  # The analysis of the tiny model also reaches less than a margin.
  assert abs(len(files[0]) - len(files[1])) <= 0.01 * len(files[1])
