"""Chooses a configuration or precision by measurement: equal-step runs compared.

Trains each configuration in each precision with `train.py` for the same
number of steps, data seed and learning rate, from scratch or all from the same
`--init_from` weights (one run after another, so they do not share the CPU),
then prints and writes one row per run: parameters, median training steps/s
(from the progress lines, tracing excluded), final validation loss on
bsds500/val, the PSNR BD-rate of its validation curve (bpp/PSNR of the rate
levels) against the first run's, and bpp/PSNR per rate level.

  python scripts/compare_configs.py --configs small,narrow --steps 400 \
      --out runs/compare --csv results/config_comparison.csv
  python scripts/compare_configs.py --configs medium-rc \
      --precisions mixed_bfloat16,float32 --steps 2000 --lr 3.3e-5 \
      --init_from snapshots/medium-rc/weights.npz --out runs/precision \
      --csv results/precision_comparison.csv

A run already finished in --out is reused (delete its folder to retrain).
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys

from nlaic_tf.training.history import read_history

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATE = re.compile(r"([0-9.]+) steps/s")


def train(config, precision, workdir, args):
  """Runs train.py for `config` in `precision`; returns the progress lines'
  steps/s figures."""
  log_path = os.path.join(workdir, "train.log")
  if not _final_record(workdir, args.steps):
    os.makedirs(workdir, exist_ok=True)
    command = [sys.executable, os.path.join(ROOT, "train.py"), f"--workdir={workdir}",
               f"--config={config}", f"--steps={args.steps}", f"--lr={args.lr}",
               f"--val_every={args.steps // 2}", f"--log_every={args.log_every}",
               f"--threads={args.threads}", f"--precision={precision}",
               f"--init_from={args.init_from}"]
    with open(log_path, "w") as log:
      subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT)
  with open(log_path) as log:
    return [float(m.group(1)) for m in map(RATE.search, log) if m]


def _final_record(workdir, steps):
  """The validation record at `steps` in the run's history, or None."""
  path = os.path.join(workdir, "history.jsonl")
  if not os.path.exists(path):
    return None
  return next((r for r in read_history(path) if r["step"] == steps), None)


def _parameters(config):
  from nlaic_tf.zoo import build_model
  return int(build_model(config).count_params())


def _bd_rate_or_empty(anchor, curve):
  """PSNR BD-rate (%) of curve [bpps, psnrs] against anchor; "" where it is
  undefined (curves that do not overlap, repeated points)."""
  from nlaic_tf.evaluation.bd_rate import bd_rate
  try:
    return round(bd_rate(*anchor, *curve), 2)
  except ValueError:
    return ""


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--configs", default="small,narrow")
  parser.add_argument("--precisions", default="float32",
                      help="comma-separated train.py --precision values")
  parser.add_argument("--init_from", default="",
                      help="weights every run starts from (train.py --init_from)")
  parser.add_argument("--steps", type=int, default=400)
  parser.add_argument("--lr", type=float, default=3e-4)
  parser.add_argument("--log_every", type=int, default=25)
  parser.add_argument("--threads", type=int, default=0)
  parser.add_argument("--out", default="runs/compare")
  parser.add_argument("--csv", default="results/config_comparison.csv")
  args = parser.parse_args()

  rows, first_curve = [], None
  for config in args.configs.split(","):
    for precision in args.precisions.split(","):
      workdir = os.path.join(args.out, f"{config}-{precision}")
      rates = train(config, precision, workdir, args)
      record = _final_record(workdir, args.steps)
      curve = [[level["bpp"] for level in record["levels"]],
               [level["psnr"] for level in record["levels"]]]
      first_curve = first_curve or curve
      row = dict(config=config, precision=precision, params=_parameters(config),
                 steps=args.steps, steps_per_s=round(statistics.median(rates[1:] or rates), 3),
                 val_loss=round(record["val_loss"], 4),
                 bd_rate_vs_first=_bd_rate_or_empty(first_curve, curve))
      for level, stats in enumerate(record["levels"]):
        row[f"bpp_q{level}"] = round(stats["bpp"], 4)
        row[f"psnr_q{level}"] = round(stats["psnr"], 2)
      rows.append(row)
      print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
  os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
  with open(args.csv, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
  print(f"wrote {args.csv}")


if __name__ == "__main__":
  main()
