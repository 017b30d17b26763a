"""Trainer: checkpoints resume exactly (step, optimizer state, data position)."""
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import smooth_image, tiny_integer_config
from nlaic_tf import export_lib, zoo
from nlaic_tf.models import get_config
from nlaic_tf.models.rate_levels import level_weights, remap_log_gains
from nlaic_tf.training import Trainer, TrainingOptions
from nlaic_tf.training.options import DEFAULT_CONFIG
from nlaic_tf.zoo import build_codec, build_model, recorded_config, total_steps, weights_info


def _options(workdir, image_dir, steps):
  return TrainingOptions(
      workdir=str(workdir), train_glob=os.path.join(image_dir, "*.png"),
      val_glob=os.path.join(image_dir, "*.png"), crop=64, batch_size=2,
      steps=steps, lr=1e-3, val_every=4, val_images=2, val_crop=64,
      log_every=2, checkpoint_minutes=1e9)


@pytest.fixture(scope="module")
def tiny_weights(tiny_codec, tmp_path_factory):
  """The tiny codec's model saved as train.py saves `<workdir>/best`: a
  checkpoint `weights` with its configuration in metrics.json beside it (an
  export's `variables/variables` holds the same `model/` entries and
  model.json the configuration: tests/test_export.py reads one)."""
  folder = tmp_path_factory.mktemp("best")
  tf.train.Checkpoint(model=tiny_codec.model).write(str(folder / "weights"))
  with open(folder / "metrics.json", "w") as f:
    json.dump(dict(step=0, config=json.loads(tiny_codec.model.config.to_json())), f)
  return str(folder / "weights")


def _averaged(options):
  return dataclasses.replace(options, weight_average=0.9)


@pytest.fixture(scope="module")
def finished_run(image_dir, tmp_path_factory):
  """A tiny run trained for 4 steps with a weight average (validated and
  checkpointed at step 4): (its Trainer, its workdir, its log lines). Tests
  read the workdir; one that trains on copies it first."""
  workdir = tmp_path_factory.mktemp("finished_run")
  trainer = Trainer(get_config("tiny"), _averaged(_options(workdir, image_dir, steps=4)))
  logs = []
  trainer.run(log=logs.append)
  return trainer, workdir, logs


