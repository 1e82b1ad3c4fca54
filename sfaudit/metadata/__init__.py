"""Metadata backup coverage: is every customisation of the org in its metadata backup?

A Data Export holds records only. Code, automation, the data model and the security
model live in metadata, kept with a Metadata API retrieve (an MDAPI folder or ZIP, or
an SFDX project). This package reads both sides and compares them:

- :mod:`.types`: the metadata types, their folders and suffixes (after Salesforce's
  own registry) and how the org lists each;
- :mod:`.backup`: the backup's inventory (:func:`read_backup`);
- :mod:`.org`: the org's inventory from Tooling and data API rows (:func:`read_inventory`);
- :mod:`.evaluate`: the judgement shared by the ``metadata-backup`` check and
  ``sfaudit verify-metadata``.

Nothing here knows about checks or the CLI.
"""

from __future__ import annotations

from .backup import MetadataBackup, read_backup
from .evaluate import CHECK_ID, MetadataOptions, judge
from .org import read_inventory
from .types import DEFAULT_TYPES, TYPES

__all__ = [
    "CHECK_ID",
    "DEFAULT_TYPES",
    "TYPES",
    "MetadataBackup",
    "MetadataOptions",
    "judge",
    "read_backup",
    "read_inventory",
]
