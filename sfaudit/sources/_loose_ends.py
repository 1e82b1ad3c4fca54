"""The queries behind ``Org.loose_ends`` and how their rows become model objects.

Shared by the live source (which sends them, all in one ``composite/batch``) and the
emulator's tests. Field names are Salesforce's (SALESFORCE.md, "Loose ends").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .model import (
    AppUsage,
    ConnectedApp,
    Endpoint,
    InboundAddress,
    InstalledPackage,
    OAuthToken,
    OutboundMessage,
    PublicSite,
    _parse_date,
    _parse_dt,
)

Api = Literal["data", "tooling"]


@dataclass(frozen=True)
class Read:
    """One query of the loose-ends batch."""

    key: str
    api: Api
    soql: str
    grant: str
    optional: bool = True
    """An object some orgs lack (``INVALID_TYPE`` then means: none here)."""

    @property
    def sobject(self) -> str:
        return self.soql.rsplit(" FROM ", 1)[1].split()[0]


_SETUP = "'View Setup and Configuration'"
PACKAGES = Read(
    "packages",
    "tooling",
    "SELECT Id, SubscriberPackage.NamespacePrefix, SubscriberPackage.Name, "
    "SubscriberPackageVersion.Name, SubscriberPackageVersion.MajorVersion, "
    "SubscriberPackageVersion.MinorVersion, SubscriberPackageVersion.PatchVersion "
    "FROM InstalledSubscriberPackage",
    _SETUP,
)
LICENSES = Read(
    "package_licenses",
    "data",
    "SELECT Id, NamespacePrefix, Status, AllowedLicenses, UsedLicenses, ExpirationDate "
    "FROM PackageLicense",
    _SETUP,
)
APPS = Read("connected_apps", "data", "SELECT Id, Name FROM ConnectedApplication", _SETUP)
CREDENTIALS = Read(
    "named_credentials",
    "data",
    "SELECT Id, DeveloperName, Endpoint, PrincipalType FROM NamedCredential",
    _SETUP,
)
REMOTE_SITES = Read(
    "remote_sites",
    "tooling",
    "SELECT Id, SiteName, EndpointUrl, IsActive FROM RemoteProxy",
    _SETUP,
)
OUTBOUND = Read(
    "outbound_messages",
    "tooling",
    "SELECT Id, Name, EntityDefinitionId FROM WorkflowOutboundMessage",
    _SETUP,
)
EMAIL_SERVICES = Read(
    "email_services",
    "data",
    "SELECT Id, LocalPart, EmailDomainName, IsActive, FunctionId FROM EmailServicesAddress",
    _SETUP,
)
EMAIL_TO_CASE = Read(
    "email_to_case",
    "data",
    "SELECT Id, Address, DisplayName FROM EmailRoutingAddress",
    _SETUP,
)
ORG_WIDE = Read(
    "org_wide_addresses",
    "data",
    "SELECT Id, Address, DisplayName FROM OrgWideEmailAddress",
    _SETUP,
)
SITES = Read(
    "sites",
    "data",
    "SELECT Id, Name, MasterLabel, Status, SiteType, Subdomain, UrlPathPrefix, GuestUserId "
    "FROM Site",
    _SETUP,
)
SITE_URLS = Read("site_urls", "data", "SELECT DurableId, SecureUrl FROM SiteDetail", _SETUP)
NETWORKS = Read("networks", "data", "SELECT Id, Name, Status, UrlPathPrefix FROM Network", _SETUP)
PERMISSIONS = Read(
    "permissions",
    "data",
    "SELECT PermissionsCustomizeApplication, PermissionsViewSetup FROM UserPermissionAccess",
    _SETUP,
    optional=False,
)
#: Everything one loose-ends batch reads (13 subrequests; the token query can join it).
BATCH: tuple[Read, ...] = (
    PACKAGES,
    LICENSES,
    APPS,
    CREDENTIALS,
    REMOTE_SITES,
    OUTBOUND,
    EMAIL_SERVICES,
    EMAIL_TO_CASE,
    ORG_WIDE,
    SITES,
    SITE_URLS,
    NETWORKS,
    PERMISSIONS,
)
#: The reads each section needs (the first one decides whether it could be read).
NEEDS: Mapping[str, tuple[Read, ...]] = {
    "packages": (PACKAGES, LICENSES),
    "connected_apps": (APPS,),
    "named_credentials": (CREDENTIALS,),
    "remote_sites": (REMOTE_SITES,),
    "outbound_messages": (OUTBOUND,),
    "email_services": (EMAIL_SERVICES,),
    "email_to_case": (EMAIL_TO_CASE,),
    "org_wide_addresses": (ORG_WIDE,),
    "sites": (SITES, SITE_URLS, NETWORKS),
    "networks": (NETWORKS, SITES, SITE_URLS),
}
TOKEN_GRANT = "'Customize Application' (to see every user's OAuth tokens, not only its own)"


def token_soql(since: dt.date) -> str:
    """Tokens used on or after ``since``, aggregated per app on the server."""
    return (
        "SELECT AppName, COUNT_DISTINCT(UserId) users, MAX(LastUsedDate) lastUsed, "
        "SUM(UseCount) uses FROM OauthToken "
        f"WHERE LastUsedDate >= {since.isoformat()}T00:00:00Z GROUP BY AppName"
    )


def token_rows_soql(since: dt.date) -> str:
    """The same tokens one row each: for orgs that refuse the aggregate."""
    return (
        "SELECT AppName, UserId, LastUsedDate, UseCount FROM OauthToken "
        f"WHERE LastUsedDate >= {since.isoformat()}T00:00:00Z"
    )


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(float(value))


def packages(
    rows: Sequence[Mapping[str, Any]], licenses: Sequence[Mapping[str, Any]]
) -> list[InstalledPackage]:
    """Managed packages (those with a namespace), each with its licence."""
    by_ns = {_s(r.get("NamespacePrefix")).lower(): r for r in licenses}
    out = []
    for row in rows:
        package = row.get("SubscriberPackage") or {}
        version = row.get("SubscriberPackageVersion") or {}
        namespace = _s(package.get("NamespacePrefix"))
        if not namespace:
            continue  # unmanaged or unlocked without a namespace: the org's own
        numbers = [version.get(k) for k in ("MajorVersion", "MinorVersion", "PatchVersion")]
        number = ".".join(str(int(n)) for n in numbers if n is not None)
        name = _s(version.get("Name"))
        label = f"{name} ({number})" if name and number and name != number else name or number
        lic = by_ns.get(namespace.lower())
        out.append(
            InstalledPackage(
                namespace=namespace,
                name=_s(package.get("Name")) or namespace,
                version=label,
                license_status=_s(lic.get("Status")) if lic else "",
                expiration=_parse_date(lic.get("ExpirationDate")) if lic else None,
                seats_allowed=_int(lic.get("AllowedLicenses")) if lic else None,
                seats_used=_int(lic.get("UsedLicenses")) if lic else None,
                id=_s(row.get("Id")),
            )
        )
    return sorted(out, key=lambda p: p.namespace.lower())


def connected_apps(rows: Sequence[Mapping[str, Any]]) -> list[ConnectedApp]:
    return sorted(
        (ConnectedApp(id=_s(r.get("Id")), name=_s(r.get("Name"))) for r in rows),
        key=lambda a: a.name.lower(),
    )


def named_credentials(rows: Sequence[Mapping[str, Any]]) -> list[Endpoint]:
    return sorted(
        (
            Endpoint(
                kind="named-credential",
                name=_s(r.get("DeveloperName")),
                url=_s(r.get("Endpoint")),
                principal=_s(r.get("PrincipalType")),
                id=_s(r.get("Id")),
            )
            for r in rows
        ),
        key=lambda e: e.name.lower(),
    )


def remote_sites(rows: Sequence[Mapping[str, Any]]) -> list[Endpoint]:
    return sorted(
        (
            Endpoint(
                kind="remote-site",
                name=_s(r.get("SiteName")),
                url=_s(r.get("EndpointUrl")),
                active=bool(r.get("IsActive")),
                id=_s(r.get("Id")),
            )
            for r in rows
        ),
        key=lambda e: e.name.lower(),
    )


def outbound_messages(rows: Sequence[Mapping[str, Any]]) -> list[OutboundMessage]:
    return sorted(
        (
            OutboundMessage(
                id=_s(r.get("Id")), name=_s(r.get("Name")), object=_s(r.get("EntityDefinitionId"))
            )
            for r in rows
        ),
        key=lambda m: (m.object.lower(), m.name.lower()),
    )


def email_services(rows: Sequence[Mapping[str, Any]]) -> list[InboundAddress]:
    return sorted(
        (
            InboundAddress(
                kind="email-service",
                address=f"{_s(r.get('LocalPart'))}@{_s(r.get('EmailDomainName'))}",
                name=_s(r.get("LocalPart")),
                active=bool(r.get("IsActive")),
                id=_s(r.get("Id")),
            )
            for r in rows
        ),
        key=lambda a: a.address.lower(),
    )


def simple_addresses(rows: Sequence[Mapping[str, Any]], kind: str) -> list[InboundAddress]:
    """Email-to-Case routing addresses and org-wide addresses: Address, DisplayName."""
    return sorted(
        (
            InboundAddress(
                kind=kind,
                address=_s(r.get("Address")),
                name=_s(r.get("DisplayName")),
                id=_s(r.get("Id")),
            )
            for r in rows
        ),
        key=lambda a: a.address.lower(),
    )


def sites(
    rows: Sequence[Mapping[str, Any]],
    urls: Sequence[Mapping[str, Any]],
    networks: Sequence[Mapping[str, Any]],
) -> tuple[list[PublicSite], list[PublicSite]]:
    """(Sites, networks). A network's guest user and URL come from the Site behind it
    (same label); that Site is reported as the network, not twice."""
    secure = {_s(u.get("DurableId"))[:15]: _s(u.get("SecureUrl")) for u in urls}
    site_rows = {_s(r.get("MasterLabel") or r.get("Name")).lower(): r for r in rows}
    out_networks, behind = [], set()
    for net in networks:
        site = site_rows.get(_s(net.get("Name")).lower())
        if site is not None:
            behind.add(_s(site.get("Id")))
        url = secure.get(_s(site.get("Id"))[:15], "") if site else ""
        prefix = _s(net.get("UrlPathPrefix"))
        out_networks.append(
            PublicSite(
                kind="network",
                id=_s(net.get("Id")),
                name=_s(net.get("Name")),
                status=_s(net.get("Status")),
                url=url or (f"/{prefix}" if prefix else ""),
                guest_user_id=_s(site.get("GuestUserId")) if site else "",
            )
        )
    out_sites = []
    for row in rows:
        if _s(row.get("Id")) in behind:
            continue
        prefix = _s(row.get("UrlPathPrefix"))
        sub = _s(row.get("Subdomain"))
        url = secure.get(_s(row.get("Id"))[:15], "")
        out_sites.append(
            PublicSite(
                kind="site",
                id=_s(row.get("Id")),
                name=_s(row.get("MasterLabel") or row.get("Name")),
                status=_s(row.get("Status")),
                url=url or "/".join(p for p in (sub, prefix) if p),
                guest_user_id=_s(row.get("GuestUserId")),
            )
        )
    return (
        sorted(out_sites, key=lambda s: s.name.lower()),
        sorted(out_networks, key=lambda s: s.name.lower()),
    )


def app_usage(rows: Sequence[Mapping[str, Any]]) -> tuple[AppUsage, ...]:
    """The aggregate rows of :func:`token_soql`."""
    return tuple(
        sorted(
            (
                AppUsage(
                    app=_s(r.get("AppName")),
                    users=int(r.get("users") or 0),
                    last_used=_parse_dt(r.get("lastUsed")),
                    use_count=int(r.get("uses") or 0),
                )
                for r in rows
            ),
            key=lambda a: a.app.lower(),
        )
    )


def tokens(rows: Sequence[Mapping[str, Any]]) -> list[OAuthToken]:
    """The rows of :func:`token_rows_soql`."""
    return [
        OAuthToken(
            app=_s(r.get("AppName")),
            user_id=_s(r.get("UserId")),
            last_used=_parse_dt(r.get("LastUsedDate")),
            use_count=int(r.get("UseCount") or 0),
        )
        for r in rows
    ]
