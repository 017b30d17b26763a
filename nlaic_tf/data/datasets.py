"""tf.data pipelines: random crops for training, centre crops for validation.

Training crops are cut from the source pixels as they are by default: any
resampling low-passes an image (`scripts/crop_sharpness.py` measures how much
detail each setting keeps), and a codec trained on blurred crops does not
learn the fine detail of the sharp images it is judged on. `CropScale` makes
a random downscale an explicit choice (sources much larger than the crop).

Every random choice is a stateless function of (seed, example index), so an
iterator saved in a checkpoint resumes with exactly the same batches, and
`step_indexed_dataset` starts at any step without an iterator to save.
"""
import dataclasses
import glob
import os

import numpy as np
import tensorflow as tf
from PIL import Image


def image_files(patterns):
  """Sorted files matching comma-separated glob `patterns`; error if none."""
  files = []
  for pattern in str(patterns).split(","):
    files += glob.glob(os.path.expanduser(pattern.strip()))
  files = sorted(set(files))
  if not files:
    raise FileNotFoundError(f"no images match {patterns!r}")
  return files


def area_weighted(files):
  """`files` with each repeated in proportion to its pixel count: round(pixels
  / median pixels) times, at least once, in sorted order.

  Pipelines draw one crop per listed file per epoch, so without this a
  megapixel photo added to 0.15-megapixel BSDS500 images gives as few crops
  as any of them; repeated, every pixel is about equally likely to be
  trained on. Sizes come from the files' headers (Pillow), not a decode.
  """
  files = list(files)
  pixels = []
  for path in files:
    with Image.open(path) as image:
      pixels.append(image.width * image.height)
  median = float(np.median(pixels))
  return [path for path, n in zip(files, pixels)
          for _ in range(max(1, round(n / median)))]


def _decode(path):
  """File -> [H, W, 3] float32 in [0, 1] (grayscale replicated, alpha dropped)."""
  image = tf.io.decode_image(tf.io.read_file(path), channels=3,
                             expand_animations=False)
  return tf.image.convert_image_dtype(image, tf.float32)


RESIZE_FILTERS = ("lanczos3", "lanczos5", "area", "bicubic", "mitchellcubic",
                  "gaussian", "bilinear")


@dataclasses.dataclass(frozen=True)
class CropScale:
  """How training images are resampled before a crop is cut.

  Each image is scaled by a factor drawn uniformly from [min_scale,
  max_scale] (raised to crop / short side where the image would otherwise be
  too small for the crop) with `tf.image.resize(method=filter,
  antialias=True)`. An image whose drawn size equals its own is not
  resampled at all, so the default (1, 1) cuts crops from the source pixels.
  """
  min_scale: float = 1.
  max_scale: float = 1.
  filter: str = "lanczos3"

  def __post_init__(self):
    if not 0 < self.min_scale <= self.max_scale:
      raise ValueError(f"need 0 < min_scale <= max_scale, got "
                       f"{self.min_scale}, {self.max_scale}")
    if self.filter not in RESIZE_FILTERS:
      raise ValueError(f"resize filter {self.filter!r} is not one of "
                       f"{RESIZE_FILTERS}")


def _random_crop(index, image, crop, seed, scale):
  """[H, W, 3] float image -> random-scale (`CropScale` scale),
  random-position, random-flip crop [crop, crop, 3]."""
  seeds = tf.random.experimental.stateless_split(
      tf.stack([tf.cast(seed, tf.int64), index]), 3)
  shape = tf.shape(image)[:2]
  size = tf.cast(shape, tf.float32)
  needed = crop / tf.reduce_min(size)
  factor = tf.random.stateless_uniform(
      [], seeds[0], tf.maximum(scale.min_scale, needed),
      tf.maximum(scale.max_scale, needed))
  new_size = tf.maximum(tf.cast(tf.math.ceil(size * factor), tf.int32), crop)
  image = tf.cond(
      tf.reduce_all(tf.equal(new_size, shape)), lambda: image,
      lambda: tf.image.resize(image, new_size, method=scale.filter,
                              antialias=True))
  image = tf.image.stateless_random_crop(image, [crop, crop, 3], seeds[1])
  image = tf.image.stateless_random_flip_left_right(image, seeds[2])
  return tf.clip_by_value(image, 0., 1.)


