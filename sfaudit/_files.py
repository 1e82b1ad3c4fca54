"""Writing files atomically, with the mode a plain ``open()`` would give."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def temp_path(target: Path) -> Path:
    """A new empty temporary file next to ``target`` (same file system, so it can be renamed)."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def chmod_default(path: str | Path) -> None:
    """mkstemp creates 0600; give the file the mode a plain open() would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file and rename: a reader never sees half a file,
    and an interrupted write leaves the previous file in place."""
    tmp = temp_path(target)
    try:
        write(tmp)
        chmod_default(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
