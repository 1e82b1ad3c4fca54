"""Every auth flow of the live source, with the real simple-salesforce over HTTPS to the emulator."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from sfaudit.config import load_config
from sfaudit.errors import SourceError, UsageError
from sfaudit.sources._auth import from_env, from_sf_cli, normalize_domain
from sfaudit.sources.live import LiveOrg, open_live
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import EmulatorLogins


def _open(env: dict[str, str], logins: EmulatorLogins, **kwargs: Any) -> LiveOrg:
    return LiveOrg(from_env(env), login_url=logins.url, **kwargs)


def _logins(emulator: SalesforceEmulator) -> list[tuple[str, str]]:
    return [(r.host, r.path) for r in emulator.log if r.is_login]


def test_soap_password_flow(sf_env: EmulatorLogins, emulator: SalesforceEmulator) -> None:
    org = _open(dict(os.environ), sf_env)
    assert org.credentials.flow == "password"
    assert org.info().name == "Acme Emulated"
    assert _logins(emulator) == [("login.salesforce.com", "/services/Soap/u/59.0")]
    # The REST calls went to the instance URL the login handed out.
    assert all(r.host == f"127.0.0.1:{emulator.port}" for r in emulator.api_requests())


def test_soap_login_with_wrong_token_is_invalid_login(sf_env: EmulatorLogins) -> None:
    env = dict(os.environ, SF_SECURITY_TOKEN="wrong")
    with pytest.raises(SourceError) as err:
        _open(env, sf_env)
    assert "INVALID_LOGIN" in str(err.value)
    assert "SF_SECURITY_TOKEN" in str(err.value)
    assert err.value.exit_code == 3
    assert sf_env.password not in str(err.value)


def test_sandbox_logs_in_at_test_domain(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    org = _open(dict(os.environ, SF_DOMAIN="test"), sf_env)
    assert org.users()
    assert _logins(emulator) == [("test.salesforce.com", "/services/Soap/u/59.0")]


def test_config_domain_overrides_env(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, tmp_path: Path
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "version: 1\norg: {source: live, domain: test, page_size: 500}\n", encoding="utf-8"
    )
    org = open_live("live", load_config(cfg))
    assert org.page_size == 500
    assert _logins(emulator)[0][0] == "test.salesforce.com"


def test_session_id_flow_makes_no_login(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    token = emulator.new_session()
    env = {"SF_ACCESS_TOKEN": token, "SF_INSTANCE_URL": emulator.url}
    org = _open(env, sf_env)
    assert org.credentials.flow == "session"
    assert len(org.users()) == 40
    assert _logins(emulator) == []


def test_session_id_needs_instance_url() -> None:
    with pytest.raises(UsageError, match="SF_INSTANCE_URL"):
        from_env({"SF_ACCESS_TOKEN": "00Dxx!abc"})


def test_oauth_password_grant(sf_env: EmulatorLogins, emulator: SalesforceEmulator) -> None:
    env = {
        "SF_USERNAME": sf_env.username,
        "SF_PASSWORD": sf_env.password + sf_env.security_token,
        "SF_CONSUMER_KEY": sf_env.consumer_key,
        "SF_CONSUMER_SECRET": sf_env.consumer_secret,
    }
    org = _open(env, sf_env)
    assert org.credentials.flow == "oauth-password"
    assert org.queues()[0].name == "Web Leads"
    login = next(r for r in emulator.log if r.is_login)
    assert login.path == "/services/oauth2/token" and "grant_type=password" in login.body


def test_oauth_password_grant_bad_secret(sf_env: EmulatorLogins) -> None:
    env = {
        "SF_USERNAME": sf_env.username,
        "SF_PASSWORD": sf_env.password,
        "SF_CONSUMER_KEY": sf_env.consumer_key,
        "SF_CONSUMER_SECRET": "not-the-secret",
    }
    with pytest.raises(SourceError, match="invalid_client"):
        _open(env, sf_env)


def test_jwt_bearer_flow(sf_env: EmulatorLogins, emulator: SalesforceEmulator) -> None:
    env = {
        "SF_USERNAME": sf_env.username,
        "SF_CONSUMER_KEY": sf_env.consumer_key,
        "SF_JWT_KEY_FILE": sf_env.jwt_key_file,
    }
    org = _open(env, sf_env)
    assert org.credentials.flow == "jwt"
    assert org.licenses()
    login = next(r for r in emulator.log if r.is_login)
    assert "jwt-bearer" in login.body and login.host == "login.salesforce.com"


def test_jwt_signed_with_another_key_is_refused(sf_env: EmulatorLogins, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = tmp_path / "other.key"
    key.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    env = {
        "SF_USERNAME": sf_env.username,
        "SF_CONSUMER_KEY": sf_env.consumer_key,
        "SF_JWT_KEY_FILE": str(key),
    }
    with pytest.raises(SourceError) as err:
        _open(env, sf_env)
    assert "invalid_grant" in str(err.value) and "SF_JWT_KEY_FILE" in str(err.value)


def test_jwt_key_file_must_exist(tmp_path: Path) -> None:
    env = {
        "SF_USERNAME": "u",
        "SF_CONSUMER_KEY": "k",
        "SF_JWT_KEY_FILE": str(tmp_path / "nope.key"),
    }
    with pytest.raises(UsageError, match="no such file"):
        from_env(env)


def test_client_credentials_flow_on_my_domain(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    env = {
        "SF_CONSUMER_KEY": sf_env.consumer_key,
        "SF_CONSUMER_SECRET": sf_env.consumer_secret,
        "SF_DOMAIN": "https://acme.my.salesforce.com",
    }
    org = _open(env, sf_env)
    assert org.credentials.flow == "client-credentials"
    assert org.scheduled_jobs()
    login = next(r for r in emulator.log if r.is_login)
    assert login.host == "acme.my.salesforce.com" and "client_credentials" in login.body


def test_client_credentials_need_my_domain() -> None:
    with pytest.raises(UsageError, match="My Domain"):
        from_env({"SF_CONSUMER_KEY": "k", "SF_CONSUMER_SECRET": "s"})


def test_no_credentials_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="SF_USERNAME"):
        from_env({})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "login"),
        ("test", "test"),
        ("acme.my", "acme.my"),
        ("https://acme.my.salesforce.com/", "acme.my"),
    ],
)
def test_normalize_domain(given: str | None, expected: str) -> None:
    assert normalize_domain(given) == expected


def _stub_sf(bin_dir: Path, payload: dict[str, object], code: int = 0) -> Path:
    """A stand-in ``sf`` executable that prints ``payload`` and logs its arguments."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "sf"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{bin_dir}/calls.log"\n'
        f"printf '%s\\n' '{json.dumps(payload)}'\n"
        f"exit {code}\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def test_sf_cli_alias(
    sf_env: EmulatorLogins,
    emulator: SalesforceEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = emulator.new_session()
    bin_dir = tmp_path / "bin"
    _stub_sf(
        bin_dir,
        {
            "status": 0,
            "result": {
                "accessToken": token,
                "instanceUrl": emulator.url,
                "username": sf_env.username,
            },
        },
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\norg: {source: 'sf:prod'}\n", encoding="utf-8")
    org = open_live("sf:prod", load_config(cfg))
    assert org.source == "sf" and org.credentials.alias == "prod"
    assert len(org.users()) == 40
    assert (bin_dir / "calls.log").read_text().split() == [
        "org",
        "display",
        "--target-org",
        "prod",
        "--json",
    ]
    assert _logins(emulator) == []


def test_sf_cli_unknown_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    _stub_sf(
        bin_dir,
        {
            "status": 1,
            "name": "NoOrgFound",
            "message": "No authorization information found for nope.",
        },
        1,
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(SourceError) as err:
        from_sf_cli("nope")
    assert "No authorization information found" in str(err.value)
    assert "sf org login web --alias nope" in str(err.value)


def test_sf_cli_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError) as err:
        from_sf_cli("prod")
    assert "not on PATH" in str(err.value) and "@salesforce/cli" in str(err.value)


def test_sf_cli_missing_through_the_cli(
    cli_runner_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from sfaudit.cli import main

    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["run", "--source", "sf:prod", "-o", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "Salesforce CLI" in result.output and "Traceback" not in result.output


@pytest.fixture
def cli_runner_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run the CLI from an empty folder (no config is picked up by accident)."""
    monkeypatch.chdir(tmp_path)
