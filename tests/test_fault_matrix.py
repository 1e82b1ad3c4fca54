"""The fault matrix: faults injected in the emulator during a full ``sfaudit run --source live``.

Every fault either is survived (the exit code, verdict, check statuses and the probe
plugin's view of the org equal the fault-free run) or fails cleanly (exit 3, a message
naming the problem and what to do, no traceback). Never exit 0, never a wrong "ready".
Retries and timeouts are shortened through the documented ``org.timeout_s``,
``org.retries`` and ``org.backoff_s`` settings, not by patching internals.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sfaudit.cli import main
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.exports import ExportBuilder
from sfaudit.testing.pytest_fixtures import USERNAME, EmulatorLogins, sample_org

USERS_BATCH = 'UserLicense.Name%20FROM%20User"'  # the composite/batch that carries the User query
TIMEOUT_S = 0.4
FAST_ORG = f"  timeout_s: {TIMEOUT_S}\n  retries: 2\n  backoff_s: 0.01\n"

SURVIVED = "survived"
CLEAN = "failed-clean"


@dataclass(frozen=True)
class FaultCase:
    """One injected fault, the outcome it must have, and (for a clean failure) the
    words the message must hold: the problem and what to do about it."""

    name: str
    inject: Callable[[SalesforceEmulator], object]
    expect: str
    says: tuple[str, ...] = ()
    page_size: int | None = None


FAULTS: tuple[FaultCase, ...] = (
    FaultCase("401 once", lambda e: e.faults.expire_session(match=USERS_BATCH), SURVIVED),
    FaultCase(
        "401 always",
        lambda e: e.faults.expire_session(times=100, match=USERS_BATCH),
        CLEAN,
        ("ended the session again", "check that the user is active"),
    ),
    FaultCase(
        "403 REQUEST_LIMIT_EXCEEDED",
        lambda e: e.faults.request_limit_exceeded(match="composite/batch"),
        CLEAN,
        ("REQUEST_LIMIT_EXCEEDED", "raise the org's API limit"),
    ),
    FaultCase(
        "500 transient",
        lambda e: e.faults.error(500, "UNKNOWN_EXCEPTION", "boom", times=2, match=USERS_BATCH),
        SURVIVED,
    ),
    FaultCase(
        "500 persistent",
        lambda e: e.faults.error(500, "UNKNOWN_EXCEPTION", "boom", times=None, match=USERS_BATCH),
        CLEAN,
        ("answered 500", "after 2 retries", "try again later"),
    ),
    FaultCase("503 transient", lambda e: e.faults.unavailable(times=2), SURVIVED),
    FaultCase(
        "503 persistent",
        lambda e: e.faults.unavailable(times=100, match=USERS_BATCH),
        CLEAN,
        ("answered 503", "status.salesforce.com", "try again later"),
    ),
    FaultCase(
        "503 on login, transient",
        lambda e: e.faults.unavailable(times=1, match="/services/Soap/u/"),
        SURVIVED,
    ),
    FaultCase(
        "timeout transient",
        lambda e: e.faults.timeout(TIMEOUT_S * 2, times=1, match=USERS_BATCH),
        SURVIVED,
    ),
    FaultCase(
        "timeout persistent",
        lambda e: e.faults.timeout(TIMEOUT_S * 2, times=100, match=USERS_BATCH),
        CLEAN,
        ("did not answer", f"within {TIMEOUT_S:g}s", "raise SF_TIMEOUT"),
    ),
    FaultCase("connection drop transient", lambda e: e.faults.drop(times=2), SURVIVED),
    FaultCase(
        "connection drop persistent",
        lambda e: e.faults.drop(times=None, match=USERS_BATCH),
        CLEAN,
        ("could not reach Salesforce", "check the network"),
    ),
    FaultCase(
        "truncated JSON",
        lambda e: e.faults.malformed_json(match=USERS_BATCH),
        CLEAN,
        ("not valid JSON", "try again later"),
    ),
    FaultCase(
        "invalid nextRecordsUrl",
        lambda e: e.faults.invalid_locator(),
        CLEAN,
        ("INVALID_QUERY_LOCATOR", "queryMore", "run the audit again"),
        page_size=10,
    ),
    FaultCase(
        "permission error on one object",
        lambda e: e.faults.deny("CronTrigger"),
        CLEAN,
        ("cannot read CronTrigger", "grant 'View Setup and Configuration'"),
    ),
    FaultCase(
        "recordCount missing an object",
        lambda e: e.faults.uncount("Invoice__c"),
        SURVIVED,
    ),
    FaultCase(
        "recordCount missing an object, COUNT() refused",
        lambda e: (e.faults.uncount("Invoice__c"), e.faults.deny("Invoice__c")),
        CLEAN,
        ("cannot read Invoice__c", "limits/recordCount leaves Invoice__c out", "grant read access"),
    ),
)


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report.get("checks", [])}


def _probe(report: dict[str, Any]) -> Any:
    """What the probe plugin saw of every facade section (None when it errored)."""
    probe = next((c for c in report.get("checks", []) if c["id"] == "probe-facade"), {})
    return probe.get("metrics") if probe.get("status") != "error" else None


@dataclass
class Run:
    result: Result
    report: dict[str, Any]
    seconds: float

    @property
    def text(self) -> str:
        """Everything the user sees: the terminal, and each check's message in the report."""
        messages = [str(c.get("message") or "") for c in self.report.get("checks", [])]
        return "\n".join([self.result.output, *messages, *self.report.get("problems", [])])


