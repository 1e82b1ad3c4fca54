"""Plain data the org facade hands to checks, the same whatever the source."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


def _parse_dt(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value
    text = str(value).replace("Z", "+00:00")
    # Salesforce writes "+0000" without a colon.
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return dt.datetime.fromisoformat(text)


def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class OrgInfo:
    id: str
    name: str
    edition: str = ""
    is_sandbox: bool = False
    instance: str = ""
    trial_expiration: dt.date | None = None
    created_date: dt.date | None = None


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str = ""
    is_active: bool = True
    user_type: str = "Standard"
    last_login: dt.datetime | None = None
    profile: str = ""
    license: str = ""
    is_frozen: bool = False
    is_admin: bool = False
    admin_via: tuple[str, ...] = ()
    email: str = ""

    @property
    def can_log_in(self) -> bool:
        return self.is_active and not self.is_frozen


@dataclass(frozen=True)
class License:
    name: str
    status: str = "Active"
    total: int = 0
    used: int = 0

    @property
    def unused(self) -> int:
        return max(0, self.total - self.used)


@dataclass(frozen=True)
class SObjectInfo:
    name: str
    label: str = ""
    custom: bool = False
    queryable: bool = True
    replicateable: bool = True
    ownable: bool = False
    queue_ownable: bool = False
    count: int | None = None


@dataclass(frozen=True)
class Queue:
    id: str
    name: str


@dataclass(frozen=True)
class OwnershipCount:
    """Records of one object owned by one owner, aggregated: never one row per record."""

    object: str
    owner_id: str
    count: int
    owner: str = ""
    owner_kind: str = "user"  # "user" or "queue"
    owner_active: bool | None = None
    reason: str = ""  # "inactive", "non-custodian" or "queue"


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    name: str
    job_type: str = ""
    state: str = "WAITING"
    next_fire: dt.datetime | None = None
    previous_fire: dt.datetime | None = None
    cron: str = ""
    owner_id: str = ""


STORAGE_LIMITS = (("data", "DataStorageMB"), ("file", "FileStorageMB"))
""":class:`Storage` attribute → its ``/limits/`` entry."""


@dataclass(frozen=True)
class StorageUse:
    """One storage allowance in MB, from a ``/limits/`` entry (``Max``, ``Remaining``)."""

    allowed: int
    used: int
    """``Max - Remaining``: above ``allowed`` when the org is over its quota."""

    @property
    def over_quota(self) -> bool:
        return self.used > self.allowed

    @classmethod
    def from_limit(cls, raw: Any) -> StorageUse | None:
        """``{"Max": 5120, "Remaining": -300}`` → used 5420 of 5120; None if not numbers."""
        if not isinstance(raw, dict):
            return None
        top, left = raw.get("Max"), raw.get("Remaining")
        if not isinstance(top, (int, float)) or not isinstance(left, (int, float)):
            return None
        if isinstance(top, bool) or isinstance(left, bool):
            return None
        return cls(allowed=int(top), used=int(top) - int(left))

    def to_limit(self) -> dict[str, int]:
        return {"Max": self.allowed, "Remaining": self.allowed - self.used}


@dataclass(frozen=True)
class Storage:
    """Data and file storage, as ``GET /limits/`` reports them (``DataStorageMB``,
    ``FileStorageMB``): the size of what has to be exported. A part not reported is None."""

    data: StorageUse | None = None
    file: StorageUse | None = None

    @classmethod
    def from_limits(cls, limits: Any) -> Storage | None:
        """From a ``/limits/`` answer (or a snapshot's ``limits``); None without either entry."""
        if not isinstance(limits, dict):
            return None
        parts = {attr: StorageUse.from_limit(limits.get(key)) for attr, key in STORAGE_LIMITS}
        return cls(**parts) if any(parts.values()) else None

    def to_limits(self) -> dict[str, dict[str, int]]:
        """The ``/limits/`` entries, as a snapshot records them."""
        return {
            key: use.to_limit()
            for attr, key in STORAGE_LIMITS
            if (use := getattr(self, attr)) is not None
        }

    def to_dict(self) -> dict[str, dict[str, int] | None]:
        """``{"data_storage_mb": {"used", "allowed"}, "file_storage_mb": ...}`` (report.json)."""
        return {
            f"{attr}_storage_mb": None
            if (use := getattr(self, attr)) is None
            else {"used": use.used, "allowed": use.allowed}
            for attr, _ in STORAGE_LIMITS
        }


# --- loose ends: what bills, breaks or stays open after cancelling -------------------


@dataclass(frozen=True)
class InstalledPackage:
    """A managed package (Tooling ``InstalledSubscriberPackage``) with its licence
    (``PackageLicense``, matched by namespace). No licence row: a free package."""

    namespace: str
    name: str
    version: str = ""
    """The version name and number, ``Spring '26 (4.12.0)``."""
    license_status: str = ""
    """``Active``, ``Trial``, ``Expired``, ``Free``, or "" when no licence row exists."""
    expiration: dt.date | None = None
    """None: the licence does not expire."""
    seats_allowed: int | None = None
    """-1: a site-wide licence (every user)."""
    seats_used: int | None = None
    id: str = ""


@dataclass(frozen=True)
class ConnectedApp:
    """A connected app (``ConnectedApplication``)."""

    id: str
    name: str


@dataclass(frozen=True)
class OAuthToken:
    """One OAuth token (``OauthToken``): which app, whose, when last used."""

    app: str
    user_id: str
    last_used: dt.datetime | None = None
    use_count: int = 0


@dataclass(frozen=True)
class AppUsage:
    """The tokens of one connected app used since a date, aggregated."""

    app: str
    users: int
    last_used: dt.datetime | None = None
    use_count: int = 0


@dataclass(frozen=True)
class OAuthUsage:
    """Connected apps with tokens used since ``since``, one row per app.

    ``complete`` is False when the API user may not see every user's tokens
    (without Customize Application); ``note`` then says why."""

    since: dt.date
    apps: tuple[AppUsage, ...] = ()
    complete: bool = True
    note: str = ""


@dataclass(frozen=True)
class Endpoint:
    """A system the org calls: a named credential or a remote site setting."""

    kind: str  # "named-credential" or "remote-site"
    name: str
    url: str = ""
    active: bool = True
    principal: str = ""
    """A named credential's ``PrincipalType`` (NamedUser, PerUser, Anonymous)."""
    id: str = ""

    @property
    def host(self) -> str:
        """The endpoint's host name (``callout:`` and blank URLs give "")."""
        from urllib.parse import urlsplit

        return (urlsplit(self.url).hostname or "") if "://" in self.url else ""


@dataclass(frozen=True)
class OutboundMessage:
    """A workflow outbound message (Tooling ``WorkflowOutboundMessage``)."""

    id: str
    name: str
    object: str = ""
    """``EntityDefinitionId``: a standard object's name, or a custom object's Id."""


@dataclass(frozen=True)
class InboundAddress:
    """An address that receives mail for the org."""

    kind: str  # "email-service", "email-to-case" or "org-wide"
    address: str
    name: str = ""
    active: bool = True
    id: str = ""


@dataclass(frozen=True)
class PublicSite:
    """A Salesforce Site or an Experience Cloud network, with its guest user."""

    kind: str  # "site" or "network"
    id: str
    name: str
    status: str = ""
    url: str = ""
    guest_user_id: str = ""

    @property
    def live(self) -> bool:
        """Serving pages: a Site ``Active``, a network ``Live``."""
        return self.status.lower() in ("active", "live")


#: The loose-end sections (``Org.loose_ends``), each a list of its model class.
LOOSE_ENDS: dict[str, type[Any]] = {
    "packages": InstalledPackage,
    "connected_apps": ConnectedApp,
    "oauth_tokens": OAuthToken,
    "named_credentials": Endpoint,
    "remote_sites": Endpoint,
    "outbound_messages": OutboundMessage,
    "email_services": InboundAddress,
    "email_to_case": InboundAddress,
    "org_wide_addresses": InboundAddress,
    "sites": PublicSite,
    "networks": PublicSite,
}


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "last_login": _parse_dt,
    "next_fire": _parse_dt,
    "previous_fire": _parse_dt,
    "trial_expiration": _parse_date,
    "created_date": _parse_date,
    "expiration": _parse_date,
    "last_used": _parse_dt,
    "since": _parse_date,
    "admin_via": lambda v: tuple(v or ()),
}


