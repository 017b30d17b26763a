"""Chooses a configuration by measurement: equal-step training runs compared.

Trains each configuration from scratch with `train.py` for the same number of
steps, data seed and learning rate (one after another, so they do not share the
CPU), then prints and writes one row per configuration: parameters, median
training steps/s (from the progress lines, tracing excluded), final validation
loss on bsds500/val and bpp/PSNR per rate level.

  python scripts/compare_configs.py --configs small,narrow --steps 400 \
      --out runs/compare --csv results/config_comparison.csv

A run already finished in --out is reused (delete its folder to retrain).
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys

from training_summary import read_history

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATE = re.compile(r"([0-9.]+) steps/s")


def train(config, args):
  """Runs train.py for `config`; returns the progress lines' steps/s figures."""
  workdir = os.path.join(args.out, config)
  log_path = os.path.join(workdir, "train.log")
  if not _final_record(workdir, args.steps):
    os.makedirs(workdir, exist_ok=True)
    command = [sys.executable, os.path.join(ROOT, "train.py"), f"--workdir={workdir}",
               f"--config={config}", f"--steps={args.steps}", f"--lr={args.lr}",
               f"--val_every={args.steps // 2}", f"--log_every={args.log_every}",
               f"--threads={args.threads}"]
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


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--configs", default="small,narrow")
  parser.add_argument("--steps", type=int, default=400)
  parser.add_argument("--lr", type=float, default=3e-4)
  parser.add_argument("--log_every", type=int, default=25)
  parser.add_argument("--threads", type=int, default=0)
  parser.add_argument("--out", default="runs/compare")
  parser.add_argument("--csv", default="results/config_comparison.csv")
  args = parser.parse_args()

  rows = []
  for config in args.configs.split(","):
    rates = train(config, args)
    record = _final_record(os.path.join(args.out, config), args.steps)
    row = dict(config=config, params=_parameters(config), steps=args.steps,
               steps_per_s=round(statistics.median(rates[1:] or rates), 3),
               val_loss=round(record["val_loss"], 4))
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
