"""integrations: the systems that log in to the org, and the ones it calls, lose it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sfaudit import Chart, DataUnavailable, Finding, SfauditError, check
from sfaudit.config import Config
from sfaudit.registry import N_
from sfaudit.sources import Org

EXPLAIN = """\
Lists the integrations that stop when the org does, one finding each:

- connected apps whose OAuth tokens (OauthToken) were used in the last
  `active_days` days (90 by default), aggregated per app: the number of
  users, the last use and the use count in that window;
- named credentials (NamedCredential) and active remote site settings
  (Tooling RemoteProxy), with their endpoint hosts: the systems Salesforce
  calls;
- workflow outbound messages (Tooling WorkflowOutboundMessage), with the
  object they fire on.

Connected apps without recent token use, and inactive remote sites, are
counted, not reported.

To see every user's tokens, the API user needs 'Customize Application'.
Without it, Salesforce shows it its own tokens only: the check then reports
what it could see, says that the list is partial, and errors, so the audit
is incomplete rather than passing on a partial list.

Why it matters: an integration that logs in with OAuth stops working the
day the org goes, and whoever owns the other system learns it from an error.
A system that receives callouts or outbound messages simply stops getting
data.

Metrics: apps_in_use, users (sum over the apps), connected_apps,
named_credentials, remote_sites (active), outbound_messages, active_days,
since, tokens_complete, apps (users per app, for the chart), not_in_org."""

FIX = """\
Tell the owner of each system: the people behind each connected app, and
the systems behind each named credential, remote site and outbound message.
Agree the cut-over date, move the integration to its next home, and at
cut-over revoke the OAuth tokens (Setup > Connected Apps OAuth Usage >
Revoke, or block the app) so nothing keeps calling a dying org. Then delete
the named credentials, remote site settings and outbound messages."""


@check(
    "integrations",
    step="prepare",
    severity="high",
    title="Every integration's owner knows the org is going",
    explain=EXPLAIN,
    fix=FIX,
    options={"active_days": 90},
    summary="integrations that stop with the org: {findings}",
    charts=[
        Chart(
            "integration-users",
            N_("Connected apps in use: users per app"),
            metric="apps",
            series=(("users", N_("users")),),
        )
    ],
)
def integrations(
    org: Org, options: dict[str, Any], today: dt.date, metrics: dict[str, Any], config: Config
) -> Iterator[Finding]:
    days = options["active_days"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise config.error(
            f"must be a whole number of days, 1 or more (got {days!r})",
            "checks",
            "integrations",
            "active_days",
            hint="set active_days: 90 (the days a token counts as in use)",
        )
    since = today - dt.timedelta(days=days)
    problems: list[DataUnavailable] = []
    findings: list[Finding] = []
    metrics.update(active_days=days, since=since)

    def read(what: str, fetch: Any) -> Any:
        try:
            return fetch()
        except DataUnavailable as exc:
            problems.append(DataUnavailable(f"{what}: {exc}", permission=exc.permission))
        except SfauditError as exc:
            problems.append(DataUnavailable(f"{what}: {exc.message}", permission=True))
        return None

    usage = read("OAuth tokens", lambda: org.oauth_usage(since))
    apps = read("connected apps", org.connected_apps)
    if usage is not None:
        metrics.update(
            apps_in_use=len(usage.apps),
            users=sum(a.users for a in usage.apps),
            tokens_complete=usage.complete,
            apps=[{"name": a.app, "users": a.users} for a in usage.apps],
        )
        for app in usage.apps:
            last = app.last_used.date().isoformat() if app.last_used else "never"
            findings.append(
                Finding(
                    f"connected app {app.app!r}: {_n(app.users, 'user')}, last used {last}, "
                    f"{_n(app.use_count, 'use')} since {since.isoformat()}",
                    object="ConnectedApplication",
                    key=f"connected-app:{app.app.lower()}",
                    count=app.users,
                    data={
                        "kind": "connected-app",
                        "app": app.app,
                        "users": app.users,
                        "last_used": app.last_used,
                        "use_count": app.use_count,
                    },
                )
            )
    if apps is not None:
        metrics["connected_apps"] = len(apps)
    credentials = read("named credentials", org.named_credentials)
    if credentials is not None:
        metrics["named_credentials"] = len(credentials)
        for cred in credentials:
            where = cred.host or cred.url or "no endpoint"
            findings.append(
                Finding(
                    f"named credential {cred.name} calls {where}",
                    object="NamedCredential",
                    record_id=cred.id or None,
                    key=f"named-credential:{cred.name.lower()}",
                    data={
                        "kind": "named-credential",
                        "name": cred.name,
                        "endpoint": cred.url,
                        "host": cred.host,
                        "principal": cred.principal,
                    },
                )
            )
    sites = read("remote site settings", org.remote_sites)
    if sites is not None:
        active = [s for s in sites if s.active]
        metrics.update(remote_sites=len(active), remote_sites_inactive=len(sites) - len(active))
        for site in active:
            findings.append(
                Finding(
                    f"remote site {site.name} lets Apex call {site.host or site.url}",
                    object="RemoteProxy",
                    record_id=site.id or None,
                    key=f"remote-site:{site.name.lower()}",
                    data={
                        "kind": "remote-site",
                        "name": site.name,
                        "endpoint": site.url,
                        "host": site.host,
                    },
                )
            )
    messages = read("outbound messages", org.outbound_messages)
    if messages is not None:
        metrics["outbound_messages"] = len(messages)
        for message in messages:
            on = f" on {message.object}" if message.object else ""
            findings.append(
                Finding(
                    f"outbound message {message.name}{on} sends records to an outside endpoint",
                    object="WorkflowOutboundMessage",
                    record_id=message.id or None,
                    key=f"outbound-message:{message.name.lower()}",
                    data={"kind": "outbound-message", "name": message.name, "on": message.object},
                )
            )
    metrics["not_in_org"] = list(org.not_in_org())
    yield from findings
    if usage is not None and not usage.complete:
        problems.insert(
            0,
            DataUnavailable(
                f"partial result: {usage.note}; the connected apps listed "
                f"({len(usage.apps)}) are only those the API user could see",
                permission=True,
            ),
        )
    if problems:
        raise DataUnavailable.combine(problems)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
