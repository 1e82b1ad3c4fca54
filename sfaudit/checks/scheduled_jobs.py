"""scheduled-jobs: nothing is still scheduled to fire when the org goes away."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

from sfaudit import DataUnavailable, Finding, SfauditError, check
from sfaudit.sources import Org

#: CronJobDetail.JobType codes (current Salesforce docs).
JOB_TYPES = {
    "1": "Data Export",
    "3": "Dashboard Refresh",
    "4": "Reporting Snapshot",
    "6": "Scheduled Flow",
    "7": "Scheduled Apex",
    "8": "Report Run",
    "9": "Batch Job",
}
DATA_EXPORT = "1"
#: CronTrigger states in which a job will still fire (or is firing).
FIRING_STATES = frozenset({"WAITING", "ACQUIRED", "EXECUTING"})

EXPLAIN = """\
Lists the scheduled jobs (CronTrigger) that are still WAITING, ACQUIRED or
EXECUTING: scheduled Apex, batch jobs, scheduled flows, reporting snapshots,
dashboard refreshes and scheduled report runs, one finding each with its type,
state, next fire time, schedule and owner. Jobs that are COMPLETE, ERROR,
DELETED, PAUSED or BLOCKED are counted, not reported. The weekly or monthly
Data Export job is expected (it produces the backup) and is not a finding.

Why it matters: a job that keeps firing keeps changing data, sending email or
calling other systems up to the last day, and whatever depends on it breaks
silently when the org goes away. Stopping jobs deliberately, one by one, shows
what each one fed while there is still time to replace it.

Metrics: firing, by_type (firing jobs per type), not_firing, and
data_export_next (the next Data Export run, when scheduled)."""

FIX = """\
Find the job in Setup > Scheduled Jobs and delete it, after checking what
depends on it (integrations, reports, people). Batch and scheduled Apex can
also be aborted with System.abortJob from an admin's Apex session; reporting
snapshots and dashboard refreshes are unscheduled on the snapshot or
dashboard itself. If a job must run until the end, waive its finding with a
reason and an expiry."""


@check(
    "scheduled-jobs",
    step="prepare",
    severity="medium",
    title="No scheduled jobs are still firing",
    explain=EXPLAIN,
    fix=FIX,
    summary="{findings} scheduled jobs still fire",
)
def scheduled_jobs(org: Org, metrics: dict[str, Any]) -> Iterator[Finding]:
    jobs = org.scheduled_jobs()
    owners = _owner_names(org)
    by_type: Counter[str] = Counter()
    not_firing = 0
    export_next: dt.datetime | None = None
    findings: list[Finding] = []
    for job in sorted(jobs, key=lambda j: (j.name.lower(), j.id)):
        state = job.state.upper()
        if state not in FIRING_STATES:
            not_firing += 1
            continue
        if job.job_type == DATA_EXPORT:
            if job.next_fire and (export_next is None or job.next_fire < export_next):
                export_next = job.next_fire
            continue
        kind = JOB_TYPES.get(job.job_type, f"job type {job.job_type or 'unknown'}")
        by_type[kind] += 1
        owner = owners.get(job.owner_id) or owners.get(job.owner_id[:15]) or job.owner_id or None
        when = f"next fires {_when(job.next_fire)}" if job.next_fire else "no next fire time"
        findings.append(
            Finding(
                f"{kind} {job.name!r} is {state}, {when}"
                + (f" (cron {job.cron})" if job.cron else ""),
                record_id=job.id,
                owner=owner,
                data={
                    "job": job.name,
                    "job_type": job.job_type,
                    "type": kind,
                    "state": state,
                    "next_fire": job.next_fire,
                    "previous_fire": job.previous_fire,
                    "cron": job.cron,
                },
            )
        )
    metrics.update(
        firing=len(findings),
        by_type=dict(sorted(by_type.items())),
        not_firing=not_firing,
        data_export_next=export_next,
    )
    yield from findings


def _owner_names(org: Org) -> dict[str, str]:
    """Usernames by user Id (and 15-character Id); empty when users cannot be read."""
    try:
        users = org.users()
    except (DataUnavailable, SfauditError):
        return {}  # owner names are a courtesy: the jobs are reported with Ids
    names = {u.id: u.username for u in users}
    names.update({u.id[:15]: u.username for u in users})
    return names


def _when(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
