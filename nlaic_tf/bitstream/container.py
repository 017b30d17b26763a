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

`pack` / `unpack` build and parse it with TensorFlow ops, so the SavedModel's
compress/decompress signatures read and write whole files and reject bad ones
(InvalidArgumentError whose message starts with "nlaic bitstream:").
`read_header` parses and checks a file in plain Python (for `nlaic info`).
"""
import collections
import struct
import zlib

import tensorflow as tf

MAGIC = b"NLIC"
VERSION = 1
MAX_PIXELS = 1 << 28  # 16384 x 16384
_FIELDS = (("magic", "4s"), ("version", "B"), ("flags", "B"),
           ("model_id", "8s"), ("height", "I"), ("width", "I"),
           ("quality", "f"), ("z_length", "I"), ("y_length", "I"),
           ("checksum", "I"))
_STRUCT = struct.Struct("<" + "".join(code for _, code in _FIELDS))
HEADER_SIZE = _STRUCT.size
_OFFSETS = {}
_offset = 0
for _name, _code in _FIELDS:
  _OFFSETS[_name] = _offset
  _offset += struct.calcsize("<" + _code)
CHECKSUM_OFFSET = _OFFSETS["checksum"]

Header = collections.namedtuple("Header", [name for name, _ in _FIELDS])


class BitstreamError(ValueError):
  """A file that is not a valid nlaic bitstream for this model."""


def _message(text):
  return f"nlaic bitstream: {text}"


# ---------------------------------------------------------------- Python side


def read_header(data):
  """Parses and verifies the container in `data` (bytes) -> `Header`.

  Checks size, magic, version, stream lengths and checksum; raises
  `BitstreamError` with the reason. Does not check the model identifier.
  """
  if len(data) < HEADER_SIZE:
    raise BitstreamError(_message(
        f"truncated: {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header"))
  header = Header(*_STRUCT.unpack_from(data))
  if header.magic != MAGIC:
    raise BitstreamError(_message("bad magic bytes: not an nlaic file"))
  if header.version != VERSION:
    raise BitstreamError(_message(
        f"unsupported format version {header.version} (this reader: {VERSION})"))
  expected = HEADER_SIZE + header.z_length + header.y_length
  if len(data) != expected:
    raise BitstreamError(_message(
        f"length mismatch: {len(data)} bytes, header says {expected} "
        "(truncated or trailing data)"))
  checksum = zlib.adler32(data[HEADER_SIZE:], zlib.adler32(data[:CHECKSUM_OFFSET]))
  if checksum != header.checksum:
    raise BitstreamError(_message("checksum mismatch: the file is corrupted"))
  return header


# ------------------------------------------------------------ TensorFlow side

_BYTE_STRINGS = [bytes([i]) for i in range(256)]


def _bytes_to_string(values):
  """int64 [n] in [0, 255] -> scalar string of those bytes."""
  table = tf.constant(_BYTE_STRINGS)
  return tf.strings.reduce_join(tf.gather(table, values))


def _uint32_bytes(value):
  """Scalar (int or float32 bit pattern as int64) -> int64 [4], little-endian."""
  value = tf.cast(value, tf.int64)
  shifts = tf.constant([0, 8, 16, 24], tf.int64)
  return tf.bitwise.bitwise_and(tf.bitwise.right_shift(value, shifts), 255)


def _float_bits(value):
  return tf.cast(tf.bitcast(tf.cast(value, tf.float32), tf.uint32), tf.int64)


def _string_bytes(string):
  return tf.cast(tf.io.decode_raw(string, tf.uint8), tf.int64)


def adler32(string):
  """Adler-32 of a scalar string, int64 (equals zlib.adler32)."""
  data = _string_bytes(string)
  n = tf.size(data, out_type=tf.int64)
  a = (1 + tf.reduce_sum(data)) % 65521
  b = (n + tf.reduce_sum((n - tf.range(n)) * data)) % 65521
  return b * 65536 + a


def pack(model_id, height, width, quality, z_string, y_string):
  """Builds a container (scalar string). model_id: 8-byte scalar string."""
  fields = [
      _string_bytes(MAGIC), tf.constant([VERSION, 0], tf.int64),
      _string_bytes(model_id), _uint32_bytes(height), _uint32_bytes(width),
      _uint32_bytes(_float_bits(quality)),
      _uint32_bytes(tf.strings.length(z_string)),
      _uint32_bytes(tf.strings.length(y_string)),
  ]
  head = _bytes_to_string(tf.concat(fields, 0))
  checksum = adler32(tf.strings.join([head, z_string, y_string]))
  return tf.strings.join(
      [head, _bytes_to_string(_uint32_bytes(checksum)), z_string, y_string])


def _field(header, name):
  """uint32 field of the parsed header bytes, as int64."""
  offset = _OFFSETS[name]
  return tf.reduce_sum(header[offset:offset + 4] *
                       tf.constant([1, 1 << 8, 1 << 16, 1 << 24], tf.int64))


def unpack(bitstream, model_id, num_levels):
  """Verifies and parses a container (scalar string).

  Returns (height, width, quality, z_string, y_string) with height/width
  int32 and quality float32; fails with InvalidArgumentError ("nlaic
  bitstream: ...") on anything that is not a valid file of this model.
  """
  length = tf.strings.length(bitstream)
  checks = [tf.debugging.assert_greater_equal(
      length, HEADER_SIZE, message=_message("truncated: shorter than the header"))]
  with tf.control_dependencies(checks):
    header = _string_bytes(tf.strings.substr(bitstream, 0, HEADER_SIZE))
  magic = tf.strings.substr(bitstream, 0, 4)
  checks = [
      tf.debugging.assert_equal(magic, MAGIC,
                                message=_message("bad magic bytes: not an nlaic file")),
      tf.debugging.assert_equal(header[_OFFSETS["version"]], tf.constant(VERSION, tf.int64),
                                message=_message("unsupported format version")),
  ]
  with tf.control_dependencies(checks):
    z_length, y_length = _field(header, "z_length"), _field(header, "y_length")
    checks = [tf.debugging.assert_equal(
        tf.cast(length, tf.int64), HEADER_SIZE + z_length + y_length,
        message=_message("length mismatch: truncated or trailing data"))]
  with tf.control_dependencies(checks):
    payload = tf.strings.substr(bitstream, HEADER_SIZE, length - HEADER_SIZE)
    checksum = adler32(tf.strings.join(
        [tf.strings.substr(bitstream, 0, CHECKSUM_OFFSET), payload]))
    checks = [tf.debugging.assert_equal(
        checksum, _field(header, "checksum"),
        message=_message("checksum mismatch: the file is corrupted"))]
  with tf.control_dependencies(checks):
    stored_id = tf.strings.substr(bitstream, _OFFSETS["model_id"], 8)
    height, width = _field(header, "height"), _field(header, "width")
    quality = tf.bitcast(tf.cast(_field(header, "quality"), tf.uint32), tf.float32)
    checks = [
        tf.debugging.assert_equal(stored_id, model_id, message=_message(
            "encoded with a different model (model identifier mismatch)")),
        tf.debugging.assert_greater(tf.minimum(height, width), tf.constant(0, tf.int64),
                                    message=_message("bad image size")),
        tf.debugging.assert_less_equal(height * width, tf.constant(MAX_PIXELS, tf.int64),
                                       message=_message("image size too large")),
        tf.debugging.assert_less_equal(
            tf.abs(quality - (num_levels - 1) / 2), (num_levels - 1) / 2,
            message=_message("quality outside the model's rate levels")),
    ]
  with tf.control_dependencies(checks):
    z_string = tf.strings.substr(payload, 0, tf.cast(z_length, tf.int32))
    y_string = tf.strings.substr(payload, tf.cast(z_length, tf.int32),
                                 tf.cast(y_length, tf.int32))
    return (tf.cast(height, tf.int32), tf.cast(width, tf.int32),
            tf.identity(quality), z_string, y_string)
