"""sfaudit: is a Salesforce org ready to be cancelled?

The public API for check and plugin authors::

    from sfaudit import check, hookimpl, Chart, Finding, warn, skip, fixture

and, to run an audit from Python, ``Audit`` (``Audit.from_config(path).run()``).

Names are imported on first use, so importing ``sfaudit`` (as pytest does for
its plugin, and the CLI does for ``--help``) costs next to nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .audit import Audit
    from .errors import DataUnavailable, SfauditError
    from .fixtures import fixture
    from .hookspecs import hookimpl, hookspec
    from .outcomes import skip, warn
    from .registry import Chart, CheckSpec, check
    from .results import Finding, Severity, Status

__version__ = "0.1.0"

_EXPORTS = {
    "Audit": "audit",
    "Chart": "registry",
    "CheckSpec": "registry",
    "DataUnavailable": "errors",
    "Finding": "results",
    "Severity": "results",
    "SfauditError": "errors",
    "Status": "results",
    "check": "registry",
    "fixture": "fixtures",
    "hookimpl": "hookspecs",
    "hookspec": "hookspecs",
    "skip": "outcomes",
    "warn": "outcomes",
}

__all__ = [
    "Audit",
    "Chart",
    "CheckSpec",
    "DataUnavailable",
    "Finding",
    "Severity",
    "SfauditError",
    "Status",
    "__version__",
    "check",
    "fixture",
    "hookimpl",
    "hookspec",
    "skip",
    "warn",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sfaudit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
