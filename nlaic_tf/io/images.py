"""Reading images as 8-bit RGB arrays, and writing PNGs.

`read_image` returns every supported file as an HxWx3 uint8 array, converted as
follows (and never silently in any other way):

- grayscale ("L", 1-bit): the gray value is replicated into R, G and B;
- palette ("P"): looked up in the palette;
- alpha ("RGBA", "LA", "PA", palette transparency): the alpha channel is
  dropped; the stored colour values are kept as they are (transparent pixels
  show whatever colour the file stores there, as with PIL's convert("RGB"));
- 16 bits per sample (PNG, TIFF, PGM): each value v becomes round(v / 257),
  which maps 0..65535 onto 0..255 exactly at both ends;
- CMYK, YCbCr, LAB, HSV: PIL's conversion to RGB;
- EXIF orientation is applied, so the array is upright as viewers show it;
- ICC profiles are ignored: values are taken as sRGB;
- multi-frame files (GIF, TIFF): the first frame.

Anything that cannot be read (missing file, directory, no permission, not an
image, truncated or corrupt data, floating-point samples) raises
`ImageReadError`, whose message names the file.
"""
import glob
import io
import os
from pathlib import Path
from typing import List, Tuple, Union

import numpy as np
from PIL import Image

from nlaic_tf.io.atomic import atomic_write_bytes

PathLike = Union[str, os.PathLike]

# Suffixes `find_images` picks up in a folder (case-insensitive).
IMAGE_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".ppm", ".pgm", ".pnm",
    ".pbm", ".webp", ".gif", ".tga", ".jp2", ".j2k", ".avif", ".heic", ".heif",
})

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_BITS_PER_SAMPLE_TAG = 258
_EXIF_ORIENTATION_TAG = 0x0112


class ImageReadError(Exception):
  """An image file could not be read; the message names the file and the reason."""

  def __init__(self, path: PathLike, reason: str):
    super().__init__(f"{path}: {reason}")
    self.path = Path(path)
    self.reason = reason


class _UnsupportedImage(ValueError):
  """A decodable image whose samples cannot be converted to 8-bit RGB."""


def _register_heif_opener() -> bool:
  """Lets PIL open HEIC/HEIF files if pillow-heif (part of the `eval` extra)
  is installed; True if it was not registered before. Called only for files
  PIL cannot identify, so that reading other images never imports it."""
  global _heif_registered
  if _heif_registered:
    return False
  _heif_registered = True
  try:
    import pillow_heif
  except ImportError:
    return False
  pillow_heif.register_heif_opener()
  return True


_heif_registered = False


def read_image(path: PathLike) -> np.ndarray:
  """Reads an image file as RGB.

  Args:
    path: an image file in any format PIL (or pillow-heif) reads.

  Returns:
    uint8 array of shape (height, width, 3), converted as the module docstring says.

  Raises:
    ImageReadError: the file is missing, unreadable, not an image, or corrupt.
  """
  path = Path(path)
  try:
    data = path.read_bytes()
  except FileNotFoundError:
    raise ImageReadError(path, "no such file") from None
  except IsADirectoryError:
    raise ImageReadError(path, "is a directory, not an image file") from None
  except PermissionError:
    raise ImageReadError(path, "permission denied") from None
  except OSError as e:
    raise ImageReadError(path, f"cannot read file ({e.strerror or e})") from None
  if not data:
    raise ImageReadError(path, "file is empty")
  try:
    try:
      return _decode(data)
    except Image.UnidentifiedImageError:
      if not _register_heif_opener():
        raise
      return _decode(data)
  except Image.UnidentifiedImageError:
    raise ImageReadError(path, "not an image, or in a format that cannot be read") from None
  except Image.DecompressionBombError as e:
    raise ImageReadError(path, f"refused: {e}") from None
  except _UnsupportedImage as e:
    raise ImageReadError(path, str(e)) from None
  except Exception as e:  # Decoders raise OSError, SyntaxError, ValueError, zlib.error, ...
    raise ImageReadError(path, f"corrupt or truncated image data ({e})") from None


def _decode(data: bytes) -> np.ndarray:
  """File contents -> uint8 HxWx3, as `read_image` documents."""
  with Image.open(io.BytesIO(data)) as im:
    im.load()
    if _has_16_bit_colour(im, data):
      rgb = to_rgb8(_decode_16_bit_colour(im.format, data))
    else:
      rgb = _rgb_from_pil(im)
    return _apply_orientation(rgb, im.getexif().get(_EXIF_ORIENTATION_TAG, 1))