def _audit(config: Path, out: Path, *args: str) -> Run:
    start = time.perf_counter()
    result = CliRunner().invoke(
        main,
        ["run", "-c", str(config), "--source", "live", "--format", "json", "-o", str(out), *args],
    )
    report_file = out / "report.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    return Run(result, report, time.perf_counter() - start)


def _problems(case: FaultCase, run: Run, baseline: Run) -> list[str]:
    """Why ``run`` is not the outcome ``case`` expects (empty when it is)."""
    problems: list[str] = []
    if run.result.exit_code == 0:
        problems.append("exit 0 under a fault")
    if "Traceback" in run.text or any(c.get("traceback") for c in run.report.get("checks", [])):
        problems.append("a traceback reached the user")
    if run.result.exception is not None and not isinstance(run.result.exception, SystemExit):
        problems.append(f"the CLI raised {run.result.exception!r}")
    if case.expect == SURVIVED:
        if run.result.exit_code != baseline.result.exit_code:
            problems.append(
                f"exit {run.result.exit_code}, the clean run {baseline.result.exit_code}"
            )
        if run.report.get("verdict") != baseline.report["verdict"]:
            problems.append(f"verdict {run.report.get('verdict')!r}")
        if _statuses(run.report) != _statuses(baseline.report):
            problems.append(f"statuses {_statuses(run.report)}")
        if _probe(run.report) != _probe(baseline.report):
            problems.append("the probe plugin saw a different org")
    else:
        if run.result.exit_code != 3:
            problems.append(f"exit {run.result.exit_code}, not 3")
        if run.report.get("verdict") == "ready":
            problems.append("a report claiming ready")
        missing = [words for words in case.says if words not in run.text]
        if missing:
            problems.append(f"the message lacks {missing}: {run.text[-600:]}")
    return problems


