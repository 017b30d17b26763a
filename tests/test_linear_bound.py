"""scripts/linear_bound.py: the block KLT bound on the validation crops."""
import importlib.util
import os
import subprocess
import sys

import numpy as np

from conftest import smooth_image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "linear_bound.py")


def _module():
  spec = importlib.util.spec_from_file_location("linear_bound", SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_klt_is_the_best_linear_code_of_its_size():
  lb = _module()
  images = [smooth_image(64, 96, seed=s) for s in range(6)]
  mean, basis = lb.block_klt(images)
  np.testing.assert_allclose(basis.T @ basis, np.eye(768), atol=1e-8)
  image = smooth_image(64, 64, seed=9)
  psnrs = [lb.psnr_with(image, mean, basis, k) for k in (4, 16, 64, 256)]
  assert psnrs == sorted(psnrs)
  assert lb.psnr_with(image, mean, basis, 768) > 100  # every coefficient: exact
  # Any other orthonormal basis keeps less of the fitted blocks in K terms.
  other, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(768, 768)))
  errors = [np.mean([lb.psnr_with(x, mean, b, 16) for x in images])
            for b in (basis, other)]
  assert errors[0] > errors[1] + 3


def test_prints_a_row_per_coefficient_count(image_dir):
  result = subprocess.run(
      [sys.executable, SCRIPT, "--train_glob", f"{image_dir}/*.png",
       "--val_glob", f"{image_dir}/*.png", "--val_images", "2", "--val_crop", "64",
       "--coefficients", "8,64"],
      capture_output=True, text=True, timeout=300, cwd=ROOT)
  assert result.returncode == 0, result.stderr
  rows = [line for line in result.stdout.splitlines() if line.startswith("| 8 ")
          or line.startswith("| 64 ")]
  assert len(rows) == 2
  psnr = [float(row.split("|")[3]) for row in rows]
  assert 10 < psnr[0] < psnr[1]
  assert "fitted on 5 images; 2 validation crops of 64x64" in result.stdout
