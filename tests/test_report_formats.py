"""The machine and CI outputs: Markdown, JUnit XML, CSV and ICS, each read back."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

from sfaudit.cli import main
from sfaudit.plugins import get_plugin_manager
from sfaudit.report import ReportContext, available_formats, write_reports
from sfaudit.report.markdown import MAX_BYTES, render_markdown
from tests.report_samples import XSS, big_report, demo_report, rich_report, xss_report

FIXTURES = Path(__file__).parent / "fixtures"
ALL = ["html", "json", "md", "junit", "csv", "ics"]


def write_all(report: Any, out: Path, lang: str = "en") -> dict[str, Path]:
    formats = available_formats(get_plugin_manager(entry_points=False))
    written, problems = write_reports(report, formats, ALL, out, lang=lang)
    assert not problems
    return written


def test_every_format_is_a_registered_plugin() -> None:
    formats = available_formats(get_plugin_manager(entry_points=False))
    assert {n: formats[n].filename for n in ALL} == {
        "html": "readiness.html",
        "json": "report.json",
        "md": "summary.md",
        "junit": "junit.xml",
        "csv": "findings.csv",
        "ics": "deadlines.ics",
    }
    assert formats["md"].plugin == "sfaudit.report.markdown"


# -------------------------------------------------------------------------
# Markdown
# -------------------------------------------------------------------------


def test_markdown_summary_has_verdict_checks_top_findings_and_link(tmp_path: Path) -> None:
    report = demo_report(tmp_path)
    md = write_all(report, tmp_path / "out")["md"].read_text("utf-8")
    assert md.startswith("## ❌ Acme Corp: Not ready to cancel")
    for c in report.checks:
        assert f"| `{c.id}` |" in md
    assert "### Top findings" in md
    assert md.count("\n- **") == 25
    assert "[Full HTML readiness report](readiness.html)" in md
    assert "**Notice deadline:** 1 January 2027 (36 days left)" in md


def test_markdown_links_to_the_github_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/salesforce-exit")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    md = render_markdown(
        rich_report(), ReportContext(output_dir=tmp_path, files={"html": "readiness.html"})
    )
    assert "(https://github.com/acme/salesforce-exit/actions/runs/42)" in md


def test_markdown_summary_stays_small_with_100k_findings(tmp_path: Path) -> None:
    md = render_markdown(
        big_report(100_000), ReportContext(output_dir=tmp_path, files={"html": "r.html"})
    )
    size = len(md.encode("utf-8"))
    print(f"\n100,000 findings: Markdown summary {size:,} bytes")
    assert size <= MAX_BYTES
    assert "Showing 25 of 100,000 open findings." in md.replace("100000", "100,000")


def test_markdown_escapes_org_values(tmp_path: Path) -> None:
    md = write_all(xss_report(tmp_path), tmp_path / "out")["md"].read_text("utf-8")
    for payload in XSS:
        assert payload not in md
    assert "&lt;script>alert(1)&lt;/script> Corp" in md
    assert "<img" not in md


def test_markdown_in_dutch(tmp_path: Path) -> None:
    md = write_all(rich_report(), tmp_path, lang="nl")["md"].read_text("utf-8")
    assert "Audit onvolledig" in md
    assert "**Uiterste opzegdatum:** 1 januari 2027 (nog 36 dagen)" in md
    assert "€\xa01.754,79" in md


# -------------------------------------------------------------------------
# JUnit XML
# -------------------------------------------------------------------------


def junit_tree(path: Path) -> Any:
    schema = etree.XMLSchema(etree.parse(str(FIXTURES / "junit.xsd")))
    tree = etree.parse(str(path))
    schema.assertValid(tree)
    return tree


def test_junit_validates_and_counts_match_the_report(tmp_path: Path) -> None:
    report = rich_report()
    tree = junit_tree(write_all(report, tmp_path)["junit"])
    suites = tree.getroot()
    assert suites.tag == "testsuites"
    (suite,) = suites.findall("testsuite")
    assert suite.get("name") == "sfaudit: readiness.yaml"
    cases = suite.findall("testcase")
    assert len(cases) == len(report.checks) == int(suite.get("tests"))
    summary = report.summary
    assert int(suite.get("failures")) == summary["fail"] == len(suite.findall("testcase/failure"))
    assert int(suite.get("errors")) == summary["error"] == len(suite.findall("testcase/error")) == 1
    assert (
        int(suite.get("skipped")) == summary["skip"] == len(suite.findall("testcase/skipped")) == 1
    )
    assert suites.get("failures") == suite.get("failures")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["verdict"] == "incomplete" and props["org.id"] == "00D5g000000ACMEEA2"


def test_junit_failure_text_lists_the_findings(tmp_path: Path) -> None:
    tree = junit_tree(write_all(rich_report(), tmp_path)["junit"])
    case = tree.find(".//testcase[@name='active-users: Only allowed users can still log in']")
    failure = case.find("failure")
    assert failure.get("type") == "critical"
    lines = failure.text.splitlines()
    assert "[high] jane@acme.example can still log in (user=jane@acme.example) [new]" in lines
    assert not any("support@acme.example" in line for line in lines)  # waived: not a failure
    error = tree.find(".//testcase[@name='acme-custom: A plugin check that crashed']/error")
    assert "KeyError: 'Region__c'" in error.text


def test_junit_survives_hostile_org_values(tmp_path: Path) -> None:
    report = xss_report(tmp_path)
    report.checks[1].findings[0].message += " \x00\x1b[31m"
    tree = junit_tree(write_all(report, tmp_path / "out")["junit"])
    text = etree.tostring(tree, encoding="unicode")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert any("<script>alert(1)</script>" in (f.text or "") for f in tree.iter("failure"))


# -------------------------------------------------------------------------
# CSV
# -------------------------------------------------------------------------


def test_csv_holds_every_finding_one_row_each(tmp_path: Path) -> None:
    report = demo_report(tmp_path)
    path = write_all(report, tmp_path / "out")["csv"]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = [(c.id, f.fingerprint) for c in report.checks for f in [*c.findings, *c.resolved]]
    assert [(r["check"], r["fingerprint"]) for r in rows] == expected
    ownership = [r for r in rows if r["check"] == "record-ownership" and r["state"] == "open"]
    assert ownership and all(r["object"] and r["owner"] and int(r["count"]) > 0 for r in ownership)


def test_csv_keeps_waivers_baseline_and_neutralises_formulas(tmp_path: Path) -> None:
    report = rich_report()
    report.checks[1].findings[1].message = '=HYPERLINK("http://evil.example","click")'
    path = write_all(report, tmp_path)["csv"]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["fingerprint"]: r for r in csv.DictReader(fh)}
    users = {r["user"]: r for r in rows.values() if r["check"] == "active-users"}
    assert users["support@acme.example"]["state"] == "waived"
    assert users["support@acme.example"]["waiver_expires"] == "2026-12-31"
    assert users["jane@acme.example"]["baseline"] == "new"
    assert users["old@acme.example"]["state"] == "resolved"
    assert users["joe@acme.example"]["message"].startswith("'=HYPERLINK(")


# -------------------------------------------------------------------------
# ICS
# -------------------------------------------------------------------------


def test_ics_holds_the_six_dates_with_reminders(tmp_path: Path) -> None:
    from icalendar import Calendar

    cal = Calendar.from_ical(write_all(demo_report(tmp_path), tmp_path / "out")["ics"].read_bytes())
    events = {str(e.get("summary")): e for e in cal.walk("VEVENT")}
    starts = {name.rsplit(": ", 1)[0]: e.decoded("dtstart") for name, e in events.items()}
    assert starts == {
        "Notice deadline: last day to give written notice": dt.date(2027, 1, 1),
        "Recommended date to send the notice": dt.date(2026, 11, 2),
        "Renewal date: the contract renews without notice": dt.date(2027, 2, 1),
        "End of the full-refund window": dt.date(2026, 3, 2),
        # The demo's end date 2027-01-31 + 30 and + 210 days (the config defaults).
        "Last day to ask Salesforce for the data": dt.date(2027, 3, 2),
        "Salesforce deletes the data": dt.date(2027, 8, 29),
    }
    for name in ("Last day to ask Salesforce for the data", "Salesforce deletes the data"):
        event = next(e for n, e in events.items() if n.startswith(name))
        description = str(event.get("description"))
        assert "From Salesforce's documentation" in description and "Order Form" in description
        assert "Manage Subscription" not in description
    for event in events.values():
        (alarm,) = event.walk("VALARM")
        assert alarm.get("action") == "DISPLAY"
        assert alarm.decoded("trigger") < dt.timedelta(0)
        assert "Acme Corp" in str(event.get("summary"))
    deadline = next(e for n, e in events.items() if n.startswith("Notice deadline"))
    assert deadline.walk("VALARM")[0].decoded("trigger") == -dt.timedelta(days=14)
    assert len({str(e.get("uid")) for e in events.values()}) == 6
    returns = next(e for n, e in events.items() if n.startswith("Last day to ask"))
    assert returns.walk("VALARM")[0].decoded("trigger") == -dt.timedelta(days=14)


def test_ics_in_dutch(tmp_path: Path) -> None:
    from icalendar import Calendar

    cal = Calendar.from_ical(write_all(rich_report(), tmp_path, lang="nl")["ics"].read_bytes())
    summaries = sorted(str(e.get("summary")) for e in cal.walk("VEVENT"))
    assert "Uiterste opzegdatum: laatste dag om schriftelijk op te zeggen: Acme Corp" in summaries
    assert "€\xa01.754,79" in str(cal.walk("VEVENT")[0].get("description"))


def test_cli_writes_every_format(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        main, ["demo", "-o", str(out), "--format", ",".join(ALL), "--lang", "nl"]
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert names >= {
        "readiness.html",
        "report.json",
        "summary.md",
        "junit.xml",
        "findings.csv",
        "deadlines.ics",
    }
    assert "Niet klaar om op te zeggen" in (out / "summary.md").read_text("utf-8")


def test_csv_drops_nul_characters(tmp_path: Path) -> None:
    report = xss_report(tmp_path)
    report.checks[1].findings[0].message += " \x00tail"
    path = write_all(report, tmp_path / "out")["csv"]
    text = path.read_text(encoding="utf-8-sig")
    assert "\x00" not in text and " tail" in text


def test_ics_follows_the_configured_data_return_and_deletion_days(tmp_path: Path) -> None:
    """The Order Form's figures replace Salesforce's: the calendar moves with them."""
    from icalendar import Calendar

    from sfaudit.audit import run_audit
    from sfaudit.config import load_config

    config = load_config(
        text="version: 1\ntoday: 2026-11-26\ncontract:\n  start_date: 2026-02-01\n"
        "  end_date: 2027-01-31\n  data_return_days: 45\n  deletion_days: 100\n"
    )
    report = run_audit(config, get_plugin_manager(entry_points=False), select=["notice-deadline"])
    written = write_all(report, tmp_path, lang="nl")
    cal = Calendar.from_ical(written["ics"].read_bytes())
    starts = {str(e.get("summary")): e.decoded("dtstart") for e in cal.walk("VEVENT")}
    assert starts["Laatste dag om Salesforce om de gegevens te vragen: org"] == dt.date(2027, 3, 17)
    assert starts["Salesforce verwijdert de gegevens: org"] == dt.date(2027, 5, 11)
    summary = written["md"].read_text("utf-8")
    assert "**Laatste dag om Salesforce om de gegevens te vragen:** 17 maart 2027" in summary
    assert "**Salesforce verwijdert de gegevens:** 11 mei 2027" in summary
    assert "Uit de documentatie van Salesforce" in summary


def test_markdown_shows_the_after_dates_and_storage(tmp_path: Path) -> None:
    text = render_markdown(demo_report(tmp_path), ReportContext(output_dir=tmp_path))
    assert (
        "**Last day to ask Salesforce for the data:** 2 March 2027 · "
        "**Salesforce deletes the data:** 29 August 2027. From Salesforce's documentation"
    ) in text
    assert (
        "**Data storage:** 5,402 MB of 5,120 MB (106%), over quota · "
        "**File storage:** 14,950 MB of 20,480 MB (73%)"
    ) in text
