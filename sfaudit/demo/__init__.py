"""The bundled demo org, Acme Corp, and its audit config."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..config import Config, load_config


def demo_dir() -> Path:
    return Path(str(resources.files("sfaudit.demo")))


def prepare_demo(output: Path) -> Config:
    """The demo config, ready to run; writes demo inputs (if any) under ``output``."""
    config = load_config(demo_dir() / "readiness.yaml")
    return config
