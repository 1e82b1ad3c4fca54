"""Orgs for the fleet tests: two emulators at once (a ready org, a not-ready one)
that accept sessions and the JWT bearer flow, with one CA bundle for both."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import _rsa_pair, sample_org

BIN = Path(sys.executable).parent
BOT = "audit.bot@acme.example"
BOT_PASSWORD = "Fleet-Bot-Password-5521"
CONSUMER_KEY = "3MVG9fleetEmulatorConsumerKey"
CONSUMER_SECRET = "FleetConsumerSecret-9981"
_RECORDS: dict[str, list[dict[str, Any]]] = {"Case": [], "Opportunity": [], "NamedCredential": []}


def ready_org() -> OrgBuilder:
    b = OrgBuilder(org_id="00D5g000000READYEA", name="Ready Ltd")
    bot = b.user(BOT, profile="System Administrator", admin=True)
    b.user("gone@acme.example", active=False)
    b.license("Salesforce", 5, used=1)
    b.object("Account", 40, ownable=True).own("Account", bot, 40)
    b.object("Contact", 60, ownable=True).own("Contact", bot, 60)
    return b


@dataclass
class Orgs:
    """``ready`` serves a ready org, ``busy`` :func:`sample_org` (not ready)."""

    ready: SalesforceEmulator
    busy: SalesforceEmulator
    ca_bundle: Path
    jwt_key: str


@pytest.fixture(scope="module")
def two_emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orgs]:
    tmp = tmp_path_factory.mktemp("emulators")
    private, public = _rsa_pair()
    with (
        SalesforceEmulator(ready_org().build(), records=_RECORDS) as ready,
        SalesforceEmulator(sample_org(), records=_RECORDS) as busy,
    ):
        for emu in (ready, busy):
            emu.add_login(BOT, BOT_PASSWORD)
            emu.add_connected_app(CONSUMER_KEY, CONSUMER_SECRET, public_key_pem=public)
        bundle = tmp / "ca-bundle.pem"
        bundle.write_text(
            Path(ready.ca_path).read_text() + Path(busy.ca_path).read_text(), encoding="utf-8"
        )
        yield Orgs(ready, busy, bundle, private.decode("ascii"))


def clean_env(orgs: Orgs, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This machine's environment without SF_* (or CI) leftovers, reaching both emulators."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SF_", "PYTEST_", "COV_", "GITHUB_", "SFAUDIT_"))
    }
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "COLUMNS": "200",
            "REQUESTS_CA_BUNDLE": str(orgs.ca_bundle),
            "CURL_CA_BUNDLE": str(orgs.ca_bundle),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    env.update(extra or {})
    return env


LIVE_DEFAULTS = """\
version: 1
today: 2026-11-26
contract: {start_date: 2026-02-01, end_date: 2027-01-31, notice_days: 30}
checks:
  active-users: {allow: [audit.bot@acme.example]}
  record-ownership: {custodians: [audit.bot@acme.example]}
  metadata-backup: {enabled: false}
fail_on: high
report: {formats: [html, json, md]}
"""
