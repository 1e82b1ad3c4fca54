"""A streaming reader of a ZIP's central directory.

:mod:`zipfile` builds a ``ZipInfo`` object (and a name index) for every member
before it answers anything: about a kilobyte per member, so an export with a
million attachment files would need a gigabyte. This reader yields one entry at
a time, so memory stays flat however many members a part holds, and a worker
can re-read any run of entries from where it starts.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR = struct.Struct("<4sLQL")
_ENTRY = struct.Struct("<4s6H3L5H2L")
_BLOCK = 1 << 20


class ZipDirError(Exception):
    """The file has no readable central directory (not a ZIP, or truncated)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One central-directory record; ``pos`` is where the record starts in the file."""

    name: str
    offset: int
    csize: int
    usize: int
    crc: int
    method: int
    flags: int
    date_time: tuple[int, int, int, int, int, int]
    pos: int


def locate(f: BinaryIO) -> tuple[int, int]:
    """(offset of the central directory, number of entries)."""
    f.seek(0, 2)
    size = f.tell()
    tail_len = min(size, _EOCD.size + 65535)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise ZipDirError("no end-of-central-directory record: not a ZIP, or truncated")
    _sig, _disk, _cd_disk, _n_here, count, cd_size, cd_offset, _clen = _EOCD.unpack_from(tail, at)
    if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        if at < _LOCATOR.size:
            raise ZipDirError("the ZIP64 locator is missing")
        sig, _d, eocd64, _disks = _LOCATOR.unpack_from(tail, at - _LOCATOR.size)
        if sig != b"PK\x06\x07":
            raise ZipDirError("the ZIP64 locator is damaged")
        f.seek(eocd64)
        raw = f.read(_EOCD64.size)
        if len(raw) < _EOCD64.size or raw[:4] != b"PK\x06\x06":
            raise ZipDirError("the ZIP64 end record is missing or damaged")
        fields = _EOCD64.unpack(raw)
        count, cd_size, cd_offset = fields[7], fields[8], fields[9]
    if cd_offset + cd_size > size:
        raise ZipDirError(
            f"the central directory ({cd_size} bytes at {cd_offset}) lies past the end of "
            f"the file ({size} bytes): truncated"
        )
    return cd_offset, count


def _records(f: BinaryIO, start: int, count: int) -> Iterator[tuple[bytes, int, int]]:
    """Each of ``count`` central-directory records from ``start``, whole in memory:
    ``(buf, i, position)`` with the record at ``buf[i:]`` and ``position`` in the file."""
    f.seek(start)
    buf = b""
    base = start  # file position of buf[0]
    i = 0
    for _ in range(count):
        if len(buf) - i < _ENTRY.size:
            buf = buf[i:] + f.read(_BLOCK)
            base += i
            i = 0
        if len(buf) - i < _ENTRY.size or buf[i : i + 4] != b"PK\x01\x02":
            raise ZipDirError(f"central directory record {base + i} is damaged")
        name_len, extra_len, comment_len = _LENGTHS.unpack_from(buf, i + 28)
        need = _ENTRY.size + name_len + extra_len + comment_len
        if len(buf) - i < need:
            buf = buf[i:] + f.read(max(_BLOCK, need))
            base += i
            i = 0
            if len(buf) < need:
                raise ZipDirError("the central directory ends early")
        yield buf, i, base + i
        i += need


def entries(f: BinaryIO, start: int, count: int) -> Iterator[Entry]:
    """``count`` entries from the central-directory record at ``start``."""
    for buf, i, position in _records(f, start, count):
        (
            _sig,
            _made,
            _need,
            flags,
            method,
            mtime,
            mdate,
            crc,
            csize,
            usize,
            name_len,
            extra_len,
            _comment_len,
            _disk,
            _iattr,
            _eattr,
            offset,
        ) = _ENTRY.unpack_from(buf, i)
        raw_name = buf[i + _ENTRY.size : i + _ENTRY.size + name_len]
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if 0xFFFFFFFF in (csize, usize, offset):
            extra = buf[i + _ENTRY.size + name_len : i + _ENTRY.size + name_len + extra_len]
            usize, csize, offset = _zip64(extra, usize, csize, offset)
        date_time = (
            (mdate >> 9) + 1980,
            (mdate >> 5) & 0xF,
            mdate & 0x1F,
            mtime >> 11,
            (mtime >> 5) & 0x3F,
            (mtime & 0x1F) * 2,
        )
        yield Entry(name, offset, csize, usize, crc, method, flags, date_time, position)


def spans(f: BinaryIO, start: int, count: int) -> Iterator[tuple[int, int]]:
    """(offset, end) of each of ``count`` members from the record at ``start``: where its
    local header starts and where its data ends (by the central directory's lengths).
    The overlap test's fast path: no name decoding and no :class:`Entry`."""
    unpack = _SPAN.unpack_from
    for buf, i, _ in _records(f, start, count):
        csize, usize, name_len, extra_len, _ = unpack(buf, i + 20)
        offset = _OFFSET.unpack_from(buf, i + 42)[0]
        if 0xFFFFFFFF in (csize, usize, offset):
            at = i + _ENTRY.size + name_len
            usize, csize, offset = _zip64(buf[at : at + extra_len], usize, csize, offset)
        yield offset, offset + 30 + name_len + csize


_SPAN = struct.Struct("<2L3H")
_LENGTHS = struct.Struct("<3H")
_OFFSET = struct.Struct("<L")


def _zip64(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 1:
            data = extra[pos + 4 : pos + 4 + size]
            values = [struct.unpack_from("<Q", data, k)[0] for k in range(0, len(data) - 7, 8)]
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        pos += 4 + size
    return usize, csize, offset
