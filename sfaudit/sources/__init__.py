"""Org sources: the read-only facade the checks see, whatever serves it."""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from ..errors import DataUnavailable, SfauditError
from .model import (
    LOOSE_ENDS,
    AppUsage,
    ConnectedApp,
    Endpoint,
    InboundAddress,
    InstalledPackage,
    License,
    OAuthToken,
    OAuthUsage,
    OrgInfo,
    OutboundMessage,
    OwnershipCount,
    PublicSite,
    Queue,
    ScheduledJob,
    SObjectInfo,
    Storage,
    User,
)

T = TypeVar("T")
#: The org cache key (``("query", METADATA_KEY)``) of the metadata inventory, so
#: recording a snapshot keeps it with the queries; snapshots store it as ``metadata``.
METADATA_KEY = "sfaudit:metadata-inventory"

# System users a customer cannot deactivate: listed, never failed.
SYSTEM_USER_TYPES = frozenset({"AutomatedProcess", "CloudIntegrationUser"})
SYSTEM_PROFILES = frozenset(
    {
        "Analytics Cloud Integration User",
        "Analytics Cloud Security User",
        "Salesforce API Only System Integrations",
        "Platform Integration User",
    }
)


def is_system_user(user: User) -> bool:
    """Automated Process, cloud integration and platform integration users."""
    return user.user_type in SYSTEM_USER_TYPES or user.profile in SYSTEM_PROFILES


def normalize_soql(soql: str) -> str:
    """Whitespace-collapsed SOQL, the key under which snapshots store query results."""
    return re.sub(r"\s+", " ", soql.strip())


