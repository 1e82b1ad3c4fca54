"""record-ownership over snapshots built for each case."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sfaudit.audit import run_audit
from sfaudit.config import load_config
from sfaudit.errors import ConfigError
from sfaudit.plugins import get_plugin_manager
from sfaudit.results import CheckResult, Severity, Status
from sfaudit.sources.snapshot import write_snapshot
from sfaudit.testing import OrgBuilder
from tests.conftest import audit_check

CHECK = "record-ownership"


def audit(tmp_path: Path, builder: OrgBuilder, block: str = "") -> CheckResult:
    return audit_check(tmp_path, builder, CHECK, block)


def base() -> OrgBuilder:
    """Accounts and leads, all owned by the archive user; one ownerless object."""
    b = OrgBuilder()
    b.user("archive@acme.example")
    b.user("sam@acme.example")
    b.user("gone@acme.example", active=False)
    b.object("Account", 100, ownable=True).object("Lead", 40, ownable=True, queue_ownable=True)
    b.object("Product2", 10, ownable=False)
    b.own("Account", "archive@acme.example", 100).own("Lead", "archive@acme.example", 40)
    return b


def moved(sobject: str, owner: str, n: int, queue: bool = False) -> Callable[[], OrgBuilder]:
    """The base org with ``n`` records of ``sobject`` handed from archive to ``owner``."""

    def make() -> OrgBuilder:
        b = base()
        b.own(sobject, "archive@acme.example", -n)
        b.own(sobject, b.queue(owner) if queue else owner, n)
        return b

    return make


CUSTODIAN = "{custodians: [archive@acme.example]}"


@pytest.mark.parametrize(
    ("make", "block", "status", "findings"),
    [
        pytest.param(base, "", Status.PASS, [], id="all-active-no-custodians"),
        pytest.param(base, CUSTODIAN, Status.PASS, [], id="all-with-custodian"),
        pytest.param(
            moved("Account", "sam@acme.example", 7),
            "",
            Status.PASS,
            [],
            id="active-owner-without-custodians",
        ),
        pytest.param(
            moved("Account", "sam@acme.example", 7),
            CUSTODIAN,
            Status.FAIL,
            [("Account", "sam@acme.example", 7, Severity.HIGH)],
            id="non-custodian-owner",
        ),
        pytest.param(
            moved("Account", "gone@acme.example", 3),
            "",
            Status.FAIL,
            [("Account", "gone@acme.example", 3, Severity.HIGH)],
            id="inactive-owner",
        ),
        pytest.param(
            moved("Lead", "Web Leads", 12, queue=True),
            CUSTODIAN,
            Status.PASS,
            [("Lead", "Web Leads", 12, Severity.INFO)],
            id="queue-is-info",
        ),
        pytest.param(
            moved("Lead", "gone@acme.example", 5),
            "{objects: [Account]}",
            Status.PASS,
            [],
            id="objects-limit-the-check",
        ),
        pytest.param(
            moved("Lead", "gone@acme.example", 5),
            "{objects: [lead]}",
            Status.FAIL,
            [("Lead", "gone@acme.example", 5, Severity.HIGH)],
            id="objects-by-any-case",
        ),
        pytest.param(
            moved("Account", "gone@acme.example", 3),
            "{severity: critical, custodians: [archive@acme.example]}",
            Status.FAIL,
            [("Account", "gone@acme.example", 3, Severity.CRITICAL)],
            id="configured-severity",
        ),
    ],
)
def test_outcomes(
    tmp_path: Path,
    make: Callable[[], OrgBuilder],
    block: str,
    status: Status,
    findings: list[tuple[str, str, int, Severity]],
) -> None:
    result = audit(tmp_path, make(), block)
    assert result.status == status, result.message
    assert [(f.object, f.owner, f.count, f.severity) for f in result.findings] == findings


def test_fix_names_the_custodian(tmp_path: Path) -> None:
    result = audit(tmp_path, moved("Account", "gone@acme.example", 3)(), CUSTODIAN)
    [finding] = result.findings
    assert finding.message == (
        "3 Account records owned by inactive user gone@acme.example: "
        "reassign them to archive@acme.example"
    )
    assert finding.data["custodian"] == "archive@acme.example"
    without = audit(tmp_path, moved("Account", "gone@acme.example", 1)(), "")
    assert (
        "1 Account record owned by inactive user gone@acme.example: reassign it to an active"
        in without.findings[0].message
    )


def test_millions_of_records_stay_one_finding_per_object_and_owner(tmp_path: Path) -> None:
    b = OrgBuilder()
    b.user("archive@acme.example")
    owners = [b.user(f"left{i}@acme.example", active=False) for i in range(3)]
    b.object("Task", 6_000_000, ownable=True)
    for owner in owners:
        b.own("Task", owner, 2_000_000)
    result = audit(tmp_path, b, CUSTODIAN)
    assert [(f.owner, f.count) for f in result.findings] == [
        (f"left{i}@acme.example", 2_000_000) for i in range(3)
    ]
    assert result.metrics["records_inactive"] == 6_000_000


def test_metrics(tmp_path: Path) -> None:
    b = moved("Account", "gone@acme.example", 3)()
    b.own("Lead", "archive@acme.example", -10).own("Lead", "sam@acme.example", 6)
    b.own("Lead", b.queue("Web Leads"), 4)
    result = audit(tmp_path, b, CUSTODIAN)
    m = result.metrics
    assert (
        m["objects"],
        m["owners"],
        m["records_inactive"],
        m["records_other_owners"],
        m["records_queues"],
    ) == (2, 2, 3, 6, 4)
    assert m["by_object"] == {"Account": 3, "Lead": 6}


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{custodians: [nobody@acme.example]}", "custodian 'nobody@acme.example' is not a user"),
        ("{custodians: [gone@acme.example]}", "custodian 'gone@acme.example' is inactive"),
        ("{objects: [Widget__c]}", "object 'Widget__c' does not exist"),
        ("{objects: [Product2]}", "object 'Product2' has no owner"),
    ],
)
def test_bad_options_are_config_errors_naming_the_key(
    tmp_path: Path, block: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        audit(tmp_path, base(), block)
    assert message in str(info.value)
    assert "checks.record-ownership." in str(info.value)


@pytest.mark.parametrize("section", ["ownership", "users", "objects"])
def test_skips_when_the_snapshot_lacks_data(tmp_path: Path, section: str) -> None:
    data = moved("Account", "gone@acme.example", 3)().build()
    setattr(data, section, None)
    snap = write_snapshot(data, tmp_path / "org.json")
    config = load_config(text=f"version: 1\norg:\n  source: snapshot:{snap}\n")
    result = run_audit(config, get_plugin_manager(entry_points=False), select=[CHECK]).check(CHECK)
    assert result.status == Status.SKIP
    assert f"no {section!r} section" in result.message
