"""Encode under one set of kernel settings, decode under another: every pair.

Each setting is a separate process (TensorFlow reads these switches at start):

  default     TensorFlow's defaults (oneDNN on, best ISA, all threads)
  onednn0     TF_ENABLE_ONEDNN_OPTS=0 (Eigen kernels)
  avx2        ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN without AVX-512)
  threads1    1 intra-op and 1 inter-op thread
  onednn0-threads1  both

One process per setting encodes every image at every level; one process per
setting decodes every file; the table counts, per (encoder, decoder) pair,
files whose decoded latents (symbol + mean) are bit-identical to the
encoder's ("exact": the integer path must give only these), files decoded
with the same symbols but means that differ in the last bits ("mean_bits":
the float path across kernels; the symbols check passed and no latent moved
by 1/2 or more), files whose decoding raised an error ("error", a
BitstreamError: the float path's loud failure), and files decoded to wrong
symbols without an error ("SILENT", must be 0). The largest pixel difference
from the encoder's reconstruction over the decoded files is printed too.

Full matrix on Kodak with a trained model (slow; nice it):

  nice -n 19 python scripts/portability_matrix.py --config medium \\
      --weights runs/medium/best/weights --levels 0 1 2 3 4 5 6 7 -- \\
      /work/shared/data/kodak/*.png

Bit-exact decoding across thread counts with the shipped model (every
Kodak image at every level; exits 1 unless every file decodes to the
encoder's latents and pixels bit for bit):

  nice -n 19 python scripts/portability_matrix.py --encoders default \
      --decoders threads1 default --levels 0 1 2 3 4 5 6 7 --exact -- \
      ../shared/data/kodak/*.png

The weights are --weights (a checkpoint prefix) or those of --model (a
pretrained model's name or an exported SavedModel folder; neither given: the
shipped default model). --config takes a configuration name or a ModelConfig
JSON file; without it, the configuration recorded beside the weights. With
--workdir the streams and each finished (encoder, decoder) cell are kept
there, and a rerun with the same arguments skips what is done: the full
matrix (hours on 2 cores) can be run in pieces and stopped at any time. An
encoder's files are written only while one of its cells is missing, so the
cells (`<encoder>-<decoder>.json` and `run.json`, small) are enough to carry
a run to another machine or session.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

SETTINGS = {
    "default": {},
    "onednn0": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "avx2": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "threads1": {"THREADS": "1"},
    "onednn0-threads1": {"TF_ENABLE_ONEDNN_OPTS": "0", "THREADS": "1"},
}


def _config(config, weights):
  """`config` (a name, a ModelConfig JSON file, or None: the configuration
  recorded beside `weights`) -> what `build_model` takes."""
  from nlaic_tf import zoo
  from nlaic_tf.models import ModelConfig
  if config is None:
    recorded = zoo.recorded_config(zoo.weights_info(weights))
    if recorded is None:
      raise SystemExit(f"no configuration recorded beside {weights}: pass --config")
    return recorded
  if os.path.isfile(config):
    with open(config) as f:
      return ModelConfig.from_json(f.read())
  return config


def _codec(config, weights):
  from nlaic_tf.models.codec import NLAICCodec
  from nlaic_tf.zoo import build_model
  return NLAICCodec(build_model(_config(config, weights), weights))


def _encode(args, out):
  from nlaic_tf.io.images import read_image
  codec = _codec(args.config, args.weights)
  for i, path in enumerate(args.images):
    image = read_image(path)
    for level in args.levels:
      data, y_hat, recon = codec.encode(image, np.float32(level))
      name = os.path.join(out, f"{i}_{level:g}")
      with open(name + ".nlaic", "wb") as f:
        f.write(data.numpy())
      np.savez(name + ".npz", y_hat=y_hat.numpy(), image=recon.numpy())


def _decode(args, out):
  import tensorflow as tf
  codec = _codec(args.config, args.weights)
  results = {}
  for stream in sorted(glob.glob(os.path.join(args.streams, "*.nlaic"))):
    name = os.path.basename(stream)[:-len(".nlaic")]
    with open(stream, "rb") as f:
      data = f.read()
    try:
      image, y_hat = codec.decode(tf.constant(data))
    except tf.errors.InvalidArgumentError as e:
      found = re.search(r"nlaic bitstream: [^\n]*", e.message)
      results[name] = {"error": found.group(0) if found else e.message[:300]}
      continue
    reference = np.load(os.path.join(args.streams, name + ".npz"))
    results[name] = {
        "latent_difference": float(np.max(np.abs(y_hat.numpy() - reference["y_hat"]))),
        "max_pixel_difference": int(np.max(np.abs(
            image.numpy().astype(int) - reference["image"].astype(int)))),
    }
  _write_json(out, results)


def _write_json(path, value):
  """Writes `value` to `path` whole or not at all (a stopped run leaves no half file)."""
  from nlaic_tf.io.atomic import atomic_write
  with atomic_write(path, "w") as f:
    json.dump(value, f, indent=1)


def _run(setting, args, *extra):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("TF_ENABLE_ONEDNN_OPTS", None)
  env.pop("ONEDNN_MAX_CPU_ISA", None)
  env.update({k: v for k, v in SETTINGS[setting].items() if k != "THREADS"})
  config = ["--config", args.config] if args.config else []
  command = [sys.executable, os.path.abspath(__file__), *config,
             "--weights", args.weights, "--levels", *map(str, args.levels),
             "--threads", SETTINGS[setting].get("THREADS", "0"), *extra, "--",
             *args.images]
  subprocess.run(command, check=True, env=env)


def _check_run(work, args):
  """Records the run's arguments in `work`, or checks they match a run found there."""
  run = {"config": args.config, "weights": args.weights, "levels": list(args.levels),
         "images": list(args.images)}
  path = os.path.join(work, "run.json")
  if os.path.exists(path):
    with open(path) as f:
      found = json.load(f)
    if found != run:
      raise SystemExit(f"{work} holds a run with other arguments ({found}); "
                       "use another --workdir")
  else:
    os.makedirs(work, exist_ok=True)
    _write_json(path, run)


