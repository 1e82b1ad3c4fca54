"""The emulator and the live source against responses recorded from real orgs.

The recordings are small extracts of SFDO-Tooling/CumulusCI's VCR cassettes (BSD-3,
see tests/fixtures/cumulusci/LICENSE): describe global (API v52), a ``COUNT()`` of an
object that does not exist (INVALID_TYPE), ``limits/recordCount`` lagging a ``count()``,
and a record count of a whole org.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce

from sfaudit.config import load_config
from sfaudit.errors import DataUnavailable
from sfaudit.plugins import get_plugin_manager
from sfaudit.recording import record_snapshot
from sfaudit.sources._auth import from_env
from sfaudit.sources.live import LiveOrg
from sfaudit.sources.snapshot import SnapshotOrg, load_snapshot
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator, SfError
from sfaudit.testing.pytest_fixtures import EmulatorLogins, sample_org

RECORDED = Path(__file__).parent / "fixtures" / "cumulusci"


def _recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def _org(logins: EmulatorLogins) -> LiveOrg:
    return LiveOrg(from_env(dict(os.environ)), login_url=logins.url)


def _sf(emulator: SalesforceEmulator) -> Salesforce:
    return Salesforce(session_id=emulator.new_session(), instance_url=emulator.url)


# --- describe global -----------------------------------------------------------------


def test_describe_global_has_the_recorded_keys(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    real = _recorded("describe_global.json")
    served = _sf(emulator).describe()
    assert set(served) == set(real)
    assert served["encoding"] == real["encoding"]
    assert served["maxBatchSize"] == real["maxBatchSize"]
    keys = set(real["sobjects"][0])
    assert all(set(entry) == keys for entry in real["sobjects"])
    for entry in served["sobjects"]:
        assert set(entry) == keys, entry["name"]
        assert {"rowTemplate", "describe", "sobject"} <= set(entry["urls"])


def test_describe_global_entries_match_the_recording(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    """Every flag of Account, Organization, UserLicense and a Share object, as recorded
    (Organization replicateable, UserLicense and Share objects not, no key prefix for Share)."""
    b = OrgBuilder()
    b.object("Account", 3, ownable=True, label="Account")
    b.object("UserLicense", 33, replicateable=False, label="User License")
    b.object("WorkTypeShare", 0, replicateable=False, label="Work Type Share")
    emulator.load(b.build())
    served = {e["name"]: e for e in _sf(emulator).describe()["sobjects"]}
    for real in _recorded("describe_global.json")["sobjects"]:
        mine = served[real["name"]]
        differ = {
            key: (real[key], mine[key])
            for key in real
            if key not in ("urls", "labelPlural") and real[key] != mine[key]
        }
        assert differ == {}, real["name"]
        suffix = {k: v.split("/sobjects/", 1)[1] for k, v in real["urls"].items()}
        for key in ("rowTemplate", "describe", "sobject"):
            assert mine["urls"][key].endswith("/sobjects/" + suffix[key])


def test_organization_is_replicateable_through_the_live_source(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    """Every org has one Organization row, replicateable in describe global (and never
    in a Data Export); the emulator serves it even when the model does not declare it."""
    assert "Organization" not in {o.name for o in sample_org().objects or []}
    objects = {o.name: o for o in _org(sf_env).objects()}
    org = objects["Organization"]
    assert org.replicateable is True and org.count == 1 and org.ownable is False
    assert objects["UserLicense"].replicateable is False
    assert objects["UserLogin"].replicateable is False


# --- record counts -------------------------------------------------------------------------


def test_record_counts_leave_empty_objects_out(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    """A recorded org-wide answer: names and counts, no zero counts, system objects in."""
    real = _recorded("record_counts.json")["sObjects"]
    assert all(set(r) == {"count", "name"} and r["count"] > 0 for r in real)
    assert {"count": 1, "name": "Organization"} in real
    served = _sf(emulator).restful("limits/recordCount")["sObjects"]
    assert all(set(r) == {"count", "name"} and r["count"] > 0 for r in served)
    names = {r["name"] for r in served}
    assert {"Organization", "UserLogin", "UserLicense"} <= names
    assert "Case" not in names  # declared with 0 records: left out, as Salesforce does
    assert {"count": 1, "name": "Organization"} in served


def test_record_counts_lag_a_count(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    """recordCount is cached: a recorded org answered 1 Account where ``count()`` gave 6.
    The object list carries the approximate figure; ``org.count()`` is exact, live and
    from a snapshot recorded from it."""
    real = _recorded("record_count_lag.json")
    exact = real["select count(Id) from Account"]["records"][0]["expr0"]
    cached = real["limits/recordCount?sObjects=Account"]["sObjects"][0]["count"]
    assert (exact, cached) == (6, 1)

    emulator.faults.stale_count("Account", cached)
    sf = _sf(emulator)
    assert sf.restful("limits/recordCount", params={"sObjects": "Account"}) == {
        "sObjects": [{"count": cached, "name": "Account"}]
    }
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1200
    aggregate = sf.query("select count(Id) from Account")
    assert set(aggregate) == set(real["select count(Id) from Account"])
    (row,) = aggregate["records"]
    assert row["attributes"] == {"type": "AggregateResult"} and isinstance(row["expr0"], int)

    org = _org(sf_env)
    assert org.object("Account") is not None and org.object("Account").count == cached  # type: ignore[union-attr]
    assert org.count("Account") == 1200
    before = len(emulator.api_requests())
    assert org.count("Account") == 1200  # kept for the run
    assert len(emulator.api_requests()) == before

    # A snapshot replays the exact count the live source made while recording.
    plugin = tmp_path / "count_accounts.py"
    plugin.write_text(
        "from sfaudit.registry import check\n\n"
        "@check('count-accounts', severity='low', title='Accounts, counted')\n"
        "def count_accounts(org, metrics):\n"
        "    metrics['accounts'] = org.count('Account')\n",
        encoding="utf-8",
    )
    config = load_config(
        text=f"version: 1\ntoday: 2026-11-26\norg: {{source: live}}\nplugins: ['{plugin}']\n"
    )
    recording = record_snapshot(
        config, get_plugin_manager([plugin], entry_points=False), tmp_path / "org.json"
    )
    offline = SnapshotOrg(load_snapshot(recording.path))
    assert offline.count("Account") == 1200
    assert offline.object("Account").count == cached  # type: ignore[union-attr]


# --- errors ----------------------------------------------------------------------------------


def test_invalid_type_message_is_the_recorded_one(emulator: SalesforceEmulator) -> None:
    real = _recorded("count_invalid_type.json")["response"]["compositeResponse"][1]
    with pytest.raises(SfError) as err:
        emulator.run_query("select count() from XYZZY")
    assert err.value.status == real["httpStatusCode"] == 400
    assert err.value.body() == real["body"]


def test_count_of_an_unknown_object_through_the_live_source(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    """The recorded INVALID_TYPE body, multi-line, becomes one clear line."""
    org = _org(sf_env)
    with pytest.raises(DataUnavailable) as err:
        org.count("XYZZY")
    message = str(err.value)
    assert "\n" not in message and "^" not in message
    assert (
        "INVALID_TYPE: ERROR at Row:1:Column:21 sObject type 'XYZZY' is not supported." in message
    )
    assert "select count() from XYZZY" not in message.lower()


def test_count_answers_have_an_empty_record_list(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    """``SELECT COUNT()``: the count is totalSize and records is ``[]`` (recorded)."""
    real = _recorded("count_invalid_type.json")["response"]["compositeResponse"][0]["body"]
    assert real == {"totalSize": 17, "done": True, "records": []}
    served = _sf(emulator).query("select count() from Account")
    assert served == {"totalSize": 1200, "done": True, "records": []}
