"""Every auth flow of the live source, with the real simple-salesforce over HTTPS to the emulator."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from sfaudit._redact import redact
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


#: What @salesforce/cli 2.136.8 and later print in place of the token (plugin-org).
REDACTED = "[REDACTED] Use 'sf org auth show-access-token' to view"
NOT_A_COMMAND = (
    " \u203a   Warning: org auth show-access-token is not a sf command.\n"
    " \u203a   Error: Run sf help org for a list of available commands.\n"
)

STUB = """\
#!{python}
# A stand-in `sf`: answers from spec.json by command, logs its arguments.
import json, sys, time
from pathlib import Path

here = Path(__file__).parent
args = sys.argv[1:]
with open(here / "calls.log", "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
if "show-access-token" in args:
    key = "show-help" if "--help" in args else "show"
elif args[:2] == ["org", "display"]:
    key = "display"
else:
    key = args[0] if args else ""
spec = json.loads((here / "spec.json").read_text(encoding="utf-8")).get(key)
if spec is None:
    sys.stderr.write({missing!r})
    sys.exit(127)
time.sleep(spec.get("sleep", 0))
out = spec.get("stdout", "")
sys.stdout.write(out if isinstance(out, str) else json.dumps(out))
sys.stderr.write(spec.get("stderr", ""))
sys.exit(spec.get("code", 0))
"""


def _stub_sf(bin_dir: Path, **answers: Any) -> Path:
    """A stand-in ``sf`` executable. ``answers`` map ``show`` (show-access-token),
    ``display``, ``version``, ``--version`` and ``show-help`` to ``{"stdout": envelope
    or text, "stderr", "code", "sleep"}``; a command left out does not exist (exit 127)."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "sf"
    script.write_text(STUB.format(python=sys.executable, missing=NOT_A_COMMAND), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (bin_dir / "spec.json").write_text(json.dumps(answers), encoding="utf-8")
    return script


def _calls(bin_dir: Path) -> list[list[str]]:
    lines = (bin_dir / "calls.log").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _ok(result: dict[str, Any]) -> dict[str, Any]:
    return {"stdout": {"status": 0, "result": result, "warnings": []}}


def _display(emulator: SalesforceEmulator, token: str, **extra: Any) -> dict[str, Any]:
    """``sf org display --json`` as the CLI prints it (instance URL with its slash)."""
    return _ok(
        {
            "id": emulator.model.data.info.id,
            "apiVersion": "61.0",
            "accessToken": token,
            "instanceUrl": emulator.url + "/",
            "username": "audit.bot@acme.example",
            "connectedStatus": "Connected",
            "alias": "prod",
            **extra,
        }
    )


def _version(cli: str) -> dict[str, Any]:
    return _ok(
        {
            "architecture": "linux-x64",
            "cliVersion": f"@salesforce/cli/{cli}",
            "nodeVersion": "node-v22.23.5",
        }
    )


@pytest.fixture
def sf_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder first on PATH, for a stand-in ``sf``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_sf_cli_token_from_show_access_token(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, sf_bin: Path, tmp_path: Path
) -> None:
    """A current CLI: the token from ``org auth show-access-token``, the rest from
    ``org display`` (whose token is [REDACTED]); the token is on no command line."""
    token = emulator.new_session()
    _stub_sf(sf_bin, show=_ok({"accessToken": token}), display=_display(emulator, REDACTED))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\norg: {source: 'sf:prod'}\n", encoding="utf-8")
    org = open_live("sf:prod", load_config(cfg))
    assert org.source == "sf" and org.credentials.alias == "prod"
    assert org.credentials.kwargs == {"session_id": token, "instance_url": emulator.url}
    assert org.credentials.username == "audit.bot@acme.example"
    assert org.api_version == "61.0"
    assert len(org.users()) == 40
    assert _calls(sf_bin) == [
        ["org", "auth", "show-access-token", "--target-org", "prod", "--json"],
        ["org", "display", "--target-org", "prod", "--json"],
    ]
    assert _logins(emulator) == []
    assert all("/v61.0/" in r.path for r in emulator.api_requests())
    assert redact(f"session {token}") == "session ***"


def test_sf_cli_config_api_version_wins(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, sf_bin: Path, tmp_path: Path
) -> None:
    token = emulator.new_session()
    _stub_sf(sf_bin, show=_ok({"accessToken": token}), display=_display(emulator, REDACTED))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\norg: {source: 'sf:prod', api_version: '58.0'}\n")
    assert open_live("sf:prod", load_config(cfg)).api_version == "58.0"


def test_old_sf_cli_falls_back_to_org_display(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, sf_bin: Path
) -> None:
    """A CLI before 2.136.8 has no show-access-token, and org display shows the token."""
    token = emulator.new_session()
    _stub_sf(sf_bin, display=_display(emulator, token, apiVersion="59.0"))
    credentials = from_sf_cli("prod")
    assert credentials.kwargs["session_id"] == token
    org = LiveOrg(credentials)
    assert org.queues()[0].name == "Web Leads"
    assert [c[:3] for c in _calls(sf_bin)] == [
        ["org", "auth", "show-access-token"],
        ["org", "display", "--target-org"],
    ]


def test_redacted_token_is_never_sent(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, sf_bin: Path
) -> None:
    """org display hides the token and the CLI lacks show-access-token: say which command
    and CLI version are needed, and send nothing to Salesforce."""
    _stub_sf(sf_bin, display=_display(emulator, REDACTED), version=_version("2.136.2"))
    with pytest.raises(SourceError) as err:
        from_sf_cli("prod")
    text = str(err.value)
    assert "@salesforce/cli 2.136.2" in text and "[REDACTED]" in text
    assert "sf org auth show-access-token --target-org prod --json" in text
    assert "@salesforce/cli 2.136.8 or later" in text
    assert err.value.exit_code == 3
    assert emulator.log == []


def test_redacted_token_through_the_cli(
    sf_env: EmulatorLogins,
    emulator: SalesforceEmulator,
    sf_bin: Path,
    tmp_path: Path,
    cli_runner_env: None,
) -> None:
    from click.testing import CliRunner

    from sfaudit.cli import main

    _stub_sf(sf_bin, display=_display(emulator, REDACTED), version=_version("2.136.2"))
    out = tmp_path / "r"
    result = CliRunner().invoke(
        main, ["run", "--source", "sf:prod", "--select", "active-users", "-o", str(out)]
    )
    assert result.exit_code == 3, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "incomplete"
    assert "sf org auth show-access-token" in report["checks"][0]["message"]
    assert emulator.log == []


def test_show_access_token_without_a_token(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, sf_bin: Path
) -> None:
    _stub_sf(sf_bin, show=_ok({"accessToken": REDACTED}), display=_display(emulator, REDACTED))
    with pytest.raises(SourceError, match="without a usable access token") as err:
        from_sf_cli("prod")
    assert "sf org login web --alias prod" in str(err.value)
    assert emulator.log == []


def test_sf_cli_unknown_alias(sf_bin: Path) -> None:
    envelope = {
        "name": "NamedOrgNotFoundError",
        "message": "Parsing --target-org \n\tNo authorization information found for nope.\n"
        "See more help with --help",
        "exitCode": 2,
        "status": 2,
    }
    _stub_sf(sf_bin, show={"stdout": envelope, "code": 2}, display={"stdout": envelope, "code": 2})
    with pytest.raises(SourceError) as err:
        from_sf_cli("nope")
    message = str(err.value)
    assert "Parsing --target-org No authorization information found for nope." in message
    assert "--help" not in message and "\t" not in message
    assert "sf org login web --alias nope" in message
    assert len(_calls(sf_bin)) == 1


def test_sf_cli_error_envelope_is_redacted(sf_bin: Path) -> None:
    """A CLI error that quotes a token (as a failed refresh may) is redacted."""
    leaked = "00D5g000000ACME!AQSECRETtokenInAnErrorMessage1234"
    envelope = {"status": 1, "name": "RefreshError", "message": f"refresh failed for {leaked}"}
    _stub_sf(sf_bin, show={"stdout": envelope, "code": 1})
    with pytest.raises(SourceError) as err:
        from_sf_cli("prod")
    assert leaked not in str(err.value) and "refresh failed" in str(err.value)


def test_sf_cli_json_after_warnings(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, sf_bin: Path
) -> None:
    """Some CLIs print warnings (with colour codes) before the JSON envelope."""
    token = emulator.new_session()
    noisy = "\x1b[33mWarning:\x1b[39m a new version is available {soon}\n"
    show = {"stdout": noisy + json.dumps({"status": 0, "result": {"accessToken": token}})}
    _stub_sf(sf_bin, show=show, display=_display(emulator, REDACTED))
    assert from_sf_cli("prod").kwargs["session_id"] == token


def test_sf_cli_timeout_names_the_command(sf_bin: Path) -> None:
    _stub_sf(sf_bin, show={"stdout": "", "sleep": 5})
    with pytest.raises(SourceError) as err:
        from_sf_cli("prod", timeout=0.5)
    assert "`sf org auth show-access-token --target-org prod` did not answer within 0.5s" in str(
        err.value
    )


def test_doctor_without_sf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_runner_env: None
) -> None:
    from click.testing import CliRunner

    from sfaudit.cli import main

    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "Salesforce CLI (for --source sf:ALIAS): not found on PATH" in result.output
    assert "npm install --global @salesforce/cli" in result.output


def test_doctor_with_an_old_sf(sf_bin: Path, cli_runner_env: None) -> None:
    from click.testing import CliRunner

    from sfaudit.cli import main

    _stub_sf(sf_bin, version=_version("2.120.3"))
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert f"@salesforce/cli 2.120.3, Node.js 22.23.5 at {sf_bin / 'sf'}" in result.output
    assert "sf org auth show-access-token: no" in result.output
    assert "2.136.8 or later" in result.output


def test_doctor_with_an_sf_that_does_not_start(sf_bin: Path, cli_runner_env: None) -> None:
    """@salesforce/cli 2.146+ on Node.js 20 crashes at start-up."""
    from click.testing import CliRunner

    from sfaudit.cli import main

    crash = {"stderr": "TypeError: zstd is not a function\n", "code": 1}
    _stub_sf(sf_bin, version=crash, **{"--version": crash})
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "does not start" in result.output and "Node.js 22" in result.output


def test_doctor_with_a_current_sf(sf_bin: Path, cli_runner_env: None) -> None:
    from click.testing import CliRunner

    from sfaudit.cli import main

    help_text = {"stdout": "USAGE\n  $ sf org auth show-access-token -o <value> [--json]\n"}
    _stub_sf(sf_bin, version=_version("2.150.6"), **{"show-help": help_text})
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "@salesforce/cli 2.150.6" in result.output
    assert "sf org auth show-access-token: yes" in result.output


def test_sf_cli_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError) as err:
        from_sf_cli("prod")
    assert "not on PATH" in str(err.value) and "@salesforce/cli" in str(err.value)
    assert "Node.js 22" in str(err.value)


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
