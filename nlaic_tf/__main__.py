"""`python -m nlaic_tf <command> ...` runs the `nlaic` command line."""
import sys

from nlaic_tf.cli import main

if __name__ == "__main__":
  sys.exit(main())
