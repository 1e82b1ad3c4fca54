"""Build real Salesforce Data Export files for tests, the demo and the benchmark.

:class:`ExportBuilder` writes ``WE_<orgid>_<n>.ZIP`` parts (or an unpacked
folder) with one CSV per object, quoted the way Data Export quotes (every
field), long text with commas, doubled quotes and line breaks inside quotes,
and binary files under ``Attachments/``, ``Documents/`` and ``ContentVersion/``.
The helpers below damage a written ZIP the ways real downloads go wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..backup.catalog import SIZE_COLUMNS as SIZE_COLUMN
from .builders import salesforce_id

#: Key prefixes of the objects the builder knows; others get a made-up one.
KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Lead": "00Q",
    "Case": "500",
    "Task": "00T",
    "Event": "00U",
    "Campaign": "701",
    "Contract": "800",
    "Asset": "02i",
    "Attachment": "00P",
    "Document": "015",
    "ContentVersion": "068",
    "ContentBody": "05T",
    "FeedItem": "0D5",
    "NewsFeed": "0D5",
    "FeedPost": "0F7",
    "CaseHistory": "017",
    "CaseHistory2": "017",
    "Note": "002",
    "Product2": "01t",
    "Pricebook2": "01s",
    "PricebookEntry": "01u",
    "User": "005",
}
FILE_FOLDER = {
    "Attachment": "Attachments",
    "Document": "Documents",
    "ContentVersion": "ContentVersion",
    "ContentBody": "Other Uploaded Collateral",
}
#: Stands for a NUL byte in generated text until the CSV is encoded (csv on Python 3.10
#: refuses NUL); real rich-text values start with one.
_NUL_MARK = "\x01"
#: How a real Data Export differs from the tidy default (see shared/SALESFORCE.md,
#: "What real exports look like"): LF endings, no BOM, ISO-8859-1 (characters it
#: cannot hold become ``?``), booleans 0/1, plain datetimes, rich text led by a NUL.
REAL = {"line_end": "\n", "bom": False, "encoding": "iso-8859-1"}
#: Real export headers of the file objects.
REAL_FIELDS = {
    "Attachment": [
        "Id", "IsDeleted", "ParentId", "AccountId", "Name", "IsPrivate", "ContentType",
        "BodyLength", "BodyLengthCompressed", "OwnerId", "CreatedDate", "CreatedById",
        "LastModifiedDate", "LastModifiedById", "SystemModstamp", "Description", "FeedItemId",
    ],
    "Document": [
        "Id", "FolderId", "IsDeleted", "Name", "DeveloperName", "NamespacePrefix",
        "ContentType", "Type", "IsPublic", "BodyLength", "Url", "Description", "Keywords",
        "IsInternalUseOnly", "AuthorId", "CreatedDate", "CreatedById", "LastModifiedDate",
        "LastModifiedById", "SystemModstamp", "IsBodySearchable", "LastViewedDate",
        "LastReferencedDate",
    ],
    "ContentVersion": [
        "Id", "ContentDocumentId", "IsLatest", "ContentUrl", "ContentBodyId", "VersionNumber",
        "Title", "Description", "ReasonForChange", "SharingOption", "SharingPrivacy",
        "PathOnClient", "RatingCount", "IsDeleted", "ContentModifiedDate",
        "ContentModifiedById", "PositiveRatingCount", "NegativeRatingCount", "FeaturedContentBoost",
        "FeaturedContentDate", "OwnerId", "CreatedById", "CreatedDate", "LastModifiedById",
        "LastModifiedDate", "SystemModstamp", "TagCsv", "FileType", "PublishStatus",
        "VersionData", "ContentSize", "FileExtension", "FirstPublishLocationId", "Origin",
        "ContentLocation", "TextPreview", "ExternalDocumentInfo1", "ExternalDocumentInfo2",
        "ExternalDataSourceId", "Checksum", "IsMajorVersion", "IsAssetEnabled",
    ],
    "ContentBody": ["Id", "Hash", "Format", "Size", "IsDeleted", "CreatedDate", "SystemModstamp"],
}  # fmt: skip
_WORDS = tuple(
    [
        "renewal",
        "contract",
        "invoice",
        "acme",
        "customer",
        "support",
        "escalation",
        "shipment",
        "order",
        "Zürich",
        "café",
        "naïve",
        "São",
        "Paulo",
        "Łódź",
        "quarterly",
        "review",
        "follow-up",
        "meeting",
        "notes",
        "discount",
        "approved",
        "pending",
        "signed",
        "delivered",
        "warranty",
        "onboarding",
        "migration",
    ]
)


@dataclass
class _Object:
    name: str
    header: list[str]
    rows: list[list[str]] | None = None
    count: int = 0
    raw: bytes | None = None
    seed: int = 0
    long_text: int = 200
    #: Row index -> the size its size column states (set by :meth:`ExportBuilder.files`).
    sizes: dict[int, int] = field(default_factory=dict)
    #: Row index -> the MD5 its Hash column states (ContentBody).
    hashes: dict[int, str] = field(default_factory=dict)


@dataclass
class ExportBuilder:
    """Assemble a Data Export; :meth:`write` produces the files.

    :param org_id: the 18-character org id used in part names.
    :param exported_at: the timestamp written on every ZIP entry.
    :param line_end: ``"\\r\\n"`` or ``"\\n"`` between records.
    :param bom: start each CSV with a UTF-8 byte-order mark.
    :param encoding: the export's encoding (``utf-8``, ``iso-8859-1``...).
    :param profile: ``tidy`` (the default) or ``real``: the quirks of real exports
        (see :data:`REAL`); :meth:`real` builds one.
    """

    org_id: str = "00D5g000000ACMEEA2"
    exported_at: dt.datetime = dt.datetime(2026, 11, 20, 3, 15)
    line_end: str = "\r\n"
    bom: bool = False
    encoding: str = "utf-8"
    seed: int = 0
    profile: str = "tidy"
    _objects: dict[str, _Object] = field(default_factory=dict)
    _files: list[tuple[str, str, bytes | int]] = field(default_factory=list)
    _extra: list[tuple[str, bytes, int]] = field(default_factory=list)

    @classmethod
    def real(cls, **kwargs: object) -> ExportBuilder:
        """A builder with the quirks of a real production export: LF, no BOM,
        ISO-8859-1, booleans 0/1, plain datetimes, NUL-led rich text."""
        return cls(**{**REAL, "profile": "real", **kwargs})  # type: ignore[arg-type]

    # --- content -------------------------------------------------------------

    def object(
        self,
        name: str,
        count: int,
        *,
        fields: Sequence[str] | None = None,
        long_text: int = 200,
    ) -> ExportBuilder:
        """``count`` generated records of ``name``; every fifth has line breaks in quotes."""
        header = list(fields or _default_fields(name, self.profile))
        self._objects[name] = _Object(
            name, header, count=count, seed=self.seed + len(self._objects), long_text=long_text
        )
        return self

    def rows(
        self, name: str, header: Sequence[str], rows: Iterable[Sequence[str]]
    ) -> ExportBuilder:
        """Exactly these rows (strings, quoted on writing)."""
        self._objects[name] = _Object(name, list(header), rows=[list(r) for r in rows])
        return self

    def raw_csv(self, name: str, content: bytes) -> ExportBuilder:
        """A CSV member with exactly these bytes (for damaged files)."""
        self._objects[name] = _Object(name, [], raw=content)
        return self

    def member(
        self, name: str, content: bytes, method: int = zipfile.ZIP_DEFLATED
    ) -> ExportBuilder:
        """Any other member, by its path in the ZIP (added to the last part)."""
        self._extra.append((name, content, method))
        return self

    def files(
        self,
        sobject: str,
        *,
        missing: Iterable[int] = (),
        empty: Iterable[int] = (),
        cut: Iterable[int] = (),
        size: int = 2048,
        folder: str | None = None,
    ) -> ExportBuilder:
        """A binary file per row of ``sobject`` (Attachment, Document, ContentVersion),
        named by the row's Id, whose size its row states (BodyLength, ContentSize).

        :param missing: rows that state a size but get no file (a defect).
        :param empty: rows that state a size of 0 (an empty attachment): a 0-byte file,
            and no file at all for a Document (a link document), as Salesforce writes.
        :param cut: rows whose file holds only half the bytes its row states (a defect).
        """
        obj = self._objects[sobject]
        skip, zero, short = set(missing), set(empty), set(cut)
        where = folder or FILE_FOLDER.get(sobject, sobject)
        column = SIZE_COLUMN.get(sobject)
        stated_at = obj.header.index(column) if column in obj.header else -1
        for i, rid in enumerate(self.ids(sobject)):
            stated = 0 if i in zero else size + (i * 37) % 997
            if obj.rows is not None and stated_at >= 0 and obj.rows[i][stated_at].isdigit():
                stated = int(obj.rows[i][stated_at])
            obj.sizes[i] = stated
            if i in skip or (stated == 0 and sobject == "Document"):
                continue
            self._files.append((f"{where}/{rid}", rid, stated // 2 if i in short else stated))
        return self

    def content_bodies(
        self, count: int, *, bad_hash: Iterable[int] = (), missing: Iterable[int] = ()
    ) -> ExportBuilder:
        """``ContentBody.csv`` and its blobs under ``Other Uploaded Collateral/``, each
        row's ``Hash`` the MD5 of its blob; ``bad_hash`` rows get a blob one byte off."""
        self.object("ContentBody", count, fields=REAL_FIELDS["ContentBody"])
        obj = self._objects["ContentBody"]
        wrong, skip = set(bad_hash), set(missing)
        for i, rid in enumerate(self.ids("ContentBody")):
            body = _binary(rid, 700 + (i * 53) % 4001)
            obj.hashes[i] = hashlib.md5(body, usedforsecurity=False).hexdigest()
            obj.sizes[i] = len(body)
            if i in wrong:
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            if i not in skip:
                self._files.append((f"{FILE_FOLDER['ContentBody']}/{rid}", rid, body))
        return self

    def ids(self, sobject: str) -> list[str]:
        """The Ids of ``sobject``'s generated rows, in order."""
        obj = self._objects[sobject]
        if obj.rows is not None:
            idx = obj.header.index("Id") if "Id" in obj.header else 0
            return [r[idx] for r in obj.rows]
        prefix = _prefix(sobject)
        return [salesforce_id(prefix, i + 1) for i in range(obj.count)]

    def csv_bytes(self, name: str) -> bytes:
        """The encoded CSV of one object, as it will be written."""
        return b"".join(self._csv_chunks(self._objects[name]))

    def true_count(self, name: str) -> int:
        """Records of ``name`` according to :mod:`csv` (the reference for tests)."""
        data = self.csv_bytes(name)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        text = data.decode(self.encoding).replace("\x00", "")
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
        return max(0, len(rows) - 1)

    def _csv_chunks(self, obj: _Object) -> Iterator[bytes]:
        if obj.raw is not None:
            yield obj.raw
            return
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator=self.line_end)
        writer.writerow(obj.header)
        prefix = b"\xef\xbb\xbf" if self.bom else b""
        rows: Iterable[list[str]] = (
            obj.rows if obj.rows is not None else _generate(obj, self.line_end, self.profile)
        )
        for i, row in enumerate(rows):
            writer.writerow(row)
            if i % 2000 == 1999:
                yield prefix + self._encode(buf.getvalue())
                prefix = b""
                buf.seek(0)
                buf.truncate()
        yield prefix + self._encode(buf.getvalue())

    def _encode(self, text: str) -> bytes:
        """As Data Export encodes: a character the encoding cannot hold becomes ``?``."""
        data = text.encode(self.encoding, errors="replace")
        return data.replace(_NUL_MARK.encode(), b"\x00") if self.profile == "real" else data

    # --- writing -------------------------------------------------------------

    def write(
        self,
        folder: str | Path,
        *,
        parts: int = 1,
        split: Sequence[str] = (),
        layout: str = "parts",
        compresslevel: int = 6,
    ) -> list[Path]:
        """Write the export into ``folder``; returns the files written.

        :param parts: spread the objects over this many ``WE_<org>_<n>.ZIP`` parts.
        :param split: objects whose CSV is cut across two consecutive parts (each
            piece with its own header row, as a new CSV file in the next part).
        :param layout: ``parts`` (ZIPs) or ``folder`` (already unpacked).
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        members: list[list[tuple[str, Iterable[bytes] | bytes, int]]] = [[] for _ in range(parts)]
        names = list(self._objects)
        for i, name in enumerate(names):
            part = i * parts // max(1, len(names))
            obj = self._objects[name]
            if name in split and part + 1 < parts and layout != "folder":
                first, second = _split_csv(b"".join(self._csv_chunks(obj)), obj.header, self)
                members[part].append((f"{name}.csv", first, zipfile.ZIP_DEFLATED))
                members[part + 1].append((f"{name}.csv", second, zipfile.ZIP_DEFLATED))
            else:
                members[part].append((f"{name}.csv", self._csv_chunks(obj), zipfile.ZIP_DEFLATED))
        for j, (where, rid, body) in enumerate(self._files):
            part = j * parts // max(1, len(self._files))
            data = body if isinstance(body, bytes) else _binary(rid, body)
            members[part].append((where, data, zipfile.ZIP_DEFLATED))
        for name, extra, method in self._extra:
            members[-1].append((name, extra, method))
        written: list[Path] = []
        if layout == "folder":
            for part_members in members:
                for name, content, _ in part_members:
                    target = out / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with target.open("wb") as f:
                        for chunk in [content] if isinstance(content, bytes) else content:
                            f.write(chunk)
                    written.append(target)
            return sorted(written)
        stamp = self.exported_at.timetuple()[:6]
        for n, part_members in enumerate(members, start=1):
            zpath = out / f"WE_{self.org_id}_{n}.ZIP"
            with zipfile.ZipFile(zpath, "w", compresslevel=compresslevel) as zf:
                for name, content, method in part_members:
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.compress_type = method
                    with zf.open(info, "w") as dest:
                        for chunk in [content] if isinstance(content, bytes) else content:
                            dest.write(chunk)
            written.append(zpath)
        return written


def _default_fields(name: str, profile: str = "tidy") -> list[str]:
    if profile == "real" and name in REAL_FIELDS:
        return list(REAL_FIELDS[name])
    base = ["Id", "IsDeleted", "Name", "OwnerId", "CreatedDate", "LastModifiedDate"]
    if name == "Attachment":
        return ["Id", "ParentId", "Name", "ContentType", "BodyLength", "OwnerId", "CreatedDate"]
    if name == "ContentVersion":
        return ["Id", "ContentDocumentId", "Title", "PathOnClient", "ContentSize", "VersionNumber"]
    if name == "Document":
        return ["Id", "FolderId", "Name", "Type", "BodyLength", "Description"]
    extra = [f"{w.capitalize()}__c" for w in ("region", "segment", "status", "amount", "notes")]
    return [*base, "Description", "Phone", "Website", *extra]


def _prefix(name: str) -> str:
    if name in KEY_PREFIXES:
        return KEY_PREFIXES[name]
    return "a0" + "ABCDEFGHJKLMNPQRSTUVWXYZ"[sum(map(ord, name)) % 24]


def _text(rnd: random.Random, n: int) -> str:
    return " ".join(rnd.choice(_WORDS) for _ in range(n))


def _generate(obj: _Object, line_end: str, profile: str = "tidy") -> Iterator[list[str]]:
    """Realistic rows: every field quoted; long text with commas, doubled quotes and
    line breaks (CRLF or LF) inside quotes on every fifth row. Text comes from a
    pool of random sentences, large enough that deflate sees few repeats. The real
    profile writes booleans as 0/1, datetimes as ``2026-03-04 10:05:00``, and every
    seventh rich-text value as HTML led by a NUL byte."""
    real = profile == "real"
    rnd = random.Random(obj.seed)
    prefix = _prefix(obj.name)
    owner = salesforce_id("005", 1)
    lo, hi = max(1, obj.long_text // 10), max(1, obj.long_text // 4)
    long_pool = [
        _text(rnd, rnd.randint(lo, hi)).replace("review", 'review, "as agreed"', 1)
        for _ in range(min(obj.count, 2048))
    ]
    short_pool = [_text(rnd, rnd.randint(1, 3)).title() for _ in range(min(obj.count, 509))]
    extra = f'{line_end}-- second line, with a comma{line_end}"quoted" third line'
    kinds: list[str] = []
    for col in obj.header:
        if col == "Id":
            kinds.append("id")
        elif col.endswith("Id"):
            kinds.append("owner")
        elif (col in SIZE_COLUMN.values() or (col == "Size" and obj.hashes)) and obj.sizes:
            kinds.append("size")
        elif col == "Hash" and obj.hashes:
            kinds.append("hash")
        elif col == "IsDeleted" or (real and col.startswith("Is")):
            kinds.append("false")
        elif col.endswith("Date") or col == "SystemModstamp":
            kinds.append("date")
        elif col in ("Description", "Notes__c"):
            kinds.append("long")
        elif col in (
            "BodyLength",
            "ContentSize",
            "VersionNumber",
            "Size",
            "BodyLengthCompressed",
        ) or col.startswith("Amount"):
            kinds.append("number")
        else:
            kinds.append("short")
    for i in range(obj.count):
        row: list[str] = []
        for k, kind in enumerate(kinds):
            if kind == "id":
                row.append(salesforce_id(prefix, i + 1))
            elif kind == "owner":
                row.append(owner)
            elif kind == "size":
                row.append(str(obj.sizes.get(i, 0)))
            elif kind == "hash":
                row.append(obj.hashes.get(i, ""))
            elif kind == "false":
                row.append("0" if real else "false")
            elif kind == "date":
                month, day, minute = 1 + i % 12, 1 + i % 28, i % 60
                row.append(
                    f"2026-{month:02d}-{day:02d} 10:{minute:02d}:00"
                    if real
                    else f"2026-{month:02d}-{day:02d}T10:{minute:02d}:00.000Z"
                )
            elif kind == "long":
                text = long_pool[(i * 7919 + k) % len(long_pool)]
                if real and i % 7 == 3:
                    text = f'{_NUL_MARK}<p><span style="font-size: 12px;">{text}</span></p>'
                row.append(text + extra if i % 5 == 0 else text)
            elif kind == "number":
                row.append(str((i * 7919 + k * 104729) % 99991 + 1))
            else:
                row.append(short_pool[(i * 31 + k * 17) % len(short_pool)])
        yield row


def _binary(rid: str, size: int) -> bytes:
    if size == 0:
        return b""
    seed = zlib.crc32(rid.encode())
    return random.Random(seed).randbytes(size)


def _split_csv(data: bytes, header: list[str], builder: ExportBuilder) -> tuple[bytes, bytes]:
    """Two standalone CSVs (each with the header row) holding the records in order."""
    text = data.decode(builder.encoding)
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    half = len(rows) // 2
    pieces = []
    for chunk in (rows[:half], rows[half:]):
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator=builder.line_end)
        writer.writerow(header)
        writer.writerows(chunk)
        pieces.append(buf.getvalue().encode(builder.encoding))
    return pieces[0], pieces[1]


# --- damaging a written ZIP ----------------------------------------------------


def _central_entries(path: Path) -> dict[str, int]:
    """Offsets of each member's central directory entry."""
    data = path.read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    _cd_size, cd_offset = struct.unpack("<II", data[eocd + 12 : eocd + 20])
    pos, out = cd_offset, {}
    if cd_offset == 0xFFFFFFFF:
        locator = data.rfind(b"PK\x06\x06")
        pos = struct.unpack("<Q", data[locator + 48 : locator + 56])[0]
    while data[pos : pos + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[pos + 28 : pos + 34])
        name = data[pos + 46 : pos + 46 + name_len].decode("utf-8", "replace")
        out[name] = pos
        pos += 46 + name_len + extra_len + comment_len
    return out


