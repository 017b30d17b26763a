"""tf.data pipelines: random-scale crops for training, centre crops for validation.

Every random choice is a stateless function of (seed, example index), so an
iterator saved in a checkpoint resumes with exactly the same batches, and
`step_indexed_dataset` starts at any step without an iterator to save.
"""
import glob
import os

import tensorflow as tf


def image_files(patterns):
  """Sorted files matching comma-separated glob `patterns`; error if none."""
  files = []
  for pattern in str(patterns).split(","):
    files += glob.glob(os.path.expanduser(pattern.strip()))
  files = sorted(set(files))
  if not files:
    raise FileNotFoundError(f"no images match {patterns!r}")
  return files


def _decode(path):
  """File -> [H, W, 3] float32 in [0, 1] (grayscale replicated, alpha dropped)."""
  image = tf.io.decode_image(tf.io.read_file(path), channels=3,
                             expand_animations=False)
  return tf.image.convert_image_dtype(image, tf.float32)


def _random_crop(index, image, crop, seed, min_scale, max_scale):
  """[H, W, 3] float image -> random-scale, random-position, random-flip crop."""
  seeds = tf.random.experimental.stateless_split(
      tf.stack([tf.cast(seed, tf.int64), index]), 3)
  size = tf.cast(tf.shape(image)[:2], tf.float32)
  needed = crop / tf.reduce_min(size)
  scale = tf.random.stateless_uniform(
      [], seeds[0], tf.maximum(min_scale, needed), tf.maximum(max_scale, needed))
  new_size = tf.maximum(tf.cast(tf.math.ceil(size * scale), tf.int32), crop)
  image = tf.image.resize(image, new_size, antialias=True)
  image = tf.image.stateless_random_crop(image, [crop, crop, 3], seeds[1])
  image = tf.image.stateless_random_flip_left_right(image, seeds[2])
  return tf.clip_by_value(image, 0., 1.)


def _crops(indexed_images, crop, batch_size, seed, min_scale, max_scale,
           keep_index=False):
  """Endless dataset of (example index, image [H, W, 3]) -> batches
  [batch_size, crop, crop, 3] (with keep_index: (indices [batch_size] int64,
  batches))."""
  def example(i, image):
    cropped = _random_crop(i, image, crop, seed, min_scale, max_scale)
    return (i, cropped) if keep_index else cropped
  ds = indexed_images.map(example, num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=True)
  return ds.batch(batch_size, drop_remainder=True).prefetch(2)


def training_dataset(files, crop=128, batch_size=8, seed=0, min_scale=0.6,
                     max_scale=1.0):
  """Endless batches [batch_size, crop, crop, 3] in [0, 1] from image files.

  Each image is downscaled by a random factor in [min_scale, max_scale]
  (hides JPEG blocking of the sources; never below `crop`), randomly cropped
  and flipped. Files are reshuffled every epoch with a fixed seed.
  """
  files = list(files)
  ds = tf.data.Dataset.from_tensor_slices(files)
  ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
  ds = ds.repeat().map(_decode, num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)
  return _crops(ds.enumerate(), crop, batch_size, seed, min_scale, max_scale)


def step_indexed_dataset(files, start_step, global_batch, batch_size,
                         pipeline=0, pipelines=1, crop=128, seed=0,
                         min_scale=0.6, max_scale=1.0):
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
  return _crops(ds, crop, batch_size, seed, min_scale, max_scale, keep_index=True)


def tfds_training_dataset(name, split="train", crop=128, batch_size=8, seed=0,
                          min_scale=0.6, max_scale=1.0):
  """Same pipeline over an RGB tensorflow-datasets dataset (needs tfds and its data)."""
  try:
    import tensorflow_datasets as tfds
  except ImportError as e:
    raise ImportError("--tfds_name needs `pip install tensorflow-datasets`") from e
  images = tfds.load(name, split=split, shuffle_files=False)
  images = images.map(lambda e: tf.image.convert_image_dtype(e["image"], tf.float32))
  images = images.shuffle(1000, seed=seed).repeat()
  return _crops(images.enumerate(), crop, batch_size, seed, min_scale, max_scale)


def validation_dataset(files, crop=256, batch_size=4):
  """Centre crops [B, crop, crop, 3] of `files` in order (one pass, no randomness)."""
  ds = tf.data.Dataset.from_tensor_slices(list(files))
  ds = ds.map(lambda p: tf.image.resize_with_crop_or_pad(_decode(p), crop, crop))
  return ds.batch(batch_size)
