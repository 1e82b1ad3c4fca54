"""sfaudit: is a Salesforce org ready to be cancelled?

The public API for check and plugin authors::

    from sfaudit import check, hookimpl, Finding, warn, skip, fixture
"""

from __future__ import annotations

from .errors import DataUnavailable, SfauditError
from .fixtures import fixture
from .hookspecs import hookimpl, hookspec
from .outcomes import skip, warn
from .registry import CheckSpec, check
from .results import Finding, Severity, Status

__version__ = "0.1.0"

__all__ = [
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
