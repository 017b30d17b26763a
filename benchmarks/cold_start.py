"""What one photo costs a cold process: phases in Python, and the whole commands.

  python benchmarks/cold_start.py                     # kodim05, quality 5, 3 runs
  python benchmarks/cold_start.py --image photo.png --quality 3 --runs 5

Each run is a fresh interpreter. Phases (seconds, median over the runs):
  import    `import tensorflow, tensorflow_compression` (tfc imports
            tensorflow_probability), then `nlaic_tf` (api, zoo, io)
  load      `zoo.load_codec(--model)`: the codec built around the export
  compress  the first `nlaic_tf.compress` (tracing, graph optimisation,
            kernel set-up and coding) and the second (coding alone)
  decompress  likewise for `nlaic_tf.decompress`
Then the whole commands, each in its own process, wall time from start to
exit (median over the runs): `nlaic compress IMAGE OUT --quality Q` and
`nlaic decompress OUT PNG`, as a user types them (run as
`python -m nlaic_tf`, which is what the `nlaic` script does).

Run it on an otherwise idle machine: anything else on the CPU (train.py)
slows every phase.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KODIM05 = os.path.join(REPO_ROOT, "..", "shared", "data", "kodak", "kodim05.png")
PHASES = ("import tensorflow", "import nlaic_tf", "load codec",
          "compress 1st", "compress 2nd", "decompress 1st", "decompress 2nd")


def phases(image_path, quality, model):
  """Child side: seconds of each of PHASES in this (fresh) process."""
  seconds = []
  start = time.perf_counter()

  def mark():
    nonlocal start
    now = time.perf_counter()
    seconds.append(now - start)
    start = now
  import tensorflow  # noqa: F401  pylint: disable=unused-import
  import tensorflow_compression  # noqa: F401  pylint: disable=unused-import
  mark()
  from nlaic_tf import api, zoo
  from nlaic_tf.io.images import read_image
  image = read_image(image_path)
  mark()
  codec = zoo.load_codec(model)
  mark()
  for _ in range(2):
    data = api.compress(image, quality, codec)
    mark()
  for _ in range(2):
    api.decompress(data, codec)
    mark()
  return dict(zip(PHASES, seconds), bytes=len(data))


def _wall(argv):
  """Seconds from start to exit of a command; raises if it fails."""
  start = time.perf_counter()
  result = subprocess.run(argv, capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  seconds = time.perf_counter() - start
  if result.returncode:
    raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stderr[-2000:]}")
  return seconds


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--image", default=KODIM05)
  parser.add_argument("--quality", type=float, default=5.)
  parser.add_argument("--model", default="nlaic-mse")
  parser.add_argument("--runs", type=int, default=3)
  parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    print(json.dumps(phases(args.image, args.quality, args.model)))
    return

  probes = []
  for _ in range(args.runs):
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", "--image", args.image,
         "--quality", str(args.quality), "--model", args.model],
        capture_output=True, text=True, check=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")).stdout
    probes.append(json.loads(out.strip().splitlines()[-1]))
  nlaic = [sys.executable, "-m", "nlaic_tf"]
  commands = {"nlaic compress": [], "nlaic decompress": []}
  with tempfile.TemporaryDirectory() as tmp:
    stream, png = os.path.join(tmp, "image.nlaic"), os.path.join(tmp, "image.png")
    for _ in range(args.runs):
      commands["nlaic compress"].append(_wall(
          nlaic + ["compress", args.image, stream, "--quality", str(args.quality),
                   "--model", args.model]))
      commands["nlaic decompress"].append(_wall(
          nlaic + ["decompress", stream, png]))

  median = lambda values: statistics.median(values)
  print(f"{os.path.basename(args.image)}, quality {args.quality:g}, model {args.model}, "
        f"{probes[0]['bytes']} bytes; median of {args.runs} cold processes")
  print("| phase (one Python process) | seconds |\n|---|---:|")
  for phase in PHASES:
    print(f"| {phase} | {median([p[phase] for p in probes]):.2f} |")
  for name in ("compress", "decompress"):
    extra = median([p[f"{name} 1st"] - p[f"{name} 2nd"] for p in probes])
    print(f"| first {name} minus second | {extra:.2f} |")
  print("\n| command | wall seconds (each run) | median |\n|---|---|---:|")
  for name, values in commands.items():
    print(f"| `{name}` | {', '.join(f'{v:.2f}' for v in values)} | {median(values):.2f} |")


if __name__ == "__main__":
  main()
