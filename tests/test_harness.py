"""The evaluation harness end to end, and its handling of bad input and failures."""
import csv
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nlaic_tf import metrics
from nlaic_tf.cli import main
from nlaic_tf.evaluation import codecs, harness, registry
from nlaic_tf.evaluation.records import (
    Measurement, on_images, read_measurements_csv, read_summary_csv, summarize,
    write_measurements_csv)
from nlaic_tf.io.images import read_image

QUALITIES = (20, 50, 90)


@pytest.fixture
def image_folder(tmp_path, make_image):
  """Two smooth 176x192 PNGs (big enough for MS-SSIM) and one broken file."""
  folder = tmp_path / "images"
  folder.mkdir()
  Image.fromarray(make_image(176, 192, seed=1)).save(folder / "one.png")
  Image.fromarray(make_image(192, 176, seed=2)).save(folder / "two.png")
  (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
  (folder / "notes.txt").write_text("not an image")
  return folder


def _read_csv(path):
  with open(path, newline="") as f:
    return list(csv.DictReader(f))


def test_evaluate_end_to_end_with_jpeg(image_folder, tmp_path, capsys, caplog):
  out = tmp_path / "out"
  status = main(["evaluate", "--images", str(image_folder), "--codecs", "jpeg420",
                 "--qualities", "20,50,90", "--out", str(out), "--name", "t", "--no-progress"])
  assert status == 0
  printed = capsys.readouterr()
  assert "broken.png" in printed.out  # The bad file is reported ...
  assert "ignoring 1 file(s) without an image suffix: notes.txt" in caplog.text

  rows = _read_csv(out / "t.csv")
  assert list(rows[0]) == ["codec", "image", "quality", "bytes", "bpp", "psnr", "ms_ssim",
                           "encode_s", "decode_s"]
  assert [(r["image"], r["quality"]) for r in rows] == [
      (image, str(q)) for image in ("one.png", "two.png") for q in QUALITIES]

  # Byte counts are the real file sizes, and the metrics those of the decoded file.
  jpeg = registry.get_codec("jpeg420")
  original = read_image(image_folder / "one.png")
  data = jpeg.encode(original, 50)
  row = rows[1]
  assert int(row["bytes"]) == len(data)
  assert float(row["bpp"]) == pytest.approx(8 * len(data) / (176 * 192), abs=1e-6)
  assert float(row["psnr"]) == pytest.approx(metrics.psnr(original, jpeg.decode(data)), abs=1e-4)
  for image in ("one.png", "two.png"):
    psnrs = [float(r["psnr"]) for r in rows if r["image"] == image]
    ssims = [float(r["ms_ssim"]) for r in rows if r["image"] == image]
    assert psnrs == sorted(psnrs) and 25 < psnrs[0] and psnrs[-1] < 60
    assert ssims == sorted(ssims) and 0.8 < ssims[0] and ssims[-1] <= 1.0
    assert all(float(r["encode_s"]) > 0 and float(r["decode_s"]) > 0 for r in rows)

  summary = read_summary_csv(out / "t_summary.csv")
  assert [(s.codec, s.quality, s.images) for s in summary] == [("jpeg420", q, 2) for q in QUALITIES]
  for s in summary:
    same = [r for r in rows if int(r["quality"]) == s.quality]
    assert s.psnr == pytest.approx(np.mean([float(r["psnr"]) for r in same]), abs=1e-3)
    assert s.bpp == pytest.approx(np.mean([float(r["bpp"]) for r in same]), abs=1e-5)

  with Image.open(out / "t_rd.png") as plot:
    assert plot.format == "PNG" and plot.width > 800
  assert sorted(p.name for p in out.iterdir()) == ["t.csv", "t_rd.png", "t_summary.csv"]


def test_an_interrupted_evaluation_goes_on_from_its_partial_csv(
    image_folder, tmp_path, monkeypatch, caplog):
  caplog.set_level(logging.INFO)
  jpeg = registry.get_codec("jpeg420")
  encode = jpeg._encode
  coded = []

  def interrupted_on_the_second_image(image, quality):
    if len(coded) == len(QUALITIES):
      raise KeyboardInterrupt  # As Ctrl-C or the end of a session would.
    coded.append(image.shape)
    return encode(image, quality)

  out = tmp_path / "out"
  args = ["evaluate", "--images", str(image_folder), "--codecs", "jpeg420",
          "--qualities", "20,50,90", "--out", str(out), "--name", "t", "--no-progress"]
  monkeypatch.setattr(jpeg, "_encode", interrupted_on_the_second_image)
  assert main(args) == 130
  # broken.png sorts first: it failed, one.png is kept, two.png was not finished.
  assert sorted(p.name for p in out.iterdir()) == ["t.partial.csv"]
  kept = read_measurements_csv(out / "t.partial.csv")
  assert [(m.image, m.quality) for m in kept] == [("one.png", q) for q in QUALITIES]

  coded.clear()
  monkeypatch.setattr(jpeg, "_encode", lambda image, quality: (
      coded.append(image.shape), encode(image, quality))[1])
  assert main(args) == 0
  assert coded == [(192, 176, 3)] * len(QUALITIES)  # two.png only
  assert sorted(p.name for p in out.iterdir()) == ["t.csv", "t_rd.png", "t_summary.csv"]
  rows = read_measurements_csv(out / "t.csv")
  assert [(m.image, m.quality) for m in rows] == [
      (image, q) for image in ("one.png", "two.png") for q in QUALITIES]
  assert rows[:len(QUALITIES)] == kept
  assert f"going on from {out / 't.partial.csv'}: 3 measurement(s)" in caplog.text


def test_bdrate_command_on_a_summary(image_folder, tmp_path, capsys):
  out = tmp_path / "out"
  assert main(["evaluate", "--images", str(image_folder), "--codecs", "jpeg420,jpeg444",
               "--qualities", "10,30,60,90", "--out", str(out), "--name", "t",
               "--no-progress", "--anchors", "balle2018"]) == 0
  capsys.readouterr()
  assert main(["bdrate", str(out / "t_summary.csv"), "--anchor", "jpeg420",
               "--published", "balle2018"]) == 0
  table = capsys.readouterr().out
  lines = {line.split("|")[1].strip(): line for line in table.splitlines()[2:]}
  assert set(lines) == {"jpeg420", "jpeg444", "balle2018"}
  assert "+0.00%" in lines["jpeg420"]
  bd_444 = float(lines["jpeg444"].split("|")[7].strip().rstrip("%"))
  assert -50 < bd_444 < 50  # Defined (the curves overlap) and plausible.

  # Turned around: jpeg444 against every other curve; its row for the
  # jpeg420 anchor is the number above.
  assert main(["bdrate", str(out / "t_summary.csv"), "--codec", "jpeg444",
               "--published", "balle2018"]) == 0
  table = capsys.readouterr().out
  rows = {line.split("|")[1].strip(): line.split("|") for line in table.splitlines()[2:]}
  assert set(rows) == {"jpeg420", "balle2018"}
  assert float(rows["jpeg420"][4].strip().rstrip("%")) == bd_444
  assert main(["bdrate", str(out / "t_summary.csv"), "--codec", "nosuch"]) == 1


def test_image_too_small_for_ms_ssim_gets_empty_value(tmp_path, make_image, caplog):
  Image.fromarray(make_image(40, 30)).save(tmp_path / "small.png")
  result = harness.evaluate([tmp_path / "small.png"], [registry.get_codec("jpeg444")],
                            {"jpeg444": [50]}, progress=False)
  assert len(result.measurements) == 1 and not result.failures
  assert math.isnan(result.measurements[0].ms_ssim)
  assert "MS-SSIM is left empty" in caplog.text


class _Flaky(codecs.Codec):
  """Fails at quality 2, returns a wrong shape at quality 3."""
  name = "flaky-test"
  label = "flaky"
  settings = quality_help = "test"
  qualities = (1, 2, 3)
  quality_range = (1, 3)

  def _encode(self, image, quality):
    if quality == 2:
      raise RuntimeError("encoder exploded")
    return bytes([quality]) + image.tobytes()

  def _decode(self, data):
    image = np.frombuffer(data[1:], np.uint8).reshape(40, 30, 3)
    return image if data[0] == 1 else image[:-1]


class _Missing(_Flaky):
  name = "missing-test"

  def unavailable_reason(self):
    return "library not installed"


def test_codec_failures_are_recorded_and_the_run_goes_on(tmp_path, make_image):
  Image.fromarray(make_image(40, 30)).save(tmp_path / "a.png")
  (tmp_path / "b.png").write_text("nope")
  result = harness.evaluate([tmp_path / "a.png", tmp_path / "b.png"],
                            [_Flaky(), _Missing(), registry.get_codec("jpeg420")],
                            {"jpeg420": [40]}, progress=False)
  assert [(m.codec, m.image, m.quality) for m in result.measurements] == [
      ("flaky-test", "a.png", 1), ("jpeg420", "a.png", 40)]
  assert result.measurements[0].psnr == math.inf  # Lossless.
  problems = [str(f) for f in result.failures]
  assert "*, missing-test: codec unavailable: library not installed" in problems
  assert "a.png, flaky-test at quality 2: RuntimeError: encoder exploded" in problems
  assert any(p.startswith("a.png, flaky-test at quality 3: ValueError: decoded shape")
             for p in problems)
  assert any(p.startswith("b.png: cannot read image (not an image") for p in problems)


def test_nothing_measured_writes_nothing(tmp_path):
  (tmp_path / "old.csv").write_text("precious")
  empty = harness.EvaluationResult([], [])
  with pytest.raises(ValueError, match="no measurements"):
    harness.write_outputs(empty, [], tmp_path, "old")
  assert (tmp_path / "old.csv").read_text() == "precious"


def test_summary_means_and_lossless_psnr():
  def m(image, psnr, bpp):
    return Measurement("c", image, 5, 10, bpp, psnr, 0.9, 0.1, 0.2)
  rows = summarize([m("a", 30.0, 0.5), m("b", 40.0, 1.5)])
  assert len(rows) == 1 and rows[0].psnr == 35.0 and rows[0].bpp == 1.0 and rows[0].images == 2
  assert summarize([m("a", 30.0, 0.5), m("b", math.inf, 1.5)])[0].psnr == math.inf


def test_measurements_csv_round_trip_and_restriction_to_images(tmp_path):
  def m(codec, image, quality, ms_ssim=0.9):
    return Measurement(codec, image, quality, 1000, 0.25, 31.5, ms_ssim, 0.5, 0.25)
  rows = [m("jpeg", "a.png", 10), m("jpeg", "b.png", 10), m("jpeg", "c.png", 10),
          m("jpeg", "a.png", 2.5, math.nan), m("webp", "a.png", 50)]
  write_measurements_csv(tmp_path / "m.csv", rows)
  back = read_measurements_csv(tmp_path / "m.csv")
  assert back[:3] + back[4:] == rows[:3] + rows[4:]
  assert back[3].quality == 2.5 and math.isnan(back[3].ms_ssim)
  # Only (codec, quality) pairs measured on every wanted image stay.
  assert on_images(rows, ["a.png", "b.png"]) == rows[:2]
  assert on_images(rows, ["a.png"]) == [rows[0], rows[3], rows[4]]
  (tmp_path / "s.csv").write_text("codec,quality\njpeg,10\n")
  with pytest.raises(ValueError, match="not a per-image CSV"):
    read_measurements_csv(tmp_path / "s.csv")


def test_image_names_disambiguate_repeated_file_names(tmp_path):
  paths = [tmp_path / "x" / "a.png", tmp_path / "y" / "a.png"]
  assert harness.image_names(paths) == ["x/a.png", "y/a.png"]
  assert harness.image_names([tmp_path / "a.png"]) == ["a.png"]


KODAK = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "kodak"


@pytest.mark.skipif(not KODAK.is_dir(), reason="Kodak images not present")
def test_one_kodak_image_with_jpeg_gives_textbook_numbers():
  result = harness.evaluate([KODAK / "kodim23.png"], [registry.get_codec("jpeg420")],
                            {"jpeg420": [75]}, progress=False)
  (m,) = result.measurements
  assert 0.3 < m.bpp < 2.0 and 32 < m.psnr < 45 and 0.97 < m.ms_ssim < 1.0


def test_parallel_workers_measure_the_same_as_one(tmp_path, make_image):
  for seed in (1, 2):
    Image.fromarray(make_image(24, 32, seed=seed)).save(tmp_path / f"{seed}.png")
  paths = sorted(tmp_path.iterdir())
  jpeg = [registry.get_codec("jpeg444")]
  serial = harness.evaluate(paths, jpeg, {"jpeg444": [30, 70]}, progress=False)
  parallel = harness.evaluate(paths, jpeg, {"jpeg444": [30, 70]}, workers=2, progress=False)
  def key(m):
    return (m.image, m.quality, m.bytes, m.psnr)
  assert [key(m) for m in parallel.measurements] == [key(m) for m in serial.measurements]
  assert len(serial.measurements) == 4


def test_repeated_qualities_are_measured_once(tmp_path, make_image):
  Image.fromarray(make_image(20, 20)).save(tmp_path / "a.png")
  result = harness.evaluate([tmp_path / "a.png"], [registry.get_codec("jpeg420")],
                            {"jpeg420": [40, 40.0, 20]}, progress=False)
  assert [m.quality for m in result.measurements] == [20, 40]


def test_reuse_takes_complete_conventional_codecs_from_an_earlier_run(
    tmp_path, make_image, monkeypatch):
  for seed in (1, 2):
    Image.fromarray(make_image(40, 30, seed=seed)).save(tmp_path / f"{seed}.png")
  paths = sorted(tmp_path.glob("*.png"))
  grids = {"jpeg420": [30, 70], "webp": [50], "flaky-test": [1]}
  run = [registry.get_codec("jpeg420"), registry.get_codec("webp"), _Flaky()]
  earlier = harness.evaluate(paths, run, grids, progress=False).measurements
  assert len(earlier) == 2 * 4
  write_measurements_csv(tmp_path / "earlier.csv", earlier)
  # webp lacks an image in the CSV: it runs again, as the learned stand-in does.
  kept = [m for m in read_measurements_csv(tmp_path / "earlier.csv")
          if not (m.codec == "webp" and m.image == "2.png")]
  ran = []
  for codec in run:
    monkeypatch.setattr(codec, "_encode", lambda image, quality, f=codec._encode, n=codec.name: (
        ran.append(n), f(image, quality))[1])
  again = harness.evaluate(paths, run, grids, progress=False, reuse=kept).measurements
  assert sorted(set(ran)) == ["flaky-test", "webp"]
  assert [(m.codec, m.image, m.quality, m.bytes) for m in again] == [
      (m.codec, m.image, m.quality, m.bytes) for m in earlier]
  assert [m.psnr for m in again] == [pytest.approx(m.psnr, abs=1e-4) for m in earlier]
  # The reused rows are the CSV's, timings included.
  assert [m for m in again if m.codec == "jpeg420"] == [
      m for m in kept if m.codec == "jpeg420"]
