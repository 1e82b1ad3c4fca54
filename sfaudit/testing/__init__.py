"""Test helpers for sfaudit and its plugin authors: org builders (and the
local Salesforce emulator, see :mod:`sfaudit.testing.emulator`)."""

from typing import Any

from .builders import OrgBuilder, salesforce_id
from .metadata import Component, MetadataBuilder

__all__ = ["Component", "MetadataBuilder", "OrgBuilder", "SalesforceEmulator", "salesforce_id"]


def __getattr__(name: str) -> Any:
    """``SalesforceEmulator`` on first use: importing the builders stays light."""
    if name == "SalesforceEmulator":
        from .emulator import SalesforceEmulator

        return SalesforceEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
