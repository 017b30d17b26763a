"""Range decoding that fails fast on corrupt or forged streams, in bounded work.

tfc's `RangeDecoder` (tensorflow_compression/cc/lib/range_coder.h) keeps a
32-bit window, reads its string 16 bits at a time and reads zeros past the
end (a valid stream omits its trailing zeros). Its escape decoding (symbols
outside a table, Elias-gamma coded) loops `while (next bit == 0)`: on a
stream that has run out, that loop can read zeros forever. A 329-byte file
whose header claims 1024x1024 hangs there. So the decoder here reads
`string + PAD_ZEROS zero bytes + 0xFF bytes`: a valid stream only ever needs
the zeros, and any 0xFF byte ends such a loop within a few dozen bits.

Every decoded symbol narrows the coder's interval S -> S' with
S * (f / 2^p - 2^-16) < S' < S * (f / 2^p + 2^-16) (f: the symbol's
frequency in a table of precision p; S > 2^16 between symbols), so after I
bits of information the decoder has read between 2 + I_low / 8 and
4 + I_up / 8 bytes (`bits_bounds`). After each call:
  - I_low says the decoder ran past its stream (more than the PAD_ZEROS bytes
    a valid stream leaves implicit) -> error;
  - I_up bounds how far into the 0xFF bytes it may have read, so the next call
    cannot run out of them (the padding is sized for that; `padding_bytes`).
At the end, I_up must cover the whole stream (no unread data). Before any
decoding, `check_claim` refuses a claimed number of symbols whose cheapest
possible coding (every symbol the most probable of its table) exceeds the
stream: the work done on a file grows with its length, not its header.
All checks raise InvalidArgumentError with `message(...)` texts.
"""
import math

import tensorflow as tf
import tensorflow_compression as tfc

from nlaic_tf.bitstream.format import message

# Zero bytes a valid stream may leave implicit: the decoder's 4-byte window
# plus two 16-bit words the encoder may defer (a carry chain at the end).
PAD_ZEROS = 8
# Upper bound of the bytes one symbol can make the decoder read in the padded
# stream: 32 bits of the symbol, the escape's zero run through PAD_ZEROS
# zeros and 32 more bits, as many value bits, and the sign.
BYTES_PER_SYMBOL = 64
# I_up / I_low <= 2.2 for every symbol (worst: f = 1); a valid stream's I_up
# therefore stays below UP_FACTOR (length + PAD_ZEROS) bytes.
UP_FACTOR = 3
# Garbage escapes with 31 or more value bits overflow tfc's int32 (their
# count is lost); they can only arise while reading zero bytes, and hide at
# most twice the bits read, so the 0xFF bytes reach this many times further.
SLACK_FACTOR = UP_FACTOR + 2
_MARGIN = 2. ** -16
_LN2 = math.log(2.)


class CodingTables:
  """Per-row facts of a tfc range-coding table (the flat `cdf` of a tfc entropy
  model: rows of [-precision, c_0 .. c_n] with c_0 = 0, c_n = 2^precision).

  Attributes (tensors, one entry per row): start (int32, position of the
  precision entry), precision (float64), escape (int32, n - 1: the escape
  symbol), and min_bits (float64 []): the smallest information any symbol of
  any row carries under the bound above.
  """

  def __init__(self, cdf):
    self.cdf = tf.convert_to_tensor(cdf, tf.int32)
    length = tf.size(self.cdf)
    self.start = tf.cast(tf.where(self.cdf < 0)[:, 0], tf.int32)
    ends = tf.concat([self.start[1:], [length]], 0)
    self.precision = tf.cast(-tf.gather(self.cdf, self.start), tf.float64)
    self.escape = ends - self.start - 3
    values = tf.cast(self.cdf, tf.float64)
    freq = values[1:] - values[:-1]
    valid = tf.logical_and(self.cdf[1:] >= 0, self.cdf[:-1] >= 0)
    row = tf.searchsorted(self.start, tf.range(length - 1), side="right") - 1
    scale = tf.gather(tf.pow(tf.constant(2., tf.float64), -self.precision), row)
    top = tf.reduce_max(tf.where(valid, freq * scale, 0.))
    self.min_bits = -tf.math.log(top + _MARGIN) / _LN2

  def bits_bounds(self, indexes, values):
    """Information (bits, float64 []) of decoded symbols: (low, up) bounds.

    indexes: int32 [n] table rows; values: int32 [n] as `entropy_decode_index`
    returns them (escape-coded values outside [0, escape)).
    """
    escape = tf.gather(self.escape, indexes)
    escaped = tf.logical_or(values < 0, values >= escape)
    symbol = tf.where(escaped, escape, values)
    at = tf.gather(self.start, indexes) + 1 + symbol
    freq = tf.cast(tf.gather(self.cdf, at + 1) - tf.gather(self.cdf, at),
                   tf.float64)
    p = freq * tf.pow(tf.constant(2., tf.float64), -tf.gather(self.precision, indexes))
    low = -tf.math.log(p + _MARGIN)
    up = -tf.math.log(tf.maximum(p - _MARGIN, 2. ** -32))
    value = tf.cast(values, tf.float64)
    gamma = tf.where(values < 0, -value, value - tf.cast(escape, tf.float64) + 1.)
    binary = tf.where(escaped, 2. * _floor_log2(tf.maximum(gamma, 1.)) + 2., 0.)
    low += binary * -math.log(.5 + _MARGIN)
    up += binary * -math.log(.5 - _MARGIN)
    return tf.reduce_sum(low) / _LN2, tf.reduce_sum(up) / _LN2


