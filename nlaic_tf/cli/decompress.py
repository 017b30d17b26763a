"""Decompress .nlaic files to PNG images.

IN is a .nlaic file, a folder (its *.nlaic files) or a quoted glob; OUT is the
output file (one input) or folder, default: beside the input with suffix
.png. Corrupt, truncated or foreign files are reported with the reason and
exit status 1; no output is written for them, and outputs are atomic.
Files of more than --max-pixels pixels are refused before decoding. Without
--model each file is decoded by the pretrained model that wrote it (its
header names it).

examples:
  nlaic decompress photo.nlaic                  # photo.png
  nlaic decompress photo.nlaic restored.png
  nlaic decompress out/ restored/
"""
import glob
from pathlib import Path

from nlaic_tf.cli import codec_files
from nlaic_tf.cli.errors import UserError

NAME = "decompress"
HELP = "decompress .nlaic files to PNG"


def add_arguments(parser) -> None:
  from nlaic_tf.api import DEFAULT_MAX_PIXELS
  parser.add_argument("input", metavar="IN", help=".nlaic file, folder or glob")
  parser.add_argument("output", metavar="OUT", nargs="?", help="output file or folder")
  parser.add_argument(
      "--max-pixels", type=int, default=None, metavar="N",
      help="refuse files whose image has more than N pixels, before decoding "
           f"(default: {DEFAULT_MAX_PIXELS}, about 16 GB of memory; 0: only the "
           "format's limit of 16384x16384)")
  codec_files.add_model_argument(parser)


def bitstream_files(spec):
  """The files named by `spec`: a file, a folder's *.nlaic files, or a glob."""
  path = Path(spec)
  if path.is_dir():
    files = sorted(path.glob("*.nlaic"))
  elif glob.has_magic(str(spec)):
    files = sorted(Path(p) for p in glob.glob(str(spec)) if Path(p).is_file())
  else:
    files = [path] if path.is_file() else []
  if not files:
    raise FileNotFoundError(f"no .nlaic files at {spec}")
  return files


def run(args) -> int:
  from nlaic_tf import api
  from nlaic_tf.bitstream import BitstreamError
  from nlaic_tf.io.images import save_png

  max_pixels = api.DEFAULT_MAX_PIXELS if args.max_pixels is None else args.max_pixels
  if max_pixels < 0:
    raise UserError("--max-pixels must be 0 (no limit) or a number of pixels")
  pairs = codec_files.plan(args.input, args.output, bitstream_files, ".png")
  # Without --model, api.decompress picks the model each file names.
  codec = codec_files.load_codec(args) if args.model else None

  def work(src, dst):
    try:
      image = api.decompress(src.read_bytes(), codec, max_pixels)
    except (BitstreamError, OSError) as e:
      raise UserError(str(e)) from None
    save_png(dst, image)
    return f"{src} -> {dst}: {image.shape[1]}x{image.shape[0]}"

  return codec_files.run_all(pairs, work, args.quiet)
