"""Scan a Salesforce Data Export: every ZIP member inflated and CRC-checked, every
object CSV counted exactly, binary files matched to their rows.

Nothing is extracted and no member is held in memory: members are read in
1 MiB slices, inflated in pieces of at most 4 MiB and counted as they come.
Objects (a CSV, with its pieces in later parts) and batches of binary files are
jobs, run on every core by a process pool (inflating releases the GIL, but
counting is Python: processes beat threads here).
"""

from __future__ import annotations

import array
import bisect
import concurrent.futures as cf
import contextlib
import datetime as dt
import hashlib
import itertools
import multiprocessing
import os
import re
import stat
import struct
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from . import inflate, zipdir
from .catalog import FILE_FOLDERS, FILE_OBJECTS, FOLDER_OF, HASH_COLUMNS, SIZE_COLUMNS
from .csvcount import AUTO, CsvStats, RecordCounter, id_hash, is_single_byte
from .model import (
    COUNT_KINDS,
    FileSet,
    ObjectStats,
    PartInfo,
    Problem,
    ScanResult,
    require_export,
)

READ_SIZE = 1 << 20
OUT_MAX = 4 << 20
#: A member that claims to inflate more than this many times its size is a zip bomb.
MAX_RATIO = 200
#: ...unless it is small enough not to matter.
RATIO_MIN_BYTES = 1 << 20
#: Below this much compressed data, scanning in-process beats starting workers.
POOL_MIN_BYTES = 32 << 20
BLOB_BATCH_BYTES = 64 << 20
BLOB_BATCH_MEMBERS = 4000
SAMPLE = 20
#: Parts whose newest members are further apart than this come from different exports.
PART_DATE_SPREAD = dt.timedelta(days=1)

PART_NAME = re.compile(r"^WE_([0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?)_(\d+)\.zip$", re.IGNORECASE)
_ID = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


# --- jobs (picklable: they cross into worker processes) ----------------------


@dataclass(frozen=True, slots=True)
class Member:
    """A ZIP member, as its central directory describes it."""

    name: str
    offset: int
    csize: int
    usize: int
    crc: int
    method: int


@dataclass(frozen=True)
class Piece:
    """Where a job reads from: a ZIP member, or (``member`` None) a plain file."""

    path: str
    label: str
    member: Member | None = None
    size: int = 0


@dataclass(frozen=True)
class CsvJob:
    object: str
    pieces: tuple[Piece, ...]
    encoding: str
    backend: str

    @property
    def weight(self) -> int:
        return sum(p.member.csize if p.member else p.size for p in self.pieces)


@dataclass(frozen=True)
class BlobJob:
    """A run of central-directory entries of one part; the worker re-reads them and
    verifies every member that is not a CSV and passed :func:`refusal`."""

    path: str
    part: str
    start: int
    count: int
    backend: str
    weight: int = 0
    #: Positions of entries never to read (members overlapping another).
    skip: frozenset[int] = frozenset()


@dataclass(frozen=True)
class HashJob:
    """Files of an unpacked export to hash (ContentBody blobs, checked against their MD5)."""

    paths: tuple[str, ...]

    @property
    def weight(self) -> int:
        return sum(_file_size(p) for p in self.paths)


@dataclass
class JobResult:
    object: str | None = None
    stats: CsvStats | None = None
    problems: list[Problem] = field(default_factory=list)
    bytes_read: int = 0
    bytes_out: int = 0
    sources: list[str] = field(default_factory=list)
    failed_members: int = 0
    #: (record Id, MD5) of every hashed file that read cleanly.
    hashes: list[tuple[str, bytes]] = field(default_factory=list)


class MemberError(Exception):
    """A member that cannot be verified; ``kind`` is the problem kind."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


# --- progress shared with workers --------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.value = 0

    def add(self, n: int) -> None:
        self.value += n


class _SharedCounter:
    def __init__(self, value: Any) -> None:
        self._v = value

    def add(self, n: int) -> None:
        with self._v.get_lock():
            self._v.value += n

    @property
    def value(self) -> int:
        return int(self._v.value)


_progress: _Counter | _SharedCounter = _Counter()


def _pool_context() -> Any:
    """forkserver where it exists: forking a process that runs threads (a
    progress bar, a test server) can deadlock the child; the server starts
    from a clean, single-threaded process with the scanner already imported."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context()


