"""The backup inventory: what a scan of a Data Export found, as plain data."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

#: Problem kinds that make a part (and what it holds) not intact.
INTEGRITY_KINDS = frozenset(
    {
        "part-unreadable",
        "crc",
        "corrupt",
        "encrypted",
        "unsafe-name",
        "zip-bomb",
        "unsupported",
        "duplicate-member",
    }
)
#: CSV problems that make its record count unreliable.
COUNT_KINDS = frozenset({"empty", "binary", "truncated", "short-row", "long-row", "malformed"})
#: Problem kinds that are notes: they never make the backup check fail.
NOTE_KINDS = frozenset({"encoding-note", "files-unsized"})
#: Every problem kind the scanner reports (docs/backups.md's table; each has a fix).
PROBLEM_KINDS = (
    INTEGRITY_KINDS
    | COUNT_KINDS
    | NOTE_KINDS
    | {
        "part-missing",
        "part-maybe-missing",
        "part-extra",
        "part-duplicate",
        "mixed-orgs",
        "mixed-exports",
        "header",
        "duplicate-column",
        "encoding",
        "no-csv",
        "files-missing",
        "files-empty",
        "files-unmatched",
        "file-size",
        "file-checksum",
    }
)


def require_export(path: Path) -> Path:
    """``path``, or the input error every caller gives when a backup path does not exist."""
    if not path.exists():
        raise InputError(
            f"backup {path} does not exist",
            hint="point backup.path (or --backup / verify-backup PATH) at the folder of "
            "WE_*.ZIP files",
        )
    return path


@dataclass
class Problem:
    """Something wrong with the export. ``kind`` is a stable key (see docs/backups.md)."""

    kind: str
    message: str
    part: str | None = None
    member: str | None = None
    object: str | None = None
    count: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    record_id: str | None = None


@dataclass
class PartInfo:
    """One ZIP of the export (or the unpacked folder)."""

    name: str
    path: str
    number: int | None = None
    org_id: str | None = None
    size: int = 0
    members: int = 0
    intact: bool = True
    #: The newest member's timestamp (None for an unpacked folder: file times
    #: change when files are copied, so they date nothing).
    exported_at: dt.datetime | None = None


@dataclass
class ObjectStats:
    """One object's CSV, summed over every part it appears in."""

    name: str
    records: int = 0
    bytes: int = 0
    sources: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    intact: bool = True


@dataclass
class FileSet:
    """Binary files of one object (Attachment, Document, ContentVersion) against its rows."""

    object: str
    folder: str | None
    rows: int = 0
    files: int = 0
    bytes: int = 0
    missing: int = 0
    missing_ids: list[str] = field(default_factory=list)
    empty: int = 0
    empty_ids: list[str] = field(default_factory=list)
    #: The CSV column that states each file's size (None: sizes could not be checked).
    size_column: str | None = None
    #: Files whose length differs from their row's stated size.
    wrong_size: int = 0
    #: Files whose MD5 was compared with their row's, and those that differ.
    hashed: int = 0
    wrong_hash: int = 0
    #: Rows that state a size of 0, which need no file.
    zero_rows: int = 0


@dataclass
class ScanResult:
    """Everything one scan found; the ``backup`` fixture's answers come from here."""

    path: str
    layout: str  # "parts", "zip" or "folder"
    parts: list[PartInfo] = field(default_factory=list)
    objects: dict[str, ObjectStats] = field(default_factory=dict)
    files: dict[str, FileSet] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    exported_at: dt.datetime | None = None
    org_ids: list[str] = field(default_factory=list)
    bytes_read: int = 0
    bytes_inflated: int = 0
    seconds: float = 0.0
    backend: str = "zlib"
    backend_note: str | None = None
    """Why the scan did not inflate with isal, and the fix; None when it did."""
    workers: int = 1
    encoding: str = "auto"

    @property
    def records(self) -> int:
        return sum(o.records for o in self.objects.values())

    @property
    def intact(self) -> bool:
        """True when every part and every CSV read cleanly (files aside)."""
        return not any(p.kind in INTEGRITY_KINDS | COUNT_KINDS for p in self.problems)

    @property
    def rate_mb_s(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def object(self, name: str) -> ObjectStats | None:
        """An object's stats by API name (case-insensitive)."""
        found = self.objects.get(name)
        if found is None:
            lowered = name.lower()
            for key, value in self.objects.items():
                if key.lower() == lowered:
                    return value
        return found

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["exported_at"] = self.exported_at.isoformat() if self.exported_at else None
        for part in out["parts"]:
            when = part["exported_at"]
            part["exported_at"] = when.isoformat() if when else None
        out["records"] = self.records
        out["intact"] = self.intact
        out["seconds"] = round(self.seconds, 3)
        out["rate_mb_s"] = round(self.rate_mb_s, 1)
        out["objects"] = [asdict(o) for o in sorted(self.objects.values(), key=lambda o: o.name)]
        out["files"] = [asdict(f) for f in self.files.values()]
        return out
