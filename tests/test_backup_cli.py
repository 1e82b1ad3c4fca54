"""`sfaudit verify-backup` and the demo's backup, through the CLI and real processes."""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from sfaudit.testing import OrgBuilder
from sfaudit.testing.exports import ExportBuilder

ORG = "00D5g000000ACMEEA2"
#: The export builder dates exports 2026-11-20 03:15; every verify-backup call pins the
#: date, so no test reads the clock.
TODAY = "2026-11-26"
SFAUDIT = str(Path(sys.executable).with_name("sfaudit"))


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    b = ExportBuilder(org_id=ORG).object("Account", 120).object("Contact", 300)
    b.object("Attachment", 10).files("Attachment")
    b.write(tmp_path / "export", parts=2)
    return tmp_path / "export"


def org_snapshot(tmp_path: Path, contacts: int = 300) -> Path:
    b = OrgBuilder(org_id=ORG)
    b.object("Account", 120).object("Contact", contacts).object("Attachment", 10)
    return b.write(tmp_path / "org.json")


def test_verify_backup_table(cli: Callable[..., Result], export_dir: Path) -> None:
    result = cli("verify-backup", "--today", TODAY, export_dir)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"2 part(s) of {ORG}, exported 2026-11-20 03:15" in out
    assert "Contact" in out and "300" in out
    assert "Attachment files: 10 in Attachments for 10 rows (0 missing, 0 empty)" in out
    assert "complete: every part intact, every CSV counted (exit 0)" in out


def test_verify_backup_json_against_counts(
    cli: Callable[..., Result], export_dir: Path, tmp_path: Path
) -> None:
    snapshot = org_snapshot(tmp_path, contacts=400)
    result = cli(
        "verify-backup", "--today", TODAY, export_dir, "--counts", snapshot, "--format", "json"
    )
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["verdict"] == "not-complete" and doc["exit_code"] == 1
    rows = {r["name"]: r for r in doc["objects"]}
    assert rows["Contact"] == {
        "name": "Contact",
        "export_count": 300,
        "org_count": 400,
        "gap": 100,
        "status": "short",
    }
    assert rows["Account"]["status"] == "ok"
    [finding] = doc["findings"]
    assert {k: finding["data"][k] for k in ("kind", "org_count", "export_count", "gap")} == {
        "kind": "short",
        "org_count": 400,
        "export_count": 300,
        "gap": 100,
    }
    assert doc["scan"]["records"] == 430
    assert doc["metrics"]["objects_covered"] == 2


