"""Built-in check: every customisation of the org is in the metadata backup.

A thin caller of :mod:`sfaudit.metadata`; it also provides the ``metadata_backup``
fixture (the backup at ``metadata.path``, None when none is configured).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..fixtures import fixture
from ..hookspecs import hookimpl
from ..metadata.evaluate import CHECK_ID, OPTIONS, MetadataOptions, judge, no_backup, unreadable
from ..registry import N_, Chart, check

if TYPE_CHECKING:
    from ..config import Config
    from ..metadata.backup import MetadataBackup
    from ..results import Finding
    from ..sources import Org


@fixture
def metadata_backup(config: Config) -> MetadataBackup | None:
    """The metadata backup at ``metadata.path`` (MDAPI folder or ZIP, or SFDX project),
    read once per audit; None when no path is configured."""
    if not config.metadata.path:
        return None
    from ..metadata.backup import read_backup

    return read_backup(config.resolve(config.metadata.path))


@hookimpl
def sfaudit_register_fixtures() -> list[Callable[..., Any]]:
    return [metadata_backup]


@check(
    CHECK_ID,
    severity="high",
    step="prepare",
    charts=[
        Chart(
            "metadata",
            N_("Metadata coverage per type: components in the org against the backup"),
            kind="grouped",
            metric="types",
            series=(("org", N_("components in the org")), ("backup", N_("in the backup"))),
            sort="gap",
        )
    ],
    title="Every customisation of the org is in the metadata backup",
    summary="{components_missing} of {components_in_org} components are not in the metadata "
    "backup ({findings} problems)",
    fix=(
        "Build a manifest of everything in the org with `sf project generate manifest "
        "--from-org`, name the standard objects whose custom fields you keep and list reports "
        "folder by folder, then retrieve it in chunks of under 10,000 files with `sf project "
        "retrieve start --manifest package.xml --target-metadata-dir backups/metadata` and "
        "point metadata.path at the result. The findings list, per type, what is missing."
    ),
    options=OPTIONS,
)
def check_metadata_backup(
    metadata_backup: MetadataBackup | None,
    org: Org,
    options: dict[str, Any],
    config: Config,
    today: dt.date,
    metrics: dict[str, Any],
) -> list[Finding]:
    """Every customisation of the org is in the metadata backup.

    A Data Export holds records only: Apex classes and triggers, flows, custom
    objects and fields, validation rules, layouts, Lightning components, static
    resources, permission sets, profiles, e-mail templates, reports and
    dashboards live in metadata, and are gone for good once the org is deleted.
    The org's components of each type in ``types`` are listed (Tooling API, and
    the data API for permission sets, profiles, e-mail templates, reports and
    dashboards: one query per type) and each must have its file in the backup at
    ``metadata.path``: an MDAPI folder or ZIP, or an SFDX project. Components of
    installed packages (another namespace) are the vendor's and left out unless
    ``include_managed``; ``ignore`` takes ``Type:fullName`` globs.

    Findings: ``missing`` (one per type, the members in data), ``retrieve-capped``
    (exactly 10,000 files, or package.xml members the backup lacks),
    ``unreadable-type`` (with the permission to grant), ``stale`` (older than
    ``metadata.max_age_days``) fail the check; ``partial-permissions`` and
    ``not-in-org`` are information. Profiles are matched by their Metadata API
    names (``Admin`` for System Administrator; custom names URL-encoded).

    To retrieve what is missing: ``sf project generate manifest --from-org``
    (or ``--metadata ApexClass`` for one type), then ``sf project retrieve start
    --manifest package.xml`` in chunks under 10,000 files. ``CustomObject *``
    leaves standard objects out: name ``Account`` and the others whose custom
    fields you keep. Reports need one member per folder.

    Why it matters: a Data Export holds records only. Once the org is deleted,
    its code, automation, data model and security model cannot be retrieved
    again, and a retrieve nobody checked is often incomplete: one retrieve
    stops at 10,000 files, ``CustomObject *`` leaves standard objects' custom
    fields out, and ``*`` does not work for reports.
    """
    settings = MetadataOptions.from_config(config, options, today=today)
    before = int(org.metrics().get("api_requests") or 0)
    inventory = org.metadata(settings.types)
    metrics["api_requests"] = int(org.metrics().get("api_requests") or 0) - before
    if metadata_backup is None:
        # No backup to verify is the most common way to be unready: never a skip.
        return [no_backup(inventory)] + [
            unreadable(t, e) for t, e in inventory.items() if "error" in e
        ]
    evaluation = judge(metadata_backup, inventory, settings)
    metrics.update(evaluation.metrics)
    return evaluation.findings
