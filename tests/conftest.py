"""Shared fixtures: a fresh plugin manager, small orgs and configs on disk."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sfaudit.audit import run_audit
from sfaudit.cli import main
from sfaudit.config import load_config
from sfaudit.plugins import DEFAULT_PLUGINS, PluginManager, get_plugin_manager
from sfaudit.results import CheckResult
from sfaudit.testing import OrgBuilder

pytest_plugins = [
    "sfaudit.testing.pytest_fixtures",
    "tests.sf_cli",
    "tests.fleet_orgs",
    "tests.notify_servers",
]


def core_pm(files: Any = (), extra: Any = ()) -> PluginManager:
    """A plugin manager without the built-in checks: engine tests see only their own."""
    pm = get_plugin_manager(files, entry_points=False, extra=extra)
    for name in DEFAULT_PLUGINS:
        if name.startswith("sfaudit.checks."):
            pm.unregister(name=name)
            pm.infos.pop(name, None)
    return pm


@pytest.fixture
def pm() -> PluginManager:
    """A fresh plugin manager with the built-ins only (no entry points)."""
    return get_plugin_manager(entry_points=False)


def small_org() -> OrgBuilder:
    b = OrgBuilder(org_id="00D5g000000TESTEA2", name="Test Org")
    admin = b.user("admin@test.example", profile="System Administrator", admin=True)
    b.user("gone@test.example", active=False)
    b.license("Salesforce", 10)
    b.object("Account", 10, ownable=True).own("Account", admin, 10)
    return b


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """A small org snapshot on disk."""
    return small_org().write(tmp_path / "org.json")


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a YAML config (dedented) next to the snapshot; returns its path."""

    def write(text: str, name: str = "audit.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_plugin(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "my_checks.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Invoke the sfaudit CLI in-process; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> Result:
        return runner.invoke(
            main, [str(a) for a in args], prog_name="sfaudit", catch_exceptions=False
        )

    return invoke


def audit_check(
    tmp_path: Path, builder: OrgBuilder, check_id: str, block: str = "", extra: str = ""
) -> CheckResult:
    """Run one built-in check over ``builder``'s org as a snapshot; ``block`` is its YAML options."""
    snap = builder.write(tmp_path / "org.json")
    text = f"version: 1\ntoday: 2026-11-26\norg:\n  source: snapshot:{snap}\n"
    if block:
        text += f"checks:\n  {check_id}: {block}\n"
    config = load_config(text=text + extra)
    report = run_audit(config, get_plugin_manager(entry_points=False), select=[check_id])
    return report.check(check_id)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
