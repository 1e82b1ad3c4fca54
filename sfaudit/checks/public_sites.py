"""public-sites: pages customers use, and guest users open to anyone, go dark."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sfaudit import DataUnavailable, Finding, SfauditError, check
from sfaudit.sources import Org, PublicSite

EXPLAIN = """\
Lists the Salesforce Sites (Site, status Active) and Experience Cloud
networks (Network, status Live) that serve pages now, one finding each, with
the URL and the guest user that serves visitors who are not logged in.
Inactive sites and networks that are down for maintenance or under
construction are counted, not reported: the check passes when there are
none, or none is live.

Why it matters: customers, partners and the public use these pages (a help
centre, a partner portal, a web-to-case form). They go dark on the day the
org does, and until then the guest user keeps whatever access it was given.

Metrics: live (sites and networks), sites_live, networks_live, not_live,
not_in_org."""

FIX = """\
Tell the site's audience where its pages move, put a notice or a redirect
in place, then deactivate the site (Setup > Sites) or take the network
offline (Experience Builder > Settings > Deactivate). Review what the guest
user profile can read until then."""


@check(
    "public-sites",
    step="prepare",
    severity="high",
    title="No public site or portal is still live",
    explain=EXPLAIN,
    fix=FIX,
    summary="public sites and portals still live: {findings}",
)
def public_sites(org: Org, metrics: dict[str, Any]) -> Iterator[Finding]:
    problems: list[DataUnavailable] = []
    found: list[PublicSite] = []
    for section in ("sites", "networks"):
        try:
            found.extend(org.loose_ends(section))
        except DataUnavailable as exc:
            problems.append(DataUnavailable(f"{section}: {exc}", permission=exc.permission))
    guests = _usernames(org) if any(s.guest_user_id for s in found) else {}
    live = [s for s in found if s.live]
    metrics.update(
        live=len(live),
        sites_live=sum(1 for s in live if s.kind == "site"),
        networks_live=sum(1 for s in live if s.kind == "network"),
        not_live=len(found) - len(live),
        not_in_org=list(org.not_in_org()),
    )
    for site in live:
        what = "Experience Cloud site" if site.kind == "network" else "site"
        guest_id = site.guest_user_id
        guest = guests.get(guest_id) or guests.get(guest_id[:15]) or guest_id or None
        where = f" at {site.url.split('://', 1)[-1]}" if site.url else ""
        serves = f", guest user {guest} serves visitors" if guest else ""
        yield Finding(
            f"{what} {site.name!r} is {site.status}{where}{serves}",
            object="Network" if site.kind == "network" else "Site",
            record_id=site.id or None,
            user=guest,
            key=f"{site.kind}:{site.name.lower()}",
            data={
                "kind": site.kind,
                "name": site.name,
                "status": site.status,
                "url": site.url,
                "guest_user": guest,
                "guest_user_id": guest_id or None,
            },
        )
    if problems:
        raise DataUnavailable.combine(problems)


def _usernames(org: Org) -> dict[str, str]:
    """Usernames by user Id (and 15-character Id); empty when users cannot be read."""
    try:
        users = org.users()
    except (DataUnavailable, SfauditError):
        return {}  # guest user names are a courtesy: the Ids are reported instead
    names = {u.id: u.username for u in users}
    names.update({u.id[:15]: u.username for u in users})
    return names
