"""Binary files against their rows: presence, the size each row states, and ContentBody
MD5s."""

from __future__ import annotations

import array
import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .catalog import FILE_OBJECTS, FOLDER_OF, HASH_COLUMNS, SIZE_COLUMNS
from .csvcount import CsvStats, id_hash
from .model import (
    FileSet,
    Problem,
    ScanResult,
)

if TYPE_CHECKING:
    from .parts import _Plan

#: Ids (or files) named per finding.
SAMPLE = 20


@dataclass
class _Files:
    """The binary files of one object, as 8-byte keys: flat memory per file."""

    folder: str
    keys: array.array[int] = field(default_factory=lambda: array.array("Q"))
    sizes: array.array[int] = field(default_factory=lambda: array.array("q"))
    count: int = 0
    bytes: int = 0

    def add(self, rid: str, size: int) -> None:
        self.count += 1
        self.bytes += size
        if rid:
            self.keys.append(id_hash(rid))
            self.sizes.append(size)

    def by_key(self) -> tuple[array.array[int], array.array[int]]:
        """The keys in order, and each one's file size."""
        order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        return (
            array.array("Q", (self.keys[i] for i in order)),
            array.array("q", (self.sizes[i] for i in order)),
        )


def _match_files(plan: _Plan, id_lists: dict[str, CsvStats], hashes: dict[int, bytes]) -> None:
    """Rows of Attachment, Document, ContentVersion and ContentBody against their files:
    a row needs a file unless it states a size of 0; a file must be as long as its row
    states (BodyLength, ContentSize) and, for ContentBody, hash to its row's MD5."""
    result = plan.result
    for obj in sorted(FILE_OBJECTS):
        stats = result.object(obj)
        files = plan.files.get(obj)
        if stats is None and files is None:
            continue
        fileset = FileSet(obj, files.folder if files else None)
        result.files[obj] = fileset
        if files is not None:
            fileset.files, fileset.bytes = files.count, files.bytes
        rows = id_lists.get(obj)
        if rows is None or rows.id_keys is None:
            continue
        if not rows.id_column and rows.records:
            result.problems.append(
                Problem(
                    "files-unmatched",
                    f"{obj}: the CSV has no Id column, so its {rows.records} rows cannot be "
                    "matched to their files",
                    object=obj,
                    count=rows.records,
                )
            )
            continue
        have, have_sizes = files.by_key() if files else (array.array("Q"), array.array("q"))
        sizes, stated_hashes = rows.sizes, rows.hashes
        fileset.size_column = SIZE_COLUMNS.get(obj) if sizes is not None else None
        missing: list[int] = []
        zero: list[int] = []
        wrong: list[tuple[int, int, int]] = []
        bad_hash: list[tuple[int, bytes, bytes]] = []
        blank = bytes(16)
        for i, key in enumerate(rows.id_keys):
            stated = sizes[i] if sizes is not None and i < len(sizes) else -1
            j = bisect.bisect_left(have, key)
            if j == len(have) or have[j] != key:
                if stated == 0:
                    fileset.zero_rows += 1
                else:
                    missing.append(i)
                continue
            found = have_sizes[j]
            if stated >= 0:
                fileset.zero_rows += stated == 0
                if found != stated:
                    wrong.append((i, stated, found))
            elif found == 0:
                zero.append(i)
            if stated_hashes is not None:
                want = bytes(stated_hashes[i * 16 : i * 16 + 16])
                got = hashes.get(key)
                if want != blank and got is not None:
                    fileset.hashed += 1
                    if got != want:
                        bad_hash.append((i, want, got))
        fileset.rows = len(rows.id_keys)
        fileset.missing, fileset.empty = len(missing), len(zero)
        fileset.wrong_size, fileset.wrong_hash = len(wrong), len(bad_hash)
        fileset.missing_ids = [rows.id_at(i) for i in missing[:SAMPLE]]
        fileset.empty_ids = [rows.id_at(i) for i in zero[:SAMPLE]]
        _file_problems(result, fileset, obj)
        _size_problems(result, fileset, [(rows.id_at(i), a, b) for i, a, b in wrong[:SAMPLE]])
        _hash_problems(result, fileset, [(rows.id_at(i), a, b) for i, a, b in bad_hash[:SAMPLE]])
        if sizes is None and obj in SIZE_COLUMNS and fileset.rows:
            result.problems.append(
                Problem(
                    "files-unsized",
                    f"{obj}: the CSV has no {SIZE_COLUMNS[obj]} column, so the files' sizes "
                    "could not be checked (only that each row has a file)",
                    object=obj,
                )
            )


