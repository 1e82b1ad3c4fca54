"""`pip install sfaudit` is the whole product: the wheel, installed into a fresh
virtual environment with its dependencies from the package index and nothing
else, runs the CLI, the pytest plugin and a fast verify-backup."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import sfaudit
from sfaudit.testing.venvs import FreshVenv, build_wheel, copy_project

ROOT = Path(sfaudit.__file__).resolve().parents[1]

CONFIG = """\
version: 1
today: 2026-11-26
org:
  source: snapshot:{snapshot}
contract: {{start_date: 2026-02-01, end_date: 2027-01-31, notice_days: 30}}
backup: {{path: {backup}, max_age_days: 7}}
checks:
  active-users: {{severity: high, allow: [admin@acme.example]}}
  record-ownership: {{enabled: false}}
  scheduled-jobs: {{enabled: false}}
  license-utilization: {{enabled: false}}
  integrations: {{enabled: false}}
  installed-packages: {{enabled: false}}
  inbound-email: {{enabled: false}}
  public-sites: {{enabled: false}}
fail_on: high
"""


def _verify(venv: FreshVenv, export: Path, cwd: Path) -> tuple[dict[str, Any], str]:
    """``verify-backup --format json`` in the venv: the document and stderr."""
    done = venv.run(
        "sfaudit", "verify-backup", export, "--format", "json", "--today", "2026-11-26", cwd=cwd
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr  # the demo export has gaps
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc, done.stderr


def test_the_wheel_installs_the_cli_the_pytest_plugin_and_fast_inflate(tmp_path: Path) -> None:
    """`pip install <wheel>` into a fresh venv, dependencies from the index; then
    what a platform without isal and zlib-ng wheels gets (one test: one venv)."""
    wheel = build_wheel(copy_project(ROOT, tmp_path / "src"), tmp_path / "dist")
    venv = FreshVenv.create(tmp_path / "venv")
    install = venv.pip("install", "--quiet", str(wheel))
    assert install.returncode == 0, install.stderr[-3000:]
    work = tmp_path / "work"  # outside any source tree: the installed package is the one used
    work.mkdir()
    imported = venv.run(
        "python", "-c", "import isal, zlib_ng, pytest, sfaudit; print(sfaudit.__file__)", cwd=work
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(str(venv.site)), imported.stdout

    demo = venv.run("sfaudit", "demo", "-o", work / "reports", cwd=work)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr
    assert (work / "reports" / "readiness.html").is_file()
    export = work / "reports" / "demo-backup"
    assert any(export.glob("WE_*.ZIP"))

    config = work / "sfaudit.yaml"
    snapshot = venv.site / "sfaudit" / "demo" / "org.json"
    config.write_text(CONFIG.format(snapshot=snapshot, backup=export), encoding="utf-8")
    junit = work / "junit.xml"
    tested = venv.run(
        "pytest", "--sfaudit", config, "-p", "no:cacheprovider", "--junitxml", junit, cwd=work
    )
    output = tested.stdout + tested.stderr
    assert tested.returncode == 1, output  # the demo org is not ready
    assert (
        "sfaudit.yaml: not ready (blocking: active-users, backup-completeness, metadata-backup)"
        in output
    )
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name")] = kinds[0] if kinds else "passed"
    assert outcomes == {
        "active-users": "failure",
        "backup-completeness": "failure",
        "metadata-backup": "failure",  # no metadata.path: never a skip into "ready"
        "notice-deadline": "passed",  # a warning: inside the recommended notice window
    }, output

    fast, stderr = _verify(venv, export, work)
    assert fast["scan"]["backend"] == "isal"
    assert fast["scan"]["backend_note"] is None and "note:" not in stderr

    # Without isal and zlib-ng (no wheel for the platform): the same answer, slower,
    # with a note naming the fix.
    removed = venv.pip("uninstall", "--yes", "isal", "zlib-ng")
    assert removed.returncode == 0, removed.stderr
    slow, stderr = _verify(venv, export, work)
    assert slow["scan"]["backend"] == "zlib"
    assert (slow["objects"], slow["findings"]) == (fast["objects"], fast["findings"])
    note = "inflating with zlib: isal is not installed; install it (`pip install isal`)"
    assert slow["scan"]["backend_note"].startswith(note)
    assert f"note: {note}" in stderr
