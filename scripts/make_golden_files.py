"""Writes tests/data/golden: files that CI decodes on whatever machine it runs on.

The folder holds a tiny model whose entropy parameters take the integer path
(the `tiny-int` configuration, random weights from a fixed seed,
a float32 checkpoint), a 96x128 crop of assets/demo.png, the files this
machine's encoder wrote at levels 0, 0.5 and 1 with the latents (symbol +
mean) and reconstruction it computed (`scripts/portability_matrix.py`'s
encoder, so the same format as its matrix), and manifest.json naming the
machine. `tests/test_portability.py` decodes them wherever the suite runs:
every latent must be bit-identical and every pixel within 1, so a run on
another CPU is a real cross-machine test of the integer path and of z's
prior tables, which the decoder builds from the weights.

Regenerate only when the format or the integer arithmetic changes on
purpose; the point of the files is that they were written elsewhere:

  python scripts/make_golden_files.py
"""
import argparse
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "data", "golden")
LEVELS = ("0", "0.5", "1")


def _cpu():
  """The CPU's model name and its widest SIMD extension, from /proc/cpuinfo."""
  try:
    with open("/proc/cpuinfo") as f:
      info = f.read()
  except OSError:
    return platform.processor()
  name = next((line.split(":", 1)[1].strip() for line in info.splitlines()
               if line.startswith("model name")), platform.processor())
  flags = next((line.split(":", 1)[1].split() for line in info.splitlines()
                if line.startswith("flags")), [])
  isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "other"
  return f"{name} ({isa})"


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default=GOLDEN)
  args = parser.parse_args(argv)

  import tensorflow as tf
  from PIL import Image
  from nlaic_tf.models import get_config
  from nlaic_tf.zoo import build_model

  os.makedirs(args.out, exist_ok=True)
  config = get_config("tiny-int")
  tf.keras.utils.set_random_seed(7)
  model = build_model(config)
  weights = os.path.join(args.out, "weights")
  tf.train.Checkpoint(model=model).write(weights)
  config_path = os.path.join(args.out, "config.json")
  with open(config_path, "w") as f:
    f.write(config.to_json())
  image = os.path.join(args.out, "image.png")
  Image.open(os.path.join(ROOT, "assets", "demo.png")).convert("RGB").crop(
      (192, 160, 320, 256)).save(image)

  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "portability_matrix.py"),
                  "--config", config_path, "--weights", weights, "--levels", *LEVELS,
                  "--worker", "encode", "--out", args.out, "--", image],
                 check=True, env=env)
  machine = _cpu()
  commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip()
  with open(os.path.join(args.out, "manifest.json"), "w") as f:
    json.dump({"written_on": machine, "tensorflow": tf.__version__,
               "commit": commit, "levels": [float(l) for l in LEVELS]}, f, indent=1)
  print(f"golden files in {args.out}, written on {machine}")


if __name__ == "__main__":
  main()
