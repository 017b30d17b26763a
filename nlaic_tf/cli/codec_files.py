"""What `nlaic compress`, `decompress` and `demo` share: model loading, quality checks, file listing, progress."""
import logging
from pathlib import Path

from nlaic_tf.cli.errors import UserError

logger = logging.getLogger(__name__)


def add_model_argument(parser) -> None:
  from nlaic_tf import zoo
  parser.add_argument(
      "--model", help=f"pretrained model name ({', '.join(zoo.PRETRAINED)}) or an "
                      f"exported SavedModel folder (default: $NLAIC_MODEL, else "
                      f"{zoo.DEFAULT_MODEL})")


def load_codec(args):
  """The codec named by --model (or the default); UserError if missing."""
  from nlaic_tf import zoo
  try:
    return zoo.load_codec(args.model)
  except FileNotFoundError as e:
    raise UserError(str(e)) from None


def check_quality(quality, levels):
  """`quality` if it is a rate level of a model with `levels` levels; UserError otherwise."""
  if not 0 <= quality <= levels - 1:
    raise UserError(f"--quality must be in [0, {levels - 1}], got {quality}")
  return quality


def plan(inputs, output, files_of, suffix):
  """Pairs (input file, output file) for a file, folder or glob `inputs`.

  One input file: `output` is the output file (default: input with `suffix`).
  Several inputs: `output` is a folder (created; default: beside each input).
  """
  try:
    sources = files_of(inputs)
  except FileNotFoundError as e:
    raise UserError(str(e)) from None
  single = len(sources) == 1 and Path(inputs).is_file()
  if single:
    target = Path(output) if output else sources[0].with_suffix(suffix)
    if target.is_dir():
      target = target / sources[0].with_suffix(suffix).name
    return [(sources[0], target)]
  if output:
    pairs = [(s, Path(output) / s.with_suffix(suffix).name) for s in sources]
  else:
    pairs = [(s, s.with_suffix(suffix)) for s in sources]
  targets = {}
  for source, target in pairs:
    if target in targets:
      raise UserError(f"{targets[target]} and {source} would both be written to {target}; "
                      "rename one or code them separately")
    targets[target] = source
  if output:
    Path(output).mkdir(parents=True, exist_ok=True)
  return pairs


def run_all(pairs, work, quiet):
  """Applies work(src, dst) -> message to each pair; errors are reported, not fatal.

  Returns the exit status: 0 if all succeeded, 1 otherwise.
  """
  from tqdm import tqdm
  failures = 0
  show_bar = len(pairs) > 1 and not quiet
  for src, dst in tqdm(pairs, disable=not show_bar, unit="file"):
    try:
      message = work(src, dst)
    except UserError as e:
      failures += 1
      logger.error("%s: %s", src, e)
      continue
    if not quiet:
      (tqdm.write if show_bar else print)(message)
  if failures:
    logger.error("%d of %d files failed", failures, len(pairs))
  return 1 if failures else 0
