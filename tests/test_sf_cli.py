"""``--source sf:ALIAS`` with the real Salesforce CLI from npm, logged in to the emulator.

The CLI (``make sf-cli``: @salesforce/cli on a Node.js 22 runtime) runs as a real
process with its own HOME; sfaudit runs as a real process too. Edge cases that need a
CLI misbehaving (an old CLI, a timeout, an error envelope) are in test_live_auth.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sfaudit.sources._auth import from_sf_cli
from sfaudit.sources._sfcli import parse_envelope
from sfaudit.sources.live import LiveOrg
from sfaudit.testing.emulator import LoggedRequest, SalesforceEmulator
from sfaudit.testing.pytest_fixtures import PASSWORD, SECURITY_TOKEN, USERNAME, EmulatorLogins
from tests.sf_cli import RealSf, SfOrg

FORMATS = "html,json,junit,md,csv,ics"


def _is_sfaudit(request: LoggedRequest) -> bool:
    """sfaudit talks through requests; the CLI through its own Node client."""
    return request.user_agent.startswith("python-requests/")


def test_the_cli_hides_the_token_from_org_display(sf_org: SfOrg) -> None:
    """What sfaudit works around: org display prints [REDACTED], show-access-token the token."""
    display = parse_envelope(sf_org.sf("org", "display", "--target-org", "acme", "--json").stdout)
    assert display["status"] == 0
    assert "REDACTED" in display["result"]["accessToken"]
    assert display["result"]["accessToken"] != sf_org.token
    shown = parse_envelope(
        sf_org.sf("org", "auth", "show-access-token", "--target-org", "acme", "--json").stdout
    )
    assert shown["result"]["accessToken"] == sf_org.token


def test_credentials_come_from_the_real_cli(
    sf_org: SfOrg, emulator: SalesforceEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = from_sf_cli("acme", env=sf_org.env)
    assert credentials.flow == "sf-cli" and credentials.alias == "acme"
    assert credentials.kwargs == {"session_id": sf_org.token, "instance_url": emulator.url}
    assert credentials.username == USERNAME
    assert credentials.api_version == emulator.max_api_version
    assert sf_org.token not in repr(credentials) + credentials.describe()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)
    before = len(emulator.log)
    org = LiveOrg(credentials)
    assert org.api_version == emulator.max_api_version
    assert len(org.users()) == 40
    ours = [r for r in emulator.log[before:] if _is_sfaudit(r)]
    assert ours and all(f"/v{emulator.max_api_version}/" in r.path for r in ours)
    assert not any(r.is_login for r in ours)


def _report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


def test_sf_source_audits_like_the_live_source(
    sf_org: SfOrg,
    sf_env: EmulatorLogins,
    emulator: SalesforceEmulator,
    live_config: Path,
    tmp_path: Path,
) -> None:
    """The same org through ``--source live`` and ``--source sf:acme`` (both real
    processes): same verdict, statuses and request count; zero writes; no token shown."""
    live_env = {
        **sf_org.env,
        "SF_USERNAME": USERNAME,
        "SF_PASSWORD": PASSWORD,
        "SF_SECURITY_TOKEN": SECURITY_TOKEN,
        "SF_LOGIN_URL": emulator.url,
    }
    args = ["-vv", "run", "-c", str(live_config), "--format", FORMATS]
    start = len(emulator.log)
    live = SfOrg("live", live_env, "", sf_org.home, sf_org.cli).sfaudit(
        *args, "--source", "live", "-o", str(tmp_path / "live"), cwd=tmp_path
    )
    live_requests = [r for r in emulator.log[start:] if not r.is_login]
    start = len(emulator.log)
    via_sf = sf_org.sfaudit(*args, "--source", "sf:acme", "-o", str(tmp_path / "sf"), cwd=tmp_path)
    sf_requests = emulator.log[start:]

    assert live.returncode in (0, 1), live.stderr
    assert via_sf.returncode == live.returncode, via_sf.stderr
    live_report, sf_report = _report(tmp_path / "live"), _report(tmp_path / "sf")
    assert sf_report["org"]["source"] == "sf" and live_report["org"]["source"] == "live"
    assert sf_report["verdict"] == live_report["verdict"]
    assert sf_report["summary"] == live_report["summary"]
    statuses = [(c["id"], c["status"]) for c in sf_report["checks"]]
    assert statuses == [(c["id"], c["status"]) for c in live_report["checks"]]
    assert not any(status == "error" for _, status in statuses), via_sf.stdout
    probe = next(c for c in sf_report["checks"] if c["id"] == "probe-facade")
    assert probe["metrics"]["users"] == 40

    # The request budget: sfaudit's own requests (the CLI made a few of its own).
    ours = [r for r in sf_requests if _is_sfaudit(r)]
    assert len(ours) == len(live_requests) == sf_report["metrics"]["api_requests"]
    assert sf_report["metrics"]["api_requests"] == live_report["metrics"]["api_requests"]
    assert sf_report["metrics"]["api_logins"] == 0
    assert not any(r.is_login for r in sf_requests)
    assert len(ours) < len(sf_requests), "the CLI itself was asked for the token"
    assert emulator.writes() == []

    texts = {
        "stdout": via_sf.stdout,
        "stderr": via_sf.stderr,
        **{p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "sf").iterdir()},
    }
    assert "report.json" in texts and "readiness.html" in texts
    for where, text in texts.items():
        for token in emulator.issued_tokens:
            assert token not in text, f"the access token leaked into {where}"
        assert "REDACTED" not in text, where


def test_an_expired_cli_session_fails_clearly(
    sf_org: SfOrg, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    emulator.tokens.clear()  # Salesforce ended every session
    result = sf_org.sfaudit(
        "run",
        "-c",
        str(live_config),
        "--source",
        "sf:acme",
        "-o",
        str(tmp_path / "r"),
        cwd=tmp_path,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    report = _report(tmp_path / "r")
    assert report["verdict"] == "incomplete"
    errored = [c for c in report["checks"] if c["status"] == "error"]
    assert errored and all("INVALID_SESSION_ID" in c["message"] for c in errored)
    assert all("sf org login web --alias acme" in c["message"] for c in errored)
    for text in (result.stdout, result.stderr, json.dumps(report)):
        assert sf_org.token not in text
    assert emulator.writes() == []


def test_unknown_alias_names_the_login_command(sf_org: SfOrg, tmp_path: Path) -> None:
    result = sf_org.sfaudit("run", "--source", "sf:nope", "-o", str(tmp_path / "r"), cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    errored = [c for c in _report(tmp_path / "r")["checks"] if c["status"] == "error"]
    assert errored
    for check in errored:
        assert "No authorization information found for nope" in check["message"]
        assert "sf org login web --alias nope" in check["message"]
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_shows_the_real_cli(real_sf: RealSf, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "PATH": f"{real_sf.bin_dir}{os.pathsep}{os.environ['PATH']}",
        "SF_DISABLE_TELEMETRY": "true",
        "SF_AUTOUPDATE_DISABLE": "true",
        "SF_DISABLE_AUTOUPDATE": "true",
    }
    result = SfOrg("", env, "", tmp_path, real_sf).sfaudit("doctor", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"@salesforce/cli {real_sf.version}" in result.stdout
    assert f"Node.js {real_sf.node}" in result.stdout
    assert "sf org auth show-access-token: yes" in result.stdout
