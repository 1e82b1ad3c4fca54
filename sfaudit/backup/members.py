"""ZIP members and the jobs that read them: inflating with CRC and size checks, counting
one object's CSV, verifying and hashing binary files. Jobs are picklable: they cross into
the scanner's worker processes."""

from __future__ import annotations

import hashlib
import os
import queue
import re
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import inflate, zipdir
from .catalog import FILE_FOLDERS, FILE_OBJECTS, HASH_COLUMNS, SIZE_COLUMNS
from .csvcount import CsvStats, RecordCounter
from .model import (
    Problem,
)

READ_SIZE = 1 << 20


OUT_MAX = 4 << 20


#: A member that claims to inflate more than this many times its size is a zip bomb.
MAX_RATIO = 200


#: ...unless it is small enough not to matter.
RATIO_MIN_BYTES = 1 << 20


PART_NAME = re.compile(r"^WE_([0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?)_(\d+)\.zip$", re.IGNORECASE)


_ID = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


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
    #: Inflate large members in a thread while counting (when a core would idle).
    pipeline: bool = False

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


def _init_worker(shared: Any) -> None:
    global _progress
    _progress = _SharedCounter(shared)


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


#: Members at least this large are inflated in a thread of their own while the
#: caller counts (inflating, the CRC and most of the count release the GIL), when
#: the scan has a core to spare (fewer workers than cores).
PIPELINE_MIN = 4 << 20
#: Inflated pieces waiting to be counted (each at most OUT_MAX bytes).
PIPELINE_DEPTH = 2
_DONE = object()


def pipelined(chunks: Iterator[bytes], depth: int = PIPELINE_DEPTH) -> Iterator[bytes]:
    """The same chunks, produced by a thread ahead of the caller: one member is
    inflated on one core while it is counted on another. An exception in the
    producer is raised here, in order; leaving early stops the producer."""
    slots: queue.Queue[Any] = queue.Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        slots.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            item: Any = _DONE
        except BaseException as exc:
            item = exc
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    worker = threading.Thread(target=produce, name="sfaudit-inflate", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _iter_file(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while True:
            buf = f.read(OUT_MAX)
            if not buf:
                return
            _progress.add(len(buf))
            yield buf


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
                    chunks = iter_member(f, piece.member, job.backend)
                    if job.pipeline and piece.member.csize >= PIPELINE_MIN:
                        chunks = pipelined(chunks)
                    for chunk in chunks:
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
    """("csv", object) | ("binary", folder + "/" + rest) | ("other", name).

    A binary file sits under a file folder (``Attachments/00P...``), at the top or,
    in an export unpacked into a folder of its own (``WE_<org>_1/Attachments/00P...``),
    right under its parent or under a record-Id folder there
    (``ContentVersion/068.../report.pdf``)."""
    slash = name.find("/")
    if 0 < slash < len(name) - 1 and name[:slash].lower() in FILE_FOLDERS:
        return "binary", name
    parts = name.split("/")
    dirs = parts[:-1]
    for depth in (1, 2):
        if (
            len(dirs) >= depth
            and dirs[-depth].lower() in FILE_FOLDERS
            and (depth == 1 or _ID.match(dirs[-1]))
        ):
            return "binary", "/".join(parts[len(dirs) - depth :])
    base = parts[-1]
    if base.lower().endswith(".csv"):
        return "csv", base[:-4]
    return "other", name
