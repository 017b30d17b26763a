"""Prints each rate level's PSNR beside the transforms' ceiling (no quantization)
and how many latent channels carry its bits.

  python scripts/reconstruction_ceiling.py \
      --weights saved_models/nlaic_small/variables/variables

Validation centre crops of bsds500/val, as train.py validates. "Ceiling share
of MSE" is the share of a level's squared error that the transforms alone
already make (ceiling MSE / level MSE): near 100 % the level cannot gain from a better
entropy model, only from better (e.g. wider) transforms. "Channels for 90 %"
counts the fewest latent channels that carry 90 % of a level's bits of y;
"active" those that carry at least 0.1 % each.
"""
import argparse
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--weights", default=os.path.join(
      ROOT, "saved_models", "nlaic_small", "variables", "variables"),
      help="checkpoint prefix (an exported model's variables or train.py's best/weights; "
           "built with the configuration recorded beside it, as export.py does)")
  parser.add_argument("--val_glob", default=os.path.join(
      ROOT, "..", "shared", "data", "bsds500", "val", "*.jpg"))
  parser.add_argument("--images", type=int, default=12)
  parser.add_argument("--crop", type=int, default=256)
  args = parser.parse_args()

  from nlaic_tf import data, zoo
  from nlaic_tf.evaluation.ceiling import channels_for_share, level_psnr_and_ceiling
  from nlaic_tf.export_lib import weights_model_config
  config = weights_model_config(args.weights)
  model = zoo.build_model(config, args.weights)
  files = data.image_files(args.val_glob)[:args.images]
  psnr, ceiling, channel_bits = level_psnr_and_ceiling(
      model, data.validation_dataset(files, args.crop))
  print(f"{config.name}: {len(files)} centre crops {args.crop}x{args.crop}")
  for90 = channels_for_share(channel_bits, 0.9)
  active = (channel_bits / channel_bits.sum(1, keepdims=True) >= 1e-3).sum(1)
  print("level  PSNR dB  ceiling dB  below ceiling dB  ceiling share of MSE  "
        f"channels for 90 %  active (of {config.latent_channels})")
  for level, (p, c) in enumerate(zip(psnr, ceiling)):
    print(f"{level:5d}  {p:7.2f}  {c:10.2f}  {c - p:16.2f}  {10 ** ((p - c) / 10):19.0%}"
          f"  {for90[level]:17d}  {active[level]:6d}")


if __name__ == "__main__":
  main()
