"""Files that ship with nlaic_tf: the pretrained models and the demo image.

An installed wheel carries them inside the package: setup.py maps the
repository's `saved_models/` and `assets/` to `nlaic_tf/saved_models/` and
`nlaic_tf/assets/`. A source checkout (PYTHONPATH, or an editable install)
has them at the repository root. Imports nothing heavy.
"""
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_path(folder: str, *parts: str) -> Path:
  """Path of `folder/parts...` ("saved_models" or "assets"): inside the
  installed package if it is there, else in the repository checkout."""
  packaged = PACKAGE_DIR.joinpath(folder, *parts)
  if packaged.exists():
    return packaged
  return PACKAGE_DIR.parent.joinpath(folder, *parts)
