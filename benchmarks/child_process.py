"""Runs one benchmark case in a fresh interpreter, so each case's peak memory is its own.

The parent calls `run_child(script, child_value, flags)`; the child, started
as `script --child=<child_value> <flags>`, measures and calls
`print_result(dict)`; the parent returns that dict.
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
_RESULT = "RESULT "


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
