"""scheduled-jobs over snapshots built for each case."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sfaudit.audit import run_audit
from sfaudit.config import load_config
from sfaudit.plugins import get_plugin_manager
from sfaudit.results import CheckResult, Severity, Status
from sfaudit.sources.snapshot import write_snapshot
from sfaudit.testing import OrgBuilder
from tests.conftest import audit_check

CHECK = "scheduled-jobs"
NEXT = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.timezone.utc)


def audit(tmp_path: Path, builder: OrgBuilder, block: str = "") -> CheckResult:
    return audit_check(tmp_path, builder, CHECK, block)


def org_with(*jobs: tuple[str, str, str]) -> OrgBuilder:
    """An org whose admin owns the weekly Data Export plus ``jobs`` (name, type, state)."""
    b = OrgBuilder()
    admin = b.user("admin@acme.example", admin=True)
    b.job("Weekly Data Export", "1", next_fire=NEXT, owner=admin)
    for name, job_type, state in jobs:
        b.job(name, job_type, state=state, next_fire=NEXT, owner=admin)
    return b


@pytest.mark.parametrize(
    ("jobs", "status", "found"),
    [
        pytest.param([], Status.PASS, [], id="only-data-export"),
        pytest.param(
            [("Sync", "7", "WAITING")],
            Status.FAIL,
            ["Scheduled Apex 'Sync' is WAITING"],
            id="scheduled-apex",
        ),
        pytest.param(
            [("Dedupe", "9", "EXECUTING")],
            Status.FAIL,
            ["Batch Job 'Dedupe'"],
            id="batch-executing",
        ),
        pytest.param(
            [("Remind", "6", "ACQUIRED")],
            Status.FAIL,
            ["Scheduled Flow 'Remind'"],
            id="flow-acquired",
        ),
        pytest.param(
            [("Revenue", "4", "WAITING")],
            Status.FAIL,
            ["Reporting Snapshot 'Revenue'"],
            id="reporting-snapshot",
        ),
        pytest.param(
            [("Pipeline", "3", "WAITING")],
            Status.FAIL,
            ["Dashboard Refresh 'Pipeline'"],
            id="dashboard-refresh",
        ),
        pytest.param(
            [("Weekly", "8", "WAITING")], Status.FAIL, ["Report Run 'Weekly'"], id="report-run"
        ),
        pytest.param(
            [("Odd", "Z", "WAITING")], Status.FAIL, ["job type Z 'Odd'"], id="unknown-type"
        ),
        pytest.param(
            [
                ("Old", "7", state)
                for state in ("COMPLETE", "ERROR", "DELETED", "PAUSED", "BLOCKED")
            ],
            Status.PASS,
            [],
            id="not-firing-states",
        ),
        pytest.param(
            [("Second export", "1", "WAITING")], Status.PASS, [], id="data-export-never-a-finding"
        ),
    ],
)
def test_outcomes(
    tmp_path: Path, jobs: list[tuple[str, str, str]], status: Status, found: list[str]
) -> None:
    result = audit(tmp_path, org_with(*jobs))
    assert result.status == status, result.message
    assert len(result.findings) == len(found)
    for finding, start in zip(result.findings, found, strict=True):
        assert finding.message.startswith(start)
        assert finding.severity is Severity.MEDIUM


def test_finding_names_owner_schedule_and_next_fire(tmp_path: Path) -> None:
    result = audit(tmp_path, org_with(("Sync", "7", "WAITING")), "{severity: high}")
    [finding] = result.findings
    assert finding.owner == "admin@acme.example"
    assert finding.severity is Severity.HIGH
    assert "next fires 2026-11-27 02:00 UTC (cron 0 0 2 ? * SUN)" in finding.message
    assert finding.data["job_type"] == "7"
    assert finding.record_id is not None and finding.record_id.startswith("08e")


def test_metrics(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        org_with(
            ("A", "7", "WAITING"),
            ("B", "7", "EXECUTING"),
            ("C", "3", "WAITING"),
            ("D", "9", "COMPLETE"),
        ),
    )
    assert result.metrics["firing"] == 3
    assert result.metrics["by_type"] == {"Dashboard Refresh": 1, "Scheduled Apex": 2}
    assert result.metrics["not_firing"] == 1
    assert result.metrics["data_export_next"] == NEXT


def test_owner_falls_back_to_the_id_without_users(tmp_path: Path) -> None:
    data = org_with(("Sync", "7", "WAITING")).build()
    data.users = None
    snap = write_snapshot(data, tmp_path / "org.json")
    config = load_config(text=f"version: 1\norg:\n  source: snapshot:{snap}\n")
    result = run_audit(config, get_plugin_manager(entry_points=False), select=[CHECK]).check(CHECK)
    assert result.status == Status.FAIL
    assert result.findings[0].owner is not None and result.findings[0].owner.startswith("005")


def test_skips_when_the_snapshot_has_no_jobs(tmp_path: Path) -> None:
    data = org_with().build()
    data.scheduled_jobs = None
    snap = write_snapshot(data, tmp_path / "org.json")
    config = load_config(text=f"version: 1\norg:\n  source: snapshot:{snap}\n")
    result = run_audit(config, get_plugin_manager(entry_points=False), select=[CHECK]).check(CHECK)
    assert result.status == Status.SKIP
    assert "no 'scheduled_jobs' section" in result.message


def test_a_waiver_matches_a_job_by_name(tmp_path: Path) -> None:
    snap = org_with(("Sync", "7", "WAITING"), ("Flow", "6", "WAITING")).write(tmp_path / "o.json")
    text = (
        f"version: 1\ntoday: 2026-11-26\norg:\n  source: snapshot:{snap}\n"
        "waivers:\n  - check: scheduled-jobs\n    match: {job: Sync}\n"
        "    reason: runs until the final export\n    expires: 2026-12-31\n"
    )
    report = run_audit(
        load_config(text=text), get_plugin_manager(entry_points=False), select=[CHECK]
    )
    result = report.check(CHECK)
    assert [(f.data["job"], f.waived_by) for f in result.findings] == [
        ("Flow", None),
        ("Sync", "runs until the final export"),
    ]
    assert result.status == Status.FAIL
