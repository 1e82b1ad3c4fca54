"""Credentials for the live source: from ``SF_*`` environment variables or the Salesforce CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._redact import add_secret, redact
from ..errors import SourceError, UsageError

ENV_VARS = (
    "SF_USERNAME",
    "SF_PASSWORD",
    "SF_SECURITY_TOKEN",
    "SF_DOMAIN",
    "SF_INSTANCE_URL",
    "SF_ACCESS_TOKEN",
    "SF_CONSUMER_KEY",
    "SF_CONSUMER_SECRET",
    "SF_JWT_KEY_FILE",
)

#: Flows that log in with stored credentials, so an expired session logs in again.
RELOGIN_FLOWS = frozenset({"password", "oauth-password", "jwt", "client-credentials"})


@dataclass
class Credentials:
    """How to open a session; ``kwargs`` go to ``simple_salesforce.Salesforce`` and hold secrets."""

    flow: str
    kwargs: dict[str, Any] = field(repr=False)
    username: str = ""
    domain: str = "login"
    alias: str = ""

    def describe(self) -> str:
        """The flow in words, without secrets: for messages and the report."""
        who = f" as {self.username}" if self.username else ""
        if self.flow == "sf-cli":
            return f"the Salesforce CLI org {self.alias!r}{who}"
        names = {
            "password": "username + password + security token (SOAP login)",
            "session": "a session id + instance URL",
            "oauth-password": "OAuth password grant",
            "jwt": "OAuth JWT bearer",
            "client-credentials": "OAuth client credentials",
        }
        return f"{names.get(self.flow, self.flow)}{who} at {self.domain}.salesforce.com"


def normalize_domain(value: str | None) -> str:
    """``login``, ``test``, ``acme.my`` or ``acme.sandbox.my`` from what a user may write."""
    if not value:
        return "login"
    text = value.strip()
    if "://" in text:
        text = urlsplit(text).hostname or text
    return text.removesuffix("/").removesuffix(".salesforce.com")


def from_env(env: Mapping[str, str] | None = None, *, domain: str | None = None) -> Credentials:
    """Pick the auth flow from the ``SF_*`` variables (see the README's table)."""
    env = dict(os.environ) if env is None else dict(env)

    def get(name: str) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else None

    for name in ("SF_PASSWORD", "SF_SECURITY_TOKEN", "SF_ACCESS_TOKEN", "SF_CONSUMER_SECRET"):
        add_secret(get(name))
    dom = normalize_domain(domain or get("SF_DOMAIN"))
    username, password = get("SF_USERNAME"), get("SF_PASSWORD")
    key, secret = get("SF_CONSUMER_KEY"), get("SF_CONSUMER_SECRET")
    key_file, token = get("SF_JWT_KEY_FILE"), get("SF_ACCESS_TOKEN")
    if token:
        instance = get("SF_INSTANCE_URL")
        if not instance:
            raise UsageError(
                "SF_ACCESS_TOKEN is set but SF_INSTANCE_URL is not",
                hint="set SF_INSTANCE_URL to the org's URL, e.g. https://acme.my.salesforce.com",
            )
        return Credentials(
            "session", {"session_id": token, "instance_url": instance}, username or "", dom
        )
    if username and key and key_file:
        path = Path(key_file).expanduser()
        if not path.is_file():
            raise UsageError(
                f"SF_JWT_KEY_FILE={key_file}: no such file",
                hint="point it at the PEM private key whose certificate the connected app holds",
            )
        return Credentials(
            "jwt",
            {"username": username, "consumer_key": key, "privatekey_file": str(path)},
            username,
            dom,
        )
    if username and password and key and secret:
        return Credentials(
            "oauth-password",
            {
                "username": username,
                "password": password,
                "consumer_key": key,
                "consumer_secret": secret,
            },
            username,
            dom,
        )
    if username and password:
        return Credentials(
            "password",
            {
                "username": username,
                "password": password,
                "security_token": get("SF_SECURITY_TOKEN") or "",
            },
            username,
            dom,
        )
    if key and secret and not username:
        if dom in ("login", "test"):
            raise UsageError(
                "the client-credentials flow (SF_CONSUMER_KEY + SF_CONSUMER_SECRET) "
                "needs a My Domain",
                hint="set SF_DOMAIN (or org.domain) to your My Domain, e.g. acme.my",
            )
        return Credentials(
            "client-credentials", {"consumer_key": key, "consumer_secret": secret}, "", dom
        )
    raise UsageError(
        "no Salesforce credentials in the environment for --source live",
        hint=(
            "set SF_USERNAME + SF_PASSWORD (+ SF_SECURITY_TOKEN), "
            "or SF_ACCESS_TOKEN + SF_INSTANCE_URL, "
            "or SF_CONSUMER_KEY with SF_CONSUMER_SECRET or SF_JWT_KEY_FILE; "
            "or use --source sf:ALIAS with the Salesforce CLI"
        ),
    )


def from_sf_cli(alias: str, *, executable: str = "sf", timeout: float = 120.0) -> Credentials:
    """An org authorised with the Salesforce CLI: ``sf org display --target-org ALIAS --json``."""
    if not alias:
        raise UsageError(
            "--source sf: needs an alias, e.g. sf:prod", hint="`sf org list` shows your aliases"
        )
    found = shutil.which(executable)
    if found is None:
        raise UsageError(
            f"--source sf:{alias} needs the Salesforce CLI, but `{executable}` is not on PATH",
            hint="install it (npm install --global @salesforce/cli) and run "
            f"`sf org login web --alias {alias}`, or use --source live with SF_* variables",
        )
    try:
        proc = subprocess.run(
            [found, "org", "display", "--target-org", alias, "--json"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SourceError(
            f"`sf org display --target-org {alias}` did not answer within {timeout:g}s"
        ) from None
    except OSError as exc:
        raise SourceError(f"could not run `{found}`: {exc}") from None
    try:
        payload = json.loads(proc.stdout or "{}")
    except ValueError:
        payload = {}
    result = payload.get("result") if isinstance(payload, dict) else None
    if proc.returncode != 0 or not isinstance(result, dict) or payload.get("status", 0) != 0:
        message = (
            payload.get("message") if isinstance(payload, dict) else None
        ) or proc.stderr.strip()
        raise SourceError(
            f"the Salesforce CLI could not open org {alias!r}: "
            f"{redact(str(message or 'no output'))}",
            hint=f"run `sf org login web --alias {alias}` "
            "(add --instance-url https://test.salesforce.com for a sandbox)",
        )
    token, instance = result.get("accessToken"), result.get("instanceUrl")
    if not token or not instance:
        raise SourceError(
            f"`sf org display --target-org {alias}` gave no access token or instance URL",
            hint=f"log in again: `sf org login web --alias {alias}`",
        )
    add_secret(str(token))
    return Credentials(
        "sf-cli",
        {"session_id": str(token), "instance_url": str(instance)},
        str(result.get("username") or ""),
        normalize_domain(urlsplit(str(instance)).hostname),
        alias=alias,
    )
