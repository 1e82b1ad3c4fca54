"""active-users: nobody but the people closing the org can still log in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sfaudit import Finding, Severity, check
from sfaudit.sources import Org, User, is_system_user

EXPLAIN = """\
Lists every active user who can still log in, one finding each, with the
user's last login, licence and profile. Users named under `allow` (by username)
or holding a profile in `allow_profiles` are left out: typically the admin who
submits the cancellation. Admins (Modify All Data, through their profile or a
permission set) get findings of their own at one severity level higher.
System users a customer cannot deactivate (Automated Process, cloud and
platform integration users) are listed as info, never failed. Frozen users are
locked out and listed as info too, unless `frozen_counts_as_active: true`.

Why it matters: every active login can still read, export or change data up to
the last day, keeps a paid licence in use, and is an account to account for in
an offboarding review. After cancellation, people who still relied on
Salesforce find out the hard way; deactivating them first surfaces that while
there is time.

Metrics: active, can_log_in, admins, frozen, allowed, system, findings, and
by_license (active users per licence)."""

FIX = """\
Deactivate the user (Setup > Users > Edit > uncheck Active), or freeze them if
they own records or run jobs you still need to move. For an admin, remove
Modify All Data (profile or permission set) or deactivate them once another
admin remains. If the user must stay until the end, add the username to
checks.active-users.allow (or their profile to allow_profiles), or waive the
finding with a reason and an expiry."""


@check(
    "active-users",
    step="prepare",
    severity="high",
    title="Only allowed users can still log in",
    explain=EXPLAIN,
    fix=FIX,
    options={"allow": [], "allow_profiles": [], "frozen_counts_as_active": False},
    summary="{findings} users can still log in ({admins} admins, {can_log_in} active in all)",
)
def active_users(
    org: Org, options: dict[str, Any], severity: Severity, metrics: dict[str, Any]
) -> Iterator[Finding]:
    allow = {str(u).lower() for u in options["allow"]}
    allow_profiles = {str(p).lower() for p in options["allow_profiles"]}
    frozen_counts = bool(options["frozen_counts_as_active"])
    counts: Counter[str] = Counter()
    by_license: Counter[str] = Counter()
    findings: list[Finding] = []
    for user in sorted(org.users(), key=lambda u: u.username.lower()):
        if not user.is_active:
            continue
        counts["active"] += 1
        by_license[user.license or "(none)"] += 1
        if user.is_frozen:
            counts["frozen"] += 1
        else:
            counts["can_log_in"] += 1
        if user.is_admin:
            counts["admins"] += 1
        data = _data(user)
        if is_system_user(user):
            counts["system"] += 1
            findings.append(
                Finding(
                    f"system user {user.username} ({user.name or user.user_type}) stays active: "
                    "Salesforce manages it and a customer cannot deactivate it",
                    severity=Severity.INFO,
                    user=user.username,
                    data=data,
                )
            )
        elif user.username.lower() in allow or user.profile.lower() in allow_profiles:
            counts["allowed"] += 1
        elif user.is_frozen and not frozen_counts:
            findings.append(
                Finding(
                    f"{user.username} is frozen (locked out) but still active and holding a "
                    f"{user.license or 'user'} licence; deactivate when their records are moved",
                    severity=Severity.INFO,
                    user=user.username,
                    data=data,
                )
            )
        elif user.is_admin:
            via = ", ".join(user.admin_via) or f"profile:{user.profile}"
            findings.append(
                Finding(
                    f"admin {user.username} can still log in with Modify All Data (via {via}); "
                    f"{_last_login(user)}",
                    severity=severity.raised(),
                    user=user.username,
                    data=data,
                )
            )
        else:
            state = "frozen but counted as active" if user.is_frozen else "can still log in"
            findings.append(
                Finding(
                    f"{user.username} ({user.profile or user.user_type}) {state}; "
                    f"{_last_login(user)}",
                    user=user.username,
                    data=data,
                )
            )
    metrics.update(
        {k: counts[k] for k in ("active", "can_log_in", "admins", "frozen", "allowed", "system")}
    )
    metrics["findings"] = sum(1 for f in findings if f.severity is not Severity.INFO)
    metrics["by_license"] = dict(sorted(by_license.items()))
    yield from findings


def _data(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "last_login": user.last_login,
        "license": user.license,
        "profile": user.profile,
        "user_type": user.user_type,
        "admin": user.is_admin,
        "admin_via": list(user.admin_via),
        "frozen": user.is_frozen,
    }


def _last_login(user: User) -> str:
    if user.last_login is None:
        return "never logged in"
    return f"last login {user.last_login.date().isoformat()}"
