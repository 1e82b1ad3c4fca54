"""Salesforce Data Export verification: a streaming scanner and the ``backup`` fixture.

:func:`scan` scans once; :class:`BackupInventory` is what the
``sfaudit_open_backup`` hook hands to checks (it scans on first use, once).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .inventory import BackupInventory
from .model import FileSet, ObjectStats, PartInfo, Problem, ScanResult

__all__ = [
    "BackupInventory",
    "FileSet",
    "ObjectStats",
    "PartInfo",
    "Problem",
    "ScanResult",
    "scan",
]


def scan(
    path: str | Path | Sequence[str | Path],
    *,
    encoding: str = "auto",
    workers: int | None = None,
    progress: bool | None = None,
    backend: str | None = None,
) -> ScanResult:
    """Scan the Data Export at ``path``; see :func:`sfaudit.backup.scanner.scan`."""
    from .scanner import scan as _scan

    return _scan(path, encoding=encoding, workers=workers, progress=progress, backend=backend)
