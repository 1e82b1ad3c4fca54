"""The live source over real HTTPS: read-only, paging, API economy, snapshots, secrets."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from sfaudit.audit import run_audit
from sfaudit.cli import main
from sfaudit.config import apply_overrides, load_config
from sfaudit.errors import DataUnavailable, SourceError
from sfaudit.plugins import get_plugin_manager
from sfaudit.recording import record_snapshot
from sfaudit.results import AuditReport
from sfaudit.sources._auth import from_env
from sfaudit.sources._http import ReadOnlySession, WriteRefused
from sfaudit.sources.live import _NEVER_OWNABLE, LiveOrg, audit_requests
from sfaudit.sources.model import OrgData
from sfaudit.sources.snapshot import SnapshotOrg, load_snapshot
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import USERNAME, EmulatorLogins, sample_org


def _org(logins: EmulatorLogins, **kwargs: Any) -> LiveOrg:
    return LiveOrg(from_env(dict(os.environ)), login_url=logins.url, **kwargs)


# --- read-only by construction ------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_session_refuses_writes_before_they_leave(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, method: str
) -> None:
    session = ReadOnlySession()
    url = f"{emulator.url}/services/data/v59.0/sobjects/Account/001000000000001AAA"
    with pytest.raises(WriteRefused, match=method):
        session.request(method, url, json={"Name": "x"})
    assert emulator.log == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # a batch that carries one PATCH
        (
            "/services/data/v59.0/composite/batch",
            json.dumps(
                {
                    "batchRequests": [
                        {"method": "GET", "url": "v59.0/limits"},
                        {"method": "PATCH", "url": "v59.0/sobjects/Account/001", "richInput": {}},
                    ]
                }
            ),
        ),
        # a SOAP call other than login, on the login path
        (
            "/services/Soap/u/59.0",
            '<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            '<env:Body><n1:create xmlns:n1="urn:partner.soap.sforce.com"/></env:Body></env:Envelope>',
        ),
        # the OAuth revoke endpoint
        ("/services/oauth2/revoke", "token=abc"),
        # a token endpoint POST that is not a grant
        ("/services/oauth2/token", "grant_type=authorization_code&code=x"),
        # composite (not batch) can write
        ("/services/data/v59.0/composite", json.dumps({"compositeRequest": []})),
    ],
)
def test_session_refuses_disguised_writes(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, path: str, body: str
) -> None:
    with pytest.raises(WriteRefused):
        ReadOnlySession().post(emulator.url + path, data=body)
    assert emulator.log == []


def test_session_allows_reads_logins_and_get_batches(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    session = ReadOnlySession()
    batch = {"batchRequests": [{"method": "GET", "url": "v59.0/limits"}]}
    answer = session.post(f"{emulator.url}/services/data/v59.0/composite/batch", json=batch)
    assert answer.status_code == 401  # it left the process; the emulator wants a session
    assert [r.method for r in emulator.log] == ["POST"]


def test_full_audit_makes_zero_writes_and_leaks_no_secret(
    sf_env: EmulatorLogins,
    emulator: SalesforceEmulator,
    live_config: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        main, ["-vv", "run", "-c", str(live_config), "--format", "html,json", "-o", str(out)]
    )
    # Installed third-party plugins run too; one of them erroring (exit 3) is not this test's concern.
    assert result.exit_code in (0, 1, 3), result.output
    assert (out / "report.json").is_file() and (out / "readiness.html").is_file()
    assert emulator.log, "the audit talked to the emulator"
    assert emulator.writes() == []
    assert {r.method for r in emulator.log} <= {"GET", "POST"}
    snap = tmp_path / "org.json"
    rec = CliRunner().invoke(main, ["snapshot", "-c", str(live_config), "-o", str(snap)])
    assert rec.exit_code == 0, rec.output
    assert emulator.writes() == []
    secrets = [sf_env.password, sf_env.security_token, *emulator.issued_tokens]
    assert len(emulator.issued_tokens) >= 2
    texts = {
        "cli output": result.output + rec.output,
        "log records": caplog.text,
        "snapshot": snap.read_text(encoding="utf-8"),
        **{p.name: p.read_text(encoding="utf-8") for p in out.iterdir() if p.is_file()},
    }
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"


# --- paging and scale -------------------------------------------------------------------


def test_paging_with_more_than_a_thousand_users(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    emulator.load(sample_org(users=1500), page_size=200)
    org = _org(sf_env)
    users = org.users()
    assert len(users) == 1500
    assert len({u.id for u in users}) == 1500
    more = [r for r in emulator.log if "/query/01g" in r.path]
    assert len(more) == 7  # 1500 users in pages of 200: 1 first page (in a batch) + 7 queryMore
    assert org.count("User", where="IsActive = true") == sum(1 for u in users if u.is_active)


def test_config_page_size_is_sent_as_batch_size(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    emulator.load(sample_org(users=700))
    org = _org(sf_env, page_size=200)
    records = org.query("SELECT Id, Username FROM User")
    assert len(records) == 700
    pages = [r for r in emulator.log if r.path.endswith("/query") or "/query/" in r.path]
    assert len(pages) == 4  # 200 + 200 + 200 + 100


def test_relationship_fields_and_admin_grants(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    users = {u.username: u for u in _org(sf_env).users()}
    assert users["admin@acme.example"].admin_via == ("profile:System Administrator",)
    assert users["ops@acme.example"].admin_via == ("permset:Modify_All_Ops",)
    assert users["ops@acme.example"].profile == "Standard User"
    assert users["ops@acme.example"].license == "Salesforce"
    assert users["frozen@acme.example"].is_frozen
    assert not users["gone@acme.example"].is_active
    assert users["autoproc@00d.example"].user_type == "AutomatedProcess"


def test_objects_counts_and_ownability(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    objects = {o.name: o for o in _org(sf_env).objects()}
    assert objects["Account"].ownable and objects["Account"].count == 1200
    assert objects["Lead"].queue_ownable and not objects["Account"].queue_ownable
    assert not objects["Product2"].ownable  # described: no OwnerId
    assert not objects["Country__mdt"].ownable
    described = [r for r in emulator.log if "describe" in r.body]
    assert described, "describes went through composite/batch"


def _group_by_batches(emulator: SalesforceEmulator) -> list[str]:
    return [
        requests.utils.unquote(r.body)
        for r in emulator.log
        if "GROUP BY OwnerId" in r.body or "GROUP%20BY%20OwnerId" in r.body
    ]


def test_ownership_is_grouped_server_side(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    org = _org(sf_env, custodians=["archive@acme.example"])
    rows = org.ownership(custodians=["archive@acme.example"])
    got = {(r.object, r.owner, r.reason): r.count for r in rows}
    assert got[("Account", "gone@acme.example", "inactive")] == 300
    assert got[("Lead", "Web Leads", "queue")] == 600
    assert got[("Contact", "frozen@acme.example", "non-custodian")] == 2000
    assert not any(r.owner == "archive@acme.example" for r in rows)
    # The aggregates that found the ownable objects hold the answer: one batch in all.
    (batch,) = _group_by_batches(emulator)
    assert (
        "NOT IN (SELECT Id FROM User WHERE IsActive = true AND Username IN "
        "('archive@acme.example'))" in batch
    )
    assert org.ownership() == [r for r in rows if r.reason != "non-custodian"]
    assert len(_group_by_batches(emulator)) == 1


def test_ownership_for_other_custodians_asks_again(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    told = _org(sf_env, custodians=["archive@acme.example"]).ownership(
        custodians=["archive@acme.example"]
    )
    emulator.log.clear()
    org = _org(sf_env)  # no custodians named when opening
    assert org.ownership(custodians=["archive@acme.example"]) == told
    probe, asked = _group_by_batches(emulator)
    assert "NOT IN (SELECT Id FROM User WHERE IsActive = true) GROUP BY" in probe
    assert "NOT IN (SELECT Id FROM User WHERE IsActive = true AND Id IN (" in asked


def test_no_object_is_described_and_ownability_matches_the_org(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    data = sample_org()
    truth = {o.name: o for o in data.objects or []}
    org = _org(sf_env, custodians=["archive@acme.example"])
    objects = {o.name: o for o in org.objects()}
    for name, obj in truth.items():
        # As before: objects without records, or named never owned, are not asked.
        asked = (obj.count or 0) > 0 and not name.endswith(_NEVER_OWNABLE)
        assert objects[name].ownable == (obj.ownable and asked), name
    assert not any("describe" in r.body for r in emulator.log)
    # Objects with records and no OwnerId were asked, and answered INVALID_FIELD.
    asked = " ".join(_group_by_batches(emulator))
    assert "FROM Product2 WHERE" in asked and "FROM NamedCredential WHERE" in asked
    snapshot = SnapshotOrg(data)
    for custodians in ([], ["archive@acme.example"]):
        assert org.ownership(custodians=custodians) == snapshot.ownership(custodians=custodians)
    assert not any("describe" in r.body for r in emulator.log)


def test_queue_ownable_is_described_when_read(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    objects = {o.name: o for o in _org(sf_env).objects()}
    assert not any("describe" in r.body for r in emulator.log)
    assert objects["Lead"].queue_ownable and not objects["Account"].queue_ownable
    assert not objects["Product2"].queue_ownable  # no owner at all
    described = [r for r in emulator.log if "describe" in r.body]
    assert len(described) == 1, "one batch of describes, for the ownable objects only"
    assert "Product2" not in described[0].body
    assert objects["Invoice__c"].queue_ownable is False
    assert len([r for r in emulator.log if "describe" in r.body]) == 1  # kept for the run
    assert dataclasses.asdict(objects["Lead"])["queue_ownable"] is True


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "MALFORMED_QUERY",
            "Aggregate query does not support queryMore(), use LIMIT to restrict the "
            "results to a single batch",
        ),
        ("INVALID_FIELD", "Can select only RecordId, a Has*Access field, and MaxAccessLevel"),
    ],
)
def test_an_aggregate_that_fails_otherwise_is_described_and_reported(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, code: str, message: str
) -> None:
    emulator.faults.reject("FROM Invoice__c", code=code, message=message)
    org = _org(sf_env)
    objects = {o.name: o for o in org.objects()}
    assert objects["Invoice__c"].ownable and objects["Invoice__c"].count == 500
    described = [r for r in emulator.log if "describe" in r.body]
    assert len(described) == 1 and "Invoice__c/describe" in described[0].body
    assert "Account/describe" not in described[0].body
    with pytest.raises(SourceError, match=f"rejected the query .*Invoice__c.*{code}"):
        org.ownership()
    rows = org.ownership(objects=["Account", "Lead"])
    assert {r.object for r in rows} == {"Account", "Lead"}


def test_no_owner_column_needs_the_objects_own_name(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    emulator.faults.reject(
        "FROM Invoice__c",
        code="INVALID_FIELD",
        message="No such column 'OwnerId' on entity 'Other__c'.",
    )
    objects = {o.name: o for o in _org(sf_env).objects()}
    assert objects["Invoice__c"].ownable  # described, not taken for "no owner"
    assert any("Invoice__c/describe" in r.body for r in emulator.log)


def _sized_org(custom: int, users: int) -> OrgData:
    """25 standard objects (two thirds ownable) and ``custom`` custom objects."""
    b = OrgBuilder(name="Sized")
    b.user(USERNAME, profile="System Administrator", admin=True)
    keeper = b.user("archive@sized.example")
    people = [b.user(f"u{i:05d}@sized.example", active=i % 4 != 0) for i in range(users - 2)]
    b.license("Salesforce", users)
    names = [f"Standard{i:02d}" for i in range(25)] + [f"Custom{i:04d}__c" for i in range(custom)]
    for i, name in enumerate(names):
        ownable = i % 3 != 2
        b.object(name, 100 + i, ownable=ownable, custom=name.endswith("__c"))
        if ownable:
            b.own(name, keeper, 50).own(name, people[i % len(people)], 50 + i)
    b.object("Empty__c", 0, ownable=True, custom=True).object("Country__mdt", 40, custom=True)
    return b.build()


SIZED_CONFIG = """version: 1
today: 2026-11-26
org: {source: live, page_size: PAGE}
contract: {start_date: 2026-02-01, end_date: 2027-01-31}
checks:
  record-ownership: {custodians: [archive@sized.example]}
