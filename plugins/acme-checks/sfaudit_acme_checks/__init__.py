"""Acme's own readiness checks for sfaudit: an example plugin package.

Installed, it registers through the ``sfaudit`` entry-point group (see
pyproject.toml); sfaudit then discovers every ``@check`` function in this
module. The checks only read the org, through the ``org`` fixture. Each says
where the report's cancellation timeline shows it (``step="prepare"``: work to
finish before the cancellation is submitted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sfaudit import DataUnavailable, Finding, check, fixture, hookimpl
from sfaudit.sources import Org

__version__ = "0.1.0"

#: What "open" means per object, as a SOQL condition.
OPEN_WHERE = {"Case": "IsClosed = false", "Opportunity": "IsClosed = false"}
NAMED_CREDENTIALS = "SELECT DeveloperName, Endpoint FROM NamedCredential"


@fixture
def count_open(org: Org) -> Callable[[str], int]:
    """A counter of open records per object (``count_open("Case")``), as Acme defines "open"."""

    def count(sobject: str) -> int:
        return org.count(sobject, where=OPEN_WHERE[sobject])

    return count


@hookimpl
def sfaudit_register_fixtures() -> list[Any]:
    return [count_open]


def _still_open(count: int, one: str, many: str, allowed: int) -> str:
    noun = f"{one} is" if count == 1 else f"{many} are"
    return f"{count} {noun} still open (allowed: {allowed})"


@check(
    "open-cases",
    step="prepare",
    severity="medium",
    title="No support cases are still open",
    fix=(
        "Close or resolve the open cases, or move them (with their comments and "
        "e-mails) to the next help desk before the org is switched off. Raise "
        "checks.open-cases.max_open to accept a known backlog."
    ),
    options={"max_open": 0},
    tags=("acme", "service"),
)
def open_cases(
    count_open: Callable[[str], int], options: dict[str, Any], metrics: dict[str, Any]
) -> Iterator[Finding]:
    """No support cases are still open.

    An open case is a customer waiting for an answer. Once the subscription
    ends nobody can reply from Salesforce, and the case history is only in the
    Data Export CSVs.
    """
    count = count_open("Case")
    metrics["open_cases"] = count
    if count > options["max_open"]:
        yield Finding(
            _still_open(count, "support case", "support cases", options["max_open"]),
            object="Case",
            count=count,
        )


@check(
    "open-opportunities",
    step="prepare",
    severity="low",
    title="No opportunities are still open",
    fix=(
        "Close the opportunities as won or lost, or import the open pipeline into "
        "the next CRM and record that here with checks.open-opportunities.max_open."
    ),
    options={"max_open": 0},
    tags=("acme", "sales"),
)
def open_opportunities(
    count_open: Callable[[str], int], options: dict[str, Any], metrics: dict[str, Any]
) -> Iterator[Finding]:
    """No opportunities are still open.

    Open opportunities are pipeline the sales team still works. After the
    cancellation they are read-only CSV rows: move them first.
    """
    count = count_open("Opportunity")
    metrics["open_opportunities"] = count
    if count > options["max_open"]:
        yield Finding(
            _still_open(count, "opportunity", "opportunities", options["max_open"]),
            object="Opportunity",
            count=count,
        )


@check(
    "outbound-integrations",
    step="prepare",
    severity="medium",
    title="No outbound integrations still point at outside systems",
    fix=(
        "Re-point or retire each integration that calls out through the named "
        "credential (middleware, ERP, e-mail service), then delete the named "
        "credential, or list its developer name under "
        "checks.outbound-integrations.allow."
    ),
    options={"allow": []},
    tags=("acme", "integrations"),
)
def outbound_integrations(
    org: Org, options: dict[str, Any], metrics: dict[str, Any]
) -> Iterator[Finding]:
    """No outbound integrations still point at outside systems.

    Each named credential is an endpoint the org calls: flows, Apex and
    external services that stop when the org does. Whoever relies on those
    calls must hear about it before the cancellation, not after.
    """
    try:
        rows = org.query(NAMED_CREDENTIALS)
    except DataUnavailable as exc:
        raise DataUnavailable(
            f"named credentials could not be read: {exc}", permission=exc.permission
        ) from None
    metrics["named_credentials"] = len(rows)
    allowed = set(options["allow"])
    for row in rows:
        name = str(row.get("DeveloperName") or "")
        if name in allowed:
            continue
        endpoint = row.get("Endpoint") or "no endpoint"
        yield Finding(
            f"named credential {name} calls {endpoint}",
            object="NamedCredential",
            key=name,
            data={"endpoint": endpoint},
        )
