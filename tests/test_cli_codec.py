"""`nlaic compress / decompress / info / evaluate` with an exported tiny model:
real files, bad input."""
import csv

import numpy as np
import pytest
from PIL import Image

from nlaic_tf import api
from nlaic_tf.bitstream import HEADER_SIZE, BitstreamError
from nlaic_tf.bitstream.mutations import set_fields
from nlaic_tf.cli import main
from nlaic_tf.io.images import read_image

pytestmark = pytest.mark.usefixtures("cli_reuses_the_export")


@pytest.fixture
def photo(tmp_path, make_image):
  path = tmp_path / "photo.png"
  Image.fromarray(make_image(48, 72, seed=3)).save(path)
  return path


def test_compress_decompress_info(exported, loaded, photo, capsys):
  assert main(["compress", str(photo), "--quality", "1", "--model", exported]) == 0
  stream = photo.with_suffix(".nlaic")
  data = stream.read_bytes()
  assert f"{len(data)} bytes" in capsys.readouterr().out
  out = photo.parent / "restored.png"
  assert main(["decompress", str(stream), str(out), "--model", exported]) == 0
  np.testing.assert_array_equal(read_image(out), api.decompress(data, loaded))
  assert main(["info", str(stream), "--model", exported]) == 0
  text = capsys.readouterr().out
  assert "72x48" in text and "matches --model: yes" in text


@pytest.fixture
def tiny_is_pretrained(monkeypatch, exported):
  """The session's tiny export as the only pretrained model, "tiny-test"."""
  from nlaic_tf import zoo
  monkeypatch.setattr(zoo, "PRETRAINED", {"tiny-test": zoo.PretrainedModel(
      "tiny-test", exported, "mse", "the tests' tiny export")})
  api.pretrained_codec.cache_clear()
  yield
  api.pretrained_codec.cache_clear()


def test_files_decode_with_the_pretrained_model_that_wrote_them(
    tiny_is_pretrained, loaded, photo, capsys):
  # The default model (nlaic-mse) is not among the pretrained models here, so
  # only the file's model id can lead to the tiny model.
  data = api.compress(read_image(photo), 1, loaded)
  np.testing.assert_array_equal(api.decompress(data), api.decompress(data, loaded))
  stream = photo.with_suffix(".nlaic")
  stream.write_bytes(data)
  assert main(["info", str(stream)]) == 0
  assert "(pretrained model tiny-test)" in capsys.readouterr().out
  out = photo.parent / "restored.png"
  assert main(["decompress", str(stream), str(out)]) == 0
  np.testing.assert_array_equal(read_image(out), api.decompress(data, loaded))
  # A file of a model that is not shipped: named so, and refused by the
  # default model with the reason.
  stream.write_bytes(set_fields(data, model_id=b"\x00" * 8))
  assert main(["info", str(stream)]) == 0
  assert "not a pretrained model" in capsys.readouterr().out
  # A file of a pretrained model that a later version replaced: what decodes it.
  from nlaic_tf import zoo
  retired = next(iter(zoo.RETIRED.values()))
  stream.write_bytes(set_fields(data, model_id=bytes.fromhex(retired.model_id)))
  assert main(["info", str(stream)]) == 0
  hint = f"decode it with nlaic_tf {retired.last_version}"
  assert hint in capsys.readouterr().out
  with pytest.raises(BitstreamError, match=hint):
    api.decompress(stream.read_bytes())


def test_failed_decompress_keeps_the_existing_output(exported, photo, caplog):
  assert main(["compress", str(photo), "--quality", "0", "--model", exported]) == 0
  stream = photo.with_suffix(".nlaic")
  good = photo.parent / "good.png"
  assert main(["decompress", str(stream), str(good), "--model", exported]) == 0
  before = good.read_bytes()
  data = bytearray(stream.read_bytes())
  data[HEADER_SIZE + 1] ^= 0x10
  stream.write_bytes(bytes(data))
  assert main(["decompress", str(stream), str(good), "--model", exported]) == 1
  assert "checksum mismatch" in caplog.text
  assert good.read_bytes() == before
  assert sorted(p.name for p in photo.parent.iterdir()) == [
      "good.png", "photo.nlaic", "photo.png"]  # no temporary file left behind
  stream.write_bytes(bytes(data[:HEADER_SIZE - 3]))
  assert main(["info", str(stream), "--model", exported]) == 1


