"""The codec interface of the evaluation, and the conventional codecs behind it.

A codec turns a uint8 HxWx3 RGB array into bytes at a quality setting and
back. `quality` is the codec's own knob (its meaning is in each codec's
`quality_help`); every codec has a default grid that spans about 0.1 to
1.5 bpp on Kodak. The learned codec implements the same interface in
`learned_codec`; `registry` finds both by name, so this module knows nothing
of the model.
"""
import abc
import io
from typing import Optional, Tuple, Union

import numpy as np
from PIL import Image

Quality = Union[int, float]


class Codec(abc.ABC):
  """An image codec: RGB uint8 HxWx3 <-> bytes.

  Subclasses set the class attributes and implement `_encode` and `_decode`;
  `encode` and `decode` check arguments and results around them.
  """

  name: str                      # Registry key, e.g. "jpeg420".
  label: str                     # For plots and tables, e.g. "JPEG 4:2:0".
  settings: str                  # How the codec is configured, for reports.
  quality_help: str              # What `quality` means for this codec.
  qualities: Tuple[Quality, ...]  # Default grid, lowest quality first.
  quality_range: Tuple[Quality, Quality]  # Inclusive.
  integer_quality: bool = True

  def unavailable_reason(self) -> Optional[str]:
    """None if the codec can run here, else why not (e.g. a missing library)."""
    return None

  def check_quality(self, quality: Quality) -> Quality:
    """Returns `quality` as the codec's type, or raises ValueError if invalid."""
    low, high = self.quality_range
    if self.integer_quality:
      if float(quality) != int(quality):
        raise ValueError(f"{self.name}: quality must be an integer, got {quality}")
      quality = int(quality)
    else:
      quality = float(quality)
    if not low <= quality <= high:
      raise ValueError(f"{self.name}: quality {quality} outside [{low}, {high}]")
    return quality

  def encode(self, image: np.ndarray, quality: Quality) -> bytes:
    """Compresses a uint8 HxWx3 RGB image; returns the complete file's bytes."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
      raise ValueError(f"{self.name}: expected uint8 HxWx3, got {image.dtype} {image.shape}")
    return self._encode(np.ascontiguousarray(image), self.check_quality(quality))

  def decode(self, data: bytes) -> np.ndarray:
    """Decompresses bytes from `encode`; returns uint8 HxWx3 RGB."""
    image = np.asarray(self._decode(data))
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
      raise ValueError(f"{self.name}: decoder returned {image.dtype} {image.shape}, "
                       "not uint8 HxWx3")
    return image

  @abc.abstractmethod
  def _encode(self, image: np.ndarray, quality: Quality) -> bytes:
    """Compresses a validated contiguous uint8 HxWx3 image at a validated quality."""

  @abc.abstractmethod
  def _decode(self, data: bytes) -> np.ndarray:
    """Decompresses to an HxWx3 uint8 array."""

  def __repr__(self) -> str:
    return f"<{type(self).__name__} {self.name}>"


class _PillowCodec(Codec):
  """A codec that PIL encodes and decodes, configured by `_save_options`."""

  pil_format: str

  @abc.abstractmethod
  def _save_options(self, image: np.ndarray, quality: Quality) -> dict:
    """Keyword arguments for PIL's Image.save."""

  def _encode(self, image, quality):
    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format=self.pil_format,
                                       **self._save_options(image, quality))
    return buffer.getvalue()

  def _decode(self, data):
    with Image.open(io.BytesIO(data), formats=[self.pil_format]) as im:
      return np.array(im.convert("RGB"), dtype=np.uint8)


class JpegCodec(_PillowCodec):
  """Baseline JPEG through libjpeg-turbo, with optimized Huffman tables."""

  pil_format = "JPEG"
  quality_help = "libjpeg quality factor, 1 (worst) to 100"
  quality_range = (1, 100)

  def __init__(self, subsampling: str):
    self._subsampling = {"4:2:0": 2, "4:4:4": 0}[subsampling]
    self.name = "jpeg" + subsampling.replace(":", "")
    self.label = f"JPEG {subsampling}"
    self.settings = (f"libjpeg-turbo via Pillow, baseline, {subsampling} chroma, "
                     "optimized Huffman tables, standard quantization tables")
    self.qualities = ((3, 5, 10, 20, 30, 45, 60, 75, 82) if subsampling == "4:2:0"
                      else (3, 5, 9, 17, 27, 40, 55, 70, 77))

  def _save_options(self, image, quality):
    return {"quality": quality, "subsampling": self._subsampling, "optimize": True}


