"""Files cross kernel settings: encode in one process, decode in others."""
import argparse
import importlib.util
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from conftest import smooth_image, tiny_integer_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _script():
  spec = importlib.util.spec_from_file_location(
      "portability_matrix", os.path.join(ROOT, "scripts", "portability_matrix.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_integer_files_decode_identically_under_other_kernels(tmp_path, monkeypatch):
  """Encoded with the defaults (oneDNN, AVX-512 if present, 2 threads), decoded
  with Eigen on 1 thread and with oneDNN capped at AVX2: every symbol equal."""
  from nlaic_tf.zoo import build_model
  from PIL import Image
  tf.keras.utils.set_random_seed(7)
  model = build_model(tiny_integer_config())
  weights = str(tmp_path / "weights")
  tf.train.Checkpoint(model=model).write(weights)
  config = tmp_path / "config.json"
  config.write_text(model.config.to_json())
  image = tmp_path / "image.png"
  Image.fromarray(smooth_image(64, 96, seed=13)).save(image)
  monkeypatch.setenv("PYTHONPATH", ROOT)
  args = argparse.Namespace(
      config=str(config), weights=weights, levels=[0., 1.], images=[str(image)],
      encoders=["default"], decoders=["onednn0-threads1", "avx2"],
      workdir=str(tmp_path / "matrix"))
  script = _script()
  table = script.matrix(args)
  assert sorted(table) == [("default", "avx2"), ("default", "onednn0-threads1")]
  for pair, row in table.items():
    assert (row["exact"], row["mean_bits"], row["error"], row["SILENT"]) == (
        2, 0, 0, 0), (pair, row)
    assert row["max_pixel_difference"] <= 1, (pair, row)

  # A rerun in the same --workdir starts no process and gives the same table;
  # other arguments there are refused.
  def no_process(*unused):
    raise AssertionError("a finished cell was run again")
  monkeypatch.setattr(script, "_run", no_process)
  assert script.matrix(args) == table
  # The cells alone (the streams left behind on another machine) are enough.
  shutil.rmtree(tmp_path / "matrix" / "default")
  assert script.matrix(args) == table
  args.levels = [0.]
  with pytest.raises(SystemExit, match="other arguments"):
    script.matrix(args)


def test_golden_files_written_on_another_machine_decode_exactly(tmp_path):
  """tests/data/golden was written once on the machine its manifest names
  (scripts/make_golden_files.py); wherever the suite runs, decoding must give
  bit-identical latents (symbol + integer mean) and pixels within 1."""
  golden = os.path.join(ROOT, "tests", "data", "golden")
  with open(os.path.join(golden, "manifest.json")) as f:
    levels = json.load(f)["levels"]
  out = str(tmp_path / "decoded.json")
  _script()._decode(argparse.Namespace(
      config=os.path.join(golden, "config.json"), weights=os.path.join(golden, "weights"),
      streams=golden), out)
  with open(out) as f:
    results = json.load(f)
  assert sorted(results) == [f"0_{level:g}" for level in sorted(levels)]
  for name, result in results.items():
    assert result.get("latent_difference") == 0, (name, result)
    assert result["max_pixel_difference"] <= 1, (name, result)


def test_exact_mode_checks_a_model_by_name_and_fails_on_any_difference(monkeypatch, capsys):
  """--exact (bit-exact decoding across thread counts): exit 1 unless every
  file of every pair has the encoder's latents and pixels; --model takes a
  shipped model's weights and the configuration recorded beside them."""
  from nlaic_tf import zoo
  from nlaic_tf.models import ModelConfig
  script = _script()
  seen = {}
  row = dict(exact=2, mean_bits=0, error=0, SILENT=0, max_pixel_difference=0)
  table = {("default", "threads1"): row, ("default", "default"): dict(row)}

  def matrix(args):
    seen.update(vars(args))
    return table
  monkeypatch.setattr(script, "matrix", matrix)
  argv = ["--model", "nlaic-small", "--encoders", "default", "--decoders", "threads1",
          "default", "--levels", "0", "7", "--exact", "--", "kodim01.png"]
  assert script.main(argv) == 0
  weights = os.path.join(zoo.model_dir("nlaic-small"), "variables", "variables")
  assert seen["weights"] == weights and seen["config"] is None
  config = script._config(None, weights)
  assert config == ModelConfig.from_dict(zoo.read_model_info("nlaic-small")["config"])
  assert config.name == "small"
  table["default", "default"]["max_pixel_difference"] = 1
  assert script.main(argv) == 1
  table["default", "default"].update(max_pixel_difference=0, exact=1, mean_bits=1)
  assert script.main(argv) == 1
  assert capsys.readouterr().out.count("NOT EXACT: encoded under default, decoded under "
                                      "default") == 2
  assert script.main(argv[:-3] + argv[-2:]) == 0  # without --exact: the table only