def test_folder_with_a_bad_file_codes_the_others(exported, tmp_path, make_image, caplog):
  src, dst = tmp_path / "in", tmp_path / "out"
  src.mkdir()
  for i, (h, w) in enumerate([(1, 1), (5, 130), (33, 17)]):
    Image.fromarray(make_image(h, w, seed=i)).save(src / f"img{i}.png")
  (src / "broken.png").write_bytes(b"not a png")
  assert main(["compress", str(src), str(dst), "--quality", "0.5", "--model", exported]) == 1
  assert "broken.png" in caplog.text
  assert sorted(p.name for p in dst.iterdir()) == ["img0.nlaic", "img1.nlaic", "img2.nlaic"]
  restored = tmp_path / "restored"
  assert main(["decompress", str(dst), str(restored), "--model", exported]) == 0
  for i, (h, w) in enumerate([(1, 1), (5, 130), (33, 17)]):
    assert read_image(restored / f"img{i}.png").shape == (h, w, 3)


def test_target_bpp_stays_within_the_budget(exported, loaded, photo, capsys):
  low, high = (8 * len(api.compress(read_image(photo), q, loaded)) / (48 * 72)
               for q in (0, 1))
  target = (low + high) / 2
  assert main(["compress", str(photo), "--target-bpp", str(target), "--model", exported]) == 0
  capsys.readouterr()
  assert low <= 8 * photo.with_suffix(".nlaic").stat().st_size / (48 * 72) <= target


def test_refined_file_comes_from_the_exported_refinement(exported, loaded, photo, capsys):
  assert main(["compress", str(photo), "--quality", "1", "--refine", "8",
               "--model", exported]) == 0
  data = photo.with_suffix(".nlaic").read_bytes()
  image = read_image(photo)
  assert data == api.compress(image, 1., loaded, refine_steps=8)
  assert api.decompress(data, loaded).shape == image.shape


def test_two_inputs_with_one_output_name_are_refused(exported, tmp_path, make_image, capsys):
  for suffix in (".png", ".bmp"):
    Image.fromarray(make_image(8, 8)).save(tmp_path / f"same{suffix}")
  assert main(["compress", str(tmp_path), "--model", exported]) == 1
  assert "would both be written to" in capsys.readouterr().err
  assert not list(tmp_path.glob("*.nlaic"))


@pytest.mark.parametrize("argv, message", [
    (["compress", "/nonexistent.png"], "nonexistent"),
    (["compress", "PHOTO", "--quality", "7"], "--quality must be in [0, 1]"),
    (["compress", "PHOTO", "--refine", "-1"], "--refine must be 0 or more"),
    (["decompress", "/nonexistent.nlaic"], "no .nlaic files"),
    (["compress", "PHOTO", "--model", "/nonexistent_model"], "nonexistent_model"),
])
def test_user_errors(exported, photo, argv, message, capsys, caplog):
  argv = [str(photo) if a == "PHOTO" else a for a in argv]
  if "--model" not in argv:
    argv += ["--model", exported]
  assert main(argv) == 1
  assert message in capsys.readouterr().err + caplog.text
  assert not photo.with_suffix(".nlaic").exists()


def test_an_export_folder_is_a_codec_of_the_evaluation(exported, loaded, tmp_path, make_image):
  images = tmp_path / "images"
  images.mkdir()
  Image.fromarray(make_image(176, 192, seed=4)).save(images / "one.png")
  assert main(["evaluate", "--images", str(images), "--codecs", f"jpeg420,{exported}",
               "--qualities", "jpeg420:50", "--qualities", f"{exported}:0,1",
               "--out", str(tmp_path / "out"), "--name", "mine", "--no-progress"]) == 0
  with open(tmp_path / "out" / "mine.csv", newline="") as f:
    ours = [row for row in csv.DictReader(f) if row["codec"] == exported]
  image = read_image(images / "one.png")
  assert [(float(row["quality"]), int(row["bytes"])) for row in ours] == [
      (level, len(api.compress(image, level, loaded))) for level in (0., 1.)]
