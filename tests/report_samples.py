"""Reports for the report-format tests: the demo audit, hand-made edge cases, and big ones."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

from sfaudit.audit import run_audit
from sfaudit.config import load_config
from sfaudit.demo import prepare_demo
from sfaudit.plugins import collect_checks, get_plugin_manager
from sfaudit.registry import timeline
from sfaudit.results import (
    AuditReport,
    CheckResult,
    Finding,
    Outcome,
    Severity,
    WaiverUse,
)
from sfaudit.testing import OrgBuilder

TODAY = dt.date(2026, 11, 26)
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
"""The payloads from the issue: they must render as text, never run."""


def demo_report(tmp: Path) -> AuditReport:
    """The bundled demo audit, run for real."""
    return run_audit(prepare_demo(tmp), get_plugin_manager(entry_points=False))


def _as_run(report: AuditReport) -> AuditReport:
    """What the runner adds from the registered checks: the timeline of every built-in
    check and each result's chart declarations (hand-made checks keep none)."""
    specs = collect_checks(get_plugin_manager(entry_points=False))
    report.timeline = timeline(specs.values())
    for result in report.checks:
        if result.id in specs:
            result.charts = [chart.to_dict() for chart in specs[result.id].charts]
    return report


def _finish(result: CheckResult) -> CheckResult:
    for f in [*result.findings, *result.resolved]:
        f.fingerprint = f.compute_fingerprint(result.id)
        if f.severity is None:
            f.severity = result.severity
    result.settle()
    return result


def rich_report() -> AuditReport:
    """Every kind of content a report can hold: all statuses, waivers, baseline
    badges, an errored check, chart data for all three charts."""
    notice_check = CheckResult(
        "notice-deadline",
        "Notice of non-renewal goes out before the deadline",
        Severity.CRITICAL,
        outcome=Outcome.WARN,
        message="send written notice: the deadline 2027-01-01 is in 36 days",
        metrics={
            "deadline": "2027-01-01",
            "recommended_date": "2026-12-02",
            "days_left": 36,
            "renewal_date": "2027-02-01",
            "refund_estimate": 1754.79,
            "currency": "EUR",
            "full_refund_until": "2026-03-02",
        },
        findings=[Finding("deadline in 36 days", severity=Severity.INFO, key="due")],
    )
    users = CheckResult(
        "active-users",
        "Only allowed users can still log in",
        Severity.HIGH,
        explain="Users who can log in after the cancellation keep access to the data.",
        fix="Deactivate them: Setup → Users.",
        metrics={"active": 4, "can_log_in": 3, "by_license": {"Salesforce": 3, "Chatter Free": 1}},
        findings=[
            Finding("jane@acme.example can still log in", user="jane@acme.example", baseline="new"),
            Finding(
                "joe@acme.example can still log in", user="joe@acme.example", baseline="existing"
            ),
            Finding(
                "support@acme.example can still log in",
                user="support@acme.example",
                waived_by="Vendor support login, removed by Salesforce at termination",
                waiver_expires="2026-12-31",
            ),
            Finding(
                "admin@acme.example is an admin", user="admin@acme.example", severity="critical"
            ),
        ],
        resolved=[
            Finding(
                "old@acme.example can still log in", user="old@acme.example", baseline="resolved"
            )
        ],
    )
    owners = CheckResult(
        "record-ownership",
        "Records are owned by active custodians",
        Severity.HIGH,
        findings=[
            Finding(f"{n} {obj} records owned by {owner}", object=obj, owner=owner, count=n)
            for obj, owner, n in [
                ("Account", "ann@acme.example", 120),
                ("Account", "bob@acme.example", 40),
                ("Contact", "ann@acme.example", 300),
                ("Invoice__c", "cy@acme.example", 75),
            ]
        ],
        metrics={"objects": 3, "owners": 3},
    )
    backup = CheckResult(
        "backup-completeness",
        "The Data Export holds every object",
        Severity.CRITICAL,
        findings=[
            Finding(
                "Contact: 2,640 records in the org, 2,100 rows in the export",
                object="Contact",
                data={"org_count": 2640, "export_count": 2100},
            )
        ],
        metrics={
            "objects": {
                "Account": {"org_count": 1180, "export_count": 1180},
                "Contact": {"org_count": 2640, "export_count": 2100},
            }
        },
    )
    jobs = CheckResult("scheduled-jobs", "No scheduled jobs keep firing", Severity.MEDIUM)
    licences = CheckResult(
        "license-utilization",
        "Paid licences are used",
        Severity.INFO,
        outcome=Outcome.WARN,
        message="28 of 50 paid licences are unassigned or idle",
        metrics={
            "licenses": {
                "Salesforce": {"total": 30, "used": 22, "unused": 8, "idle": 4, "needed": 18},
                "Salesforce Platform": {
                    "total": 10,
                    "used": 2,
                    "unused": 8,
                    "idle": 0,
                    "needed": 2,
                },
            }
        },
    )
    broken = CheckResult(
        "acme-custom",
        "A plugin check that crashed",
        Severity.LOW,
        outcome=Outcome.ERROR,
        message="KeyError: 'Region__c'",
        traceback="Traceback (most recent call last):\n  ...\nKeyError: 'Region__c'",
    )
    skipped = CheckResult(
        "sharing-rules", "Sharing rules", Severity.LOW, outcome=Outcome.SKIP, message="not readable"
    )
    checks = [
        _finish(c) for c in (notice_check, users, owners, backup, jobs, licences, broken, skipped)
    ]
    report = AuditReport(
        checks=checks,
        today=TODAY,
        fail_on="high",
        org={
            "id": "00D5g000000ACMEEA2",
            "name": "Acme Corp",
            "edition": "Enterprise Edition",
            "is_sandbox": False,
            "instance": "EU45",
            "source": "snapshot",
        },
        contract={"start_date": "2026-02-01", "end_date": "2027-01-31", "currency": "EUR"},
        waivers=[
            WaiverUse(
                "active-users",
                "Vendor support login, removed by Salesforce at termination",
                dt.date(2026, 12, 31),
                {"user": "support@acme.example"},
                used=True,
            )
        ],
        config_path="checks/readiness.yaml",
        generated_at=dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone.utc),
    )
    return _as_run(report)


