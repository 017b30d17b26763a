"""Fuzzes the decoder: every damaged or forged file must decode or raise BitstreamError.

Valid files are made from small synthetic images at a few qualities, then
`nlaic_tf.bitstream.mutations.mutate` damages them (truncation, bit flips,
byte runs, appended and random bytes) or rewrites header fields with a valid
checksum (image size, stream lengths and split, quality, version, empty and
random streams). Decoding uses this checkout's decoder: the tiny configuration
with random weights (--config tiny, fast) or the weights of an exported
SavedModel (--model DIR) rebuilt with this code. No pixel limit is applied
(max_pixels=0), so the decoder's own checks are what is tested.

  python scripts/fuzz_decoder.py --cases 10000
  python scripts/fuzz_decoder.py --cases 1000 --model saved_models/nlaic_small

Prints the counts per kind and outcome and the slowest case; exits 1 (with
the case) if a decode raised anything but BitstreamError.
"""
import argparse
import json
import os
import time

import numpy as np


def build(args):
  """-> (codec, quality levels to encode at)."""
  from nlaic_tf import zoo
  from nlaic_tf.models import ModelConfig
  if args.model:
    config = ModelConfig.from_json(json.dumps(zoo.read_model_info(args.model)["config"]))
    codec = zoo.build_codec(config, os.path.join(args.model, "variables", "variables"))
  else:
    codec = zoo.build_codec(args.config)
  top = codec.num_levels - 1.
  return codec, sorted({0., top / 2, top})


def smooth_image(height, width, rng):
  """uint8 [height, width, 3]: a coarse random colour grid, upsampled."""
  coarse = rng.integers(20, 236, size=(max(2, height // 16), max(2, width // 16), 3))
  rows = np.linspace(0, coarse.shape[0] - 1, height).round().astype(int)
  cols = np.linspace(0, coarse.shape[1] - 1, width).round().astype(int)
  return coarse[rows][:, cols].astype(np.uint8)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--cases", type=int, default=10000)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--config", default="tiny",
                      help="configuration with random weights (without --model)")
  parser.add_argument("--model", help="exported SavedModel whose weights to use")
  args = parser.parse_args()
  from nlaic_tf import api
  from nlaic_tf.bitstream.mutations import fuzz
  codec, qualities = build(args)
  rng = np.random.default_rng(args.seed)
  files = [api.compress(smooth_image(h, w, rng), q, codec)
           for h, w in ((1, 1), (40, 56), (70, 90), (128, 96)) for q in qualities]
  start = time.perf_counter()
  counts, slowest, kind = fuzz(lambda data: api.decompress(data, codec, max_pixels=0),
                               files, args.cases, args.seed)
  seconds = time.perf_counter() - start
  for key in sorted(counts):
    print(f"{key[0]:<12} {key[1]:<9} {counts[key]:>6}")
  decoded = sum(n for (_, outcome), n in counts.items() if outcome == "decoded")
  print(f"{args.cases} cases from {len(files)} files ({args.model or args.config}, "
        f"seed {args.seed}): {args.cases - decoded} rejected with BitstreamError, "
        f"{decoded} decoded to an image, 0 other outcomes; {seconds:.0f} s, "
        f"slowest case {slowest:.2f} s ({kind})")


if __name__ == "__main__":
  main()
