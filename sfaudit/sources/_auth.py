"""Credentials for the live source: from ``SF_*`` environment variables or the Salesforce CLI."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._redact import add_secret
from ..errors import SourceError, UsageError

if TYPE_CHECKING:
    from . import _sfcli

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
    api_version: str = ""
    """The API version the source reports (the Salesforce CLI's ``apiVersion``), if any."""

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
    """Pick the auth flow from the ``SF_*`` variables (see docs/live-orgs.md)."""
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


def from_sf_cli(
    alias: str,
    *,
    executable: str = "sf",
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
) -> Credentials:
    """An org authorised with the Salesforce CLI.

    The token comes from ``sf org auth show-access-token --target-org ALIAS --json``
    (``sf org display`` hides it since @salesforce/cli 2.136.8); a CLI without that
    command falls back to the token ``sf org display --target-org ALIAS --json`` shows.
    The instance URL, username and API version come from ``sf org display``. The token
    is read from the CLI's stdout only, and registered for redaction at once.
    """
    from . import _sfcli

    if not alias:
        raise UsageError(
            "--source sf: needs an alias, e.g. sf:prod", hint="`sf org list` shows your aliases"
        )
    found = _sfcli.find(executable, env)
    if found is None:
        raise UsageError(
            f"--source sf:{alias} needs the Salesforce CLI, but `{executable}` is not on PATH",
            hint="install it (npm install --global @salesforce/cli, which needs Node.js 22+) "
            f"and run `sf org login web --alias {alias}`, or use --source live with SF_* variables",
        )
    login_hint = (
        f"run `sf org login web --alias {alias}` "
        "(add --instance-url https://test.salesforce.com for a sandbox)"
    )

    def run(*args: str) -> _sfcli.SfAnswer:
        command = "sf " + " ".join(args)
        try:
            answer = _sfcli.run_json(found, [*args, "--json"], timeout=timeout, env=env)
        except _sfcli.SfCliTimeout:
            raise SourceError(
                f"`{command}` did not answer within {timeout:g}s",
                hint="run it yourself to see what it waits for (a login prompt, the network)",
            ) from None
        except OSError as exc:
            raise SourceError(f"could not run `{found}`: {exc}") from None
        for key in ("accessToken", "refreshToken", "sfdxAuthUrl"):
            value = answer.result.get(key)
            if _sfcli.usable_token(value):
                add_secret(str(value))
        return answer

    shown = run("org", "auth", "show-access-token", "--target-org", alias)
    if not shown.ok and not shown.missing_command:
        raise SourceError(
            f"the Salesforce CLI could not open org {alias!r}: {shown.message()}", hint=login_hint
        )
    display = run("org", "display", "--target-org", alias)
    if not display.ok:
        raise SourceError(
            f"the Salesforce CLI could not open org {alias!r}: {display.message()}",
            hint=login_hint,
        )
    result = display.result
    token = shown.result.get("accessToken") if shown.ok else result.get("accessToken")
    if not _sfcli.usable_token(token):
        raise _no_token(alias, found, shown, result, timeout, env)
    instance = str(result.get("instanceUrl") or "").rstrip("/")
    if not instance:
        raise SourceError(
            f"`sf org display --target-org {alias}` gave no instance URL",
            hint=f"log in again: `sf org login web --alias {alias}`",
        )
    version = str(result.get("apiVersion") or "")
    return Credentials(
        "sf-cli",
        {"session_id": str(token), "instance_url": instance},
        str(result.get("username") or ""),
        normalize_domain(urlsplit(instance).hostname),
        alias=alias,
        api_version=version if _API_VERSION.fullmatch(version) else "",
    )


_API_VERSION = re.compile(r"\d{2,3}\.\d")


def _no_token(
    alias: str,
    found: str,
    shown: _sfcli.SfAnswer,
    display: Mapping[str, Any],
    timeout: float,
    env: Mapping[str, str] | None,
) -> SourceError:
    """Why the CLI gave no usable token, naming the command and CLI version needed
    (never the value it gave: that may be a token in an unexpected shape)."""
    from . import _sfcli

    command = f"sf org auth show-access-token --target-org {alias} --json"
    if shown.ok:
        return SourceError(
            f"`{command}` answered without a usable access token",
            hint=f"log in again: `sf org login web --alias {alias}`",
        )
    cli = _sfcli.cli_info(found, timeout=min(timeout, 60.0), env=env)
    value = display.get("accessToken")
    said = (
        "hides the access token ([REDACTED])"
        if isinstance(value, str) and "REDACTED" in value.upper()
        else "gives no access token"
    )
    return SourceError(
        f"the Salesforce CLI ({cli.describe()}) {said} in `sf org display --target-org "
        f"{alias} --json` and has no `sf org auth show-access-token` command",
        hint=f"update the CLI to @salesforce/cli {_sfcli.SHOW_TOKEN_SINCE_TEXT} or later "
        "(`npm install --global @salesforce/cli@latest`, or `sf update`); "
        f"sfaudit then reads the token with `{command}`",
    )
