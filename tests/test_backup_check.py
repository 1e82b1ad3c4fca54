"""The backup-completeness check, run through the real runner on real exports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sfaudit.audit import run_audit
from sfaudit.backup import BackupInventory, scan
from sfaudit.backup.evaluate import evaluate
from sfaudit.config import load_config
from sfaudit.errors import ConfigError, InputError
from sfaudit.plugins import get_plugin_manager
from sfaudit.results import AuditReport, CheckResult
from sfaudit.testing import OrgBuilder
from sfaudit.testing.exports import ExportBuilder, damage_member

ORG = "00D5g000000ACMEEA2"
COUNTS = {"Account": 400, "Contact": 1000, "Deal__c": 60, "Attachment": 20}


def org_builder(org_id: str = ORG) -> OrgBuilder:
    b = OrgBuilder(org_id=org_id)
    b.user("admin@acme.example", admin=True)
    for name, count in COUNTS.items():
        b.object(name, count)
    b.object("AccountHistory", 900, replicateable=False)  # not in exports: never asked for
    b.object("Empty__c", 0)
    return b


def export(folder: Path, counts: dict[str, int] | None = None, **kwargs: Any) -> ExportBuilder:
    b = ExportBuilder(org_id=ORG, **kwargs)
    for name, count in (counts or COUNTS).items():
        b.object(name, count)
    if "Attachment" in (counts or COUNTS):
        b.files("Attachment")
    b.write(folder, parts=2)
    return b


def audit(tmp_path: Path, extra: str = "", *, org: OrgBuilder | None = None) -> CheckResult:
    return full_audit(tmp_path, extra, org=org).check("backup-completeness")


def full_audit(
    tmp_path: Path, extra: str = "", *, org: OrgBuilder | None = None, plugins: Any = ()
) -> AuditReport:
    (org or org_builder()).write(tmp_path / "org.json")
    config_path = tmp_path / "audit.yaml"
    config_path.write_text(
        textwrap.dedent(
            """\
            version: 1
            today: 2026-11-26
            org: {source: snapshot:org.json}
            backup: {path: export, max_age_days: 7}
            """
        )
        + textwrap.dedent(extra),
        encoding="utf-8",
    )
    config = load_config(config_path)
    pm = get_plugin_manager(entry_points=False, extra=plugins)
    return run_audit(config, pm, select=["backup-completeness"])


def test_complete_export_passes_with_metrics(tmp_path: Path) -> None:
    export(tmp_path / "export")
    result = audit(tmp_path)
    assert (result.status.value, result.findings) == ("pass", [])
    m = result.metrics
    assert m["objects_covered"] == 4 and m["objects_in_org"] == 4
    assert m["records_exported"] == sum(COUNTS.values())
    assert m["bytes_scanned"] > 0 and m["scan_rate_mb_s"] > 0
    assert m["parts"] == 2 and m["exported_at"] == "2026-11-20T03:15:00"


def test_short_object_is_a_finding_with_counts(tmp_path: Path) -> None:
    export(tmp_path / "export", {**COUNTS, "Contact": 990})  # 1% short, tolerance 0.5%
    result = audit(tmp_path)
    assert result.status.value == "fail"
    [finding] = result.findings
    assert finding.object == "Contact"
    assert finding.data["kind"] == "short"
    assert {k: finding.data[k] for k in ("org_count", "export_count", "gap")} == {
        "org_count": 1000,
        "export_count": 990,
        "gap": 10,
    }
    assert "tolerance" in finding.data["fix"]
    assert finding.message == "Contact: 990 of 1000 records exported (10 missing, 1.0%)"
    assert str(finding.severity) == "critical"


def test_tolerance_option(tmp_path: Path) -> None:
    export(tmp_path / "export", {**COUNTS, "Contact": 990})
    result = audit(tmp_path, "checks:\n  backup-completeness: {tolerance: 0.02}\n")
    assert result.status.value == "pass"


def test_missing_csv_and_ignore_objects(tmp_path: Path) -> None:
    counts = {k: v for k, v in COUNTS.items() if k != "Deal__c"}
    export(tmp_path / "export", counts)
    result = audit(tmp_path)
    [finding] = result.findings
    assert finding.message == "Deal__c: 60 records in the org, but no Deal__c.csv in the export"
    assert finding.data["kind"] == "missing"
    assert {k: finding.data[k] for k in ("org_count", "export_count", "gap")} == {
        "org_count": 60,
        "export_count": 0,
        "gap": 60,
    }
    ignored = audit(tmp_path, "checks:\n  backup-completeness: {ignore_objects: [Deal__c]}\n")
    assert ignored.status.value == "pass"
    assert ignored.metrics["objects_in_org"] == 3


def test_files_required_by_default(tmp_path: Path) -> None:
    b = ExportBuilder(org_id=ORG)
    for name, count in COUNTS.items():
        b.object(name, count)
    b.files("Attachment", missing=[1, 2, 3], cut=[5])
    b.write(tmp_path / "export", parts=2)
    result = audit(tmp_path)
    assert sorted(f.data["kind"] for f in result.findings) == ["file-size", "files-missing"]
    missing = next(f for f in result.findings if f.data["kind"] == "files-missing")
    assert missing.count == 3 and missing.object == "Attachment"
    relaxed = audit(tmp_path, "checks:\n  backup-completeness: {require_files: false}\n")
    assert relaxed.status.value == "pass"


def test_config_require_files_false(tmp_path: Path) -> None:
    b = ExportBuilder(org_id=ORG)
    for name, count in COUNTS.items():
        b.object(name, count)
    b.write(tmp_path / "export")  # no Attachments/ folder at all
    [finding] = audit(tmp_path).findings
    assert finding.message.startswith(
        "Attachment: 20 of 20 rows have no file (the export has no Attachments/ folder"
    )
    relaxed = audit(tmp_path, "").status.value
    assert relaxed == "fail"
    cfg = load_config(tmp_path / "audit.yaml")
    cfg.backup.require_files = False
    report = run_audit(cfg, get_plugin_manager(entry_points=False), select=["backup-completeness"])
    assert report.check("backup-completeness").status.value == "pass"


def test_old_export_fails_max_age(tmp_path: Path) -> None:
    export(tmp_path / "export", exported_at=dt.datetime(2026, 11, 10, 2, 0))
    result = audit(tmp_path)
    [finding] = result.findings
    assert finding.message == "the export is 16 days old (made 2026-11-10); max_age_days is 7"
    assert audit(tmp_path, "checks:\n  backup-completeness: {max_age_days: 30}\n").findings == []


def test_export_of_another_org(tmp_path: Path) -> None:
    export(tmp_path / "export")
    result = audit(tmp_path, org=org_builder("00D5g000000OTHEEA2"))
    assert [f.data["kind"] for f in result.findings] == ["org-mismatch", "org-mismatch"]
    assert "not of the audited org 00D5g000000OTHEEA2" in result.findings[0].message


def test_fifteen_char_org_id_in_file_names_matches(tmp_path: Path) -> None:
    b = ExportBuilder(org_id=ORG[:15])
    for name, count in COUNTS.items():
        b.object(name, count)
    b.files("Attachment").write(tmp_path / "export")
    assert audit(tmp_path).findings == []


def test_corrupt_part_fails_and_counts_what_is_left(tmp_path: Path) -> None:
    export(tmp_path / "export")
    damage_member(tmp_path / "export" / f"WE_{ORG}_1.ZIP", "Account.csv")
    result = audit(tmp_path)
    kinds = sorted(f.data["kind"] for f in result.findings)
    assert kinds == ["corrupt", "short"]
    short = next(f for f in result.findings if f.object == "Account" and "org_count" in f.data)
    assert short.data["org_count"] == 400


def test_missing_part_and_expected_parts(tmp_path: Path) -> None:
    b = ExportBuilder(org_id=ORG)
    for name, count in COUNTS.items():
        b.object(name, count)
    b.files("Attachment").write(tmp_path / "export", parts=3)
    (tmp_path / "export" / f"WE_{ORG}_3.ZIP").unlink()
    result = audit(tmp_path, "checks:\n  backup-completeness: {expected_parts: 3}\n")
    kinds = [f.data.get("kind") for f in result.findings]
    assert "part-missing" in kinds
    assert any(f.message == f"part 3 of 3 is missing (WE_{ORG}_3.ZIP)" for f in result.findings)


def test_latin1_export_with_encoding_option(tmp_path: Path) -> None:
    export(tmp_path / "export", encoding="iso-8859-1")
    detected = audit(tmp_path)
    assert detected.status.value == "pass"
    [note] = detected.findings
    assert (note.data["kind"], str(note.severity)) == ("encoding-note", "info")
    assert "choose UTF-8" in note.data["fix"]
    flagged = audit(tmp_path, "checks:\n  backup-completeness: {encoding: utf-8}\n")
    assert {f.data["kind"] for f in flagged.findings} == {"encoding"}
    assert {str(f.severity) for f in flagged.findings if f.failing} == {"medium"}
    declared = audit(tmp_path, "checks:\n  backup-completeness: {encoding: iso-8859-1}\n")
    assert [f.data["kind"] for f in declared.findings] == ["encoding-note"]


def test_no_backup_configured_fails_never_skips(tmp_path: Path) -> None:
    org_builder().write(tmp_path / "org.json")
    (tmp_path / "audit.yaml").write_text(
        "version: 1\norg: {source: snapshot:org.json}\n", encoding="utf-8"
    )
    report = run_audit(
        load_config(tmp_path / "audit.yaml"),
        get_plugin_manager(entry_points=False),
        select=["backup-completeness"],
    )
    result = report.check("backup-completeness")
    assert result.status.value == "fail"
    [finding] = result.findings
    assert finding.message.startswith("no Data Export to verify: backup.path is not set")
    assert "Data Export > Export Now" in finding.data["fix"]
    assert report.exit_code == 1


def test_backup_path_that_does_not_exist_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        audit(tmp_path)


def test_bad_tolerance_is_a_config_error(tmp_path: Path) -> None:
    export(tmp_path / "export")
    with pytest.raises(ConfigError) as info:
        audit(tmp_path, "checks:\n  backup-completeness: {tolerance: 5}\n")
    assert "tolerance" in str(info.value) and "between 0 and 1" in str(info.value)


def test_the_export_is_scanned_once_per_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sfaudit.backup import scanner
    from sfaudit.registry import check

    export(tmp_path / "export")
    real_scan = scanner.scan
    scans: list[str] = []

    def counting_scan(path: Any, **kwargs: Any) -> Any:
        scans.append(str(path))
        return real_scan(path, **kwargs)

    monkeypatch.setattr(scanner, "scan", counting_scan)
    seen: list[Any] = []

    class Peek:
        @staticmethod
        @check("peek-backup", severity="info")
        def peek(backup: BackupInventory) -> None:
            seen.append(backup.result())

    org_builder().write(tmp_path / "org.json")
    (tmp_path / "audit.yaml").write_text(
        "version: 1\ntoday: 2026-11-26\norg: {source: snapshot:org.json}\nbackup: {path: export}\n",
        encoding="utf-8",
    )
    pm = get_plugin_manager(entry_points=False, extra=[Peek])
    report = run_audit(
        load_config(tmp_path / "audit.yaml"), pm, select=["backup-completeness", "peek-backup"]
    )
    assert report.check("backup-completeness").status.value == "pass"
    assert len(scans) == 1
    assert seen[0].records == sum(COUNTS.values())


def test_unpacked_export_age_cannot_be_verified(tmp_path: Path) -> None:
    b = ExportBuilder(org_id=ORG)
    for name, count in COUNTS.items():
        b.object(name, count)
    now = dt.datetime(2026, 11, 26, 4, 0).timestamp()
    for path in b.files("Attachment").write(tmp_path / "export", layout="folder"):
        os.utime(path, (now, now))  # fresh file times (a copy) must not date the export
    result = audit(tmp_path)
    assert result.status.value == "fail"
    by_kind = {f.data["kind"]: f for f in result.findings}
    assert sorted(by_kind) == ["age-unknown", "org-unknown"]
    age = by_kind["age-unknown"]
    assert str(age.severity) == "critical" and "unset max_age_days" in age.data["fix"]
    assert age.message == (
        "the export's age cannot be verified (an unpacked folder's file times change when "
        "it is copied); max_age_days is 7"
    )
    assert str(by_kind["org-unknown"].severity) == "info"
    assert result.metrics["parts"] == 1 and result.metrics["exported_at"] is None
    counts = {k: v for k, v in COUNTS.items()}
    without_age = evaluate(scan(tmp_path / "export"), counts, today=dt.date(2026, 11, 26))
    assert [(f.data["kind"], f.failing) for f in without_age.findings] == [("org-unknown", False)]


def _unknown_counts(tmp_path: Path, names: set[str]) -> OrgBuilder:
    """An org whose source knows no record count for ``names``."""
    b = org_builder()
    for name in names:
        b._objects[name] = dataclasses.replace(b._objects[name], count=None)
    return b


def test_unknown_count_needs_a_csv(tmp_path: Path) -> None:
    export(tmp_path / "export", {k: v for k, v in COUNTS.items() if k != "Deal__c"})
    org = _unknown_counts(tmp_path, {"Deal__c", "Contact"})
    result = audit(tmp_path, org=org)
    [finding] = result.findings
    assert finding.data["kind"] == "count-unknown" and finding.object == "Deal__c"
    assert finding.message == (
        "Deal__c: the org's record count is unknown and the export has no Deal__c.csv: "
        "its records may not be backed up"
    )
    rows = {r["name"]: r for r in result.metrics["objects"]}
    assert rows["Contact"]["status"] == "ok" and rows["Contact"]["org_count"] is None
    assert rows["Deal__c"]["status"] == "missing"


def test_unknown_counts_are_counted_when_the_source_can(tmp_path: Path) -> None:
    """Salesforce's cached counts leave empty objects out: a COUNT() settles them."""
    export(tmp_path / "export", {k: v for k, v in COUNTS.items() if k != "Deal__c"})
    org = _unknown_counts(tmp_path, {"Deal__c"})
    org.object("Solution", 0)
    org._objects["Solution"] = dataclasses.replace(org._objects["Solution"], count=None)
    org.query("SELECT COUNT() FROM Solution", 0)
    org.query("SELECT COUNT() FROM Deal__c", 60)
    result = audit(tmp_path, org=org)
    [finding] = result.findings  # Solution is empty; Deal__c has 60 records and no CSV
    assert (finding.data["kind"], finding.object, finding.data["org_count"]) == (
        "missing",
        "Deal__c",
        60,
    )


