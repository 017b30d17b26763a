"""The `nlaic` command line: user errors, listing codecs, import weight."""
import subprocess
import sys

import pytest

from nlaic_tf import __version__
from nlaic_tf.cli import main
from nlaic_tf.cli.errors import UserError
from nlaic_tf.cli.evaluate import parse_qualities
from nlaic_tf.evaluation.codecs import CONVENTIONAL_CODECS


def test_parse_qualities():
  names = ["jpeg420", "webp"]
  assert parse_qualities(["10,20"], names) == {"jpeg420": [10, 20], "webp": [10, 20]}
  assert parse_qualities(["webp:5", "10"], names) == {"webp": [5], "jpeg420": [10]}
  for bad in (["webp:a,b"], ["avif:5"], ["jpeg420:"]):
    with pytest.raises(UserError):
      parse_qualities(bad, names)


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "--images", "/nonexistent/kodak"], "no such folder or file"),
    (["evaluate", "--codecs", "jpeg420,bpg"], "unknown codec 'bpg'"),
    (["evaluate", "--codecs", "jpeg420,assets"], "or the folder of an export"),  # no SavedModel
    (["evaluate", "--anchors", "nobody2020"], "unknown published curve"),
    (["evaluate", "--limit", "0"], "--limit must be at least 1"),
    (["bdrate", "/nonexistent.csv"], "no such file"),
    (["summary", "/nonexistent.csv"], "no such file"),
    (["evaluate", "--no-such-option"], "unrecognized arguments"),
])
def test_user_errors_exit_1_with_a_message(argv, message, capsys):
  assert main(argv) == 1
  err = capsys.readouterr().err
  assert message in err and "Traceback" not in err


def test_invalid_quality_is_a_user_error(tmp_path, capsys):
  (tmp_path / "a.png").write_bytes(b"")
  assert main(["evaluate", "--images", str(tmp_path), "--codecs", "jpeg420",
               "--qualities", "150", "--out", str(tmp_path / "out"), "--no-progress"]) == 1
  assert "jpeg420: quality 150 outside [1, 100]" in capsys.readouterr().err
  assert not (tmp_path / "out").exists()


def test_bdrate_rejects_a_file_that_is_not_a_summary(tmp_path, capsys):
  (tmp_path / "x.csv").write_text("a,b\n1,2\n")
  assert main(["bdrate", str(tmp_path / "x.csv")]) == 1
  assert "missing columns" in capsys.readouterr().err


def test_codecs_command_lists_every_codec_with_its_grid(capsys):
  assert main(["codecs"]) == 0
  out = capsys.readouterr().out
  for name in CONVENTIONAL_CODECS:
    assert f"\n{name}: " in "\n" + out
  assert "default:   3, 5, 10, 20, 30, 45, 60, 75, 82" in out  # jpeg420's grid.


def test_version(capsys):
  assert main(["--version"]) == 0
  assert capsys.readouterr().out.strip() == f"nlaic {__version__}"


def test_missing_command_is_a_usage_error(capsys):
  assert main([]) == 1
  assert "required: COMMAND" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli_without_importing_tensorflow():
  code = ("import runpy, sys; sys.argv = ['nlaic_tf', 'codecs'];"
          "import nlaic_tf.cli, nlaic_tf.evaluation.registry, nlaic_tf.io;"
          "assert 'tensorflow' not in sys.modules, 'TensorFlow imported';"
          "runpy.run_module('nlaic_tf', run_name='__main__')")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
  assert result.returncode == 0, result.stderr
  assert "hevc: HEVC intra" in result.stdout


def test_summary_command_prints_the_table(tmp_path, capsys):
  (tmp_path / "s.csv").write_text(
      "codec,quality,images,bpp,psnr,ms_ssim,encode_s,decode_s\n"
      "webp,50,24,0.673,33.01,0.9747,0.08,0.005\n"
      "webp,80,24,1.1,36.0,,0.1,0.006\n")
  assert main(["summary", str(tmp_path / "s.csv")]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert lines[2] == "| webp | 50 | 24 | 0.673 | 33.01 | 0.9747 | 15.97 | 0.080 | 0.005 |"
  assert lines[3] == "| webp | 80 | 24 | 1.100 | 36.00 | n/a | n/a | 0.100 | 0.006 |"