def _init_worker(shared: Any) -> None:
    global _progress
    _progress = _SharedCounter(shared)


# --- reading members ---------------------------------------------------------


def _data_offset(f: Any, member: Member) -> int:
    f.seek(member.offset)
    header = f.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise MemberError("corrupt", f"{member.name}: its local header is missing or damaged")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return int(member.offset + 30 + name_len + extra_len)


def iter_member(
    f: Any, member: Member, backend: str, *, read_size: int = READ_SIZE, out_max: int = OUT_MAX
) -> Iterator[bytes]:
    """The inflated bytes of ``member``, in pieces of at most ``out_max``; raises
    MemberError when the data is corrupt, its CRC or size does not match, or it
    inflates too far."""
    if member.method not in (0, 8):  # refusal() keeps these out; never inflate them
        raise MemberError("unsupported", f"{member.name}: compression method {member.method}")
    f.seek(_data_offset(f, member))
    remaining = member.csize
    total = 0
    running = 0
    progress = _progress
    if member.method == 0:
        crc32 = inflate.crc32_function()
        while remaining:
            buf = f.read(min(read_size, remaining))
            if not buf:
                raise MemberError("corrupt", f"{member.name}: the data ends early (truncated)")
            remaining -= len(buf)
            progress.add(len(buf))
            running = crc32(buf, running)
            total += len(buf)
            yield buf
        final = running
    else:
        inflater = inflate.make(backend)
        try:
            while remaining and not inflater.eof:
                buf = f.read(min(read_size, remaining))
                if not buf:
                    raise MemberError("corrupt", f"{member.name}: the data ends early (truncated)")
                remaining -= len(buf)
                progress.add(len(buf))
                while True:
                    out = inflater.decompress(buf, out_max)
                    buf = b""
                    if out:
                        total += len(out)
                        if total > member.usize:
                            raise MemberError(
                                "zip-bomb",
                                f"{member.name}: inflates beyond its declared {member.usize} bytes",
                            )
                        running = inflater.crc(out, running)
                        yield out
                    if inflater.needs_input:
                        break
        except MemberError:
            raise
        except Exception as exc:  # zlib.error, isal's IsalError, zlib-ng's error
            raise MemberError(
                "corrupt", f"{member.name}: the compressed data is corrupt ({exc})"
            ) from None
        if not inflater.eof:
            raise MemberError("corrupt", f"{member.name}: the compressed data ends early")
        final = inflater.final_crc(running)
    if total != member.usize:
        raise MemberError(
            "corrupt", f"{member.name}: {total} bytes inflated, {member.usize} declared"
        )
    if final != member.crc:
        raise MemberError(
            "crc", f"{member.name}: CRC-32 mismatch ({final:08x}, expected {member.crc:08x})"
        )


