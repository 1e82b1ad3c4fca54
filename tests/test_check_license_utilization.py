"""license-utilization over snapshots built for each case."""

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

CHECK = "license-utilization"
TODAY = dt.date(2026, 11, 26)


def audit(tmp_path: Path, builder: OrgBuilder, block: str = "") -> CheckResult:
    return audit_check(tmp_path, builder, CHECK, block)


def ago(days: int) -> dt.datetime:
    return dt.datetime(
        TODAY.year, TODAY.month, TODAY.day, 8, tzinfo=dt.timezone.utc
    ) - dt.timedelta(days=days)


def team(
    size: int = 12, licences: int | None = None, idle: tuple[int | None, ...] = ()
) -> OrgBuilder:
    """``size`` Salesforce users who logged in yesterday, then one per ``idle`` entry
    (days since last login, None for never), and ``licences`` Salesforce licences."""
    b = OrgBuilder()
    for i in range(size):
        b.user(f"user{i}@acme.example", last_login=ago(1))
    for i, days in enumerate(idle):
        b.user(f"idle{i}@acme.example", last_login=None if days is None else ago(days))
    b.license("Salesforce", licences if licences is not None else size + len(idle))
    b.license("Chatter Free", 5000)
    b.user("autoproc@00d", user_type="AutomatedProcess", profile="", license="")
    return b


@pytest.mark.parametrize(
    ("builder", "block", "status", "spare", "idle_users"),
    [
        pytest.param(team(), "", Status.PASS, None, [], id="all-used"),
        pytest.param(team(licences=15), "", Status.WARN, 3, [], id="unassigned-licences"),
        pytest.param(
            team(idle=(90, 89)), "", Status.WARN, 1, ["idle0@acme.example"], id="idle-from-90-days"
        ),
        pytest.param(
            team(idle=(None,)),
            "",
            Status.WARN,
            1,
            ["idle0@acme.example"],
            id="never-logged-in-is-idle",
        ),
        pytest.param(
            team(idle=(40,)),
            "{inactive_days: 30}",
            Status.WARN,
            1,
            ["idle0@acme.example"],
            id="inactive-days-option",
        ),
        pytest.param(team(idle=(40,)), "", Status.PASS, None, [], id="recent-enough"),
        pytest.param(
            team(licences=15),
            "{severity: medium}",
            Status.FAIL,
            3,
            [],
            id="fails-only-when-configured",
        ),
        pytest.param(
            team(licences=15),
            "{ignore_licenses: [Salesforce, Chatter Free]}",
            Status.PASS,
            None,
            [],
            id="ignored-licence",
        ),
    ],
)
def test_outcomes(
    tmp_path: Path,
    builder: OrgBuilder,
    block: str,
    status: Status,
    spare: int | None,
    idle_users: list[str],
) -> None:
    result = audit(tmp_path, builder, block)
    assert result.status == status, result.message
    licence = [f for f in result.findings if f.data.get("license") == "Salesforce"]
    if spare is None:
        assert licence == []
    else:
        [finding] = licence
        assert finding.count == spare
        assert finding.data["idle_users"] == idle_users
        expected = Severity.MEDIUM if "medium" in block else Severity.INFO
        assert finding.severity is expected
    assert not [f for f in result.findings if f.data.get("license") == "Chatter Free"]


def test_frozen_users_hold_idle_licences(tmp_path: Path) -> None:
    b = team()
    b.user("frozen@acme.example", frozen=True, last_login=ago(2))
    b.license("Salesforce", 13)
    result = audit(tmp_path, b)
    assert result.findings[0].data["idle_users"] == ["frozen@acme.example"]


def test_message_and_metrics(tmp_path: Path) -> None:
    b = team(licences=20, idle=(120, None))
    b.license("Salesforce Platform", 5, used=1)
    b.license("Old Licence", 10, used=0, status="Disabled")
    result = audit(tmp_path, b)
    assert result.status == Status.WARN
    assert result.message == (
        "12 of 25 paid licences are unassigned or idle: "
        "consider fewer licences or another edition before cancelling"
    )
    first = result.findings[0]
    assert first.message == (
        "14 of 20 Salesforce licences assigned; 2 held by users idle for 90+ days "
        "(idle0@acme.example, idle1@acme.example): 12 would serve, 8 fewer"
    )
    m = result.metrics
    assert (m["total"], m["used"], m["unused"], m["idle"], m["needed"]) == (25, 15, 10, 2, 13)
    assert m["licenses"]["Salesforce"] == {
        "total": 20,
        "used": 14,
        "unused": 6,
        "idle": 2,
        "needed": 12,
    }
    assert "Old Licence" not in m["licenses"]


@pytest.mark.parametrize(("size", "small"), [(10, True), (11, False)])
def test_cheaper_edition_for_a_small_team(tmp_path: Path, size: int, small: bool) -> None:
    result = audit(tmp_path, team(size=size))
    edition = [f for f in result.findings if f.key == "edition"]
    assert bool(edition) is small
    assert (result.status == Status.WARN) is small
    if small:
        assert edition[0].message == (
            "only 10 people still use their Salesforce licence on Enterprise Edition: "
            "a cheaper edition may serve"
        )
        assert "a cheaper edition may serve" in result.message


@pytest.mark.parametrize("section", ["licenses", "users"])
def test_skips_when_the_snapshot_lacks_data(tmp_path: Path, section: str) -> None:
    data = team(licences=15).build()
    setattr(data, section, None)
    snap = write_snapshot(data, tmp_path / "org.json")
    config = load_config(text=f"version: 1\norg:\n  source: snapshot:{snap}\n")
    result = run_audit(config, get_plugin_manager(entry_points=False), select=[CHECK]).check(CHECK)
    assert result.status == Status.SKIP
    assert f"no {section!r} section" in result.message


def test_system_users_never_count_as_idle(tmp_path: Path) -> None:
    b = team()
    b.user("autoproc@00d5g", user_type="AutomatedProcess", profile="", license="Salesforce")
    b.license("Salesforce", 13)
    result = audit(tmp_path, b)
    assert result.status == Status.PASS, result.message
    assert result.metrics["licenses"]["Salesforce"]["idle"] == 0