class Jpeg2000Codec(_PillowCodec):
  """JPEG 2000 through OpenJPEG: 9/7 wavelet, colour transform, rate control."""

  name = "jpeg2000"
  label = "JPEG 2000"
  pil_format = "JPEG2000"
  settings = ("OpenJPEG via Pillow, raw J2K codestream, irreversible 9/7 wavelet, "
              "multiple-component (YCbCr) transform on, 6 resolution levels, "
              "one quality layer at the target rate")
  quality_help = "target bits per pixel (OpenJPEG compression ratio = 24 / quality)"
  quality_range = (0.01, 24.0)
  integer_quality = False
  qualities = (0.1, 0.15, 0.25, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5)

  def _save_options(self, image, quality):
    # OpenJPEG needs 2^(levels - 1) <= the shorter side.
    levels = min(6, min(image.shape[:2]).bit_length())
    return {"quality_mode": "rates", "quality_layers": [24.0 / quality],
            "irreversible": True, "mct": 1, "num_resolutions": levels, "no_jp2": True}


class WebPCodec(_PillowCodec):
  """Lossy WebP (VP8 intra, 4:2:0 only) through libwebp at its slowest method."""

  name = "webp"
  label = "WebP"
  pil_format = "WEBP"
  settings = "libwebp via Pillow, lossy, method 6 (slowest, best), 4:2:0 (the only option)"
  quality_help = "libwebp quality, 0 (worst) to 100"
  quality_range = (0, 100)
  qualities = (0, 5, 15, 30, 50, 65, 78, 86)

  def _save_options(self, image, quality):
    return {"quality": quality, "method": 6, "lossless": False}


class AvifCodec(_PillowCodec):
  """AVIF (AV1 intra) through libavif with the libaom encoder, 4:4:4."""

  name = "avif"
  label = "AVIF 4:4:4"
  pil_format = "AVIF"
  speed = 2
  settings = (f"libavif + libaom via Pillow, 4:4:4 chroma, 8 bit, full range, "
              f"speed {speed} (of 0 slowest .. 10 fastest), tune=psnr, one thread; "
              "decoded by dav1d")
  quality_help = "libavif quality, 0 (worst) to 100 (lossless)"
  quality_range = (0, 100)
  qualities = (8, 15, 22, 30, 38, 46, 54, 62, 70)

  def unavailable_reason(self):
    from PIL import features
    if not features.check("avif"):
      return "Pillow was built without AVIF support"
    return None

  def _save_options(self, image, quality):
    return {"quality": quality, "subsampling": "4:4:4", "speed": self.speed,
            "codec": "aom", "max_threads": 1, "advanced": {"tune": "psnr"}}


class HeicCodec(Codec):
  """HEVC intra (x265) in a HEIF container through libheif: the BPG stand-in."""

  name = "hevc"
  label = "HEVC intra (HEIC 4:4:4)"
  x265_preset = "veryslow"
  settings = (f"libheif + x265 via pillow-heif, HEIC container, 4:4:4 chroma, 8 bit, "
              f"full range, x265 preset {x265_preset}, tune=psnr with psy-rd, psy-rdoq and "
              "aq-mode off, thread pool of one; "
              "decoded by libde265")
  quality_help = "libheif quality, 0 (worst) to 100"
  quality_range = (0, 100)
  qualities = (8, 12, 18, 24, 30, 36, 42, 47, 50)

  def unavailable_reason(self):
    try:
      import pillow_heif
    except ImportError:
      return "pillow-heif is not installed"
    if not pillow_heif.libheif_info().get("encoders", {}).get("x265"):
      return "libheif has no x265 encoder"
    return None

  def _encode(self, image, quality):
    import pillow_heif
    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.fromarray(image, "RGB")).save(
        buffer, format="HEIF", quality=quality, chroma=444,
        enc_params={"preset": self.x265_preset, "tune": "psnr", "x265:pools": "1",
                    # libheif turns these on after applying the tuning; they cost
                    # 14 % in rate at equal PSNR and 16 % at equal MS-SSIM on Kodak.
                    "x265:psy-rd": "0", "x265:psy-rdoq": "0", "x265:aq-mode": "0"})
    return buffer.getvalue()

  def _decode(self, data):
    import pillow_heif
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    return np.array(heif.to_pillow().convert("RGB"), dtype=np.uint8)


# The comparison codecs, in the order tables and plots list them, and their names.
CONVENTIONAL = (JpegCodec("4:2:0"), JpegCodec("4:4:4"), Jpeg2000Codec(), WebPCodec(),
                AvifCodec(), HeicCodec())
CONVENTIONAL_CODECS = tuple(codec.name for codec in CONVENTIONAL)
