"""What every built-in check promises: explain text, and the same result live and offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sfaudit.audit import run_audit
from sfaudit.cli import main
from sfaudit.config import load_config
from sfaudit.demo.build import build as build_demo
from sfaudit.plugins import DEFAULT_PLUGINS, get_plugin_manager
from sfaudit.results import CheckResult
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import EmulatorLogins
from tests.conftest import audit_check

BUILTIN_CHECKS = sorted(
    m.removeprefix("sfaudit.checks.").replace("_", "-")
    for m in DEFAULT_PLUGINS
    if m.startswith("sfaudit.checks.")
)


@pytest.mark.parametrize("check_id", BUILTIN_CHECKS)
def test_explain_says_what_why_and_how_to_fix(check_id: str) -> None:
    out = CliRunner().invoke(main, ["explain", check_id])
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"{check_id}: ")
    assert "Why it matters" in out.output
    assert "How to fix:" in out.output


@pytest.mark.parametrize(
    ("check_id", "block"),
    [
        ("active-users", "{allow: [admin@acme.example]}"),
        ("license-utilization", "{inactive_days: 60}"),
        ("scheduled-jobs", "{severity: high}"),
        ("record-ownership", "{custodians: [archive@acme.example]}"),
    ],
)
def test_runs_identically_through_the_live_emulator(
    tmp_path: Path,
    emulator: SalesforceEmulator,
    sf_env: EmulatorLogins,
    check_id: str,
    block: str,
) -> None:
    """The demo org, served by the HTTPS emulator to the live source, and as a snapshot."""
    demo = build_demo()
    emulator.load(demo.build())
    text = f"version: 1\ntoday: 2026-11-26\norg:\n  source: live\nchecks:\n  {check_id}: {block}\n"
    report = run_audit(
        load_config(text=text), get_plugin_manager(entry_points=False), select=[check_id]
    )
    live = report.check(check_id)
    assert report.org["source"] == "live"
    offline = audit_check(tmp_path, demo, check_id, block)
    assert live.findings
    assert _view(live) == _view(offline)


def _view(result: CheckResult) -> tuple[object, ...]:
    findings = sorted(
        (f.fingerprint, f.message, str(f.severity), f.user, f.object, f.owner, f.count)
        for f in result.findings
    )
    return str(result.status), result.message, findings, result.metrics


def test_backup_check_through_the_live_emulator_matches_the_snapshot_and_stays_bounded(
    tmp_path: Path, emulator: SalesforceEmulator, sf_env: EmulatorLogins
) -> None:
    """The demo export against the demo org served live: same findings as offline,
    and the backup check adds no per-object API calls."""
    from sfaudit.demo import write_demo_backup

    demo = build_demo()
    emulator.load(demo.build())
    text = "version: 1\ntoday: 2026-11-26\norg:\n  source: live\n"
    config = load_config(text=text)
    backup = write_demo_backup(tmp_path / "backup", config)
    config.backup.path = str(backup)
    before = len(emulator.api_requests())
    report = run_audit(
        config, get_plugin_manager(entry_points=False), select=["backup-completeness"]
    )
    live = report.check("backup-completeness")
    used = len(emulator.api_requests()) - before
    offline = audit_check(
        tmp_path, demo, "backup-completeness", extra=f"backup: {{path: '{backup}'}}\n"
    )
    assert live.status == offline.status == "fail"
    assert sorted(f.fingerprint for f in live.findings) == sorted(
        f.fingerprint for f in offline.findings
    )
    print(f"backup-completeness through the live source: {used} API requests")
    assert used <= 6, f"{used} API requests for the backup check alone"


def test_data_unavailable_combine_names_each_reason_once() -> None:
    from sfaudit import DataUnavailable

    combined = DataUnavailable.combine(
        [
            DataUnavailable("sites: no access to Site", permission=True),
            DataUnavailable("networks: no access to Site"),
            DataUnavailable("the snapshot has no loose ends"),
        ]
    )
    assert str(combined) == "sites, networks: no access to Site; the snapshot has no loose ends"
    assert combined.permission
    assert not DataUnavailable.combine([DataUnavailable("a: b")]).permission
