"""Python API: compress an image to nlaic bytes and back with the shipped model.

  >>> import nlaic_tf
  >>> data = nlaic_tf.compress(image, quality=3)   # uint8 [H, W, 3] -> bytes
  >>> image = nlaic_tf.decompress(data)            # bytes -> uint8 [H, W, 3]

`codec` arguments take anything `nlaic_tf.zoo.load_codec` returns (an
`NLAICCodec` around an export's weights, or a SavedModel's graphs); by
default `compress` uses the default model and `decompress` the pretrained
model that wrote the file (its header names it), each loaded once and cached.
"""
import functools
import re

import numpy as np

DEFAULT_QUALITY = 3.0
# Largest image `decompress` decodes unless told otherwise, like Pillow's
# decompression-bomb limit: about 16 GB of peak memory at the ~0.4 GB per
# megapixel a decode takes (a 24 GB machine decodes it comfortably); an 8K
# frame (33 MP) and a 24 MP camera photo fit.
DEFAULT_MAX_PIXELS = 40_000_000
_BITSTREAM_MESSAGE = re.compile(r"nlaic bitstream: [^\]\n]*")


@functools.lru_cache(maxsize=None)
def pretrained_codec(model=None):
  """`zoo.load_codec(model)` (a pretrained model's name or a folder; None: the
  default), loaded once."""
  from nlaic_tf import zoo
  return zoo.load_codec(model)


def codec_for(model_id):
  """The codec that decodes files written by the model `model_id` (bytes):
  the default codec if it is that model, else the pretrained model with that
  identifier. A file of any other model raises `BitstreamError` before any
  model is loaded, naming what decodes it if a pretrained model that was
  since replaced wrote it (`zoo.RETIRED`); if the default model's identifier
  is unknown, its codec is returned, and refuses such a file itself."""
  from nlaic_tf import zoo
  from nlaic_tf.bitstream import BitstreamError
  from nlaic_tf.bitstream.format import message
  try:
    default_id = zoo.read_model_info()["model_id"]
  except (OSError, ValueError, KeyError):
    default_id = None
  if default_id == model_id.hex():
    return pretrained_codec()
  name = zoo.pretrained_for_model_id(model_id)
  if name is None:
    retired = zoo.retired_model(model_id)
    if retired is not None:
      raise BitstreamError(message(f"encoded with {retired.decode_hint()}"))
    if default_id is not None:
      raise BitstreamError(message(
          f"encoded with a different model (model {model_id.hex()} is none of "
          "the pretrained models); decode it with its export (--model FOLDER, "
          "nlaic_tf.zoo.load_codec(FOLDER), or "
          "nlaic_tf.register_pillow(model=FOLDER) for Pillow)"))
  return pretrained_codec(name)


def num_levels(codec):
  """Number of trained rate levels of `codec` (qualities 0 .. num_levels - 1)."""
  from nlaic_tf.models import ModelConfig
  return ModelConfig.from_json(codec.config_json.numpy().decode()).num_levels


def _as_rgb8(image):
  """Array -> uint8 [H, W, 3] with the conversions of `read_image`."""
  from nlaic_tf.io.images import to_rgb8
  return to_rgb8(np.asarray(image))


def _has_twin(codec, height, width):
  """Whether `codec` has untiled twins (`NLAICCodec.compress_untiled`,
  `decompress_untiled`) and a height x width image runs through them: the
  same result from graphs that trace and start faster."""
  return hasattr(codec, "fits_untiled") and codec.fits_untiled(height, width)