class Org(ABC):
    """The read-only org facade handed to checks as the ``org`` fixture.

    Every method returns plain data (see :mod:`sfaudit.sources.model`) and is
    cached for the run, so checks may call them freely. A method raises
    :class:`~sfaudit.errors.DataUnavailable` when the source cannot answer; the
    check that asked is then skipped (missing data) or errors (permission).
    There are no write methods, by design.
    """

    #: "snapshot", "live" or "sf"
    source: str = ""

    def __init__(self) -> None:
        self._cache: dict[Any, Any] = {}

    def _cached(self, key: Any, fetch: Callable[[], T]) -> T:
        """Fetch once per run. A failure is remembered too, so a section that
        cannot be read costs its retries once, not once per check."""
        if key not in self._cache:
            try:
                self._cache[key] = fetch()
            except (DataUnavailable, SfauditError) as exc:
                self._cache[key] = exc
        value = self._cache[key]
        if isinstance(value, (DataUnavailable, SfauditError)):
            raise value
        return value  # type: ignore[no-any-return]

    # --- what a source implements -------------------------------------------

    @abstractmethod
    def _fetch_info(self) -> OrgInfo: ...

    @abstractmethod
    def _fetch_users(self) -> list[User]: ...

    @abstractmethod
    def _fetch_licenses(self) -> list[License]: ...

    @abstractmethod
    def _fetch_objects(self) -> list[SObjectInfo]: ...

    @abstractmethod
    def _fetch_queues(self) -> list[Queue]: ...

    @abstractmethod
    def _fetch_ownership(
        self, objects: Sequence[str], custodian_ids: Sequence[str]
    ) -> list[OwnershipCount]:
        """Raw counts per (object, owner) for at least every owner that is an
        inactive user, a queue, or (when custodians are given) any user not
        among them. Extra rows are filtered out by the caller."""

    @abstractmethod
    def _fetch_scheduled_jobs(self) -> list[ScheduledJob]: ...

    @abstractmethod
    def _fetch_query(self, soql: str) -> dict[str, Any]:
        """The result of a read query: ``{"totalSize": n, "records": [...]}``."""

    def metrics(self) -> dict[str, Any]:
        """Figures about the source itself (API calls used, allowance left)."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook for sources with sessions
        """Release what the source holds open."""

    # --- what this run read (for ``sfaudit snapshot``) -------------------------

    def recorded_queries(self) -> dict[str, dict[str, Any]]:
        """Every query answered so far, by normalized SOQL (as a snapshot stores
        them); queries the source could not answer are left out."""
        return {
            key[1]: dict(value)
            for key, value in self._cache.items()
            if isinstance(key, tuple)
            and len(key) == 2
            and key[0] == "query"
            and isinstance(value, dict)
        }

    def recorded_custodians(self) -> set[tuple[str, ...]]:
        """The custodian lists :meth:`ownership` was asked for so far (non-empty ones)."""
        return {
            key[2]
            for key in self._cache
            if isinstance(key, tuple) and len(key) == 3 and key[0] == "ownership" and key[2]
        }

    # --- the facade ---------------------------------------------------------

    def info(self) -> OrgInfo:
        return self._cached("info", self._fetch_info)

    def users(self) -> list[User]:
        return self._cached("users", self._fetch_users)

    def licenses(self) -> list[License]:
        return self._cached("licenses", self._fetch_licenses)

    def objects(self) -> list[SObjectInfo]:
        return self._cached("objects", self._fetch_objects)

    def queues(self) -> list[Queue]:
        return self._cached("queues", self._fetch_queues)

    def scheduled_jobs(self) -> list[ScheduledJob]:
        return self._cached("jobs", self._fetch_scheduled_jobs)

    def record_counts(self) -> dict[str, int]:
        """Record count per object (approximate, as Salesforce reports it)."""
        return {o.name: o.count for o in self.objects() if o.count is not None}

    def object(self, name: str) -> SObjectInfo | None:
        for obj in self.objects():
            if obj.name.lower() == name.lower():
                return obj
        return None

    def user(self, key: str) -> User | None:
        """A user by Id or username."""
        for u in self.users():
            if key in (u.id, u.username) or (len(key) == 15 and u.id[:15] == key):
                return u
        return None

    def ownership(
        self, objects: Iterable[str] | None = None, custodians: Iterable[str] = ()
    ) -> list[OwnershipCount]:
        """Records owned by inactive users, by queues and, when ``custodians``
        (usernames) are named, by any other user; aggregated per object and owner.

        :param objects: limit to these objects; default every ownable object with records.
        """
        custodian_names = tuple(sorted(set(custodians)))
        if objects is None:
            wanted = tuple(
                sorted(o.name for o in self.objects() if o.ownable and (o.count or 0) > 0)
            )
        else:
            wanted = tuple(sorted(set(objects)))
        return self._cached(
            ("ownership", wanted, custodian_names),
            lambda: self._ownership(wanted, custodian_names),
        )

    def _ownership(
        self, objects: tuple[str, ...], custodians: tuple[str, ...]
    ) -> list[OwnershipCount]:
        users = {u.id: u for u in self.users()}
        by_name = {u.username.lower(): u for u in users.values()}
        unknown = [c for c in custodians if c.lower() not in by_name]
        if unknown:
            raise DataUnavailable(
                f"custodian {unknown[0]!r} is not a user of this org; name custodians by username"
            )
        custodian_ids = [by_name[c.lower()].id for c in custodians]
        queues = {q.id: q for q in self.queues()}
        out: list[OwnershipCount] = []
        for row in self._fetch_ownership(objects, custodian_ids):
            if row.object not in objects or row.count <= 0:
                continue
            user = users.get(row.owner_id) or users.get(row.owner_id[:15])
            if row.owner_id in queues or row.owner_id.startswith("00G"):
                queue = queues.get(row.owner_id)
                name = queue.name if queue else row.owner_id
                out.append(_with(row, owner=name, owner_kind="queue", reason="queue"))
            elif user is None or not user.is_active:
                out.append(
                    _with(
                        row,
                        owner=user.username if user else row.owner_id,
                        owner_active=False,
                        reason="inactive",
                    )
                )
            elif custodians and user.id not in custodian_ids:
                out.append(
                    _with(row, owner=user.username, owner_active=True, reason="non-custodian")
                )
        out.sort(key=lambda r: (r.object, -r.count, r.owner))
        return out

    def count(self, sobject: str, where: str | None = None) -> int:
        """Number of records of ``sobject`` (matching the SOQL ``where``)."""
        if where is None:
            obj = self.object(sobject)
            if obj is not None and obj.count is not None:
                return obj.count
        soql = f"SELECT COUNT() FROM {sobject}" + (f" WHERE {where}" if where else "")
        result = self.query_result(soql)
        return int(result.get("totalSize") or 0)

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Records of a read-only SOQL query, every page, ``attributes`` removed."""
        return [_strip_attributes(r) for r in (self.query_result(soql).get("records") or [])]

    def query_result(self, soql: str) -> dict[str, Any]:
        key = normalize_soql(soql)
        if not key.upper().startswith("SELECT "):
            raise ValueError("only SELECT queries are allowed: sfaudit never writes to an org")
        return self._cached(("query", key), lambda: self._fetch_query(key))

    # --- storage ------------------------------------------------------------------------

    def storage(self) -> Storage:
        """Data and file storage in use and allowed (``GET /limits/``): the size of what
        has to be exported. Raises :class:`DataUnavailable` when the source has no figures."""
        return self._cached("storage", self._fetch_storage)

    def _fetch_storage(self) -> Storage:
        """What a source implements to serve :meth:`storage`; by default it cannot."""
        raise DataUnavailable(f"the {self.source or 'org'} source does not report storage")

    # --- metadata (sfaudit.metadata) -----------------------------------------------

    def metadata(self, types: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The org's metadata components of ``types``: type → entry, as
        :func:`sfaudit.metadata.org.read_inventory` builds it (a type that cannot be
        read is an entry with an ``error``). Each type is read once per run."""
        store: dict[str, dict[str, Any]] = self._cache.setdefault(("query", METADATA_KEY), {})
        wanted = [t for t in dict.fromkeys(types) if t not in store]
        if wanted:
            try:
                store.update(self._fetch_metadata(wanted))
            except DataUnavailable as exc:
                for name in wanted:
                    store[name] = {"error": str(exc), "permission": exc.permission}
        return {t: store[t] for t in types}

    def _fetch_metadata(self, types: Sequence[str]) -> dict[str, dict[str, Any]]:
        """What a source implements to serve :meth:`metadata`; by default it cannot."""
        raise DataUnavailable(f"the {self.source or 'org'} source cannot list metadata")

    # --- loose ends: what bills, breaks or stays open after cancelling ------------------

    def loose_ends(self, section: str) -> list[Any]:
        """One section of :data:`~sfaudit.sources.model.LOOSE_ENDS` (``packages``,
        ``named_credentials``, ``sites``...), read once per run. An object the org does
        not have (its edition, a feature never enabled) is an empty section, named by
        :meth:`not_in_org`; one the API user may not read raises
        :class:`~sfaudit.errors.DataUnavailable` (``permission=True``)."""
        if section not in LOOSE_ENDS:
            raise ValueError(f"unknown section {section!r}; use one of {', '.join(LOOSE_ENDS)}")
        return list(self._cached(("loose", section), lambda: self._fetch_loose_end(section)))

    def installed_packages(self) -> list[InstalledPackage]:
        """Managed packages with their licences (namespace, version, status, seats)."""
        return self.loose_ends("packages")

    def connected_apps(self) -> list[ConnectedApp]:
        return self.loose_ends("connected_apps")

    def named_credentials(self) -> list[Endpoint]:
        return self.loose_ends("named_credentials")

    def remote_sites(self) -> list[Endpoint]:
        """Remote site settings (active and inactive; ``Endpoint.active`` tells)."""
        return self.loose_ends("remote_sites")

    def outbound_messages(self) -> list[OutboundMessage]:
        return self.loose_ends("outbound_messages")

    def inbound_addresses(self) -> list[InboundAddress]:
        """Email services addresses, Email-to-Case routing and org-wide addresses."""
        return [
            *self.loose_ends("email_services"),
            *self.loose_ends("email_to_case"),
            *self.loose_ends("org_wide_addresses"),
        ]

    def public_sites(self) -> list[PublicSite]:
        """Sites and Experience Cloud networks, live or not (``PublicSite.live``)."""
        return [*self.loose_ends("sites"), *self.loose_ends("networks")]

    def oauth_usage(self, since: dt.date) -> OAuthUsage:
        """Connected apps whose OAuth tokens were used on or after ``since``, one row
        per app (users, last use, use count). ``complete`` is False when the API user
        cannot see every user's tokens: the list is then only what it could see."""
        return self._cached(("oauth", since.isoformat()), lambda: self._fetch_oauth_usage(since))

    def not_in_org(self) -> tuple[str, ...]:
        """Objects read for :meth:`loose_ends` that this org does not have."""
        return ()

    def recorded_oauth_usage(self) -> dict[str, OAuthUsage]:
        """Every :meth:`oauth_usage` answered so far, by ``since`` (ISO date)."""
        return {
            key[1]: value
            for key, value in self._cache.items()
            if isinstance(key, tuple) and key[0] == "oauth" and isinstance(value, OAuthUsage)
        }

    def recorded_oauth_failures(self) -> dict[str, DataUnavailable]:
        """Every :meth:`oauth_usage` that could not be answered so far, by ``since``."""
        return {
            key[1]: value
            for key, value in self._cache.items()
            if isinstance(key, tuple) and key[0] == "oauth" and isinstance(value, DataUnavailable)
        }

    def _fetch_loose_end(self, section: str) -> list[Any]:
        """What a source implements to serve :meth:`loose_ends`; by default it cannot."""
        raise DataUnavailable(f"the {self.source or 'org'} source cannot read {section}")

    def _fetch_oauth_usage(self, since: dt.date) -> OAuthUsage:
        """By default, aggregated from the single tokens of ``loose_ends("oauth_tokens")``."""
        return aggregate_tokens(self.loose_ends("oauth_tokens"), since)


def aggregate_tokens(
    tokens: Iterable[OAuthToken], since: dt.date, *, complete: bool = True, note: str = ""
) -> OAuthUsage:
    """Tokens used on or after ``since``, aggregated per app (distinct users, last use,
    summed use count), apps sorted by name."""
    start = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
    apps: dict[str, tuple[set[str], dt.datetime | None, int]] = {}
    for token in tokens:
        used = token.last_used
        if used is None:
            continue
        if used.tzinfo is None:
            used = used.replace(tzinfo=dt.timezone.utc)
        if used < start:
            continue
        users, last, count = apps.get(token.app, (set(), None, 0))
        users.add(token.user_id[:15])
        apps[token.app] = (
            users,
            used if last is None or used > last else last,
            count + token.use_count,
        )
    return OAuthUsage(
        since=since,
        apps=tuple(
            AppUsage(app=name, users=len(users), last_used=last, use_count=count)
            for name, (users, last, count) in sorted(apps.items(), key=lambda kv: kv[0].lower())
        ),
        complete=complete,
        note=note,
    )


def _with(row: OwnershipCount, **changes: Any) -> OwnershipCount:
    from dataclasses import replace

    return replace(row, **changes)


def _strip_attributes(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        out[key] = _strip_attributes(value) if isinstance(value, dict) else value
    return out


__all__ = [
    "LOOSE_ENDS",
    "SYSTEM_USER_TYPES",
    "AppUsage",
    "ConnectedApp",
    "Endpoint",
    "InboundAddress",
    "InstalledPackage",
    "License",
    "OAuthToken",
    "OAuthUsage",
    "Org",
    "OrgInfo",
    "OutboundMessage",
    "OwnershipCount",
    "PublicSite",
    "Queue",
    "SObjectInfo",
    "ScheduledJob",
    "Storage",
    "User",
    "aggregate_tokens",
    "is_system_user",
    "normalize_soql",
]