def _floor_log2(x):
  """floor(log2(x)) of float64 integers x >= 1, exactly: the binary exponent.

  Not log(x) / log(2): graph optimizations rewrite that as log(x) * (1 / log(2)),
  which gives 0.999... for x = 2, and each escape would lose 2 bits.
  """
  exponent = tf.bitwise.right_shift(tf.bitcast(x, tf.int64), 52) - 1023
  return tf.cast(exponent, tf.float64)


def _ff_bytes(count, chunk=b"\xff" * 4096):
  """A string of `count` (int32 []) 0xFF bytes, built from 4 KB pieces (a
  string element per byte would take 32 bytes of memory per byte)."""
  return tf.strings.join([
      tf.strings.reduce_join(tf.fill([count // len(chunk)], chunk)),
      tf.strings.substr(chunk, 0, count % len(chunk))])


def padding_bytes(length, max_call_symbols):
  """Bytes appended to a stream of `length` bytes (int32 scalars)."""
  return (PAD_ZEROS + SLACK_FACTOR * (length + PAD_ZEROS) +
          BYTES_PER_SYMBOL * max_call_symbols)


class GuardedDecoder:
  """A tfc range decoder over one stream, with the checks of the module doc.

  The decoder state is the tuple (handle, low_bits, up_bits), so it can be a
  `tf.while_loop` variable. `name` ("z", "y") appears in error messages.
  """

  def __init__(self, cdf, string, name):
    self.tables = CodingTables(cdf)
    self.name = name
    self.string = string
    self.length = tf.cast(tf.strings.length(string), tf.float64)

  def check_claim(self, num_symbols):
    """Assertion: `num_symbols` can fit in the stream at all."""
    cheapest = tf.cast(num_symbols, tf.float64) * self.tables.min_bits / 8.
    return tf.debugging.Assert(
        cheapest <= self.length + PAD_ZEROS, [message(
            f"the {self.name} stream is too short for the image size in the "
            "header (truncated or forged header)")])

  def start(self, max_call_symbols):
    """Initial decoder state (handle, low_bits, up_bits) for calls of at most
    `max_call_symbols` symbols (int32 [])."""
    pad = padding_bytes(tf.strings.length(self.string),
                        tf.cast(max_call_symbols, tf.int32))
    padded = tf.strings.join(
        [self.string, b"\x00" * PAD_ZEROS, _ff_bytes(pad - PAD_ZEROS)])
    handle = tfc.create_range_decoder(padded, self.tables.cdf)
    zero = tf.constant(0., tf.float64)
    return handle, zero, zero

  def decode(self, state, indexes):
    """Decodes len(indexes) symbols -> (state, values int32 [n] before the
    table offset); fails if the decoder has run past the stream."""
    handle, low, up = state
    handle, values = tfc.entropy_decode_index(handle, indexes, tf.shape(indexes),
                                              tf.int32)
    step_low, step_up = self.tables.bits_bounds(indexes, values)
    low, up = low + step_low, up + step_up
    check = tf.debugging.Assert(
        tf.logical_and(2. + low / 8. <= self.length + PAD_ZEROS,
                       4. + up / 8. <= UP_FACTOR * (self.length + PAD_ZEROS)),
        [message(f"the {self.name} stream ends before its data "
                 "(truncated or corrupted, or decoded with other entropy "
                 "parameters than the encoder's)")])
    with tf.control_dependencies([check]):
      return (handle, tf.identity(low), tf.identity(up)), tf.identity(values)

  def finish(self, state):
    """Assertion: the decoder read the whole stream."""
    _, _, up = state
    return tf.debugging.Assert(
        4. + up / 8. >= self.length + 2., [message(
            f"the {self.name} stream has data after its last symbol "
            "(corrupted)")])
