"""Building and parsing nlaic files with TensorFlow ops (layout: `format`).

`pack` / `unpack` run inside the codec's tf.functions, so the SavedModel's
compress/decompress signatures write and read whole files and reject bad ones
with InvalidArgumentError whose message starts with "nlaic bitstream:".
`pack` writes version 2; `unpack` reads versions 1 and 2.
"""
import tensorflow as tf

from nlaic_tf.bitstream import crc
from nlaic_tf.bitstream.format import (HEADER_SIZES, LAYOUTS, MAGIC, MAX_PIXELS,
                                       MIN_HEADER_SIZE, VERSION, message)

_BYTE_STRINGS = [bytes([i]) for i in range(256)]
_SHIFT_COLUMNS = crc.shift_columns()


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


def _shift_tables(power):
  """int64 [4, 256]: [j, v] = a register whose byte j is v (other bytes
  zero) after 2^power zero bytes; the XOR of the columns of v's bits."""
  columns = tf.reshape(tf.gather(tf.constant(_SHIFT_COLUMNS), power), [4, 1, 8])
  values = tf.range(256, dtype=tf.int64)[None, :]
  tables = tf.zeros([4, 256], tf.int64)
  for bit in range(8):
    set_bit = tf.bitwise.bitwise_and(tf.bitwise.right_shift(values, bit), 1)
    tables = tf.bitwise.bitwise_xor(tables, set_bit * columns[:, :, bit])
  return tables


def _zero_shift(registers, power):
  """CRC registers int64 [m] (32-bit values) after 2^power zero bytes: one
  table lookup per register byte (few temporaries of m values each)."""
  tables = _shift_tables(power)
  out = None
  for j in range(4):
    byte = tf.bitwise.bitwise_and(tf.bitwise.right_shift(registers, 8 * j), 255)
    part = tf.gather(tables[j], byte)
    out = part if out is None else tf.bitwise.bitwise_xor(out, part)
  return out


def _crc32c_blocks(registers, block_log2, num_bytes):
  """CRC-32C of a message made of blocks of 2^block_log2 bytes.

  registers: int64 [n], block i's CRC register when it is processed from a
  zero register; num_bytes: int64 [], the message length. Blocks are combined
  pairwise (log2(n) parallel steps); zero blocks in front do not change a
  register started at zero, which pads odd counts.
  """
  def merge(level, values):
    values = tf.concat([tf.zeros([tf.size(values) % 2], tf.int64), values], 0)
    pairs = tf.reshape(values, [-1, 2])
    return level + 1, tf.bitwise.bitwise_xor(
        _zero_shift(pairs[:, 0], block_log2 + level), pairs[:, 1])

  _, values = tf.while_loop(lambda _, v: tf.size(v) > 1, merge,
                            (tf.constant(0), registers),
                            shape_invariants=(tf.TensorShape([]),
                                              tf.TensorShape([None])))
  raw = tf.reduce_sum(values)  # zero for an empty message

  def shift_initial(power, value):  # the initial register 0xFFFFFFFF
    bit_set = tf.bitwise.bitwise_and(
        tf.bitwise.right_shift(num_bytes, tf.cast(power, tf.int64)), 1) > 0
    shifted = _zero_shift(value[None], power)[0]
    return power + 1, tf.where(bit_set, shifted, value)

  _, initial = tf.while_loop(lambda p, _: p < len(_SHIFT_COLUMNS), shift_initial,
                             (tf.constant(0), tf.constant(crc.MASK, tf.int64)))
  return tf.bitwise.bitwise_xor(tf.bitwise.bitwise_xor(raw, initial), crc.MASK)


def crc32c(string):
  """CRC-32C of a scalar string, int64 (equals `crc.crc32c`)."""
  data = _string_bytes(string)
  return _crc32c_blocks(tf.gather(tf.constant(crc.BYTE_TABLE, tf.int64), data),
                        0, tf.size(data, out_type=tf.int64))


def symbols_check(indexes, symbols):
  """CRC-32C of int32 `indexes` then `symbols` (each [n], little-endian words)."""
  words = tf.concat([indexes, symbols], 0)
  words = tf.cast(tf.bitcast(tf.cast(words, tf.int32), tf.uint32), tf.int64)
  # A 4-byte word's register from zero: the word itself after 4 zero bytes.
  return _crc32c_blocks(_zero_shift(words, 2), 2,
                        4 * tf.size(words, out_type=tf.int64))


