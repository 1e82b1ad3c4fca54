"""The Data Export scanner on real ZIPs: exact counts, and every kind of bad export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import shutil
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfaudit.backup import csvcount, scan
from sfaudit.backup.csvcount import count_records
from sfaudit.backup.inflate import available
from sfaudit.backup.scanner import MAX_RATIO, Member, iter_member
from sfaudit.errors import InputError
from sfaudit.testing.exports import (
    ExportBuilder,
    damage_member,
    encrypted_zip,
    patch_member,
    rewrite_central,
    truncate,
)

ORG = "00D5g000000ACMEEA2"
BACKENDS = available()


def kinds(result: object) -> list[tuple[str, str | None]]:
    return sorted((p.kind, p.object or p.member) for p in result.problems)  # type: ignore[attr-defined]


def true_count(data: bytes, encoding: str = "utf-8") -> int:
    text = data.decode(encoding).removeprefix("\ufeff")
    return len([r for r in csv.reader(io.StringIO(text, newline="")) if r]) - 1


# --- counting ----------------------------------------------------------------


def test_counts_are_exact_where_counting_lines_is_wrong() -> None:
    b = ExportBuilder(line_end="\r\n").object("Account", 300)
    data = b.csv_bytes("Account")
    lines = data.count(b"\n") - 1
    assert b.true_count("Account") == 300
    assert lines > 300  # embedded line breaks: a line count overcounts
    for size in (1, 7, 4096, 1 << 20):
        assert count_records(data, chunk_size=size).records == 300


@pytest.fixture(params=["per-line", "vectorised"])
def counting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with every chunk counted per line, then with every chunk vectorised."""
    monkeypatch.setattr(csvcount, "VECTOR_MIN", 1 << 62 if request.param == "per-line" else 0)
    return str(request.param)


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [False, True])
def test_random_csv_dialects_match_the_csv_module(line_end: str, bom: bool, counting: str) -> None:
    rnd = random.Random(f"{line_end}{bom}")
    alphabet = 'ab,"\n\r é€'
    for _ in range(60):
        width = rnd.randint(1, 6)
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator=line_end)
        writer.writerow([f"Field{i}__c" for i in range(width)])
        for _ in range(rnd.randint(0, 30)):
            writer.writerow(
                [
                    "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 9)))
                    for _ in range(width)
                ]
            )
        data = ("\ufeff" if bom else "").encode() + buf.getvalue().encode()
        if rnd.random() < 0.3:
            data = data.rstrip(b"\r\n")  # no newline after the last record
        expected = true_count(data)
        for size in (1, 3, 64, 1 << 20):
            stats = count_records(data, chunk_size=size)
            assert (stats.records, stats.issues) == (expected, []), data


def test_blank_lines_between_records_are_not_records(counting: str) -> None:
    data = b'"Id","Name"\n"1","a"\n\n"2","b"\r\n\r\n"3","c\n\nd"\n\n'
    for size in (1, 2, 5, 1 << 20):
        assert count_records(data, chunk_size=size).records == 3 == true_count(data)


def _state(counter: csvcount.RecordCounter) -> tuple[object, ...]:
    return (
        counter.stats.records,
        counter._odd,
        counter._last,
        counter._last_known,
        counter._carry,
        counter._carry_len,
    )


