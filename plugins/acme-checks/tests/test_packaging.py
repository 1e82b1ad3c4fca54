"""The plugin as a user gets it: built, installed into a fresh virtual environment
(not editable), found through its entry point by the `sfaudit` command."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import sfaudit
from sfaudit.testing.venvs import FreshVenv, copy_project

PLUGIN = Path(__file__).resolve().parents[1]
SFAUDIT = Path(sfaudit.__file__).resolve().parents[1]


def test_installs_into_a_fresh_venv_and_its_checks_run(tmp_path: Path) -> None:
    # sfaudit's dependencies come from this environment (appended after the venv's
    # own site-packages); sfaudit itself and the plugin are installed below.
    venv = FreshVenv.create(tmp_path / "venv", inherit=Path(sysconfig.get_paths()["purelib"]))
    site = venv.site
    # Copies of both projects, so building them leaves the working tree untouched.
    core = copy_project(SFAUDIT, tmp_path / "sfaudit-src")
    plugin = copy_project(
        PLUGIN, tmp_path / "acme-src", ["pyproject.toml", "README.md", "sfaudit_acme_checks"]
    )
    install = venv.pip("install", "--quiet", "--no-deps", str(core), str(plugin))
    assert install.returncode == 0, install.stderr[-2000:]

    where = venv.run(
        "python",
        "-c",
        "import sfaudit, sfaudit_acme_checks as a; print(a.__file__)",
        cwd=tmp_path,  # not the source tree, whichever folder pytest runs from
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(site)), where.stdout

    listed = venv.run("sfaudit", "list-checks", cwd=tmp_path, env={"COLUMNS": "200"})
    assert listed.returncode == 0, listed.stderr
    for check_id in ("open-cases", "open-opportunities", "outbound-integrations"):
        assert check_id in listed.stdout
    assert "problem:" not in listed.stderr

    demo = venv.run(
        "sfaudit",
        "run",
        "-c",
        core / "sfaudit" / "demo" / "readiness.yaml",
        "--select",
        "open-cases,open-opportunities",
        "--fail-on",
        "medium",
        "--format",
        "json",
        "-o",
        tmp_path / "out",
        cwd=tmp_path,
    )
    assert demo.returncode == 1, demo.stdout + demo.stderr
    assert "37 support cases are still open" in demo.stdout
    assert "112 opportunities are still open" in demo.stdout