def test_an_org_without_any_counts_never_passes(tmp_path: Path) -> None:
    export(tmp_path / "export")
    result = audit(tmp_path, org=_unknown_counts(tmp_path, set(COUNTS)))
    assert result.status.value == "fail"
    assert [f.data["kind"] for f in result.findings] == ["no-counts"]
    assert "the export cannot be compared with the org" in result.findings[0].message


def test_a_stale_part_fails_the_age_check(tmp_path: Path) -> None:
    export(tmp_path / "old", exported_at=dt.datetime(2026, 10, 1, 2, 0))
    export(tmp_path / "export")
    (tmp_path / "old" / f"WE_{ORG}_2.ZIP").replace(tmp_path / "export" / f"WE_{ORG}_2.ZIP")
    result = audit(tmp_path)
    assert sorted(f.data["kind"] for f in result.findings) == ["age", "mixed-exports"]
    age = next(f for f in result.findings if f.data["kind"] == "age")
    assert age.message == "the export is 56 days old (made 2026-10-01); max_age_days is 7"


def test_a_duplicate_download_fails_and_is_not_counted(tmp_path: Path) -> None:
    export(tmp_path / "export", {**COUNTS, "Contact": 600})  # 40% short
    for part in (tmp_path / "export").glob("WE_*.ZIP"):
        shutil.copy(part, part.with_name(part.stem + " (1).ZIP"))
    result = audit(tmp_path)
    kinds = sorted(f.data["kind"] for f in result.findings)
    assert kinds == ["part-extra", "part-extra", "short"]
    short = next(f for f in result.findings if f.data["kind"] == "short")
    assert short.data["export_count"] == 600


