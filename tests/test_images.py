"""Reading images: documented conversions, and clear errors for bad input."""
import os

import imagecodecs
import numpy as np
import pytest
from PIL import Image, ImageOps

from nlaic_tf.io import atomic_write, atomic_write_bytes
from nlaic_tf.io.images import ImageReadError, find_images, read_image, save_png

KODAK = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "kodak")


def _save(tmp_path, name, image, **options):
  path = tmp_path / name
  image.save(path, **options)
  return path


# Bad input: every case raises ImageReadError naming the file.

def test_missing_file(tmp_path):
  with pytest.raises(ImageReadError, match="missing.png: no such file"):
    read_image(tmp_path / "missing.png")


def test_directory(tmp_path):
  with pytest.raises(ImageReadError, match="is a directory"):
    read_image(tmp_path)


def test_empty_file(tmp_path):
  (tmp_path / "empty.png").write_bytes(b"")
  with pytest.raises(ImageReadError, match="empty.png: file is empty"):
    read_image(tmp_path / "empty.png")


def test_non_image(tmp_path):
  (tmp_path / "notes.png").write_text("these are not pixels\n")
  with pytest.raises(ImageReadError, match="notes.png: not an image"):
    read_image(tmp_path / "notes.png")


def test_truncated_png(tmp_path, make_image):
  path = _save(tmp_path, "whole.png", Image.fromarray(make_image(40, 50)))
  data = path.read_bytes()
  (tmp_path / "cut.png").write_bytes(data[:len(data) // 2])
  with pytest.raises(ImageReadError, match="cut.png: corrupt or truncated"):
    read_image(tmp_path / "cut.png")


def test_unreadable_file(tmp_path):
  path = _save(tmp_path, "secret.png", Image.new("RGB", (2, 2)))
  path.chmod(0)
  try:
    if os.access(path, os.R_OK):
      pytest.skip("running as a user who can read any file")
    with pytest.raises(ImageReadError, match="permission denied"):
      read_image(path)
  finally:
    path.chmod(0o644)


def test_floating_point_image_is_rejected(tmp_path):
  path = _save(tmp_path, "float.tif", Image.fromarray(np.full((3, 4), 0.5, np.float32)))
  with pytest.raises(ImageReadError, match="floating-point"):
    read_image(path)


# Conversions.

def test_rgb_is_returned_unchanged(tmp_path, make_image):
  image = make_image(30, 20)
  out = read_image(_save(tmp_path, "rgb.png", Image.fromarray(image)))
  assert out.dtype == np.uint8 and out.shape == (30, 20, 3)
  np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("height, width", [(1, 1), (7, 3), (3, 7), (5, 1)])
def test_odd_sizes(tmp_path, height, width):
  image = np.arange(height * width * 3, dtype=np.uint8).reshape(height, width, 3)
  np.testing.assert_array_equal(read_image(_save(tmp_path, "odd.png", Image.fromarray(image))),
                                image)


def test_grayscale_is_replicated(tmp_path):
  gray = np.array([[0, 17], [128, 255]], np.uint8)
  out = read_image(_save(tmp_path, "gray.png", Image.fromarray(gray, "L")))
  np.testing.assert_array_equal(out, np.stack([gray] * 3, axis=-1))


def test_one_bit_is_black_and_white(tmp_path):
  bits = Image.fromarray(np.array([[0, 255, 0]], np.uint8), "L").convert("1")
  out = read_image(_save(tmp_path, "bits.png", bits))
  np.testing.assert_array_equal(out[..., 0], [[0, 255, 0]])


def test_rgba_drops_alpha_and_keeps_colour(tmp_path):
  rgba = np.array([[[10, 20, 30, 0], [40, 50, 60, 128], [70, 80, 90, 255]]], np.uint8)
  out = read_image(_save(tmp_path, "rgba.png", Image.fromarray(rgba, "RGBA")))
  np.testing.assert_array_equal(out, rgba[..., :3])


def test_gray_alpha_drops_alpha(tmp_path):
  la = np.array([[[30, 0], [200, 255]]], np.uint8)
  out = read_image(_save(tmp_path, "la.png", Image.fromarray(la, "LA")))
  np.testing.assert_array_equal(out, np.repeat(la[..., :1], 3, axis=-1))


def test_palette_is_looked_up(tmp_path):
  palette = Image.new("P", (3, 1))
  palette.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
  palette.putdata([2, 0, 1])
  out = read_image(_save(tmp_path, "palette.png", palette))
  np.testing.assert_array_equal(out, [[[0, 0, 255], [255, 0, 0], [0, 255, 0]]])


def test_palette_with_transparency_keeps_colours(tmp_path):
  palette = Image.new("P", (2, 1))
  palette.putpalette([9, 8, 7, 1, 2, 3])
  palette.putdata([0, 1])
  out = read_image(_save(tmp_path, "tp.png", palette, transparency=0))
  np.testing.assert_array_equal(out, [[[9, 8, 7], [1, 2, 3]]])


# 0 -> 0, 128 -> 0 (0.498), 129 -> 1 (0.502), 3000 -> 12 (11.67; truncation
# would give 11), 65535 -> 255.
SAMPLES_16 = np.array([0, 128, 129, 3000, 257 * 77, 65535], np.uint16)
EXPECTED_8 = np.array([0, 0, 1, 12, 77, 255], np.uint8)


def test_16_bit_grayscale_png_is_rounded(tmp_path):
  path = tmp_path / "gray16.png"
  path.write_bytes(imagecodecs.png_encode(SAMPLES_16.reshape(2, 3)))
  out = read_image(path)
  np.testing.assert_array_equal(out, np.stack([EXPECTED_8.reshape(2, 3)] * 3, axis=-1))


@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_png_is_rounded_not_truncated(tmp_path, channels):
  samples = np.stack([SAMPLES_16, SAMPLES_16[::-1], SAMPLES_16, SAMPLES_16][:channels], -1)
  path = tmp_path / "colour16.png"
  path.write_bytes(imagecodecs.png_encode(np.ascontiguousarray(samples.reshape(2, 3, channels))))
  out = read_image(path)
  expected = np.stack([EXPECTED_8, EXPECTED_8[::-1], EXPECTED_8], -1).reshape(2, 3, 3)
  np.testing.assert_array_equal(out, expected)


def test_16_bit_rgb_tiff_is_rounded(tmp_path):
  samples = np.stack([SAMPLES_16] * 3, -1).reshape(3, 2, 3)
  path = tmp_path / "rgb16.tif"
  path.write_bytes(imagecodecs.tiff_encode(samples))
  np.testing.assert_array_equal(read_image(path), np.stack([EXPECTED_8] * 3, -1).reshape(3, 2, 3))


def test_cmyk_jpeg_becomes_rgb(tmp_path, make_image):
  cmyk = Image.fromarray(make_image(16, 24)).convert("CMYK")
  out = read_image(_save(tmp_path, "cmyk.jpg", cmyk, quality=95))
  assert out.shape == (16, 24, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_pil(tmp_path, orientation):
  image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
  exif = Image.Exif()
  exif[0x0112] = orientation
  path = _save(tmp_path, "oriented.png", Image.fromarray(image), exif=exif)
  expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
  np.testing.assert_array_equal(read_image(path), expected)
  if orientation in (5, 6, 7, 8):
    assert read_image(path).shape == (3, 2, 3)


# Writing.

def test_save_png_round_trip(tmp_path, make_image):
  image = make_image(9, 13)
  save_png(tmp_path / "out.png", image)
  np.testing.assert_array_equal(read_image(tmp_path / "out.png"), image)
  assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # No temporary files left.


def test_save_png_rejects_wrong_arrays_and_keeps_existing_file(tmp_path, make_image):
  path = tmp_path / "keep.png"
  save_png(path, make_image(4, 4))
  before = path.read_bytes()
  for bad in (np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32)):
    with pytest.raises(ValueError, match="uint8 HxWx3"):
      save_png(path, bad)
  assert path.read_bytes() == before


def test_atomic_write_failure_leaves_old_content(tmp_path):
  path = tmp_path / "data.csv"
  atomic_write_bytes(path, b"old")
  with pytest.raises(RuntimeError):
    with atomic_write(path, "w") as f:
      f.write("half of the new")
      raise RuntimeError("disk full")
  assert path.read_bytes() == b"old"
  assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]


def test_atomic_write_creates_normal_permissions(tmp_path):
  atomic_write_bytes(tmp_path / "a.bin", b"x")
  (tmp_path / "b.bin").write_bytes(b"x")
  assert (tmp_path / "a.bin").stat().st_mode == (tmp_path / "b.bin").stat().st_mode


# Finding images.

def test_find_images_in_folder(tmp_path):
  for name in ("b.png", "a.JPG", "notes.txt", ".hidden.png"):
    (tmp_path / name).write_bytes(b"")
  (tmp_path / "sub.png").mkdir()
  images, ignored = find_images(tmp_path)
  assert [p.name for p in images] == ["a.JPG", "b.png"]
  assert [p.name for p in ignored] == ["notes.txt"]


def test_find_images_glob_and_single_file(tmp_path):
  for name in ("x1.png", "x2.png", "y.png"):
    (tmp_path / name).write_bytes(b"")
  images, _ = find_images(str(tmp_path / "x*.png"))
  assert [p.name for p in images] == ["x1.png", "x2.png"]
  assert find_images(tmp_path / "y.png") == ([tmp_path / "y.png"], [])


def test_find_images_reports_nothing_found(tmp_path):
  with pytest.raises(FileNotFoundError, match="no such folder or file"):
    find_images(tmp_path / "nowhere")
  with pytest.raises(FileNotFoundError, match="no files match"):
    find_images(str(tmp_path / "*.png"))
  (tmp_path / "readme.txt").write_text("")
  with pytest.raises(FileNotFoundError, match="no image files"):
    find_images(tmp_path)


@pytest.mark.skipif(not os.path.isdir(KODAK), reason="Kodak images not present")
def test_kodak_image_reads_as_8_bit_rgb():
  image = read_image(os.path.join(KODAK, "kodim01.png"))
  assert image.shape == (512, 768, 3) and image.dtype == np.uint8
