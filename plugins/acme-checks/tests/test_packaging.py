"""The plugin as a user gets it: built, installed into a fresh virtual environment
(not editable), found through its entry point by the `sfaudit` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import sfaudit

PLUGIN = Path(__file__).resolve().parents[1]
SFAUDIT = Path(sfaudit.__file__).resolve().parents[1]


def _copy_sources(dest: Path) -> tuple[Path, Path]:
    """Copies of both projects, so building them leaves the working tree untouched."""
    core = dest / "sfaudit-src"
    core.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(SFAUDIT / name, core / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    shutil.copytree(SFAUDIT / "sfaudit", core / "sfaudit", ignore=ignore)
    plugin = dest / "acme-src"
    shutil.copytree(PLUGIN, plugin, ignore=ignore)
    return core, plugin


def test_installs_into_a_fresh_venv_and_its_checks_run(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # sfaudit's dependencies come from this environment (appended after the venv's
    # own site-packages); sfaudit itself and the plugin are installed below.
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "_sfaudit_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    core, plugin = _copy_sources(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            str(core),
            str(plugin),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert install.returncode == 0, install.stderr[-2000:]

    where = subprocess.run(
        [str(python), "-c", "import sfaudit, sfaudit_acme_checks as a; print(a.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,  # not the source tree, whichever folder pytest runs from
    ).stdout
    assert where.startswith(str(site)), where

    sfaudit_cmd = str(venv / "bin" / "sfaudit")
    listed = subprocess.run(
        [sfaudit_cmd, "list-checks"], capture_output=True, text=True, env={**env, "COLUMNS": "200"}
    )
    assert listed.returncode == 0, listed.stderr
    for check_id in ("open-cases", "open-opportunities", "outbound-integrations"):
        assert check_id in listed.stdout
    assert "problem:" not in listed.stderr

    demo = subprocess.run(
        [
            sfaudit_cmd,
            "run",
            "-c",
            str(core / "sfaudit" / "demo" / "readiness.yaml"),
            "--select",
            "open-cases,open-opportunities",
            "--fail-on",
            "medium",
            "--format",
            "json",
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert demo.returncode == 1, demo.stdout + demo.stderr
    assert "37 support cases are still open" in demo.stdout
    assert "112 opportunities are still open" in demo.stdout
