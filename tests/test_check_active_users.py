"""active-users over snapshots built for each case."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sfaudit.audit import run_audit
from sfaudit.config import load_config
from sfaudit.plugins import get_plugin_manager
from sfaudit.results import CheckResult, Severity, Status
from sfaudit.sources.snapshot import write_snapshot
from sfaudit.testing import OrgBuilder
from tests.conftest import audit_check

CHECK = "active-users"


def audit(tmp_path: Path, builder: OrgBuilder, block: str = "", extra: str = "") -> CheckResult:
    return audit_check(tmp_path, builder, CHECK, block, extra)


def base() -> OrgBuilder:
    """The admin who cancels, a departed user and the users nobody can deactivate."""
    b = OrgBuilder()
    b.user(
        "admin@acme.example",
        profile="System Administrator",
        admin=True,
        last_login="2026-11-25T08:00:00Z",
    )
    b.user("gone@acme.example", active=False, last_login="2025-01-01T08:00:00Z")
    b.user("autoproc@00d5g000000acmeea2", user_type="AutomatedProcess", profile="", license="")
    b.user(
        "integration@00d5g.com",
        user_type="CloudIntegrationUser",
        profile="Salesforce API Only System Integrations",
        license="Salesforce Integration",
    )
    b.user(
        "platform@acme.example", profile="Platform Integration User", license="Salesforce Platform"
    )
    return b


def with_user(**kw: object) -> Callable[[], OrgBuilder]:
    def make() -> OrgBuilder:
        b = base()
        b.user("jane@acme.example", last_login="2026-10-01T12:00:00Z", **kw)  # type: ignore[arg-type]
        return b

    return make


ALLOW_ADMIN = "{allow: [admin@acme.example]}"


@pytest.mark.parametrize(
    ("make", "block", "status", "failing"),
    [
        pytest.param(base, ALLOW_ADMIN, Status.PASS, [], id="only-allowed-and-system"),
        pytest.param(
            base, "{allow: [ADMIN@acme.example]}", Status.PASS, [], id="allow-ignores-case"
        ),
        pytest.param(
            base,
            "{allow_profiles: [System Administrator]}",
            Status.PASS,
            [],
            id="allowed-by-profile",
        ),
        pytest.param(
            base,
            "",
            Status.FAIL,
            [("admin@acme.example", Severity.CRITICAL)],
            id="admin-not-allowed-raised",
        ),
        pytest.param(
            base,
            "{severity: medium}",
            Status.FAIL,
            [("admin@acme.example", Severity.HIGH)],
            id="admin-raised-from-configured",
        ),
        pytest.param(
            with_user(),
            ALLOW_ADMIN,
            Status.FAIL,
            [("jane@acme.example", Severity.HIGH)],
            id="active-user",
        ),
        pytest.param(
            with_user(admin=True, admin_via=("permset:Modify_All",)),
            ALLOW_ADMIN,
            Status.FAIL,
            [("jane@acme.example", Severity.CRITICAL)],
            id="admin-via-permission-set",
        ),
        pytest.param(with_user(frozen=True), ALLOW_ADMIN, Status.PASS, [], id="frozen-is-info"),
        pytest.param(
            with_user(frozen=True),
            "{allow: [admin@acme.example], frozen_counts_as_active: true}",
            Status.FAIL,
            [("jane@acme.example", Severity.HIGH)],
            id="frozen-counts-as-active",
        ),
        pytest.param(
            with_user(profile="Partner Community User", user_type="PowerPartner"),
            ALLOW_ADMIN,
            Status.FAIL,
            [("jane@acme.example", Severity.HIGH)],
            id="partner-user",
        ),
        pytest.param(with_user(active=False), ALLOW_ADMIN, Status.PASS, [], id="inactive"),
    ],
)
def test_outcomes(
    tmp_path: Path,
    make: Callable[[], OrgBuilder],
    block: str,
    status: Status,
    failing: list[tuple[str, Severity]],
) -> None:
    result = audit(tmp_path, make(), block)
    assert result.status == status, result.message
    assert [(f.user, f.severity) for f in result.findings if f.failing] == failing
    info = {f.user for f in result.findings if f.severity is Severity.INFO}
    assert {"autoproc@00d5g000000acmeea2", "integration@00d5g.com", "platform@acme.example"} <= info


def test_finding_carries_last_login_licence_and_profile(tmp_path: Path) -> None:
    result = audit(tmp_path, with_user(profile="Sales User")(), ALLOW_ADMIN)
    [finding] = [f for f in result.findings if f.failing]
    assert "last login 2026-10-01" in finding.message
    assert finding.data["license"] == "Salesforce"
    assert finding.data["profile"] == "Sales User"
    assert finding.data["last_login"].isoformat().startswith("2026-10-01T12:00")


def test_system_and_frozen_users_say_why(tmp_path: Path) -> None:
    result = audit(tmp_path, with_user(frozen=True)(), ALLOW_ADMIN)
    messages = {f.user: f.message for f in result.findings}
    assert "cannot deactivate" in messages["autoproc@00d5g000000acmeea2"]
    assert "frozen (locked out)" in messages["jane@acme.example"]


def test_metrics(tmp_path: Path) -> None:
    b = base()
    b.user("jane@acme.example")
    b.user("frozen@acme.example", frozen=True)
    b.user("partner@x.example", license="Partner Community", user_type="PowerPartner")
    result = audit(tmp_path, b, ALLOW_ADMIN)
    assert {
        k: result.metrics[k]
        for k in ("active", "can_log_in", "admins", "frozen", "allowed", "system", "findings")
    } == {
        "active": 7,
        "can_log_in": 6,
        "admins": 1,
        "frozen": 1,
        "allowed": 1,
        "system": 3,
        "findings": 2,
    }
    assert result.metrics["by_license"] == {
        "(none)": 1,
        "Partner Community": 1,
        "Salesforce": 3,
        "Salesforce Integration": 1,
        "Salesforce Platform": 1,
    }


def test_a_waiver_matches_by_user(tmp_path: Path) -> None:
    waiver = (
        "waivers:\n  - check: active-users\n    match: {user: jane@acme.example}\n"
        "    reason: leaves on the last day\n    expires: 2026-12-31\n"
    )
    result = audit(tmp_path, with_user()(), ALLOW_ADMIN, extra=waiver)
    assert result.status == Status.WAIVED


def test_skips_when_the_snapshot_has_no_users(tmp_path: Path) -> None:
    data = base().build()
    data.users = None
    snap = write_snapshot(data, tmp_path / "org.json")
    config = load_config(text=f"version: 1\norg:\n  source: snapshot:{snap}\n")
    result = run_audit(config, get_plugin_manager(entry_points=False), select=[CHECK]).check(CHECK)
    assert result.status == Status.SKIP
    assert "no 'users' section" in result.message


def test_demo_exercises_every_readiness_check(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from sfaudit.cli import main

    out = CliRunner().invoke(main, ["demo", "-o", str(tmp_path), "--format", "json"])
    assert out.exit_code == 0, out.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    checks = {c["id"]: c for c in report["checks"]}
    for check_id in (
        "notice-deadline",
        "active-users",
        "record-ownership",
        "scheduled-jobs",
        "license-utilization",
    ):
        assert checks[check_id]["findings"], f"{check_id}: {checks[check_id]['status']}"
    assert checks["notice-deadline"]["status"] == "warn"
    assert checks["license-utilization"]["status"] == "warn"
    for check_id in ("active-users", "record-ownership", "scheduled-jobs"):
        assert checks[check_id]["status"] == "fail"
