"""Backup verification on exports shaped like real ones (shared/SALESFORCE.md, "What real
exports look like"): ISO-8859-1, NUL-led rich text, header-only CSVs, renamed history and
feed files, link documents without a file, ContentBody blobs with MD5s. A complete one is
complete; each real defect is its own finding with the record Id."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from sfaudit.backup.csvcount import count_records
from sfaudit.backup.scanner import scan
from sfaudit.testing import OrgBuilder
from sfaudit.testing.exports import ExportBuilder, write_demo_export

ORG = "00D5g000000ACMEEA2"
TODAY = "2026-11-26"
MADE = dt.datetime(2026, 11, 20, 3, 15)
#: An org as describe global and recordCount show it: replicateable objects with records,
#: including ones a Data Export never writes and ones it writes under another name.
COUNTS = {
    "Account": 240,
    "Contact": 610,
    "Opportunity": 180,
    "Case": 95,
    "Attachment": 30,
    "Document": 6,
    "ContentVersion": 14,
    "Invoice__c": 77,
    "FeedItem": 120,
    "CaseHistory": 300,
    "Organization": 1,
    "Profile": 24,
    "PermissionSet": 41,
    "Group": 9,
    "GroupMember": 30,
    "AccountShare": 700,
    "EmailTemplate": 12,
    "Region__mdt": 5,
}


def real_export(folder: Path, **kwargs: object) -> list[Path]:
    return write_demo_export(folder, COUNTS, org_id=ORG, exported_at=MADE, **kwargs)  # type: ignore[arg-type]


def org_snapshot(path: Path) -> Path:
    b = OrgBuilder(org_id=ORG)
    for name, count in COUNTS.items():
        b.object(name, count)
    return b.write(path)


def verify(cli: Callable[..., Result], *args: str | Path) -> tuple[int, dict]:
    result = cli("verify-backup", "--today", TODAY, *args, "--format", "json")
    return result.exit_code, json.loads(result.output)


def test_the_real_profile_reproduces_what_real_exports_hold(tmp_path: Path) -> None:
    parts = real_export(tmp_path)
    names: dict[str, bytes] = {}
    for part in parts:
        with zipfile.ZipFile(part) as zf:
            names.update((n, zf.read(n)) for n in zf.namelist())
    csvs = {n[:-4] for n in names if n.endswith(".csv")}
    assert {"NewsFeed", "CaseHistory2", "ContentBody"} <= csvs
    assert not {"FeedItem", "CaseHistory", "Organization", "Profile", "AccountShare"} & csvs
    account = names["Account.csv"]
    assert b"\r\n" not in account and not account.startswith(b"\xef\xbb\xbf")
    assert account.startswith(b'"Id","IsDeleted"') and b'"0","' in account  # booleans 0/1
    assert b'"\x00<p>' in names["Opportunity.csv"]  # rich text led by a NUL
    with pytest.raises(UnicodeDecodeError):
        account.decode("utf-8")  # ISO-8859-1, as the production export
    assert names["Idea.csv"].count(b"\n") == 1  # header only
    documents = [n for n in names if n.startswith("Documents/")]
    assert len(documents) == COUNTS["Document"] - 1  # the link document has no file
    attachments = [n for n in names if n.startswith("Attachments/")]
    assert len(attachments) == COUNTS["Attachment"] and min(len(names[n]) for n in attachments) == 0
    blobs = [n for n in names if n.startswith("Other Uploaded Collateral/")]
    assert len(blobs) == 5


def test_a_complete_real_export_is_complete_with_every_count_exact(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    real_export(tmp_path / "export")
    code, doc = verify(cli, tmp_path / "export", "--counts", org_snapshot(tmp_path / "org.json"))
    assert code == 0, doc["findings"]
    assert doc["verdict"] == "complete"
    rows = {r["name"]: r for r in doc["objects"]}
    for name in ("Account", "Contact", "Opportunity", "Invoice__c", "FeedItem", "CaseHistory"):
        assert rows[name]["export_count"] == rows[name]["org_count"] == COUNTS[name], name
        assert rows[name]["status"] == "ok"
    assert rows["Idea"] == {
        "name": "Idea",
        "export_count": 0,
        "org_count": None,
        "gap": None,
        "status": "ok",
    }
    notes = {f["data"]["kind"]: f for f in doc["findings"]}
    assert sorted(notes) == ["encoding-note", "not-exported"]
    assert {f["severity"] for f in doc["findings"]} == {"info"}
    assert notes["not-exported"]["data"]["objects"] == [
        "AccountShare",
        "EmailTemplate",
        "Group",
        "GroupMember",
        "Organization",
        "PermissionSet",
        "Profile",
        "Region__mdt",
    ]
    assert "metadata retrieve" in notes["not-exported"]["message"]
    assert "metadata-backup check" in notes["not-exported"]["message"]
    assert "choose UTF-8" in notes["encoding-note"]["data"]["fix"]
    files = {f["object"]: f for f in doc["scan"]["files"]}
    assert files["Attachment"]["zero_rows"] == 1 and files["Document"]["zero_rows"] == 1
    assert files["ContentBody"]["hashed"] == 5 and files["ContentBody"]["wrong_hash"] == 0
    assert files["ContentVersion"]["size_column"] == "ContentSize"


def defects(folder: Path) -> None:
    b = ExportBuilder.real(org_id=ORG, exported_at=MADE)
    b.object("Account", 40).object("Contact", 90)
    b.object("Attachment", 12).files("Attachment", cut=[4], missing=[7])
    b.content_bodies(3, bad_hash=[2])
    b.write(folder, parts=3)


@pytest.mark.parametrize(
    ("kind", "record", "needle"),
    [
        ("file-size", "00P5g0000000005", "cut short"),
        ("files-missing", "00P5g0000000008", "1 of 12 rows have no file"),
        ("file-checksum", "05T5g0000000003", "its row's Hash states"),
    ],
)
def test_each_file_defect_is_its_own_finding_with_the_record_id(
    cli: Callable[..., Result], tmp_path: Path, kind: str, record: str, needle: str
) -> None:
    defects(tmp_path / "export")
    code, doc = verify(cli, tmp_path / "export")
    assert code == 1
    [finding] = [f for f in doc["findings"] if f["data"]["kind"] == kind]
    assert finding["record_id"] == record and needle in finding["message"]
    assert finding["severity"] == "critical" and finding["data"]["fix"]
    if kind == "file-size":
        assert finding["data"]["expected_bytes"] == 2 * finding["data"]["found_bytes"] + (
            finding["data"]["expected_bytes"] % 2
        )


def test_a_missing_part_and_a_short_csv_are_findings(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    real_export(tmp_path / "export", short={"Contact": 10}, parts=3)
    snapshot = org_snapshot(tmp_path / "org.json")
    code, doc = verify(cli, tmp_path / "export", "--counts", snapshot)
    assert code == 1
    [short] = [f for f in doc["findings"] if f["data"]["kind"] == "short"]
    assert short["object"] == "Contact" and short["count"] == 10
    (tmp_path / "export" / f"WE_{ORG}_2.ZIP").unlink()
    code, doc = verify(cli, tmp_path / "export", "--counts", snapshot)
    assert code == 1
    assert any(f["data"]["kind"] == "part-missing" for f in doc["findings"])


def test_an_empty_attachment_needs_no_more_than_its_empty_file(tmp_path: Path) -> None:
    """BodyLength 0 and a 0-byte file is a complete empty attachment, not a finding."""
    b = ExportBuilder(org_id=ORG).object("Attachment", 60).files("Attachment", empty=[17])
    b.write(tmp_path)
    result = scan(tmp_path)
    assert result.problems == []
    assert result.files["Attachment"].zero_rows == 1


def test_without_a_size_column_files_are_checked_for_presence_and_a_note_says_so(
    tmp_path: Path,
) -> None:
    ids = [f"00P5g00000000{i:02d}EAA" for i in range(1, 6)]
    b = ExportBuilder(org_id=ORG).rows("Attachment", ["Id", "Name"], [[i, "a.pdf"] for i in ids])
    b.files("Attachment", missing=[1], empty=[3])
    b.write(tmp_path)
    result = scan(tmp_path)
    kinds = sorted(p.kind for p in result.problems)
    assert kinds == ["files-empty", "files-missing", "files-unsized"]
    [note] = [p for p in result.problems if p.kind == "files-unsized"]
    assert "no BodyLength column" in note.message and "could not be checked" in note.message


def test_content_bodies_are_hashed_in_an_unpacked_folder_too(tmp_path: Path) -> None:
    ExportBuilder.real().content_bodies(4, bad_hash=[0]).write(tmp_path, layout="folder")
    result = scan(tmp_path)
    [bad] = [p for p in result.problems if p.kind == "file-checksum"]
    assert bad.record_id == "05T5g0000000001"
    assert result.files["ContentBody"].hashed == 4


def test_nul_led_rich_text_is_data_and_counted_exactly() -> None:
    b = ExportBuilder.real().object("Opportunity", 400)
    data = b.csv_bytes("Opportunity")
    assert data.count(b'"\x00<p>') > 40
    for chunk_size in (7, 4096, 1 << 20):
        stats = count_records(data, chunk_size=chunk_size)
        assert (stats.records, stats.issues) == (b.true_count("Opportunity"), [])


def test_a_nul_led_value_in_the_last_row_is_no_short_row() -> None:
    data = b'"Id","Description","Name"\n"006A","\x00<p>x</p>","a"\n'
    assert count_records(data).issues == []


def test_nul_outside_quotes_is_not_a_csv() -> None:
    stats = count_records(b'"Id","Name"\n"1","a"\n\x00\x00"2","b"\n')
    assert [i.kind for i in stats.issues] == ["binary"]
    assert "outside quotes" in stats.issues[0].message


@pytest.mark.parametrize(
    ("declared", "text", "kinds", "detected"),
    [
        ("auto", '"Id","N"\n"1","Zürich"\n'.encode(), [], "utf-8"),
        ("auto", '"Id","N"\n"1","Zürich"\n'.encode("cp1252"), [], "windows-1252"),
        ("auto", b'"Id","N"\n"1","Zurich"\n', [], "ascii"),
        ("auto", '"Id","N"\n"1","Zürich"\n"2",'.encode() + '"Zürich"\n'.encode("latin-1"),
         ["encoding"], "windows-1252"),
        ("iso-8859-1", '"Id","N"\n"1","Zürich"\n'.encode(), ["encoding"], "iso8859-1"),
        ("utf-8", '"Id","N"\n"1","Zürich"\n'.encode("latin-1"), ["encoding"], "utf-8"),
        ("windows-1252", '"Id","N"\n"1","Zürich"\n'.encode("cp1252"), [], "cp1252"),
    ],
)  # fmt: skip
def test_encodings_detected_and_contradictions_flagged(
    declared: str, text: bytes, kinds: list[str], detected: str
) -> None:
    stats = count_records(text, declared, chunk_size=5)
    assert stats.records == text.count(b"\n") - 1
    assert [i.kind for i in stats.issues] == kinds
    assert stats.encoding == detected


def test_a_latin1_character_next_to_a_symbol_is_not_taken_for_utf8() -> None:
    """Ä then ° (0xC4 0xB0) is valid UTF-8 only when adjacent: far apart in Latin-1 text
    the detection must still call the file single-byte, not mixed."""
    text = '"Id","N"\n"1","Ärger bei 5 °C, café"\n'.encode("latin-1")
    stats = count_records(text)
    assert (stats.issues, stats.encoding) == ([], "windows-1252")


@pytest.mark.parametrize(
    ("given", "codec"),
    [("auto", "auto"), ("UTF8", "utf-8"), ("utf-8-sig", "utf-8"), ("latin1", "iso8859-1"),
     ("Windows-1252", "cp1252"), ("utf_16", "utf-16")],
)  # fmt: skip
def test_encoding_names_are_normalised(given: str, codec: str) -> None:
    from sfaudit.backup.csvcount import normalize_encoding

    assert normalize_encoding(given) == codec


def test_objects_real_exports_hold_are_never_excused(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """UserRole, FiscalYearSettings, OpportunityHistory and CaseHistory get CSVs in real
    exports: without one they are missing, not 'never exported'."""
    from sfaudit.backup.evaluate import evaluate

    b = ExportBuilder.real(org_id=ORG).object("Account", 5)
    b.object("NewsFeed", 690).object("FeedPost", 3)
    b.write(tmp_path)
    counts = {"Account": 5, "FeedItem": 690, "UserRole": 24, "FiscalYearSettings": 3,
              "OpportunityHistory": 500, "CaseHistory": 40, "Organization": 1}  # fmt: skip
    rows = {r.name: r.status for r in evaluate(scan(tmp_path), counts).rows}
    assert rows["FeedItem"] == "ok"  # NewsFeed.csv, the larger of the two
    for name in ("UserRole", "FiscalYearSettings", "OpportunityHistory", "CaseHistory"):
        assert rows[name] == "missing", name
    assert rows["Organization"] == "not-exported"


def test_an_export_unpacked_into_a_folder_of_its_own_finds_its_files(tmp_path: Path) -> None:
    """'Extract All' puts each part in a folder of its own: WE_<org>_1/Attachments/..."""
    b = ExportBuilder.real(org_id=ORG).object("Attachment", 4).files("Attachment")
    b.content_bodies(2, bad_hash=[1])
    b.write(tmp_path / f"WE_{ORG}_1", layout="folder")
    result = scan(tmp_path)
    assert result.files["Attachment"].missing == 0 and result.files["Attachment"].files == 4
    assert [p.record_id for p in result.problems if p.kind == "file-checksum"] == [
        "05T5g0000000002"
    ]


@pytest.mark.parametrize("chunk", [1, 3, 7, 1 << 20])
def test_utf16_pieces_with_their_own_bom_and_header_count_once(chunk: int) -> None:
    from sfaudit.backup.csvcount import RecordCounter

    for enc, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        piece = bom + '"Id","Name"\n"001","Łódź"\n'.encode(enc)
        counter = RecordCounter("x")
        for data in (piece, piece):
            counter.new_piece()
            for i in range(0, len(data), chunk):
                counter.feed(data[i : i + chunk])
        stats = counter.finish()
        assert (stats.records, stats.issues, stats.encoding) == (2, [], enc)


def test_declared_utf16_without_a_bom_is_read_as_utf16() -> None:
    data = '"Id","Name"\n"001","a"\n'.encode("utf-16-le")
    assert count_records(data).issues[0].kind == "binary"  # undetectable without a BOM
    stats = count_records(data, "utf-16-le")
    assert (stats.records, stats.issues) == (1, [])


def test_a_utf8_character_split_across_chunks_is_utf8() -> None:
    data = '"Id","Name"\n"001","Café"\n'.encode()
    for chunk in (1, 2, 23, 24, 25):
        stats = count_records(data, chunk_size=chunk)
        assert (stats.encoding, stats.issues) == ("utf-8", []), chunk
        assert count_records(data, "utf-8", chunk_size=chunk).issues == [], chunk


def test_a_latin1_accent_as_the_last_byte_is_single_byte() -> None:
    data = '"Id","Name"\n"001","Crème"'.encode("latin-1")
    assert count_records(data).encoding == "windows-1252"
    assert count_records(data, "iso-8859-1").issues == []


def test_mis_encoded_text_in_a_declared_single_byte_export_is_data() -> None:
    data = '"Id","Name"\n"001","donâ€™t, café"\n'.encode("cp1252")
    assert [i.kind for i in count_records(data).issues] == ["encoding"]  # auto: mixed
    assert "mis-encoded" in count_records(data).issues[0].message
    assert count_records(data, "windows-1252").issues == []


def test_the_last_row_without_a_newline_keeps_its_size() -> None:
    from sfaudit.backup.csvcount import RecordCounter

    data = b'"Id","BodyLength"\n"00P000000000001AAA","10"\n"00P000000000002AAA","20"'
    for chunk in (1, 5, 1000):
        counter = RecordCounter("x", collect_id=True, size_column="BodyLength")
        for i in range(0, len(data), chunk):
            counter.feed(data[i : i + chunk])
        assert list(counter.finish().sizes or []) == [10, 20], chunk
