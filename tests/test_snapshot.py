"""The offline snapshot: round trip, facade answers, and bad snapshots."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sfaudit.errors import DataUnavailable, InputError
from sfaudit.sources.snapshot import SnapshotOrg, load_snapshot, snapshot_dict
from sfaudit.testing import OrgBuilder, salesforce_id
from tests.conftest import small_org


def test_round_trip(tmp_path: Path) -> None:
    data = small_org().build()
    path = OrgBuilder().write(tmp_path / "empty.json")
    assert load_snapshot(path).info.name == "Acme Corp"
    path = small_org().write(tmp_path / "org.json")
    loaded = load_snapshot(path)
    assert snapshot_dict(loaded, recorded_at=None)["users"] == snapshot_dict(data)["users"]
    assert loaded.users == data.users
    assert loaded.ownership == data.ownership


def test_facade_ownership_filters_inactive_queue_and_non_custodians() -> None:
    b = OrgBuilder()
    keeper = b.user("keeper@x.example")
    other = b.user("other@x.example")
    gone = b.user("gone@x.example", active=False)
    queue = b.queue("Leads")
    b.object("Lead", 100, ownable=True)
    b.own("Lead", keeper, 50).own("Lead", other, 20).own("Lead", gone, 10).own("Lead", queue, 20)
    org = b.org()
    rows = {(r.owner, r.reason): r.count for r in org.ownership()}
    assert rows == {("gone@x.example", "inactive"): 10, ("Leads", "queue"): 20}
    rows = {(r.owner, r.reason): r.count for r in org.ownership(custodians=["keeper@x.example"])}
    assert rows == {
        ("gone@x.example", "inactive"): 10,
        ("Leads", "queue"): 20,
        ("other@x.example", "non-custodian"): 20,
    }
    with pytest.raises(DataUnavailable, match="not a user of this org"):
        org.ownership(custodians=["nobody@x.example"])


def test_counts_and_recorded_queries() -> None:
    b = OrgBuilder().object("Case", 12)
    b.query("SELECT COUNT() FROM Case WHERE IsClosed = false", 3)
    org = b.org()
    assert org.count("Case") == 12
    assert org.count("Case", where="IsClosed = false") == 3
    assert org.count("case", where="IsClosed   =  false") == 3, "whitespace and case do not matter"
    with pytest.raises(DataUnavailable, match="did not record the query"):
        org.count("Case", where="Status = 'New'")
    with pytest.raises(ValueError, match="only SELECT"):
        org.query("DELETE FROM Case")


def test_missing_section_is_data_unavailable(tmp_path: Path) -> None:
    path = small_org().write(tmp_path / "org.json")
    raw = json.loads(path.read_text())
    del raw["users"]
    path.write_text(json.dumps(raw))
    org = SnapshotOrg(load_snapshot(path), str(path))
    with pytest.raises(DataUnavailable, match="no 'users' section"):
        org.users()


def test_salesforce_ids_are_well_formed() -> None:
    sid = salesforce_id("005", 42)
    assert len(sid) == 18 and sid.startswith("0055g")
    assert salesforce_id("005", 42) == sid and salesforce_id("005", 43) != sid


BAD = [
    ("truncated", lambda t: t[: len(t) // 2], "not valid JSON"),
    (
        "wrong version",
        lambda t: t.replace('"version": 1', '"version": 7'),
        "version 7 is not supported",
    ),
    ("not a snapshot", lambda t: t.replace("sfaudit-snapshot", "other"), "not an sfaudit snapshot"),
    ("not an object", lambda t: "[]", "a snapshot is a JSON object"),
    (
        "user without id",
        lambda t: t.replace('"id": "0055g', '"xid": "0055g', 1),
        "users[0]: missing field",
    ),
    (
        "users not a list",
        lambda t: json.dumps({**json.loads(t), "users": {}}),
        "users: expected a list",
    ),
    (
        "org missing",
        lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "org"}),
        "'org' is missing",
    ),
]


@pytest.mark.parametrize(("mutate", "needle"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_snapshots_are_input_errors(tmp_path: Path, cli, mutate, needle: str) -> None:
    path = small_org().write(tmp_path / "org.json")
    path.write_text(mutate(path.read_text()))
    with pytest.raises(InputError, match=re.escape(needle)):
        load_snapshot(path)
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\norg: {source: snapshot:org.json}\n")
    result = cli("run", "-c", cfg, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "org.json" in result.stderr and needle in result.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_ownership_recorded_for_some_custodians_only_answers_for_them() -> None:
    b = OrgBuilder()
    keeper = b.user("keeper@x.example")
    gone = b.user("gone@x.example", active=False)
    b.object("Lead", 30, ownable=True).own("Lead", keeper, 20).own("Lead", gone, 10)
    data = b.build()
    data.ownership_custodians = ()  # recorded live, without custodians: inactive owners only
    org = SnapshotOrg(data)
    assert [(r.owner, r.count) for r in org.ownership()] == [("gone@x.example", 10)]
    with pytest.raises(DataUnavailable, match="record it again"):
        org.ownership(custodians=["keeper@x.example"])


def test_recorded_custodians_compare_without_case() -> None:
    b = OrgBuilder()
    keeper = b.user("keeper@x.example")
    gone = b.user("gone@x.example", active=False)
    b.object("Lead", 30, ownable=True).own("Lead", keeper, 20).own("Lead", gone, 10)
    data = b.build()
    data.ownership_custodians = ("Keeper@X.example",)
    org = SnapshotOrg(data)
    assert [(r.owner, r.count) for r in org.ownership(custodians=["keeper@x.example"])] == [
        ("gone@x.example", 10)
    ]


def test_lone_surrogates_in_a_snapshot_cannot_break_the_reports(tmp_path: Path, cli) -> None:
    path = small_org().write(tmp_path / "org.json")
    path.write_text(path.read_text().replace('"Test Org"', '"Test \\ud800 Org"'))
    assert load_snapshot(path).info.name == "Test ? Org"
    cfg = tmp_path / "a.yaml"
    cfg.write_text(
        "version: 1\norg: {source: snapshot:org.json}\nreport: {formats: [html, json, csv, md], output: out}\n"
    )
    result = cli("run", "-c", cfg, "--select", "active-users")
    assert result.exit_code in (0, 1), result.output
    assert (tmp_path / "out" / "readiness.html").exists()
