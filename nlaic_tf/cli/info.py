"""Show the header of a .nlaic file and check its integrity (no TensorFlow needed).

examples:
  nlaic info photo.nlaic
"""
from pathlib import Path

from nlaic_tf.cli import codec_files
from nlaic_tf.bitstream.format import FLAG_INTEGER
from nlaic_tf.cli.errors import UserError

NAME = "info"
HELP = "show and verify a .nlaic file's header"


def add_arguments(parser) -> None:
  parser.add_argument("file", metavar="FILE", help=".nlaic file")
  codec_files.add_model_argument(parser)


def _model_id(args):
  """Hex model id of --model from its model.json, if present."""
  from nlaic_tf import zoo
  try:
    return zoo.read_model_info(args.model)["model_id"]
  except (OSError, ValueError, KeyError):
    return None


def _model_line(args, model):
  """What decodes a file of model id `model` (hex): the pretrained model of
  that id (or, for a retired one, what still decodes it), or with --model
  whether that model matches."""
  from nlaic_tf import zoo
  if args.model:
    known = _model_id(args)
    match = ("unknown (no model.json)" if known is None else "yes" if known == model
             else "NO: decode with the model that wrote it")
    return f"{model} (matches --model: {match})"
  name = zoo.pretrained_for_model_id(model)
  if name:
    return f"{model} (pretrained model {name})"
  retired = zoo.retired_model(model)
  if retired:
    return f"{model} (written by {retired.decode_hint()})"
  return (f"{model} (not a pretrained model: decode with --model FOLDER of the "
          "export that wrote it)")


def _symbols_check(header):
  if header.symbols_check is None:
    return "none (format version 1)"
  path = ("integer" if header.flags & FLAG_INTEGER else "float")
  return f"{header.symbols_check:08x} ({path} entropy parameters)"


def run(args) -> int:
  from nlaic_tf import metrics
  from nlaic_tf.bitstream import BitstreamError, read_header

  try:
    data = Path(args.file).read_bytes()
    header = read_header(data)
  except (OSError, BitstreamError) as e:
    raise UserError(f"{args.file}: {e}") from None
  model = header.model_id.hex()
  bpp = metrics.bpp(len(data), header.height, header.width)
  print(f"file:           {args.file} ({len(data)} bytes, {bpp:.4f} bpp)\n"
        f"format version: {header.version}\n"
        f"image size:     {header.width}x{header.height}\n"
        f"quality:        {header.quality:.4g}\n"
        f"streams:        z {header.z_length} bytes, y {header.y_length} bytes\n"
        f"checksum:       {header.checksum:08x} (verified)\n"
        f"symbols check:  {_symbols_check(header)}\n"
        f"model id:       {_model_line(args, model)}")
  return 0
