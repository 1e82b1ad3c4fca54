"""inbound-email: addresses that bounce once the org is gone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sfaudit import DataUnavailable, Finding, check
from sfaudit.sources import Org

#: Section → (what the address is, the object it is read from).
KINDS = {
    "email_services": ("email services address", "EmailServicesAddress"),
    "email_to_case": ("Email-to-Case address", "EmailRoutingAddress"),
    "org_wide_addresses": ("org-wide address", "OrgWideEmailAddress"),
}

EXPLAIN = """\
Lists the addresses that receive mail for the org, one finding each:

- active email services addresses (EmailServicesAddress: the generated
  addresses Apex email services read), inactive ones counted only;
- Email-to-Case routing addresses (EmailRoutingAddress): the support
  addresses customers write to;
- org-wide email addresses (OrgWideEmailAddress): the addresses the org
  sends from, and so the ones replies go to.

Why it matters: mail sent to these addresses after the org is gone bounces
or vanishes. Customers writing to support, systems mailing in data, people
replying to a notification: each needs the address forwarded to its next
home, or retired with notice, before the cancellation.

Metrics: email_services (active), email_services_inactive, email_to_case,
org_wide_addresses, not_in_org."""

FIX = """\
Before the org goes, forward or retire each address: point the mailbox that
forwards to Salesforce (support@ and the like) at the new helpdesk, tell the
senders of each email service where to send instead, then deactivate the
email service and the Email-to-Case routing address in Setup. Change the
org-wide addresses' mailboxes so replies reach a person."""


@check(
    "inbound-email",
    step="prepare",
    severity="medium",
    title="No address still sends mail into the org",
    explain=EXPLAIN,
    fix=FIX,
    summary="addresses that still receive mail for the org: {findings}",
)
def inbound_email(org: Org, metrics: dict[str, Any]) -> Iterator[Finding]:
    problems: list[DataUnavailable] = []
    counts: Counter[str] = Counter()
    findings: list[Finding] = []
    for section, (what, sobject) in KINDS.items():
        try:
            addresses = org.loose_ends(section)
        except DataUnavailable as exc:
            problems.append(DataUnavailable(f"{what}es: {exc}", permission=exc.permission))
            continue
        for address in addresses:
            if not address.active:
                counts[f"{section}_inactive"] += 1
                continue
            counts[section] += 1
            plain = not address.name or address.address.startswith(f"{address.name}@")
            named = "" if plain else f" ({address.name})"
            findings.append(
                Finding(
                    f"{what} {address.address}{named} receives mail that bounces once the org "
                    "is gone: forward or retire it",
                    object=sobject,
                    record_id=address.id or None,
                    key=f"{address.kind}:{address.address.lower()}",
                    data={"kind": address.kind, "address": address.address, "name": address.name},
                )
            )
    metrics.update(
        email_services=counts["email_services"],
        email_services_inactive=counts["email_services_inactive"],
        email_to_case=counts["email_to_case"],
        org_wide_addresses=counts["org_wide_addresses"],
        not_in_org=list(org.not_in_org()),
    )
    yield from findings
    if problems:
        raise DataUnavailable.combine(problems)
