"""Prints the coded rate-distortion loss, lambda * D + bpp, per rate level of
two evaluation runs of one codec, and its change from the first run to the second.

  git show 2c8897f:results/kodak_refined.csv > /tmp/old.csv
  python scripts/coded_loss.py /tmp/old.csv results/kodak_refined.csv

Reads the per-image CSVs that `nlaic evaluate` writes (NAME.csv): bpp from
each image's file size, D from its PSNR (255^2 * MSE) or, for a model trained
for MS-SSIM, its MS-SSIM; lambda of the level and the distortion measure from
the model's model.json: the model's training objective at that level
(`RateDistortionLoss.measured_loss`). The loss is averaged over the images of
each level.
"""
import argparse

from nlaic_tf.evaluation.records import read_measurements_csv


def mean_loss_per_level(path, codec, rd_loss):
  """{level: mean of `rd_loss`'s lambda * D + bpp over the images} of `codec`
  in `path`."""
  losses = {}
  for m in read_measurements_csv(path):
    if m.codec == codec:
      level = int(m.quality)
      losses.setdefault(level, []).append(
          rd_loss.measured_loss(level, m.bpp, m.psnr, m.ms_ssim))
  return {level: sum(v) / len(v) for level, v in sorted(losses.items())}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("before", help="per-image CSV of the first run")
  parser.add_argument("after", help="per-image CSV of the second run")
  parser.add_argument("--codec", default="nlaic-refined")
  parser.add_argument("--model", default=None,
                      help="SavedModel folder or pretrained model whose model.json "
                           "gives the lambdas and distortion (default: the shipped model)")
  args = parser.parse_args()

  from nlaic_tf.models import ModelConfig
  from nlaic_tf.models.losses import MS_SSIM_SCALE, RateDistortionLoss
  from nlaic_tf.zoo import read_model_info
  rd_loss = RateDistortionLoss.for_config(
      ModelConfig.from_dict(read_model_info(args.model)["config"]))
  before = mean_loss_per_level(args.before, args.codec, rd_loss)
  after = mean_loss_per_level(args.after, args.codec, rd_loss)
  measure = ("MSE" if rd_loss.distortion == "mse"
             else f"{MS_SSIM_SCALE:g} * (1 - MS-SSIM)")
  print(f"{args.codec}: mean lambda * {measure} + bpp per level")
  print("level  lambda    before     after    change")
  for level in sorted(set(before) & set(after)):
    change = 100. * (after[level] / before[level] - 1.)
    print(f"{level:5d}  {rd_loss.lambdas[level]:<8g} {before[level]:8.4f}  "
          f"{after[level]:8.4f}  {change:+7.2f} %")


if __name__ == "__main__":
  main()