def test_fault_matrix(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    config = live_config.read_text(encoding="utf-8").replace(
        "  source: live\n", "  source: live\n" + FAST_ORG
    )
    live_config.write_text(config, encoding="utf-8")
    baseline = _audit(live_config, tmp_path / "baseline")
    assert baseline.result.exit_code in (1, 3), baseline.result.output
    assert "error" not in _statuses(baseline.report).values(), baseline.text
    assert _probe(baseline.report)
    assert emulator.writes() == []

    failures: dict[str, list[str]] = {}
    tally = {SURVIVED: 0, CLEAN: 0}
    for i, case in enumerate(FAULTS):
        emulator.reset()
        emulator.load(sample_org(), page_size=case.page_size or 2000)
        case.inject(emulator)
        run = _audit(live_config, tmp_path / f"case{i}")
        hit = any(f.hits for f in emulator.faults.items)
        problems = _problems(case, run, baseline) + ([] if hit else ["the fault never fired"])
        if emulator.writes():
            problems.append("a write request reached the org")
        if problems:
            failures[case.name] = problems
        else:
            tally[case.expect] += 1
        print(f"  {case.name:46} {case.expect:13} exit {run.result.exit_code} {run.seconds:.2f}s")
    print(
        f"fault matrix: {len(FAULTS)} faults, {tally[SURVIVED]} survived, "
        f"{tally[CLEAN]} failed cleanly (exit 3), 0 exit 0"
    )
    assert not failures, json.dumps(failures, indent=2)
    assert len(FAULTS) >= 12


def test_missing_record_count_is_never_a_wrong_ready(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    """The org's only problems sit in a custom object ``limits/recordCount`` leaves out.

    Read as "empty", Invoice__c would be neither described (its 50 records owned by an
    inactive user unchecked) nor compared with the backup (which lacks it): both checks
    would pass, a wrong "ready". The live source counts such objects with ``COUNT()``
    instead, so the result equals the fault-free run (standard objects Salesforce
    leaves out are empty ones).
    """
    b = OrgBuilder(name="Quiet Org")
    admin = b.user(USERNAME, profile="System Administrator", admin=True)
    gone = b.user("gone@acme.example", active=False)
    b.license("Salesforce", 10)
    b.object("Account", 30, ownable=True).own("Account", admin, 30)
    b.object("Invoice__c", 50, ownable=True).own("Invoice__c", gone, 50)
    emulator.load(b.build())
    export = tmp_path / "export"
    ExportBuilder().object("Account", 30).write(export, parts=1)
    config = tmp_path / "quiet.yaml"
    config.write_text(
        "version: 1\ntoday: 2026-11-26\norg:\n  source: live\n" + FAST_ORG,
        encoding="utf-8",
    )
    args = ("--select", "record-ownership,backup-completeness", "--backup", str(export))
    clean = _audit(config, tmp_path / "clean", *args)
    expected = {"record-ownership": "fail", "backup-completeness": "fail"}
    assert _statuses(clean.report) == expected, clean.text
    emulator.reset()
    emulator.faults.uncount("Invoice__c")
    run = _audit(config, tmp_path / "uncounted", *args)
    assert emulator.faults.items[0].hits == 1, "recordCount left Invoice__c out"
    assert run.result.exit_code == clean.result.exit_code == 1, run.text
    assert run.report["verdict"] == "not-ready"
    assert _statuses(run.report) == expected
    for check in run.report["checks"]:
        assert [f["object"] for f in check["findings"] if f["severity"] != "info"] == [
            "Invoice__c"
        ], check
    assert any("COUNT%28%29%20FROM%20Invoice__c" in r.body for r in emulator.log)


@pytest.mark.parametrize("knob", ["timeout_s: 0", "retries: -1", "retries: 11", "backoff_s: -1"])
def test_retry_knobs_are_validated(tmp_path: Path, knob: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"version: 1\norg:\n  source: live\n  {knob}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "-c", str(config), "-o", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert knob.split(":")[0] in result.output and "Traceback" not in result.output


def test_retry_knobs_reach_the_session(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    from sfaudit.config import load_config
    from sfaudit.sources.live import open_live

    config = tmp_path / "c.yaml"
    config.write_text("version: 1\norg:\n  source: live\n" + FAST_ORG, encoding="utf-8")
    org = open_live("live", load_config(config))
    try:
        assert org.session.timeout == TIMEOUT_S and org.session.retries == 2
        emulator.faults.unavailable(times=100, match=USERS_BATCH)
        start = time.perf_counter()
        with pytest.raises(Exception, match="after 2 retries"):
            org.users()
        assert time.perf_counter() - start < 2.0  # 3 attempts, 10 ms backoff
        assert len([r for r in emulator.log if USERS_BATCH in r.body]) == 3
    finally:
        org.close()
