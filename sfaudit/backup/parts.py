"""Discovering an export: which ZIPs are its parts, planning their members as jobs, and
the checks on the parts as a whole (numbering, dates, orgs)."""

from __future__ import annotations

import array
import contextlib
import datetime as dt
import itertools
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import InputError
from . import zipdir
from .catalog import FILE_FOLDERS
from .csvcount import id_hash
from .files import _Files
from .members import (
    PART_NAME,
    BlobJob,
    HashJob,
    Member,
    Piece,
    _binary_id,
    _classify,
    _hashed_id,
    refusal,
)
from .model import (
    PartInfo,
    Problem,
    ScanResult,
    require_export,
)

BLOB_BATCH_BYTES = 64 << 20


BLOB_BATCH_MEMBERS = 4000


#: Parts whose newest members are further apart than this come from different exports.
PART_DATE_SPREAD = dt.timedelta(days=1)


@dataclass
class _Plan:
    result: ScanResult
    csv_pieces: dict[str, list[Piece]] = field(default_factory=dict)
    blob_jobs: list[BlobJob | HashJob] = field(default_factory=list)
    files: dict[str, _Files] = field(default_factory=dict)

    def binary(self, key: str, size: int) -> None:
        folder, _, rest = key.partition("/")
        obj = FILE_FOLDERS[folder.lower()]
        files = self.files.setdefault(obj, _Files(folder))
        files.add(_binary_id(rest) or "", size)


def _plan_zip(
    plan: _Plan, path: Path, number: int | None, org_id: str | None, backend: str
) -> None:
    """Read a part's central directory, one entry at a time: CSVs become pieces of
    their object's job, runs of other entries become blob jobs. Members that
    overlap another are never planned (a zip bomb's trick)."""
    result = plan.result
    part = PartInfo(path.name, str(path), number, org_id, size=path.stat().st_size)
    result.parts.append(part)

    def bad(kind: str, message: str, member: str | None) -> None:
        part.intact = False
        result.problems.append(
            Problem(kind, f"{path.name}: {message}", part=path.name, member=member)
        )

    names = array.array("Q")
    batch_start, batch_count, batch_weight = -1, 0, 0
    skip: list[int] = []

    def blob_job() -> BlobJob:
        """The run of entries batched so far, as one job."""
        return BlobJob(
            str(path), path.name, batch_start, batch_count, backend, batch_weight, frozenset(skip)
        )

    overlapping: list[str] = []
    try:
        with open(path, "rb") as f:
            cd_offset, count = zipdir.locate(f)
            part.members = count
            overlaps = _overlaps(f, cd_offset, count)
            for i, e in enumerate(zipdir.entries(f, cd_offset, count)):
                if batch_start < 0:
                    batch_start = e.pos
                batch_count += 1
                if overlaps is not None and overlaps[i]:
                    overlapping.append(e.name)
                    skip.append(e.pos)
                elif not e.name.endswith("/"):
                    batch_weight += _plan_entry(plan, part, e, bad, names)
                if batch_weight >= BLOB_BATCH_BYTES or batch_count >= BLOB_BATCH_MEMBERS:
                    plan.blob_jobs.append(blob_job())
                    batch_start, batch_count, batch_weight = -1, 0, 0
                    skip = []
    except (zipdir.ZipDirError, OSError) as exc:
        part.intact = False
        result.problems.append(
            Problem(
                "part-unreadable",
                f"{path.name} is not a readable ZIP ({exc}); download it again",
                part=path.name,
            )
        )
        return
    if batch_count:
        plan.blob_jobs.append(blob_job())
    if overlapping:
        shown = ", ".join(repr(n) for n in list(dict.fromkeys(overlapping))[:3])
        bad(
            "zip-bomb",
            f"{len(overlapping)} member(s) overlap another member's data (a zip bomb's "
            f"trick), e.g. {shown}; not inflated",
            overlapping[0],
        )
    ordered = array.array("Q", sorted(names))
    del names
    dupes = sum(1 for a, b in itertools.pairwise(ordered) if a == b)
    if dupes:
        bad("duplicate-member", f"{dupes} member name(s) appear more than once", None)