def rewrite_central(path: str | Path, transform: Callable[[list[bytes]], list[bytes]]) -> None:
    """Replace a (non-ZIP64) ZIP's central directory records by ``transform(records)``:
    repeat one (members overlapping a zip bomb's way), reorder them..."""
    p = Path(path)
    data = p.read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack("<II", data[eocd + 12 : eocd + 20])
    records, pos = [], cd_offset
    while pos < cd_offset + cd_size:
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[pos + 28 : pos + 34])
        end = pos + 46 + name_len + extra_len + comment_len
        records.append(data[pos:end])
        pos = end
    new = transform(records)
    central = b"".join(new)
    tail = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(new), len(new), len(central), cd_offset, 0
    )
    p.write_bytes(data[:cd_offset] + central + tail)


def patch_member(
    path: str | Path,
    name: str,
    *,
    crc: int | None = None,
    usize: int | None = None,
    flags: int | None = None,
) -> None:
    """Rewrite a member's CRC or flags (both headers) or its declared size (the
    central directory, which readers trust)."""
    p = Path(path)
    with zipfile.ZipFile(p) as zf:
        local = zf.getinfo(name).header_offset
    central = _central_entries(p)[name]
    with p.open("r+b") as f:
        for base, crc_at, flag_at in ((local, 14, 6), (central, 16, 8)):
            if crc is not None:
                f.seek(base + crc_at)
                f.write(struct.pack("<I", crc))
            if flags is not None:
                f.seek(base + flag_at)
                f.write(struct.pack("<H", flags))
        if usize is not None:
            f.seek(central + 24)
            f.write(struct.pack("<I", usize))


