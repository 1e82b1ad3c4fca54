"""No credential ever leaves the process: full audits with distinctive secret values.

Every credential variable (``SF_USERNAME`` is not a secret) holds a distinctive value,
the JWT private key is a fresh one and the emulator's access tokens are collected.
Each command runs with ``-v``/``-vv`` in a real subprocess (its own logging set-up on
stderr), happy and failure paths alike, and one audit runs in-process under ``caplog``.
The secret bytes must appear in none of: stdout, stderr, log records, any file the
run wrote (reports, snapshots) and exception text.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfaudit.cli import main
from sfaudit.errors import SourceError
from sfaudit.sources._auth import from_env
from sfaudit.sources.live import LiveOrg
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.exports import ExportBuilder
from sfaudit.testing.pytest_fixtures import EmulatorLogins, _rsa_pair

USER = "secret.keeper@acme.example"
PASSWORD = "PwSECRETpassw0rdQx7f3a9c"
SECURITY_TOKEN = "TkSECRETsecurityTokenZ42"
CONSUMER_KEY = "3MVG9SECRETconsumerKeyW0d1e"
CONSUMER_SECRET = "CsSECRETconsumerSecretV5b6"
WRONG_PASSWORD = "PwSECRETwrongPassw0rdK88"
STALE_TOKEN = "00D5g000000ACME!AQSECRETstaleSessionTokenJ3kL9mN0pQ"
SECRET_VARS = (
    "SF_PASSWORD",
    "SF_SECURITY_TOKEN",
    "SF_ACCESS_TOKEN",
    "SF_CONSUMER_KEY",
    "SF_CONSUMER_SECRET",
    "SF_JWT_KEY_FILE",
)
FORMATS = "html,json,junit,md,csv,ics"

LEAKY_PLUGIN = '''\
"""A careless plugin: it logs and raises the credentials it can reach."""
import logging
import os

from sfaudit.registry import check


@check("leaky", severity="low", title="Raises with the credentials in its message")
def leaky(org):
    token = org.sf.session_id
    logging.getLogger("leaky").warning("session %s", token)
    raise RuntimeError(os.environ["SF_PASSWORD"] + " " + os.environ["SF_SECURITY_TOKEN"] + " " + token)
'''

CONFIG = """\
version: 1
today: 2026-11-26
org: {source: live, timeout_s: 5, retries: 1, backoff_s: 0.01}
contract: {start_date: 2026-02-01, end_date: 2027-01-31, notice_days: 30}
plugins: [leaky.py]
"""


@dataclass(frozen=True)
class Scenario:
    """One command run: its arguments, the credential flow and the exit codes allowed."""

    name: str
    args: tuple[str, ...]
    flow: str
    exits: tuple[int, ...]


# ``{out}``, ``{config}`` and ``{export}`` are filled in per run.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "run, SOAP password", ("-vv", "run", "-c", "{config}", "-o", "{out}"), "password", (3,)
    ),
    Scenario("run, OAuth password", ("-v", "run", "-c", "{config}", "-o", "{out}"), "oauth", (3,)),
    Scenario("run, JWT", ("-vv", "run", "-c", "{config}", "-o", "{out}"), "jwt", (3,)),
    Scenario(
        "run, client credentials", ("-vv", "run", "-c", "{config}", "-o", "{out}"), "client", (3,)
    ),
    Scenario("run, session id", ("-vv", "run", "-c", "{config}", "-o", "{out}"), "session", (3,)),
    Scenario(
        "snapshot", ("-vv", "snapshot", "-c", "{config}", "-o", "{out}/org.json"), "password", (0,)
    ),
    Scenario(
        "verify-backup --source live",
        (
            "-vv",
            "verify-backup",
            "{export}",
            "--source",
            "live",
            "-c",
            "{config}",
            "--format",
            "json",
        ),
        "password",
        (0, 1),
    ),
    Scenario("list-checks", ("-vv", "list-checks", "-c", "{config}"), "all", (0,)),
    Scenario("plugins", ("-vv", "plugins", "-c", "{config}"), "all", (0,)),
    Scenario("demo", ("-vv", "demo", "-o", "{out}", "--format", FORMATS), "all", (0,)),
    Scenario("bad password", ("-vv", "run", "-c", "{config}", "-o", "{out}"), "bad-password", (3,)),
    Scenario("expired session", ("-vv", "run", "-c", "{config}", "-o", "{out}"), "stale", (3,)),
)


def _flow_env(flow: str, logins: EmulatorLogins, key_file: str, token: str) -> dict[str, str]:
    password = {"SF_USERNAME": USER, "SF_PASSWORD": PASSWORD, "SF_SECURITY_TOKEN": SECURITY_TOKEN}
    keys = {"SF_CONSUMER_KEY": CONSUMER_KEY, "SF_CONSUMER_SECRET": CONSUMER_SECRET}
    return {
        "password": password,
        "oauth": {**password, **keys, "SF_PASSWORD": PASSWORD + SECURITY_TOKEN},
        "jwt": {"SF_USERNAME": USER, "SF_CONSUMER_KEY": CONSUMER_KEY, "SF_JWT_KEY_FILE": key_file},
        "client": {**keys, "SF_DOMAIN": logins.my_domain},
        "session": {"SF_ACCESS_TOKEN": token, "SF_INSTANCE_URL": logins.url},
        "all": {
            **password,
            **keys,
            "SF_JWT_KEY_FILE": key_file,
            "SF_ACCESS_TOKEN": token,
            "SF_INSTANCE_URL": logins.url,
        },
        "bad-password": {**password, "SF_PASSWORD": WRONG_PASSWORD},
        "stale": {"SF_ACCESS_TOKEN": STALE_TOKEN, "SF_INSTANCE_URL": logins.url},
    }[flow]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s[:6] + "..." for s in secrets if s in text]


def test_no_secret_in_any_output(
    sf_env: EmulatorLogins,
    emulator: SalesforceEmulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    private, public = _rsa_pair()
    key_file = tmp_path / "jwt.key"
    key_file.write_bytes(private)
    key_lines = [
        line for line in private.decode().splitlines() if line and not line.startswith("-----")
    ]
    emulator.add_login(USER, PASSWORD, SECURITY_TOKEN)
    emulator.add_connected_app(CONSUMER_KEY, CONSUMER_SECRET, public_key_pem=public, run_as=USER)
    (tmp_path / "leaky.py").write_text(LEAKY_PLUGIN, encoding="utf-8")
    config = tmp_path / "audit.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    export = tmp_path / "export"
    ExportBuilder().object("Account", 1200).object("Contact", 3400).write(export, parts=1)
    session_token = emulator.new_session(USER)

    base = {k: v for k, v in os.environ.items() if not k.startswith("SF_")}
    base["SF_LOGIN_URL"] = sf_env.url
    outputs: dict[str, str] = {}
    for i, scenario in enumerate(SCENARIOS):
        out = tmp_path / f"out{i}"
        out.mkdir()
        args = [a.format(out=out, config=config, export=export) for a in scenario.args]
        env = {**base, **_flow_env(scenario.flow, sf_env, str(key_file), session_token)}
        proc = subprocess.run(
            [sys.executable, "-m", "sfaudit", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert proc.returncode in scenario.exits, (scenario.name, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, (scenario.name, proc.stderr)
        outputs[f"{scenario.name}: stdout"] = proc.stdout
        outputs[f"{scenario.name}: stderr"] = proc.stderr
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            outputs[f"{scenario.name}: {path.name}"] = path.read_text(
                encoding="utf-8", errors="replace"
            )
    assert "DEBUG" in outputs["run, SOAP password: stderr"], "-vv logs at debug level"
    assert "leaky" in outputs["run, SOAP password: report.json"]
    assert "RuntimeError: ***" in outputs["run, SOAP password: report.json"]
    assert "INVALID_LOGIN" in outputs["bad password: stderr"] + outputs["bad password: stdout"]

    # In-process: log records (caplog) and the exception text of a refused login.
    caplog.set_level("DEBUG")
    for name, value in _flow_env("password", sf_env, "", "").items():
        monkeypatch.setenv(name, value)
    in_process = tmp_path / "in-process"
    result = CliRunner().invoke(
        main, ["-vv", "run", "-c", str(config), "-o", str(in_process), "--format", FORMATS]
    )
    assert result.exit_code == 3, result.output
    outputs["in-process: output"] = result.output
    outputs["in-process: exception"] = repr(result.exception)
    for path in sorted(in_process.iterdir()):
        outputs[f"in-process: {path.name}"] = path.read_text(encoding="utf-8", errors="replace")
    with pytest.raises(SourceError) as refused:
        env = {"SF_USERNAME": USER, "SF_PASSWORD": WRONG_PASSWORD, "SF_SECURITY_TOKEN": "x" * 8}
        LiveOrg(from_env(env), login_url=sf_env.url)
    outputs["exception: refused login"] = f"{refused.value!s} {refused.value!r}"
    outputs["log records"] = caplog.text + "\n".join(
        f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    )
    assert "session ***" in outputs["log records"], "the leaky plugin's warning was redacted"

    secrets = [
        PASSWORD,
        SECURITY_TOKEN,
        CONSUMER_KEY,
        CONSUMER_SECRET,
        WRONG_PASSWORD,
        STALE_TOKEN,
        *key_lines,
        *emulator.issued_tokens,
    ]
    assert len(emulator.issued_tokens) >= 8, "every flow logged in and got a token"
    leaks = {where: found for where, text in outputs.items() if (found := _leaks(text, secrets))}
    scanned = len(secrets) * len(outputs)
    print(
        f"secrets scan: {len(secrets)} secret values x {len(outputs)} outputs "
        f"= {scanned} scans over {len(SCENARIOS)} commands, {len(leaks)} leaks"
    )
    assert not leaks, leaks
