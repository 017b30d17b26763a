"""Atomic file and directory writes: a reader sees either the old one or the complete new one.

Data goes to a temporary file in the destination's directory (so the final
rename stays on one file system), is flushed to disk, and then replaces the
destination with `os.replace`. If writing fails, the temporary file is removed
and an existing destination is left untouched.
"""
import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator, Optional, Union

PathLike = Union[str, os.PathLike]


def _current_umask() -> int:
  mask = os.umask(0)
  os.umask(mask)
  return mask


# Permissions a file created with open() would get; mkstemp's default is 0o600.
_NEW_FILE_MODE = 0o666 & ~_current_umask()


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "wb", encoding: Optional[str] = None,
                 newline: Optional[str] = None) -> Iterator[IO]:
  """Opens a temporary file that replaces `path` when the `with` block succeeds.

  Args:
    path: destination file. Its directory must exist.
    mode: "wb" (bytes) or "w" (text).
    encoding, newline: as for `open`, text mode only.

  Yields:
    The open temporary file.
  """
  if mode not in ("w", "wb"):
    raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
  path = Path(path)
  fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
  try:
    with os.fdopen(fd, mode, encoding=encoding, newline=newline) as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    os.chmod(tmp_name, _NEW_FILE_MODE)
    os.replace(tmp_name, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp_name)
    raise


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
  """Writes `data` to `path` atomically (see `atomic_write`)."""
  with atomic_write(path, "wb") as f:
    f.write(data)


@contextlib.contextmanager
def atomic_directory(path: PathLike) -> Iterator[str]:
  """Yields a fresh directory next to `path` that replaces `path` on success.

  On an exception the staging directory is deleted and `path` is untouched;
  an existing `path` is only removed once the new one is in place.
  """
  path = os.path.abspath(path)
  parent, name = os.path.split(path)
  os.makedirs(parent, exist_ok=True)
  staging = tempfile.mkdtemp(dir=parent, prefix=f".{name}.tmp-")
  try:
    os.chmod(staging, 0o777 & ~_current_umask())  # mkdtemp makes it 0o700.
    yield staging
    _swap_in(staging, path)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise


def _swap_in(staging: str, path: str) -> None:
  """Renames `staging` to `path`; an existing `path` is kept until that succeeded."""
  old = None
  if os.path.exists(path):
    old = staging + ".old"
    os.replace(path, old)
  try:
    os.replace(staging, path)
  except BaseException:
    if old:
      os.replace(old, path)
    raise
  if old:
    shutil.rmtree(old, ignore_errors=True)
