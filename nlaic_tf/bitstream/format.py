"""The nlaic file format, versions 1 and 2 (written: 2).

All integers little-endian; offsets in bytes:

  0   4  magic          b"NLIC"
  4   1  version        format version (1 or 2)
  5   1  flags          version 1: 0; version 2: bit 0 set when the entropy
                        parameters were computed by the integer path
                        (`nlaic_tf.entropy.integer`), other bits 0
  6   8  model_id       first 8 bytes of SHA-256 of the model weights
  14  4  height         image height in pixels (uint32)
  18  4  width          image width in pixels (uint32)
  22  4  quality        rate level, float32 in [0, num_levels - 1]
  26  4  z_length       bytes of the hyper-latent stream (uint32)
  30  4  y_length       bytes of the latent stream (uint32)
  version 2 only:
  34  4  symbols_check  CRC-32C of y's scale-table indexes then y's symbols
                        (int32 little-endian each, raster order (c, h, w)):
                        what the decoder must reproduce
  both versions:
  ..  4  checksum       version 1: Adler-32, version 2: CRC-32C, of the
                        header bytes before it followed by both streams
  ..  z_length bytes    range-coded z (factorized prior)
  ..  y_length bytes    range-coded y (3D context + hyperprior, wavefront order)

The header is 38 bytes in version 1 and 42 in version 2.

This module (no TensorFlow) holds the layouts and `read_header`, which parses
and checks a file in plain Python; `container` builds and parses files with
TensorFlow ops from the same layouts.
"""
import collections
import struct
import zlib

from nlaic_tf.bitstream.crc import crc32c

MAGIC = b"NLIC"
VERSION = 2  # the version written
READABLE_VERSIONS = (1, 2)
FLAG_INTEGER = 1  # version 2 flags: integer entropy parameters
MAX_PIXELS = 1 << 28  # 16384 x 16384
_COMMON = (("magic", "4s"), ("version", "B"), ("flags", "B"),
           ("model_id", "8s"), ("height", "I"), ("width", "I"),
           ("quality", "f"), ("z_length", "I"), ("y_length", "I"))
_FIELDS = {1: _COMMON + (("checksum", "I"),),
           2: _COMMON + (("symbols_check", "I"), ("checksum", "I"))}
_STRUCTS = {v: struct.Struct("<" + "".join(code for _, code in fields))
            for v, fields in _FIELDS.items()}
HEADER_SIZES = {v: s.size for v, s in _STRUCTS.items()}


def _offsets(fields):
  offsets, position = {}, 0
  for name, code in fields:
    offsets[name] = position
    position += struct.calcsize("<" + code)
  return offsets


LAYOUTS = {v: _offsets(fields) for v, fields in _FIELDS.items()}
# The written version's layout.
OFFSETS = LAYOUTS[VERSION]
HEADER_SIZE = HEADER_SIZES[VERSION]
CHECKSUM_OFFSET = OFFSETS["checksum"]
MIN_HEADER_SIZE = min(HEADER_SIZES.values())

Header = collections.namedtuple(
    "Header", [name for name, _ in _FIELDS[VERSION]])
Header.__doc__ = "A parsed header; symbols_check is None in version 1."


class BitstreamError(ValueError):
  """A file that is not a valid nlaic bitstream for this model."""


def message(text):
  """Error text; the decoder graph's assertions use the same prefix."""
  return f"nlaic bitstream: {text}"


def file_checksum(version, data):
  """The checksum field's value for the file `data` (bytes) of `version`."""
  offset = LAYOUTS[version]["checksum"]
  head, payload = data[:offset], data[HEADER_SIZES[version]:]
  if version == 1:
    return zlib.adler32(payload, zlib.adler32(head))
  return crc32c(payload, crc32c(head))


def read_header(data, whole_file=True):
  """Parses and verifies the container in `data` (bytes) -> `Header`.

  Checks size, magic, version, stream lengths, checksum and image size (as
  the decoder graph does); raises `BitstreamError` with the reason. Does not
  check the model identifier. whole_file=False: `data` may be just the
  file's beginning (at least its header, e.g. what Pillow's `Image.open`
  reads); the stream lengths and the checksum, which need the whole file,
  are not checked.
  """
  if len(data) < MIN_HEADER_SIZE:
    raise BitstreamError(message(
        f"truncated: {len(data)} bytes, shorter than the header"))
  if data[:4] != MAGIC:
    raise BitstreamError(message("bad magic bytes: not an nlaic file"))
  version = data[4]
  if version not in READABLE_VERSIONS:
    raise BitstreamError(message(
        f"unsupported format version {version} (this reader: "
        f"{', '.join(map(str, READABLE_VERSIONS))})"))
  if len(data) < HEADER_SIZES[version]:
    raise BitstreamError(message(
        f"truncated: {len(data)} bytes, shorter than the "
        f"{HEADER_SIZES[version]}-byte header"))
  fields = dict(zip((name for name, _ in _FIELDS[version]),
                    _STRUCTS[version].unpack_from(data)))
  header = Header(**dict(fields, symbols_check=fields.get("symbols_check")))
  expected = HEADER_SIZES[version] + header.z_length + header.y_length
  if whole_file and len(data) != expected:
    raise BitstreamError(message(
        f"length mismatch: {len(data)} bytes, header says {expected} "
        "(truncated or trailing data)"))
  if whole_file and file_checksum(version, data) != header.checksum:
    raise BitstreamError(message("checksum mismatch: the file is corrupted"))
  if header.flags & ~FLAG_INTEGER or (version == 1 and header.flags):
    raise BitstreamError(message("unknown flags (written by a newer version)"))
  if min(header.height, header.width) <= 0:
    raise BitstreamError(message("bad image size"))
  if header.height * header.width > MAX_PIXELS:
    raise BitstreamError(message("image size too large"))
  return header
