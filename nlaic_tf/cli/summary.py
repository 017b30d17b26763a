"""Print a summary CSV written by `nlaic evaluate` as a Markdown table.

examples:
  nlaic summary results/kodak_baseline_summary.csv
"""
from nlaic_tf.cli.errors import UserError, require_eval_extra

NAME = "summary"
HELP = "print a summary CSV as a Markdown table"


def add_arguments(parser) -> None:
  parser.add_argument("summary", help="summary CSV written by `nlaic evaluate`")


def read_summary_rows(path: str):
  """The rows of a summary CSV; UserError if it is missing or malformed."""
  from nlaic_tf.evaluation.records import read_summary_csv

  try:
    return read_summary_csv(path)
  except FileNotFoundError:
    raise UserError(f"no such file: {path}") from None
  except ValueError as e:
    raise UserError(str(e)) from None


def run(args) -> int:
  require_eval_extra("scipy")  # nlaic_tf.evaluation.report's BD-rates.
  from nlaic_tf.evaluation import report

  print(report.summary_table(read_summary_rows(args.summary)))
  return 0
