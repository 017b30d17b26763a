"""Shared test fixtures: small smooth synthetic images, a tiny codec and its export."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from PIL import Image


def smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
  """A uint8 HxWx3 image with smooth structure (like a photo, unlike noise).

  A coarse random grid of colours is upsampled bicubically, plus faint texture,
  so that codecs compress it to realistic rates.
  """
  rng = np.random.default_rng(seed)
  coarse = rng.integers(20, 236, size=(max(2, height // 24), max(2, width // 24), 3),
                        dtype=np.uint8)
  smooth = np.asarray(Image.fromarray(coarse, "RGB").resize((width, height), Image.BICUBIC),
                      dtype=np.float64)
  texture = rng.normal(0.0, 3.0, size=(height, width, 1))
  return np.clip(np.rint(smooth + texture), 0, 255).astype(np.uint8)


# How `make test` shares the suite between its two pytest-xdist processes
# (--dist loadfile --no-loadscope-reorder, refined here): a unit of work per
# test file, except that the files using the session's tiny export form one
# unit (the export is built once, not once per process) and each
# distributed-training run is a unit of its own. Units go out longest first
# (measured 2026-12-07 with --durations: about 340 s for the export's unit,
# 330 s for test_training, 1,690 s in all), so that the two processes finish
# together instead of one of them running the distributed tests alone at the
# end.
SHARED_EXPORT = ("test_cli_codec", "test_export", "test_decoder_safety")
LONGEST_FIRST = (
    "exported", "test_training", "test_distributed::test_paper_configuration_"
    "trains_and_codes_exactly", "test_distributed::test_multi_worker_resumes_"
    "after_a_kill_like_an_uninterrupted_run", "test_model", "test_codec", "test_portability",
    "test_refinement", "test_distributed::test_two_devices_take_the_same_step_as_one",
    "test_integer", "test_tiling", "test_package")


def _work_unit(nodeid):
  """"tests/test_x.py::test_y[z]" -> the name of its unit of work."""
  path, _, test = nodeid.partition("::")
  module = os.path.splitext(os.path.basename(path))[0]
  if module in SHARED_EXPORT:
    return "exported"
  if module == "test_distributed":
    return f"{module}::{test}"
  return module


def pytest_collection_modifyitems(items):
  rank = {unit: i for i, unit in enumerate(LONGEST_FIRST)}
  items.sort(key=lambda item: rank.get(_work_unit(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook; the suite also runs without it
def pytest_xdist_make_scheduler(config, log):
  """--dist loadfile, with the units of work above instead of plain files."""
  if config.getoption("dist") != "loadfile":
    return None
  from xdist.scheduler import LoadScopeScheduling

  class WorkUnitScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid):
      return _work_unit(nodeid)

  return WorkUnitScheduling(config, log)


def tiny_integer_config():
  """The `tiny-int` configuration: `tiny` with integer entropy parameters."""
  from nlaic_tf.models import get_config
  return get_config("tiny-int")


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
  """A folder of five smooth PNGs, 80..112 x 96 (training and validation
  images for the tiny model), one per test module."""
  folder = tmp_path_factory.mktemp("images")
  for i in range(5):
    Image.fromarray(smooth_image(80 + 8 * i, 96, seed=i)).save(folder / f"{i}.png")
  return str(folder)


@pytest.fixture
def make_image():
  """The `smooth_image` factory: make_image(height, width, seed=0)."""
  return smooth_image


@pytest.fixture(scope="session")
def tiny_codec():
  """An NLAICCodec around the "tiny" configuration with random weights."""
  from nlaic_tf.zoo import build_codec
  return build_codec("tiny")


@pytest.fixture(scope="session")
def exported(tiny_codec, tmp_path_factory):
  """Directory of an export of the tiny codec, made as users make one: by
  `python export.py` in its own process, from a checkpoint of the tiny codec's
  weights (the checks are run by the tests)."""
  import subprocess
  import sys
  import tensorflow as tf
  folder = tmp_path_factory.mktemp("export")
  weights = str(folder / "weights")
  tf.train.Checkpoint(model=tiny_codec.model).write(weights)
  out = str(folder / "nlaic_tiny")
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  result = subprocess.run(
      [sys.executable, os.path.join(root, "export.py"), "--config", "tiny",
       "--weights", weights, "--out", out, "--nocheck"],
      cwd=root, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
      capture_output=True, text=True, timeout=900)
  assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
  return out


@pytest.fixture(scope="session")
def loaded(exported):
  """The exported tiny codec, loaded back as the CLI loads it (an NLAICCodec
  built from the export's configuration and weights)."""
  from nlaic_tf import zoo
  return zoo.load_codec(exported)


@pytest.fixture(scope="session")
def served(exported):
  """The exported tiny codec's SavedModel graphs (what TF Serving runs)."""
  from nlaic_tf import zoo
  return zoo.load_codec(exported, saved_model=True)


@pytest.fixture
def cli_reuses_the_export(monkeypatch, exported, loaded):
  """`nlaic` commands load their model on every call, as a new process must
  (about 30 s for the tiny model on 2 busy cores); the CLI tests that run them in
  this process get the session's export as `loaded` (by the same
  `zoo.load_codec`, whether named by its folder or by a pretrained name that
  a test gives it) instead. Other models still load for real."""
  from nlaic_tf import zoo
  load = zoo.load_codec
  monkeypatch.setattr(
      zoo, "load_codec",
      lambda model=None: loaded if model and zoo.model_dir(model) == exported else load(model))
