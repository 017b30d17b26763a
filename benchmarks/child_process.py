"""Runs one benchmark case in a fresh interpreter, so each case's peak memory is its own.

The parent calls `run_child(script, child_value, flags)`; the child, started
as `script --child=<child_value> <flags>`, measures and calls
`print_result(dict)`; the parent returns that dict. Also what the coding
benchmarks share: the flags naming the model (`define_model_flags`) and the
Kodak images and mosaic (`kodak_files`, `large_image`).
"""
import json
import os
import subprocess
import sys
import time

# Every benchmark imports this module before absl's app.run, and so TensorFlow:
# imported inside app.run's main, tf.init_scope finds no eager context
# (tensorflow/tensorflow#55889) and nested tf.functions are traced twice.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow  # noqa: E402,F401  pylint: disable=unused-import,wrong-import-position

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KODAK_DIR = os.path.join(REPO_ROOT, "..", "shared", "data", "kodak")
_RESULT = "RESULT "


def define_model_flags():
  """Defines the flags of coding_speed.py and large_image_memory.py that
  choose the model, the Kodak folder, the quality and the threads."""
  from absl import flags
  here = dict(module_name=sys.argv[0])  # listed as the script's own (--helpshort)
  flags.DEFINE_string("model", None, "Exported SavedModel (default: the shipped one, "
                      "nlaic_tf.zoo.model_dir()); '' to use --config/--weights.", **here)
  flags.DEFINE_bool("saved_model", False, "Run the SavedModel's own graphs "
                    "(tf.saved_model.load: what TF Serving runs) instead of the codec "
                    "that `nlaic` and `zoo.load_codec` build from its weights.", **here)
  flags.DEFINE_string("config", "small", "Configuration when not using a SavedModel.", **here)
  flags.DEFINE_string("weights", None, "Checkpoint prefix when not using a SavedModel.", **here)
  flags.DEFINE_string("kodak_dir", KODAK_DIR, "Folder of kodim*.png.", **here)
  flags.DEFINE_float("quality", 3., "Rate level in [0, num_levels - 1].", **here)
  flags.DEFINE_integer("threads", 0, "Intra-op threads (0: TensorFlow's default).", **here)


def kodak_files(kodak_dir):
  """The kodim*.png files of `kodak_dir`, sorted; FileNotFoundError if none."""
  files = sorted(f for f in os.listdir(kodak_dir)
                 if f.startswith("kodim") and f.endswith(".png"))
  if not files:
    raise FileNotFoundError(f"no kodim*.png in {kodak_dir}")
  return [os.path.join(kodak_dir, f) for f in files]


def large_image(height, width, kodak_dir):
  """uint8 [height, width, 3]: the landscape Kodak images (768x512) tiled in
  file order, row-major (cycling through them), cut to height x width."""
  import numpy as np
  from nlaic_tf.io import read_image
  tiles = [im for im in map(read_image, kodak_files(kodak_dir)) if im.shape[:2] == (512, 768)]
  rows, cols = -(-height // 512), -(-width // 768)
  grid = [np.concatenate([tiles[(r * cols + c) % len(tiles)] for c in range(cols)], 1)
          for r in range(rows)]
  return np.concatenate(grid, 0)[:height, :width]


def status_mb(field="VmHWM"):
  """A /proc/self/status field in MB (Linux; VmHWM: peak resident memory)."""
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith(field + ":"):
        return int(line.split()[1]) // 1024
  raise RuntimeError(f"no {field} in /proc/self/status")


def timed_call(function, *args):
  """-> (function(*args) as NumPy, seconds, peak resident MB during the call):
  VmHWM is reset to the current resident size first (/proc/self/clear_refs,
  Linux), so the peak counts what the process held before the call plus what
  the call took."""
  with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
  start = time.perf_counter()
  result = function(*args).numpy()
  return result, time.perf_counter() - start, status_mb()


def print_result(result):
  """Child side: reports `result` (a JSON-able dict) to the parent."""
  print(_RESULT + json.dumps(result), flush=True)


def run_child(script, child_value, flag_values, label):
  """Parent side: runs `script --child=child_value --name=value...`; returns its dict.

  Raises RuntimeError (with the end of the child's stderr) if the child fails.
  """
  argv = [sys.executable, os.path.abspath(script), f"--child={child_value}"]
  argv += [f"--{name}={value}" for name, value in flag_values.items()]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
             PYTHONPATH=os.pathsep.join([REPO_ROOT, os.environ.get("PYTHONPATH", "")]))
  result = subprocess.run(argv, env=env, capture_output=True, text=True)
  lines = [l for l in result.stdout.splitlines() if l.startswith(_RESULT)]
  if result.returncode != 0 or not lines:
    raise RuntimeError(f"{label}: benchmark process failed "
                       f"(exit {result.returncode}):\n{result.stderr[-3000:]}")
  return json.loads(lines[-1][len(_RESULT):])
