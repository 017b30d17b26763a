"""Decoder safety: forged headers fail fast, the pixel limit, seeded fuzzing."""
import time

import numpy as np
import pytest

from conftest import smooth_image
from nlaic_tf import api
from nlaic_tf.bitstream import HEADER_SIZE, BitstreamError, read_header
from nlaic_tf.bitstream.mutations import fuzz, set_fields, with_streams


@pytest.fixture(scope="module")
def stream(tiny_codec):
  return tiny_codec.compress(smooth_image(96, 128, seed=1), np.float32(1.)).numpy()


def _split(data):
  header = read_header(data)
  return (data[HEADER_SIZE:HEADER_SIZE + header.z_length],
          data[HEADER_SIZE + header.z_length:])


@pytest.mark.parametrize("size", [1024, 4096, 16384])
def test_small_file_claiming_a_large_image_fails_fast(tiny_codec, stream, size):
  """The issue's file: a valid stream whose header claims size x size."""
  # Traced before timing: the twin that decodes the small image, and the
  # general function that a large claim goes to.
  api.decompress(stream, tiny_codec)
  tiny_codec.decompress(stream)
  start = time.perf_counter()
  with pytest.raises(BitstreamError, match="stream"):
    api.decompress(set_fields(stream, height=size, width=size), tiny_codec, max_pixels=0)
  elapsed = time.perf_counter() - start
  assert elapsed < 5, elapsed


def test_stream_that_runs_out_fails_in_the_wavefront_loop(tiny_codec, stream):
  """z intact, y cut to 4 bytes: the decoder soon reads the 0xFF padding, whose
  improbable symbols trip the guard inside the loop, not after a hang. Cut in
  half, the rest may decode to cheap symbols that stay within the bound (it
  is conservative) until the end, where the symbols check rejects the file
  (seen in one of three runs of the randomly initialised tiny model)."""
  z, y = _split(stream)
  with pytest.raises(BitstreamError, match="y stream ends before its data"):
    api.decompress(with_streams(stream, z, y[:4]), tiny_codec)
  with pytest.raises(BitstreamError, match="y stream ends before its data|"
                     "decoded symbols differ"):
    api.decompress(with_streams(stream, z, y[:len(y) // 2]), tiny_codec)
  with pytest.raises(BitstreamError, match="z stream"):
    api.decompress(with_streams(stream, z[:len(z) // 2], y), tiny_codec)


def test_unread_data_after_a_stream_is_an_error(tiny_codec, stream):
  """Zeros first: the decoder reads the zeros that a stream leaves implicit,
  so the last symbols decode as encoded and only the unread rest is wrong
  (bytes right after the stream could change them, and the symbols check
  would fire first)."""
  from nlaic_tf.entropy.stream_guard import PAD_ZEROS
  z, y = _split(stream)
  with pytest.raises(BitstreamError, match="y stream has data after its last"):
    api.decompress(with_streams(stream, z, y + bytes(PAD_ZEROS) + bytes([7]) * 16),
                   tiny_codec)


def test_pixel_limit_names_the_option(tiny_codec, stream):
  with pytest.raises(BitstreamError, match=r"128x96 .*max_pixels=10000 \(--max-pixels"):
    api.decompress(stream, tiny_codec, max_pixels=100 * 100)
  assert api.decompress(stream, tiny_codec, max_pixels=128 * 96).shape == (96, 128, 3)
  forged = set_fields(stream, height=10000, width=10000)
  with pytest.raises(BitstreamError, match="max_pixels"):
    api.decompress(forged, tiny_codec)


def test_cli_max_pixels_and_the_exported_decoder(tmp_path, exported, caplog, loaded):
  from nlaic_tf.cli import main
  data = loaded.compress(smooth_image(40, 56, seed=2), np.float32(1.)).numpy()
  (tmp_path / "a.nlaic").write_bytes(data)
  out = tmp_path / "a.png"
  args = ["decompress", str(tmp_path / "a.nlaic"), str(out), "--model", exported]
  assert main(args + ["--max-pixels", "1000"]) == 1
  assert "--max-pixels" in caplog.text and not out.exists()
  assert main(args + ["--max-pixels", "0"]) == 0 and out.exists()
  # The exported decoder (format limit only) refuses the forged size itself.
  with pytest.raises(BitstreamError, match="stream"):
    api.decompress(set_fields(data, height=4096, width=4096), loaded, max_pixels=0)


def test_fuzzed_files_decode_or_raise_bitstream_error(tiny_codec):
  """500 seeded mutations of valid files (see `mutations`): each returns an
  image or raises BitstreamError (anything else fails `fuzz`), quickly."""
  rng = np.random.default_rng(0)
  files = [tiny_codec.compress(smooth_image(h, w, seed=int(rng.integers(99))),
                               np.float32(q)).numpy()
           for h, w, q in ((1, 1, 0.), (40, 56, 1.), (70, 90, .5))]
  counts, slowest, kind = fuzz(
      lambda data: api.decompress(data, tiny_codec, max_pixels=0), files, 500, 19)
  assert sum(counts.values()) == 500
  kinds = {k for k, outcome in counts if outcome == "rejected"}
  assert {"size", "split", "random", "empty", "truncate", "flip"} <= kinds
  assert slowest < 5, (slowest, kind)


def test_escape_bits_are_counted_exactly_in_a_graph():
  """An escaped value with Elias-gamma number 2^k carries 2k + 2 bits after
  the escape symbol. Computed as log(x) / log(2) in a tf.function, k came out
  one short for some powers of two, and a valid file with many such escapes
  failed with "data after its last symbol"."""
  import tensorflow as tf
  from nlaic_tf.entropy.stream_guard import CodingTables
  tables = CodingTables([-16, 0, 16384, 32768, 49152, 65536])  # escape: symbol 3
  ks = np.arange(0, 30)
  values = np.concatenate([3 + 2 ** ks - 1, -(2 ** ks)]).astype(np.int32)
  bounds = tf.function(lambda v: tables.bits_bounds(tf.zeros_like(v), v))
  low, up = (float(b) for b in bounds(tf.constant(values)))
  gamma_bits = 2. * np.concatenate([ks, ks]) + 2.
  margin = 2. ** -16
  expected_low = np.sum(-np.log2(.25 + margin) - gamma_bits * np.log2(.5 + margin))
  expected_up = np.sum(-np.log2(.25 - margin) - gamma_bits * np.log2(.5 - margin))
  assert low == pytest.approx(expected_low, abs=1e-6)
  assert up == pytest.approx(expected_up, abs=1e-6)