def _cell(results):
  """Counts of one (encoder, decoder) pair from its decoder's per-file results."""
  decoded = [r for r in results if "error" not in r]
  difference = [r["latent_difference"] for r in decoded]
  return {
      "exact": sum(d == 0 for d in difference),
      "mean_bits": sum(0 < d < .5 for d in difference),
      "error": len(results) - len(decoded),
      "SILENT": sum(d >= .5 for d in difference),
      "max_pixel_difference": max(
          [r["max_pixel_difference"] for r in decoded], default=0),
      "messages": sorted({r["error"] for r in results if "error" in r}),
  }


def _matrix_in(work, args):
  table = {}
  for encoder in args.encoders:
    streams = os.path.join(work, encoder)
    done = os.path.join(streams, "encoded")
    cells = {decoder: os.path.join(work, f"{encoder}-{decoder}.json")
             for decoder in args.decoders}
    missing = [decoder for decoder, out in cells.items() if not os.path.exists(out)]
    if missing and not os.path.exists(done):
      os.makedirs(streams, exist_ok=True)
      _run(encoder, args, "--worker", "encode", "--out", streams)
      open(done, "w").close()
    for decoder in missing:
      _run(decoder, args, "--worker", "decode", "--streams", streams,
           "--out", cells[decoder])
    for decoder, out in cells.items():
      with open(out) as f:
        table[encoder, decoder] = _cell(json.load(f).values())
  return table


def matrix(args):
  """Runs the processes; returns {(encoder, decoder): counts and pixel diff}.

  With `args.workdir` set, what an earlier run with the same arguments left
  there is reused; otherwise everything goes to a temporary folder.
  """
  if args.workdir:
    _check_run(args.workdir, args)
    return _matrix_in(args.workdir, args)
  with tempfile.TemporaryDirectory() as work:
    return _matrix_in(work, args)


def inexact(table, files):
  """The (encoder, decoder) pairs of `table` where not all `files` files
  decoded to the encoder's latents and pixels bit for bit."""
  return [pair for pair, row in table.items()
          if row["exact"] != files or row["max_pixel_difference"] != 0]


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("images", nargs="+")
  parser.add_argument("--config", help="configuration name or ModelConfig JSON file "
                      "(default: the one recorded beside the weights)")
  parser.add_argument("--weights", help="checkpoint prefix (default: --model's)")
  parser.add_argument("--model", help="pretrained model name or exported SavedModel "
                      "folder whose weights to use (default: the shipped default model)")
  parser.add_argument("--exact", action="store_true", help="exit 1 unless every file "
                      "of every pair decodes to the encoder's latents and pixels exactly")
  parser.add_argument("--levels", type=float, nargs="+", default=[0.])
  parser.add_argument("--encoders", nargs="+", default=list(SETTINGS),
                      choices=list(SETTINGS))
  parser.add_argument("--decoders", nargs="+", default=list(SETTINGS),
                      choices=list(SETTINGS))
  parser.add_argument("--workdir", help="keep streams and finished cells here; a rerun "
                      "with the same arguments resumes (default: a temporary folder)")
  parser.add_argument("--json", help="also write the table here")
  parser.add_argument("--worker", choices=["encode", "decode"], help=argparse.SUPPRESS)
  parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
  parser.add_argument("--streams", help=argparse.SUPPRESS)
  parser.add_argument("--out", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.weights is None:
    from nlaic_tf import zoo
    args.weights = os.path.join(zoo.model_dir(args.model), "variables", "variables")
  elif args.model:
    parser.error("--model and --weights exclude each other")
  if args.worker:
    if args.threads:
      import tensorflow as tf
      tf.config.threading.set_intra_op_parallelism_threads(args.threads)
      tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    (_encode if args.worker == "encode" else _decode)(args, args.out)
    return
  table = matrix(args)
  columns = ["exact", "mean_bits", "error", "SILENT", "max_pixel_difference"]
  print(f"{'encoder':16} {'decoder':16} " + " ".join(columns))
  for (encoder, decoder), row in table.items():
    print(f"{encoder:16} {decoder:16} " +
          " ".join(f"{row[c]:>{len(c)}}" for c in columns))
  if args.json:
    _write_json(args.json, {f"{e}->{d}": row for (e, d), row in table.items()})
  failed = inexact(table, len(args.images) * len(args.levels)) if args.exact else []
  for encoder, decoder in failed:
    print(f"NOT EXACT: encoded under {encoder}, decoded under {decoder}")
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