def from_dict(cls: type[T], raw: dict[str, Any], where: str) -> T:
    """Build a model object from snapshot JSON, ignoring unknown keys."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object, got {type(raw).__name__}")
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    kwargs = {}
    for key, value in raw.items():
        if key in names:
            conv = _CONVERTERS.get(key)
            kwargs[key] = conv(value) if conv else value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        missing = str(exc).split("argument", 1)[-1].strip(": ")
        raise ValueError(f"{where}: missing field {missing}") from None


def to_dict(obj: Any) -> dict[str, Any]:
    out = asdict(obj)
    for key, value in out.items():
        if isinstance(value, (dt.date, dt.datetime)):
            out[key] = value.isoformat()
        elif isinstance(value, tuple):
            out[key] = list(value)
    return out


@dataclass
class OrgData:
    """Everything a snapshot holds. A section that is ``None`` was not recorded."""

    info: OrgInfo
    users: list[User] | None = None
    licenses: list[License] | None = None
    objects: list[SObjectInfo] | None = None
    queues: list[Queue] | None = None
    ownership: list[OwnershipCount] | None = None
    ownership_custodians: tuple[str, ...] | None = None
    """``None``: counts cover every owner; else only inactive owners, queues and
    owners other than these custodian usernames were recorded."""
    scheduled_jobs: list[ScheduledJob] | None = None
    queries: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    """The metadata inventory, type → entry (see :mod:`sfaudit.metadata.org`)."""
    loose_ends: dict[str, list[Any]] | None = None
    """Section (:data:`LOOSE_ENDS`) → its rows; a section left out was not recorded.
    ``oauth_tokens`` holds single tokens (the builders' form); a recording keeps
    the per-app aggregate instead, in :attr:`oauth_usage`."""
    oauth_usage: dict[str, OAuthUsage] = field(default_factory=dict)
    """Per-app token use as recorded, by the ``since`` date (ISO) it was asked for."""
    loose_end_errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Sections that could not be read: ``{"error": ..., "permission": bool}``."""
    not_in_org: tuple[str, ...] = ()
    """Objects the org does not have (its edition or features): their sections are empty."""
