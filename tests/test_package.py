"""The installed package on its own: a wheel in a fresh virtual environment,
used from a folder outside the repository, finds its models by name.

The wheel is built from a copy of the files setup.py packages (so the
repository gets no build/ or egg-info), installed with --no-deps --no-index
into a venv that sees the already installed dependencies through a .pth file
(no network), and run with no PYTHONPATH or NLAIC_MODEL.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import smooth_image

REPO = Path(__file__).resolve().parents[1]


def _run(command, cwd, env=None):
  """Runs `command` (a list); returns stdout, failing with its stderr."""
  result = subprocess.run([str(c) for c in command], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-3000:])
  return result.stdout


def _packaged_sources(destination):
  """Copies what setup.py builds from (not the TFLite files it leaves out)."""
  destination.mkdir()
  for name in ("setup.py", "README.md"):
    shutil.copy(REPO / name, destination)
  skip = shutil.ignore_patterns("__pycache__", "*.pyc", "tflite")
  for name in ("nlaic_tf", "saved_models", "assets"):
    shutil.copytree(REPO / name, destination / name, ignore=skip)


def _wheel_venv(tmp_path):
  """A venv with the wheel installed; returns its bin folder."""
  _packaged_sources(tmp_path / "src")
  _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
        "--no-index", "-w", tmp_path / "dist", tmp_path / "src"], cwd=tmp_path)
  wheel, = (tmp_path / "dist").glob("nlaic_tf-*.whl")
  venv = tmp_path / "venv"
  _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
  site = Path(_run([venv / "bin" / "python", "-c",
                    "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=tmp_path).strip())
  # The dependencies installed beside the running interpreter. Lines of .pth
  # files there (an editable nlaic_tf) are not processed from an added path.
  (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
  # --ignore-installed: never touch the nlaic_tf the dependencies' folder has.
  _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index",
        "--ignore-installed", wheel], cwd=tmp_path)
  return venv / "bin"


@pytest.mark.slow
def test_installed_wheel_codes_with_models_by_name(tmp_path):
  bin_dir = _wheel_venv(tmp_path)
  work = tmp_path / "elsewhere"
  work.mkdir()
  env = {key: value for key, value in os.environ.items()
         if key not in ("PYTHONPATH", "NLAIC_MODEL")}
  env.update(TF_CPP_MIN_LOG_LEVEL="3")

  # The CLI with the default model and the bundled image, both from the wheel.
  shown = _run([bin_dir / "nlaic", "demo", "--quality", "3", "--out", "demo"],
               cwd=work, env=env).splitlines()
  site = (tmp_path / "venv" / "lib").resolve()  # nlaic_tf resolves its own path
  assert shown[0].startswith(str(site)) and "nlaic_tf/assets/demo.png: 512x512" in shown[0]
  row = shown[2].split()
  assert row[0] == "3" and int(row[1]) == (work / "demo" / "demo_q3.nlaic").stat().st_size

  # The Python API by name: decodes the demo's file to the demo's PNG, and
  # round-trips another image.
  Image.fromarray(smooth_image(48, 80, seed=4)).save(work / "photo.png")
  report = _run([bin_dir / "python", "-c", textwrap.dedent("""
      import numpy as np
      from PIL import Image
      import nlaic_tf
      from nlaic_tf import zoo
      print(nlaic_tf.__file__)
      print(zoo.model_dir("nlaic-mse"))
      codec = zoo.load_codec("nlaic-mse")
      decoded = nlaic_tf.decompress(open("demo/demo_q3.nlaic", "rb").read(), codec)
      assert np.array_equal(decoded, np.asarray(Image.open("demo/demo_q3.png")))
      image = np.asarray(Image.open("photo.png"))
      data = nlaic_tf.compress(image, quality=5, codec=codec)
      Image.fromarray(nlaic_tf.decompress(data, codec)).save("photo_decoded.png")
      print(len(data))
      """)], cwd=work, env=env).splitlines()
  assert all(line.startswith(str(site)) for line in report[:2])
  assert report[1].endswith(os.path.join("nlaic_tf", "saved_models", "nlaic_mse"))
  original = np.asarray(Image.open(work / "photo.png"), np.float64)
  decoded = np.asarray(Image.open(work / "photo_decoded.png"), np.float64)
  assert decoded.shape == original.shape and int(report[2]) > 0
  psnr = 10 * np.log10(255 ** 2 / np.mean((decoded - original) ** 2))
  assert psnr > 25, psnr  # a real reconstruction at level 5 of 8, not noise


def test_model_names_resolve_to_shipped_folders(monkeypatch, tmp_path):
  from nlaic_tf import zoo
  from nlaic_tf.models.config import ModelConfig
  monkeypatch.delenv("NLAIC_MODEL", raising=False)
  shipped = REPO / "saved_models" / "nlaic_mse"
  assert zoo.model_dir("nlaic-mse") == zoo.model_dir() == str(shipped)
  assert zoo.DEFAULT_MODEL in zoo.PRETRAINED
  for model in zoo.PRETRAINED.values():
    assert (REPO / "saved_models" / model.folder / "saved_model.pb").exists(), model
    # The catalog says what the model was trained for, as its own config does.
    assert ModelConfig.from_dict(
        zoo.read_model_info(model.name)["config"]).distortion == model.distortion
  assert zoo.read_model_info("nlaic-mse")["config"]["name"] == "medium-rc"
  # Every shipped model has its own identifier, by which files find it.
  ids = [zoo.read_model_info(name)["model_id"] for name in zoo.PRETRAINED]
  assert len(set(ids)) == len(ids)
  assert [zoo.pretrained_for_model_id(i) for i in ids] == list(zoo.PRETRAINED)
  assert zoo.pretrained_for_model_id(bytes.fromhex(ids[0])) == list(zoo.PRETRAINED)[0]
  assert zoo.pretrained_for_model_id("00" * 8) is None
  assert zoo.model_dir(str(tmp_path)) == str(tmp_path)  # a folder passes through
  monkeypatch.setenv("NLAIC_MODEL", "nlaic-mse")
  assert zoo.model_dir() == str(shipped)
  monkeypatch.setenv("NLAIC_MODEL", str(tmp_path))
  assert zoo.model_dir() == str(tmp_path)
  with pytest.raises(FileNotFoundError, match="nlaic-mse"):
    zoo.load_codec("nlaic-nonexistent")


def test_retired_models_are_where_their_decode_hint_says():
  import json
  from nlaic_tf import __version__, zoo
  if not (REPO / ".git").exists():
    pytest.skip("not a git checkout")
  for model_id, retired in zoo.RETIRED.items():
    assert zoo.pretrained_for_model_id(model_id) is None  # no longer shipped
    assert retired.last_version != __version__
    info = _run(["git", "show", f"{retired.commit}:saved_models/{retired.folder}/model.json"],
                cwd=REPO)
    assert json.loads(info)["model_id"] == model_id


def test_models_command_lists_the_pretrained_models(capsys):
  from nlaic_tf import zoo
  from nlaic_tf.cli import main
  assert main(["models"]) == 0
  shown = capsys.readouterr().out
  model_id = zoo.read_model_info("nlaic-mse")["model_id"]
  assert shown.startswith("nlaic-mse  (default): configuration medium-rc")
  assert f"{REPO / 'saved_models' / 'nlaic_mse'} (model {model_id})" in shown
  assert shown.count("trained for:") == len(zoo.PRETRAINED)


def test_cli_reports_an_unknown_model_name(tmp_path, capsys):
  from nlaic_tf.cli import main
  Image.fromarray(smooth_image(16, 16)).save(tmp_path / "a.png")
  assert main(["compress", str(tmp_path / "a.png"), "--model", "nlaic-typo"]) == 1
  assert "pretrained model's name (nlaic-mse, nlaic-msssim, nlaic-small)" in capsys.readouterr().err
  assert not (tmp_path / "a.nlaic").exists()


def test_codec_needs_none_of_the_evaluation_packages(tmp_path):
  """Without the `eval` extra (scipy, matplotlib, pillow-heif: blocked here),
  the codec reads, compresses, decompresses and writes an image, its modules
  import none of them, and the evaluation commands say how to install them."""
  Image.fromarray(smooth_image(40, 56, seed=2)).save(tmp_path / "a.png")
  code = textwrap.dedent("""
      import importlib.util, os, sys
      BLOCKED = ("scipy", "matplotlib", "pillow_heif")
      PACKAGE = os.path.dirname(importlib.util.find_spec("nlaic_tf").origin)
      by_package = []

      class Block:  # Makes the evaluation packages uninstalled.
        def find_spec(self, name, path=None, target=None):
          if name.partition(".")[0] in BLOCKED:
            frame = sys._getframe(1)
            while frame.f_code.co_filename.startswith("<frozen"):
              frame = frame.f_back
            if frame.f_code.co_filename.startswith(PACKAGE):
              by_package.append((name, frame.f_code.co_filename))
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
          return None

      sys.meta_path.insert(0, Block())
      import nlaic_tf, nlaic_tf.export_lib, nlaic_tf.training
      from nlaic_tf.cli import main
      from nlaic_tf import metrics
      from nlaic_tf.io.images import read_image, save_png
      from nlaic_tf.zoo import build_codec
      for command in ("compress", "decompress", "info", "demo"):
        assert main([command, "--help"]) == 0
      codec = build_codec("tiny")
      image = read_image("a.png")
      decoded = nlaic_tf.decompress(nlaic_tf.compress(image, 1, codec), codec)
      save_png("b.png", decoded)
      assert (read_image("b.png") == decoded).all() and decoded.shape == (40, 56, 3)
      assert metrics.psnr(image, decoded) > 0  # random weights: any reconstruction
      assert not by_package, by_package
      print(main(["summary", "x.csv"]), main(["bdrate", "x.csv"]),
            main(["evaluate", "--images", "."]))
      """)
  env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
  result = subprocess.run(
      [sys.executable, "-c", code], cwd=tmp_path,
      env=dict(env, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.splitlines()[-1] == "1 1 1"
  errors = result.stderr.splitlines()
  for command, missing in (("summary", "scipy"), ("bdrate", "scipy"),
                           ("evaluate", "scipy, matplotlib")):
    assert (f"nlaic {command}: error: needs {missing}, part of the evaluation extra; "
            "install it with: pip install 'nlaic_tf[eval]'") in errors
