"""installed-packages, integrations, inbound-email and public-sites: against the emulator
(live, through simple-salesforce over HTTPS) and offline (a snapshot), with the same result."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from sfaudit.audit import run_audit
from sfaudit.config import apply_overrides, load_config
from sfaudit.errors import ConfigError
from sfaudit.plugins import get_plugin_manager
from sfaudit.recording import record_snapshot
from sfaudit.results import AuditReport, CheckResult, Severity, Status, Verdict
from sfaudit.sources.snapshot import load_snapshot
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import USERNAME, EmulatorLogins

CHECKS = ["integrations", "installed-packages", "inbound-email", "public-sites"]
TODAY = dt.date(2026, 11, 26)
LAST_WEEK = dt.datetime(2026, 11, 19, 14, 30, tzinfo=dt.timezone.utc)
LONG_AGO = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


def bare_org() -> OrgBuilder:
    b = OrgBuilder(name="Acme Loose Ends")
    b.user(USERNAME, profile="System Administrator", admin=True, last_login=LAST_WEEK)
    return b


def loose_org() -> tuple[OrgBuilder, dict[str, Any]]:
    """An org with one of each: a billed package, a connected app used last week, a named
    credential, an Email-to-Case address, a live site, and their quieter neighbours."""
    b = bare_org()
    jane = b.user("jane@acme.example", last_login=LAST_WEEK)
    piet = b.user("piet@acme.example", last_login=LAST_WEEK)
    guest = b.user("site_guest@acme.example", user_type="Guest", profile="Help Profile")
    b.package(
        "dfsle",
        "DocuSign eSignature",
        version="Winter '26 (7.4.0)",
        seats=(25, 18),
        expiration=dt.date(2027, 3, 31),
    )
    b.package("freeapp", "Free Utilities", status="")
    b.package("oldpkg", "Old Survey Tool", status="Expired", expiration=dt.date(2026, 1, 31))
    erp = b.connected_app("ERP Connector")
    b.connected_app("Idle App")
    b.token(erp, jane, last_used=LAST_WEEK, use_count=40)
    b.token(erp, piet, last_used=LAST_WEEK - dt.timedelta(days=3), use_count=2)
    b.token("Idle App", jane, last_used=LONG_AGO, use_count=9)
    b.named_credential("ERP_API", "https://erp.acme.example/api")
    b.remote_site("Mailer", "https://mail.example.net", active=True)
    b.remote_site("OldHost", "https://old.example.net", active=False)
    b.outbound_message("Send_Order", "Order")
    b.email_to_case("support@acme.example", "Acme Support")
    b.email_service("invoices", "1a2b3c.9z.apex.salesforce.com")
    b.email_service("retired", "4d5e6f.9z.apex.salesforce.com", active=False)
    b.org_wide_address("noreply@acme.example", "Acme")
    b.site("Help Center", url="https://acme.my.salesforce-sites.com/help", guest_user=guest)
    b.network("Partners", status="UnderConstruction", url="https://acme.my.site.com/partners")
    return b, {"jane": jane, "guest": guest}


def config_text(source: str, block: str = "") -> str:
    text = f"version: 1\ntoday: {TODAY}\norg:\n  source: {source}\nfail_on: medium\n"
    if block:
        text += "checks:\n" + block
    return text


def audit(
    tmp_path: Path,
    builder: OrgBuilder,
    source: str,
    emulator: SalesforceEmulator | None = None,
    block: str = "",
) -> AuditReport:
    """Run the four checks over ``builder``'s org: ``snapshot`` (written to disk) or
    ``live`` (served by the emulator)."""
    if source == "live":
        assert emulator is not None
        emulator.load(builder.build())
        spec = "live"
    else:
        spec = f"snapshot:{builder.write(tmp_path / 'org.json')}"
    config = load_config(text=config_text(spec, block))
    return run_audit(config, get_plugin_manager(entry_points=False), select=CHECKS)


def messages(result: CheckResult, failing: bool = True) -> list[str]:
    return [f.message for f in result.findings if f.failing == failing]


@pytest.fixture(params=["snapshot", "live"])
def source(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def run(source: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    def go(builder: OrgBuilder, block: str = "") -> AuditReport:
        emulator = None
        if source == "live":
            request.getfixturevalue("sf_env")
            emulator = request.getfixturevalue("emulator")
        return audit(tmp_path, builder, source, emulator, block)

    return go


def test_an_org_with_loose_ends_fails_each_check_naming_each_item(run: Any) -> None:
    builder, _ = loose_org()
    report = run(builder)
    assert {c.id: str(c.status) for c in report.checks} == dict.fromkeys(CHECKS, "fail")
    assert report.verdict == Verdict.NOT_READY

    packages = report.check("installed-packages")
    assert messages(packages) == [
        "DocuSign eSignature (dfsle, version Winter '26 (7.4.0)): licence Active, expires "
        "2027-03-31, 18 of 25 seats used; its contract, notice period and data live with the "
        "vendor: cancelling Salesforce does not cancel it"
    ]
    billed = packages.findings[0]
    assert billed.data["namespace"] == "dfsle" and billed.data["seats_allowed"] == 25
    assert str(billed.data["expiration"]) == "2027-03-31"
    assert sorted(f.data["reason"] for f in packages.findings if not f.failing) == [
        "expired",
        "free",
    ]
    assert packages.metrics["billed"] == 1 and packages.metrics["packages"] == 3
    assert packages.message == "managed packages billed on contracts of their own: 1"

    integrations = report.check("integrations")
    assert messages(integrations) == [
        "connected app 'ERP Connector': 2 users, last used 2026-11-19, 42 uses since 2026-08-28",
        "named credential ERP_API calls erp.acme.example",
        "remote site Mailer lets Apex call mail.example.net",
        "outbound message Send_Order on Order sends records to an outside endpoint",
    ]
    app = integrations.findings[0]
    assert (app.object, app.count, app.data["use_count"]) == ("ConnectedApplication", 2, 42)
    assert str(app.severity) == "high"
    assert integrations.metrics["connected_apps"] == 2
    assert integrations.metrics["remote_sites_inactive"] == 1
    assert integrations.metrics["tokens_complete"] is True

    inbound = report.check("inbound-email")
    assert [f.data["address"] for f in inbound.findings] == [
        "invoices@1a2b3c.9z.apex.salesforce.com",
        "support@acme.example",
        "noreply@acme.example",
    ]
    assert "Email-to-Case address support@acme.example (Acme Support)" in messages(inbound)[1]
    assert inbound.metrics["email_services_inactive"] == 1

    sites = report.check("public-sites")
    assert messages(sites) == [
        "site 'Help Center' is Active at acme.my.salesforce-sites.com/help, guest user "
        "site_guest@acme.example serves visitors"
    ]
    assert sites.findings[0].user == "site_guest@acme.example"
    assert sites.metrics["not_live"] == 1


def test_an_org_without_them_passes_every_check(run: Any) -> None:
    report = run(bare_org())
    assert {c.id: str(c.status) for c in report.checks} == dict.fromkeys(CHECKS, "pass")
    assert all(not c.findings for c in report.checks)
    assert report.verdict == Verdict.READY


def test_objects_the_edition_lacks_are_none_not_errors(run: Any) -> None:
    builder = bare_org().not_in_org("Network", "EmailRoutingAddress", "Site", "SiteDetail")
    report = run(builder)
    assert {c.id: str(c.status) for c in report.checks} == dict.fromkeys(CHECKS, "pass")
    assert "EmailRoutingAddress" in report.check("inbound-email").metrics["not_in_org"]


def test_handled_turns_a_package_finding_into_information(run: Any) -> None:
    builder, _ = loose_org()
    report = run(builder, "  installed-packages: {handled: [DFSLE]}\n")
    result = report.check("installed-packages")
    assert result.status == Status.PASS
    handled = next(f for f in result.findings if f.data["namespace"] == "dfsle")
    assert handled.severity == Severity.INFO and handled.data["reason"] == "handled"
    assert "cancellation is arranged" in handled.message


def test_an_inactive_site_and_an_idle_app_pass(run: Any) -> None:
    b = bare_org()
    b.site("Old Site", status="Inactive")
    b.network("Partners", status="DownForMaintenance")
    app = b.connected_app("Idle App")
    b.token(app, b.users[0], last_used=LONG_AGO)
    report = run(b, "  integrations: {active_days: 30}\n")
    assert report.check("public-sites").status == Status.PASS
    assert report.check("public-sites").metrics["not_live"] == 2
    integrations = report.check("integrations")
    assert integrations.status == Status.PASS and integrations.metrics["since"] == dt.date(
        2026, 10, 27
    )


def test_a_user_without_token_visibility_gets_a_partial_result_not_a_pass(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    builder, people = loose_org()
    emulator.user_permissions["PermissionsCustomizeApplication"] = False
    emulator.api_user_id = people["jane"].id
    report = audit(tmp_path, builder, "live", emulator)
    result = report.check("integrations")
    assert result.status == Status.ERROR
    assert result.message.startswith("partial result: the API user lacks 'Customize Application'")
    assert "grant 'Customize Application'" in result.message
    # What it could see is still reported: jane's token, and the endpoints.
    assert messages(result)[0].startswith("connected app 'ERP Connector': 1 user, last used")
    assert len(result.findings) == 4 and result.metrics["tokens_complete"] is False
    assert report.verdict == Verdict.INCOMPLETE and report.exit_code == 3


def test_denied_tokens_error_and_the_endpoints_are_still_listed(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    builder, _ = loose_org()
    emulator.faults.deny("OauthToken")
    report = audit(tmp_path, builder, "live", emulator)
    result = report.check("integrations")
    assert result.status == Status.ERROR and "OAuth tokens: the API user cannot read" in (
        result.message
    )
    assert "Customize Application" in result.message
    assert [f.data["kind"] for f in result.findings] == [
        "named-credential",
        "remote-site",
        "outbound-message",
    ]
    assert report.verdict == Verdict.INCOMPLETE


def test_hidden_setup_objects_are_a_permission_problem_not_none(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    """INVALID_TYPE means "not in this org" only when the API user can see setup."""
    builder = bare_org().not_in_org("EmailRoutingAddress")
    emulator.user_permissions["PermissionsViewSetup"] = False
    report = audit(tmp_path, builder, "live", emulator)
    inbound = report.check("inbound-email")
    assert inbound.status == Status.ERROR
    assert "EmailRoutingAddress" in inbound.message and "View Setup" in inbound.message
    assert report.check("public-sites").status == Status.PASS


def test_an_org_refusing_the_token_aggregate_is_read_token_by_token(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    builder, _ = loose_org()
    emulator.faults.reject(
        "COUNT_DISTINCT",
        message="field UserId does not support aggregate operator COUNT_DISTINCT",
    )
    report = audit(tmp_path, builder, "live", emulator)
    first = report.check("integrations").findings[0]
    assert first.message.startswith("connected app 'ERP Connector': 2 users, last used 2026-11-19")
    assert first.data["use_count"] == 42
    assert any("UserId, LastUsedDate" in r.soql for r in emulator.api_requests())


def test_live_and_recorded_snapshot_agree_and_the_requests_stay_few(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    builder, _ = loose_org()
    emulator.load(builder.build())
    config = load_config(text=config_text("live"))
    pm = get_plugin_manager(entry_points=False)
    emulator.log.clear()
    live = run_audit(config, pm, select=CHECKS)
    batches = [
        r
        for r in emulator.api_requests()
        if r.path.endswith("/composite/batch") and "InstalledSubscriberPackage" in r.body
    ]
    assert len(batches) == 1 and "OauthToken" in batches[0].body
    assert len(json.loads(batches[0].body)["batchRequests"]) <= 25
    recording = record_snapshot(
        load_config(text=config_text("live")),
        get_plugin_manager(entry_points=False),
        tmp_path / "org.json",
    )
    data = load_snapshot(recording.path)
    assert data.loose_ends is not None and "2026-08-28" in data.oauth_usage
    assert "oauth_tokens" not in data.loose_ends  # recorded per app, never per token
    offline = run_audit(
        apply_overrides(load_config(text=config_text("live")), source=f"snapshot:{recording.path}"),
        get_plugin_manager(entry_points=False),
        select=CHECKS,
    )

    def comparable(report: AuditReport) -> list[Any]:
        return [
            (
                c.id,
                str(c.status),
                c.message,
                {k: v for k, v in c.metrics.items() if not k.startswith("api_")},
                [(f.fingerprint, f.message, str(f.severity), f.data) for f in c.findings],
            )
            for c in report.checks
        ]

    assert comparable(live) == comparable(offline)
    assert str(live.check("integrations").status) == "fail"


def test_a_snapshot_recorded_for_another_window_says_so(tmp_path: Path) -> None:
    builder, _ = loose_org()
    data = builder.build()
    assert data.loose_ends is not None
    from sfaudit.sources import aggregate_tokens
    from sfaudit.sources.snapshot import write_snapshot

    data.oauth_usage = {"2026-08-28": aggregate_tokens(data.loose_ends.pop("oauth_tokens"), TODAY)}
    snap = write_snapshot(data, tmp_path / "org.json")
    config = load_config(
        text=config_text(f"snapshot:{snap}", "  integrations: {active_days: 30}\n")
    )
    report = run_audit(config, get_plugin_manager(entry_points=False), select=["integrations"])
    result = report.check("integrations")
    assert result.status == Status.FAIL  # the endpoints are still findings
    assert "recorded OAuth token use since 2026-08-28, not since 2026-10-27" in result.message


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("  integrations: {active_dayz: 30}\n", "did you mean 'active_days'"),
        ("  installed-packages: {handled: dfsle}\n", "must be a list"),
        ("  integrations: {active_days: 0}\n", "1 or more"),
    ],
)
def test_bad_options_are_config_errors(tmp_path: Path, block: str, expected: str) -> None:
    builder, _ = loose_org()
    with pytest.raises(ConfigError, match=expected):
        audit(tmp_path, builder, "snapshot", None, block)
