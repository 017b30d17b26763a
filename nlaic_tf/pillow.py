"""`.nlaic` files in Pillow: `Image.open("photo.nlaic")`, `image.save("photo.nlaic")`.

  >>> import nlaic_tf
  >>> nlaic_tf.register_pillow()            # or: import nlaic_tf.pillow
  >>> from PIL import Image
  >>> image = Image.open("photo.nlaic")     # reads the 42-byte header only
  >>> image.load()                          # decodes (TensorFlow, the model)
  >>> image.save("copy.nlaic", quality=2)   # encodes at rate level 2

Importing this module registers the format "NLAIC" with Pillow (opener,
saver, extension `.nlaic`, MIME type `image/x-nlaic`), as pillow-heif's and
pillow-avif-plugin's modules do; `register(...)` does it again with options.
Neither imports TensorFlow: `Image.open` reads and checks the header (magic,
version, flags, image size) and sets `size`, `mode` ("RGB") and `info`
(`model_id` hex, `quality`, `version`); TensorFlow and the model are loaded
by the first `load()` (or `save`).

Errors, the way Pillow's own plugins report them:

- not an nlaic file (no magic bytes): `PIL.UnidentifiedImageError` from
  `Image.open`, as for any file no plugin knows;
- an nlaic file whose header is bad (unknown version or flags, bad image size,
  shorter than its header): `PIL.UnidentifiedImageError` from `Image.open`,
  whose message ends with the reason (`BitstreamError`'s, also its `__cause__`);
- a payload that does not decode (truncated, trailing data, checksum, foreign
  model, more than `max_pixels` pixels): `OSError` from `load()` (and so from
  `convert`, `np.asarray`, ...) with the reason.

Decoding uses the model that wrote the file (its header names it): the one
given to `register(model=...)` if it is that model, else the pretrained model
with that identifier, as `nlaic_tf.decompress` and `nlaic decompress` pick it.
Saving takes `quality` (the rate level, as `--quality`; default 3, or the best
level of a model with fewer), or `target_bpp` (as `--target-bpp`),
`refine_steps` (as `--refine`), and `model` (a pretrained name, an export
folder, or a loaded codec, as `--model`; `codec=` is the same); without
`model`, the one given to `register`, else the default model. Images of any
mode are converted to 8-bit RGB as `nlaic compress` converts its inputs
(`nlaic_tf.io.images`): gray replicated, alpha dropped, palettes applied,
16-bit gray mapped by round(v / 257).
"""
from PIL import Image, ImageFile

from nlaic_tf.bitstream import format as bitstream_format

FORMAT = "NLAIC"
EXTENSION = ".nlaic"
MIME = "image/x-nlaic"
_DECODER = "nlaic"
_HEADER_READ = max(bitstream_format.HEADER_SIZES.values())

# What `register` sets: the model for saving and for decoding its own files
# (None: the default model, and the pretrained model that wrote a file), and
# the largest image `load()` decodes (`nlaic_tf.decompress`'s max_pixels).
_settings = {"model": None, "max_pixels": None}


def _accept(prefix):
  return prefix[:4] == bitstream_format.MAGIC


class NlaicImageFile(ImageFile.ImageFile):
  """A `.nlaic` file: header read by `Image.open`, decoded by `load()`."""

  format = FORMAT
  format_description = "nlaic learned image codec"

  def _open(self):
    head = self.fp.read(_HEADER_READ)
    try:
      header = bitstream_format.read_header(head, whole_file=False)
    except bitstream_format.BitstreamError as e:
      # Not SyntaxError, which Image.open swallows (it tries the next plugin
      # and then raises UnidentifiedImageError without the reason): the magic
      # bytes say this is an nlaic file, so say why it cannot be one.
      name = self.filename or self.fp
      raise Image.UnidentifiedImageError(
          f"cannot identify image file {name!r}: {e}") from e
    self._size = (header.width, header.height)
    self._mode = "RGB"
    self.info.update(model_id=header.model_id.hex(),
                     quality=round(header.quality, 6),
                     version=header.version)
    # One tile, the whole file from offset 0: the decoder reads the container.
    self.tile = [ImageFile._Tile(_DECODER, (0, 0) + self.size, 0, ())]


def _model_id(codec):
  """The 8-byte model identifier of a loaded codec."""
  model_id = codec.model_id
  model_id = model_id() if callable(model_id) else model_id
  return bytes(model_id.numpy())


