"""Read-only proof: every command, over the emulator's request log, makes zero writes.

The session guard itself (raw ``requests`` writes and disguised ones: a PATCH inside a
batch, SOAP ``create``, OAuth revoke, ``composite``) is tested in
tests/test_live_source.py; here the guard is also driven through the authenticated
simple-salesforce client a check could reach (``org.sf``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sfaudit.cli import main
from sfaudit.sources._auth import from_env
from sfaudit.sources._http import WriteRefused
from sfaudit.sources.live import LiveOrg
from sfaudit.testing.emulator import LoggedRequest, SalesforceEmulator
from sfaudit.testing.exports import ExportBuilder
from sfaudit.testing.pytest_fixtures import EmulatorLogins
from tests.notify_servers import Hooks


@dataclass(frozen=True)
class Command:
    """A CLI command; ``touches_org`` says whether it must reach the emulator at all."""

    name: str
    args: tuple[str, ...]
    touches_org: bool


# ``{config}``, ``{out}`` and ``{export}`` are filled in per run.
COMMANDS: tuple[Command, ...] = (
    Command("run", ("run", "-c", "{config}", "-o", "{out}", "--format", "json,html"), True),
    Command("run --source live", ("run", "--source", "live", "-o", "{out}"), True),
    Command("snapshot", ("snapshot", "-c", "{config}", "-o", "{out}/org.json"), True),
    Command(
        "verify-backup --source live",
        ("verify-backup", "{export}", "--source", "live", "-c", "{config}"),
        True,
    ),
    Command("demo", ("demo", "-o", "{out}"), False),
    Command("list-checks", ("list-checks", "-c", "{config}"), False),
    Command("explain", ("explain", "record-ownership", "-c", "{config}"), False),
    Command("plugins", ("plugins", "-c", "{config}"), False),
    Command("init", ("init", "{out}/sfaudit.yaml"), False),
)


def _allowed(request: LoggedRequest) -> bool:
    """A GET, a login, or a ``composite/batch`` whose every subrequest is a GET."""
    if request.method == "GET" or request.is_login:
        return True
    return (
        request.method == "POST"
        and request.path.endswith("/composite/batch")
        and bool(request.subrequests)
        and all(method == "GET" for method in request.subrequests)
    )


def test_every_command_makes_zero_writes(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    ExportBuilder().object("Account", 1200).object("Contact", 3400).write(export, parts=1)
    total = 0
    for i, command in enumerate(COMMANDS):
        emulator.reset()
        out = tmp_path / f"out{i}"
        out.mkdir()
        args = [a.format(config=live_config, out=out, export=export) for a in command.args]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code in (0, 1, 3), (command.name, result.output)
        assert "Traceback" not in result.output
        assert emulator.writes() == [], command.name
        assert all(_allowed(r) for r in emulator.log), (command.name, emulator.log)
        if command.touches_org:
            assert any(r.is_login for r in emulator.log), command.name
            assert emulator.api_requests(), command.name
        else:
            assert emulator.log == [], f"{command.name} talked to the org"
        total += len(emulator.log)
    print(
        f"read-only: {len(COMMANDS)} commands, {total} requests logged, "
        f"{len(emulator.writes())} writes"
    )


WRITES: dict[str, Callable[[Any], object]] = {
    "create (POST)": lambda sf: sf.Account.create({"Name": "x"}),
    "update (PATCH)": lambda sf: sf.Account.update("001000000000001AAA", {"Name": "x"}),
    "upsert (PATCH)": lambda sf: sf.Account.upsert("Ext__c/1", {"Name": "x"}),
    "delete (DELETE)": lambda sf: sf.Account.delete("001000000000001AAA"),
    "restful PUT": lambda sf: sf.restful("sobjects/Account/001", method="PUT", json={}),
    "apexecute POST": lambda sf: sf.apexecute("Anything", method="POST", data={}),
    "composite write": lambda sf: sf.restful(
        "composite/batch",
        method="POST",
        json={"batchRequests": [{"method": "DELETE", "url": "v59.0/sobjects/Account/001"}]},
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_the_client_a_check_can_reach_cannot_write(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, write: str
) -> None:
    org = LiveOrg(from_env(dict(os.environ)), login_url=sf_env.url)
    try:
        sent = len(emulator.log)
        with pytest.raises(WriteRefused):
            WRITES[write](org.sf)
        assert len(emulator.log) == sent, "the write left the process"
        assert emulator.writes() == []
    finally:
        org.close()


#: The loose-end sections (issue 15): each is read from the org, and only read.
LOOSE_ENDS = (
    "InstalledSubscriberPackage",
    "PackageLicense",
    "OauthToken",
    "ConnectedApplication",
    "NamedCredential",
    "RemoteProxy",
    "WorkflowOutboundMessage",
    "EmailServicesAddress",
    "OrgWideEmailAddress",
    "Site",
    "Network",
)


def test_fleet_merge_and_notify_make_zero_writes(
    sf_env: EmulatorLogins,
    emulator: SalesforceEmulator,
    live_config: Path,
    tmp_path: Path,
    hooks: Hooks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fleet's orgs (each in its process, with its prefixed credentials) and the
    loose-end queries only read; the notifiers talk to their channels, never the org;
    merge and notify never reach the org at all."""
    for var in ("USERNAME", "PASSWORD", "SECURITY_TOKEN", "DOMAIN", "LOGIN_URL"):
        monkeypatch.setenv(f"RO_SF_{var}", os.environ[f"SF_{var}"])
    hook = f"{hooks.url}/webhook/read-only"
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        f"version: 1\ndefaults: {live_config.name}\norgs:\n  - {{name: ro, source: live}}\n"
        f"report: {{output: {tmp_path / 'fleet'}}}\n"
        f"notify:\n  - {{type: webhook, url: '{hook}', on: [always]}}\n",
        encoding="utf-8",
    )
    notify_config = tmp_path / "notify.yaml"
    notify_config.write_text(
        f"version: 1\nnotify:\n  - {{type: webhook, url: '{hook}', on: [always]}}\n",
        encoding="utf-8",
    )
    report = tmp_path / "fleet" / "ro" / "report.json"
    steps = [  # the command, whether it reaches the org, the messages it sends
        (["fleet", "-c", str(fleet)], True, 1),
        (["merge", str(report), "-o", str(tmp_path / "merged")], False, 0),
        (["notify", str(report), "-c", str(notify_config)], False, 1),
        (["notify", str(tmp_path / "merged" / "fleet.json"), "-c", str(notify_config)], False, 1),
        (["notify", "--test", "-c", str(notify_config)], False, 1),
    ]
    for args, touches_org, messages in steps:
        emulator.reset()
        told = len(hooks.received)
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code in (0, 1, 3), (args, result.output)
        assert "Traceback" not in result.output
        assert emulator.writes() == [], args
        assert all(_allowed(r) for r in emulator.log), (args, emulator.log)
        if touches_org:
            assert any(r.is_login for r in emulator.log), args
            sent = " ".join(f"{r.soql} {r.body}" for r in emulator.log)
            missing = [name for name in LOOSE_ENDS if name not in sent]
            assert not missing, f"loose ends not read: {missing}"
        else:
            assert emulator.log == [], f"{args[0]} talked to the org"
        assert len(hooks.received) == told + messages, args
