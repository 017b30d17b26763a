"""How much fine detail training crops keep: luma Laplacian energy per setting.

  python scripts/crop_sharpness.py                       # bsds500/train, 30 images
  python scripts/crop_sharpness.py --glob 'photos/*.png' --images 50 --crop 256

For the first --images training files (sorted), prints the mean
`metrics.laplacian_energy` (0..255 units) of their centre crops as they are,
then of training crops (`data.training_dataset`, --batches batches of 2) for
each `CropScale` setting: the default (no resampling), and random downscales
by 0.8-1.0 with bilinear (what training used before the default changed),
lanczos3 and area filters. The ratio to the centre crops is the share of
detail a setting keeps.
"""
import argparse
import os

import numpy as np

from nlaic_tf import data
from nlaic_tf.metrics import laplacian_energy

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BSDS_TRAIN = os.path.join(REPO_ROOT, "..", "shared", "data", "bsds500", "train", "*.jpg")
SETTINGS = (("source pixels (default)", data.CropScale()),
            ("0.8-1.0 bilinear", data.CropScale(0.8, 1., "bilinear")),
            ("0.8-1.0 lanczos3", data.CropScale(0.8, 1., "lanczos3")),
            ("0.8-1.0 area", data.CropScale(0.8, 1., "area")))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--glob", default=BSDS_TRAIN)
  parser.add_argument("--images", type=int, default=30)
  parser.add_argument("--crop", type=int, default=256)
  parser.add_argument("--batches", type=int, default=30)
  args = parser.parse_args()
  files = data.image_files(args.glob)[:args.images]
  centre = np.mean([laplacian_energy(255. * crop) for batch in
                    data.validation_dataset(files, args.crop, batch_size=1)
                    for crop in batch])
  print(f"{len(files)} images, {args.crop}x{args.crop} crops\n")
  print("| crops | Laplacian energy | share of the centre crops' |\n|---|---:|---:|")
  print(f"| centre crops as they are | {centre:.0f} | 100 % |")
  for name, scale in SETTINGS:
    batches = data.training_dataset(files, crop=args.crop, batch_size=2, scale=scale)
    energy = np.mean([laplacian_energy(255. * b) for b, _ in zip(batches, range(args.batches))])
    print(f"| training, {name} | {energy:.0f} | {100 * energy / centre:.0f} % |")


if __name__ == "__main__":
  main()
