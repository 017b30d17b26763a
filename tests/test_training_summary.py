"""scripts/training_summary.py: the table of chained training runs."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _levels(loss, psnr_offset, ceiling=None):
  levels = [dict(loss=loss, bpp=bpp, psnr=30. + 6. * bpp + psnr_offset)
            for bpp in (0.1, 0.3, 0.9)]
  if ceiling is not None:
    for level in levels:
      level["ceiling"] = ceiling
  return levels


def _history(path, records, ceiling=None, raw=None):
  """raw: (loss, psnr offset) of the raw weights, recorded as a
  --weight_average run records them."""
  with open(path, "w") as f:
    for step, loss, best, psnr_offset in records:
      record = dict(step=step, time=0., val_loss=loss,
                    levels=_levels(loss, psnr_offset, ceiling), best=best)
      if raw is not None:
        record["raw"] = dict(val_loss=raw[0], levels=_levels(*raw))
      f.write(json.dumps(record) + "\n")


def test_rows_count_total_steps_and_compare_with_the_starting_weights(tmp_path):
  first, second = str(tmp_path / "first.jsonl"), str(tmp_path / "second.jsonl")
  # The first run keeps its step-200 weights (step 300 is not a new best).
  _history(first, [(100, 2., True, 0.), (200, 1.5, True, 0.5), (300, 1.7, False, 0.1)])
  _history(second, [(100, 1.4, True, 0.5), (200, 1.2, True, 1.0)], ceiling=38.25,
           raw=(1.45, 0.25))
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "scripts", "training_summary.py"), first, second],
      capture_output=True, text=True, check=True, cwd=ROOT).stdout
  rows = [[c.strip() for c in line.strip("|").split("|")]
          for line in out.splitlines() if line.startswith("| first") or line.startswith("| second")]
  assert [(r[0], r[1], r[2]) for r in rows] == [
      ("first", "100", "100"), ("first", "200", "200"), ("first", "300", "300"),
      ("second", "100", "400"), ("second raw", "100", "400"),
      ("second", "200", "500"), ("second raw", "200", "500")]
  assert [r[5] for r in rows[:3]] == ["–"] * 3
  assert rows[3][5] == "+0.00 %"  # same curve as the first run's kept weights
  assert float(rows[5][5].rstrip(" %")) < 0  # 0.5 dB better at every rate
  assert float(rows[4][5].rstrip(" %")) > 0  # the raw weights: 0.25 dB worse
  assert rows[4][4] == "1.450" and rows[3][4] == "1.400 *"
  assert rows[0][6] == "0.100 / 30.60"
  assert rows[5][6] == "0.100 / 31.60 (38.25)"  # with the recorded ceiling


def test_a_run_without_a_new_best_keeps_the_start_of_the_next(tmp_path):
  first, branch, third = (str(tmp_path / f"{n}.jsonl") for n in ("first", "branch", "third"))
  _history(first, [(100, 2., True, 0.)])
  _history(branch, [(200, 2.5, False, 0.5)])  # never beat the loss it inherited
  _history(third, [(300, 2.4, False, 0.5)])
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "scripts", "training_summary.py"),
       first, branch, third], capture_output=True, text=True, check=True, cwd=ROOT).stdout
  rows = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")]
          for line in out.splitlines() if line.startswith("| ")}
  # Both compared with the first run's kept weights, 0.5 dB above them.
  assert float(rows["branch"][5].rstrip(" %")) < 0
  assert rows["third"][5] == rows["branch"][5]
