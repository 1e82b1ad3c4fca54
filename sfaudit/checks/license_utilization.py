"""license-utilization: paid licences nobody uses, the case for downsizing before cancelling."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sfaudit import Chart, DataUnavailable, Finding, check, warn
from sfaudit.registry import N_
from sfaudit.sources import Org, User, is_system_user

#: Licences that cost nothing or come with the edition: never worth trimming.
FREE_LICENSES = [
    "Chatter Free",
    "Chatter External",
    "Guest User License",
    "Salesforce Integration",
]

EXPLAIN = """\
Compares each paid user licence (UserLicense) with the users holding it:
total against used, and how many of the active users on it have not logged in
for `inactive_days` (90 by default; never logged in counts as inactive; frozen
users count too, they hold a licence they cannot use). One finding per licence
type where licences are unassigned or idle, naming the idle users. Licences in
`ignore_licenses` (free ones by default) are left out. When the users who still
log in to the main licence (`main_license`, "Salesforce") number
`small_team_users` (10) or fewer, one more finding says that a cheaper edition
may serve.

Why it matters: most cancellations are about cost. Before cancelling, consider
fewer licences, another licence type or a cheaper edition at renewal: that may
keep the data and processes people still use for a fraction of the price.

Severity: the check's findings take the check's severity, info by default, so
the check warns and never fails. Set `severity: medium` (or higher) under
checks.license-utilization to make unused licences fail the audit.

Metrics: licenses (per type: total, used, unused, idle, needed), total, used,
unused, idle, needed, inactive_days."""

FIX = """\
Reduce the licence count at renewal (your account executive can lower the
quantity on the next Order Form), deactivate idle users to free their
licences, or move light users to a cheaper licence type (Platform, or a
smaller edition) instead of cancelling outright."""


@check(
    "license-utilization",
    step="prepare",
    charts=[
        Chart(
            "users",
            N_("Users by licence and status"),
            metric="licenses",
            series=(
                ("used-idle", N_("active")),
                ("idle", N_("idle")),
                ("unused", N_("unassigned seats")),
            ),
        )
    ],
    severity="info",
    title="Paid licences match the people who use them",
    explain=EXPLAIN,
    fix=FIX,
    options={
        "inactive_days": 90,
        "ignore_licenses": list(FREE_LICENSES),
        "main_license": "Salesforce",
        "small_team_users": 10,
    },
)
def license_utilization(
    org: Org, options: dict[str, Any], today: dt.date, metrics: dict[str, Any]
) -> Iterator[Finding]:
    inactive_days = int(options["inactive_days"])
    ignore = {str(n).lower() for n in options["ignore_licenses"]}
    main = str(options["main_license"])
    licenses = [
        lic
        for lic in org.licenses()
        if lic.total > 0 and lic.status.lower() == "active" and lic.name.lower() not in ignore
    ]
    holders: dict[str, list[User]] = {}
    for user in org.users():
        if user.is_active and not is_system_user(user):
            holders.setdefault(user.license.lower(), []).append(user)
    per_license: dict[str, dict[str, int]] = {}
    findings: list[Finding] = []
    for lic in sorted(licenses, key=lambda x: x.name.lower()):
        idle = sorted(
            (u for u in holders.get(lic.name.lower(), []) if _idle(u, today, inactive_days)),
            key=lambda u: u.username.lower(),
        )
        needed = max(0, lic.used - len(idle))
        figures = {
            "total": lic.total,
            "used": lic.used,
            "unused": lic.unused,
            "idle": len(idle),
            "needed": needed,
        }
        per_license[lic.name] = figures
        spare = lic.total - needed
        if spare <= 0:
            continue
        parts = [f"{lic.used} of {lic.total} {lic.name} licences assigned"]
        if idle:
            names = ", ".join(u.username for u in idle[:5]) + (", ..." if len(idle) > 5 else "")
            parts.append(f"{len(idle)} held by users idle for {inactive_days}+ days ({names})")
        findings.append(
            Finding(
                "; ".join(parts) + f": {needed} would serve, {spare} fewer",
                key=f"license:{lic.name}",
                count=spare,
                data={**figures, "license": lic.name, "idle_users": [u.username for u in idle]},
            )
        )
    totals = {
        k: sum(f[k] for f in per_license.values())
        for k in ("total", "used", "unused", "idle", "needed")
    }
    metrics.update(totals, licenses=per_license, inactive_days=inactive_days)
    main_needed = next(
        (f["needed"] for n, f in per_license.items() if n.lower() == main.lower()), None
    )
    small = main_needed is not None and main_needed <= int(options["small_team_users"])
    if small:
        edition = _edition(org)
        text = (
            f"only {main_needed} people still use their {main} licence"
            f"{f' on {edition}' if edition else ''}: a cheaper edition may serve"
        )
        metrics["cheaper_edition"] = text
        findings.append(
            Finding(
                text,
                key="edition",
                count=main_needed,
                data={"edition": edition, "users": main_needed},
            )
        )
    if not findings:
        return
    yield from findings
    spare_total = totals["total"] - totals["needed"]
    advice = f"{spare_total} of {totals['total']} paid licences are unassigned or idle"
    if small:
        advice += "; a cheaper edition may serve"
    warn(advice + ": consider fewer licences or another edition before cancelling")


def _idle(user: User, today: dt.date, days: int) -> bool:
    if user.is_frozen or user.last_login is None:
        return True
    return (today - user.last_login.date()).days >= days


def _edition(org: Org) -> str:
    try:
        return org.info().edition
    except DataUnavailable:
        return ""
