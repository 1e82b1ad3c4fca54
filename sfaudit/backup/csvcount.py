"""Exact, streaming record counts for Salesforce Data Export CSVs.

A newline ends a record only outside quotes, and a newline is outside quotes
exactly when the number of ``"`` before it is even (doubled quotes inside a
field add two). So counting needs, per line, one ``bytes.find`` and one
``bytes.count`` in C, never a Python loop over characters. Chunks are fed as
they are inflated; only the header, the last record and the current partial
record are kept, each capped at :data:`KEEP_CAP` bytes.
"""

from __future__ import annotations

import array
import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field

#: Longest header or record kept for checks (the field-count test of the last row).
KEEP_CAP = 4 << 20
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NOT_ASCII = bytes(range(128))
#: UTF-8 is validated in full for the first bytes of a CSV, then one chunk in this many.
UTF8_FULL_BYTES = 8 << 20
UTF8_SAMPLE_EVERY = 8
_CONTINUATION = bytes(range(0x80, 0xC0))
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass
class CsvIssue:
    """Something wrong with one CSV: ``kind`` is a stable key, ``message`` says what."""

    kind: str
    message: str


@dataclass
class CsvStats:
    """What counting one CSV (possibly in several pieces) found."""

    records: int = 0
    bytes: int = 0
    header: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    issues: list[CsvIssue] = field(default_factory=list)
    #: With ``collect_id``: an 8-byte key per row's Id, and the Ids themselves
    #: (15 bytes each), so a million rows cost 23 MB, not a list of strings.
    id_keys: array.array[int] | None = None
    id_text: bytearray | None = None
    #: With ``collect_id``: whether the header has an Id column (any case).
    id_column: bool = False

    def id_at(self, i: int) -> str:
        """The (15-character) Id of row ``i``."""
        text = self.id_text or b""
        return bytes(text[i * 15 : i * 15 + 15]).decode("ascii", "replace").rstrip()


def id_hash(rid: str) -> int:
    """A stable 64-bit key for a record Id (the same in every worker process)."""
    return int.from_bytes(hashlib.blake2b(rid.encode(), digest_size=8).digest(), "little")


def parse_record(raw: bytes, encoding: str) -> list[str]:
    """The fields of one complete CSV record (RFC 4180 quoting)."""
    text = raw.decode(encoding, errors="replace")
    try:
        return next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return []


