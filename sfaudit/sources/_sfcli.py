"""Running the Salesforce CLI (``sf``): its JSON answers, its version, what it can do.

Every call passes arguments only (never a secret), reads the answer from stdout, and
keeps stdout out of every message: an answer may hold an access token.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._redact import redact

#: The first @salesforce/cli with ``sf org auth show-access-token`` (plugin-org 5.11),
#: also the first whose ``sf org display`` hides the token.
SHOW_TOKEN_SINCE = (2, 136, 8)
SHOW_TOKEN_SINCE_TEXT = ".".join(map(str, SHOW_TOKEN_SINCE))
#: Exit status of ``sf`` for a command it does not have (oclif).
COMMAND_NOT_FOUND = 127
_NOT_A_COMMAND = re.compile(r"is not a[n]? \S+ command|command \S+ not found", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_VERSION = re.compile(r"@salesforce/cli/(\d+(?:\.\d+)*)")
_NODE = re.compile(r"node-v?(\d+(?:\.\d+)*)")


class SfCliTimeout(Exception):
    """``sf`` did not answer in time."""


@dataclass
class SfAnswer:
    """One ``sf ... --json`` run: exit status, the JSON envelope (``{}`` when there was
    none), and stderr (free text, never holding a token)."""

    returncode: int
    payload: dict[str, Any]
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.payload.get("status", 0) == 0

    @property
    def result(self) -> dict[str, Any]:
        result = self.payload.get("result")
        return result if isinstance(result, dict) else {}

    @property
    def missing_command(self) -> bool:
        """The CLI has no such command (an older CLI)."""
        if self.payload.get("name") in ("CommandNotFound", "CommandNotFoundError"):
            return True
        return self.returncode == COMMAND_NOT_FOUND or (
            not self.payload and bool(_NOT_A_COMMAND.search(self.stderr))
        )

    def message(self) -> str:
        """What went wrong, in the CLI's words (redacted; stdout is never quoted)."""
        text = _ANSI.sub("", str(self.payload.get("message") or self.stderr or "no output"))
        lines = [
            " ".join(line.strip(" \u203a").split())
            for line in text.splitlines()
            if line.strip() and "--help" not in line
        ]
        return redact(" ".join(lines[:4]) or "no output")[:400]


def find(executable: str = "sf", env: Mapping[str, str] | None = None) -> str | None:
    """The ``sf`` on PATH (or ``executable`` as a path), else None."""
    path = (env if env is not None else os.environ).get("PATH")
    return shutil.which(executable, path=path)


def run_json(
    found: str,
    args: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> SfAnswer:
    """Run ``sf ARGS`` (``--json`` among them) without a terminal; parse the envelope."""
    try:
        proc = _run(found, args, timeout, env)
    except subprocess.TimeoutExpired:
        raise SfCliTimeout from None
    return SfAnswer(proc.returncode, parse_envelope(proc.stdout), proc.stderr or "")


def _run(
    found: str, args: Sequence[str], timeout: float, env: Mapping[str, str] | None
) -> subprocess.CompletedProcess[str]:
    """``sf ARGS`` without a terminal or standard input, its output as text."""
    return subprocess.run(
        [found, *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
        env=dict(env) if env is not None else None,
    )


def parse_envelope(stdout: str) -> dict[str, Any]:
    """The JSON object ``sf --json`` printed, also after warnings or colour codes."""
    text = _ANSI.sub("", stdout or "")
    start = text.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        return value if isinstance(value, dict) else {}
    return {}


@dataclass
class CliInfo:
    """Which ``sf`` was found and what it is (for ``sfaudit doctor`` and messages)."""

    path: str | None
    version: str = ""
    node: str = ""
    error: str = ""

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.version.split(".")) if self.version else ()

    def describe(self) -> str:
        if self.path is None:
            return "not found on PATH"
        what = f"@salesforce/cli {self.version}" if self.version else "version unknown"
        node = f", Node.js {self.node}" if self.node else ""
        return f"{what}{node} at {self.path}"


def cli_info(
    executable: str = "sf", *, timeout: float = 60.0, env: Mapping[str, str] | None = None
) -> CliInfo:
    """``sf version --json``, else ``sf --version``; never raises."""
    found = find(executable, env)
    if found is None:
        return CliInfo(None)
    try:
        answer = run_json(found, ["version", "--json"], timeout=timeout, env=env)
        text = " ".join(
            str(answer.result.get(k) or answer.payload.get(k) or "")
            for k in ("cliVersion", "nodeVersion")
        )
        if not _VERSION.search(text):
            proc = _run(found, ["--version"], timeout, env)
            text = proc.stdout + " " + proc.stderr
    except SfCliTimeout:
        return CliInfo(found, error=f"`sf version` did not answer within {timeout:g}s")
    except (OSError, subprocess.SubprocessError) as exc:
        return CliInfo(found, error=f"could not run {found}: {type(exc).__name__}: {exc}")
    version, node = _VERSION.search(text), _NODE.search(text)
    if version is None:
        first = next((line for line in text.splitlines() if line.strip()), "no output")
        return CliInfo(found, error=f"`sf --version` said: {redact(first.strip())[:200]}")
    return CliInfo(found, version.group(1), node.group(1) if node else "")


def has_show_access_token(
    found: str, *, timeout: float = 60.0, env: Mapping[str, str] | None = None
) -> bool:
    """Whether this CLI has ``sf org auth show-access-token`` (asks for its help)."""
    try:
        proc = _run(found, ["org", "auth", "show-access-token", "--help"], timeout, env)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and "show-access-token" in proc.stdout


def usable_token(value: object) -> bool:
    """A value that can be a session id: not empty, no spaces, not the
    ``[REDACTED] Use 'sf org auth show-access-token' to view`` text."""
    return (
        isinstance(value, str)
        and bool(value)
        and not any(c.isspace() for c in value)
        and "REDACTED" not in value.upper()
        and not value.startswith("[")
    )


def doctor_lines(executable: str = "sf", *, timeout: float = 60.0) -> list[str]:
    """What ``sfaudit doctor`` says about the Salesforce CLI; never raises."""
    info = cli_info(executable, timeout=timeout)
    head = "Salesforce CLI (for --source sf:ALIAS): "
    if info.path is None:
        return [
            head + "not found on PATH",
            "  only --source sf:ALIAS needs it: npm install --global @salesforce/cli "
            "(Node.js 22 or later), then sf org login web --alias ALIAS",
        ]
    if not info.version:
        return [
            head + f"found at {info.path}, but it does not start: {info.error}",
            "  @salesforce/cli 2.146 and later need Node.js 22 or later (`node --version`)",
        ]
    lines = [head + info.describe()]
    if has_show_access_token(info.path, timeout=timeout):
        lines.append("  sf org auth show-access-token: yes (sfaudit reads the token with it)")
    else:
        lines.append(
            "  sf org auth show-access-token: no; sfaudit falls back to the token "
            "`sf org display` shows, which CLIs from "
            f"{SHOW_TOKEN_SINCE_TEXT} on hide: update to @salesforce/cli "
            f"{SHOW_TOKEN_SINCE_TEXT} or later"
        )
    return lines
