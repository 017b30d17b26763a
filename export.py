"""Exports a trained NLAIC model to saved_models/ for the `nlaic` codec commands.

Placeholder: the model and its export are being written (see README). Until
then this script only says so and exits with status 1.
"""
import sys


def main() -> int:
  print("export.py: model export is not implemented yet; the NLAIC model is in progress.",
        file=sys.stderr)
  return 1


if __name__ == "__main__":
  sys.exit(main())
