"""Export: SavedModel signatures usable without nlaic_tf, TFLite transforms, atomic writes."""
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import smooth_image

QUALITY = 1.


def _run_python(code, cwd):
  """Runs `code` in a fresh interpreter; returns stdout, failing with its stderr."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("PYTHONPATH", None)
  result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  return result.stdout


def test_other_process_with_only_tensorflow_compression(tiny_codec, exported, tmp_path):
  image = smooth_image(48, 80, seed=3)  # not a multiple of 64: padding and cropping
  bitstream, _, reconstruction = tiny_codec.encode(image, QUALITY)
  (tmp_path / "in.nlaic").write_bytes(bitstream.numpy())
  np.save(tmp_path / "image.npy", image)
  _run_python(textwrap.dedent(f"""
      import sys
      import numpy as np
      import tensorflow as tf
      import tensorflow_compression  # registers the range-coding ops
      model = tf.saved_model.load({exported!r})
      data = open("in.nlaic", "rb").read()
      image = model.signatures["decompress"](bitstream_bytes=tf.constant(data))["image"]
      np.save("decoded.npy", image.numpy())
      out = model.signatures["compress"](image=tf.constant(np.load("image.npy")),
                                         quality=tf.constant({QUALITY}))
      open("out.nlaic", "wb").write(out["bitstream_bytes"].numpy())
      assert np.array_equal(model.decompress(data).numpy(), image.numpy())
      assert not [m for m in sys.modules if m.startswith("nlaic_tf")]
      """), cwd=tmp_path)
  decoded_here = tiny_codec.decompress(bitstream).numpy()
  np.testing.assert_array_equal(np.load(tmp_path / "decoded.npy"), decoded_here)
  np.testing.assert_array_equal(decoded_here, reconstruction.numpy())
  theirs = (tmp_path / "out.nlaic").read_bytes()
  np.testing.assert_array_equal(tiny_codec.decompress(theirs).numpy(),
                                reconstruction.numpy())


def test_saved_model_cli_lists_signatures(exported, tmp_path):
  code = ("import sys, tensorflow_compression\n"
          "from tensorflow.python.tools import saved_model_cli\n"
          f"sys.argv = ['saved_model_cli', 'show', '--dir', {exported!r}, '--all']\n"
          "sys.exit(saved_model_cli.main())\n")
  shown = _run_python(code, cwd=tmp_path)
  compress = shown[shown.index("signature_def['compress']"):
                   shown.index("signature_def['decompress']")]
  decompress = shown[shown.index("signature_def['decompress']"):]
  decompress = decompress[:decompress.index("Method name")]
  assert "inputs['image']" in compress and "DT_UINT8" in compress
  assert "shape: (-1, -1, 3)" in compress
  assert "inputs['quality']" in compress and "DT_FLOAT" in compress
  assert "outputs['bitstream_bytes']" in compress and "DT_STRING" in compress
  assert "inputs['bitstream_bytes']" in decompress and "DT_STRING" in decompress
  assert "outputs['image']" in decompress and "DT_UINT8" in decompress


def test_signatures_chain(tiny_codec, served, exported):
  """compress's output is decompress's input: no renaming between them."""
  import tensorflow as tf
  image = smooth_image(40, 72, seed=5)
  compressed = served.signatures["compress"](image=tf.constant(image),
                                             quality=tf.constant(QUALITY))
  decoded = served.signatures["decompress"](**compressed)["image"]
  _, _, reconstruction = tiny_codec.encode(image, QUALITY)
  np.testing.assert_array_equal(decoded.numpy(), reconstruction.numpy())
  refined = served.signatures["compress_refined"](
      image=tf.constant(image), quality=tf.constant(QUALITY), steps=tf.constant(1))
  assert served.signatures["decompress"](**refined)["image"].shape == image.shape
  with open(os.path.join(exported, "model.json")) as f:
    signatures = json.load(f)["signatures"]
  assert (list(signatures["compress"]["outputs"]) ==
          list(signatures["decompress"]["inputs"]) == ["bitstream_bytes"])


def test_tflite_matches_keras_at_two_sizes(tiny_codec, exported):
  from nlaic_tf import export_lib
  flatbuffers = {}
  for name in ("analysis", "synthesis"):
    with open(os.path.join(exported, "tflite", f"{name}.tflite"), "rb") as f:
      flatbuffers[name] = f.read()
  report = export_lib.check_tflite(tiny_codec.model, flatbuffers,
                                   sizes=((64, 64), (128, 192)))
  for rows in report.values():
    assert [row["size"] for row in rows] == [[64, 64], [128, 192]]
    assert all(row["relative"] < export_lib.TFLITE_TOLERANCE for row in rows)


def test_saved_variables_restore_keras_weights(tiny_codec, exported):
  from nlaic_tf.zoo import build_model
  # As `train.py --init_from <export>/variables/variables` reads them
  # (`Trainer.restore` builds its source model so).
  model = build_model("tiny", os.path.join(exported, "variables", "variables"))
  for a, b in zip(model.weights, tiny_codec.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  with open(os.path.join(exported, "model.json")) as f:
    info = json.load(f)
  assert info["model_id"] == tiny_codec.model_id.numpy().hex()
  assert info["config"]["name"] == "tiny"


def _tree_digest(path):
  digest = hashlib.sha256()
  for root, dirs, files in sorted(os.walk(path)):
    dirs.sort()
    for name in sorted(files):
      digest.update(os.path.relpath(os.path.join(root, name), path).encode())
      with open(os.path.join(root, name), "rb") as f:
        digest.update(f.read())
  return digest.hexdigest()


def test_failed_export_leaves_previous_export_intact(tiny_codec, exported,
                                                     monkeypatch):
  from nlaic_tf import export_lib
  before = _tree_digest(exported)
  entries = sorted(os.listdir(os.path.dirname(exported)))

  def fail(codec, path):  # a save that wrote part of its files, then failed
    with open(os.path.join(path, "saved_model.pb"), "wb") as f:
      f.write(b"half a SavedModel")
    raise export_lib.ExportError("injected failure")

  monkeypatch.setattr(export_lib, "save_codec", fail)
  with pytest.raises(export_lib.ExportError, match="injected failure"):
    export_lib.export(tiny_codec, exported, check=False, log=lambda _: None)
  assert _tree_digest(exported) == before
  assert sorted(os.listdir(os.path.dirname(exported))) == entries


def test_load_codec_builds_the_export_in_python_with_the_saved_model_files(
    exported, loaded, served):
  """What `nlaic` loads (the package's code around the export's weights)
  writes the SavedModel's files, byte for byte, and each decodes the other's."""
  from nlaic_tf.models.codec import NLAICCodec
  assert isinstance(loaded, NLAICCodec) and not isinstance(served, NLAICCodec)
  with open(os.path.join(exported, "model.json")) as f:
    assert loaded.model_id.numpy().hex() == json.load(f)["model_id"]
  assert served.model_id.numpy() == loaded.model_id.numpy()
  image = smooth_image(56, 40, seed=8)
  ours = loaded.compress(image, np.float32(QUALITY))
  theirs = served.compress(image, np.float32(QUALITY))
  assert ours.numpy() == theirs.numpy()
  np.testing.assert_array_equal(served.decompress(ours).numpy(),
                                loaded.decompress(theirs).numpy())
  # The range-coding tables are the export's, read into empty tables (the
  # side model has no prior to compute them from), and equal to what the
  # weights give.
  rebuilt = NLAICCodec(loaded.model)
  for coder in ("side_model", "latent_model"):
    for table in ("cdf", "cdf_offset"):
      np.testing.assert_array_equal(getattr(getattr(loaded, coder), table),
                                    getattr(getattr(rebuilt, coder), table))
  assert loaded.side_model._prior is None  # pylint: disable=protected-access


def test_load_codec_checks_the_model_id_and_falls_back_to_the_saved_model(
    exported, tmp_path):
  import shutil
  from nlaic_tf import zoo
  copy = tmp_path / "export"
  shutil.copytree(exported, copy)
  info = json.loads((copy / "model.json").read_text())
  (copy / "model.json").write_text(json.dumps(dict(info, model_id="00" * 8)))
  with pytest.raises(ValueError, match="not the model 0000000000000000"):
    zoo.load_codec(str(copy))
  # A SavedModel from elsewhere (no configuration beside it) loads as such.
  (copy / "model.json").unlink()
  assert "decompress" in zoo.load_codec(str(copy)).signatures


def test_compress_signature_rejects_quality_outside_levels(served):
  import tensorflow as tf
  compress = served.signatures["compress"]
  with pytest.raises(tf.errors.InvalidArgumentError, match="quality must be in"):
    compress(image=tf.zeros([16, 16, 3], tf.uint8), quality=tf.constant(2.5))


@pytest.mark.usefixtures("cli_reuses_the_export")
def test_demo_command_round_trips_the_bundled_image(exported, loaded, tmp_path, capsys,
                                                    monkeypatch):
  from nlaic_tf import api
  from nlaic_tf.cli import main
  from nlaic_tf.io.images import read_image
  out = tmp_path / "demo"
  monkeypatch.chdir(Path(__file__).resolve().parents[1])
  assert main(["demo", "--model", exported, "--quality", "0", "--quality", "0.5",
               "--out", str(out)]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert lines[0].startswith(f"{Path('assets', 'demo.png')}: 512x512, model ")
  rows = {float(line.split()[0]): line.split() for line in lines[2:-1]}
  assert sorted(rows) == [0., .5]
  for q in (0., .5):
    data = (out / f"demo_q{q:g}.nlaic").read_bytes()
    assert int(rows[q][1]) == len(data)
    assert float(rows[q][2]) == pytest.approx(8 * len(data) / 512 ** 2, abs=1e-4)
    decoded = read_image(out / f"demo_q{q:g}.png")
    np.testing.assert_array_equal(decoded, api.decompress(data, loaded))
  assert main(["demo", "--model", exported, "--quality", "9", "--out", str(out)]) == 1


def test_harness_measures_real_nlaic_files(exported, loaded, tmp_path, make_image):
  from PIL import Image
  from nlaic_tf import api
  from nlaic_tf.evaluation import harness
  from nlaic_tf.evaluation.learned_codec import NlaicCodec
  Image.fromarray(make_image(40, 56)).save(tmp_path / "a.png")
  codec = NlaicCodec(model_dir=exported)
  assert codec.qualities == (0., 1.) and codec.unavailable_reason() is None
  result = harness.evaluate([tmp_path / "a.png"], [codec], {"nlaic": [0., 1.]},
                            progress=False)
  assert not result.failures and len(result.measurements) == 2
  image = make_image(40, 56)
  for m in result.measurements:
    assert m.bytes == len(api.compress(image, m.quality, loaded))
  assert NlaicCodec(model_dir=str(tmp_path)).unavailable_reason()


def test_export_builds_the_configuration_recorded_beside_the_weights(tmp_path):
  from nlaic_tf import export_lib
  from nlaic_tf.models import get_config
  trained = dataclasses.replace(get_config("tiny"), lambdas=(0.001, 0.01, 0.1))
  (tmp_path / "metrics.json").write_text(json.dumps(
      dict(step=3, config=json.loads(trained.to_json()))))
  weights = str(tmp_path / "weights")
  assert export_lib.weights_model_config(weights) == trained
  assert export_lib.weights_model_config(weights, "tiny") == trained
  with pytest.raises(export_lib.ExportError, match="pass --config tiny"):
    export_lib.weights_model_config(weights, "small")
  nothing_recorded = str(tmp_path / "elsewhere" / "weights")
  assert export_lib.weights_model_config(nothing_recorded, "tiny") == get_config("tiny")
  assert export_lib.weights_model_config(nothing_recorded) == get_config("small")


def test_export_command_saves_each_codec_function_once(exported, served):
  """`python export.py` (which made `exported`) writes one FunctionDef per codec
  tf.function that a signature runs: neither signatures traced before the
  save nor TensorFlow imported inside absl's main (tensorflow/tensorflow#55889)
  may add second copies. encode and encode_refined, which no signature runs,
  are left out (each function graph costs memory at every load)."""
  from tensorflow.core.protobuf import saved_model_pb2
  from nlaic_tf.models.codec import NLAICCodec
  saved = saved_model_pb2.SavedModel.FromString(
      (Path(exported) / "saved_model.pb").read_bytes())
  names = [f.signature.name for f in saved.meta_graphs[0].graph_def.library.function]
  for function in ("encode", "encode_refined", "decode", "compress",
                   "compress_refined", "decompress"):
    copies = [n for n in names if n.rsplit("_", 1)[0] == f"__inference_{function}"]
    left_out = function in NLAICCodec.PYTHON_ONLY
    assert len(copies) == (0 if left_out else 1), (function, copies)
    assert hasattr(served, function) != left_out, function


def test_tflite_of_a_rate_conditioned_model_takes_the_quality():
  import tensorflow as tf
  from nlaic_tf import export_lib
  from nlaic_tf.models import get_config
  from nlaic_tf.zoo import build_model
  tf.keras.utils.set_random_seed(5)
  model = build_model(dataclasses.replace(get_config("tiny"), rate_conditioned=True))
  for w in model.weights:
    if "_mod" in w.name:
      w.assign(tf.random.normal(w.shape, stddev=0.3, seed=6))
  functions = export_lib.transform_functions(model)
  flatbuffers = {name: export_lib.convert_to_tflite(f, specs, model)
                 for name, (f, specs) in functions.items()}
  report = export_lib.check_tflite(model, flatbuffers, sizes=((64, 64),))
  assert all(row["relative"] < export_lib.TFLITE_TOLERANCE
             for rows in report.values() for row in rows)
  image = export_lib.check_inputs(model, 64, 64)["analysis"]["image"]
  at = {q: export_lib.run_tflite(flatbuffers["analysis"],
                                 dict(image=image, quality=np.float32([q])))
        for q in (0., 1.)}
  assert not np.allclose(at[0.], at[1.])  # the quality input reaches the transform


def test_export_command_never_replaces_a_shipped_model_unasked():
  """export.py has no default destination, and refuses a shipped model's
  folder without --replace_shipped (before reading any weights)."""
  from nlaic_tf import zoo
  root = Path(__file__).resolve().parents[1]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  for out, message in (([], "--out must have a value"),
                       (["--out", zoo.model_dir("nlaic-small")],
                        "is the shipped model nlaic-small; pass --replace_shipped")):
    result = subprocess.run([sys.executable, "export.py", "--weights", "nowhere", *out],
                            cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and message in result.stderr, result.stderr[-2000:]
