"""Markdown table of training runs' validations (from train.py's history.jsonl).

  python scripts/training_summary.py results/training/small_phase1.jsonl \
      results/training/small.jsonl

Runs are given in the order they were chained (each started from the previous
one's weights with --init_from), so the "total steps" column adds them up. One
row per validation: run, step, total steps, UTC time, validation loss, BD-rate
(PSNR) against the weights the run started from (the previous run's last best
validation), and bpp / PSNR of each rate level on bsds500/val centre crops,
with the transforms' ceiling (PSNR without quantization) where the run
recorded it.
The BD-rate compares runs whose validation losses weigh the levels
differently (train.py --level_balance); negative is better. A run with
--weight_average validates the average (its rows) and the raw weights: those
follow in rows named "<run> raw".
"""
import argparse
import datetime
import os

from nlaic_tf.evaluation.bd_rate import bd_rate
from nlaic_tf.training.history import read_history


def _run_name(path):
  """File name without suffix, or the run folder's name for <workdir>/history.jsonl."""
  stem = os.path.splitext(os.path.basename(path))[0]
  return os.path.basename(os.path.dirname(os.path.abspath(path))) if stem == "history" else stem


def _curve(record):
  return [l["bpp"] for l in record["levels"]], [l["psnr"] for l in record["levels"]]


def _last_best(records, default):
  """The record whose weights a run kept: its last new best validation
  (`default` for a run none of whose validations was a new best, e.g. one
  resumed from another run's checkpoint with its best loss)."""
  bests = [r for r in records if r.get("best")]
  return bests[-1] if bests else default


def _bd_cell(start, record):
  if start is None:
    return "–"
  try:
    return f"{bd_rate(*_curve(start), *_curve(record)):+.2f} %"
  except ValueError:  # PSNR ranges that do not overlap
    return "no overlap"


def _row(name, record, offset, start, loss_mark=""):
  """One table row: a validation record of run `name`, `offset` steps in."""
  when = datetime.datetime.fromtimestamp(record["time"], datetime.timezone.utc)
  cells = [name, str(record["step"]), str(offset + record["step"]),
           when.strftime("%Y-%m-%d %H:%M"), f"{record['val_loss']:.3f}" + loss_mark,
           _bd_cell(start, record)]
  return "| " + " | ".join(cells + [_level_cell(l) for l in record["levels"]]) + " |"


def _level_cell(level):
  """"bpp / PSNR", with " (ceiling)" where recorded."""
  cell = f"{level['bpp']:.3f} / {level['psnr']:.2f}"
  return cell + (f" ({level['ceiling']:.2f})" if "ceiling" in level else "")


def table(paths, offsets):
  """Markdown rows for the runs in `paths`; `offsets[i]` steps precede run i."""
  runs = [(_run_name(p), read_history(p)) for p in paths]
  levels = max(len(r["levels"]) for _, records in runs for r in records)
  header = (["run", "step", "total steps", "time (UTC)", "val loss", "BD-rate vs start"]
            + [f"L{l} bpp / dB" for l in range(levels)])
  lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
  start = None
  for (name, records), offset in zip(runs, offsets):
    for r in records:
      lines.append(_row(name, r, offset, start, " *" if r.get("best") else ""))
      if "raw" in r:
        lines.append(_row(f"{name} raw", dict(r, **r["raw"]), offset, start))
    start = _last_best(records, start)
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("histories", nargs="+", help="history.jsonl files, oldest run first")
  parser.add_argument("--steps_before", default="",
                      help="comma-separated steps each run started from (default: the "
                           "previous runs' last validated steps added up)")
  args = parser.parse_args()
  if args.steps_before:
    offsets = [int(s) for s in args.steps_before.split(",")]
  else:
    offsets, total = [], 0
    for path in args.histories:
      offsets.append(total)
      total += read_history(path)[-1]["step"]
  print(table(args.histories, offsets))
  print("\n* new best validation loss (those weights were kept); "
        "(dB): the level's ceiling, PSNR without quantization")


if __name__ == "__main__":
  main()
