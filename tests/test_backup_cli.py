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


def test_verify_backup_needs_no_org_source(
    cli: Callable[..., Result], export_dir: Path, tmp_path: Path
) -> None:
    """Only `run` needs an org: a config with backup.path alone verifies the export."""
    config = tmp_path / "backup-only.yaml"
    config.write_text("version: 1\nbackup: {path: export}\n", encoding="utf-8")
    result = cli("verify-backup", "--today", TODAY, "-c", config, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["scan"]["records"] == 430 and doc["metrics"]["objects_in_org"] is None


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
    assert rows["FeedItem"]["status"] == rows["CaseHistory"]["status"] == "ok"  # NewsFeed.csv...
    assert rows["Organization"]["status"] == "not-exported"
    # ...and a metadata backup with two deliberate gaps, named in its findings.
    meta = next(c for c in report["checks"] if c["id"] == "metadata-backup")
    missing = {
        f["data"]["type"]: f["data"]["members"]
        for f in meta["findings"]
        if f["data"]["kind"] == "missing"
    }
    assert missing == {"ApexClass": ["LegacyErpSync"], "Flow": ["Renewal_Reminder"]}
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


def test_forced_zlib_says_so_and_how_to_undo_it(
    cli: Callable[..., Result], export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("isal")  # a core dependency wherever isal publishes wheels
    monkeypatch.setenv("SFAUDIT_INFLATE", "zlib")
    table = cli("verify-backup", "--today", TODAY, export_dir)
    assert table.exit_code == 0, table.output
    note = "inflating with zlib because SFAUDIT_INFLATE=zlib: isal is installed"
    assert f"note {note}" in table.output and "unset SFAUDIT_INFLATE" in table.output
    doc = json.loads(cli("verify-backup", "--today", TODAY, export_dir, "--format", "json").stdout)
    assert doc["scan"]["backend"] == "zlib"
    assert doc["scan"]["backend_note"].startswith(note)
    monkeypatch.delenv("SFAUDIT_INFLATE")
    fast = json.loads(cli("verify-backup", "--today", TODAY, export_dir, "--format", "json").stdout)
    assert (fast["scan"]["backend"], fast["scan"]["backend_note"]) == ("isal", None)


@pytest.mark.parametrize(
    ("missing", "backend"), [(("isal",), "zlib-ng"), (("isal", "zlib_ng"), "zlib")]
)
def test_without_isal_verify_backup_falls_back_and_names_the_fix(
    export_dir: Path, missing: tuple[str, ...], backend: str
) -> None:
    """A real process in which the fast modules cannot be imported, as on a platform
    without their wheels (``sys.modules[name] = None`` makes ``import name`` fail)."""
    code = (
        "import sys\n"
        f"for name in {missing!r}: sys.modules[name] = None\n"
        "from sfaudit.cli import main\n"
        "main()\n"
    )
    args = ["verify-backup", "--today", TODAY, str(export_dir), "--format", "json"]
    env = {k: v for k, v in os.environ.items() if k != "SFAUDIT_INFLATE"}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    scan = json.loads(proc.stdout)["scan"]
    note = f"inflating with {backend}: isal is not installed; install it (`pip install isal`)"
    assert scan["backend"] == backend and scan["backend_note"].startswith(note)
    assert proc.stderr.startswith(f"note: {note}")
    assert scan["records"] == 430  # the same answer, only slower


def test_an_isal_too_old_to_trust_is_not_used_and_the_note_says_so(
    cli: Callable[..., Result], export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """isal before 1.9 can cut an intact member short (small output caps): not used."""
    isal = pytest.importorskip("isal")
    pytest.importorskip("zlib_ng")
    monkeypatch.delenv("SFAUDIT_INFLATE", raising=False)
    monkeypatch.setattr(isal, "__version__", "1.8.0")
    doc = json.loads(cli("verify-backup", "--today", TODAY, export_dir, "--format", "json").stdout)
    assert doc["scan"]["backend"] == "zlib-ng"
    assert doc["scan"]["backend_note"].startswith(
        "inflating with zlib-ng: isal 1.8.0 is too old to be used; upgrade it"
    )
    assert doc["scan"]["records"] == 430
