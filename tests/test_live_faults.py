"""Faults over real HTTPS: expired sessions, limits, outages, timeouts, bad JSON, permissions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sfaudit.cli import main
from sfaudit.errors import DataUnavailable, SourceError
from sfaudit.sources._auth import from_env
from sfaudit.sources.live import LiveOrg
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import EmulatorLogins

USERS_BATCH = 'UserLicense.Name%20FROM%20User"'  # the composite/batch that carries the User query


def _org(logins: EmulatorLogins, env: dict[str, str] | None = None, **kwargs: Any) -> LiveOrg:
    kwargs.setdefault("backoff", 0.01)
    return LiveOrg(
        from_env(env if env is not None else dict(os.environ)), login_url=logins.url, **kwargs
    )


def _run(config: Path, out: Path, *args: str) -> tuple[Result, dict[str, Any]]:
    result = CliRunner().invoke(
        main, ["run", "-c", str(config), "--format", "json", "-o", str(out), *args]
    )
    report_file = out / "report.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    return result, report


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report.get("checks", [])}


def _message(report: dict[str, Any], check_id: str) -> str:
    return next(str(c["message"]) for c in report["checks"] if c["id"] == check_id)


# --- expired sessions -----------------------------------------------------------------


@pytest.mark.parametrize("flow", ["password", "oauth-password", "jwt", "client-credentials"])
def test_401_mid_run_logs_in_again(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, flow: str
) -> None:
    env = {
        "password": dict(os.environ),
        "oauth-password": {
            "SF_USERNAME": sf_env.username,
            "SF_PASSWORD": sf_env.password,
            "SF_CONSUMER_KEY": sf_env.consumer_key,
            "SF_CONSUMER_SECRET": sf_env.consumer_secret,
        },
        "jwt": {
            "SF_USERNAME": sf_env.username,
            "SF_CONSUMER_KEY": sf_env.consumer_key,
            "SF_JWT_KEY_FILE": sf_env.jwt_key_file,
        },
        "client-credentials": {
            "SF_CONSUMER_KEY": sf_env.consumer_key,
            "SF_CONSUMER_SECRET": sf_env.consumer_secret,
            "SF_DOMAIN": sf_env.my_domain,
        },
    }[flow]
    org = _org(sf_env, env)
    assert org.credentials.flow == flow
    emulator.faults.expire_session(match=USERS_BATCH)
    users = org.users()
    assert len(users) == 40
    assert sum(1 for r in emulator.log if r.is_login) == 2
    statuses = [r.status for r in emulator.log if USERS_BATCH in r.body]
    assert statuses == [401, 200]


def test_401_with_a_session_id_fails_clearly(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    env = {"SF_ACCESS_TOKEN": emulator.new_session(), "SF_INSTANCE_URL": emulator.url}
    org = _org(sf_env, env)
    emulator.faults.expire_session(match=USERS_BATCH)
    with pytest.raises(SourceError) as err:
        org.users()
    assert "session expired" in str(err.value) and "SF_ACCESS_TOKEN" in str(err.value)
    assert env["SF_ACCESS_TOKEN"] not in str(err.value)
    assert not any(r.is_login for r in emulator.log)


def test_expired_session_id_through_the_cli_is_never_ready(
    sf_env: EmulatorLogins,
    emulator: SalesforceEmulator,
    live_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SF_USERNAME")
    monkeypatch.delenv("SF_PASSWORD")
    monkeypatch.setenv("SF_ACCESS_TOKEN", emulator.new_session())
    monkeypatch.setenv("SF_INSTANCE_URL", emulator.url)
    emulator.faults.expire_session(match=USERS_BATCH)
    result, report = _run(live_config, tmp_path / "r")
    assert result.exit_code == 3, result.output
    assert report["verdict"] == "incomplete"
    assert "session expired" in _message(report, "active-users")
    assert "Traceback" not in result.output


# --- limits and login -------------------------------------------------------------------


def test_request_limit_exceeded_mid_run_stops_every_later_call(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    org = _org(sf_env)
    emulator.faults.request_limit_exceeded()
    with pytest.raises(SourceError) as err:
        org.users()
    assert "REQUEST_LIMIT_EXCEEDED" in str(err.value) and "allowance" in str(err.value)
    sent = len(emulator.log)
    with pytest.raises(SourceError, match="REQUEST_LIMIT_EXCEEDED"):
        org.objects()
    assert len(emulator.log) == sent


def test_request_limit_exceeded_through_the_cli(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    emulator.faults.request_limit_exceeded(match="composite/batch")
    result, report = _run(live_config, tmp_path / "r")
    assert result.exit_code == 3, result.output
    assert report["verdict"] == "incomplete"
    assert "REQUEST_LIMIT_EXCEEDED" in result.output
    assert "raise the org's API limit" in result.output


def test_invalid_login_through_the_cli(
    sf_env: EmulatorLogins, live_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SF_PASSWORD", "wrong-password")
    result, report = _run(live_config, tmp_path / "r")
    assert result.exit_code == 3, result.output
    assert report["verdict"] == "incomplete"
    assert "INVALID_LOGIN" in result.output and "SF_SECURITY_TOKEN" in result.output
    assert "wrong-password" not in result.output
    assert "Traceback" not in result.output


# --- outages, timeouts, bad answers ---------------------------------------------------


def test_503_twice_then_ok(sf_env: EmulatorLogins, emulator: SalesforceEmulator) -> None:
    org = _org(sf_env)
    emulator.faults.unavailable(times=2, match=USERS_BATCH)
    assert len(org.users()) == 40
    assert [r.status for r in emulator.log if USERS_BATCH in r.body] == [503, 503, 200]


def test_503_that_persists_is_a_clear_error(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    org = _org(sf_env)
    emulator.faults.unavailable(times=10, match=USERS_BATCH)
    with pytest.raises(SourceError) as err:
        org.users()
    assert "503" in str(err.value) and "3 retries" in str(err.value)
    assert len([r for r in emulator.log if USERS_BATCH in r.body]) == 4  # 1 + 3 retries, bounded


def test_timeout_is_retried(sf_env: EmulatorLogins, emulator: SalesforceEmulator) -> None:
    org = _org(sf_env, timeout=0.5)
    emulator.faults.timeout(2.0, times=1, match=USERS_BATCH)
    assert len(org.users()) == 40
    assert len([r for r in emulator.log if USERS_BATCH in r.body]) == 2


def test_timeout_that_persists_is_a_clear_error(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    org = _org(sf_env, timeout=0.3, retries=1)
    emulator.faults.timeout(1.0, times=5, match=USERS_BATCH)
    with pytest.raises(SourceError) as err:
        org.users()
    assert "did not answer" in str(err.value) and "SF_TIMEOUT" in str(err.value)


def test_malformed_json_errors_only_the_dependent_checks(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    emulator.faults.malformed_json(match=USERS_BATCH)
    result, report = _run(live_config, tmp_path / "r", "--select", "active-users,scheduled-jobs")
    assert result.exit_code == 3, result.output
    statuses = _statuses(report)
    assert statuses["active-users"] == "error"
    assert "not valid JSON" in _message(report, "active-users")
    assert statuses["scheduled-jobs"] != "error"
    assert report["verdict"] == "incomplete"


# --- permissions ---------------------------------------------------------------------------


def test_no_access_to_one_object_errors_only_its_check(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    emulator.faults.deny("CronTrigger")
    result, report = _run(live_config, tmp_path / "r")
    assert result.exit_code == 3, result.output
    statuses = _statuses(report)
    assert statuses["scheduled-jobs"] == "error"
    message = _message(report, "scheduled-jobs")
    assert "cannot read CronTrigger" in message and "View Setup and Configuration" in message
    errored = [cid for cid, status in statuses.items() if status == "error"]
    # The probe plugin reads every section, CronTrigger included; nothing else errors.
    assert set(errored) == {"scheduled-jobs", "probe-facade"}, errored
    assert statuses["active-users"] != "error" and statuses["record-ownership"] != "error"
    assert report["verdict"] == "incomplete"


def test_no_access_to_userlogin_names_the_permission(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    emulator.faults.deny(
        "UserLogin",
        status=400,
        code="INVALID_TYPE",
        message="sObject type 'UserLogin' is not supported.",
    )
    org = _org(sf_env)
    with pytest.raises(DataUnavailable) as err:
        org.users()
    assert err.value.permission
    assert "UserLogin" in str(err.value) and "Manage Users" in str(err.value)
    assert org.licenses()  # the rest of the org still reads


def test_insufficient_access_through_the_cli_is_never_ready(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    emulator.faults.deny("PermissionSetAssignment", code="INSUFFICIENT_ACCESS")
    result, report = _run(live_config, tmp_path / "r", "--fail-on", "never")
    assert result.exit_code == 3, result.output
    assert report["verdict"] == "incomplete"
    assert "INSUFFICIENT_ACCESS" in _message(report, "active-users")
    assert "View Setup and Configuration" in _message(report, "active-users")


def test_a_session_that_keeps_expiring_logs_in_again_only_once(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    org = _org(sf_env)
    emulator.faults.expire_session(times=10, match=USERS_BATCH)
    with pytest.raises(SourceError, match="ended the session again"):
        org.users()
    assert sum(1 for r in emulator.log if r.is_login) == 2
    assert [r.status for r in emulator.log if USERS_BATCH in r.body] == [401, 401]