def pack(model_id, height, width, quality, z_string, y_string, flags, check):
  """Builds a version-2 container (scalar string).

  model_id: 8-byte scalar string; flags: int (`format.FLAG_INTEGER` or 0);
  check: int64 [], `symbols_check` of the coded latents.
  """
  fields = [
      _string_bytes(MAGIC), tf.constant([VERSION, flags], tf.int64),
      _string_bytes(model_id), _uint32_bytes(height), _uint32_bytes(width),
      _uint32_bytes(_float_bits(quality)),
      _uint32_bytes(tf.strings.length(z_string)),
      _uint32_bytes(tf.strings.length(y_string)), _uint32_bytes(check),
  ]
  head = _bytes_to_string(tf.concat(fields, 0))
  checksum = crc32c(tf.strings.join([head, z_string, y_string]))
  return tf.strings.join(
      [head, _bytes_to_string(_uint32_bytes(checksum)), z_string, y_string])


def _field(header, offset):
  """uint32 at `offset` of the parsed header bytes, as int64."""
  return tf.reduce_sum(header[offset:offset + 4] *
                       tf.constant([1, 1 << 8, 1 << 16, 1 << 24], tf.int64))


def _by_version(version, name):
  """Offset of field `name` in the layout of `version` (int64 [])."""
  return tf.where(tf.equal(version, 1), tf.constant(LAYOUTS[1][name], tf.int64),
                  tf.constant(LAYOUTS[2][name], tf.int64))


def _check(condition, text):
  """Assertion whose error message is exactly `message(text)` (no tensor data)."""
  return tf.debugging.Assert(condition, [message(text)])


def unpack(bitstream, model_id, num_levels):
  """Verifies and parses a container (scalar string) of version 1 or 2.

  Returns (height, width, quality, z_string, y_string, flags, check): height,
  width int32, quality float32, flags int64 (0 in version 1), check int64
  (the stored `symbols_check`, -1 in version 1: nothing to compare). Fails
  with InvalidArgumentError ("nlaic bitstream: ...") on anything that is not
  a valid file of this model.
  """
  length = tf.cast(tf.strings.length(bitstream), tf.int64)
  checks = [_check(length >= MIN_HEADER_SIZE,
                   "truncated: shorter than the header")]
  with tf.control_dependencies(checks):
    header = _string_bytes(tf.strings.substr(bitstream, 0, max(HEADER_SIZES.values())))
    version = header[LAYOUTS[1]["version"]]
    checks = [
        _check(tf.equal(tf.strings.substr(bitstream, 0, 4), MAGIC),
               "bad magic bytes: not an nlaic file"),
        _check(tf.logical_or(tf.equal(version, 1), tf.equal(version, 2)),
               "unsupported format version"),
    ]
  with tf.control_dependencies(checks):
    header_size = _by_version(version, "checksum") + 4
    checks = [_check(length >= header_size, "truncated: shorter than the header")]
  with tf.control_dependencies(checks):
    z_length = _field(header, LAYOUTS[1]["z_length"])
    y_length = _field(header, LAYOUTS[1]["y_length"])
    checks = [_check(tf.equal(length, header_size + z_length + y_length),
                     "length mismatch: truncated or trailing data")]
  with tf.control_dependencies(checks):
    payload = tf.strings.substr(bitstream, header_size, length - header_size)
    covered = tf.strings.join(
        [tf.strings.substr(bitstream, tf.constant(0, tf.int64), header_size - 4),
         payload])
    checksum = tf.cond(tf.equal(version, 1), lambda: adler32(covered),
                       lambda: crc32c(covered))
    stored = _field(header, LAYOUTS[1]["checksum"])
    stored = tf.where(tf.equal(version, 1), stored,
                      _field(header, LAYOUTS[2]["checksum"]))
    checks = [_check(tf.equal(checksum, stored),
                     "checksum mismatch: the file is corrupted")]
  with tf.control_dependencies(checks):
    offsets = LAYOUTS[1]
    stored_id = tf.strings.substr(bitstream, offsets["model_id"], 8)
    height, width = _field(header, offsets["height"]), _field(header, offsets["width"])
    quality = tf.bitcast(tf.cast(_field(header, offsets["quality"]), tf.uint32),
                         tf.float32)
    flags = header[offsets["flags"]]
    checks = [
        _check(tf.equal(stored_id, model_id),
               "encoded with a different model (model identifier mismatch)"),
        _check(tf.minimum(height, width) > 0, "bad image size"),
        _check(height * width <= MAX_PIXELS, "image size too large"),
        _check(tf.abs(quality - (num_levels - 1) / 2) <= (num_levels - 1) / 2,
               "quality outside the model's rate levels"),
        _check(tf.equal(tf.bitwise.bitwise_and(flags, -2), 0),
               "unknown flags (written by a newer version)"),
    ]
  with tf.control_dependencies(checks):
    z_string = tf.strings.substr(payload, tf.constant(0, tf.int64), z_length)
    y_string = tf.strings.substr(payload, z_length, y_length)
    check = tf.where(tf.equal(version, 1), tf.constant(-1, tf.int64),
                     _field(header, LAYOUTS[2]["symbols_check"]))
    return (tf.cast(height, tf.int32), tf.cast(width, tf.int32),
            tf.identity(quality), z_string, y_string, tf.identity(flags), check)