def _has_16_bit_colour(im: Image.Image, data: bytes) -> bool:
  """True for 16-bit multi-channel PNG/TIFF files, which PIL truncates to 8 bits."""
  if im.mode not in ("RGB", "RGBA", "LA"):
    return False
  if im.format == "PNG":
    return data.startswith(_PNG_SIGNATURE) and len(data) > 24 and data[24] == 16
  if im.format == "TIFF":
    bits = im.tag_v2.get(_TIFF_BITS_PER_SAMPLE_TAG, (8,))
    bits = bits if isinstance(bits, tuple) else (bits,)
    return max(bits) > 8
  return False


def _decode_16_bit_colour(image_format: str, data: bytes) -> np.ndarray:
  """Decodes a 16-bit PNG or TIFF with full precision: uint16 HxWxC."""
  import imagecodecs  # Only needed for these files; PIL handles everything else.

  decode = imagecodecs.png_decode if image_format == "PNG" else imagecodecs.tiff_decode
  return np.asarray(decode(data))


def to_rgb8(samples: np.ndarray) -> np.ndarray:
  """uint8 or uint16 array HxW, HxWx1, HxWx2 (gray+alpha), HxWx3 or HxWx4 (RGBA) -> uint8 HxWx3.

  The rules of `read_image`: gray is replicated, alpha dropped, 16-bit samples
  mapped by round(v / 257). Raises ValueError for other shapes or types.
  """
  samples = np.asarray(samples)
  if samples.ndim == 2:
    samples = samples[..., np.newaxis]
  if samples.ndim != 3 or 0 in samples.shape:
    raise _UnsupportedImage(f"expected an HxW or HxWxC image, got shape {samples.shape}")
  channels = samples.shape[-1]
  if channels in (1, 2):
    samples = np.repeat(samples[..., :1], 3, axis=-1)
  elif channels in (3, 4):
    samples = samples[..., :3]
  else:
    raise _UnsupportedImage(f"unsupported number of channels: {channels}")
  if samples.dtype == np.uint8:
    return np.ascontiguousarray(samples)
  if samples.dtype == np.uint16:
    return _to_8_bit(samples)
  raise _UnsupportedImage(f"unsupported sample type {samples.dtype} (uint8 or uint16)")


def _to_8_bit(samples: np.ndarray) -> np.ndarray:
  """Maps 16-bit samples (0..65535) to 8 bits by round(v / 257)."""
  if samples.min() < 0 or samples.max() > 65535:
    raise _UnsupportedImage("integer samples outside the 16-bit range")
  return np.rint(samples.astype(np.float64) / 257.0).astype(np.uint8)


def _rgb_from_pil(im: Image.Image) -> np.ndarray:
  """Converts a loaded PIL image of any mode to uint8 HxWx3."""
  if im.mode == "F":
    raise _UnsupportedImage("floating-point images are not supported")
  if im.mode.startswith("I"):  # "I;16", "I;16B", "I": 16-bit (or wider) grayscale.
    gray = _to_8_bit(np.asarray(im).astype(np.int64))
    return np.repeat(gray[..., np.newaxis], 3, axis=-1)
  if im.mode == "P" and "transparency" in im.info:
    im = im.convert("RGBA")  # Applies the palette; alpha is dropped below.
  return np.array(im.convert("RGB"), dtype=np.uint8)


# EXIF orientation value -> the array operation that makes the image upright.
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, k=-1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, k=1),
}


def _apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
  """Turns an HxWxC array upright according to an EXIF orientation value (1..8)."""
  if orientation not in _UPRIGHT:
    return image
  return np.ascontiguousarray(_UPRIGHT[orientation](image))


def save_png(path: PathLike, image: np.ndarray) -> None:
  """Writes a uint8 HxWx3 array as an 8-bit RGB PNG, atomically."""
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError(f"save_png expects uint8 HxWx3, got {image.dtype} {image.shape}")
  buffer = io.BytesIO()
  Image.fromarray(image, "RGB").save(buffer, format="PNG")
  atomic_write_bytes(path, buffer.getvalue())


def find_images(spec: PathLike) -> Tuple[List[Path], List[Path]]:
  """Lists the image files named by a folder, a glob pattern or a single file.

  A folder contributes its files (not subfolders, not hidden files) whose suffix
  is in IMAGE_SUFFIXES; a glob contributes every file it matches; both sorted.

  Returns:
    (images, ignored): the files to read, and the folder's files that were
    skipped for their suffix (for the caller to report).

  Raises:
    FileNotFoundError: nothing exists at `spec`, or it names no file.
  """
  spec = str(spec)
  path = Path(spec)
  if path.is_dir():
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    ignored = [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if not images:
      raise FileNotFoundError(f"no image files in folder {spec}")
    return images, ignored
  if glob.has_magic(spec):
    images = sorted(Path(p) for p in glob.glob(spec) if os.path.isfile(p))
    if not images:
      raise FileNotFoundError(f"no files match {spec}")
    return images, []
  if path.is_file():
    return [path], []
  raise FileNotFoundError(f"no such folder or file: {spec}")
