"""Building and parsing nlaic files with TensorFlow ops (layout: `format`).

`pack` / `unpack` run inside the codec's tf.functions, so the SavedModel's
compress/decompress signatures write and read whole files and reject bad ones
with InvalidArgumentError whose message starts with "nlaic bitstream:".
"""
import tensorflow as tf

from nlaic_tf.bitstream.format import (CHECKSUM_OFFSET, HEADER_SIZE, MAGIC,
                                       MAX_PIXELS, OFFSETS, VERSION, message)

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
  offset = OFFSETS[name]
  return tf.reduce_sum(header[offset:offset + 4] *
                       tf.constant([1, 1 << 8, 1 << 16, 1 << 24], tf.int64))


def _check(condition, text):
  """Assertion whose error message is exactly `message(text)` (no tensor data)."""
  return tf.debugging.Assert(condition, [message(text)])


def unpack(bitstream, model_id, num_levels):
  """Verifies and parses a container (scalar string).

  Returns (height, width, quality, z_string, y_string) with height/width
  int32 and quality float32; fails with InvalidArgumentError ("nlaic
  bitstream: ...") on anything that is not a valid file of this model.
  """
  length = tf.strings.length(bitstream)
  checks = [_check(length >= HEADER_SIZE, "truncated: shorter than the header")]
  with tf.control_dependencies(checks):
    header = _string_bytes(tf.strings.substr(bitstream, 0, HEADER_SIZE))
    checks = [
        _check(tf.equal(tf.strings.substr(bitstream, 0, 4), MAGIC),
               "bad magic bytes: not an nlaic file"),
        _check(tf.equal(header[OFFSETS["version"]], VERSION),
               "unsupported format version"),
    ]
  with tf.control_dependencies(checks):
    z_length, y_length = _field(header, "z_length"), _field(header, "y_length")
    checks = [_check(tf.equal(tf.cast(length, tf.int64),
                              HEADER_SIZE + z_length + y_length),
                     "length mismatch: truncated or trailing data")]
  with tf.control_dependencies(checks):
    payload = tf.strings.substr(bitstream, HEADER_SIZE, length - HEADER_SIZE)
    checksum = adler32(tf.strings.join(
        [tf.strings.substr(bitstream, 0, CHECKSUM_OFFSET), payload]))
    checks = [_check(tf.equal(checksum, _field(header, "checksum")),
                     "checksum mismatch: the file is corrupted")]
  with tf.control_dependencies(checks):
    stored_id = tf.strings.substr(bitstream, OFFSETS["model_id"], 8)
    height, width = _field(header, "height"), _field(header, "width")
    quality = tf.bitcast(tf.cast(_field(header, "quality"), tf.uint32), tf.float32)
    checks = [
        _check(tf.equal(stored_id, model_id),
               "encoded with a different model (model identifier mismatch)"),
        _check(tf.minimum(height, width) > 0, "bad image size"),
        _check(height * width <= MAX_PIXELS, "image size too large"),
        _check(tf.abs(quality - (num_levels - 1) / 2) <= (num_levels - 1) / 2,
               "quality outside the model's rate levels"),
    ]
  with tf.control_dependencies(checks):
    z_string = tf.strings.substr(payload, 0, tf.cast(z_length, tf.int32))
    y_string = tf.strings.substr(payload, tf.cast(z_length, tf.int32),
                                 tf.cast(y_length, tf.int32))
    return (tf.cast(height, tf.int32), tf.cast(width, tf.int32),
            tf.identity(quality), z_string, y_string)