report: {formats: [json], output: reports}
"""


@pytest.mark.parametrize(("custom", "users", "page_size"), [(60, 2_500, 2000), (140, 4_100, 2000)])
def test_an_audit_makes_the_requests_the_formula_says(
    sf_env: EmulatorLogins,
    emulator: SalesforceEmulator,
    tmp_path: Path,
    custom: int,
    users: int,
    page_size: int,
) -> None:
    data = _sized_org(custom, users)
    emulator.load(data)
    path = tmp_path / "sized.yaml"
    path.write_text(SIZED_CONFIG.replace("PAGE", str(page_size)), encoding="utf-8")
    report = run_audit(load_config(path), get_plugin_manager(entry_points=False))
    assert {c.id: str(c.status) for c in report.checks}["record-ownership"] == "fail"
    # Empty__c has no records: limits/recordCount leaves it out, so it is counted.
    expected = audit_requests(25 + custom, users, page_size, uncounted=1)
    assert len(emulator.log) == expected  # every HTTP request, the login included
    assert report.metrics["api_requests"] == expected - 1  # REST only
    assert not any("describe" in r.body for r in emulator.log)


def test_an_audit_costs_a_bounded_number_of_requests(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path
) -> None:
    config = load_config(live_config)
    files = [config.resolve(p) for p in config.plugins]
    report = run_audit(config, get_plugin_manager(files, entry_points=False))
    assert report.metrics["api_requests"] == len(emulator.api_requests())
    assert report.metrics["api_requests"] <= 12
    assert report.metrics["api_daily_max"] == 15000
    assert report.metrics["api_daily_remaining"] == 15000 - len(emulator.api_requests())
    assert report.org["source"] == "live"


def _formula(data: OrgData, page_size: int | None = None) -> int:
    """What the README's formula says a full audit of ``data`` costs."""
    with_records = [
        o for o in data.objects or [] if (o.count or 0) > 0 and not o.name.endswith(_NEVER_OWNABLE)
    ]
    return audit_requests(len(with_records), len(data.users or []), page_size)


