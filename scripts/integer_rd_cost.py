"""RD cost of the integer entropy parameters against the float ones.

Encodes images with both paths of the same trained model and prints, per
image and level, bytes and PSNR of each, then the BD-rate of the integer path
against the float path over the mean (bpp, PSNR) curve of the images.

A model whose hyper synthesis has an NLAM (the shipped `small`) has no
portable integer path; `--float-layers` evaluates its NLAM in float between
two roundings (the rest integer) to measure the cost of the integer
arithmetic everywhere else.

  nice -n 19 python scripts/integer_rd_cost.py \\
      --weights saved_models/nlaic_small/variables/variables --config small \\
      --float-layers --levels 0 2 5 7 -- /work/shared/data/kodak/kodim0[1-3].png
"""
import argparse
import json
import math

import numpy as np


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("images", nargs="+")
  parser.add_argument("--config", required=True)
  parser.add_argument("--weights", required=True, help="checkpoint prefix")
  parser.add_argument("--levels", type=float, nargs="+", default=[0, 2, 5, 7])
  parser.add_argument("--float-layers", action="store_true",
                      help="evaluate hyper-synthesis NLAMs in float (not portable)")
  args = parser.parse_args()

  from nlaic_tf.entropy.integer import IntegerParameters
  from nlaic_tf.evaluation.bd_rate import bd_rate
  from nlaic_tf.io.images import read_image
  from nlaic_tf.models.codec import NLAICCodec
  from nlaic_tf.zoo import build_model

  model = build_model(args.config, args.weights)
  codecs = {"float": NLAICCodec(model, integer=False),
            "integer": NLAICCodec(model, integer=IntegerParameters(
                model, float_layers=args.float_layers))}
  curves = {name: np.zeros([len(args.levels), 2]) for name in codecs}
  for path in args.images:
    image = read_image(path)
    pixels = image.shape[0] * image.shape[1]
    for i, level in enumerate(args.levels):
      row = {"image": path, "level": level}
      for name, codec in codecs.items():
        data, _, recon = codec.encode(image, np.float32(level))
        mse = np.mean((recon.numpy().astype(np.float64) - image) ** 2)
        bpp, psnr = 8 * len(data.numpy()) / pixels, 10 * math.log10(255 ** 2 / mse)
        curves[name][i] += (bpp / len(args.images), psnr / len(args.images))
        row[name] = {"bytes": len(data.numpy()), "psnr": round(psnr, 3)}
      print(json.dumps(row), flush=True)
  for name, curve in curves.items():
    print(name, "mean bpp/PSNR:", [(round(b, 4), round(p, 3)) for b, p in curve])
  print("BD-rate integer vs float: %.3f %%" % bd_rate(
      curves["float"][:, 0], curves["float"][:, 1],
      curves["integer"][:, 0], curves["integer"][:, 1]))


if __name__ == "__main__":
  main()
