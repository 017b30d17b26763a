"""Real compression with a tiny model: exact round trips, sizes, corrupt files."""
import os
import subprocess
import sys
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf

from conftest import smooth_image, tiny_integer_config
from nlaic_tf import api
from nlaic_tf.bitstream import HEADER_SIZE, BitstreamError, read_header
from nlaic_tf.bitstream import crc
from nlaic_tf.bitstream.container import adler32, crc32c
from nlaic_tf.bitstream.format import CHECKSUM_OFFSET, file_checksum
from nlaic_tf.zoo import build_model
from nlaic_tf.models.codec import NLAICCodec


def _round_trip(codec, image, quality):
  data, y_enc, recon = codec.encode(image, np.float32(quality))
  decoded, y_dec = codec.decode(data)
  np.testing.assert_array_equal(y_dec.numpy(), y_enc.numpy())
  np.testing.assert_array_equal(decoded.numpy(), recon.numpy())
  return data.numpy(), decoded.numpy()


@pytest.mark.parametrize("quality", [0., 1.])
def test_round_trip_is_exact_at_each_level(tiny_codec, quality):
  image = smooth_image(96, 128, seed=3)
  data, decoded = _round_trip(tiny_codec, image, quality)
  assert decoded.shape == image.shape and decoded.dtype == np.uint8
  header = read_header(data)
  assert (header.height, header.width, header.quality) == (96, 128, quality)
  assert header.model_id == tiny_codec.model_id.numpy()


def test_higher_quality_spends_more_bits(tiny_codec):
  image = smooth_image(64, 64, seed=4)
  sizes = [len(_round_trip(tiny_codec, image, q)[0]) for q in (0., .5, 1.)]
  assert sizes[0] <= sizes[1] <= sizes[2] and sizes[0] < sizes[2]


@pytest.mark.parametrize("shape", [(1, 1), (1, 130), (3, 7), (65, 64), (130, 2)])
def test_any_image_size(tiny_codec, shape):
  image = smooth_image(*shape, seed=5)
  _, decoded = _round_trip(tiny_codec, image, 1.)
  assert decoded.shape == image.shape


def test_api_converts_inputs(tiny_codec):
  gray = smooth_image(20, 30)[..., 0]
  rgba = np.dstack([smooth_image(20, 30), np.full((20, 30), 7, np.uint8)])
  deep = smooth_image(20, 30).astype(np.uint16) * 257
  for image in (gray, rgba, deep):
    decoded = api.decompress(api.compress(image, 1, codec=tiny_codec), tiny_codec)
    assert decoded.shape == (20, 30, 3)
  with pytest.raises(ValueError, match="quality"):
    api.compress(gray, 5, codec=tiny_codec)


def test_adler32_matches_zlib():
  for data in (b"", b"a", bytes(range(256)) * 41):
    assert int(adler32(tf.constant(data))) == zlib.adler32(data)


def test_crc32c_matches_the_reference():
  assert crc.crc32c(b"123456789") == 0xE3069283  # the standard check value
  for data in (b"", b"a", b"123456789", bytes(range(256)) * 41, bytes(1000)):
    assert int(crc32c(tf.constant(data))) == crc.crc32c(data)


@pytest.fixture(scope="module")
def stream(tiny_codec):
  return tiny_codec.compress(smooth_image(70, 90, seed=6), np.float32(1.)).numpy()


def _expect_error(codec, data, fragment):
  with pytest.raises(BitstreamError, match=fragment):
    api.decompress(bytes(data), codec)


def test_flipped_byte_in_every_section_is_detected(tiny_codec, stream):
  header = read_header(stream)
  z_start = HEADER_SIZE
  y_start = z_start + header.z_length
  positions = {"magic": 1, "model_id": 9, "height": 15, "quality": 23,
               "lengths": 27, "checksum": CHECKSUM_OFFSET + 1,
               "z": z_start + header.z_length // 2, "y": y_start,
               "y_end": len(stream) - 1}
  for name, pos in positions.items():
    data = bytearray(stream)
    data[pos] ^= 0x10
    with pytest.raises(BitstreamError):
      api.decompress(bytes(data), tiny_codec)
    with pytest.raises(BitstreamError):
      read_header(bytes(data))


@pytest.mark.parametrize("cut", [0, 5, HEADER_SIZE - 1, HEADER_SIZE, -10, -1])
def test_truncated_streams(tiny_codec, stream, cut):
  _expect_error(tiny_codec, stream[:cut], "truncated|length mismatch")
  with pytest.raises(BitstreamError):
    read_header(stream[:cut])


def _rechecksummed(data):
  data = bytearray(data)
  data[CHECKSUM_OFFSET:HEADER_SIZE] = struct.pack("<I", file_checksum(2, bytes(data)))
  return bytes(data)


def test_wrong_magic_version_and_model(tiny_codec, stream):
  _expect_error(tiny_codec, _rechecksummed(b"XXXX" + stream[4:]), "not an nlaic file")
  _expect_error(tiny_codec, _rechecksummed(stream[:4] + b"\x09" + stream[5:]),
                "unsupported format version")
  _expect_error(tiny_codec, stream + b"\0", "length mismatch")
  _expect_error(tiny_codec, b"not an image codec stream at all, just text", "not an nlaic file")
  foreign = stream[:6] + bytes(8) + stream[14:]  # another model's identifier
  _expect_error(tiny_codec, _rechecksummed(foreign), "different model")
  with pytest.raises(TypeError):
    api.decompress("a string", tiny_codec)


