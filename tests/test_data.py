"""Training crops: cut from the source pixels by default, resampled only when asked."""
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from nlaic_tf import data
from nlaic_tf.metrics import laplacian_energy


def _is_window(source, crop):
  """Whether crop [h, w, 3] equals source[i:i + h, j:j + w] for some i, j."""
  h, w = crop.shape[:2]
  starts = zip(*np.nonzero(np.all(np.abs(source - crop[0, 0]) < 1e-6, axis=-1)))
  return any(source[i:i + h, j:j + w].shape == crop.shape
             and np.allclose(source[i:i + h, j:j + w], crop, atol=1e-6)
             for i, j in starts)


@pytest.fixture(scope="module")
def sharp_image(tmp_path_factory):
  """A 176x208 image of pixel-level detail (stationary noise: every region has
  the same high-frequency energy), and its path."""
  pixels = np.random.default_rng(3).integers(0, 256, (176, 208, 3), np.uint8)
  path = tmp_path_factory.mktemp("sharp") / "noise.png"
  Image.fromarray(pixels).save(path)
  return pixels.astype(np.float64) / 255., str(path)


def _crops(path, scale, batches=6):
  ds = data.training_dataset([path], crop=128, batch_size=2, seed=1, scale=scale)
  return np.concatenate([b.numpy() for b, _ in zip(ds, range(batches))])


def test_default_crops_keep_the_detail_of_the_source(sharp_image):
  source, path = sharp_image
  crops = _crops(path, data.CropScale())
  assert laplacian_energy(crops) == pytest.approx(laplacian_energy(source), rel=0.03)
  # Not resampled at all: each crop is a window of the source (maybe mirrored).
  for crop in crops:
    assert _is_window(source, crop) or _is_window(source, crop[:, ::-1])

def test_a_random_downscale_is_explicit_and_uses_the_chosen_filter(sharp_image):
  source, path = sharp_image
  sharp = laplacian_energy(source)
  lanczos = laplacian_energy(_crops(path, data.CropScale(0.75, 0.8, "lanczos3")))
  bilinear = laplacian_energy(_crops(path, data.CropScale(0.75, 0.8, "bilinear")))
  # Downscaling noise averages it: both lose energy, the triangle filter most.
  assert bilinear < lanczos < 0.97 * sharp


def test_an_image_smaller_than_the_crop_is_upscaled_to_fit(tmp_path):
  path = tmp_path / "small.png"
  Image.fromarray(np.full((100, 140, 3), 77, np.uint8)).save(path)
  crops = _crops(str(path), data.CropScale(), batches=1)
  assert crops.shape == (2, 128, 128, 3)
  np.testing.assert_allclose(crops, 77 / 255., atol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(min_scale=0.9, max_scale=0.8),
                                    dict(min_scale=0.), dict(filter="nearest")])
def test_crop_scale_rejects_bad_settings(kwargs):
  with pytest.raises(ValueError):
    data.CropScale(**kwargs)


def test_validation_crops_are_not_resampled(sharp_image):
  source, path = sharp_image
  (batch,) = list(data.validation_dataset([path], crop=128))
  np.testing.assert_allclose(batch[0], tf.image.resize_with_crop_or_pad(
      source, 128, 128), atol=1e-6)


def test_crop_sharpness_script_reports_the_share_of_detail_kept(sharp_image):
  import os
  import subprocess
  import sys
  _, path = sharp_image
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  out = subprocess.run(
      [sys.executable, os.path.join(root, "scripts", "crop_sharpness.py"), "--glob", path,
       "--crop", "128", "--batches", "3"], capture_output=True, text=True, check=True).stdout
  shares = {line.split("|")[1].strip(): int(line.split("|")[3].strip(" %"))
            for line in out.splitlines() if line.startswith("| training")}
  assert 97 <= shares["training, source pixels (default)"] <= 103
  assert shares["training, 0.8-1.0 bilinear"] < shares["training, 0.8-1.0 lanczos3"] < 97


def test_area_weighting_repeats_each_file_by_its_pixel_count(tmp_path):
  sizes = {"a": (100, 100), "b": (100, 100), "c": (100, 100), "big": (200, 200),
           "wide": (300, 50), "small": (30, 30)}
  paths = {}
  for name, size in sizes.items():
    paths[name] = str(tmp_path / f"{name}.png")
    Image.new("RGB", size).save(paths[name])
  weighted = data.area_weighted(data.image_files(str(tmp_path / "*.png")))
  counts = {name: weighted.count(path) for name, path in paths.items()}
  # The median is 10,000 pixels: 40,000 -> 4, 15,000 -> 2, 900 -> still 1.
  assert counts == {"a": 1, "b": 1, "c": 1, "big": 4, "wide": 2, "small": 1}
  assert weighted == sorted(weighted)
