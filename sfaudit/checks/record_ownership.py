"""record-ownership: no records are left with owners who are gone, or about to be."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sfaudit import Chart, Finding, Severity, check
from sfaudit.config import Config
from sfaudit.registry import N_
from sfaudit.sources import Org

EXPLAIN = """\
For every ownable object with records (or only those listed under `objects`),
counts the records per object and owner that are owned by an inactive user,
and, when `custodians` are named, by any active user other than them. Findings
are aggregated as object x owner with a count, never one per record, so an org
with millions of records still yields a readable report. Records owned by
queues are listed as info, not failed.

Why it matters: before a cancellation the data is exported, archived or
migrated, and whoever owns a record decides who can see and move it. Records
left with departed users have no one to answer for them; with custodians named,
the audit makes sure every record ends up with the people who keep the data
after the org is gone.

Metrics: objects (checked), owners, records_inactive, records_other_owners,
records_queues, and by_object (records to reassign per object)."""

FIX = """\
Reassign the records to a custodian: Setup > Mass Transfer Records (Accounts,
Leads, custom objects), or a Data Loader update of OwnerId for the object.
Each finding names the custodian to use; name them under
checks.record-ownership.custodians. Queue-owned records need no action unless
the queue's members are leaving too."""


@check(
    "record-ownership",
    step="prepare",
    charts=[
        Chart(
            "reassign",
            N_("Records to reassign, by object and owner"),
            findings="object",
            stack="owner",
            top=12,
            top_series=6,
            other=N_("other owners"),
        )
    ],
    severity="high",
    title="Records are owned by active custodians",
    explain=EXPLAIN,
    fix=FIX,
    options={"objects": [], "custodians": []},
    summary="{findings} owner groups to reassign: {records_inactive} records of inactive users, "
    "{records_other_owners} of other owners",
)
def record_ownership(
    org: Org, options: dict[str, Any], config: Config, metrics: dict[str, Any]
) -> Iterator[Finding]:
    custodians = [str(c) for c in options["custodians"]]
    objects = _objects(org, [str(o) for o in options["objects"]], config)
    _check_custodians(org, custodians, config)
    target = " or ".join(custodians) if custodians else None
    totals: Counter[str] = Counter()
    by_object: Counter[str] = Counter()
    owners: set[str] = set()
    for row in org.ownership(objects, custodians):
        data = {"reason": row.reason, "owner_kind": row.owner_kind, "owner_id": row.owner_id}
        if target:
            data["custodian"] = target
        noun = "record" if row.count == 1 else "records"
        if row.reason == "queue":
            totals["records_queues"] += row.count
            yield Finding(
                f"{row.count} {row.object} {noun} owned by queue {row.owner}",
                severity=Severity.INFO,
                object=row.object,
                owner=row.owner,
                count=row.count,
                data=data,
            )
            continue
        owners.add(row.owner)
        by_object[row.object] += row.count
        if row.reason == "inactive":
            totals["records_inactive"] += row.count
            who = f"inactive user {row.owner}"
        else:
            totals["records_other_owners"] += row.count
            who = f"{row.owner}, who is not a custodian"
        yield Finding(
            f"{row.count} {row.object} {noun} owned by {who}: {_reassign(row.count, target)}",
            object=row.object,
            owner=row.owner,
            count=row.count,
            data=data,
        )
    metrics.update(
        objects=len(objects) if objects is not None else _ownable_with_records(org),
        owners=len(owners),
        records_inactive=totals["records_inactive"],
        records_other_owners=totals["records_other_owners"],
        records_queues=totals["records_queues"],
        by_object=dict(sorted(by_object.items())),
        custodians=custodians,
    )


def _reassign(count: int, target: str | None) -> str:
    them = "it" if count == 1 else "them"
    if target:
        return f"reassign {them} to {target}"
    return f"reassign {them} to an active user who stays (name one under custodians)"


def _objects(org: Org, names: list[str], config: Config) -> list[str] | None:
    """The configured objects by their API names, or None for every ownable object."""
    if not names:
        return None
    out = []
    for i, name in enumerate(names):
        obj = org.object(name)
        where = ("checks", "record-ownership", "objects", i)
        if obj is None:
            raise config.error(
                f"object {name!r} does not exist in this org",
                *where,
                hint="use the API name, e.g. Account or Invoice__c",
            )
        if not obj.ownable:
            raise config.error(
                f"object {obj.name!r} has no owner (no OwnerId field)",
                *where,
                hint="list only ownable objects, or leave objects empty for all",
            )
        out.append(obj.name)
    return out


def _check_custodians(org: Org, custodians: list[str], config: Config) -> None:
    users = {u.username.lower(): u for u in org.users()}
    for i, name in enumerate(custodians):
        user = users.get(name.lower())
        where = ("checks", "record-ownership", "custodians", i)
        if user is None:
            raise config.error(
                f"custodian {name!r} is not a user of this org",
                *where,
                hint="name custodians by username",
            )
        if not user.is_active:
            raise config.error(
                f"custodian {name!r} is inactive",
                *where,
                hint="a custodian must be an active user who stays",
            )


def _ownable_with_records(org: Org) -> int:
    return sum(1 for o in org.objects() if o.ownable and (o.count or 0) > 0)