def compress(image, quality=DEFAULT_QUALITY, codec=None, refine_steps=0):
  """image (array [H, W], [H, W, 1|3|4], uint8 or uint16) -> container bytes.

  Converted to 8-bit RGB as `nlaic_tf.io.images.to_rgb8` documents. quality:
  float in [0, num_levels - 1]; fractional values interpolate rate levels.
  refine_steps > 0: encoder-side latent refinement
  (`nlaic_tf.models.refinement`), about one synthesis forward and backward
  pass per step; any decoder reads the result.
  """
  codec = codec or pretrained_codec()
  levels = num_levels(codec)
  if not 0 <= float(quality) <= levels - 1:
    raise ValueError(f"quality must be in [0, {levels - 1}], got {quality}")
  if int(refine_steps) != refine_steps or refine_steps < 0:
    raise ValueError(f"refine_steps must be a non-negative integer, got {refine_steps}")
  image = _as_rgb8(image)
  if refine_steps:
    if not hasattr(codec, "compress_refined"):
      raise ValueError("this model was exported without compress_refined "
                       "(before refinement existed); re-export it with export.py")
    return codec.compress_refined(image, np.float32(quality),
                                  np.int32(refine_steps)).numpy()
  compress_image = (codec.compress_untiled if _has_twin(codec, *image.shape[:2])
                    else codec.compress)
  return compress_image(image, np.float32(quality)).numpy()


def check_pixels(data, max_pixels=DEFAULT_MAX_PIXELS):
  """The file's header (`read_header`); raises `BitstreamError` if `data` is
  not a valid file or its image has more than `max_pixels` pixels (the
  message names the option; None or 0: no limit but the format's).
  """
  from nlaic_tf.bitstream import BitstreamError, read_header
  header = read_header(bytes(data))
  pixels = header.height * header.width
  if max_pixels and pixels > max_pixels:
    raise BitstreamError(
        f"nlaic bitstream: the image is {header.width}x{header.height} "
        f"({pixels / 1e6:.1f} megapixels), more than max_pixels={max_pixels} "
        "(--max-pixels on the command line); raise the limit to decode it if "
        "you trust the file and have the memory (about 0.4 GB per megapixel)")
  return header


def decompress(data, codec=None, max_pixels=DEFAULT_MAX_PIXELS):
  """Container bytes -> uint8 [H, W, 3]; `BitstreamError` if invalid or larger
  than `max_pixels` (`check_pixels`; None or 0: only the format's own limit,
  16384x16384, which the SavedModel's `decompress` keeps).

  codec: None decodes with the pretrained model that wrote the file
  (`codec_for`), so files of every shipped model decode without naming it.
  """
  import tensorflow as tf
  from nlaic_tf.bitstream import BitstreamError
  from nlaic_tf.bitstream.format import FLAG_INTEGER
  if not isinstance(data, (bytes, bytearray)):
    raise TypeError(f"decompress expects bytes, got {type(data).__name__}")
  header = check_pixels(data, max_pixels)
  codec = codec or codec_for(header.model_id)
  try:
    bitstream = tf.constant(bytes(data))
    if _has_twin(codec, header.height, header.width):
      return codec.decompress_untiled(
          bitstream, integer=bool(header.flags & FLAG_INTEGER)).numpy()
    return codec.decompress(bitstream).numpy()
  except tf.errors.InvalidArgumentError as e:
    match = _BITSTREAM_MESSAGE.search(e.message)
    raise BitstreamError(match.group(0) if match else
                         f"nlaic bitstream: cannot be decoded ({e.message.splitlines()[0]})") from None


def compress_to_bpp(image, target_bpp, codec=None, iterations=7,
                    refine_steps=0):
  """Compresses at the highest quality whose size is at most `target_bpp`.

  Bisects the continuous quality (rate grows with quality), each trial with
  `refine_steps` (see `compress`). Returns (bytes, quality). If even quality
  0 exceeds the target, returns quality 0.
  """
  from nlaic_tf import metrics
  codec = codec or pretrained_codec()
  image = _as_rgb8(image)
  bpp = lambda data: metrics.bpp(len(data), *image.shape[:2])
  low, high = 0., num_levels(codec) - 1.
  best = (compress(image, low, codec, refine_steps), low)
  top = compress(image, high, codec, refine_steps)
  if bpp(top) <= target_bpp:
    return top, high
  if bpp(best[0]) > target_bpp:
    return best
  for _ in range(iterations):
    mid = (low + high) / 2
    data = compress(image, mid, codec, refine_steps)
    if bpp(data) <= target_bpp:
      best, low = (data, mid), mid
    else:
      high = mid
  return best
