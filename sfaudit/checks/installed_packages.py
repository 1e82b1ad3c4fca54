"""installed-packages: AppExchange packages bill, renew and keep data on their own contracts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

from sfaudit import Chart, Finding, Severity, check
from sfaudit.registry import N_
from sfaudit.sources import InstalledPackage, Org

#: PackageLicense.Status values that bill nobody.
FREE_STATUSES = frozenset({"free", ""})

EXPLAIN = """\
Lists every managed package installed in the org (Tooling API
InstalledSubscriberPackage, the ones with a namespace) with its licence
(PackageLicense): namespace, name, version, licence status, expiration date
and seats used against seats allowed. One finding per package.

Why it matters: AppExchange apps are sold by their vendors, usually on a
contract of their own with its own term, renewal and notice period.
Cancelling Salesforce does not cancel them: the vendor keeps billing, and
whatever the package stored outside the org (its own cloud, an external
service) stays with the vendor.

Packages whose cancellation is arranged (their namespace under `handled`),
free packages (status Free, or no licence at all) and packages whose licence
has expired are information, not failures.

Metrics: packages, billed (open findings), handled, free, expired,
by_status (packages per licence status), seats (used and allowed per
package, for the chart)."""

FIX = """\
For each package, find its contract (the vendor's order form or the
AppExchange checkout) and give the vendor notice as the contract requires,
ask the vendor to export or delete the data it keeps, then uninstall the
package in Setup > Installed Packages. List the namespace under
checks.installed-packages.handled once its cancellation is arranged."""


@check(
    "installed-packages",
    step="prepare",
    severity="medium",
    title="Every installed package's own contract is dealt with",
    explain=EXPLAIN,
    fix=FIX,
    options={"handled": []},
    summary="managed packages billed on contracts of their own: {findings}",
    charts=[
        Chart(
            "package-seats",
            N_("Package licences: seats used against seats allowed"),
            kind="grouped",
            metric="seats",
            series=(("used", N_("seats used")), ("allowed", N_("seats allowed"))),
        )
    ],
)
def installed_packages(
    org: Org, options: dict[str, Any], today: dt.date, metrics: dict[str, Any]
) -> Iterator[Finding]:
    handled = {str(n).lower() for n in options["handled"]}
    packages = org.installed_packages()
    counts: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    seats: dict[str, dict[str, int]] = {}
    findings: list[Finding] = []
    for package in packages:
        status = package.license_status or "no licence"
        by_status[status] += 1
        reason = _reason(package, handled, today)
        counts[reason] += 1
        if package.seats_allowed is not None and package.seats_allowed >= 0:
            seats[package.namespace] = {
                "used": package.seats_used or 0,
                "allowed": package.seats_allowed,
            }
        findings.append(
            Finding(
                _message(package, reason),
                severity=None if reason == "billed" else Severity.INFO,
                object="InstalledSubscriberPackage",
                record_id=package.id or None,
                key=f"package:{package.namespace.lower()}",
                count=package.seats_used,
                data={
                    "namespace": package.namespace,
                    "name": package.name,
                    "version": package.version,
                    "license_status": package.license_status or None,
                    "expiration": package.expiration,
                    "seats_used": package.seats_used,
                    "seats_allowed": package.seats_allowed,
                    "reason": reason,
                },
            )
        )
    metrics.update(
        packages=len(packages),
        billed=counts["billed"],
        handled=counts["handled"],
        free=counts["free"],
        expired=counts["expired"],
        by_status=dict(sorted(by_status.items())),
        seats=seats,
    )
    yield from findings


def _reason(package: InstalledPackage, handled: set[str], today: dt.date) -> str:
    """``handled``, ``expired``, ``free`` or ``billed``."""
    if package.namespace.lower() in handled:
        return "handled"
    status = package.license_status.lower()
    if status == "expired" or (package.expiration is not None and package.expiration < today):
        return "expired"
    if status in FREE_STATUSES:
        return "free"
    return "billed"


def _message(package: InstalledPackage, reason: str) -> str:
    head = f"{package.name} ({package.namespace}"
    head += f", version {package.version})" if package.version else ")"
    if not package.license_status:
        licence = "no licence (free)"
    else:
        licence = f"licence {package.license_status}"
        licence += (
            f", expires {package.expiration.isoformat()}"
            if package.expiration
            else ", does not expire"
        )
    if package.seats_allowed is not None:
        allowed = "site-wide" if package.seats_allowed < 0 else str(package.seats_allowed)
        licence += f", {package.seats_used or 0} of {allowed} seats used"
    tail = {
        "billed": "its contract, notice period and data live with the vendor: "
        "cancelling Salesforce does not cancel it",
        "handled": "its cancellation is arranged (checks.installed-packages.handled)",
        "free": "free: nothing to cancel, but data it keeps outside the org stays with the vendor",
        "expired": "the licence has expired: nothing left to bill",
    }[reason]
    return f"{head}: {licence}; {tail}"
