"""scripts/integer_rd_cost.py: a checkpoint's two entropy paths, and its
integer path against the anchors of an evaluation CSV on the same images."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import smooth_image
from nlaic_tf.evaluation.bd_rate import bd_rate
from nlaic_tf.evaluation.records import read_measurements_csv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = "codec,image,quality,bytes,bpp,psnr,ms_ssim,encode_s,decode_s\n"


def _table_row(text, name):
  """The cells of the markdown row whose first cell is `name`."""
  for line in text.splitlines():
    cells = [c.strip() for c in line.strip("|").split("|")]
    if cells[0] == name:
      return cells
  return None


def test_checkpoint_against_anchors_on_the_same_images(tmp_path):
  import tensorflow as tf
  from nlaic_tf.zoo import build_model
  tf.keras.utils.set_random_seed(0)
  weights = str(tmp_path / "ckpt" / "weights")
  tf.train.Checkpoint(model=build_model("tiny-int")).write(weights)
  images = []
  for name, seed in (("a.png", 1), ("b.png", 2)):
    images.append(str(tmp_path / name))
    Image.fromarray(smooth_image(64, 64, seed)).save(images[-1])
  # "wide": a straight line covering any curve, on a.png and b.png (and on
  # c.png, which the run does not code: it must not count); "partial": a.png only.
  anchors = tmp_path / "anchors.csv"
  rows = [f"wide,{image},{q},100,{bpp},{psnr},,1,1"
          for image, shift in (("a.png", 0.), ("b.png", 2.), ("c.png", 30.))
          for q, (bpp, psnr) in enumerate([(0.001, 1. + shift), (100., 70. + shift)])]
  anchors.write_text(HEADER + "\n".join(rows + ["partial,a.png,1,100,0.5,30,,1,1",
                                                "partial,a.png,2,100,1.0,35,,1,1"]) + "\n")
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "scripts", "integer_rd_cost.py"),
       "--config", "tiny-int", "--weights", weights, "--levels", "0", "1",
       "--anchors", str(anchors), "--out", str(tmp_path / "run.csv"), "--"] + images,
      capture_output=True, text=True, check=True, cwd=ROOT).stdout

  run = read_measurements_csv(tmp_path / "run.csv")
  assert sorted((m.codec, m.image, m.quality) for m in run) == sorted(
      (c, i, q) for c in ("tiny-int-float", "tiny-int-integer")
      for i in ("a.png", "b.png") for q in (0, 1))
  assert all(m.bytes > 0 and np.isnan(m.ms_ssim) for m in run)  # 64 px: no MS-SSIM

  def mean_curve(codec):
    return [np.mean([[m.bpp, m.psnr] for m in run if m.codec == codec and m.quality == q],
                    axis=0) for q in (0, 1)]
  ours = np.array(mean_curve("tiny-int-integer"))
  wide = np.array([[0.001, 2.], [100., 71.]])  # mean of a.png and b.png only
  expected = bd_rate(wide[:, 0], wide[:, 1], ours[:, 0], ours[:, 1])
  against = out[out.index("against"):]
  # (the run's CSV rounds bpp and PSNR, so the last digit may differ)
  assert float(_table_row(against, "wide")[3].rstrip("%")) == pytest.approx(expected, rel=1e-3)
  assert _table_row(against, "partial") is None
  float_curve = np.array(mean_curve("tiny-int-float"))
  integer_vs_float = bd_rate(float_curve[:, 0], float_curve[:, 1], ours[:, 0], ours[:, 1])
  cell = _table_row(out[:out.index("against")], "tiny-int-integer")[6]
  assert float(cell.rstrip("%")) == pytest.approx(integer_vs_float, rel=1e-3, abs=0.01)
