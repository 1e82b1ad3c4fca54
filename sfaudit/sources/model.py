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


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "last_login": _parse_dt,
    "next_fire": _parse_dt,
    "previous_fire": _parse_dt,
    "trial_expiration": _parse_date,
    "created_date": _parse_date,
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