class RecordCounter:
    """Counts the records of one CSV stream fed in chunks of bytes.

    :param name: the file, for messages.
    :param encoding: the export's encoding; ``utf-8`` is validated.
    :param collect_id: collect the 15-character prefix of the ``Id`` column
        (for Attachment, Document and ContentVersion, matched to files).
    """

    def __init__(self, name: str, encoding: str = "utf-8", *, collect_id: bool = False) -> None:
        self.name = name
        self.encoding = encoding.lower().replace("_", "-")
        self.validate_utf8 = self.encoding in ("utf-8", "utf8")
        self.stats = CsvStats(encoding=self.encoding)
        self._odd = False  # inside quotes
        self._carry = b""  # the record being read (capped)
        self._carry_len = 0  # its true length
        self._last = b""  # the last complete record
        self._last_known = True
        self._header_raw: bytes | None = None
        self._header_line = b""  # header bytes with terminator, to drop repeated headers
        self._started = False
        self._piece_start = True
        self._head = b""
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._utf8_chunks = 0
        self._utf8_bytes = 0
        self._utf8_resume = False
        self._utf16: codecs.IncrementalDecoder | None = None
        self._nul_reported = False
        self._utf8_reported = False
        self._collect_id = collect_id
        self._id_index = -1
        self._id_buf = b""
        if collect_id:
            self.stats.id_keys = array.array("Q")
            self.stats.id_text = bytearray()

    # --- feeding --------------------------------------------------------------

    def new_piece(self) -> None:
        """The next chunk starts another piece (the same object's CSV in a later part)."""
        self._flush_head()
        self._piece_start = True

    def _flush_head(self) -> None:
        if self._piece_start and self._head:
            head, self._head = self._head, b""
            chunk = self._start_piece(head)
            self._piece_start = False
            self.feed(chunk)
        self._piece_start = False

    def feed(self, chunk: bytes) -> None:
        """Count the records that end in ``chunk``."""
        if not chunk:
            return
        if self._piece_start:
            # Gather enough bytes to recognise a BOM or a repeated header row.
            self._head += chunk
            need = len(self._header_line) + 3 if self._started else 4
            if len(self._head) < need:
                return
            chunk, self._head = self._start_piece(self._head), b""
            if not chunk:
                return
        if self._utf16 is not None:
            chunk = self._decode_utf16(chunk, final=False)
        self.stats.bytes += len(chunk)
        if not self._nul_reported and b"\x00" in chunk:
            self._nul_reported = True
            at = self.stats.bytes - len(chunk) + chunk.index(b"\x00")
            self._issue(
                "binary",
                f"{self.name} is not a CSV: binary content (a NUL byte at byte {at})",
            )
        if self.validate_utf8 and not self._utf8_reported and not chunk.isascii():
            self._check_utf8(chunk)
        if self._header_raw is None:
            chunk = self._read_header(chunk)
            if not chunk:
                return
        self._count(chunk)

    def _start_piece(self, chunk: bytes) -> bytes:
        """Drop a BOM and, in later pieces, a repeated header row."""
        self._piece_start = False
        if not self._started:
            self._started = True
            for bom, enc in _BOMS:
                if chunk.startswith(bom):
                    chunk = chunk[len(bom) :]
                    if enc != "utf-8":
                        self._utf16 = codecs.getincrementaldecoder(enc)()
                        self.encoding = self.stats.encoding = enc
                        self.validate_utf8 = False
                    break
            return chunk
        if chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[3:]
        if (
            self._header_line
            and not self._odd
            and self._carry_len == 0
            and chunk.startswith(self._header_line)
        ):
            chunk = chunk[len(self._header_line) :]
        return chunk

    def _decode_utf16(self, chunk: bytes, *, final: bool) -> bytes:
        """UTF-16 as UTF-8; damaged or cut text is replaced (U+FFFD) and reported once."""
        decoder = self._utf16
        assert decoder is not None
        try:
            return decoder.decode(chunk, final).encode("utf-8")
        except UnicodeDecodeError as exc:
            decoder.errors = "replace"
            if final and exc.reason == "truncated data":
                self._issue(
                    "truncated",
                    f"{self.name} is cut: it ends in the middle of a UTF-16 character",
                )
            else:
                self._issue(
                    "malformed",
                    f"{self.name} is not valid {self.encoding.upper()} ({exc.reason}): "
                    "the file is damaged",
                )
            return decoder.decode(chunk, final).encode("utf-8")

    def _check_utf8(self, chunk: bytes) -> None:
        """Validate UTF-8 on the non-ASCII bytes only (ASCII never joins a sequence)."""
        self._utf8_chunks += 1
        if self._utf8_bytes > UTF8_FULL_BYTES and self._utf8_chunks % UTF8_SAMPLE_EVERY:
            self._utf8_resume = True
            return
        self._utf8_bytes += len(chunk)
        residue = chunk.translate(None, _NOT_ASCII)
        if self._utf8_resume:
            self._utf8_resume = False
            self._utf8 = codecs.getincrementaldecoder("utf-8")()
            residue = residue.lstrip(_CONTINUATION)
        try:
            self._utf8.decode(residue)
        except UnicodeDecodeError:
            self._utf8_reported = True
            try:
                chunk.decode("utf-8")
                at = ""
            except UnicodeDecodeError as exc:
                at = f" at byte {self.stats.bytes - len(chunk) + exc.start}"
            self._issue(
                "encoding",
                f"{self.name} is not valid UTF-8{at}: it looks like ISO-8859-1 or "
                "Windows-1252 read as UTF-8",
            )

    def _read_header(self, chunk: bytes) -> bytes:
        """Find the header record; returns what follows it."""
        data = self._carry + chunk
        pos, odd = 0, False
        while True:
            nl = data.find(b"\n", pos)
            if nl < 0:
                self._odd = odd ^ bool(data.count(b'"', pos) & 1)
                self._carry = data[:KEEP_CAP]
                self._carry_len += len(chunk)
                return b""
            if data.count(b'"', pos, nl) & 1:
                odd = not odd
            pos = nl + 1
            if not odd:
                break
        self._odd = False
        self._header_raw = data[: nl + 1].rstrip(b"\r\n")
        self._header_line = data[: nl + 1]
        self._carry, self._carry_len = b"", 0
        self._set_header(self._header_raw)
        return data[nl + 1 :]

    def _set_header(self, raw: bytes) -> None:
        names = parse_record(raw, self._text_encoding)
        self.stats.header = names
        if self._collect_id:
            lowered = [n.strip().lower() for n in names]
            self._id_index = lowered.index("id") if "id" in lowered else -1
            self.stats.id_column = self._id_index >= 0
        if self._nul_reported:
            return
        bad = [n for n in names if not _API_NAME.match(n)]
        if not names or bad:
            shown = ", ".join(repr(n[:40]) for n in bad[:3]) or "(none)"
            self._issue(
                "header",
                f"{self.name}: the header is not a row of API field names ({shown})",
            )
        lowered = [n.lower() for n in names]
        dupes = sorted({n for n, low in zip(names, lowered, strict=True) if lowered.count(low) > 1})
        if dupes:
            self._issue("duplicate-column", f"{self.name}: duplicate columns {', '.join(dupes)}")

    @property
    def _text_encoding(self) -> str:
        return "utf-8" if self._utf16 is not None else self.encoding

    def _count(self, ch: bytes) -> None:
        """Count the record ends in ``ch``: per line, one ``find`` and one ``count``
        in C. (Measured: faster than reducing the chunk to quotes and line feeds
        with ``translate`` and splitting, at 300 MB/s, for every line length but
        the narrowest objects.)"""
        find, count = ch.find, ch.count
        odd = self._odd
        pending = self._carry_len > 0
        pos = 0
        last_end = prev_end = -1
        n = 0
        while True:
            nl = find(b"\n", pos)
            if nl < 0:
                break
            if count(b'"', pos, nl) & 1:
                odd = not odd
            if not odd:
                if (
                    nl - last_end > 2
                    or (last_end < 0 and pending)
                    or (nl > last_end + 1 and ch[last_end + 1] != 13)
                ):
                    n += 1
                prev_end = last_end
                last_end = nl
            pos = nl + 1
        if count(b'"', pos) & 1:
            odd = not odd
        self._odd = odd
        self.stats.records += n
        if last_end < 0:
            self._extend_carry(ch)
        else:
            self._settle(ch, last_end, prev_end)

    def _extend_carry(self, ch: bytes) -> None:
        if self._collect_id:
            self._id_buf += ch
        if self._carry_len < KEEP_CAP:
            self._carry += ch[: KEEP_CAP - self._carry_len]
        self._carry_len += len(ch)

    def _settle(self, ch: bytes, last_end: int, prev_end: int) -> None:
        """Keep the last complete record and the start of the next one."""
        if self._collect_id:
            self._collect(ch[: last_end + 1])
            self._id_buf = ch[last_end + 1 :]
        if prev_end < 0:
            self._last_known = self._carry_len + last_end <= KEEP_CAP
            self._last = self._carry + ch[:last_end] if self._last_known else b""
        else:
            self._last_known = True
            self._last = ch[prev_end + 1 : last_end]
        self._carry = ch[last_end + 1 : last_end + 1 + KEEP_CAP]
        self._carry_len = len(ch) - last_end - 1

    def _collect(self, complete: bytes) -> None:
        text = (self._id_buf + complete).decode("latin-1")
        self._id_buf = b""
        idx = self._id_index
        keys, ids = self.stats.id_keys, self.stats.id_text
        if idx < 0 or keys is None or ids is None:
            return
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(row) > idx and row[idx]:
                rid = row[idx][:15]
                keys.append(id_hash(rid))
                ids += rid.encode("ascii", "replace").ljust(15)

    # --- the end --------------------------------------------------------------

    def finish(self) -> CsvStats:
        """Settle the last record and report a cut or short last row."""
        stats = self.stats
        self._flush_head()
        if self._utf16 is not None:
            tail = self._decode_utf16(b"", final=True)
            if tail:  # already UTF-8: feed it past the decoder, then keep the decoder
                decoder, self._utf16 = self._utf16, None
                self.feed(tail)
                self._utf16 = decoder
        if self._header_raw is None:
            if self._carry_len == 0 and not self._odd:
                self._issue("empty", f"{self.name} is empty: no header row")
                return stats
            if self._odd:
                self._issue(
                    "truncated",
                    f"{self.name} is cut mid-record: a quote is still open at the end of the file",
                )
                return stats
            self._header_raw = self._carry.rstrip(b"\r\n")
            self._set_header(self._header_raw)
            self._carry, self._carry_len = b"", 0
        last, known = self._last, self._last_known
        if self._odd:
            self._issue(
                "truncated",
                f"{self.name} is cut mid-record: a quote is still open at the end of the file "
                f"(after record {stats.records})",
            )
            return stats
        if self._carry_len and self._carry.strip(b"\r\n"):
            stats.records += 1
            if self._collect_id:
                self._collect(self._carry + b"\n")
            last, known = self._carry, self._carry_len <= KEEP_CAP
        if (
            known
            and stats.records
            and last.strip(b"\r")
            and stats.header
            and not self._nul_reported
        ):
            fields = parse_record(last.rstrip(b"\r"), self._text_encoding)
            if len(fields) != len(stats.header):
                kind = "short-row" if len(fields) < len(stats.header) else "long-row"
                word = "short" if kind == "short-row" else "long"
                self._issue(
                    kind,
                    f"{self.name}: the last row is {word}: {len(fields)} fields where the "
                    f"header has {len(stats.header)} (the file was cut or is malformed)",
                )
        return stats

    def _issue(self, kind: str, message: str) -> None:
        if self._nul_reported and kind != "binary":
            return  # binary junk: no other complaint adds anything
        if kind == "binary":
            self.stats.issues = []
        if any(i.kind == kind for i in self.stats.issues):
            return  # one of each kind per file: the first says it
        self.stats.issues.append(CsvIssue(kind, message))


def count_records(data: bytes, encoding: str = "utf-8", chunk_size: int = 1 << 20) -> CsvStats:
    """Count a whole CSV held in memory (tests and small files)."""
    counter = RecordCounter("<bytes>", encoding)
    for i in range(0, len(data), chunk_size):
        counter.feed(data[i : i + chunk_size])
    return counter.finish()
