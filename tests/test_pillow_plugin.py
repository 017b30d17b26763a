""".nlaic in Pillow (nlaic_tf.pillow): Image.open / load / save, errors as Pillow's.

The tiny codec (random weights) is registered as the model, so the files are
the tiny codec's; one slow test uses the shipped default model.
"""
import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

import nlaic_tf
from nlaic_tf import api
from nlaic_tf.bitstream import HEADER_SIZE, read_header
from conftest import smooth_image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def psnr(a, b):
  mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
  return 10 * np.log10(255 ** 2 / mse)


@pytest.fixture
def plugin(tiny_codec):
  """The plugin with the tiny codec as its model; the defaults again after."""
  nlaic_tf.register_pillow(model=tiny_codec)
  yield tiny_codec
  nlaic_tf.register_pillow()


@pytest.fixture(scope="module")
def image():
  return smooth_image(40, 70, seed=3)  # not a multiple of 64


@pytest.fixture(scope="module")
def data(tiny_codec, image):
  """The tiny codec's file of `image` at quality 1, by nlaic_tf.compress."""
  return api.compress(image, 1, codec=tiny_codec)


def test_registration():
  import nlaic_tf.pillow  # noqa: F401
  assert Image.OPEN["NLAIC"][0] is nlaic_tf.pillow.NlaicImageFile
  assert "NLAIC" in Image.SAVE
  assert Image.registered_extensions()[".nlaic"] == "NLAIC"
  assert Image.MIME["NLAIC"] == "image/x-nlaic"


def test_round_trip_through_a_file(plugin, image, data, tmp_path):
  path = tmp_path / "photo.nlaic"
  Image.fromarray(image).save(path, quality=1)
  assert path.read_bytes() == data  # byte for byte nlaic_tf.compress's file
  with Image.open(path) as im:
    assert (im.format, im.size, im.mode) == ("NLAIC", (70, 40), "RGB")
    assert im.info == {"model_id": plugin.model_id.numpy().hex(),
                       "quality": 1.0, "version": 2}
    assert im.tile  # not decoded yet: open reads the header only
    decoded = np.asarray(im)
  expected = api.decompress(data, plugin)
  np.testing.assert_array_equal(decoded, expected)
  assert psnr(image, decoded) == psnr(image, expected)


def test_save_to_and_open_from_streams(plugin, image, data, tmp_path):
  stream = io.BytesIO()
  Image.fromarray(image).save(stream, format="NLAIC", quality=1)
  assert stream.getvalue() == data
  with Image.open(io.BytesIO(data)) as im:
    np.testing.assert_array_equal(np.asarray(im), api.decompress(data, plugin))
  path = tmp_path / "file-object"  # no extension: found by its magic bytes
  path.write_bytes(data)
  with open(path, "rb") as f, Image.open(f) as im:
    assert im.format == "NLAIC"
    im.load()
  with open(tmp_path / "out.nlaic", "wb") as f:
    Image.fromarray(image).save(f, quality=1)  # the file object's name gives the format
  assert (tmp_path / "out.nlaic").read_bytes() == data


def test_save_options(plugin, image, monkeypatch):
  rgb = Image.fromarray(image)
  # No quality: the default level, or a model with fewer levels' best (the tiny codec: 1).
  assert _saved(rgb) == api.compress(image, 1, codec=plugin)
  assert _saved(rgb, quality=0.5) == api.compress(image, 0.5, codec=plugin)
  assert _saved(rgb, target_bpp=1.0) == api.compress_to_bpp(image, 1.0, plugin)[0]
  # model= takes a name or folder, loaded as `nlaic compress --model` loads it.
  monkeypatch.setattr(api, "pretrained_codec",
                      lambda model=None: plugin if model == "some-model" else pytest.fail(model))
  nlaic_tf.register_pillow()
  assert _saved(rgb, quality=0, model="some-model") == api.compress(image, 0, codec=plugin)
  assert _saved(rgb, quality=0, codec=plugin) == api.compress(image, 0, codec=plugin)
  with pytest.raises(ValueError, match="quality must be in"):
    _saved(rgb, quality=5, model=plugin)
  with pytest.raises(ValueError, match="not both"):
    _saved(rgb, quality=1, target_bpp=1.0, model=plugin)


def _saved(im, **options):
  stream = io.BytesIO()
  im.save(stream, format="NLAIC", **options)
  return stream.getvalue()


def test_other_modes_are_converted_as_the_cli_converts_them(plugin, image):
  gray = image[..., 1]
  rgba = np.dstack([image, np.full(image.shape[:2], 7, np.uint8)])
  gray16 = gray.astype(np.uint16) * 257 + 100
  cases = {
      "L": (Image.fromarray(gray), gray),
      "RGBA": (Image.fromarray(rgba, "RGBA"), rgba),
      "LA": (Image.fromarray(rgba[..., 1:3], "LA"), rgba[..., 1:3]),
      "I;16": (Image.fromarray(gray16), gray16),
      "P": (Image.fromarray(image).quantize(16), None),
  }
  for mode, (im, array) in cases.items():
    assert im.mode == mode
    if array is None:
      array = np.asarray(im.convert("RGB"))
    assert _saved(im, quality=1) == api.compress(array, 1, codec=plugin), mode
    with Image.open(io.BytesIO(_saved(im, quality=1))) as back:
      assert (back.mode, back.size) == ("RGB", im.size)
  with pytest.raises(OSError, match="cannot write mode F as NLAIC"):
    _saved(Image.fromarray(gray.astype(np.float32)), quality=1)