def test_resume_continues_with_same_step_optimizer_and_data(finished_run, image_dir):
  first, workdir, logs = finished_run
  assert any("validation at step 4" in line for line in logs)
  assert os.path.exists(workdir / "best" / "weights.index")
  assert os.path.exists(workdir / "history.jsonl")
  expected_batch = next(first.iterator).numpy()

  resumed = Trainer(get_config("tiny"), _averaged(_options(workdir, image_dir, steps=6)))
  message = resumed.restore()
  assert "at step 4" in message
  assert int(resumed.step) == 4
  assert int(resumed.optimizer.iterations) == int(first.optimizer.iterations) == 4
  for a, b in zip(first.optimizer.variables, resumed.optimizer.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  for a, b in zip(first.model.weights, resumed.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  assert resumed.average.updates.numpy() == 4
  for a, b in zip(first.average.averages, resumed.average.averages):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  np.testing.assert_array_equal(next(resumed.iterator).numpy(), expected_batch)


def test_weight_average_is_what_validation_measures_and_best_keeps(finished_run):
  trainer, workdir, logs = finished_run
  average = trainer.average
  assert average.updates.numpy() == 4
  raw = [w.numpy() for w in trainer.model.trainable_variables]
  assert any(not np.array_equal(a.numpy(), w) for a, w in zip(average.averages, raw))
  with open(workdir / "history.jsonl") as f:
    record = [json.loads(line) for line in f][-1]
  assert record["step"] == 4 and record["best"]
  with average.swapped_in():
    kept = trainer.validate()
  assert record["val_loss"] == pytest.approx(kept["loss"], rel=1e-6)
  assert record["raw"]["val_loss"] == pytest.approx(trainer.validate()["loss"], rel=1e-6)
  assert record["raw"]["val_loss"] != record["val_loss"]
  assert any("validation at step 4" in line and "raw weights" in line for line in logs)
  for w, value in zip(trainer.model.trainable_variables, raw):  # given back
    np.testing.assert_array_equal(w.numpy(), value)
  best = build_model("tiny")
  tf.train.Checkpoint(model=best).read(str(workdir / "best" / "weights")).expect_partial()
  for w, a in zip(best.trainable_variables, average.averages):
    np.testing.assert_array_equal(w.numpy(), a.numpy())


def test_resume_with_a_new_learning_rate_schedule(finished_run, tmp_path, image_dir):
  workdir = tmp_path / "run"
  shutil.copytree(finished_run[1], workdir)  # a constant-lr run at step 4
  options = dataclasses.replace(_options(workdir, image_dir, steps=7), lr=3e-4,
                                lr_drops=(5, 6), lr_drop_factor=0.5)
  resumed = Trainer(get_config("tiny"), options)
  logs = []
  resumed.run(log=logs.append)  # resumed with drops, without the average
  assert "its weight average is dropped" in logs[0]
  assert int(resumed.step) == 7
  assert [resumed.learning_rate(s) for s in (0, 4, 5, 6, 9)] == pytest.approx(
      [3e-4, 3e-4, 1.5e-4, 7.5e-5, 7.5e-5])
  assert float(resumed.optimizer.learning_rate) == pytest.approx(7.5e-5)
  # A warm-up scales the first steps of a workdir, then leaves the schedule.
  warm = Trainer(get_config("tiny"), dataclasses.replace(options, warmup_steps=4))
  assert [warm.learning_rate(s) for s in (0, 1, 3, 4, 5, 6)] == pytest.approx(
      [7.5e-5, 1.5e-4, 3e-4, 3e-4, 1.5e-4, 7.5e-5])

  # The other way round: a checkpoint without an average, resumed with one.
  unaveraged = tmp_path / "unaveraged"
  shutil.copytree(workdir, unaveraged)  # step 7, saved without the average
  resumed = Trainer(get_config("tiny"), _averaged(_options(unaveraged, image_dir, steps=8)))
  assert "at step 7; the weight average starts here" in resumed.restore()
  assert resumed.average.updates.numpy() == 0 and int(resumed.step) == 7  # `run` restarts it


def test_resume_measures_best_as_the_run_measures_validation(finished_run, tmp_path,
                                                            image_dir):
  workdir = tmp_path / "run"
  shutil.copytree(finished_run[1], workdir)
  with open(workdir / "best" / "metrics.json") as f:
    best = json.load(f)
  assert best["validation_set"] == dict(files=["0.png", "1.png"], crop=64)
  options = _averaged(_options(workdir, image_dir, steps=5))

  same = Trainer(get_config("tiny"), options)
  assert same.restore() == f"resumed {workdir}/checkpoints/ckpt-4 at step 4"
  assert float(same.best_val) == pytest.approx(best["validation"]["loss"])

  # Other level weights: best/ is weighed with them, as validation will be.
  other = Trainer(get_config("tiny"), dataclasses.replace(options, level_balance=0.))
  assert "best/ weighed with this run's level balance" in other.restore()
  losses = [level["loss"] for level in best["validation"]["levels"]]
  assert float(other.best_val) == pytest.approx(np.mean(losses))
  assert float(other.best_val) != pytest.approx(best["validation"]["loss"])

  # Other crops: no loss of best/ compares, so the next validation replaces it.
  cropped = Trainer(get_config("tiny"), dataclasses.replace(options, val_crop=32))
  assert "validated on other crops" in cropped.restore()
  assert float(cropped.best_val) == np.inf


def test_run_stops_at_nan_without_saving(tmp_path, image_dir):
  trainer = Trainer(get_config("tiny"), _options(tmp_path, image_dir, steps=3))
  weight = trainer.model.synthesis.get_layer("up2").bias
  weight.assign(tf.fill(weight.shape, np.nan))
  logs = []
  assert trainer.run(log=logs.append) == dict(stopped="nan")
  assert not os.path.exists(tmp_path / "checkpoints" / "checkpoint")
  assert any("stopped" in line for line in logs)


def test_init_from_takes_all_the_weights(tmp_path, image_dir, tiny_weights, tiny_codec):
  options = _options(tmp_path / "a", image_dir, steps=1)
  options.init_from = tiny_weights
  trainer = Trainer(get_config("tiny"), options)
  assert "initialised weights from" in trainer.restore()
  for a, b in zip(trainer.model.weights, tiny_codec.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())

  tiny = get_config("tiny")
  for name, change in [("wider", dict(main_filters=12)),
                       ("shallower", dict(decoder_blocks=(1, 0, 1))),
                       ("narrower-latent", dict(latent_channels=6))]:
    options = _options(tmp_path / name, image_dir, steps=1)
    options.init_from = tiny_weights
    with pytest.raises(ValueError, match="more than its distortion, rate levels"):
      Trainer(dataclasses.replace(tiny, name=name, **change), options).restore()


def test_init_from_other_rate_levels_copies_weights_and_remaps_gains(
    tmp_path, image_dir, tiny_weights, tiny_codec):
  tiny = get_config("tiny")
  options = _options(tmp_path / "a", image_dir, steps=1)
  options.init_from = tiny_weights
  config = dataclasses.replace(tiny, lambdas=(0.001, 0.004, 0.03))
  trainer = Trainer(config, options)
  assert "rate levels remapped" in trainer.restore()
  gains = trainer.model.gains.log_gains
  for a, b in zip(trainer.model.weights, tiny_codec.model.weights):
    if a is gains:
      np.testing.assert_allclose(a.numpy(), remap_log_gains(
          tiny.lambdas, b.numpy(), config.lambdas))
      assert a.shape[0] == 3
    else:
      np.testing.assert_array_equal(a.numpy(), b.numpy())
  trainer.run(log=lambda _: None)  # and it trains
  # A checkpoint of train.py (<workdir>/best) records its levels as well.
  assert recorded_config(weights_info(str(tmp_path / "a" / "best" / "weights"))) == config
  assert recorded_config(weights_info(str(tmp_path / "nowhere" / "weights"))) is None

  options = _options(tmp_path / "b", image_dir, steps=1)
  options.init_from = tiny_weights
  with pytest.raises(ValueError, match="more than its distortion, rate levels"):
    Trainer(dataclasses.replace(config, main_filters=12), options).restore()


def test_ms_ssim_fine_tune_starts_from_mse_weights(tmp_path, image_dir, tiny_weights,
                                                    tiny_codec):
  """--distortion ms-ssim with --init_from MSE weights: every weight carried
  over, the configuration records the distortion, and the loss and the
  validation are MS_SSIM_SCALE * (1 - MS-SSIM) in the lambdas' units."""
  from nlaic_tf.models.losses import MS_SSIM_SCALE
  large = tmp_path / "large"
  large.mkdir()
  for i in range(2):
    Image.fromarray(smooth_image(192, 192, seed=20 + i)).save(large / f"{i}.png")
  options = dataclasses.replace(
      _options(tmp_path / "run", image_dir, steps=0), distortion="ms-ssim",
      init_from=tiny_weights,
      val_glob=str(large / "*.png"), val_crop=192)
  trainer = Trainer(get_config("tiny"), options)
  assert "distortion mse -> ms-ssim" in trainer.restore()
  assert trainer.model_config == dataclasses.replace(get_config("tiny"), distortion="ms-ssim")
  for a, b in zip(trainer.model.weights, tiny_codec.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())

  x = tf.constant(np.stack([smooth_image(192, 192, seed=20)]) / 255., tf.float32)
  for level, lmbda in enumerate(trainer.model_config.lambdas):
    q = tf.constant([float(level)])
    terms = trainer.model.losses_per_example(x, q, training=False)
    x_hat = tf.clip_by_value(trainer.model(x, q, training=False)["x_hat"], 0., 1.)
    expected = MS_SSIM_SCALE * (1. - tf.image.ssim_multiscale(x, x_hat, 1.))
    np.testing.assert_allclose(terms["distortion"], expected, rtol=1e-5)
    np.testing.assert_allclose(terms["loss"], lmbda * expected + terms["bpp"], rtol=1e-5)
  for level, lmbda in zip(trainer.validate()["levels"], trainer.model_config.lambdas):
    assert 0. < level["ms_ssim"] < 1.
    assert level["loss"] == pytest.approx(
        lmbda * MS_SSIM_SCALE * (1. - level["ms_ssim"]) + level["bpp"], rel=1e-4)


def test_init_from_adds_identity_rate_modulation(tmp_path, image_dir, tiny_weights, tiny_codec):
  options = _options(tmp_path, image_dir, steps=1)
  options.init_from = tiny_weights
  options.precision = "float32"  # to compare with the float32 codec's model
  config = dataclasses.replace(get_config("tiny"), name="tiny-rc", rate_conditioned=True)
  trainer = Trainer(config, options)
  assert "rate modulation added" in trainer.restore()
  x = tf.constant(np.stack([smooth_image(64, 64, 1)]) / 255., tf.float32)
  for q in (0., 1.):
    q = tf.constant([q])
    np.testing.assert_allclose(trainer.model(x, q)["x_hat"].numpy(),
                               tiny_codec.model(x, q)["x_hat"].numpy(), rtol=1e-5, atol=1e-5)
  trainer.run(log=lambda _: None)


def test_init_from_adds_identity_residual_blocks(tmp_path, image_dir, tiny_weights,
                                                 tiny_codec):
  options = _options(tmp_path, image_dir, steps=1)
  options.init_from = tiny_weights
  options.precision = "float32"  # to compare with the float32 codec's model
  config = dataclasses.replace(get_config("tiny"), name="tiny-deep",
                               encoder_blocks=(1, 2, 1), decoder_blocks=(2, 1, 3))
  trainer = Trainer(config, options)
  message = trainer.restore()
  assert "residual blocks added (identity): enc_rb4_1, dec_rb8_1, dec_rb8_2, dec_rb2_1" \
      in message
  x = tf.constant(np.stack([smooth_image(64, 64, 1)]) / 255., tf.float32)
  for q in (0., 1.):
    q = tf.constant([q])
    np.testing.assert_allclose(trainer.model(x, q)["x_hat"].numpy(),
                               tiny_codec.model(x, q)["x_hat"].numpy(), rtol=1e-5, atol=1e-5)
  block = trainer.model.synthesis.get_layer("dec_rb2_1")
  before = [w.numpy() for w in block.weights]
  trainer.run(log=lambda _: None)
  # The added block trains: its last convolution leaves zero.
  assert np.abs(block.conv2.kernel.numpy()).max() > 0
  assert not np.array_equal(block.conv2.kernel.numpy(), before[2])


def test_init_from_adds_latent_channels_that_start_silent(
    tmp_path, image_dir, tiny_weights, tiny_codec):
  options = _options(tmp_path, image_dir, steps=2)
  options.init_from = tiny_weights
  options.precision = "float32"  # to compare with the float32 codec's model
  source = tiny_codec.model
  m = source.config.latent_channels
  config = dataclasses.replace(get_config("tiny"), name="tiny-wide", latent_channels=m + 4)
  trainer = Trainer(config, options)
  assert f"latent channels {m} -> {m + 4}" in trainer.restore()
  x = tf.constant(np.stack([smooth_image(64, 64, 1)]) / 255., tf.float32)
  for q in (0., 1.):
    q = tf.constant([q])
    wide, narrow = trainer.model(x, q), source(x, q)
    np.testing.assert_allclose(wide["x_hat"].numpy(), narrow["x_hat"].numpy(),
                               rtol=1e-5, atol=1e-5)
    # The trained channels cost what they did; the new ones are zero and,
    # past those whose context reaches trained channels, start cheaper than
    # the typical trained channel.
    bits = wide["channel_bits_y"].numpy()
    np.testing.assert_allclose(bits[:, :m], narrow["channel_bits_y"].numpy(),
                               rtol=1e-4, atol=1e-3)
    reach = config.context_kernel // 2
    assert bits[:, m + reach:].max() < np.median(bits[:, :m])
    assert not np.any(trainer.model.analyze(x, q)[..., m:].numpy())
  up = trainer.model.synthesis.get_layer("up16")
  down = trainer.model.analysis.get_layer("down16")
  assert not np.any(up.kernel.numpy()[..., m:]) and not np.any(down.kernel.numpy()[..., m:])
  trainer.run(log=lambda _: None)
  # Training switches them on: the synthesis learns to read them (first
  # step), then the analysis to write them (second step).
  assert np.any(up.kernel.numpy()[..., m:]) and np.any(down.kernel.numpy()[..., m:])


def test_total_steps_count_those_behind_the_init_from_weights(finished_run, tmp_path,
                                                              image_dir):
  config = get_config("tiny")
  given_run = finished_run[1]  # 4 steps
  options = _options(tmp_path / "b", image_dir, steps=4)
  options.init_from = str(given_run / "best" / "weights")
  Trainer(config, options).run(log=lambda _: None)
  # The run first validated the weights it was given (step 0): the same loss
  # as the run that made them recorded for them.
  with open(tmp_path / "b" / "history.jsonl") as f:
    history = [json.loads(line) for line in f]
  with open(given_run / "best" / "metrics.json") as f:
    given = json.load(f)["validation"]["loss"]
  assert [r["step"] for r in history] == [0, 4]
  assert history[0]["val_loss"] == pytest.approx(given, rel=1e-4)
  # The best weights are those of step 0 or 4, counted after a's 4 steps.
  info = weights_info(str(tmp_path / "b" / "best" / "weights"))
  best = 0 if history[0]["val_loss"] <= history[1]["val_loss"] else 4
  assert (info["step"], total_steps(info)) == (best, 4 + best)
  weights = str(tmp_path / "b" / "best" / "weights")
  exported = export_lib.model_info(build_codec(config, weights), weights)
  assert (exported["step"], exported["total_steps"]) == (best, 4 + best)
  resumed = Trainer(config, dataclasses.replace(options, steps=5))
  assert "resumed" in resumed.restore()
  assert resumed.steps_before == 4


def test_validation_loss_weighs_levels_like_the_training_loss(tmp_path, image_dir):
  config = get_config("tiny")
  options = dataclasses.replace(_options(tmp_path, image_dir, steps=0),
                                level_balance=0.5)
  val = Trainer(config, options).validate()
  losses = [level["loss"] for level in val["levels"]]
  weights = level_weights(config.lambdas, 0.5)
  assert val["loss"] == pytest.approx(np.average(losses, weights=weights))
  assert val["loss"] != pytest.approx(np.mean(losses))
  # Each level also records its transforms' ceiling (PSNR without quantization).
  assert all(np.isfinite(level["ceiling"]) for level in val["levels"])


def test_train_py_flags_fill_the_options_without_importing_tensorflow():
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  code = ("import sys; sys.path.insert(0, sys.argv[1]); import train;"
          "train.FLAGS(['train.py', '--lr_drops', '30,40', '--crop', '96', '--val_crop', '320',"
          "'--init_from', 'w', '--max_scale', '0.9', '--min_scale', '0.5', '--warmup_steps', '9']);"
          "assert 'tensorflow' not in sys.modules, 'TensorFlow imported';"
          "print(repr(train.options_from_flags()))")
  result = subprocess.run([sys.executable, "-c", code, root], capture_output=True,
                          text=True, timeout=120)
  assert result.returncode == 0, result.stderr
  parsed = eval(result.stdout, {"TrainingOptions": TrainingOptions})  # its repr
  assert parsed == dataclasses.replace(TrainingOptions(),
                                       lr_drops=(30, 40), crop=96, val_crop=320,
                                       init_from="w", min_scale=0.5, max_scale=0.9,
                                       warmup_steps=9)
  # By default train.py trains the shipped model's configuration, each
  # configuration in its own workdir.
  shipped = zoo.read_model_info(zoo.DEFAULT_MODEL)["config"]["name"]
  assert (DEFAULT_CONFIG, parsed.workdir) == (shipped, f"runs/{shipped}")
  result = subprocess.run([sys.executable, "-c", code.replace("'--lr_drops'", "'--config', "
                           "'tiny', '--lr_drops'"), root], capture_output=True, text=True,
                          timeout=120)
  assert result.returncode == 0, result.stderr
  assert eval(result.stdout, {"TrainingOptions": TrainingOptions}).workdir == "runs/tiny"


def test_precision_auto_picks_by_hardware(tmp_path):
  from nlaic_tf.training import precision
  flags = tmp_path / "cpuinfo"
  flags.write_text("flags\t: fpu avx512f avx512_bf16\n")
  assert precision.cpu_has_bf16(str(flags))
  flags.write_text("flags\t: fpu avx2\n")
  assert not precision.cpu_has_bf16(str(flags))
  assert not precision.cpu_has_bf16(str(tmp_path / "missing"))
  bf16 = tmp_path / "bf16"
  bf16.write_text("flags\t: fpu avx512f avx512_bf16\n")
  # No GPU here: auto follows the CPU's flags.
  assert precision.resolve_precision("auto", str(bf16)) == "mixed_bfloat16"
  assert precision.resolve_precision("auto", str(flags)) == "float32"
  assert precision.resolve_precision("mixed_float16") == "mixed_float16"
  # Emulated bfloat16 is many times slower: asking for it explicitly warns.
  with pytest.warns(RuntimeWarning, match="without native bfloat16"):
    assert precision.resolve_precision("mixed_bfloat16", str(flags)) == "mixed_bfloat16"
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    precision.resolve_precision("mixed_bfloat16", str(bf16))
  with pytest.raises(ValueError, match="precision"):
    precision.resolve_precision("bf16")


def test_snapshot_of_the_kept_best_weights(finished_run, tmp_path):
  best = finished_run[1] / "best" / "weights"
  out = tmp_path / "best16"
  subprocess.run([sys.executable, "scripts/snapshot_weights.py", "--weights", str(best),
                  "--out", str(out)], check=True,
                 cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  kept = build_model(get_config("tiny"), str(best))
  snapped = build_model(get_config("tiny"), str(out / "weights.npz"))
  for a, b in zip(snapped.weights, kept.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy().astype(np.float16).astype(b.numpy().dtype))
  info = weights_info(str(out / "weights.npz"))
  assert info["validation"] == weights_info(str(best))["validation"]
  assert total_steps(info) == 4 and info["checkpoint"] == str(best)


def test_snapshot_continues_a_run_from_float16_weights(finished_run, tmp_path, image_dir):
  from nlaic_tf.snapshot import read_snapshot
  config = get_config("tiny")
  options = _options(finished_run[1], image_dir, steps=4)
  out = tmp_path / "snap"
  subprocess.run([sys.executable, "scripts/snapshot_weights.py", "--workdir",
                  str(finished_run[1]), "--out", str(out)], check=True,
                 cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  with open(out / "metrics.json") as f:
    assert json.load(f)["weights"] == "average of 4 steps"
  trained = Trainer(config, _averaged(options))  # resumes the checkpoint at step 4
  trained.restore()
  options = _options(tmp_path / "b", image_dir, steps=5)
  options.init_from = str(out / "weights.npz")
  follower = Trainer(config, options)
  assert "initialised weights" in follower.restore()
  with trained.average.swapped_in():  # the snapshot holds the average
    for a, b in zip(follower.model.weights, trained.model.weights):
      np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-4)
  assert any(not np.allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-4)
             for a, b in zip(follower.model.weights, trained.model.weights))
  assert follower.steps_before == 4
  follower.run(log=lambda _: None)
  with pytest.raises(ValueError, match="holds"):  # fewer weights (no NLAM)
    read_snapshot(build_model(tiny_integer_config()), str(out / "weights.npz"))
