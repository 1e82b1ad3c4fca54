"""Test helpers for sfaudit and its plugin authors: org builders (and the
local Salesforce emulator, see :mod:`sfaudit.testing.emulator`)."""

from .builders import OrgBuilder, salesforce_id

__all__ = ["OrgBuilder", "salesforce_id"]
