"""The error type commands raise for mistakes the user can fix, and the check
that the evaluation harness's optional packages are installed."""
import importlib.util

EVAL_EXTRA = "pip install 'nlaic_tf[eval]'"


class UserError(Exception):
  """Bad arguments or input: `nlaic` prints the message (no traceback) and exits with 1."""


def require_eval_extra(*modules: str) -> None:
  """Raises UserError naming the `eval` extra if any of `modules` (import
  names, e.g. "scipy") is missing. The codec installs without them
  (setup.py); the evaluation commands check before doing any work."""
  missing = [m for m in modules if not _installed(m)]
  if missing:
    raise UserError(f"needs {', '.join(missing)}, part of the evaluation extra; "
                    f"install it with: {EVAL_EXTRA}")


def _installed(module: str) -> bool:
  """Whether `module` can be imported, without importing it."""
  try:
    return importlib.util.find_spec(module) is not None
  except (ImportError, ValueError):  # A finder refused it, or sys.modules holds None.
    return False