def _codec(model):
  """A loaded codec for `model`: a codec (returned as is), a pretrained name
  or an export folder (loaded once, `api.pretrained_codec`), None: the
  default."""
  from nlaic_tf import api
  if model is None or isinstance(model, str):
    return api.pretrained_codec(model)
  return model


def _registered_codec_for(model_id):
  """The codec given to `register` if it wrote files of `model_id`, else None.
  A name or folder is matched by its model.json, without loading it."""
  from nlaic_tf import zoo
  model = _settings["model"]
  if model is None:
    return None
  if isinstance(model, str):
    try:
      registered = bytes.fromhex(zoo.read_model_info(model)["model_id"])
    except (OSError, ValueError, KeyError):
      registered = _model_id(_codec(model))
  else:
    registered = _model_id(model)
  return _codec(model) if registered == model_id else None


def decode(data):
  """Container bytes -> uint8 [H, W, 3] with the model the file names (see
  the module docstring); `BitstreamError` if it cannot be decoded."""
  from nlaic_tf import api
  max_pixels = _settings["max_pixels"]
  if max_pixels is None:
    max_pixels = api.DEFAULT_MAX_PIXELS
  # The model id only; `api.decompress` checks the whole file, then (codec
  # None) picks the pretrained model the file names (`api.codec_for`, which
  # refuses a foreign file without loading a model).
  model_id = bitstream_format.read_header(data, whole_file=False).model_id
  return api.decompress(data, _registered_codec_for(model_id), max_pixels)


class _Decoder(ImageFile.PyDecoder):
  """Pillow decoder "nlaic": reads the whole file and decodes it."""

  _pulls_fd = True

  def decode(self, buffer):
    data = self.fd.read()
    try:
      image = decode(data)
    except bitstream_format.BitstreamError as e:
      raise OSError(f"cannot decode nlaic image: {e}") from e
    if (image.shape[1], image.shape[0]) != (self.state.xsize, self.state.ysize):
      raise OSError("cannot decode nlaic image: decoded size differs from the header")
    self.set_as_raw(image.tobytes(), "RGB")
    return -1, 0


def _rgb8(im):
  """A PIL image of any mode -> uint8 [H, W, 3], converted as `nlaic compress`
  converts the files it reads."""
  from nlaic_tf.io import images
  try:
    return images._rgb_from_pil(im)  # the conversion read_image applies
  except ValueError as e:
    raise OSError(f"cannot write mode {im.mode} as {FORMAT}: {e}") from e


def encode(im, quality=None, model=None, target_bpp=None, refine_steps=0):
  """A PIL image -> container bytes, with `save`'s options."""
  from nlaic_tf import api
  codec = _codec(model if model is not None else _settings["model"])
  image = _rgb8(im)
  if target_bpp is not None:
    if quality is not None:
      raise ValueError("give quality or target_bpp, not both")
    if not target_bpp > 0:
      raise ValueError(f"target_bpp must be positive, got {target_bpp}")
    return api.compress_to_bpp(image, target_bpp, codec,
                               refine_steps=refine_steps)[0]
  if quality is None:  # As nlaic compress: a model with fewer levels, its best.
    quality = min(api.DEFAULT_QUALITY, api.num_levels(codec) - 1.)
  return api.compress(image, quality, codec, refine_steps)


def _save(im, fp, filename):
  info = im.encoderinfo
  model = info.get("model", info.get("codec"))
  fp.write(encode(im, info.get("quality"), model, info.get("target_bpp"),
                  info.get("refine_steps", 0)))


def register(model=None, max_pixels=None):
  """Registers the format with Pillow (again: the options are replaced).

  model: the model for `save` without `model=`, and for decoding its files:
    a pretrained name, an export folder, or a codec from
    `nlaic_tf.zoo.load_codec` (None: the default model; files are decoded
    by the pretrained model that wrote them).
  max_pixels: largest image `load()` decodes (None: `nlaic_tf.decompress`'s
    default of 40 megapixels; 0: only the format's limit). Pillow's own
    decompression-bomb check (`Image.MAX_IMAGE_PIXELS`) applies at open.
  """
  _settings.update(model=model, max_pixels=max_pixels)
  Image.register_open(FORMAT, NlaicImageFile, _accept)
  Image.register_save(FORMAT, _save)
  Image.register_extension(FORMAT, EXTENSION)
  Image.register_mime(FORMAT, MIME)
  Image.register_decoder(_DECODER, _Decoder)


register()