def xss_report(tmp: Path) -> AuditReport:
    """A real audit of an org whose names are XSS payloads (users, owners, objects, the org)."""
    b = OrgBuilder(name=XSS[0] + " Corp", edition=XSS[1])
    admin = b.user("admin@acme.example", admin=True, profile="System Administrator")
    evil = [
        b.user(
            f"{payload}@evil.example",
            name=payload,
            profile=payload,
            last_login="2026-11-20T09:00:00Z",
        )
        for payload in XSS
    ]
    gone = b.user("<b>gone</b>@evil.example", active=False)
    for payload in XSS:
        obj = f"{payload}__c"
        b.object(obj, 50, ownable=True)
        b.own(obj, evil[0], 20).own(obj, gone, 20).own(obj, admin, 10)
    b.object("Account", 30, ownable=True).own("Account", evil[1], 30)
    b.license("Salesforce", 10)
    snapshot = tmp / "evil.json"
    b.write(snapshot)
    config_file = tmp / "evil.yaml"
    config_file.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            today: 2026-11-26
            org: {{source: "snapshot:{snapshot}"}}
            contract: {{start_date: 2026-02-01, end_date: 2027-01-31, notice_days: 30, annual_fee: 18000}}
            checks:
              record-ownership: {{custodians: [admin@acme.example]}}
            report: {{formats: [html, json, md, junit, csv, ics]}}
            """
        ),
        encoding="utf-8",
    )
    return run_audit(load_config(config_file), get_plugin_manager(entry_points=False))


def big_report(n: int = 100_000) -> AuditReport:
    """``n`` findings, every one distinct: 60% users who can log in, 40% ownership rows."""
    n_users = n * 6 // 10
    users = CheckResult(
        "active-users",
        "Only allowed users can still log in",
        Severity.HIGH,
        findings=[
            Finding(
                f"user{i:06d}@bigcorp.example (Sales User) can still log in; "
                f"last login 2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
                user=f"user{i:06d}@bigcorp.example",
                severity="critical" if i % 50 == 0 else None,
                baseline="new" if i % 7 == 0 else "existing",
            )
            for i in range(n_users)
        ],
    )
    objects = [f"Object{j:03d}__c" for j in range(300)]
    owners = CheckResult(
        "record-ownership",
        "Records are owned by active custodians",
        Severity.HIGH,
        findings=[
            Finding(
                f"{1 + i % 500} {objects[i % 300]} records owned by user{i % 5000:06d}@bigcorp.example: "
                "reassign them to archive@bigcorp.example",
                object=objects[i % 300],
                owner=f"user{i % 5000:06d}@bigcorp.example",
                count=1 + i % 500,
                key=f"row{i}",
            )
            for i in range(n - n_users)
        ],
    )
    return AuditReport(
        checks=[_finish(users), _finish(owners)],
        today=TODAY,
        fail_on="high",
        org={
            "id": "00D5g000000BIGCOA2",
            "name": "Bigcorp",
            "edition": "Unlimited Edition",
            "source": "snapshot",
        },
    )