def _crops(indexed_images, crop, batch_size, seed, scale, keep_index=False):
  """Endless dataset of (example index, image [H, W, 3]) -> batches
  [batch_size, crop, crop, 3] (with keep_index: (indices [batch_size] int64,
  batches))."""
  def example(i, image):
    cropped = _random_crop(i, image, crop, seed, scale)
    return (i, cropped) if keep_index else cropped
  ds = indexed_images.map(example, num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=True)
  return ds.batch(batch_size, drop_remainder=True).prefetch(2)


def training_dataset(files, crop=128, batch_size=8, seed=0, scale=CropScale()):
  """Endless batches [batch_size, crop, crop, 3] in [0, 1] from image files.

  Each image is resampled as `scale` says (by default not at all), randomly
  cropped and flipped. Files are reshuffled every epoch with a fixed seed.
  """
  files = list(files)
  ds = tf.data.Dataset.from_tensor_slices(files)
  ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
  ds = ds.repeat().map(_decode, num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)
  return _crops(ds.enumerate(), crop, batch_size, seed, scale)


def step_indexed_dataset(files, start_step, global_batch, batch_size,
                         pipeline=0, pipelines=1, crop=128, seed=0,
                         scale=CropScale()):
  """This input pipeline's share of every global batch from `start_step` on:
  endless (indices [batch_size] int64, crops [batch_size, crop, crop, 3]).

  Global batch k holds examples k * global_batch ... (k + 1) * global_batch - 1;
  pipeline p of `pipelines` (one per host under tf.distribute) takes its p-th
  contiguous slice, in batches of `batch_size` (one per replica of the host).
  Example g is a crop (as `training_dataset`'s, seeded by (seed, g)) of file
  perm_e[g mod n], perm_e a stateless permutation of the n files for epoch
  e = g // n. Any step is thus reached directly, with nothing to checkpoint.
  """
  share = global_batch // pipelines
  if share * pipelines != global_batch or share % batch_size:
    raise ValueError(f"global batch {global_batch} does not split into "
                     f"{pipelines} pipelines of batches of {batch_size}")
  files = tf.constant(list(files))
  n = tf.cast(tf.size(files), tf.int64)

  def load(t):
    g = (start_step + t // share) * global_batch + pipeline * share + t % share
    order = tf.random.experimental.stateless_shuffle(
        tf.range(n), tf.stack([tf.cast(seed, tf.int64), g // n]))
    return g, _decode(files[order[g % n]])

  ds = tf.data.Dataset.range(2 ** 62).map(
      load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return _crops(ds, crop, batch_size, seed, scale, keep_index=True)


def tfds_training_dataset(name, split="train", crop=128, batch_size=8, seed=0,
                          scale=CropScale()):
  """Same pipeline over an RGB tensorflow-datasets dataset (needs tfds and its data)."""
  try:
    import tensorflow_datasets as tfds
  except ImportError as e:
    raise ImportError("--tfds_name needs `pip install tensorflow-datasets`") from e
  images = tfds.load(name, split=split, shuffle_files=False)
  images = images.map(lambda e: tf.image.convert_image_dtype(e["image"], tf.float32))
  images = images.shuffle(1000, seed=seed).repeat()
  return _crops(images.enumerate(), crop, batch_size, seed, scale)


def validation_dataset(files, crop=256, batch_size=4):
  """Centre crops [B, crop, crop, 3] of `files` in order (one pass, no randomness)."""
  ds = tf.data.Dataset.from_tensor_slices(list(files))
  ds = ds.map(lambda p: tf.image.resize_with_crop_or_pad(_decode(p), crop, crop))
  return ds.batch(batch_size)
