"""What K continuous values per 16x16 block allow a linear transform: PSNR of
the best K-term approximation of the validation crops in a block KLT.

  python scripts/linear_bound.py --coefficients 96,192,256,384

A model with M latent channels at H/16 describes each 16x16x3 block (768
values) with M values. The Karhunen-Loeve transform of the blocks (the
eigenvectors of their covariance, fitted on the training images' tiled
blocks) keeps the K of them that minimise the mean squared error among all
linear maps to K values; this prints its PSNR on train.py's validation crops
(centre crops of bsds500/val, each image's PSNR averaged, reconstruction
clipped to [0, 255]), beside the transforms' ceiling in history.jsonl. No
quantization: the bound a linear code reaches with unlimited bits. A learned
(nonlinear, overlapping) transform can beat it; one far below it at the top
levels is limited by its training or its capacity, not by M.
"""
import argparse
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "bsds500")
BLOCK = 16


def blocks(image):
  """uint8 [H, W, 3] -> float64 [n, 768]: its whole 16x16 blocks, row-major."""
  h, w = image.shape[0] // BLOCK * BLOCK, image.shape[1] // BLOCK * BLOCK
  x = image[:h, :w].astype(np.float64)
  x = x.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK, 3).transpose(0, 2, 1, 3, 4)
  return x.reshape(-1, BLOCK * BLOCK * 3)


def block_klt(images):
  """(mean [768], basis [768, 768] with columns by decreasing variance) of
  the blocks of `images`, accumulated image by image."""
  total, outer, count = 0., 0., 0
  for image in images:
    b = blocks(image)
    total, outer, count = total + b.sum(0), outer + b.T @ b, count + len(b)
  mean = total / count
  covariance = outer / count - np.outer(mean, mean)
  _, vectors = np.linalg.eigh(covariance)
  return mean, vectors[:, ::-1]


def psnr_with(image, mean, basis, k):
  """PSNR in dB of `image` [H, W, 3] (multiples of 16) rebuilt from k
  coefficients per block."""
  original = blocks(image)
  kept = basis[:, :k]
  rebuilt = np.clip((original - mean) @ kept @ kept.T + mean, 0, 255)
  return 10 * np.log10(255. ** 2 / np.mean((rebuilt - original) ** 2))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--train_glob", default=f"{DATA}/train/*.jpg,{DATA}/test/*.jpg",
                      help="images the KLT is fitted on (train.py's default)")
  parser.add_argument("--val_glob", default=f"{DATA}/val/*.jpg")
  parser.add_argument("--val_images", type=int, default=12)
  parser.add_argument("--val_crop", type=int, default=256)
  parser.add_argument("--coefficients", default="96,192,256,384",
                      help="K values per 16x16x3 block (M latent channels: K = M)")
  args = parser.parse_args()

  from nlaic_tf import data
  from nlaic_tf.io.images import read_image
  train = data.image_files(args.train_glob)
  mean, basis = block_klt(read_image(f) for f in train)
  val = data.image_files(args.val_glob)[:args.val_images]
  crops = [np.round(c.numpy() * 255).astype(np.uint8)
           for batch in data.validation_dataset(val, args.val_crop) for c in batch]
  print(f"block KLT fitted on {len(train)} images; {len(crops)} validation crops "
        f"of {args.val_crop}x{args.val_crop}")
  print("| K per 16x16 block | values per pixel | PSNR (dB) |\n| ---: | ---: | ---: |")
  for k in map(int, args.coefficients.split(",")):
    psnr = np.mean([psnr_with(c, mean, basis, k) for c in crops])
    print(f"| {k} | {k / BLOCK ** 2:.2f} | {psnr:.2f} |")


if __name__ == "__main__":
  main()
