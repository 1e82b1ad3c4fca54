"""The roll-up row contract shared by ``sfaudit fleet``, ``sfaudit merge`` and the notifiers."""

from __future__ import annotations

import json
from typing import Any

from sfaudit.rollup import (
    FLEET_SCHEMA_VERSION,
    Rollup,
    incomplete_row,
    row_from_report,
    worst_exit_code,
)


def _report(verdict: str, exit_code: int, days_left: int | None, **extra: Any) -> dict[str, Any]:
    checks: list[dict[str, Any]] = [
        {
            "id": "notice-deadline",
            "title": "Notice",
            "severity": "critical",
            "status": "warn",
            "findings": [],
            "metrics": {"deadline": "2027-01-01", "days_left": days_left},
        },
        {
            "id": "backup-completeness",
            "title": "Backup",
            "severity": "critical",
            "status": "fail",
            "findings": [
                {"severity": "critical", "message": "a", "waived_by": None},
                {"severity": "info", "message": "note", "waived_by": None},
                {"severity": "critical", "message": "w", "waived_by": "waiver 1"},
            ],
            "metrics": {
                "exported_at": "2026-11-20T03:15:00",
                "objects_covered": 3,
                "objects_in_org": 4,
            },
        },
    ]
    return {
        "today": "2026-11-26",
        "org": {
            "id": "00D1",
            "name": "Acme",
            "edition": "Enterprise Edition",
            "source": "live",
            "secret": "x",
        },
        "verdict": verdict,
        "exit_code": exit_code,
        "blocking": ["backup-completeness"] if verdict == "not-ready" else [],
        "checks": checks,
        "timeline": {"contract": ["notice-deadline"], "prepare": ["backup-completeness"]},
        **extra,
    }


def test_row_reads_deadline_backup_and_failing_findings() -> None:
    row = row_from_report(_report("not-ready", 1, 36), "emea", "emea/readiness.html")
    assert row.name == "emea" and row.verdict == "not-ready" and row.exit_code == 1
    assert [(b.id, b.findings) for b in row.blocking] == [("backup-completeness", 1)]
    assert (row.deadline, row.days_left) == ("2027-01-01", 36)
    assert (row.backup_age_days, row.backup_coverage) == (6, 0.75)
    assert row.report == "emea/readiness.html"
    assert "secret" not in row.org


def test_days_left_computed_when_the_metric_is_missing() -> None:
    row = row_from_report(_report("ready", 0, None))
    assert row.name == "Acme" and row.days_left == 36


def test_rollup_sorts_by_urgency_and_takes_the_worst_exit_code() -> None:
    rollup = Rollup.from_reports(
        [
            (_report("ready", 0, 5), "a-ready", None),
            (_report("not-ready", 1, 40), "b-later", None),
            (_report("not-ready", 1, 10), "c-sooner", None),
        ]
    )
    rollup.rows.append(incomplete_row("d-broken", "login failed"))
    assert [r.name for r in rollup.sorted_rows()] == ["c-sooner", "b-later", "d-broken", "a-ready"]
    assert rollup.verdict == "incomplete" and rollup.exit_code == 3
    doc = rollup.to_dict()
    assert doc["schema_version"] == FLEET_SCHEMA_VERSION
    assert doc["summary"] == {"ready": 1, "not-ready": 2, "incomplete": 1}
    assert json.loads(json.dumps(doc))["orgs"][0]["name"] == "c-sooner"


def test_worst_exit_code() -> None:
    assert worst_exit_code([0, 1, 0]) == 1
    assert worst_exit_code([1, 3, 2]) == 3
    assert worst_exit_code([]) == 3


def test_an_incomplete_report_says_why() -> None:
    report = _report("incomplete", 3, 10, problems=["the org could not be read: login refused"])
    report["checks"][1]["status"] = "error"
    report["checks"][1]["message"] = "boom"
    row = row_from_report(report, "broken")
    assert row.error == "the org could not be read: login refused (and 1 more)"
    assert row_from_report(_report("ready", 0, 10)).error is None


def test_a_fleet_json_reads_back_as_the_same_rollup() -> None:
    rollup = Rollup.from_reports(
        [
            (_report("not-ready", 1, 10), "emea", "emea/readiness.html"),
            (_report("ready", 0, 40), "us", None),
        ],
        generated_at="2026-11-26T10:00:00Z",
    )
    rollup.rows.append(incomplete_row("apac", "the org could not be read"))
    doc = json.loads(json.dumps(rollup.to_dict()))
    again = Rollup.from_dict(doc)
    assert again.to_dict() == doc
    assert {r.name: r for r in again.rows}["emea"] == {r.name: r for r in rollup.rows}["emea"]
