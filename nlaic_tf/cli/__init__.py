"""The `nlaic` command line: `nlaic <command> [options]`, one module per command.

A command module defines NAME, HELP, `add_arguments(parser)` and `run(args) -> int`
(exit status), and is listed in COMMANDS. Commands raise `UserError` for
mistakes the user can fix; `main` prints its message and returns 1.
"""
import argparse
import logging
import os
import sys
from typing import List, Optional

from nlaic_tf import __version__
from nlaic_tf.cli import (bdrate, codecs, compress, decompress, demo, evaluate,
                          info, models, summary)
from nlaic_tf.cli.errors import UserError

COMMANDS = (compress, decompress, info, demo, models, evaluate, bdrate, summary,
            codecs)


class _ArgumentParser(argparse.ArgumentParser):
  """Reports usage errors with exit status 1, like every other user error."""

  def error(self, message):
    self.print_usage(sys.stderr)
    self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
  parser = _ArgumentParser(
      prog="nlaic", description="NLAIC learned image codec and its evaluation tools.")
  parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
  parser.add_argument("-q", "--quiet", action="store_true", help="only print warnings and errors")
  subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=_ArgumentParser)
  for command in COMMANDS:
    subparser = subparsers.add_parser(command.NAME, help=command.HELP,
                                      description=command.__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    command.add_arguments(subparser)
    subparser.set_defaults(run=command.run)
  return parser


def main(argv: Optional[List[str]] = None) -> int:
  """Runs `nlaic` with `argv` (default: sys.argv[1:]); returns the exit status."""
  try:
    args = build_parser().parse_args(argv)
  except SystemExit as e:  # --help, --version, or a usage error already printed.
    return e.code if isinstance(e.code, int) else 1
  logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                      format="%(levelname)s: %(message)s")
  try:
    return args.run(args)
  except UserError as e:
    print(f"nlaic {args.command}: error: {e}", file=sys.stderr)
    return 1
  except KeyboardInterrupt:
    print(f"nlaic {args.command}: interrupted", file=sys.stderr)
    return 130
  except BrokenPipeError:  # The reader of stdout went away (e.g. `| head`).
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


if __name__ == "__main__":
  sys.exit(main())