def test_vectorised_count_keeps_what_the_per_line_count_keeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After every chunk (cut anywhere, even inside a CR LF or a doubled quote) both
    counts hold the same records, quote state, last record and partial record."""
    rnd = random.Random(16)
    for trial in range(300):
        body = bytes(rnd.choice(b'ab,"\n\r') for _ in range(rnd.randint(0, 400)))
        data = b'"Id","Name"\n' + body
        cuts = sorted(rnd.sample(range(1, len(data)), min(len(data) - 1, rnd.randint(0, 12))))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        states = []
        for minimum in (1 << 62, 0):
            monkeypatch.setattr(csvcount, "VECTOR_MIN", minimum)
            counter = csvcount.RecordCounter("x.csv")
            trail = []
            for chunk in chunks:
                counter.feed(chunk)
                trail.append(_state(counter))
            stats = counter.finish()
            trail.append((stats.records, [i.kind for i in stats.issues]))
            states.append(trail)
        assert states[0] == states[1], (trial, data, chunks)


def test_record_ends_across_word_boundaries() -> None:
    """Quotes and line feeds at every offset around the 64-bit words the parity is packed in."""
    for n in (1, 7, 8, 63, 64, 65, 127, 128, 129, 200):
        for q in range(n):
            data = bytearray(b"a" * n)
            data[q] = ord('"')
            ends, odd = csvcount.record_ends(bytes(data) + b"\n" + b'"\n', False)
            assert odd is False
            assert list(ends) == [n + 2]  # the first line feed is inside the quote
            ends, odd = csvcount.record_ends(bytes(data), True)
            assert (list(ends), odd) == ([], False)


def test_latin1_export_is_detected_and_flagged_only_when_declared_utf8() -> None:
    b = ExportBuilder(encoding="iso-8859-1").rows(
        "Account", ["Id", "Name"], [["001", "Zürich, café"], ["002", 'Müller "GmbH"\nBasel']]
    )
    data = b.csv_bytes("Account")
    detected = count_records(data)
    assert (detected.records, detected.issues, detected.encoding) == (2, [], "windows-1252")
    as_utf8 = count_records(data, "utf-8")
    assert as_utf8.records == 2
    assert [i.kind for i in as_utf8.issues] == ["encoding"]
    assert "not valid UTF-8 at byte 21" in as_utf8.issues[0].message
    as_latin1 = count_records(data, "iso-8859-1")
    assert (as_latin1.records, as_latin1.issues) == (2, [])


def test_utf16_export_with_bom_is_transcoded_and_counted() -> None:
    text = '"Id","Name"\r\n"1","a\r\nb"\r\n"2","Łódź"\r\n'
    data = b"\xff\xfe" + text.encode("utf-16-le")
    stats = count_records(data, chunk_size=5)
    assert (stats.records, stats.header, stats.issues) == (2, ["Id", "Name"], [])


def test_quote_open_at_eof_is_a_cut_file() -> None:
    data = b'"Id","Description"\n"1","ok"\n"2","cut in the mid'
    stats = count_records(data)
    assert stats.records == 1
    assert [i.kind for i in stats.issues] == ["truncated"]


def test_short_last_row_is_a_cut_file() -> None:
    data = b'"Id","Name","Phone"\n"1","a","1"\n"2","b"'
    stats = count_records(data)
    assert stats.records == 2
    assert [i.kind for i in stats.issues] == ["short-row"]
    assert "2 fields where the header has 3" in stats.issues[0].message


def test_header_duplicates_and_non_api_names() -> None:
    stats = count_records(b'"Id","Name","name"\n"1","a","b"\n')
    assert [i.kind for i in stats.issues] == ["duplicate-column"]
    stats = count_records(b'"Id","Account Name"\n"1","a"\n')
    assert [i.kind for i in stats.issues] == ["header"]


# --- the scanner on real exports ----------------------------------------------


@pytest.fixture
def export(tmp_path: Path) -> tuple[ExportBuilder, Path]:
    b = ExportBuilder(org_id=ORG)
    b.object("Account", 400).object("Contact", 900).object("Deal__c", 120)
    b.object("Attachment", 40).object("ContentVersion", 12).object("Document", 5)
    b.files("Attachment").files("ContentVersion").files("Document")
    folder = tmp_path / "export"
    b.write(folder, parts=3, split=["Contact"])
    return b, folder


@pytest.mark.parametrize("backend", BACKENDS)
def test_clean_multi_part_export(export: tuple[ExportBuilder, Path], backend: str) -> None:
    b, folder = export
    result = scan(folder, backend=backend)
    assert result.problems == []
    assert result.backend == backend
    assert {n: o.records for n, o in result.objects.items()} == {
        "Account": 400,
        "Contact": 900,
        "Deal__c": 120,
        "Attachment": 40,
        "ContentVersion": 12,
        "Document": 5,
    }
    assert b.true_count("Contact") == 900
    assert len(result.objects["Contact"].sources) == 2  # one object across two parts
    assert [p.number for p in result.parts] == [1, 2, 3]
    assert result.org_ids == [ORG]
    assert (
        result.exported_at is not None and result.exported_at.isoformat() == "2026-11-20T03:15:00"
    )
    assert result.files["Attachment"].files == 40 and result.files["Attachment"].missing == 0
    assert result.bytes_read > 0 and result.bytes_inflated > result.bytes_read


def test_worker_processes_give_the_same_answer(export: tuple[ExportBuilder, Path]) -> None:
    _, folder = export
    one = scan(folder, workers=1)
    two = scan(folder, workers=2)
    assert two.workers == 2
    assert {n: o.records for n, o in one.objects.items()} == {
        n: o.records for n, o in two.objects.items()
    }
    assert two.problems == []


def test_unpacked_folder(tmp_path: Path) -> None:
    b = ExportBuilder().object("Account", 50).object("Attachment", 6)
    b.files("Attachment", missing=[2], empty=[4], cut=[5])
    b.write(tmp_path / "unpacked", layout="folder")
    result = scan(tmp_path / "unpacked")
    assert result.layout == "folder"
    assert result.objects["Account"].records == 50
    assert kinds(result) == [("file-size", "Attachment"), ("files-missing", "Attachment")]
    assert result.files["Attachment"].missing_ids == [b.ids("Attachment")[2][:15]]
    # Row 4 states BodyLength 0: its 0-byte file is right. Row 5's file is cut in half.
    assert result.files["Attachment"].empty_ids == []
    [cut] = [p for p in result.problems if p.kind == "file-size"]
    assert cut.record_id == b.ids("Attachment")[5][:15]
    assert cut.data["found_bytes"] * 2 in (
        cut.data["expected_bytes"],
        cut.data["expected_bytes"] - 1,
    )


def test_single_zip_and_list_of_zips(export: tuple[ExportBuilder, Path]) -> None:
    _, folder = export
    parts = sorted(folder.glob("WE_*.ZIP"))
    one = scan(parts[0])
    assert one.layout == "zip" and one.parts[0].number == 1
    many = scan([parts[2], parts[0], parts[1]])
    assert [p.number for p in many.parts] == [1, 2, 3]
    assert many.objects["Contact"].records == 900


def test_missing_middle_part(export: tuple[ExportBuilder, Path]) -> None:
    _, folder = export
    (folder / f"WE_{ORG}_2.ZIP").unlink()
    result = scan(folder)
    missing = [p for p in result.problems if p.kind == "part-missing"]
    assert [p.message for p in missing] == [
        f"part 2 of the export is missing (WE_{ORG}_2.ZIP); found parts 1, 3"
    ]


def test_full_size_last_part_may_hide_more_parts(tmp_path: Path) -> None:
    b = ExportBuilder().object("Account", 300).object("Contact", 300)
    b.write(tmp_path, parts=2)
    result = scan(tmp_path)
    assert [p.kind for p in result.problems] == ["part-maybe-missing"]


def test_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / f"WE_{ORG}_1.ZIP").write_text("<html>session expired</html>")
    result = scan(tmp_path)
    assert kinds(result) == [("part-unreadable", None)]
    assert "not a readable ZIP (no end-of-central-directory record" in result.problems[0].message
    assert result.parts[0].intact is False


def test_truncated_zip(export: tuple[ExportBuilder, Path]) -> None:
    _, folder = export
    truncate(folder / f"WE_{ORG}_1.ZIP", 0.6)
    result = scan(folder)
    assert kinds(result) == [("files-missing", "Attachment"), ("part-unreadable", None)]
    assert result.problems[0].part == f"WE_{ORG}_1.ZIP"
    assert "not a ZIP, or truncated); download it again" in result.problems[0].message
    # what the lost part held is missing: Account, the first half of Contact, files
    assert "Account" not in result.objects
    assert result.objects["Contact"].records == 450
    assert result.files["Attachment"].missing == 19


@pytest.mark.parametrize("backend", BACKENDS)
def test_corrupt_member(tmp_path: Path, backend: str) -> None:
    ExportBuilder().object("Account", 500).write(tmp_path)
    damage_member(tmp_path / f"WE_{ORG}_1.ZIP", "Account.csv", at=0.5)
    result = scan(tmp_path, backend=backend)
    assert kinds(result) == [("corrupt", "Account")]
    assert "compressed data is corrupt" in result.problems[0].message
    assert result.objects["Account"].intact is False
    assert result.parts[0].intact is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_crc_mismatch(tmp_path: Path, backend: str) -> None:
    ExportBuilder().object("Account", 50).write(tmp_path)
    part = tmp_path / f"WE_{ORG}_1.ZIP"
    with zipfile.ZipFile(part) as zf:
        crc = zf.getinfo("Account.csv").CRC
    patch_member(part, "Account.csv", crc=crc ^ 0x1)
    result = scan(tmp_path, backend=backend)
    assert kinds(result) == [("crc", "Account")]
    assert "CRC-32 mismatch" in result.problems[0].message


def test_encrypted_member(tmp_path: Path) -> None:
    good = b'"Id","Name"\r\n"001","a"\r\n'
    secret = b'"Id","Name"\r\n"003","b"\r\n"003","c"\r\n'
    part = encrypted_zip(
        tmp_path / f"WE_{ORG}_1.ZIP",
        {"Account.csv": good, "Contact.csv": secret},
        b"pw",
        ["Contact.csv"],
    )
    with zipfile.ZipFile(part) as zf:  # really encrypted: zipfile needs the password
        assert zf.read("Contact.csv", pwd=b"pw") == secret
        with pytest.raises(RuntimeError):
            zf.read("Contact.csv")
    result = scan(tmp_path)
    assert kinds(result) == [("encrypted", "Contact.csv")]
    assert result.objects["Account"].records == 1
    assert "Contact" not in result.objects


def test_zip_slip_names(tmp_path: Path) -> None:
    b = ExportBuilder().object("Account", 5)
    b.member("../evil.csv", b'"Id"\n"1"\n').member("/etc/cron.d/x", b"* * * * *")
    b.write(tmp_path)
    result = scan(tmp_path)
    assert kinds(result) == [("unsafe-name", "../evil.csv"), ("unsafe-name", "/etc/cron.d/x")]
    assert "evil" not in result.objects and result.objects["Account"].records == 5


def test_zip_bomb_ratio_is_not_inflated(tmp_path: Path) -> None:
    b = ExportBuilder().object("Account", 5).member("Task.csv", b"\x00" * (8 << 20))
    b.write(tmp_path)
    with zipfile.ZipFile(tmp_path / f"WE_{ORG}_1.ZIP") as zf:
        info = zf.getinfo("Task.csv")
        assert info.file_size > MAX_RATIO * info.compress_size
    result = scan(tmp_path)
    assert kinds(result) == [("zip-bomb", "Task.csv")]
    assert "compression ratio" in result.problems[0].message
    assert result.bytes_inflated < 1 << 20  # the bomb was never inflated


@pytest.mark.parametrize("backend", BACKENDS)
def test_member_inflating_past_its_declared_size_stops(tmp_path: Path, backend: str) -> None:
    ExportBuilder().object("Account", 300).write(tmp_path)
    part = tmp_path / f"WE_{ORG}_1.ZIP"
    patch_member(part, "Account.csv", usize=1000)
    result = scan(tmp_path, backend=backend)
    assert kinds(result) == [("zip-bomb", "Account")]
    assert "inflates beyond its declared 1000 bytes" in result.problems[0].message


def test_empty_csv(tmp_path: Path) -> None:
    ExportBuilder().object("Account", 3).raw_csv("Contact", b"").write(tmp_path)
    result = scan(tmp_path)
    assert kinds(result) == [("empty", "Contact")]
    assert result.objects["Contact"].intact is False
    assert result.objects["Account"].intact is True


def test_binary_junk_named_csv(tmp_path: Path) -> None:
    junk = random.Random(5).randbytes(50_000)
    ExportBuilder().object("Account", 3).raw_csv("Contact", junk).write(tmp_path)
    result = scan(tmp_path)
    assert kinds(result) == [("binary", "Contact")]
    assert result.objects["Contact"].intact is False


def test_latin1_export_read_as_utf8(tmp_path: Path) -> None:
    b = ExportBuilder(encoding="iso-8859-1").object("Account", 80)
    b.write(tmp_path)
    as_utf8 = scan(tmp_path, encoding="utf-8")
    assert kinds(as_utf8) == [("encoding", "Account")]  # the finding says it all
    assert as_utf8.objects["Account"].records == 80  # counts stay exact
    detected = scan(tmp_path)
    assert kinds(detected) == [("encoding-note", None)]
    assert detected.objects["Account"].encoding == "windows-1252"
    assert "counted exactly" in detected.problems[0].message
    declared = scan(tmp_path, encoding="iso-8859-1")
    assert [p.kind for p in declared.problems] == ["encoding-note"]
    assert "ISO-8859-1 (as set)" in declared.problems[0].message


def test_truncated_csv_inside_a_good_zip(tmp_path: Path) -> None:
    b = ExportBuilder().object("Account", 20)
    data = b.csv_bytes("Account")
    cut = data[: data.rindex(b'"') - 3]  # ends inside the last quoted field
    ExportBuilder().raw_csv("Account", cut).write(tmp_path)
    result = scan(tmp_path)
    assert kinds(result) == [("truncated", "Account")]
    assert result.objects["Account"].intact is False


def test_missing_and_empty_attachment_files(tmp_path: Path) -> None:
    b = ExportBuilder().object("Attachment", 30).object("Document", 4)
    b.files("Attachment", missing=[0, 7], empty=[3], cut=[9])
    b.files("Document", folder="Documents", empty=[2])
    b.write(tmp_path, parts=2)
    result = scan(tmp_path)
    ids = [i[:15] for i in b.ids("Attachment")]
    found = {p.kind: p for p in result.problems if p.object == "Attachment"}
    assert sorted(found) == ["file-size", "files-missing"]
    assert found["files-missing"].count == 2
    assert found["files-missing"].data["ids"] == [ids[0], ids[7]]
    assert found["file-size"].record_id == ids[9]
    assert "cut short" in found["file-size"].message
    assert result.files["Attachment"].zero_rows == 1  # row 3: BodyLength 0, a 0-byte file
    # A Document with BodyLength 0 (a link) has no file at all, and needs none.
    assert result.files["Document"].missing == 0
    assert result.files["Document"].files == 3 and result.files["Document"].zero_rows == 1


def test_files_in_another_layout_are_tolerated(tmp_path: Path) -> None:
    ids = [f"0685g000000000{i}AAA" for i in range(1, 4)]
    b = ExportBuilder().rows("ContentVersion", ["Id", "ContentSize"], [[i, "12"] for i in ids])
    for rid in b.ids("ContentVersion"):
        b.member(f"ContentVersion/{rid}/report.pdf", b"%PDF-1.4 ...")
    b.member("Reports/summary.txt", b"not part of any object")
    b.write(tmp_path)
    result = scan(tmp_path)
    assert result.problems == []
    assert result.files["ContentVersion"].files == 3


def test_nonexistent_path_and_empty_folder_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        scan(tmp_path / "nope")
    with pytest.raises(InputError, match="no Data Export"):
        scan(tmp_path)


def test_parts_of_two_orgs(tmp_path: Path) -> None:
    ExportBuilder(org_id=ORG).object("Account", 3).write(tmp_path)
    other = ExportBuilder(org_id="00D5g000000OTHEEA2").object("Contact", 300)
    other.write(tmp_path / "other")
    (tmp_path / "other" / "WE_00D5g000000OTHEEA2_1.ZIP").rename(
        tmp_path / "WE_00D5g000000OTHEEA2_2.ZIP"
    )
    result = scan(tmp_path)
    assert [p.kind for p in result.problems] == ["mixed-orgs", "part-maybe-missing"]
    assert result.org_ids == [ORG, "00D5g000000OTHEEA2"]


def test_the_hook_opens_a_lazy_inventory(tmp_path: Path) -> None:
    from sfaudit.backup import BackupInventory
    from sfaudit.config import load_config
    from sfaudit.plugins import get_plugin_manager

    ExportBuilder().object("Account", 7).write(tmp_path / "export")
    (tmp_path / "audit.yaml").write_text(
        "version: 1\nchecks:\n  backup-completeness: {encoding: iso-8859-1}\n", encoding="utf-8"
    )
    config = load_config(tmp_path / "audit.yaml")
    pm = get_plugin_manager(entry_points=False)
    inventory = pm.hook.sfaudit_open_backup(path=tmp_path / "export", config=config)
    assert isinstance(inventory, BackupInventory)
    assert inventory.encoding == "iso-8859-1"
    assert inventory._results == {}  # nothing scanned until a check asks
    assert inventory.count("account") == 7 and inventory.count("Lead") is None
    assert inventory.result() is inventory.result()


def test_zip64_records_are_read(tmp_path: Path) -> None:
    data = ExportBuilder().object("Account", 40).csv_bytes("Account")
    part = tmp_path / f"WE_{ORG}_1.ZIP"
    with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("Account.csv", "w", force_zip64=True) as out:
            out.write(data)
        zf.writestr("Attachments/00P5g0000000001EAA", b"x" * 10)
    result = scan(tmp_path)
    assert result.problems == []
    assert result.objects["Account"].records == 40


def test_damaged_central_directory(tmp_path: Path) -> None:
    ExportBuilder().object("Account", 40).write(tmp_path)
    part = tmp_path / f"WE_{ORG}_1.ZIP"
    data = bytearray(part.read_bytes())
    at = data.rfind(b"PK\x01\x02")
    data[at : at + 4] = b"XXXX"
    part.write_bytes(bytes(data))
    result = scan(tmp_path)
    assert kinds(result) == [("part-unreadable", None)]
    assert "central directory record" in result.problems[0].message


def test_duplicate_member_names(tmp_path: Path) -> None:
    part = tmp_path / f"WE_{ORG}_1.ZIP"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(part, "w") as zf:
        zf.writestr("Account.csv", b'"Id"\n"001"\n')
        zf.writestr("Account.csv", b'"Id"\n"001"\n"002"\n')
    result = scan(tmp_path)
    assert [p.kind for p in result.problems] == ["duplicate-member"]
    assert result.parts[0].intact is False


# --- review fixes: what must never pass -----------------------------------------


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_other_compression_methods_are_refused_not_inflated(tmp_path: Path, method: int) -> None:
    b = ExportBuilder().object("Account", 5)
    b.member("Attachments/00P5g0000000001EAA", b"\x00" * 300_000, method=method)
    b.member("Task.csv", b'"Id"\n"00T5g0000000001"\n', method=method)
    b.write(tmp_path)
    result = scan(tmp_path)
    assert kinds(result) == [
        ("unsupported", "Attachments/00P5g0000000001EAA"),
        ("unsupported", "Task.csv"),
    ]
    assert f"uses compression method {method}" in result.problems[0].message
    assert "Task" not in result.objects and result.objects["Account"].records == 5
    assert result.bytes_inflated < 100_000  # neither member was inflated
    assert result.parts[0].intact is False


def test_member_name_with_a_nul_byte_is_refused(tmp_path: Path) -> None:
    b = ExportBuilder().object("Account", 5).member("Documents/xAy.txt", b"hello")
    [part] = b.write(tmp_path)
    part.write_bytes(part.read_bytes().replace(b"Documents/xAy.txt", b"Documents/x\x00y.txt"))
    result = scan(tmp_path)
    assert kinds(result) == [("unsafe-name", "Documents/x\x00y.txt")]
    assert "NUL byte" in result.problems[0].message
    assert result.objects["Account"].records == 5


@pytest.mark.parametrize("workers", [1, 2])
def test_overlapping_members_are_never_inflated(tmp_path: Path, workers: int) -> None:
    big = b"%PDF " + b"abc" * 1_000_000  # 3 MB, deflates ~ 300:1 below the ratio floor
    b = ExportBuilder().object("Account", 5).member("Documents/01550000000001A", big[:900_000])
    [part] = b.write(tmp_path)

    def repeat(records: list[bytes]) -> list[bytes]:
        doc = next(r for r in records if b"Documents/" in r)
        return [*records, *[doc] * 400]

    rewrite_central(part, repeat)
    with zipfile.ZipFile(part) as zf:
        assert len(zf.infolist()) == 402
    started = time.perf_counter()
    result = scan(tmp_path, workers=workers)
    assert time.perf_counter() - started < 20
    overlap = [p for p in result.problems if p.kind == "zip-bomb"]
    assert len(overlap) == 1  # one finding for the part
    assert overlap[0].message.startswith(
        f"WE_{ORG}_1.ZIP: 400 member(s) overlap another member's data"
    )
    assert result.bytes_inflated < 2 * 900_000  # the member was inflated once, not 401 times
    assert result.objects["Account"].records == 5


def test_central_directory_out_of_offset_order_is_not_an_overlap(tmp_path: Path) -> None:
    b = ExportBuilder().object("Account", 30).object("Attachment", 8).files("Attachment")
    [part] = b.write(tmp_path)
    rewrite_central(part, lambda records: records[::-1])
    result = scan(tmp_path)
    assert result.problems == []
    assert result.objects["Account"].records == 30 and result.files["Attachment"].files == 8


def test_browser_copy_of_a_part_is_a_finding_not_counted_twice(
    export: tuple[ExportBuilder, Path],
) -> None:
    _, folder = export
    first = folder / f"WE_{ORG}_1.ZIP"
    shutil.copy(first, folder / f"WE_{ORG}_1 (1).ZIP")
    shutil.copy(folder / f"WE_{ORG}_2.ZIP", folder / f"we_{ORG}_2.zip")
    result = scan(folder)
    assert sorted((p.kind, p.part) for p in result.problems) == [
        ("part-duplicate", f"we_{ORG}_2.zip"),
        ("part-extra", f"WE_{ORG}_1 (1).ZIP"),
    ]
    assert [p.name for p in result.parts] == [f"WE_{ORG}_{n}.ZIP" for n in (1, 2, 3)]
    assert result.objects["Account"].records == 400
    assert result.objects["Contact"].records == 900


def test_the_same_part_from_two_folders(export: tuple[ExportBuilder, Path], tmp_path: Path) -> None:
    _, folder = export
    other = tmp_path / "again"
    other.mkdir()
    shutil.copy(folder / f"WE_{ORG}_1.ZIP", other / f"WE_{ORG}_1.ZIP")
    result = scan([folder, other])
    assert [(p.kind, p.part) for p in result.problems] == [("part-duplicate", f"WE_{ORG}_1.ZIP")]
    assert result.objects["Account"].records == 400


def test_non_part_zips_alone_are_still_scanned(tmp_path: Path) -> None:
    [part] = ExportBuilder().object("Account", 4).write(tmp_path)
    part.rename(tmp_path / "backup.zip")
    result = scan(tmp_path)
    assert result.problems == [] and result.objects["Account"].records == 4


def test_parts_of_two_exports_and_the_age_of_the_oldest(tmp_path: Path) -> None:
    old = ExportBuilder(exported_at=dt.datetime(2026, 9, 1, 3, 0)).object("Account", 30)
    old.object("Contact", 40).write(tmp_path / "old", parts=2)
    new = ExportBuilder().object("Account", 30).object("Contact", 40)
    new.write(tmp_path / "new", parts=2)
    shutil.copy(tmp_path / "old" / f"WE_{ORG}_1.ZIP", tmp_path / f"WE_{ORG}_1.ZIP")
    shutil.copy(tmp_path / "new" / f"WE_{ORG}_2.ZIP", tmp_path / f"WE_{ORG}_2.ZIP")
    result = scan(tmp_path)
    mixed = [p for p in result.problems if p.kind == "mixed-exports"]
    assert [p.message for p in mixed] == [
        f"the parts come from different exports: WE_{ORG}_1.ZIP is dated 2026-09-01 03:00, "
        f"WE_{ORG}_2.ZIP 2026-11-20 03:15"
    ]
    assert result.exported_at == dt.datetime(2026, 9, 1, 3, 0)  # the oldest part
    assert [p.exported_at for p in result.parts] == [
        dt.datetime(2026, 9, 1, 3, 0),
        dt.datetime(2026, 11, 20, 3, 15),
    ]
    assert "mixed-exports" not in kinds(scan(tmp_path / "new"))


def test_unpacked_folder_has_no_date(tmp_path: Path) -> None:
    ExportBuilder().object("Account", 5).write(tmp_path, layout="folder")
    result = scan(tmp_path)
    assert result.exported_at is None and result.parts[0].exported_at is None


def test_file_objects_match_the_id_column_in_any_case(tmp_path: Path) -> None:
    ids = [f"00P5g00000000{i:02d}EAA" for i in range(1, 5)]
    b = ExportBuilder().rows("Attachment", ["ID", "Name"], [[i, "a.pdf"] for i in ids])
    b.files("Attachment", missing=[3])
    b.write(tmp_path)
    result = scan(tmp_path)
    assert kinds(result) == [("files-missing", "Attachment"), ("files-unsized", "Attachment")]
    assert result.files["Attachment"].missing_ids == [ids[3][:15]]


def test_file_objects_without_an_id_column_cannot_be_matched(tmp_path: Path) -> None:
    b = ExportBuilder().rows("Document", ["Name", "Type"], [["a", "pdf"], ["b", "pdf"]])
    b.write(tmp_path)
    result = scan(tmp_path)
    assert kinds(result) == [("files-unmatched", "Document")]
    assert result.problems[0].message == (
        "Document: the CSV has no Id column, so its 2 rows cannot be matched to their files"
    )


@pytest.mark.parametrize(
    ("tail", "found", "records"),
    [
        # a lone surrogate inside a complete row
        (
            '"002","'.encode("utf-16-le") + b"\x00\xd8" + 'b"\n'.encode("utf-16-le"),
            ["malformed"],
            2,
        ),
        # cut in the middle of a character (and so of the last row)
        ('"002","b'.encode("utf-16-le") + b'"', ["truncated"], 1),
    ],
)
def test_damaged_utf16_csv_is_a_finding(
    tmp_path: Path, tail: bytes, found: list[str], records: int
) -> None:
    data = b"\xff\xfe" + '"Id","Name"\n"001","a"\n'.encode("utf-16-le") + tail
    ExportBuilder().object("Account", 3).raw_csv("Contact", data).write(tmp_path)
    result = scan(tmp_path)
    assert kinds(result) == [(kind, "Contact") for kind in found]
    assert result.objects["Contact"].intact is False
    assert result.objects["Contact"].records == records
    stats = count_records(data, chunk_size=3)
    assert sorted(i.kind for i in stats.issues) == found


def test_a_fifo_is_an_input_error(tmp_path: Path) -> None:
    fifo = tmp_path / "export.zip"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="neither a file nor a folder"):
        scan(fifo)


def _deflated_member(data: bytes) -> tuple[io.BytesIO, Member]:
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    comp = co.compress(data) + co.flush()
    header = b"PK\x03\x04" + bytes(22) + struct.pack("<HH", 1, 0) + b"x"
    return io.BytesIO(header + comp), Member("x", 0, len(comp), len(data), zlib.crc32(data), 8)


@pytest.mark.parametrize("backend", BACKENDS)
def test_small_buffers_never_lose_pending_output(backend: str) -> None:
    """An output cap that fills while the inflater holds output back (a long match
    at the end) must not make an intact member look cut."""
    for seed in range(3):
        rnd = random.Random(seed)
        data = rnd.randbytes(rnd.randint(0, 400)) + bytes([rnd.randrange(256)]) * 2000
        f, member = _deflated_member(data)
        for read_size in (1, member.csize):
            for out_max in range(1, 400, 3):
                out = iter_member(f, member, backend, read_size=read_size, out_max=out_max)
                assert b"".join(out) == data, (seed, read_size, out_max)


def test_pipelined_chunks_arrive_in_order_with_the_producers_error() -> None:
    """One member inflated in a thread while it is counted: the same chunks, in order;
    the inflater's error after the chunks before it; leaving early stops the thread."""
    from sfaudit.backup.members import MemberError, pipelined

    def chunks(fail: bool) -> Iterator[bytes]:
        for i in range(20):
            yield bytes([i]) * 1000
        if fail:
            raise MemberError("crc", "x.csv: CRC-32 mismatch")

    assert list(pipelined(chunks(False))) == list(chunks(False))
    got: list[bytes] = []
    with pytest.raises(MemberError, match="CRC-32 mismatch"):
        for chunk in pipelined(chunks(True), depth=1):
            got.append(chunk)
    assert len(got) == 20
    before = threading.active_count()
    early = pipelined(chunks(False), depth=1)
    assert next(early) == bytes([0]) * 1000
    early.close()
    assert threading.active_count() <= before


