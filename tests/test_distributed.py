"""Training under tf.distribute, for real: two logical CPU devices under
MirroredStrategy, two local worker processes under MultiWorkerMirroredStrategy
(killed and resumed); and the paper configuration's training step and coding.
Each run is a subprocess, as logical devices and TF_CONFIG must be set before
TensorFlow starts (and the paper model's memory is returned when it ends)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENV = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3",
           TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")


def _worker(*args, timeout=900):
  done = subprocess.run([sys.executable, os.path.join(HERE, "distributed_worker.py"),
                         *args], env=ENV, capture_output=True, text=True,
                        timeout=timeout)
  assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
  return done.stdout


def test_two_devices_take_the_same_step_as_one(tmp_path, image_dir):
  out = str(tmp_path / "weights.npz")
  _worker("same_step", image_dir, out)
  result = np.load(out, allow_pickle=True)
  np.testing.assert_array_equal(result["indices"], [0, 1, 2, 3])
  moved = 0
  for before, one, two in zip(result["before"], result["one"], result["two"]):
    np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-6)
    moved += not np.array_equal(before, one)
  assert moved > len(result["one"]) // 2
  for one, two in zip(result["average_one"], result["average_two"]):
    np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-6)


def _free_ports(n):
  sockets = [socket.socket() for _ in range(n)]
  for s in sockets:
    s.bind(("localhost", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def _start_cluster(workdir, image_dir, steps):
  """Two train.py workers of one MultiWorkerMirroredStrategy cluster."""
  workers = [f"localhost:{p}" for p in _free_ports(2)]
  glob = os.path.join(image_dir, "*.png")
  processes = []
  for index in range(2):
    env = dict(ENV, TF_CONFIG=json.dumps(dict(
        cluster=dict(worker=workers), task=dict(type="worker", index=index))))
    processes.append(subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train.py"), "--strategy", "multi_worker",
         "--config", "tiny", "--workdir", workdir, "--train_glob", glob,
         "--val_glob", glob, "--crop", "64", "--batch_size", "4",
         "--steps", str(steps), "--lr", "1e-3", "--val_every", "3",
         "--val_images", "1", "--val_crop", "64", "--log_every", "1",
         "--checkpoint_minutes", "0", "--precision", "float32",
         "--weight_average", "0.9"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
  return processes


def _finish(processes, timeout=900):
  outputs = [p.communicate(timeout=timeout)[0] for p in processes]
  for p, output in zip(processes, outputs):
    assert p.returncode == 0, output[-3000:]
  return outputs


def _latest(workdir):
  return tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))


def _weights(prefix):
  reader = tf.train.load_checkpoint(prefix)
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()
          if name.split("/")[0] in ("model", "optimizer", "weight_average")}


def test_multi_worker_resumes_after_a_kill_like_an_uninterrupted_run(
    tmp_path, image_dir):
  steps = 8
  whole = str(tmp_path / "whole")
  _finish(_start_cluster(whole, image_dir, steps))

  killed = str(tmp_path / "killed")
  processes = _start_cluster(killed, image_dir, steps)
  deadline = time.time() + 600
  while not (_latest(killed) or "").endswith("-2"):  # checkpoints every step
    assert time.time() < deadline and all(p.poll() is None for p in processes)
    time.sleep(0.05)
  processes[1].send_signal(signal.SIGTERM)  # the other worker must stop too
  first = _finish(processes)
  stopped_at = int(_latest(killed).rsplit("-", 1)[1])
  assert 2 <= stopped_at < steps, first[0][-2000:]

  second = _finish(_start_cluster(killed, image_dir, steps))
  assert f"at step {stopped_at}" in second[0]
  assert _latest(killed).endswith(f"-{steps}") and _latest(whole).endswith(f"-{steps}")
  expected, actual = _weights(_latest(whole)), _weights(_latest(killed))
  assert expected.keys() == actual.keys() and len(expected) > 20
  assert any(name.startswith("weight_average/") for name in expected)
  for name in expected:
    np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)
  assert os.path.exists(os.path.join(killed, "best", "weights.index"))
  assert os.path.isdir(os.path.join(killed, "tb"))


def test_paper_configuration_trains_and_codes_exactly(image_dir):
  assert "ok" in _worker("paper_step", image_dir, timeout=1800)
