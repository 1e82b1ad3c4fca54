"""The metadata-backup check: the backup's inventory, the org's (live and snapshot),
the judgement, the config and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sfaudit.audit import run_audit
from sfaudit.cli import main
from sfaudit.config import load_config
from sfaudit.errors import ConfigError
from sfaudit.metadata import read_backup
from sfaudit.metadata.org import profile_full_name
from sfaudit.plugins import get_plugin_manager
from sfaudit.results import AuditReport, CheckResult, Status
from sfaudit.sources.snapshot import SnapshotOrg, load_snapshot, write_snapshot
from sfaudit.testing import MetadataBuilder, OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import EmulatorLogins

TODAY = "2026-11-26"
MADE = dt.datetime(2026, 11, 20, 9, 0)


def components() -> MetadataBuilder:
    m = MetadataBuilder()
    m.add("ApexClass", "InvoiceService", "InvoiceServiceTest", "LegacyHelper")
    m.add("ApexClass", "Util", namespace="acmepkg")
    m.add("ApexTrigger", "InvoiceTrigger")
    m.add("Flow", "Invoice_Approval", "Lead_Routing")
    m.field("Account.Score__c", "Invoice__c.Amount__c", "acmepkg__Contract__c.Local_Note__c")
    m.field("acmepkg__Contract__c.acmepkg__Term__c", namespace="acmepkg")
    m.add("ValidationRule", "Invoice__c.Amount_Positive")
    m.add("Layout", "Invoice__c-Invoice Layout", "Account-Account Layout")
    m.add("LightningComponentBundle", "invoiceCard")
    m.add("AuraDefinitionBundle", "legacyBanner")
    m.add("StaticResource", "Logo")
    m.add("PermissionSet", "Invoice_Editor")
    m.add("Profile", "Admin", "Custom%3A Sales Rep")
    m.add("EmailTemplate", "Invoices/Invoice_Sent")
    m.add("Report", "Finance/Open_Invoices", "unfiled$public/Old_Report")
    m.add("Dashboard", "Finance/Cash")
    return m


def org_data(meta: MetadataBuilder) -> Any:
    b = OrgBuilder(name="Acme Meta", org_id="00D5g000000METAEA2")
    b.user("admin@acme.example", profile="System Administrator", admin=True)
    b.object("Account", 10)
    return meta.attach(b.build())


def write_config(tmp: Path, source: str, metadata: Path | None, extra: str = "") -> Path:
    path = tmp / "audit.yaml"
    meta = f"metadata: {{path: '{metadata}'}}\n" if metadata else ""
    path.write_text(
        f"version: 1\ntoday: {TODAY}\norg: {{source: '{source}'}}\n{meta}{extra}"
        "report: {formats: [json], output: out}\n",
        encoding="utf-8",
    )
    return path


def audit(config: Path) -> AuditReport:
    return run_audit(
        load_config(config), get_plugin_manager(entry_points=False), select=["metadata-backup"]
    )


def result(report: AuditReport) -> CheckResult:
    return report.check("metadata-backup")


def kinds(check: CheckResult) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in check.findings:
        out.setdefault(str(f.data["kind"]), []).append(f.data)
    return out


def snapshot_of(tmp: Path, meta: MetadataBuilder) -> Path:
    return write_snapshot(org_data(meta), tmp / "org.json")


# --- the backup's inventory -----------------------------------------------------------


@pytest.mark.parametrize("layout", ["mdapi", "zip", "sfdx"])
def test_backup_inventory_names_components_as_package_xml_does(tmp_path: Path, layout: str) -> None:
    meta = components()
    target = tmp_path / ("b.zip" if layout == "zip" else "b")
    if layout == "sfdx":
        meta.write_sfdx(target)
    else:
        meta.write_mdapi(target, zip=layout == "zip")
    backup = read_backup(target)
    assert backup.layout == {"mdapi": "mdapi-folder", "zip": "mdapi-zip", "sfdx": "sfdx"}[layout]
    assert backup.has("ApexClass") == {"InvoiceService", "InvoiceServiceTest", "LegacyHelper"}
    assert backup.has("CustomField") == {
        "Account.Score__c",
        "Invoice__c.Amount__c",
        "acmepkg__Contract__c.Local_Note__c",
    }
    assert backup.has("ValidationRule") == {"Invoice__c.Amount_Positive"}
    assert backup.has("Report") == {"Finance/Open_Invoices", "unfiled$public/Old_Report"}
    assert backup.has("EmailTemplate") == {"Invoices/Invoice_Sent"}
    assert backup.has("LightningComponentBundle") == {"invoiceCard"}
    assert backup.has("Profile") == {"Admin", "Custom%3A Sales Rep"}
    assert backup.folders["Report"] == {"Finance"}  # folder -meta.xml: not a component
    if layout != "sfdx":
        assert backup.manifest is not None and "InvoiceService" in backup.manifest["ApexClass"]


def test_profile_names_follow_the_metadata_api() -> None:
    assert profile_full_name("System Administrator") == "Admin"
    assert profile_full_name("Standard User") == "Standard"
    assert profile_full_name("Custom: Sales Rep") == "Custom%3A Sales Rep"
    assert profile_full_name("Force.com - Free User") == "Force%2Ecom - Free User"


# --- the check, offline ---------------------------------------------------------------


@pytest.mark.parametrize("layout", ["mdapi", "zip", "sfdx"])
def test_a_complete_backup_passes(tmp_path: Path, layout: str) -> None:
    meta = components()
    target = tmp_path / ("b.zip" if layout == "zip" else "b")
    if layout == "sfdx":
        meta.write_sfdx(target)
    else:
        meta.write_mdapi(target, zip=layout == "zip")
    check = result(audit(write_config(tmp_path, f"snapshot:{snapshot_of(tmp_path, meta)}", target)))
    assert check.status == Status.PASS, [f.message for f in check.findings]
    assert check.metrics["components_missing"] == 0
    assert check.metrics["types_covered"] == 17
    assert set(kinds(check)) == {"partial-permissions"}  # information only


@pytest.mark.parametrize("layout", ["mdapi", "sfdx"])
def test_missing_class_field_and_flow_fail_naming_each(tmp_path: Path, layout: str) -> None:
    meta = components()
    omit = ["ApexClass:InvoiceService", "CustomField:Account.Score__c", "Flow:Lead_Routing"]
    target = tmp_path / "b"
    if layout == "sfdx":
        meta.write_sfdx(target, omit=omit)
    else:
        meta.write_mdapi(target, omit=omit)
    check = result(audit(write_config(tmp_path, f"snapshot:{snapshot_of(tmp_path, meta)}", target)))
    assert check.status == Status.FAIL
    missing = {d["type"]: d for d in kinds(check)["missing"]}
    assert set(missing) == {"ApexClass", "CustomField", "Flow"}
    assert missing["ApexClass"]["members"] == ["InvoiceService"]
    assert missing["CustomField"]["members"] == ["Account.Score__c"]
    assert missing["Flow"]["members"] == ["Lead_Routing"]
    assert all(d["count"] == 1 for d in missing.values())
    assert "sf project generate manifest" in missing["Flow"]["fix"]
    rows = {r["type"]: r for r in check.metrics["types"]}
    assert rows["ApexClass"] == {**rows["ApexClass"], "org": 3, "backup": 2, "missing": 1}


def test_managed_components_only_with_include_managed(tmp_path: Path) -> None:
    meta = components()
    target = meta.write_mdapi(tmp_path / "b")  # a backup leaves managed components out
    snap = snapshot_of(tmp_path, meta)
    assert result(audit(write_config(tmp_path, f"snapshot:{snap}", target))).status == Status.PASS
    strict = "checks:\n  metadata-backup: {include_managed: true}\n"
    check = result(audit(write_config(tmp_path, f"snapshot:{snap}", target, strict)))
    missing = {d["type"]: d["members"] for d in kinds(check)["missing"]}
    assert missing == {
        "ApexClass": ["acmepkg__Util"],
        "CustomField": ["acmepkg__Contract__c.acmepkg__Term__c"],
    }  # the object's file is there, for the customer's own field on it


def test_customers_field_on_a_managed_object_must_be_backed_up(tmp_path: Path) -> None:
    meta = components()
    target = meta.write_mdapi(
        tmp_path / "b", omit=["CustomField:acmepkg__Contract__c.Local_Note__c"]
    )
    check = result(audit(write_config(tmp_path, f"snapshot:{snapshot_of(tmp_path, meta)}", target)))
    assert kinds(check)["missing"][0]["members"] == ["acmepkg__Contract__c.Local_Note__c"]


def test_ten_thousand_files_and_manifest_gaps_are_capped(tmp_path: Path) -> None:
    meta = components()
    target = meta.write_mdapi(tmp_path / "b.zip", zip=True, pad_to=10_000)
    assert read_backup(target).files == 10_000
    snap = snapshot_of(tmp_path, meta)
    check = result(audit(write_config(tmp_path, f"snapshot:{snap}", target)))
    assert check.status == Status.FAIL
    assert kinds(check)["retrieve-capped"][0]["files"] == 10_000
    gap = meta.write_mdapi(
        tmp_path / "gap", omit=["Report:Finance/Open_Invoices"],
        manifest_extra=["Report:Finance/Open_Invoices"],
    )  # fmt: skip
    check = result(audit(write_config(tmp_path, f"snapshot:{snap}", gap)))
    capped = kinds(check)["retrieve-capped"]
    assert capped[0]["type"] == "Report" and capped[0]["members"] == ["Finance/Open_Invoices"]


def test_ignore_globs_and_stale_backups(tmp_path: Path) -> None:
    meta = components()
    target = meta.write_mdapi(tmp_path / "b", omit=["ApexClass:LegacyHelper"], mtime=MADE)
    snap = snapshot_of(tmp_path, meta)
    extra = (
        "metadata_max: x\n".replace("metadata_max: x\n", "")
        + "checks:\n  metadata-backup: {ignore: ['ApexClass:Legacy*']}\n"
    )
    assert result(audit(write_config(tmp_path, f"snapshot:{snap}", target, extra))).status == (
        Status.PASS
    )
    config = write_config(tmp_path, f"snapshot:{snap}", None, extra)
    text = (
        config.read_text().replace("metadata-backup:", "metadata-backup:")
        + f"metadata: {{path: '{target}', max_age_days: 3}}\n"
    )
    config.write_text(text)
    check = result(audit(config))
    stale = kinds(check)["stale"][0]
    assert stale["age_days"] == 6 and check.status == Status.FAIL


def test_no_metadata_path_fails_never_skips(tmp_path: Path) -> None:
    snap = snapshot_of(tmp_path, components())
    check = result(audit(write_config(tmp_path, f"snapshot:{snap}", None)))
    assert check.status == Status.FAIL
    assert check.findings[0].message.startswith("no metadata backup to verify")


def test_a_snapshot_without_metadata_reports_every_type_unreadable(tmp_path: Path) -> None:
    data = OrgBuilder().build()
    snap = write_snapshot(data, tmp_path / "old.json")
    target = components().write_mdapi(tmp_path / "b")
    check = result(audit(write_config(tmp_path, f"snapshot:{snap}", target)))
    assert check.status == Status.FAIL
    assert len(kinds(check)["unreadable-type"]) == 17


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ("{types: [ApexKlass]}", "unknown metadata type 'ApexKlass'"),
        ("{ignore: ['Legacy*']}", "must be Type:fullName"),
        ("{include_managed: 'yes'}", "must be true or false"),
    ],
)
def test_bad_options_name_file_and_line(tmp_path: Path, block: str, needle: str) -> None:
    meta = components()
    snap = snapshot_of(tmp_path, meta)
    target = meta.write_mdapi(tmp_path / "b")
    config = write_config(
        tmp_path, f"snapshot:{snap}", target, f"checks:\n  metadata-backup: {block}\n"
    )
    try:
        message = result(audit(config)).message  # validated by the check: an error
    except ConfigError as exc:  # validated with the config (option types)
        message = str(exc)
    assert needle in message and "audit.yaml:6" in message


def test_metadata_config_keys_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(text="version: 1\nmetadata: {path: x, max_age: 3}\n")
    assert "did you mean 'max_age_days'" in str(exc.value)


# --- live against the emulator, and its snapshot --------------------------------------


def test_live_and_snapshot_agree(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    meta = components()
    emulator.load(org_data(meta))
    omit = ["ApexClass:InvoiceService", "CustomField:Account.Score__c", "Flow:Lead_Routing"]
    target = meta.write_mdapi(tmp_path / "b", omit=omit)
    live = result(audit(write_config(tmp_path, "live", target)))
    recorded = tmp_path / "rec.json"
    out = CliRunner().invoke(
        main, ["snapshot", "-c", str(tmp_path / "audit.yaml"), "-o", str(recorded)]
    )
    assert out.exit_code == 0, out.output
    assert "metadata" in json.loads(recorded.read_text())
    offline = result(audit(write_config(tmp_path, f"snapshot:{recorded}", target)))
    assert live.status == offline.status == Status.FAIL
    assert [f.data for f in live.findings] == [f.data for f in offline.findings]
    assert live.metrics["types"] == offline.metrics["types"]
    assert live.metrics["api_requests"] == 1  # 17 types and 2 helpers: one composite batch
    assert SnapshotOrg(load_snapshot(recorded)).metadata(["ApexClass"])["ApexClass"]


def test_tooling_query_shape_and_paging(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    meta = MetadataBuilder().add("ApexClass", *(f"C{i:04d}" for i in range(450)))
    emulator.load(org_data(meta), page_size=200)
    page = emulator.run_tooling_query("SELECT Id, Name, NamespacePrefix FROM ApexClass")
    assert page["entityTypeName"] == "ApexClass" and page["size"] == 200
    assert page["nextRecordsUrl"].startswith("/services/data/v59.0/tooling/query/01g")
    assert page["records"][0]["attributes"]["type"] == "ApexClass"


def test_unreadable_type_is_reported_with_the_grant(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    meta = components()
    emulator.load(org_data(meta))
    emulator.faults.deny("Report")
    target = meta.write_mdapi(tmp_path / "b")
    check = result(audit(write_config(tmp_path, "live", target)))
    assert check.status == Status.FAIL
    (entry,) = kinds(check)["unreadable-type"]
    assert entry["type"] == "Report" and entry["permission"]
    assert "View Reports in Public Folders" in check.findings[0].message or any(
        "View Reports in Public Folders" in f.message for f in check.findings
    )


def test_a_large_org_stays_within_the_request_budget(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    meta = MetadataBuilder()
    meta.add("ApexClass", *(f"Class{i:04d}" for i in range(5000)))
    meta.add("CustomObject", *(f"Obj{i:03d}__c" for i in range(500)))
    meta.field(*(f"Obj{i:03d}__c.F{k}__c" for i in range(500) for k in range(3)))
    meta.add("Profile", "Admin")
    b = OrgBuilder(name="Big Meta")
    b.user("admin@acme.example", profile="System Administrator", admin=True)
    for i in range(500):
        b.object(f"Obj{i:03d}__c", 10, ownable=True)  # records to describe and own, too
    emulator.load(meta.attach(b.build()), page_size=2000)
    target = meta.write_mdapi(tmp_path / "b")
    config = write_config(tmp_path, "live", target)
    report = run_audit(load_config(config), get_plugin_manager(entry_points=False))
    check = result(report)
    assert check.status == Status.PASS, [f.message for f in check.findings]
    # 1 batch of first pages, 2 queryMore for ApexClass (5,000 at 2,000 a page)
    assert check.metrics["api_requests"] == 3
    assert report.metrics["api_requests"] <= 60
    assert len(emulator.api_requests()) <= 60


def test_verify_metadata_cli(tmp_path: Path) -> None:
    meta = components()
    snap = snapshot_of(tmp_path, meta)
    good = meta.write_mdapi(tmp_path / "good")
    bad = meta.write_sfdx(tmp_path / "bad", omit=["Flow:Lead_Routing"])
    runner = CliRunner()
    ok = runner.invoke(main, ["verify-metadata", str(good), "--source", f"snapshot:{snap}"])
    assert ok.exit_code == 0, ok.output
    assert "covered" in ok.output
    no = runner.invoke(
        main, ["verify-metadata", str(bad), "--source", f"snapshot:{snap}", "--format", "json"]
    )
    assert no.exit_code == 1, no.output
    doc = json.loads(no.output)
    assert doc["verdict"] == "not-covered"
    assert [f["data"]["members"] for f in doc["findings"] if f["data"]["kind"] == "missing"] == [
        ["Lead_Routing"]
    ]
    missing = runner.invoke(main, ["verify-metadata", str(tmp_path / "nope"), "--source", "live"])
    assert missing.exit_code == 2
    assert runner.invoke(main, ["verify-metadata", "--source", f"snapshot:{snap}"]).exit_code == 2


def test_run_metadata_flag_overrides_the_config(tmp_path: Path) -> None:
    meta = components()
    snap = snapshot_of(tmp_path, meta)
    target = meta.write_mdapi(tmp_path / "b")
    config = write_config(tmp_path, f"snapshot:{snap}", None)
    out = CliRunner().invoke(
        main,
        ["run", "-c", str(config), "--select", "metadata-backup", "--metadata", str(target)],
    )
    assert out.exit_code == 0, out.output


def test_the_html_report_draws_a_coverage_bar_per_type(tmp_path: Path) -> None:
    """The check declares its chart (per-type org against backup), so the report draws it
    without knowing the check."""
    from sfaudit.report import ReportContext
    from sfaudit.report.html import render_html

    meta = components()
    target = tmp_path / "b"
    meta.write_mdapi(target, omit=["ApexClass:InvoiceService"])
    report = audit(write_config(tmp_path, f"snapshot:{snapshot_of(tmp_path, meta)}", target))
    page = render_html(report, ReportContext(output_dir=tmp_path))
    assert 'id="chart-metadata"' in page
    assert "Metadata coverage per type" in page and "ApexClass" in page


def test_custom_metadata_types_and_events_match_their_backup_files(tmp_path: Path) -> None:
    """The Tooling API names every custom object X__c; a backup names a custom metadata
    type Region__mdt and a platform event Order_Placed__e. They are the same components."""
    from sfaudit.metadata.evaluate import _key

    assert _key("CustomObject", "Region__mdt") == _key("CustomObject", "Region__c")
    assert _key("CustomField", "Region__mdt.Code__c") == _key("CustomField", "Region__c.Code__c")
    assert _key("Layout", "Region__mdt-Region Layout") == _key("Layout", "Region__c-Region Layout")
    assert _key("CustomField", "Account.Total__c") != _key("CustomField", "Account.Total__e")
    assert _key("ApexClass", "Foo__e") != _key("ApexClass", "Foo__c")
