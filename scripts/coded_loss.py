"""Prints the coded rate-distortion loss, lambda * MSE + bpp, per rate level of
two evaluation runs of one codec, and its change from the first run to the second.

  git show 2c8897f:results/kodak_refined.csv > /tmp/old.csv
  python scripts/coded_loss.py /tmp/old.csv results/kodak_refined.csv

Reads the per-image CSVs that `nlaic evaluate` writes (NAME.csv): MSE on
[0, 255] from each image's PSNR, bpp from its file size, lambda of the level
from the shipped model's model.json (the training objective at that level);
the loss is averaged over the images of each level.
"""
import argparse

from nlaic_tf.evaluation.records import read_measurements_csv


def mean_loss_per_level(path, codec, lambdas):
  """{level: mean of lambda * MSE + bpp over the images} of `codec` in `path`."""
  losses = {}
  for m in read_measurements_csv(path):
    if m.codec == codec:
      level = int(m.quality)
      mse = 255. ** 2 * 10. ** (-m.psnr / 10.)
      losses.setdefault(level, []).append(lambdas[level] * mse + m.bpp)
  return {level: sum(v) / len(v) for level, v in sorted(losses.items())}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("before", help="per-image CSV of the first run")
  parser.add_argument("after", help="per-image CSV of the second run")
  parser.add_argument("--codec", default="nlaic-refined")
  parser.add_argument("--model", default=None,
                      help="SavedModel folder whose model.json gives the lambdas "
                           "(default: the shipped model)")
  args = parser.parse_args()

  from nlaic_tf.zoo import read_model_info
  lambdas = read_model_info(args.model)["config"]["lambdas"]
  before = mean_loss_per_level(args.before, args.codec, lambdas)
  after = mean_loss_per_level(args.after, args.codec, lambdas)
  print(f"{args.codec}: mean lambda * MSE + bpp per level")
  print("level  lambda    before     after    change")
  for level in sorted(set(before) & set(after)):
    change = 100. * (after[level] / before[level] - 1.)
    print(f"{level:5d}  {lambdas[level]:<8g} {before[level]:8.4f}  {after[level]:8.4f}  "
          f"{change:+7.2f} %")


if __name__ == "__main__":
  main()
