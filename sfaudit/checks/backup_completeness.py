"""Built-in check: the Data Export is complete, intact and recent.

A cancelled org cannot be exported again, so this is the one check that must
never wrongly say "complete": a part it cannot read, a CSV it cannot count
and an object it cannot find are all findings. The judging lives in
:mod:`sfaudit.backup.evaluate`; this is a thin caller.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ..backup.evaluate import CHECK_ID, FIXES, VerifyOptions, judge
from ..errors import DataUnavailable, SfauditError
from ..registry import N_, Chart, check
from ..results import Finding

if TYPE_CHECKING:
    from ..backup import BackupInventory
    from ..config import Config
    from ..sources import Org


@check(
    CHECK_ID,
    step="prepare",
    charts=[
        Chart(
            "backup",
            N_("Backup coverage per object: records in the org against rows in the export"),
            kind="grouped",
            metric="objects",
            series=(
                ("org_count", N_("records in the org")),
                ("export_count", N_("rows in the export")),
            ),
            sort="gap",
        )
    ],
    severity="critical",
    title="A complete, intact and recent Data Export exists",
    summary="{findings} problems with the export; {objects_covered} of {objects_in_org} objects "
    "with records are covered",
    fix=(
        "Run Setup > Data Export > Export Now with 'Include images, documents, and attachments' "
        "and 'Include Salesforce Files', download every WE_<orgid>_<n>.ZIP within 48 hours, "
        "and point backup.path at the folder. A part that fails its CRC must be downloaded again."
    ),
    options={
        "tolerance": 0.005,
        "ignore_objects": [],
        "max_age_days": None,
        "require_files": None,
        "encoding": "auto",
        "expected_parts": None,
    },
)
def backup_completeness(
    backup: BackupInventory | None,
    org: Org,
    options: dict[str, Any],
    config: Config,
    today: dt.date,
    metrics: dict[str, Any],
) -> list[Finding]:
    """A complete, intact and recent Data Export exists.

    Every object with records in the org must be in the export, with its
    records and files, and every part must be intact. The export is scanned
    in full: every ZIP member is inflated and its CRC checked, every object
    CSV is counted with a quote-aware parse (records hold line breaks, so
    lines are not records), and attachment, document and content-version
    files are matched to the Ids in their CSVs. The counts are compared with
    the org's record counts for replicateable objects; Salesforce reports
    approximate counts, hence the tolerance (0.5% by default).
    ``max_age_days`` and ``require_files`` default to the config's
    ``backup:`` block.

    What a real export holds, and what it never holds. Each CSV's encoding is
    detected (``encoding: auto``): UTF-8, UTF-16 with a byte-order mark, or a
    single-byte Western encoding such as ISO-8859-1 or Windows-1252. A
    single-byte export is complete; one note says so, since Salesforce wrote
    ``?`` for every character it could not hold. A file that mixes encodings,
    or contradicts an ``encoding`` you set, is a finding. A NUL byte inside a
    quoted value is data (rich text starts with one); only a member with no
    header of API names, or NUL bytes outside quotes, is "not a CSV". Each
    Attachment and Document file must be as long as its row's ``BodyLength``,
    each ContentVersion file as its ``ContentSize``; a row that states 0 bytes
    needs no file; every ContentBody blob (``Other Uploaded Collateral/``) must
    hash to the MD5 in ``ContentBody.csv``'s ``Hash``. Without a size column only
    presence is checked, and a note says so. Chatter posts are in
    ``NewsFeed.csv`` (and ``FeedPost.csv``) and case history in ``CaseHistory2.csv``.
    Objects a Data Export never writes (Organization, Profile, Group,
    PermissionSet, ContentDocument, every ``*Share`` and most ``*History``,
    Folder, EmailTemplate, Report, Dashboard, ApexClass, StaticResource, custom
    metadata types and the like) are not "missing": one note lists them, to be
    backed up with a metadata retrieve. A header-only CSV is an object with 0
    records.

    Metrics ``data_storage_mb`` and ``file_storage_mb`` (``used`` and ``allowed``, in
    MB, from Salesforce's ``/limits/``; ``used`` can exceed ``allowed``) give the size
    of what has to be exported; they are left out when the source does not report them.

    Why it matters: a cancelled org cannot be exported again. Once the
    subscription ends, data and files that are not in a verified export are
    gone, and a Data Export is only kept for 48 hours. This is the one check
    that must never wrongly say "complete".
    """
    metrics.update(_storage(org))
    if backup is None:
        # No export to verify is the most common way to be unready: never a skip.
        return [
            Finding(
                "no Data Export to verify: backup.path is not set (or pass --backup)",
                key="no-backup",
                data={"kind": "no-backup", "fix": FIXES["no-backup"]},
            )
        ]
    settings = VerifyOptions.from_config(config, options, today=today)
    evaluation = judge(backup.result(settings.encoding), settings, org)
    metrics.update(evaluation.metrics)
    metrics["objects"] = [row.to_dict() for row in evaluation.rows]
    return evaluation.findings


def _storage(org: Org) -> dict[str, Any]:
    """The org's storage as metrics: the size of what the export must hold."""
    try:
        storage = org.storage()
    except (DataUnavailable, SfauditError):
        return {}
    return {k: v for k, v in storage.to_dict().items() if v is not None}
