"""The acme checks, tested the way a plugin author would: orgs built with
sfaudit.testing.OrgBuilder (as snapshots), and the local Salesforce emulator
behind ``--source live``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sfaudit_acme_checks
from click.testing import CliRunner

from sfaudit.audit import run_audit
from sfaudit.cli import main
from sfaudit.config import load_config
from sfaudit.plugins import collect_checks, get_plugin_manager
from sfaudit.results import AuditReport
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import EmulatorLogins

ACME = ["open-cases", "open-opportunities", "outbound-integrations"]
DEMO = Path(__import__("sfaudit.demo", fromlist=["x"]).__file__).parent
CASES = "SELECT COUNT() FROM Case WHERE IsClosed = false"
OPPORTUNITIES = "SELECT COUNT() FROM Opportunity WHERE IsClosed = false"
NAMED_CREDENTIALS = "SELECT DeveloperName, Endpoint FROM NamedCredential"


def builder(
    cases: int = 0, opportunities: int = 0, credentials: tuple[str, ...] = ()
) -> OrgBuilder:
    """An org whose answers to the acme queries are recorded, as `sfaudit snapshot` records them."""
    b = OrgBuilder(name="Acme Corp")
    b.user("admin@acme.example", admin=True)
    b.query(CASES, cases)
    b.query(OPPORTUNITIES, opportunities)
    rows = [
        {
            "attributes": {"type": "NamedCredential"},
            "DeveloperName": n,
            "Endpoint": f"https://{n.lower()}.example",
        }
        for n in credentials
    ]
    b.query(NAMED_CREDENTIALS, len(rows), rows)
    return b


def audit(
    tmp_path: Path, org: OrgBuilder | None, checks: str = "", source: str | None = None
) -> AuditReport:
    if org is not None:
        org.write(tmp_path / "org.json")
    config = tmp_path / "audit.yaml"
    config.write_text(
        "version: 1\n"
        "today: 2026-11-26\n"
        f"org: {{source: '{source or 'snapshot:org.json'}'}}\n"
        f"checks:\n{checks or '  open-cases: {}'}\n",
        encoding="utf-8",
    )
    return run_audit(load_config(config), get_plugin_manager(), select=ACME)


def statuses(report: AuditReport) -> dict[str, str]:
    return {c.id: str(c.status) for c in report.checks}


def messages(report: AuditReport, check_id: str) -> list[str]:
    return [f.message for f in report.check(check_id).findings]


def test_the_entry_point_registers_the_checks() -> None:
    pm = get_plugin_manager()
    checks = collect_checks(pm)
    for check_id in ACME:
        assert checks[check_id].plugin == "acme"
    info = pm.infos["acme"]
    assert info.origin == "entry point"
    assert info.version == sfaudit_acme_checks.__version__
    assert sorted(info.checks) == ACME


def test_a_clean_org_passes(tmp_path: Path) -> None:
    report = audit(tmp_path, builder())
    assert statuses(report) == dict.fromkeys(ACME, "pass")
    assert report.check("open-cases").metrics == {"open_cases": 0}


def test_open_records_and_named_credentials_are_findings(tmp_path: Path) -> None:
    report = audit(tmp_path, builder(cases=4, opportunities=1, credentials=("ERP", "Mailer")))
    assert statuses(report) == dict.fromkeys(ACME, "fail")
    assert messages(report, "open-cases") == ["4 support cases are still open (allowed: 0)"]
    assert messages(report, "open-opportunities") == ["1 opportunity is still open (allowed: 0)"]
    assert messages(report, "outbound-integrations") == [
        "named credential ERP calls https://erp.example",
        "named credential Mailer calls https://mailer.example",
    ]
    case = report.check("open-cases").findings[0]
    assert (case.object, case.count, str(case.severity)) == ("Case", 4, "medium")
    assert str(report.check("open-opportunities").findings[0].severity) == "low"


def test_options_accept_a_backlog_and_allow_credentials(tmp_path: Path) -> None:
    checks = (
        "  open-cases: {max_open: 5}\n"
        "  open-opportunities: {max_open: 0, severity: high}\n"
        "  outbound-integrations: {allow: [ERP]}"
    )
    report = audit(tmp_path, builder(cases=5, opportunities=2, credentials=("ERP",)), checks)
    assert statuses(report) == {
        "open-cases": "pass",
        "open-opportunities": "fail",
        "outbound-integrations": "pass",
    }
    assert str(report.check("open-opportunities").effective_severity) == "high"


def test_a_snapshot_without_the_query_skips_with_the_reason(tmp_path: Path) -> None:
    org = OrgBuilder().query(CASES, 0).query(OPPORTUNITIES, 0)
    report = audit(tmp_path, org)
    result = report.check("outbound-integrations")
    assert str(result.status) == "skip"
    assert result.message.startswith(
        "named credentials could not be read: the snapshot did not record"
    )


def test_a_wrong_option_type_is_a_config_error(tmp_path: Path) -> None:
    from sfaudit.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"audit.yaml:5: checks.open-cases.max_open: must be a number"
    ):
        audit(tmp_path, builder(), "  open-cases: {max_open: lots}")


def test_the_demo_org_records_the_acme_answers() -> None:
    config = load_config(DEMO / "readiness.yaml")
    report = run_audit(config, get_plugin_manager(), select=ACME)
    assert messages(report, "open-cases") == ["37 support cases are still open (allowed: 0)"]
    assert messages(report, "open-opportunities") == [
        "112 opportunities are still open (allowed: 0)"
    ]


# --- through the emulator: the live source over real HTTPS ------------------------------


def emulated_org(emulator: SalesforceEmulator, *, open_cases: int, closed_cases: int) -> None:
    """Serve an org whose Case, Opportunity and NamedCredential tables are real rows."""
    b = OrgBuilder(name="Acme Emulated")
    b.user("audit.bot@acme.example", admin=True)
    b.object("Case", open_cases + closed_cases, ownable=True).object("Opportunity", 3, ownable=True)
    cases: list[dict[str, Any]] = [
        {"Id": f"500{i:015d}", "IsClosed": i >= open_cases}
        for i in range(open_cases + closed_cases)
    ]
    opportunities = [{"Id": f"006{i:015d}", "IsClosed": i != 1} for i in range(3)]
    credentials = [
        {"Id": "0XA000000000001", "DeveloperName": "ERP", "Endpoint": "https://erp.acme.example"}
    ]
    emulator.load(
        b.build(),
        records={"Case": cases, "Opportunity": opportunities, "NamedCredential": credentials},
    )


def test_checks_run_against_the_emulator(
    tmp_path: Path, emulator: SalesforceEmulator, sf_env: EmulatorLogins
) -> None:
    emulated_org(emulator, open_cases=6, closed_cases=9)
    report = audit(tmp_path, None, source="live")
    assert report.org["source"] == "live"
    assert messages(report, "open-cases") == ["6 support cases are still open (allowed: 0)"]
    assert messages(report, "open-opportunities") == ["1 opportunity is still open (allowed: 0)"]
    assert messages(report, "outbound-integrations") == [
        "named credential ERP calls https://erp.acme.example"
    ]
    soql = [r.soql for r in emulator.api_requests() if r.soql]
    assert "SELECT COUNT() FROM Case WHERE IsClosed = false" in soql
    assert emulator.writes() == []


def test_a_permission_problem_is_an_error_that_names_the_object(
    tmp_path: Path, emulator: SalesforceEmulator, sf_env: EmulatorLogins
) -> None:
    emulated_org(emulator, open_cases=0, closed_cases=2)
    emulator.faults.deny("NamedCredential")
    report = audit(tmp_path, None, source="live")
    assert str(report.check("open-cases").status) == "pass"
    result = report.check("outbound-integrations")
    assert str(result.status) == "error"  # a permission gap is never a silent skip
    assert result.message.startswith(
        "named credentials could not be read: the API user cannot read"
    )
    assert "NamedCredential" in result.message
    assert "grant 'View Setup and Configuration'" in result.message


# --- the CLI sees the installed plugin ------------------------------------------------


def test_list_checks_and_explain_show_the_plugin() -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["list-checks"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    for check_id in ACME:
        assert check_id in listed.output
    explained = runner.invoke(main, ["explain", "open-cases"])
    assert "plugin: acme" in explained.output
    assert "max_open: 0" in explained.output


def test_sfaudit_run_writes_the_acme_results(tmp_path: Path) -> None:
    builder(cases=2).write(tmp_path / "org.json")
    (tmp_path / "audit.yaml").write_text(
        "version: 1\ntoday: 2026-11-26\norg: {source: 'snapshot:org.json'}\n"
        "report: {formats: [json], output: out}\nfail_on: medium\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["run", "-c", str(tmp_path / "audit.yaml"), "--select", ",".join(ACME)]
    )
    assert result.exit_code == 1, result.output
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    by_id = {c["id"]: c for c in data["checks"]}
    assert by_id["open-cases"]["status"] == "fail"
    assert by_id["open-cases"]["plugin"] == "acme"
    assert data["blocking"] == ["open-cases"]


def test_the_checks_take_their_place_in_the_timeline(tmp_path: Path) -> None:
    builder(cases=2).write(tmp_path / "org.json")
    (tmp_path / "audit.yaml").write_text(
        "version: 1\ntoday: 2026-11-26\norg: {source: 'snapshot:org.json'}\n"
        "report: {formats: [json, html, md], output: out}\nfail_on: never\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["run", "-c", str(tmp_path / "audit.yaml"), "--select", ",".join(ACME)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [cid for cid in data["timeline"]["prepare"] if cid in ACME] == ACME
    html = (tmp_path / "out" / "readiness.html").read_text(encoding="utf-8")
    prepare = html[html.index('data-step="prepare"') : html.index('data-step="submit"')]
    for check_id in ACME:
        assert f'href="#check-{check_id}"' in prepare
    md = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    line = next(x for x in md.splitlines() if x.startswith("2. **Prepare**"))
    assert "`open-cases` fail" in line
