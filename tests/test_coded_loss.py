"""scripts/coded_loss.py: lambda * MSE + bpp per level of two evaluation runs."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = "codec,image,quality,bytes,bpp,psnr,ms_ssim,encode_s,decode_s\n"


def _run_csv(path, rows):
  with open(path, "w") as f:
    f.write(HEADER)
    for codec, image, quality, bpp, psnr in rows:
      f.write(f"{codec},{image},{quality},100,{bpp},{psnr},0.9,1.0,1.0\n")


def test_loss_per_level_averages_images_and_ignores_other_codecs(tmp_path):
  model = tmp_path / "model"
  model.mkdir()
  (model / "model.json").write_text(json.dumps(dict(config=dict(lambdas=[0.01, 0.1]))))
  mse_30db = 255. ** 2 * 1e-3  # PSNR 30 dB
  before, after = str(tmp_path / "before.csv"), str(tmp_path / "after.csv")
  _run_csv(before, [("nlaic-refined", "a.png", 0, 0.2, 30.),
                    ("nlaic-refined", "b.png", 0, 0.4, 30.),
                    ("nlaic-refined", "a.png", 1, 1.0, 30.),
                    ("jpeg420", "a.png", 1, 9.0, 10.)])  # another codec: not counted
  _run_csv(after, [("nlaic-refined", "a.png", 0, 0.1, 30.),
                   ("nlaic-refined", "b.png", 0, 0.3, 30.),
                   ("nlaic-refined", "a.png", 1, 1.0, 40.)])
  out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "coded_loss.py"),
                        before, after, "--model", str(model)],
                       capture_output=True, text=True, check=True).stdout
  rows = {int(line.split()[0]): line.split() for line in out.splitlines()[2:]}
  loss0 = (0.01 * mse_30db + 0.3, 0.01 * mse_30db + 0.2)
  assert float(rows[0][2]) == round(loss0[0], 4) and float(rows[0][3]) == round(loss0[1], 4)
  assert float(rows[1][2]) == round(0.1 * mse_30db + 1.0, 4)
  assert float(rows[1][3]) == round(0.1 * mse_30db / 10. + 1.0, 4)
  assert float(rows[0][4]) == round(100. * (loss0[1] / loss0[0] - 1.), 2)
