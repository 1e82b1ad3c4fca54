"""Build orgs in code: for tests, the demo, the emulator and benchmarks."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from ..sources.model import (
    LOOSE_ENDS,
    ConnectedApp,
    Endpoint,
    InboundAddress,
    InstalledPackage,
    License,
    OAuthToken,
    OrgData,
    OrgInfo,
    OutboundMessage,
    OwnershipCount,
    PublicSite,
    Queue,
    ScheduledJob,
    SObjectInfo,
    Storage,
    StorageUse,
    User,
)

_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id(prefix: str, n: int, pod: str = "5g") -> str:
    """A well-formed 18-character Salesforce Id: key prefix, pod, number, checksum."""
    base = f"{prefix}{pod}{n:0{15 - len(prefix) - len(pod)}d}"[:15]
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(base[chunk * 5 : chunk * 5 + 5]) if ch.isupper())
        suffix += _SUFFIX[bits]
    return base + suffix


class OrgBuilder:
    """Assemble an :class:`OrgData` step by step.

    >>> b = OrgBuilder(name="Acme")
    >>> admin = b.user("admin@acme.example", admin=True)
    >>> b.object("Account", 120, ownable=True).own("Account", admin, 120)
    ... # doctest: +ELLIPSIS
    <...OrgBuilder object at ...>
    """

    def __init__(
        self,
        org_id: str = "00D5g000000ACMEEA2",
        name: str = "Acme Corp",
        edition: str = "Enterprise Edition",
        *,
        is_sandbox: bool = False,
        instance: str = "EU45",
    ) -> None:
        self.info = OrgInfo(
            id=org_id, name=name, edition=edition, is_sandbox=is_sandbox, instance=instance
        )
        self._users: list[User] = []
        self._licenses: dict[str, License] = {}
        self._objects: dict[str, SObjectInfo] = {}
        self._queues: list[Queue] = []
        self._ownership: dict[tuple[str, str], int] = {}
        self._jobs: list[ScheduledJob] = []
        self._queries: dict[str, Any] = {}
        self._storage: Storage | None = None
        self._loose: dict[str, list[Any]] = {name: [] for name in LOOSE_ENDS}
        self._not_in_org: list[str] = []
        self._ids = itertools.count(1)

    def _next_id(self, prefix: str) -> str:
        return salesforce_id(prefix, next(self._ids))

    def user(
        self,
        username: str,
        *,
        name: str | None = None,
        active: bool = True,
        profile: str = "Standard User",
        license: str = "Salesforce",
        user_type: str = "Standard",
        last_login: dt.datetime | str | None = None,
        frozen: bool = False,
        admin: bool = False,
        admin_via: tuple[str, ...] | None = None,
        id: str | None = None,
    ) -> User:
        if isinstance(last_login, str):
            last_login = dt.datetime.fromisoformat(last_login.replace("Z", "+00:00"))
        if admin and admin_via is None:
            admin_via = (f"profile:{profile}",)
        user = User(
            id=id or self._next_id("005"),
            username=username,
            name=name or username.split("@")[0].replace(".", " ").title(),
            is_active=active,
            user_type=user_type,
            last_login=last_login,
            profile=profile,
            license=license,
            is_frozen=frozen,
            is_admin=admin,
            admin_via=tuple(admin_via or ()),
            email=username if "@" in username else "",
        )
        self._users.append(user)
        return user

    def license(
        self, name: str, total: int, used: int | None = None, status: str = "Active"
    ) -> OrgBuilder:
        """A user licence; ``used`` defaults to the active users holding it at build time."""
        self._licenses[name] = License(
            name=name, status=status, total=total, used=-1 if used is None else used
        )
        return self

    def object(
        self,
        name: str,
        count: int,
        *,
        ownable: bool | None = None,
        custom: bool | None = None,
        replicateable: bool = True,
        queryable: bool = True,
        queue_ownable: bool = False,
        label: str | None = None,
    ) -> OrgBuilder:
        custom = name.endswith("__c") if custom is None else custom
        self._objects[name] = SObjectInfo(
            name=name,
            label=label or name.removesuffix("__c").replace("_", " "),
            custom=custom,
            queryable=queryable,
            replicateable=replicateable,
            ownable=bool(ownable),
            queue_ownable=queue_ownable,
            count=count,
        )
        return self

    def queue(self, name: str) -> Queue:
        queue = Queue(id=self._next_id("00G"), name=name)
        self._queues.append(queue)
        return queue

    def own(self, sobject: str, owner: User | Queue | str, count: int) -> OrgBuilder:
        """``count`` records of ``sobject`` owned by ``owner`` (a user, queue, or username)."""
        if isinstance(owner, str):
            found = next((u for u in self._users if u.username == owner), None)
            if found is None:
                raise KeyError(f"no user {owner!r}; add it with .user() first")
            owner = found
        key = (sobject, owner.id)
        self._ownership[key] = self._ownership.get(key, 0) + count
        return self

    def job(
        self,
        name: str,
        job_type: str,
        *,
        state: str = "WAITING",
        next_fire: dt.datetime | None = None,
        previous_fire: dt.datetime | None = None,
        cron: str = "0 0 2 ? * SUN",
        owner: User | None = None,
    ) -> OrgBuilder:
        self._jobs.append(
            ScheduledJob(
                id=self._next_id("08e"),
                name=name,
                job_type=job_type,
                state=state,
                next_fire=next_fire,
                previous_fire=previous_fire,
                cron=cron,
                owner_id=owner.id if owner else "",
            )
        )
        return self

    def query(
        self, soql: str, total_size: int, records: list[dict[str, Any]] | None = None
    ) -> OrgBuilder:
        """Record the answer to a read query, for checks using ``org.count``/``org.query``."""
        self._queries[soql] = {"totalSize": total_size, "done": True, "records": records or []}
        return self

    def storage(
        self, *, data: tuple[int, int] | None = None, file: tuple[int, int] | None = None
    ) -> OrgBuilder:
        """Data and file storage as ``(used, allowed)`` in MB, served by ``GET /limits/``
        as ``DataStorageMB``/``FileStorageMB``; used may exceed allowed (over quota)."""
        self._storage = Storage(
            data=None if data is None else StorageUse(allowed=data[1], used=data[0]),
            file=None if file is None else StorageUse(allowed=file[1], used=file[0]),
        )
        return self

    # --- loose ends: what bills, breaks or stays open after cancelling ---------------

    def package(
        self,
        namespace: str,
        name: str,
        *,
        version: str = "1.0 (1.0.0)",
        status: str = "Active",
        seats: tuple[int, int] | None = (10, 10),
        expiration: dt.date | None = None,
    ) -> InstalledPackage:
        """A managed package and its licence; ``status=""`` installs it without a
        licence row (a free package). ``seats`` is (allowed, used); -1 allowed = site-wide."""
        package = InstalledPackage(
            namespace=namespace,
            name=name,
            version=version,
            license_status=status,
            expiration=expiration if status else None,
            seats_allowed=seats[0] if seats and status else None,
            seats_used=seats[1] if seats and status else None,
            id=self._next_id("0A3"),
        )
        self._loose["packages"].append(package)
        return package

    def connected_app(self, name: str) -> ConnectedApp:
        app = ConnectedApp(id=self._next_id("0H4"), name=name)
        self._loose["connected_apps"].append(app)
        return app

    def token(
        self,
        app: ConnectedApp | str,
        user: User,
        *,
        last_used: dt.datetime | None,
        use_count: int = 1,
    ) -> OrgBuilder:
        """An OAuth token of ``user`` for ``app`` (a connected app or an app name)."""
        self._loose["oauth_tokens"].append(
            OAuthToken(
                app=app.name if isinstance(app, ConnectedApp) else app,
                user_id=user.id,
                last_used=last_used,
                use_count=use_count,
            )
        )
        return self

    def named_credential(
        self, name: str, endpoint: str, *, principal: str = "NamedUser"
    ) -> Endpoint:
        credential = Endpoint(
            kind="named-credential",
            name=name,
            url=endpoint,
            principal=principal,
            id=self._next_id("0XA"),
        )
        self._loose["named_credentials"].append(credential)
        return credential

    def remote_site(self, name: str, url: str, *, active: bool = True) -> Endpoint:
        site = Endpoint(
            kind="remote-site", name=name, url=url, active=active, id=self._next_id("0rp")
        )
        self._loose["remote_sites"].append(site)
        return site

    def outbound_message(self, name: str, sobject: str = "Account") -> OutboundMessage:
        message = OutboundMessage(id=self._next_id("04k"), name=name, object=sobject)
        self._loose["outbound_messages"].append(message)
        return message

    def email_service(self, local_part: str, domain: str, *, active: bool = True) -> InboundAddress:
        """An email services address, ``local_part@domain`` (Salesforce generates both)."""
        address = InboundAddress(
            kind="email-service",
            address=f"{local_part}@{domain}",
            name=local_part,
            active=active,
            id=self._next_id("093"),
        )
        self._loose["email_services"].append(address)
        return address

    def email_to_case(self, address: str, name: str = "") -> InboundAddress:
        """An Email-to-Case routing address (``EmailRoutingAddress``)."""
        row = InboundAddress(
            kind="email-to-case", address=address, name=name, id=self._next_id("03r")
        )
        self._loose["email_to_case"].append(row)
        return row

    def org_wide_address(self, address: str, name: str = "") -> InboundAddress:
        row = InboundAddress(kind="org-wide", address=address, name=name, id=self._next_id("0D2"))
        self._loose["org_wide_addresses"].append(row)
        return row

    def site(
        self, name: str, *, status: str = "Active", url: str = "", guest_user: User | None = None
    ) -> PublicSite:
        """A Salesforce Site (``Status`` Active or Inactive)."""
        site = PublicSite(
            kind="site",
            id=self._next_id("0DM"),
            name=name,
            status=status,
            url=url,
            guest_user_id=guest_user.id if guest_user else "",
        )
        self._loose["sites"].append(site)
        return site

    def network(
        self, name: str, *, status: str = "Live", url: str = "", guest_user: User | None = None
    ) -> PublicSite:
        """An Experience Cloud network (``Status`` Live, DownForMaintenance or
        UnderConstruction); the emulator serves the Site behind it too."""
        network = PublicSite(
            kind="network",
            id=self._next_id("0DB"),
            name=name,
            status=status,
            url=url,
            guest_user_id=guest_user.id if guest_user else "",
        )
        self._loose["networks"].append(network)
        return network

    def not_in_org(self, *objects: str) -> OrgBuilder:
        """Objects this org does not have (``Network`` without Experience Cloud...):
        the emulator answers INVALID_TYPE for them."""
        self._not_in_org.extend(objects)
        return self

    @property
    def users(self) -> list[User]:
        return list(self._users)

    def build(self) -> OrgData:
        licenses = []
        for lic in self._licenses.values():
            used = lic.used
            if used < 0:
                used = sum(1 for u in self._users if u.is_active and u.license == lic.name)
            licenses.append(License(name=lic.name, status=lic.status, total=lic.total, used=used))
        return OrgData(
            info=self.info,
            users=list(self._users),
            licenses=licenses,
            objects=list(self._objects.values()),
            queues=list(self._queues),
            ownership=[
                OwnershipCount(object=obj, owner_id=owner, count=n)
                for (obj, owner), n in sorted(self._ownership.items())
            ],
            ownership_custodians=None,
            scheduled_jobs=list(self._jobs),
            queries=dict(self._queries),
            limits=self._storage.to_limits() if self._storage is not None else None,
            loose_ends={name: list(rows) for name, rows in self._loose.items()},
            not_in_org=tuple(self._not_in_org),
        )

    def org(self) -> Any:
        """A :class:`~sfaudit.sources.snapshot.SnapshotOrg` over the built data."""
        from ..sources.snapshot import SnapshotOrg

        return SnapshotOrg(self.build())

    def write(self, path: str | Path, *, recorded_at: dt.datetime | None = None) -> Path:
        from ..sources.snapshot import write_snapshot

        return write_snapshot(self.build(), path, source="builder", recorded_at=recorded_at)