def _overlaps(f: Any, cd_offset: int, count: int) -> bytearray | None:
    """Which entries (by index) overlap the data of an entry at a lower offset, or
    None when none do. One pass in the usual case (entries in offset order, each
    after the last one's end); otherwise the entries are sorted by offset."""
    last_end = 0
    for offset, end in zipdir.spans(f, cd_offset, count):
        if offset < last_end:
            break
        last_end = end
    else:
        return None
    # (offset << bits | index) sorts by offset, then by position in the directory.
    bits = max(count.bit_length(), 1)
    mask, top = (1 << bits) - 1, (1 << (64 - bits)) - 1
    keys = array.array("Q")
    ends = array.array("Q")
    for i, (offset, end) in enumerate(zipdir.spans(f, cd_offset, count)):
        keys.append((min(offset, top) << bits) | i)
        ends.append(end)
    flags = bytearray(count)
    reach = 0
    for key in sorted(keys):
        i, start = key & mask, key >> bits
        if start < reach:
            flags[i] = 1
        else:
            reach = max(reach, ends[i])
    return flags


def _plan_entry(
    plan: _Plan,
    part: PartInfo,
    e: zipdir.Entry,
    bad: Callable[[str, str, str | None], None],
    names: array.array[int],
) -> int:
    """Plan one member; returns the compressed bytes a blob job will verify."""
    refused = refusal(e)
    if refused is not None:
        bad(refused[0], refused[1], e.name)
        return 0
    names.append(id_hash(e.name))
    with contextlib.suppress(ValueError):
        when = dt.datetime(*e.date_time)
        if part.exported_at is None or when > part.exported_at:
            part.exported_at = when
    kind, key = _classify(e.name)
    if kind == "csv":
        member = Member(e.name, e.offset, e.csize, e.usize, e.crc, e.method)
        label = f"{part.name}:{e.name}"
        plan.csv_pieces.setdefault(key, []).append(Piece(part.path, label, member))
        return 0
    if kind == "binary":
        plan.binary(key, e.usize)
    return e.csize


def _plan_folder(plan: _Plan, root: Path) -> None:
    """An unpacked export: every CSV and file. File times are not read: copying a
    folder resets them, so they say nothing about when the export was made."""
    result = plan.result
    result.parts.append(PartInfo(root.name, str(root)))
    hashed: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        here = Path(dirpath)
        rel_dir = here.relative_to(root)
        for fname in sorted(filenames):
            full = here / fname
            try:
                st = full.stat()
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            rel = (rel_dir / fname).as_posix()
            kind, key = _classify(rel)
            if kind == "csv":
                plan.csv_pieces.setdefault(key, []).append(Piece(str(full), rel, None, st.st_size))
            elif kind == "binary":
                plan.binary(key, st.st_size)
                if _hashed_id(rel):
                    hashed.append(str(full))
    for i in range(0, len(hashed), BLOB_BATCH_MEMBERS):
        plan.blob_jobs.append(HashJob(tuple(hashed[i : i + BLOB_BATCH_MEMBERS])))


class FoundPart(NamedTuple):
    """A ZIP found for the export: its path, and the part number and org id its name
    gives (None when it is not named ``WE_<orgid>_<n>.ZIP``)."""

    path: Path
    number: int | None
    org_id: str | None


def _part_of(p: Path) -> FoundPart:
    m = PART_NAME.match(p.name)
    return FoundPart(p, int(m.group(2)) if m else None, m.group(1) if m else None)


def _part_order(t: FoundPart) -> tuple[bool, int, str]:
    return (t.number is None, t.number or 0, t.path.name)


def _select_parts(found: list[FoundPart]) -> tuple[list[FoundPart], list[Problem]]:
    """The ZIPs to scan. With numbered parts present, a ZIP not named like a part
    (a browser's ``WE_<org>_1 (1).ZIP``) and a second file of one part are
    findings and are not scanned: their records would be counted twice."""
    found = sorted(found, key=_part_order)
    if all(n is None for _, n, _ in found):
        return found, []
    keep: list[FoundPart] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, int], Path] = {}
    for path, number, org in found:
        if number is None or org is None:
            problems.append(
                Problem(
                    "part-extra",
                    f"{path.name} is not named like a part (WE_<orgid>_<n>.ZIP): not counted; "
                    "if it is a second download of a part, delete it",
                    part=path.name,
                )
            )
            continue
        first = seen.setdefault((org[:15], number), path)
        if first is not path:
            problems.append(
                Problem(
                    "part-duplicate",
                    f"{path.name} is part {number} again (as is {first.name}): only "
                    f"{first.name} is counted",
                    part=path.name,
                    data={"number": number},
                )
            )
            continue
        keep.append(FoundPart(path, number, org))
    return keep, problems


