"""Fresh virtual environments for packaging tests: a project built and installed
the way a user gets it (a real wheel, not an editable install), run from outside
its source tree. sfaudit's own packaging test and the example plugin's use it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".venv*")


def copy_project(
    source: Path, dest: Path, names: Iterable[str] = ("pyproject.toml", "README.md", "sfaudit")
) -> Path:
    """A copy of the files and folders ``names`` of the project at ``source``, so a
    build leaves the working tree untouched (no ``build/`` or ``*.egg-info``)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=_IGNORE)
        else:
            shutil.copy(src, dest / name)
    return dest


def build_wheel(project: Path, dest: Path) -> Path:
    """Build the project's wheel (``pip wheel --no-deps``) into ``dest``; its path."""
    dest.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(dest),
            str(project),
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"building {project} failed:\n{done.stderr[-3000:]}")
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one wheel in {dest}, found {[w.name for w in wheels]}")
    return wheels[0]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the variables pytest, xdist and coverage
    set, which would leak into the child processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(extra or {})
    return env


@dataclass
class FreshVenv:
    """A virtual environment without pip of its own: this environment's pip
    installs into it (``pip --python``), which skips bootstrapping pip each time."""

    root: Path
    env: dict[str, str] = field(default_factory=clean_env)

    @classmethod
    def create(cls, root: Path, *, inherit: Path | None = None) -> FreshVenv:
        """Create it at ``root``. ``inherit``: a site-packages folder appended to its
        path (a ``.pth`` file), so dependencies installed there are reused."""
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
        venv = cls(root)
        if inherit is not None:
            (venv.site / "_inherited_deps.pth").write_text(f"{inherit}\n", encoding="utf-8")
        return venv

    @property
    def bindir(self) -> Path:
        return self.root / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bindir / ("python.exe" if os.name == "nt" else "python")

    def script(self, name: str) -> Path:
        """A console script installed into the venv (``sfaudit``, ``pytest``)."""
        return self.bindir / (f"{name}.exe" if os.name == "nt" else name)

    @property
    def site(self) -> Path:
        """The venv's own site-packages (purelib)."""
        out = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return Path(out)

    def pip(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """``pip ARGS`` against this venv, e.g. ``pip("install", wheel)``."""
        return subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(self.python), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )

    def run(
        self,
        name: str,
        *args: str | Path,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float = 600,
    ) -> subprocess.CompletedProcess[str]:
        """Run the venv's console script (or ``python``) ``name`` in ``cwd``, which
        should lie outside any source tree so the installed package is the one used."""
        exe = self.python if name == "python" else self.script(name)
        return subprocess.run(
            [str(exe), *map(str, args)],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**self.env, **(env or {})},
            timeout=timeout,
        )
