"""RD cost of the integer entropy parameters, and a checkpoint against anchors.

Encodes images with both entropy paths of the same trained model (complete
.nlaic files; the reconstruction is the decoder's) and prints, per image and
level, bytes and PSNR of each, then the BD-rate of the integer path against
the float path over the mean (bpp, PSNR) curve of the images.

A model whose hyper synthesis has an NLAM (the shipped `small`) has no
portable integer path; `--float-layers` evaluates its NLAM in float between
two roundings (the rest integer) to measure the cost of the integer
arithmetic everywhere else.

`--anchors` (a per-image CSV of `nlaic evaluate`, e.g. results/kodak.csv)
adds a table of the integer path's BD values against every codec there,
each averaged over the same images as the run (codec/quality pairs that miss
one of them are left out), and `--out` writes the run's per-image CSV. So a
checkpoint is compared with the shipped model and the anchors on a Kodak
subset while training runs:

  nice -n 5 python scripts/integer_rd_cost.py --config medium-rc \\
      --weights runs/medium-rc/best/weights --levels 0 1 2 3 4 5 6 7 \\
      --anchors results/kodak.csv -- /work/shared/data/kodak/kodim0[1-6].png
"""
import argparse
import json
from pathlib import Path


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("images", nargs="+", type=Path)
  parser.add_argument("--config", required=True)
  parser.add_argument("--weights", required=True, help="checkpoint prefix")
  parser.add_argument("--levels", type=float, nargs="+", default=[0, 2, 5, 7])
  parser.add_argument("--float-layers", action="store_true",
                      help="evaluate hyper-synthesis NLAMs in float (not portable)")
  parser.add_argument("--anchors", type=Path,
                      help="per-image CSV of `nlaic evaluate` to compare with")
  parser.add_argument("--out", type=Path, help="write the run's per-image CSV here")
  args = parser.parse_args()

  import numpy as np
  from nlaic_tf.entropy.integer import IntegerParameters
  from nlaic_tf.evaluation import curves, harness, records, report
  from nlaic_tf.io.images import read_image
  from nlaic_tf.models.codec import NLAICCodec
  from nlaic_tf.zoo import build_model

  model = build_model(args.config, args.weights)
  float_name, integer_name = f"{args.config}-float", f"{args.config}-integer"
  codecs = {float_name: NLAICCodec(model, integer=False),
            integer_name: NLAICCodec(model, integer=IntegerParameters(
                model, float_layers=args.float_layers))}
  names = harness.image_names(args.images)
  measured = []
  for path, name in zip(args.images, names):
    image = read_image(path)
    for level in args.levels:
      row = {"image": name, "level": level}
      for codec_name, codec in codecs.items():
        data, _, decoded = codec.encode(image, np.float32(level))
        measured.append(harness.measurement(codec_name, name, level, image,
                                            data.numpy(), decoded.numpy()))
        row[codec_name] = {"bytes": measured[-1].bytes,
                           "psnr": round(measured[-1].psnr, 3)}
      print(json.dumps(row), flush=True)
  if args.out:
    records.write_measurements_csv(args.out, measured)

  summary = curves.curves_from_summary(records.summarize(measured))
  for curve in summary:
    print(curve.name, "mean bpp/PSNR:",
          [(round(b, 4), round(p, 3)) for b, p in zip(curve.bpp, curve.psnr)])
  print(report.bd_table(summary, anchor=float_name))
  if args.anchors:
    anchors = records.on_images(records.read_measurements_csv(args.anchors), names)
    ours = [m for m in measured if m.codec == integer_name]
    print(f"\nOn {len(names)} images, against {args.anchors}:")
    print(report.codec_table(
        curves.curves_from_summary(records.summarize(ours + anchors)), integer_name))


if __name__ == "__main__":
  main()
