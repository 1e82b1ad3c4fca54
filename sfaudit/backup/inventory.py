"""The ``backup`` fixture: a Data Export that is scanned when a check first asks."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from ..errors import InputError
from .model import FileSet, ObjectStats, PartInfo, Problem, ScanResult, require_export


class BackupInventory:
    """A Data Export at ``path``, scanned lazily and once per encoding.

    Checks read :meth:`result` (or the shortcuts below); the scan streams every
    part on every core, so opening an inventory costs nothing until then.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        encoding: str = "auto",
        workers: int | None = None,
        progress: bool | None = None,
    ) -> None:
        self.path = require_export(Path(path))
        self.encoding = encoding
        self.workers = workers
        self.progress = progress
        self._results: dict[str, ScanResult] = {}
        self._lock = threading.Lock()

    def result(self, encoding: str | None = None) -> ScanResult:
        """The scan's result (scanning now if no check asked before)."""
        from .csvcount import normalize_encoding

        try:
            enc = normalize_encoding(encoding or self.encoding)
        except ValueError as exc:
            raise InputError(
                f"checks.backup-completeness.encoding: {exc}",
                hint="use auto (detect), utf-8, utf-16, iso-8859-1 or windows-1252",
            ) from None
        with self._lock:
            if enc not in self._results:
                from .scanner import scan

                self._results[enc] = scan(
                    self.path, encoding=enc, workers=self.workers, progress=self.progress
                )
            return self._results[enc]

    @property
    def objects(self) -> dict[str, ObjectStats]:
        return self.result().objects

    @property
    def problems(self) -> list[Problem]:
        return self.result().problems

    @property
    def parts(self) -> list[PartInfo]:
        return self.result().parts

    @property
    def files(self) -> dict[str, FileSet]:
        return self.result().files

    @property
    def exported_at(self) -> dt.datetime | None:
        return self.result().exported_at

    def count(self, sobject: str) -> int | None:
        """Records of ``sobject`` in the export, or None when it has no CSV."""
        stats = self.result().object(sobject)
        return stats.records if stats else None

    def __repr__(self) -> str:
        return f"BackupInventory({str(self.path)!r}, encoding={self.encoding!r})"