def test_every_kind_has_a_fix_and_every_fix_a_kind() -> None:
    """FIXES covers exactly the kinds the scanner and the check can emit; the emitted
    kinds are read from the source, so a new kind without a fix fails here."""
    import re

    from sfaudit.backup import csvcount, files, members, parts, scanner
    from sfaudit.backup import evaluate as bc
    from sfaudit.backup.model import PROBLEM_KINDS
    from sfaudit.checks import backup_completeness

    emitted: set[str] = set()
    patterns = [
        r'(?:Problem|MemberError|_issue|bad|CsvIssue)\(\s*"([a-z0-9-]+)"',
        r'return\s*\(?\s*"([a-z0-9-]+)",\s*f"',
        r'"kind": "([a-z0-9-]+)"',
        r'"kind": "[a-z-]+" if .* else "([a-z0-9-]+)"',
        r'kind = "([a-z0-9-]+)" if',
        r'kind = "[a-z0-9-]+" if .* else "([a-z0-9-]+)"',
    ]
    for module in (scanner, members, parts, files, csvcount, bc, backup_completeness):
        text = Path(str(module.__file__)).read_text(encoding="utf-8")
        for pattern in patterns:
            emitted.update(re.findall(pattern, text))
    assert emitted == set(bc.FIXES)
    assert set(bc.FIXES) == PROBLEM_KINDS | bc.CHECK_KINDS
    assert all(bc.FIXES.values())


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("max_age_days: soon", "must be a whole number"),
        ("expected_parts: -1", "must be a whole number"),
        ("require_files: 'yes'", "must be true or false"),
        ("encoding: klingon", "unknown encoding 'klingon'"),
        ("encoding: utf-32", "does not write quotes and line feeds as ASCII"),
        ("encoding: shift_jis", "multibyte encoding"),
    ],
)
def test_bad_options_are_config_errors(tmp_path: Path, option: str, message: str) -> None:
    export(tmp_path / "export")
    with pytest.raises(ConfigError) as info:
        audit(tmp_path, f"checks:\n  backup-completeness: {{{option}}}\n")
    assert message in str(info.value) and "backup-completeness" in str(info.value)


def test_backup_imports_nothing_from_checks() -> None:
    """The layers run one way: sfaudit.backup is the domain, the check a thin caller."""
    import ast

    import sfaudit.backup

    root = Path(str(sfaudit.backup.__file__)).parent
    offenders = []
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = ("." * node.level) + (node.module or "")
                if module.startswith(("..checks", "sfaudit.checks")):
                    offenders.append(f"{path.name}: {module}")
            elif isinstance(node, ast.Import):
                offenders += [f"{path.name}: {a.name}" for a in node.names if "checks" in a.name]
    assert offenders == []