@pytest.mark.parametrize("height, width, fragment", [
    (0, 90, "bad image size"), (70, 0, "bad image size"),
    (1 << 15, 1 << 15, "image size too large")])
def test_impossible_image_size_is_refused_by_both_readers(tiny_codec, stream, height, width,
                                                          fragment):
  size = struct.pack("<II", height, width)
  bad = _rechecksummed(stream[:14] + size + stream[22:])
  _expect_error(tiny_codec, bad, fragment)
  with pytest.raises(BitstreamError, match=fragment):
    read_header(bad)


def test_decoding_is_identical_across_thread_settings(tmp_path, tiny_codec):
  """A stream encoded with the default (2) threads decodes exactly with 1 thread."""
  weights = str(tmp_path / "weights")
  tf.train.Checkpoint(model=tiny_codec.model).write(weights)
  image = smooth_image(128, 96, seed=8)
  data, _, recon = tiny_codec.encode(image, np.float32(1.))
  (tmp_path / "stream.nlaic").write_bytes(data.numpy())
  script = (
      "import sys, numpy as np, tensorflow as tf\n"
      "tf.config.threading.set_intra_op_parallelism_threads(1)\n"
      "tf.config.threading.set_inter_op_parallelism_threads(1)\n"
      "from nlaic_tf.zoo import build_codec\n"
      f"codec = build_codec('tiny', {weights!r})\n"
      f"data = open({str(tmp_path / 'stream.nlaic')!r}, 'rb').read()\n"
      f"np.save({str(tmp_path / 'out.npy')!r}, codec.decompress(data).numpy())\n")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  subprocess.run([sys.executable, "-c", script], check=True, env=env,
                 cwd=os.path.dirname(os.path.dirname(__file__)))
  np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), recon.numpy())


def test_model_id_does_not_depend_on_variable_names(tiny_codec):
  from nlaic_tf.models.codec import weights_id
  from nlaic_tf.zoo import build_model
  first, second = build_model("tiny"), build_model("tiny")
  assert first.name != second.name  # Keras numbered the second one's scope
  second.set_weights(first.get_weights())
  assert weights_id(second) == weights_id(first)
  third = build_model("tiny")
  third.set_weights(tiny_codec.model.get_weights())
  assert weights_id(third) == tiny_codec.model_id.numpy()


def test_rate_conditioned_model_round_trips_exactly():
  import dataclasses
  from nlaic_tf.models import get_config
  from nlaic_tf.zoo import build_codec
  tf.keras.utils.set_random_seed(3)
  config = dataclasses.replace(get_config("tiny"), name="tiny-rc", rate_conditioned=True)
  codec = build_codec(config)
  for w in codec.model.weights:  # modulation off the identity, per level
    if "_mod" in w.name:
      w.assign(tf.random.normal(w.shape, stddev=0.3, seed=4))
  image = smooth_image(64, 80, seed=5)
  for quality in (0., 0.5, 1.):
    _round_trip(codec, image, quality)


def _as_version_1(data):
  """The version-2 file `data` rewritten as the version-1 file of the same streams."""
  header = read_header(data)
  head = struct.pack("<4sBB8sIIfII", b"NLIC", 1, 0, header.model_id, header.height,
                     header.width, header.quality, header.z_length, header.y_length)
  payload = data[HEADER_SIZE:]
  return head + struct.pack("<I", zlib.adler32(payload, zlib.adler32(head))) + payload


def test_version_1_files_keep_decoding(tiny_codec):
  data, _, recon = tiny_codec.encode(smooth_image(64, 80, seed=9), np.float32(1.))
  old = _as_version_1(data.numpy())
  assert read_header(old).version == 1 and read_header(old).symbols_check is None
  np.testing.assert_array_equal(api.decompress(old, tiny_codec), recon.numpy())


@pytest.mark.parametrize("path", ["float", "integer"])
def test_decoder_that_disagrees_raises(tiny_codec, path):
  """A context weight perturbed between encoding and decoding (as another
  machine's kernels would) is reported, not decoded to a wrong image."""
  codec = tiny_codec if path == "float" else NLAICCodec(build_model(tiny_integer_config()))
  assert (codec.integer_parameters is not None) == (path == "integer")
  image = smooth_image(64, 80, seed=10)
  data = codec.compress(image, np.float32(1.)).numpy()
  model = codec.model
  kernel = model.context.mlp[-1].kernel
  saved = kernel.numpy()
  try:
    kernel.assign(saved * 1.05)
    perturbed = codec
    if path == "integer":
      # Integer parameters are converted from the weights when a codec is
      # built; keep the identifier so that the file reaches the entropy decoder.
      perturbed = NLAICCodec(model)
      perturbed.model_id.assign(codec.model_id)
    _expect_error(perturbed, data, "decoded symbols differ from the encoded ones"
                  "|other entropy parameters than the encoder")
  finally:
    kernel.assign(saved)
  api.decompress(data, codec)


def test_api_refuses_a_file_of_an_unknown_model_without_loading_one(tiny_codec, monkeypatch):
  """Without a codec, decompress picks the pretrained model the file names;
  a file of none of them is refused before any model is loaded."""
  data = api.compress(smooth_image(40, 56, seed=9), 1., tiny_codec)
  monkeypatch.setattr(api, "pretrained_codec",
                      lambda model=None: pytest.fail("loaded a model"))
  with pytest.raises(BitstreamError, match="encoded with a different model"):
    api.decompress(data)
