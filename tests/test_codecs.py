"""The comparison codecs: round trips, quality behaviour, registry."""
import io

import numpy as np
import pytest
from PIL import Image

from nlaic_tf import metrics
from nlaic_tf.evaluation import codecs, registry


@pytest.fixture
def image(make_image):
  return make_image(48, 64, seed=3)


@pytest.mark.parametrize("name", codecs.CONVENTIONAL_CODECS)
def test_round_trip_at_lowest_and_highest_default_quality(name, image):
  codec = registry.get_codec(name)
  if codec.unavailable_reason():
    pytest.skip(codec.unavailable_reason())
  low, high = codec.qualities[0], codec.qualities[-1]
  sizes, psnrs = [], []
  for quality in (low, high):
    data = codec.encode(image, quality)
    decoded = codec.decode(data)
    assert isinstance(data, bytes) and decoded.shape == image.shape and decoded.dtype == np.uint8
    sizes.append(len(data))
    psnrs.append(metrics.psnr(image, decoded))
  assert sizes[1] > sizes[0]
  assert psnrs[1] > max(psnrs[0], 30)


@pytest.mark.parametrize("name", codecs.CONVENTIONAL_CODECS)
def test_odd_and_tiny_sizes(name, make_image):
  codec = registry.get_codec(name)
  if codec.unavailable_reason():
    pytest.skip(codec.unavailable_reason())
  for height, width in ((1, 1), (7, 3), (17, 33)):
    small = make_image(height, width, seed=height)
    quality = codec.qualities[-1]
    assert codec.decode(codec.encode(small, quality)).shape == (height, width, 3)


@pytest.mark.parametrize("name", codecs.CONVENTIONAL_CODECS)
def test_default_grids_are_ascending_and_valid(name):
  codec = registry.get_codec(name)
  assert list(codec.qualities) == sorted(set(codec.qualities))
  assert len(codec.qualities) >= 7
  for quality in codec.qualities:
    codec.check_quality(quality)


def test_jpeg_subsampling_is_as_named(image):
  for name, factors in (("jpeg420", (2, 2)), ("jpeg444", (1, 1))):
    with Image.open(io.BytesIO(registry.get_codec(name).encode(image, 50))) as im:
      # PIL reports (horizontal, vertical) sampling of the luma component relative to chroma.
      assert im.layer[0][1:3] == factors


def test_jpeg2000_hits_its_target_rate(make_image):
  codec = registry.get_codec("jpeg2000")
  big = make_image(256, 256, seed=5)
  data = codec.encode(big, 0.5)
  assert metrics.bpp(len(data), 256, 256) == pytest.approx(0.5, rel=0.1)


def test_hevc_keeps_chroma_at_full_resolution():
  # One-pixel colour stripes: 4:2:0 would average neighbouring chroma samples away.
  codec = registry.get_codec("hevc")
  if codec.unavailable_reason():
    pytest.skip(codec.unavailable_reason())
  stripes = np.zeros((64, 64, 3), np.uint8)
  stripes[:, 0::2] = (255, 0, 0)
  stripes[:, 1::2] = (0, 0, 255)
  decoded = codec.decode(codec.encode(stripes, 90))
  assert metrics.psnr(stripes, decoded) > 30


def test_check_quality():
  jpeg = registry.get_codec("jpeg420")
  assert jpeg.check_quality(50.0) == 50 and isinstance(jpeg.check_quality(50.0), int)
  with pytest.raises(ValueError, match="integer"):
    jpeg.check_quality(50.5)
  with pytest.raises(ValueError, match="outside"):
    jpeg.check_quality(0)
  assert registry.get_codec("jpeg2000").check_quality(0.25) == 0.25


def test_encode_rejects_non_rgb_uint8():
  with pytest.raises(ValueError, match="uint8 HxWx3"):
    registry.get_codec("webp").encode(np.zeros((8, 8), np.uint8), 50)


class _Identity(codecs.Codec):
  name = "identity-test"
  label = "identity"
  settings = "raw bytes"
  quality_help = "ignored"
  qualities = (1, 2)
  quality_range = (1, 2)

  def _encode(self, image, quality):
    return image.tobytes()

  def _decode(self, data):
    return np.frombuffer(data, np.uint8).reshape(-1, 1, 3)


def test_registry():
  assert set(codecs.CONVENTIONAL_CODECS) == {"jpeg420", "jpeg444", "jpeg2000", "webp", "avif",
                                             "hevc"}
  with pytest.raises(ValueError, match="unknown codec 'nope'; known codecs: jpeg420"):
    registry.get_codec("nope")
  with pytest.raises(ValueError, match="already registered"):
    registry.register_codec(codecs.JpegCodec("4:2:0"))
  identity = registry.register_codec(_Identity())
  try:
    assert registry.get_codec("identity-test") is identity
    assert "identity-test" in registry.codec_names()
  finally:
    registry._REGISTRY.pop("identity-test")
