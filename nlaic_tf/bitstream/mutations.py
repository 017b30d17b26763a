"""Seeded corruptions and forgeries of nlaic files, for fuzzing decoders.

`mutate(data, rng)` returns (kind, bytes): random damage (truncation, bit
flips, byte runs, appended or random bytes) or header fields rewritten with
a valid checksum (image size, stream lengths and split, quality, version,
empty and random streams), so that a decoder has to reject the file on its
content, not on the checksum. Pure Python; `rng` is a `random.Random`.
"""
import struct

from nlaic_tf.bitstream.format import (HEADER_SIZE, HEADER_SIZES, LAYOUTS,
                                       VERSION, file_checksum, read_header)


def _version(data):
  """The format version whose layout `data` has (the written one if its
  version byte names none)."""
  return data[4] if len(data) > 4 and data[4] in LAYOUTS else VERSION


def with_checksum(data):
  """`data` (bytes, at least a header) with its checksum recomputed as its
  format version computes it."""
  version = _version(data)
  data = bytearray(data)
  struct.pack_into("<I", data, LAYOUTS[version]["checksum"],
                   file_checksum(version, bytes(data)))
  return bytes(data)


def set_fields(data, **fields):
  """Rewrites header fields (uint32 ones from ints, quality as float32,
  model_id from 8 bytes), then the checksum."""
  data = bytearray(data)
  layout = LAYOUTS[_version(data)]
  for name, value in fields.items():
    if isinstance(value, bytes):
      data[layout[name]:layout[name] + len(value)] = value
    else:
      struct.pack_into("<f" if name == "quality" else "<I", data, layout[name], value)
  return with_checksum(data)


def with_streams(data, z, y):
  """A file with the header of `data` around new streams z and y (bytes)."""
  size = HEADER_SIZES[_version(data)]
  return set_fields(data[:size] + z + y, z_length=len(z), y_length=len(y))


def _random_bytes(rng, n):
  return bytes(rng.getrandbits(8) for _ in range(n))


def _size(rng):
  return rng.choice([0, 1, rng.randint(1, 64), rng.randint(1, 4096),
                     rng.randint(1, 20000), rng.randint(1, 1 << 32) - 1])


def _damage(data, rng):
  data = bytearray(data)
  kind = rng.choice(["truncate", "flip", "run", "append", "garbage"])
  if kind == "truncate":
    return kind, bytes(data[:rng.randrange(len(data))])
  if kind == "flip":
    for _ in range(rng.randint(1, 8)):
      data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
  elif kind == "run":
    start = rng.randrange(len(data))
    value = rng.choice([0, 255, rng.getrandbits(8)])
    data[start:start + rng.randint(1, 64)] = bytes([value]) * rng.randint(1, 64)
  elif kind == "append":
    data += _random_bytes(rng, rng.randint(1, 64))
  else:
    data = bytearray(data[:rng.choice([0, 4, HEADER_SIZE])] +
                     _random_bytes(rng, rng.randint(0, 300)))
  return kind, bytes(data)


def _forge(data, rng):
  header = read_header(data)
  size = HEADER_SIZES[_version(data)]
  z = data[size:size + header.z_length]
  y = data[size + header.z_length:]
  kind = rng.choice(["size", "lengths", "split", "quality", "version",
                     "empty", "random", "swap", "size+random"])
  if kind == "size":
    return kind, set_fields(data, height=_size(rng), width=_size(rng))
  if kind == "lengths":
    return kind, set_fields(data, z_length=rng.randint(0, len(z) + len(y) + 8),
                      y_length=rng.randint(0, len(z) + len(y) + 8))
  if kind == "split":
    cut = rng.randint(0, len(z) + len(y))
    return kind, set_fields(data, z_length=cut, y_length=len(z) + len(y) - cut)
  if kind == "quality":
    value = rng.choice([float("nan"), float("inf"), -1., 1e30,
                        rng.uniform(-2., 10.)])
    return kind, set_fields(data, quality=value)
  if kind == "version":
    forged = bytearray(data)
    forged[LAYOUTS[VERSION]["version"]] = rng.randrange(256)
    return kind, with_checksum(forged)
  if kind == "empty":
    return kind, rng.choice([with_streams(data, b"", y), with_streams(data, z, b""),
                             with_streams(data, b"", b"")])
  if kind == "swap":
    return kind, with_streams(data, y, z)
  random_z = _random_bytes(rng, rng.randint(0, 2 * len(z) + 4))
  random_y = _random_bytes(rng, rng.randint(0, 2 * len(y) + 4))
  forged = rng.choice([with_streams(data, random_z, y), with_streams(data, z, random_y),
                       with_streams(data, random_z, random_y)])
  if kind == "size+random":
    forged = set_fields(forged, height=_size(rng), width=_size(rng))
  return kind, forged


def mutate(data, rng):
  """A damaged or forged copy of the valid file `data` -> (kind, bytes)."""
  return (_damage if rng.random() < .4 else _forge)(data, rng)


def fuzz(decode, files, cases, seed):
  """Decodes `cases` mutations of the valid `files` (list of bytes).

  decode(bytes) must return an image or raise `BitstreamError`; any other
  exception propagates (with the case's kind and number added). Returns
  (counts {(kind, "decoded" | "rejected"): n}, slowest seconds, its kind).
  """
  import collections
  import random
  import time
  from nlaic_tf.bitstream.format import BitstreamError
  rng = random.Random(seed)
  decode(files[0])  # the first call traces the decoder: not timed
  counts = collections.Counter()
  slowest = (0., None)
  for case in range(cases):
    kind, data = mutate(rng.choice(files), rng)
    start = time.perf_counter()
    try:
      decode(data)
      outcome = "decoded"
    except BitstreamError:
      outcome = "rejected"
    except Exception as e:
      raise AssertionError(f"case {case} ({kind}, seed {seed}): "
                           f"{type(e).__name__}: {e}") from e
    seconds = time.perf_counter() - start
    slowest = max(slowest, (seconds, kind))
    counts[kind, outcome] += 1
  return dict(counts), slowest[0], slowest[1]
