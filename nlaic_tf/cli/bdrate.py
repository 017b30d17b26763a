"""Bjøntegaard delta rates of the codecs in a summary CSV against one anchor.

Prints a Markdown table: each codec's rate and quality ranges, BD-rate at
equal PSNR and at equal MS-SSIM (interpolated in dB), and BD-PSNR, all
against the anchor, which may be a codec in the CSV or a published curve.
Negative BD-rate: fewer bits than the anchor for the same quality. With
--codec, the table turns around: one codec against every other curve, each
in turn the anchor.

examples:
  nlaic bdrate results/kodak_baseline_summary.csv --anchor jpeg420
  nlaic bdrate results/kodak_baseline_summary.csv --anchor balle2018 --published all
  nlaic bdrate results/kodak_summary.csv --codec nlaic --published balle2018,minnen2018
"""
from nlaic_tf.cli.errors import UserError, require_eval_extra

NAME = "bdrate"
HELP = "BD-rate table of a summary CSV against an anchor codec"


def add_arguments(parser) -> None:
  from nlaic_tf.evaluation.published import published_names

  parser.add_argument("summary", help="summary CSV written by `nlaic evaluate`")
  parser.add_argument("--anchor", default="jpeg420",
                      help="codec or published curve to compare against (default: %(default)s)")
  parser.add_argument("--codec", default="",
                      help="instead: this codec's BD-rates against every other curve")
  parser.add_argument(
      "--published", default="",
      help="published curves to add, comma-separated or 'all'; known: "
           + ", ".join(published_names()))


def run(args) -> int:
  require_eval_extra("scipy")  # BD-rates.
  from nlaic_tf.cli.summary import read_summary_rows
  from nlaic_tf.evaluation import published, report
  from nlaic_tf.evaluation.registry import codec_names, get_codec
  from nlaic_tf.evaluation.curves import curves_from_summary

  rows = read_summary_rows(args.summary)
  labels = {name: get_codec(name).label for name in codec_names()}
  curves = curves_from_summary(rows, labels)
  try:
    names = [n.strip() for n in args.published.split(",") if n.strip()]
    extra = published.load_published(names) if names else []
    if args.codec:
      print(report.codec_table(curves + extra, codec=args.codec))
      return 0
    if args.anchor not in {c.name for c in curves} | {c.name for c in extra}:
      extra += published.load_published([args.anchor])
    print(report.bd_table(curves + extra, anchor=args.anchor))
  except ValueError as e:
    raise UserError(str(e)) from None
  return 0