def _file_problems(result: ScanResult, fileset: FileSet, obj: str) -> None:
    shown = fileset.missing_ids[:3]
    if fileset.folder:
        where = f"in {fileset.folder}/ (e.g. {', '.join(shown)})"
    else:
        where = (
            f"(the export has no {FOLDER_OF[obj]}/ folder: export again with "
            "'Include images, documents, and attachments' and 'Include Salesforce Files')"
        )
    if fileset.missing:
        result.problems.append(
            Problem(
                "files-missing",
                f"{obj}: {fileset.missing} of {fileset.rows} rows have no file {where}",
                object=obj,
                count=fileset.missing,
                data={"ids": fileset.missing_ids},
                record_id=fileset.missing_ids[0] if fileset.missing == 1 else None,
            )
        )
    if fileset.empty:
        verb = "is" if fileset.empty == 1 else "are"
        result.problems.append(
            Problem(
                "files-empty",
                f"{obj}: {fileset.empty} of {fileset.rows} files {verb} empty (0 bytes) "
                f"(e.g. {', '.join(fileset.empty_ids[:3])}), and the CSV states no size",
                object=obj,
                count=fileset.empty,
                data={"ids": fileset.empty_ids},
                record_id=fileset.empty_ids[0] if fileset.empty == 1 else None,
            )
        )


def _size_problems(
    result: ScanResult, fileset: FileSet, sample: list[tuple[str, int, int]]
) -> None:
    """One finding per file (the first :data:`SAMPLE`) whose length is not its row's."""
    obj, column = fileset.object, fileset.size_column
    for rid, stated, found in sample:
        how = "cut short" if found < stated else "longer than stated"
        result.problems.append(
            Problem(
                "file-size",
                f"{obj} {rid}: the file in {fileset.folder}/ has {found:,} bytes, its row's "
                f"{column} states {stated:,} ({how})",
                object=obj,
                record_id=rid,
                data={"expected_bytes": stated, "found_bytes": found},
            )
        )
    if fileset.wrong_size > len(sample):
        more = fileset.wrong_size - len(sample)
        result.problems.append(
            Problem(
                "file-size",
                f"{obj}: {more} more files differ from their rows' {column} "
                f"({fileset.wrong_size} in all)",
                object=obj,
                count=more,
            )
        )


def _hash_problems(
    result: ScanResult, fileset: FileSet, sample: list[tuple[str, bytes, bytes]]
) -> None:
    obj = fileset.object
    for rid, want, got in sample:
        result.problems.append(
            Problem(
                "file-checksum",
                f"{obj} {rid}: the file in {fileset.folder}/ has MD5 {got.hex()}, its row's "
                f"{HASH_COLUMNS[obj]} states {want.hex()}: the file is damaged",
                object=obj,
                record_id=rid,
                data={"expected_md5": want.hex(), "found_md5": got.hex()},
            )
        )
    if fileset.wrong_hash > len(sample):
        more = fileset.wrong_hash - len(sample)
        result.problems.append(
            Problem(
                "file-checksum",
                f"{obj}: {more} more files fail their MD5 ({fileset.wrong_hash} in all)",
                object=obj,
                count=more,
            )
        )