def _iter_file(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while True:
            buf = f.read(OUT_MAX)
            if not buf:
                return
            _progress.add(len(buf))
            yield buf


# --- running jobs ------------------------------------------------------------


Job = CsvJob | BlobJob | HashJob


def run_job(job: Job) -> JobResult:
    """Run one job (in a worker process or in-process)."""
    if isinstance(job, CsvJob):
        return _run_csv(job)
    if isinstance(job, HashJob):
        return _run_hashes(job)
    return _run_blobs(job)


def _run_csv(job: CsvJob) -> JobResult:
    result = JobResult(object=job.object)
    counter = RecordCounter(
        job.pieces[0].label,
        job.encoding,
        collect_id=job.object in FILE_OBJECTS,
        size_column=SIZE_COLUMNS.get(job.object),
        hash_column=HASH_COLUMNS.get(job.object),
    )
    for piece in job.pieces:
        counter.new_piece()
        counter.name = piece.label
        result.sources.append(piece.label)
        try:
            if piece.member is None:
                for chunk in _iter_file(piece.path):
                    counter.feed(chunk)
                    result.bytes_read += len(chunk)
            else:
                result.bytes_read += piece.member.csize
                with open(piece.path, "rb") as f:
                    for chunk in iter_member(f, piece.member, job.backend):
                        counter.feed(chunk)
        except MemberError as exc:
            result.failed_members += 1
            result.problems.append(
                Problem(
                    exc.kind,
                    f"{Path(piece.path).name}: {exc}",
                    part=Path(piece.path).name,
                    member=piece.member.name if piece.member else None,
                    object=job.object,
                )
            )
        except OSError as exc:
            result.failed_members += 1
            result.problems.append(
                Problem("corrupt", f"{piece.label}: cannot be read ({exc})", object=job.object)
            )
    counter.name = job.pieces[-1].label
    stats = counter.finish()
    result.stats = stats
    result.bytes_out = stats.bytes
    if not result.failed_members:  # else the member's own problem says it all
        for issue in stats.issues:
            result.problems.append(Problem(issue.kind, issue.message, object=job.object))
    return result


def _run_blobs(job: BlobJob) -> JobResult:
    result = JobResult()
    with open(job.path, "rb") as f:
        todo = [
            e
            for e in zipdir.entries(f, job.start, job.count)
            if not e.name.endswith("/")
            and e.pos not in job.skip
            and refusal(e) is None
            and _classify(e.name)[0] != "csv"
        ]
        for e in todo:
            member = Member(e.name, e.offset, e.csize, e.usize, e.crc, e.method)
            result.bytes_read += member.csize
            rid = _hashed_id(e.name)
            digest = hashlib.md5(usedforsecurity=False) if rid else None
            try:
                for chunk in iter_member(f, member, job.backend):
                    result.bytes_out += len(chunk)
                    if digest is not None:
                        digest.update(chunk)
                if rid and digest is not None:
                    result.hashes.append((rid, digest.digest()))
            except MemberError as exc:
                result.failed_members += 1
                result.problems.append(
                    Problem(exc.kind, f"{job.part}: {exc}", part=job.part, member=member.name)
                )
    return result


def _run_hashes(job: HashJob) -> JobResult:
    result = JobResult()
    for path in job.paths:
        digest = hashlib.md5(usedforsecurity=False)
        try:
            for chunk in _iter_file(path):
                result.bytes_read += len(chunk)
                digest.update(chunk)
        except OSError as exc:
            result.problems.append(Problem("corrupt", f"{path}: cannot be read ({exc})"))
            continue
        rid = _binary_id(Path(path).name)
        if rid:
            result.hashes.append((rid, digest.digest()))
    return result


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _hashed_id(name: str) -> str | None:
    """The record Id of a file whose MD5 its CSV states (ContentBody), else None."""
    kind, key = _classify(name)
    if kind != "binary":
        return None
    folder, _, rest = key.partition("/")
    if FILE_FOLDERS[folder.lower()] not in HASH_COLUMNS:
        return None
    return _binary_id(rest)


def refusal(e: zipdir.Entry) -> tuple[str, str] | None:
    """Why a member is not read at all (kind, message), or None."""
    if _unsafe(e.name):
        return "unsafe-name", f"member {e.name!r} would be written outside the folder (zip-slip)"
    if "\x00" in e.name:
        return "unsafe-name", f"member {e.name!r} has a NUL byte in its name: not read"
    if e.flags & 0x1:
        return "encrypted", f"{e.name} is encrypted: it cannot be verified or read"
    if e.method not in (0, 8):
        # Salesforce only stores or deflates; other methods would need zipfile,
        # which inflates without an output limit.
        return (
            "unsupported",
            f"{e.name} uses compression method {e.method} (Salesforce writes only stored "
            "or deflated members): not read",
        )
    if e.usize > RATIO_MIN_BYTES and e.usize > MAX_RATIO * max(e.csize, 1):
        ratio = e.usize // max(e.csize, 1)
        return (
            "zip-bomb",
            f"{e.name} claims a {ratio}:1 compression ratio (zip bomb?); not inflated",
        )
    return None


# --- discovering the export --------------------------------------------------


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


def _unsafe(name: str) -> bool:
    if name.startswith(("/", "\\")) or name[1:2] == ":":
        return True
    return ".." in name and ".." in name.replace("\\", "/").split("/")


def _binary_id(rest: str) -> str | None:
    """The record Id a binary file belongs to, from its path under the folder."""
    for component in reversed([c for c in rest.split("/") if c]):
        stem = component.split(".", 1)[0]
        if _ID.match(stem):
            return stem[:15]
    return None


def _classify(name: str) -> tuple[str, str]:
    """("csv", object) | ("binary", folder + "/" + rest) | ("other", name)."""
    slash = name.find("/")
    if 0 < slash < len(name) - 1 and name[:slash].lower() in FILE_FOLDERS:
        return "binary", name
    base = name[name.rfind("/") + 1 :]
    if base.lower().endswith(".csv"):
        return "csv", base[:-4]
    return "other", name


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


_Found = tuple[Path, int | None, str | None]


def _part_of(p: Path) -> _Found:
    m = PART_NAME.match(p.name)
    return (p, int(m.group(2)) if m else None, m.group(1) if m else None)


def _part_order(t: _Found) -> tuple[bool, int, str]:
    return (t[1] is None, t[1] or 0, t[0].name)


def _select_parts(found: list[_Found]) -> tuple[list[_Found], list[Problem]]:
    """The ZIPs to scan. With numbered parts present, a ZIP not named like a part
    (a browser's ``WE_<org>_1 (1).ZIP``) and a second file of one part are
    findings and are not scanned: their records would be counted twice."""
    found = sorted(found, key=_part_order)
    if all(n is None for _, n, _ in found):
        return found, []
    keep: list[_Found] = []
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
        keep.append((path, number, org))
    return keep, problems


def _discover_many(paths: list[Path]) -> tuple[str, list[_Found], list[Problem]]:
    """Several paths are one export: ZIP files, and folders holding ZIP files."""
    found: list[_Found] = []
    for p in paths:
        layout, zips, _ = _discover(p)
        if layout == "folder":
            raise InputError(
                f"{p} is an unpacked export: scan it on its own",
                hint="pass either one unpacked folder, or the export's ZIP files",
            )
        found.extend(zips)
    unique = {z[0].resolve(): z for z in found}
    parts, problems = _select_parts(list(unique.values()))
    return "parts", parts, problems


def _discover(root: Path) -> tuple[str, list[_Found], list[Problem]]:
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


def _encoding_note(result: ScanResult) -> None:
    """A single-byte export is complete; say so once, and what it costs."""
    single = sorted(
        o.name for o in result.objects.values() if o.intact and is_single_byte(o.encoding)
    )
    declared = result.encoding
    if not single and not is_single_byte(declared):
        return
    what = (
        f"{declared.upper()} (as set)"
        if is_single_byte(declared)
        else "a single-byte Western encoding (ISO-8859-1 or Windows-1252)"
    )
    shown = ", ".join(single[:5]) + (f" and {len(single) - 5} more" if len(single) > 5 else "")
    held = f"; {len(single)} CSV(s) hold text in it ({shown})" if single else ""
    result.problems.append(
        Problem(
            "encoding-note",
            f"the export is in {what}{held}: it was counted exactly, but Salesforce "
            "replaced every character that encoding cannot hold with '?'",
            data={"objects": single[:SAMPLE], "encoding": declared},
        )
    )


# --- the scan ----------------------------------------------------------------


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def scan(
    path: str | Path | Sequence[str | Path],
    *,
    encoding: str = AUTO,
    workers: int | None = None,
    progress: bool | None = None,
    backend: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Scan the Data Export at ``path`` (a folder of WE_*.ZIP parts, one ZIP, or
    an unpacked folder; or a list of ZIPs and folders of ZIPs: one export).

    :param encoding: the export's encoding, or ``auto`` (each CSV's is detected).
    :param workers: processes to use; default every core. 1 scans in-process.
    :param progress: show a progress bar; default only when stderr is a terminal.
    :param backend: inflate backend (``isal``, ``zlib-ng``, ``zlib``); default the fastest.
    :param on_progress: called with (bytes done, bytes total) as the scan advances.
    """
    paths = [Path(p) for p in ([path] if isinstance(path, (str, Path)) else path)]
    if not paths:
        raise InputError("no backup path given")
    root = paths[0]
    started = time.perf_counter()
    layout, zips, skipped = _discover(root) if len(paths) == 1 else _discover_many(paths)
    chosen = inflate.choose(backend)
    result = ScanResult(
        path=", ".join(map(str, paths)),
        layout=layout,
        backend=chosen,
        backend_note=inflate.note(chosen),
        encoding=encoding,
    )
    result.problems.extend(skipped)
    plan = _Plan(result)
    if layout == "folder":
        _plan_folder(plan, root)
    else:
        for zpath, number, org_id in zips:
            _plan_zip(plan, zpath, number, org_id, chosen)
        _check_parts(result)
    jobs: list[Job] = [
        CsvJob(obj, tuple(pieces), encoding, chosen) for obj, pieces in plan.csv_pieces.items()
    ]
    jobs.extend(plan.blob_jobs)
    jobs.sort(key=lambda j: -j.weight)
    total = sum(j.weight for j in jobs)
    n_workers = max(1, min(workers or default_workers(), len(jobs)))
    if total < POOL_MIN_BYTES and workers is None:
        n_workers = 1
    result.workers = n_workers
    show = sys.stderr.isatty() if progress is None else progress
    results = _execute(jobs, n_workers, total, show, on_progress)
    id_lists: dict[str, CsvStats] = {}
    hashes: dict[int, bytes] = {}
    for res in results:
        result.problems.extend(res.problems)
        hashes.update((id_hash(rid), digest) for rid, digest in res.hashes)
        result.bytes_read += res.bytes_read
        result.bytes_inflated += res.bytes_out
        if res.object is None or res.stats is None:
            continue
        stats = res.stats
        reliable = res.failed_members == 0 and not any(p.kind in COUNT_KINDS for p in res.problems)
        result.objects[res.object] = ObjectStats(
            name=res.object,
            records=stats.records,
            bytes=stats.bytes,
            sources=res.sources,
            header=stats.header,
            encoding=stats.encoding,
            intact=reliable,
        )
        if stats.id_keys is not None:
            id_lists[res.object] = stats
    for part in result.parts:
        if any(p.part == part.name and p.kind in ("crc", "corrupt") for p in result.problems):
            part.intact = False
    _match_files(plan, id_lists, hashes)
    _encoding_note(result)
    if not plan.csv_pieces and layout != "folder" and all(p.intact for p in result.parts):
        result.problems.append(
            Problem("no-csv", "the export holds no object CSV at all: it is not a Data Export")
        )
    result.seconds = time.perf_counter() - started
    return result


def _execute(
    jobs: list[Job],
    n_workers: int,
    total: int,
    show: bool,
    on_progress: Callable[[int, int], None] | None,
) -> list[JobResult]:
    global _progress
    bar: _Bar | None = None
    try:
        if n_workers == 1:
            bar = _Bar(total) if show and total else None
            _progress = counter = _Counter()
            out = []
            for job in jobs:
                out.append(run_job(job))
                if bar:
                    bar.update(counter.value)
                if on_progress:
                    on_progress(counter.value, total)
            return out
        ctx = _pool_context()
        shared = ctx.Value("q", 0)
        done_results: dict[int, JobResult] = {}
        with cf.ProcessPoolExecutor(
            max_workers=n_workers, mp_context=ctx, initializer=_init_worker, initargs=(shared,)
        ) as pool:
            futures = {pool.submit(run_job, job): i for i, job in enumerate(jobs)}
            # Workers start on the first submit: start the bar's thread after.
            bar = _Bar(total) if show and total else None
            pending = set(futures)
            while pending:
                finished, pending = cf.wait(pending, timeout=0.2)
                for fut in finished:
                    try:
                        done_results[futures[fut]] = fut.result()
                    except BrokenProcessPool as exc:
                        raise InputError(f"a scanner worker died: {exc}") from None
                if bar:
                    bar.update(int(shared.value))
                if on_progress:
                    on_progress(int(shared.value), total)
        return [done_results[i] for i in range(len(jobs))]
    finally:
        _progress = _Counter()
        if bar:
            bar.close()


class _Bar:
    """A rich progress bar on stderr: bytes, rate and time left."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("verifying backup"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("scan", total=total)
        self._progress.start()

    def update(self, done: int) -> None:
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        self._progress.stop()
