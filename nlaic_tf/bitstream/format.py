"""The nlaic file format, version 1.

All integers little-endian; offsets in bytes:

  0   4  magic        b"NLIC"
  4   1  version      format version (1)
  5   1  flags        reserved, 0
  6   8  model_id     first 8 bytes of SHA-256 of the model weights
  14  4  height       image height in pixels (uint32)
  18  4  width        image width in pixels (uint32)
  22  4  quality      rate level, float32 in [0, num_levels - 1]
  26  4  z_length     bytes of the hyper-latent stream (uint32)
  30  4  y_length     bytes of the latent stream (uint32)
  34  4  checksum     Adler-32 of bytes 0..33 followed by both streams
  38  z_length bytes  range-coded z (factorized prior)
  ..  y_length bytes  range-coded y (3D context + hyperprior, wavefront order)

This module (no TensorFlow) holds the layout and `read_header`, which parses
and checks a file in plain Python; `container` builds and parses files with
TensorFlow ops from the same layout.
"""
import collections
import struct
import zlib

MAGIC = b"NLIC"
VERSION = 1
MAX_PIXELS = 1 << 28  # 16384 x 16384
_FIELDS = (("magic", "4s"), ("version", "B"), ("flags", "B"),
           ("model_id", "8s"), ("height", "I"), ("width", "I"),
           ("quality", "f"), ("z_length", "I"), ("y_length", "I"),
           ("checksum", "I"))
_STRUCT = struct.Struct("<" + "".join(code for _, code in _FIELDS))
HEADER_SIZE = _STRUCT.size
OFFSETS = {}
_position = 0
for _name, _code in _FIELDS:
  OFFSETS[_name] = _position
  _position += struct.calcsize("<" + _code)
CHECKSUM_OFFSET = OFFSETS["checksum"]

Header = collections.namedtuple("Header", [name for name, _ in _FIELDS])


class BitstreamError(ValueError):
  """A file that is not a valid nlaic bitstream for this model."""


def message(text):
  """Error text; the decoder graph's assertions use the same prefix."""
  return f"nlaic bitstream: {text}"


def read_header(data):
  """Parses and verifies the container in `data` (bytes) -> `Header`.

  Checks size, magic, version, stream lengths, checksum and image size (as
  the decoder graph does); raises `BitstreamError` with the reason. Does not
  check the model identifier.
  """
  if len(data) < HEADER_SIZE:
    raise BitstreamError(message(
        f"truncated: {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header"))
  header = Header(*_STRUCT.unpack_from(data))
  if header.magic != MAGIC:
    raise BitstreamError(message("bad magic bytes: not an nlaic file"))
  if header.version != VERSION:
    raise BitstreamError(message(
        f"unsupported format version {header.version} (this reader: {VERSION})"))
  expected = HEADER_SIZE + header.z_length + header.y_length
  if len(data) != expected:
    raise BitstreamError(message(
        f"length mismatch: {len(data)} bytes, header says {expected} "
        "(truncated or trailing data)"))
  checksum = zlib.adler32(data[HEADER_SIZE:], zlib.adler32(data[:CHECKSUM_OFFSET]))
  if checksum != header.checksum:
    raise BitstreamError(message("checksum mismatch: the file is corrupted"))
  if min(header.height, header.width) <= 0:
    raise BitstreamError(message("bad image size"))
  if header.height * header.width > MAX_PIXELS:
    raise BitstreamError(message("image size too large"))
  return header