def test_allowance_floor_stops_before_the_audit(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    data = sample_org()
    needed = _formula(data)
    # The opening batch is request 1: 1000 - used - 1 left, of which 100 (10%) are kept.
    emulator.load(data, api_max=1000, api_used=900 - needed)
    result = CliRunner().invoke(main, ["run", "-c", str(live_config), "-o", str(tmp_path / "r")])
    assert result.exit_code == 3, result.output
    assert "daily API requests left" in result.output
    assert f"needs about {needed} requests" in result.output
    assert "min_api_remaining_pct" in result.output
    assert len(emulator.api_requests()) == 1  # the limits batch, nothing after it


def test_allowance_floor_is_the_formula(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    data = sample_org(users=700)
    for page_size in (None, 200):
        needed = _formula(data, page_size)
        emulator.load(data, api_max=1000, api_used=900 - needed)
        with pytest.raises(SourceError, match=f"needs about {needed} requests"):
            _org(sf_env, page_size=page_size)
        emulator.load(data, api_max=1000, api_used=899 - needed)  # one request more: it runs
        _org(sf_env, page_size=page_size).users()
    assert audit_requests(0, 0) == 6 and audit_requests(500, 20_000, login=False) == 34
    assert audit_requests(525, 20_000, 2000) == 36 and audit_requests(2025, 20_000) == 96
    assert audit_requests(25, 2001, 2000) == 1 + 4 + 1 + 2
    assert audit_requests(26, 1, uncounted=3) == 1 + 4 + 2 + 1 + 1


def test_allowance_floor_stops_mid_run(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    emulator.load(sample_org(), api_max=1000, api_used=845)
    org = _org(sf_env, min_api_remaining_pct=10.0)
    emulator.api_used = 905  # another client used the allowance meanwhile
    org.licenses()  # cached from opening: no request
    with pytest.raises(SourceError, match="stopped mid-run"):
        for _ in range(3):
            org.query("SELECT Id FROM Group")
            org._cache.clear()
    before = len(emulator.log)
    with pytest.raises(SourceError):
        org.users()
    assert len(emulator.log) == before


# --- snapshots ----------------------------------------------------------------------------


def _comparable(report: AuditReport) -> list[dict[str, Any]]:
    out = []
    for result in report.checks:
        metrics = {k: v for k, v in result.metrics.items() if not k.startswith("api_")}
        out.append(
            {
                "id": result.id,
                "status": str(result.status),
                "message": result.message,
                "metrics": metrics,
                "findings": sorted(
                    json.dumps(
                        [
                            f.fingerprint,
                            f.message,
                            f.user,
                            f.object,
                            f.owner,
                            f.count,
                            str(f.severity),
                        ]
                    )
                    for f in result.findings
                ),
            }
        )
    return out


def test_live_and_recorded_snapshot_give_identical_results(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    emulator.load(sample_org(users=300), page_size=200)
    config = load_config(live_config)
    files = [config.resolve(p) for p in config.plugins]
    live = run_audit(config, get_plugin_manager(files, entry_points=False))
    recording = record_snapshot(
        load_config(live_config),
        get_plugin_manager(files, entry_points=False),
        tmp_path / "org.json",
    )
    assert recording.missing == []
    offline_config = apply_overrides(load_config(live_config), source=f"snapshot:{recording.path}")
    offline = run_audit(offline_config, get_plugin_manager(files, entry_points=False))
    assert [c.id for c in live.checks] == [c.id for c in offline.checks]
    assert len(live.checks) >= 2
    assert "probe-facade" in [c.id for c in live.checks]
    assert not any(str(c.status) == "error" for c in live.checks), [
        (c.id, c.message) for c in live.checks
    ]
    assert _comparable(live) == _comparable(offline)
    assert live.verdict == offline.verdict
    assert offline.org["source"] == "snapshot" and live.org["source"] == "live"
    data = load_snapshot(recording.path)
    assert data.users is not None and len(data.users) == 300
    assert data.ownership_custodians == ("archive@acme.example",)
    assert any("IsActive = false" in q for q in data.queries)


def test_snapshot_command(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rec" / "org.json"
    result = CliRunner().invoke(
        main, ["snapshot", "--source", "live", "-c", str(live_config), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "recorded Acme Emulated" in result.output and "API requests used" in result.output
    raw = json.loads(out.read_text(encoding="utf-8"))
    assert raw["format"] == "sfaudit-snapshot" and raw["recorded_from"] == "live"
    assert raw["limits"]["DailyApiRequests"]["Max"] == 15000
    rerun = CliRunner().invoke(
        main,
        ["run", "-c", str(live_config), "--source", f"snapshot:{out}", "-o", str(tmp_path / "r")],
    )
    assert rerun.exit_code in (0, 1), rerun.output


def test_snapshot_command_needs_a_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["snapshot", "-o", "org.json"])
    assert result.exit_code == 2
    assert "--source live" in result.output


def test_snapshot_leaves_out_what_it_cannot_read(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    emulator.faults.deny("CronTrigger")
    out = tmp_path / "org.json"
    result = CliRunner().invoke(main, ["snapshot", "-c", str(live_config), "-o", str(out)])
    assert result.exit_code == 3, result.output
    assert "not recorded: scheduled_jobs" in result.output and "CronTrigger" in result.output
    data = load_snapshot(out)
    assert data.scheduled_jobs is None and data.users is not None


def test_snapshot_without_org_details_fails_cleanly(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    emulator.faults.deny("Organization")
    out = tmp_path / "org.json"
    result = CliRunner().invoke(main, ["snapshot", "-c", str(live_config), "-o", str(out)])
    assert result.exit_code == 3, result.output
    assert "cannot record the org" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_an_object_that_cannot_be_described_is_not_guessed(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    emulator.faults.deny("Invoice__c")
    org = _org(sf_env)
    with pytest.raises(DataUnavailable) as err:
        org.objects()
    assert (
        err.value.permission and "Invoice__c" in str(err.value) and "500 records" in str(err.value)
    )
