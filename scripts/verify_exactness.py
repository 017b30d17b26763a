"""Proves bit-exact decoding: every image at every rate level, across thread settings.

One subprocess encodes every (image, level) with --encode-threads intra-op
threads, keeping each bitstream, the encoder's quantized latents and its
reconstruction. Then one subprocess per --decode-threads setting decodes every
bitstream; latents and image must equal the encoder's bit for bit.

  python scripts/verify_exactness.py                      # shipped model, Kodak
  python scripts/verify_exactness.py --levels 0,3 --limit 2

Prints one line per decode setting and exits 1 on any mismatch.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def _configure_threads(threads):
  import tensorflow as tf
  tf.config.threading.set_intra_op_parallelism_threads(threads)
  tf.config.threading.set_inter_op_parallelism_threads(threads)


def encode_all(args):
  _configure_threads(args.threads)
  from nlaic_tf import api, zoo
  from nlaic_tf.io.images import find_images, read_image
  codec = zoo.load_codec(args.model)
  levels = _levels(args.levels, api.num_levels(codec))
  images = find_images(args.images)[0][:args.limit]
  for path in images:
    image = read_image(path)
    for level in levels:
      data, y_hat, recon = codec.encode(image, np.float32(level))
      np.savez(os.path.join(args.work, f"{path.stem}_q{level}.npz"),
               data=np.frombuffer(data.numpy(), np.uint8), y_hat=y_hat.numpy(),
               recon=recon.numpy())


def decode_all(args):
  _configure_threads(args.threads)
  from nlaic_tf import zoo
  codec = zoo.load_codec(args.model)
  cases = sorted(f for f in os.listdir(args.work) if f.endswith(".npz"))
  mismatches = []
  for name in cases:
    case = np.load(os.path.join(args.work, name))
    image, y_hat = codec.decode(case["data"].tobytes())
    if not (np.array_equal(y_hat.numpy(), case["y_hat"]) and
            np.array_equal(image.numpy(), case["recon"])):
      mismatches.append(name)
  print(f"decode with {args.threads} thread(s): {len(cases) - len(mismatches)}/"
        f"{len(cases)} exact" + (f"; MISMATCH: {', '.join(mismatches)}" if mismatches else ""))
  return 1 if mismatches or not cases else 0


def _levels(spec, num_levels):
  return list(range(num_levels)) if spec == "all" else [int(l) for l in spec.split(",")]


def main():
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--model", help="codec SavedModel (default: the shipped one)")
  parser.add_argument("--images", default="../shared/data/kodak")
  parser.add_argument("--limit", type=int, help="first N images only")
  parser.add_argument("--levels", default="all", help="'all' or comma-separated levels")
  parser.add_argument("--encode-threads", type=int, default=2)
  parser.add_argument("--decode-threads", default="1,2")
  parser.add_argument("--worker", choices=["encode", "decode"], help=argparse.SUPPRESS)
  parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
  parser.add_argument("--work", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.worker == "encode":
    return encode_all(args)
  if args.worker == "decode":
    return decode_all(args)

  common = [sys.executable, __file__, "--images", args.images, "--levels", args.levels]
  if args.model:
    common += ["--model", args.model]
  if args.limit:
    common += ["--limit", str(args.limit)]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  status = 0
  with tempfile.TemporaryDirectory() as work:
    subprocess.run(common + ["--worker", "encode", "--threads",
                             str(args.encode_threads), "--work", work],
                   check=True, env=env)
    print(f"encoded with {args.encode_threads} thread(s): "
          f"{len(os.listdir(work))} bitstreams")
    for threads in args.decode_threads.split(","):
      result = subprocess.run(common + ["--worker", "decode", "--threads", threads,
                                        "--work", work], env=env)
      status = status or result.returncode
  return status


if __name__ == "__main__":
  sys.exit(main())
