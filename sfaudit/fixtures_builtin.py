"""The built-in fixtures (a plugin): ``org``, ``backup``, ``contract`` and ``options``.

``org`` and ``backup`` are the inputs the run opened once
(:class:`~sfaudit.runner.RunContext`, the ``run`` fixture); the runner itself
supplies ``config``, ``today``, ``run``, ``check``, ``metrics`` and ``severity``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .fixtures import fixture
from .hookspecs import hookimpl
from .registry import COMMON_OPTIONS

if TYPE_CHECKING:
    from .config import Config, ContractConfig
    from .registry import CheckSpec
    from .runner import RunContext
    from .sources import Org


@fixture
def org(run: RunContext) -> Org:
    """The read-only org facade (snapshot or live), opened once per audit."""
    return run.org()


@fixture
def backup(run: RunContext) -> Any:
    """The Data Export inventory at ``backup.path``, scanned lazily once per audit;
    None when no backup is configured (a check decides what that means)."""
    return run.backup()


@fixture
def contract(config: Config) -> ContractConfig:
    """The config's ``contract:`` block."""
    return config.contract


@fixture(scope="check")
def options(check: CheckSpec, config: Config) -> dict[str, Any]:
    """This check's options: its declared defaults overlaid with its YAML block."""
    merged = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in check.options.items()}
    for key, value in config.check_block(check.id).items():
        if key not in COMMON_OPTIONS:
            merged[key] = value
    return merged


@hookimpl
def sfaudit_register_fixtures() -> list[Callable[..., Any]]:
    return [org, backup, contract, options]