def damage_member(
    path: str | Path, name: str, *, at: float = 0.5, junk: bytes = b"\xff" * 64
) -> None:
    """Overwrite bytes in the middle of a member's compressed data."""
    p = Path(path)
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo(name)
    with p.open("r+b") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", f.read(4))
        start = info.header_offset + 30 + name_len + extra_len
        f.seek(start + int(info.compress_size * at))
        f.write(junk[: max(1, min(len(junk), info.compress_size // 2))])


def truncate(path: str | Path, keep: float = 0.5) -> None:
    """Cut the file, as an interrupted download does."""
    p = Path(path)
    size = p.stat().st_size
    with p.open("r+b") as f:
        f.truncate(int(size * keep))


def encrypted_zip(
    path: str | Path, members: dict[str, bytes], password: bytes, encrypt: Iterable[str]
) -> Path:
    """A ZIP whose ``encrypt`` members use traditional PKWARE encryption (stored),
    written byte by byte; :mod:`zipfile` reads them back with ``pwd=password``."""
    p = Path(path)
    secret = set(encrypt)
    out = bytearray()
    central = bytearray()
    dostime, dosdate = 0x6000, ((2026 - 1980) << 9) | (11 << 5) | 20
    for name, data in members.items():
        crc = zlib.crc32(data)
        body, flags = data, 0
        if name in secret:
            body, flags = _zipcrypto(data, password, crc), 0x1
        raw_name = name.encode()
        offset = len(out)
        out += (
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                flags,
                0,
                dostime,
                dosdate,
                crc,
                len(body),
                len(data),
                len(raw_name),
                0,
            )
            + raw_name
            + body
        )
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                flags,
                0,
                dostime,
                dosdate,
                crc,
                len(body),
                len(data),
                len(raw_name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw_name
        )
    cd_offset = len(out)
    out += central
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), cd_offset, 0
    )
    p.write_bytes(bytes(out))
    return p


def _zipcrypto(data: bytes, password: bytes, crc: int) -> bytes:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)

    def crc_byte(value: int, byte: int) -> int:
        return (value >> 8) ^ table[(value ^ byte) & 0xFF]

    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = crc_byte(keys[0], byte)
        keys[1] = (keys[1] + (keys[0] & 0xFF)) & 0xFFFFFFFF
        keys[1] = (keys[1] * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    header = random.Random(crc).randbytes(11) + bytes([crc >> 24])
    out = bytearray()
    for byte in header + data:
        k = keys[2] | 2
        out.append(byte ^ (((k * (k ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)


def write_demo_export(
    folder: str | Path,
    counts: dict[str, int],
    *,
    org_id: str,
    exported_at: dt.datetime,
    short: dict[str, int] | None = None,
    missing_files: dict[str, int] | None = None,
    parts: int = 2,
    profile: str = "real",
) -> list[Path]:
    """A realistic export of an org with these record counts, for the demo.

    With the ``real`` profile it is what Setup > Data Export writes (see :data:`REAL`):
    no CSV for the objects a Data Export never holds, Chatter posts (FeedItem) in ``NewsFeed.csv``
    and case history in ``CaseHistory2.csv``, header-only CSVs for empty objects, one
    empty attachment (``BodyLength`` 0, a 0-byte file), one link document (no file),
    and ContentBody blobs with their MD5s.

    :param short: objects exported with this many records fewer than ``counts``.
    :param missing_files: objects whose last N rows have no binary file.
    """
    from ..backup.catalog import CSV_ALIASES, never_exported

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("WE_*.ZIP"):
        old.unlink()
    real = profile == "real"
    builder = (
        ExportBuilder.real(org_id=org_id, exported_at=exported_at)
        if real
        else ExportBuilder(org_id=org_id, exported_at=exported_at)
    )
    short = short or {}
    for name, count in sorted(counts.items()):
        if real and never_exported(name) and name not in CSV_ALIASES:
            continue
        stem = CSV_ALIASES[name][0] if real and name in CSV_ALIASES else name
        builder.object(stem, max(0, count - short.get(name, 0)), long_text=60)
    if real:
        for name in EMPTY_OBJECTS:
            if name not in counts:
                builder.object(name, 0)
        builder.content_bodies(5)
    for name in sorted(FILE_FOLDER):
        if name in counts:
            n = counts[name] - short.get(name, 0)
            gone = (missing_files or {}).get(name, 0)
            empty = [0] if real and name in ("Attachment", "Document") else []
            builder.files(name, missing=range(n - gone, n), empty=empty, size=512)
    return builder.write(target, parts=parts, compresslevel=1)


#: Objects a real export writes as header-only CSVs in a small org.
EMPTY_OBJECTS = ("Idea", "Solution", "Quote", "Order", "Entitlement", "WorkOrder")