def test_verify_backup_source_and_config(
    cli: Callable[..., Result], export_dir: Path, tmp_path: Path
) -> None:
    snapshot = org_snapshot(tmp_path)
    assert (
        cli(
            "verify-backup", "--today", TODAY, export_dir, "--source", f"snapshot:{snapshot}"
        ).exit_code
        == 0
    )
    config = tmp_path / "audit.yaml"
    config.write_text(
        "version: 1\norg: {source: snapshot:org.json}\nbackup: {path: export}\n"
        "checks:\n  backup-completeness: {tolerance: 0.01}\n",
        encoding="utf-8",
    )
    result = cli("verify-backup", "--today", TODAY, "-c", config, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["metrics"]["objects_in_org"] == 3


def test_verify_backup_list_of_parts(cli: Callable[..., Result], export_dir: Path) -> None:
    parts = sorted(export_dir.glob("WE_*.ZIP"))
    result = cli("verify-backup", "--today", TODAY, *parts, "--format", "json")
    doc = json.loads(result.output)
    assert [p["number"] for p in doc["scan"]["parts"]] == [1, 2]
    result = cli(
        "verify-backup", "--today", TODAY, parts[1], "--expected-parts", "2", "--format", "json"
    )
    assert result.exit_code == 1
    kinds = [f["data"]["kind"] for f in json.loads(result.output)["findings"]]
    assert "part-missing" in kinds


def test_verify_backup_bad_inputs(cli: Callable[..., Result], tmp_path: Path) -> None:
    missing = cli("verify-backup", "--today", TODAY, tmp_path / "nope")
    assert missing.exit_code == 2
    assert "error: backup" in missing.output and "does not exist" in missing.output
    assert "Traceback" not in missing.output
    assert cli("verify-backup").exit_code == 2
    (tmp_path / f"WE_{ORG}_1.ZIP").write_bytes(b"PK\x03\x04 not really")
    bad = cli("verify-backup", "--today", TODAY, tmp_path)
    assert bad.exit_code == 1
    assert "is not a readable ZIP" in bad.output and "Traceback" not in bad.output


def test_verify_backup_help_has_examples(cli: Callable[..., Result]) -> None:
    out = cli("verify-backup", "--help").output
    assert "Examples:" in out and "--counts org.json" in out


def test_real_process_two_workers_quiet_without_tty(export_dir: Path) -> None:
    proc = subprocess.run(
        [
            SFAUDIT,
            "verify-backup",
            "--today",
            TODAY,
            str(export_dir),
            "-j",
            "2",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
    assert json.loads(proc.stdout)["metrics"]["workers"] == 2


def test_progress_bar_on_a_tty(export_dir: Path) -> None:
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [SFAUDIT, "verify-backup", "--today", TODAY, str(export_dir), "--format", "json"],
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(secondary)
    seen = b""
    while True:
        try:
            data = os.read(primary, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
    assert proc.wait(timeout=120) == 0
    os.close(primary)
    assert b"verifying backup" in seen


def test_demo_audits_a_backup_with_findings(cli: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = cli("demo", "-o", out, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    backup = next(c for c in report["checks"] if c["id"] == "backup-completeness")
    assert backup["status"] == "fail"
    failing = sorted(f["message"] for f in backup["findings"] if f["severity"] != "info")
    assert failing[1] == "Opportunity: 792 of 812 records exported (20 missing, 2.5%)"
    assert failing[0].startswith("Attachment: 2 of 126 rows have no file in Attachments/")
    # The demo export is a real-profile one: ISO-8859-1, and the org's setup objects are
    # never in a Data Export. Both are notes, never failures.
    notes = {f["data"]["kind"]: f["message"] for f in backup["findings"] if f["severity"] == "info"}
    assert sorted(notes) == ["encoding-note", "not-exported"]
    assert "Group, Organization, PermissionSet, Profile" in notes["not-exported"]
    rows = {r["name"]: r for r in backup["metrics"]["objects"]}
    assert rows["FeedItem"]["status"] == rows["CaseHistory"]["status"] == "ok"  # FeedPost.csv...
    assert rows["Organization"]["status"] == "not-exported"
    assert sorted((out / "demo-backup").glob("WE_*.ZIP"))


def test_verify_backup_fifo_and_damaged_utf16(cli: Callable[..., Result], tmp_path: Path) -> None:
    fifo = tmp_path / "export.zip"
    os.mkfifo(fifo)
    result = cli("verify-backup", "--today", TODAY, fifo)
    assert result.exit_code == 2
    assert "is neither a file nor a folder" in result.output and "Traceback" not in result.output
    data = b"\xff\xfe" + '"Id","Name"\n"001","a"\n"002","b'.encode("utf-16-le") + b'"'
    ExportBuilder(org_id=ORG).raw_csv("Account", data).write(tmp_path / "u16")
    result = cli("verify-backup", "--today", TODAY, tmp_path / "u16", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert [f["data"]["kind"] for f in doc["findings"]] == ["truncated"]
    assert doc["scan"]["parts"][0]["exported_at"] == "2026-11-20T03:15:00"
    assert doc["scan"]["intact"] is False


def test_verify_backup_unknown_counts(
    cli: Callable[..., Result], export_dir: Path, tmp_path: Path
) -> None:
    b = OrgBuilder(org_id=ORG)
    b.object("Account", 120).object("Contact", 300).object("Attachment", 10).object("Lead", 1)
    b._objects["Lead"] = dataclasses.replace(b._objects["Lead"], count=None)
    snapshot = b.write(tmp_path / "org.json")
    result = cli(
        "verify-backup", "--today", TODAY, export_dir, "--counts", snapshot, "--format", "json"
    )
    assert result.exit_code == 1
    [finding] = json.loads(result.output)["findings"]
    assert (finding["data"]["kind"], finding["object"]) == ("count-unknown", "Lead")
    b.query("SELECT COUNT() FROM Lead", 0)  # the source can count it: empty
    b.write(tmp_path / "org.json")
    assert cli("verify-backup", "--today", TODAY, export_dir, "--counts", snapshot).exit_code == 0