def _discover_many(paths: list[Path]) -> tuple[str, list[FoundPart], list[Problem]]:
    """Several paths are one export: ZIP files, and folders holding ZIP files."""
    found: list[FoundPart] = []
    for p in paths:
        layout, zips, _ = _discover(p)
        if layout == "folder":
            raise InputError(
                f"{p} is an unpacked export: scan it on its own",
                hint="pass either one unpacked folder, or the export's ZIP files",
            )
        found.extend(zips)
    unique = {z.path.resolve(): z for z in found}
    parts, problems = _select_parts(list(unique.values()))
    return "parts", parts, problems


def _discover(root: Path) -> tuple[str, list[FoundPart], list[Problem]]:
    require_export(root)
    if root.is_file():
        return "zip", [_part_of(root)], []
    if not root.is_dir():
        raise InputError(
            f"backup {root} is neither a file nor a folder",
            hint="point backup.path (or --backup / verify-backup PATH) at the WE_*.ZIP files "
            "or the folder holding them",
        )
    zips = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() == ".zip")
    if zips:
        parts, problems = _select_parts([_part_of(p) for p in zips])
        return "parts", parts, problems
    if any(p.suffix.lower() == ".csv" for p in root.rglob("*") if p.is_file()):
        return "folder", [], []
    raise InputError(
        f"no Data Export in {root}: no .ZIP files and no .csv files",
        hint="download every WE_<orgid>_<n>.ZIP from Setup > Data Export into that folder",
    )


def _check_dates(result: ScanResult) -> None:
    """The export is as old as its oldest part; parts dated far apart are not one export."""
    dated = sorted((p.exported_at, p.name) for p in result.parts if p.exported_at is not None)
    if not dated:
        return
    (oldest, old_name), (newest, new_name) = dated[0], dated[-1]
    result.exported_at = oldest
    if newest - oldest > PART_DATE_SPREAD:
        result.problems.append(
            Problem(
                "mixed-exports",
                f"the parts come from different exports: {old_name} is dated "
                f"{oldest:%Y-%m-%d %H:%M}, {new_name} {newest:%Y-%m-%d %H:%M}",
                part=old_name,
                data={"oldest": oldest.isoformat(), "newest": newest.isoformat()},
            )
        )


def _check_parts(result: ScanResult) -> None:
    _check_dates(result)
    numbered = [p for p in result.parts if p.number is not None]
    orgs = sorted({p.org_id for p in numbered if p.org_id})
    result.org_ids = orgs
    prefixes = {o[:15] for o in orgs}
    if len(prefixes) > 1:
        result.problems.append(
            Problem(
                "mixed-orgs",
                f"the parts come from {len(prefixes)} different orgs ({', '.join(orgs)}); "
                "keep one org's export per folder",
            )
        )
    numbers = sorted({p.number for p in numbered if p.number is not None})
    if numbers:
        for n in sorted(set(range(1, numbers[-1] + 1)) - set(numbers)):
            org = orgs[0] if orgs else "<orgid>"
            result.problems.append(
                Problem(
                    "part-missing",
                    f"part {n} of the export is missing (WE_{org}_{n}.ZIP); "
                    f"found parts {', '.join(map(str, numbers))}",
                    part=f"WE_{org}_{n}.ZIP",
                    data={"number": n},
                )
            )
        last = max(numbered, key=lambda p: p.number or 0)
        others = [p.size for p in numbered if p is not last]
        if others and last.size >= 0.9 * max(others):
            result.problems.append(
                Problem(
                    "part-maybe-missing",
                    f"the last part {last.name} is as large as the others "
                    f"({last.size / 1e6:.0f} MB): the export may have more parts",
                    part=last.name,
                    data={"number": last.number, "size": last.size},
                )
            )