def test_not_an_nlaic_file(tmp_path):
  import nlaic_tf.pillow  # noqa: F401
  path = tmp_path / "photo.nlaic"
  for content in (b"", b"NLI", b"plain text, not an image at all",
                  b"NLIX" + bytes(60)):
    path.write_bytes(content)
    with pytest.raises(UnidentifiedImageError, match="cannot identify image file"):
      Image.open(path)


@pytest.mark.parametrize("mutate, reason", [
    (lambda d: d[:20], "truncated: 20 bytes, shorter than the header"),
    (lambda d: d[:HEADER_SIZE - 1], "shorter than the 42-byte header"),
    (lambda d: d[:4] + b"\x09" + d[5:], "unsupported format version 9"),
    (lambda d: d[:5] + b"\x80" + d[6:], "unknown flags"),
    (lambda d: d[:14] + bytes(4) + d[18:], "bad image size"),
])
def test_bad_header_is_unidentified_with_the_reason(plugin, data, mutate, reason):
  with pytest.raises(UnidentifiedImageError, match=reason) as raised:
    Image.open(io.BytesIO(mutate(data)))
  assert "nlaic bitstream: " in str(raised.value)


@pytest.mark.parametrize("mutate, reason", [
    (lambda d: d[:-1], "length mismatch: .* \\(truncated or trailing data\\)"),
    (lambda d: d[:HEADER_SIZE + 1], "length mismatch"),
    (lambda d: d + b"\0", "trailing data"),
    (lambda d: d[:-1] + bytes([d[-1] ^ 0x10]), "checksum mismatch: the file is corrupted"),
    (lambda d: d[:23] + bytes([d[23] ^ 0x01]) + d[24:], "checksum mismatch"),
])
def test_bad_payload_fails_at_load_with_the_reason(plugin, data, mutate, reason, tmp_path):
  path = tmp_path / "bad.nlaic"
  path.write_bytes(mutate(data))
  with Image.open(path) as im:  # the header is fine: open succeeds
    assert im.size == (70, 40)
    with pytest.raises(OSError, match=reason) as raised:
      im.load()
  assert not isinstance(raised.value, UnidentifiedImageError)
  assert str(raised.value).startswith("cannot decode nlaic image: nlaic bitstream: ")


def test_foreign_model_is_refused_without_loading_a_model(data, monkeypatch):
  nlaic_tf.register_pillow()
  monkeypatch.setattr(api, "pretrained_codec", lambda model=None: pytest.fail("loaded a model"))
  with Image.open(io.BytesIO(data)) as im:
    with pytest.raises(OSError, match="encoded with a different model"):
      im.load()


def test_max_pixels(plugin, data):
  nlaic_tf.register_pillow(model=plugin, max_pixels=70 * 40 - 1)
  with Image.open(io.BytesIO(data)) as im:
    with pytest.raises(OSError, match="more than max_pixels=2799"):
      im.load()
  nlaic_tf.register_pillow(model=plugin, max_pixels=70 * 40)
  with Image.open(io.BytesIO(data)) as im:
    im.load()


def test_open_reads_the_header_without_tensorflow(data, tmp_path):
  """register_pillow and Image.open import no TensorFlow (a fresh process)."""
  path = tmp_path / "photo.nlaic"
  path.write_bytes(data)
  script = (
      "import sys, nlaic_tf\n"
      "nlaic_tf.register_pillow()\n"
      "from PIL import Image\n"
      f"im = Image.open({str(path)!r})\n"
      "print(im.format, im.size, im.mode, 'tensorflow' in sys.modules)\n")
  result = subprocess.run([sys.executable, "-c", script], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.split() == ["NLAIC", "(70,", "40)", "RGB", "False"]


@pytest.mark.slow
def test_shipped_model_round_trip(tmp_path):
  """With no model registered: saved by the default model, decoded by the
  model the file names, as nlaic_tf.decompress decodes it."""
  nlaic_tf.register_pillow()
  image = smooth_image(64, 96, seed=4)
  path = tmp_path / "photo.nlaic"
  Image.fromarray(image).save(path, quality=3)
  data = path.read_bytes()
  assert data == api.compress(image, 3)
  assert read_header(data).model_id == api.pretrained_codec().model_id.numpy()
  with Image.open(path) as im:
    decoded = np.asarray(im)
  np.testing.assert_array_equal(decoded, api.decompress(data))
  assert psnr(image, decoded) > 30