def test_one_large_csv_counted_while_inflated_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A single member above PIPELINE_MIN, scanned with a core to spare (inflated in a
    thread) and with none (inflated in line): the same exact count."""
    from sfaudit.backup import members, scanner

    rnd = random.Random(5)
    rows = [
        [f"a0B{i:015d}", rnd.randbytes(300).hex() + ('\n"x"' if i % 3 else ""), str(i)]
        for i in range(12_000)
    ]
    b = ExportBuilder(org_id=ORG).rows("Case", ["Id", "Description", "Number__c"], rows)
    b.write(tmp_path, parts=1, compresslevel=1)
    part = next(tmp_path.glob("WE_*.ZIP"))
    with zipfile.ZipFile(part) as zf:
        assert zf.getinfo("Case.csv").compress_size >= members.PIPELINE_MIN
    calls: list[int] = []
    real = members.pipelined

    def spy(chunks: Iterator[bytes], depth: int = members.PIPELINE_DEPTH) -> Iterator[bytes]:
        calls.append(1)
        return real(chunks, depth)

    monkeypatch.setattr(members, "pipelined", spy)
    for cores, threaded in ((2, 1), (1, 0)):
        calls.clear()
        monkeypatch.setattr(scanner, "default_workers", lambda cores=cores: cores)
        result = scan(part, workers=1)
        assert (result.objects["Case"].records, len(calls)) == (12_000, threaded)
        assert result.objects["Case"].intact


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be"])
def test_pieces_cut_anywhere_count_as_the_csv_module_says(encoding: str, counting: str) -> None:
    """One object's CSV in several pieces (a BOM and a repeated header each, as the
    parts of a Data Export hold), each cut at random offsets: inside a CR LF, right
    after a quote, inside a UTF-16 code unit. Both counts agree with the csv module."""
    rnd = random.Random(f"pieces-{encoding}")
    bom = {"utf-8": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    header = '"Id","Name"\r\n'
    for trial in range(120):
        pieces, expected = [], 0
        for _ in range(rnd.randint(1, 4)):
            rows = []
            for i in range(rnd.randint(0, 8)):
                value = "".join(rnd.choice('ab"\n\r,é') for _ in range(rnd.randint(0, 6)))
                rows.append(f'"{i}","{value.replace(chr(34), chr(34) * 2)}"\r\n')
                if rnd.random() < 0.2:
                    rows.append("\r\n")  # a blank line: not a record
            text = header + "".join(rows)
            expected += true_count(text.encode("utf-8"))
            pieces.append(bom + text.encode(encoding))
        counter = csvcount.RecordCounter("x.csv", encoding if not bom else "auto")
        for n, piece in enumerate(pieces):
            if n:
                counter.new_piece()
            cuts = sorted(rnd.sample(range(1, len(piece)), min(len(piece) - 1, rnd.randint(0, 9))))
            for a, b in zip([0, *cuts], [*cuts, len(piece)], strict=True):
                counter.feed(piece[a:b])
        stats = counter.finish()
        assert (stats.records, stats.issues) == (expected, []), (trial, counting, pieces)
