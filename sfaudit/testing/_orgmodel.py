"""The emulator's org model: :class:`OrgData` turned into the tables the REST API serves."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from ..sources.model import OrgData, SObjectInfo
from .builders import salesforce_id

#: Key prefixes of the standard objects sfaudit reads (Salesforce's own).
KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Lead": "00Q",
    "Case": "500",
    "User": "005",
    "Group": "00G",
    "Profile": "00e",
    "Organization": "00D",
    "PermissionSet": "0PS",
    "PermissionSetAssignment": "0Pa",
    "UserLogin": "0Yw",
    "UserLicense": "100",
    "CronTrigger": "08e",
    "CronJobDetail": "08a",
    "Task": "00T",
    "Event": "00U",
    "Attachment": "00P",
    "Document": "015",
    "ContentVersion": "068",
}


#: Standard objects every org has, served even when the org model does not declare them,
#: with their flags in a real describe global (v52, recorded in SFDO-Tooling/CumulusCI,
#: cumulusci/tests/shared_cassettes/GET_sobjects_Global_describe.yaml): Organization is
#: replicateable (yet never in a Data Export), UserLicense and UserLogin are not. (User is
#: replicateable too; declare it with ``OrgBuilder.object("User", n)`` where it matters.)
SYSTEM_OBJECTS = {
    "Organization": {"label": "Organization", "replicateable": True},
    "UserLicense": {"label": "User License", "replicateable": False},
    "UserLogin": {"label": "User Login", "replicateable": False},
}
#: describe-global flags that differ from an ordinary data object's (same recording).
_GLOBAL_FLAGS: dict[str, dict[str, Any]] = {
    "Organization": {
        "createable": False, "deletable": False, "layoutable": False, "mergeable": False,
        "mruEnabled": False, "searchable": False, "triggerable": False, "undeletable": False,
    },
    "Account": {"feedEnabled": True, "mergeable": True},
    "UserLicense": {
        "createable": False, "deletable": False, "layoutable": False, "mergeable": False,
        "mruEnabled": False, "searchable": False, "triggerable": False, "undeletable": False,
        "updateable": False,
    },
    "UserLogin": {
        "createable": False, "deletable": False, "layoutable": False, "mergeable": False,
        "mruEnabled": False, "searchable": False, "triggerable": False, "undeletable": False,
    },
}  # fmt: skip
#: Name suffixes of the objects Salesforce derives from another (``associateEntityType``),
#: and what can be done with their rows (same recording): no key prefix, no layouts.
_ASSOCIATES = (
    ("ChangeEvent", "ChangeEvent"),
    ("History", "History"),
    ("Share", "Share"),
    ("Feed", "Feed"),
)
_ASSOCIATE_DML = {
    "Share": {"createable": True, "deletable": True, "updateable": True},
    "Feed": {"createable": False, "deletable": True, "updateable": False},
    "History": {"createable": False, "deletable": False, "updateable": False},
    "ChangeEvent": {
        "createable": False,
        "deletable": False,
        "updateable": False,
        "triggerable": True,
    },
}


def sf_datetime(value: dt.datetime | dt.date | None) -> str | None:
    """A datetime the way the REST API writes it: ``2026-11-20T10:00:00.000+0000``."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _rec(sobject: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": sobject}, **fields}


class OrgModel:
    """Tables of records (parents nested as dicts), virtual record counts, and describes.

    Objects from :attr:`OrgData.objects` that have no table of their own are served
    from the ownership counts as *weighted* rows (``{"OwnerId": ..., "_weight": n}``):
    aggregate queries see millions of records without holding them.
    """

    def __init__(
        self, data: OrgData, records: Mapping[str, Iterable[dict[str, Any]]] | None = None
    ) -> None:
        self.data = data
        self._ids = itertools.count(1)
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.objects: dict[str, SObjectInfo] = {o.name.lower(): o for o in data.objects or []}
        self._build()
        if data.objects is not None:
            for name, flags in SYSTEM_OBJECTS.items():
                self.objects.setdefault(
                    name.lower(),
                    SObjectInfo(
                        name=name,
                        label=str(flags["label"]),
                        replicateable=bool(flags["replicateable"]),
                        count=len(self.tables.get(name.lower()) or []),
                    ),
                )
        for name, rows in (records or {}).items():
            self.tables[name.lower()] = [
                _rec(name, **row) if "attributes" not in row else row for row in rows
            ]
        self.recorded = {" ".join(k.split()).lower(): v for k, v in data.queries.items()}
        self.tooling, metadata_rows = metadata_tables(data, self.tables.get("profile") or [])
        """The Tooling API's tables (``/tooling/query``), keyed by lower-case name."""
        for name, rows in metadata_rows.items():
            self.tables.setdefault(name, []).extend(rows)
        loose_data, loose_tooling = loose_end_tables(data)
        for name, rows in loose_data.items():
            self.tables.setdefault(name, rows)
        for name, rows in loose_tooling.items():
            self.tooling.setdefault(name, rows)
        self.not_in_org = {n.lower() for n in data.not_in_org}
        """Objects this org lacks: queries of them answer INVALID_TYPE."""
        for name in self.not_in_org:
            self.tables.pop(name, None)
            self.tooling.pop(name, None)

    def _id(self, sobject: str) -> str:
        return salesforce_id(KEY_PREFIXES.get(sobject, "a0X"), next(self._ids), pod="9z")

    def _build(self) -> None:
        data = self.data
        info = data.info
        self.tables["organization"] = [
            _rec(
                "Organization",
                Id=info.id,
                Name=info.name,
                OrganizationType=info.edition,
                IsSandbox=info.is_sandbox,
                TrialExpirationDate=sf_datetime(info.trial_expiration),
                InstanceName=info.instance,
                CreatedDate=sf_datetime(
                    dt.datetime.combine(info.created_date, dt.time(), dt.timezone.utc)
                    if info.created_date
                    else None
                ),
            )
        ]
        licenses = {lic.name: lic for lic in data.licenses or []}
        license_rows: dict[str, dict[str, Any]] = {}
        for lic in licenses.values():
            license_rows[lic.name] = _rec(
                "UserLicense",
                Id=self._id("UserLicense"),
                Name=lic.name,
                MasterLabel=lic.name,
                Status=lic.status,
                TotalLicenses=lic.total,
                UsedLicenses=lic.used,
            )
        profiles: dict[tuple[str, str], dict[str, Any]] = {}
        permsets: dict[tuple[str, str, bool], dict[str, Any]] = {}
        users, logins, assignments = [], [], []
        for user in data.users or []:
            key = (user.profile, user.license)
            if key not in profiles:
                lic_row = license_rows.get(user.license) or _rec(
                    "UserLicense", Id=self._id("UserLicense"), Name=user.license or None
                )
                profiles[key] = _rec(
                    "Profile",
                    Id=self._id("Profile"),
                    Name=user.profile or None,
                    UserLicense=lic_row,
                )
            profile = profiles[key]
            users.append(
                _rec(
                    "User",
                    Id=user.id,
                    Username=user.username,
                    Name=user.name,
                    Email=user.email or None,
                    IsActive=user.is_active,
                    UserType=user.user_type,
                    LastLoginDate=sf_datetime(user.last_login),
                    ProfileId=profile["Id"],
                    Profile=profile,
                )
            )
            logins.append(
                _rec("UserLogin", Id=self._id("UserLogin"), UserId=user.id, IsFrozen=user.is_frozen)
            )
            admin_grants = list(user.admin_via) if user.is_admin else []
            if user.is_admin and not admin_grants:
                admin_grants = [f"profile:{user.profile}"]
            profile_grant = f"profile:{user.profile}"
            grants = [(profile_grant, profile_grant in admin_grants)]
            grants += [(g, True) for g in admin_grants if g != profile_grant]
            for grant, modify_all in grants:
                kind, _, name = grant.partition(":")
                if not name:
                    kind, name = "permset", grant
                ps_key = (kind, name, modify_all)
                if ps_key not in permsets:
                    owned = kind == "profile"
                    permsets[ps_key] = _rec(
                        "PermissionSet",
                        Id=self._id("PermissionSet"),
                        Name=f"X00e{len(permsets):011d}" if owned else name,
                        IsOwnedByProfile=owned,
                        PermissionsModifyAllData=modify_all,
                        Profile=_rec("Profile", Name=name) if owned else None,
                    )
                ps = permsets[ps_key]
                assignments.append(
                    _rec(
                        "PermissionSetAssignment",
                        Id=self._id("PermissionSetAssignment"),
                        AssigneeId=user.id,
                        Assignee=_rec("User", Id=user.id, Username=user.username),
                        PermissionSetId=ps["Id"],
                        PermissionSet=ps,
                    )
                )
        self.tables["user"] = users
        self.tables["userlogin"] = logins
        self.tables["permissionsetassignment"] = assignments
        self.tables["permissionset"] = list(permsets.values())
        self.tables["profile"] = list(profiles.values())
        self.tables["userlicense"] = list(license_rows.values())
        groups = [
            _rec(
                "Group", Id=q.id, Name=q.name, DeveloperName=q.name.replace(" ", "_"), Type="Queue"
            )
            for q in data.queues or []
        ]
        groups.append(
            _rec(
                "Group",
                Id=self._id("Group"),
                Name="All Internal Users",
                DeveloperName="AllInternalUsers",
                Type="Organization",
            )
        )
        self.tables["group"] = groups
        self.tables["crontrigger"] = [
            _rec(
                "CronTrigger",
                Id=job.id,
                CronJobDetailId=(detail_id := self._id("CronJobDetail")),
                CronJobDetail=_rec(
                    "CronJobDetail", Id=detail_id, Name=job.name, JobType=job.job_type
                ),
                State=job.state,
                NextFireTime=sf_datetime(job.next_fire),
                PreviousFireTime=sf_datetime(job.previous_fire),
                CronExpression=job.cron,
                OwnerId=job.owner_id or None,
            )
            for job in data.scheduled_jobs or []
        ]
        weighted: dict[str, list[dict[str, Any]]] = {}
        for row in data.ownership or []:
            weighted.setdefault(row.object.lower(), []).append(
                _rec(row.object, OwnerId=row.owner_id, _weight=row.count)
            )
        for name, rows in weighted.items():
            self.tables.setdefault(name, rows)

    # --- what the server asks -----------------------------------------------------

    def table(self, sobject: str) -> list[dict[str, Any]] | None:
        rows = self.tables.get(sobject.lower())
        if rows is None and sobject.lower() in self.objects:
            return []
        return rows

    def declared_count(self, sobject: str) -> int | None:
        obj = self.objects.get(sobject.lower())
        return obj.count if obj else None

    def canonical_name(self, sobject: str) -> str:
        obj = self.objects.get(sobject.lower())
        if obj:
            return obj.name
        rows = self.tables.get(sobject.lower())
        if rows:
            return str(rows[0]["attributes"]["type"])
        return next((k for k in KEY_PREFIXES if k.lower() == sobject.lower()), sobject)

    def describe_global(self, url_base: str) -> dict[str, Any]:
        """``GET /sobjects``: every object with the keys a real describe global has."""
        sobjects = [
            self._global_entry(obj, i, url_base) for i, obj in enumerate(self.objects.values())
        ]
        return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}

    def _global_entry(self, obj: SObjectInfo, i: int, url_base: str) -> dict[str, Any]:
        associate = next(
            (
                (kind, obj.name[: -len(suffix)])
                for suffix, kind in _ASSOCIATES
                if obj.name.endswith(suffix) and len(obj.name) > len(suffix)
            ),
            None,
        )
        derived = associate is not None
        if derived:
            prefix = None
        elif obj.name in KEY_PREFIXES:
            prefix = KEY_PREFIXES[obj.name]
        else:
            prefix = f"a{i // 36:01X}{i % 36:01X}"[:3]
        entry: dict[str, Any] = {
            "activateable": False,
            "associateEntityType": associate[0] if associate else None,
            "associateParentEntity": associate[1] if associate else None,
            "createable": not derived,
            "custom": obj.custom,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": not derived,
            "deprecatedAndHidden": False,
            "feedEnabled": False,
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": prefix,
            "label": obj.label or obj.name,
            "labelPlural": obj.label or obj.name,
            "layoutable": not derived,
            "mergeable": False,
            "mruEnabled": not derived,
            "name": obj.name,
            "queryable": obj.queryable,
            "replicateable": obj.replicateable,
            "retrieveable": True,
            "searchable": not derived,
            "triggerable": not derived,
            "undeletable": not derived,
            "updateable": not derived,
            "urls": {
                "rowTemplate": f"{url_base}/sobjects/{obj.name}/{{ID}}",
                "describe": f"{url_base}/sobjects/{obj.name}/describe",
                "sobject": f"{url_base}/sobjects/{obj.name}",
            },
        }
        if associate is not None:
            entry.update(_ASSOCIATE_DML[associate[0]])
        entry.update(_GLOBAL_FLAGS.get(obj.name, {}))
        return entry

    def describe(self, sobject: str, url_base: str) -> dict[str, Any] | None:
        obj = self.objects.get(sobject.lower())
        rows = self.tables.get(sobject.lower())
        if obj is None and rows is None:
            return None
        name = obj.name if obj else self.canonical_name(sobject)
        fields: list[dict[str, Any]] = [_field("Id", "id"), _field("Name", "string")]
        if obj is not None and obj.ownable:
            owner = _field("OwnerId", "reference")
            owner["referenceTo"] = ["Group", "User"] if obj.queue_ownable else ["User"]
            owner["relationshipName"] = "Owner"
            owner["polymorphicForeignKey"] = obj.queue_ownable
            fields.append(owner)
        elif obj is None and rows:
            fields += [
                _field(k, "string") for k in rows[0] if k not in ("attributes", "Id", "Name")
            ]
        fields.append(_field("CreatedDate", "datetime"))
        return {
            "name": name,
            "label": (obj.label if obj else name) or name,
            "custom": bool(obj and obj.custom),
            "queryable": obj.queryable if obj else True,
            "replicateable": obj.replicateable if obj else True,
            "createable": True,
            "keyPrefix": KEY_PREFIXES.get(name),
            "fields": fields,
            "childRelationships": [],
            "recordTypeInfos": [],
            "urls": {"sobject": f"{url_base}/sobjects/{name}"},
        }


def _field(name: str, type_: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": name,
        "type": type_,
        "nillable": name != "Id",
        "referenceTo": [],
        "relationshipName": None,
        "custom": name.endswith("__c"),
        "filterable": True,
        "groupable": type_ not in ("datetime",),
    }


# --- metadata: the Tooling API's tables and the data API's metadata objects -----------

#: The Tooling object each metadata type is listed from, where it is not the type's name.
_TOOLING_OBJECT = {"Flow": "FlowDefinition"}
_DATA_TYPES = ("PermissionSet", "Profile", "EmailTemplate", "Report", "Dashboard")
_METADATA_PREFIXES = {
    "ApexClass": "01p", "ApexTrigger": "01q", "ApexPage": "066", "ApexComponent": "099",
    "FlowDefinition": "300", "CustomObject": "01I", "CustomField": "00N",
    "ValidationRule": "03d", "Layout": "00h", "LightningComponentBundle": "0Rb",
    "AuraDefinitionBundle": "0Ab", "StaticResource": "081", "PermissionSet": "0PS",
    "Profile": "00e", "EmailTemplate": "00X", "Report": "00O", "Dashboard": "01Z",
    "Folder": "00l",
}  # fmt: skip


def _bare(name: str, namespace: str | None, suffix: str = "") -> str:
    """A component's name without its namespace prefix and ``suffix``."""
    if namespace and name.startswith(f"{namespace}__"):
        name = name[len(namespace) + 2 :]
    if suffix and name.endswith(suffix):
        name = name[: -len(suffix)]
    return name


def metadata_tables(
    data: OrgData, data_profiles: Iterable[dict[str, Any]] = ()
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """The rows the Tooling API (first) and the data API (second) serve for the
    metadata inventory in ``data.metadata``, keyed by lower-case object name."""
    from urllib.parse import unquote

    from ..metadata.types import STANDARD_PROFILES

    counter = itertools.count(1)
    tooling: dict[str, list[dict[str, Any]]] = {}
    datatables: dict[str, list[dict[str, Any]]] = {}
    inventory = data.metadata or {}

    def new_id(sobject: str) -> str:
        return salesforce_id(_METADATA_PREFIXES.get(sobject, "a0M"), next(counter), pod="9m")

    def add(tables: dict[str, list[dict[str, Any]]], sobject: str, **fields: Any) -> str:
        row = _rec(sobject, Id=new_id(sobject), **fields)
        tables.setdefault(sobject.lower(), []).append(row)
        return str(row["Id"])

    def components(type_name: str) -> list[dict[str, Any]]:
        entry = inventory.get(type_name) or {}
        return list(entry.get("components") or [])

    objects: dict[str, str] = {}

    def object_ref(name: str) -> str:
        if "__" not in name:
            return name  # a standard object: named as is
        if name not in objects:
            ns = name.split("__")[0] if name.count("__") > 1 else None
            objects[name] = add(
                tooling, "CustomObject", DeveloperName=_bare(name, ns, "__c"), NamespacePrefix=ns
            )
        return objects[name]

    for c in components("CustomObject"):
        ns = c.get("namespace")
        objects[c["fullName"]] = add(
            tooling,
            "CustomObject",
            DeveloperName=_bare(c["fullName"], ns, "__c"),
            NamespacePrefix=ns,
        )
    tooling.setdefault("customobject", [])
    for type_name in ("ApexClass", "ApexTrigger", "ApexPage", "ApexComponent", "StaticResource"):
        tooling.setdefault(type_name.lower(), [])
        for c in components(type_name):
            ns = c.get("namespace")
            add(tooling, type_name, Name=_bare(c["fullName"], ns), NamespacePrefix=ns)
    for type_name in ("Flow", "LightningComponentBundle", "AuraDefinitionBundle"):
        sobject = _TOOLING_OBJECT.get(type_name, type_name)
        tooling.setdefault(sobject.lower(), [])
        for c in components(type_name):
            ns = c.get("namespace")
            add(tooling, sobject, DeveloperName=_bare(c["fullName"], ns), NamespacePrefix=ns)
    tooling.setdefault("customfield", [])
    for c in components("CustomField"):
        ns = c.get("namespace")
        obj, _, name = c["fullName"].rpartition(".")
        add(
            tooling,
            "CustomField",
            DeveloperName=_bare(name, ns, "__c"),
            NamespacePrefix=ns,
            TableEnumOrId=object_ref(obj),
        )
    tooling.setdefault("validationrule", [])
    for c in components("ValidationRule"):
        obj, _, name = c["fullName"].rpartition(".")
        add(
            tooling,
            "ValidationRule",
            ValidationName=name,
            EntityDefinitionId=object_ref(obj),
            NamespacePrefix=c.get("namespace"),
        )
    tooling.setdefault("layout", [])
    for c in components("Layout"):
        ns = c.get("namespace")
        obj, _, name = c["fullName"].partition("-")
        add(
            tooling,
            "Layout",
            Name=_bare(name, ns),
            TableEnumOrId=object_ref(obj),
            NamespacePrefix=ns,
        )
    for c in components("PermissionSet"):
        ns = c.get("namespace")
        add(
            datatables,
            "PermissionSet",
            Name=_bare(c["fullName"], ns),
            IsOwnedByProfile=False,
            NamespacePrefix=ns,
            PermissionsModifyAllData=False,
        )
    renamed = {v: k for k, v in STANDARD_PROFILES.items()}
    have = {str(r.get("Name")) for r in data_profiles}
    for c in components("Profile"):
        name = renamed.get(c["fullName"], unquote(c["fullName"]))
        if name not in have:  # the users' profiles are served already
            add(datatables, "Profile", Name=name)
    folders: dict[tuple[str, str], str] = {}
    folder_types = {"EmailTemplate": "Email", "Report": "Report", "Dashboard": "Dashboard"}
    for type_name, folder_type in folder_types.items():
        datatables.setdefault(type_name.lower(), [])
        for c in components(type_name):
            ns = c.get("namespace")
            folder, _, name = c["fullName"].rpartition("/")
            if folder == "unfiled$public":
                folder_id = data.info.id
            else:
                if (folder_type, folder) not in folders:
                    folders[(folder_type, folder)] = add(
                        datatables,
                        "Folder",
                        DeveloperName=folder.rsplit("/", 1)[-1],
                        Name=folder.replace("_", " "),
                        Type=folder_type,
                        NamespacePrefix=None,
                    )
                folder_id = folders[(folder_type, folder)]
            where = {"OwnerId": folder_id} if type_name == "Report" else {"FolderId": folder_id}
            add(
                datatables,
                type_name,
                DeveloperName=_bare(name, ns),
                NamespacePrefix=ns,
                FolderName=folder.replace("_", " "),
                **where,
            )
    datatables.setdefault("folder", [])
    return tooling, datatables


# --- loose ends: packages, integrations, inbound mail, sites ----------------------------

_LOOSE_PREFIXES = {
    "InstalledSubscriberPackage": "0A3", "SubscriberPackage": "033",
    "SubscriberPackageVersion": "04t", "PackageLicense": "050", "ConnectedApplication": "0H4",
    "OauthToken": "0CQ", "NamedCredential": "0XA", "RemoteProxy": "0rp",
    "WorkflowOutboundMessage": "04k", "EmailServicesAddress": "093",
    "EmailServicesFunction": "091", "EmailRoutingAddress": "03r", "OrgWideEmailAddress": "0D2",
    "Site": "0DM", "Network": "0DB",
}  # fmt: skip


def loose_end_tables(
    data: OrgData,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """The data API's (first) and the Tooling API's (second) rows for ``data.loose_ends``,
    with Salesforce's field names. A section the data does not hold is not served."""
    import re

    loose = data.loose_ends
    if loose is None:
        return {}, {}
    counter = itertools.count(1)

    def new_id(sobject: str) -> str:
        return salesforce_id(_LOOSE_PREFIXES.get(sobject, "a0L"), next(counter), pod="9L")

    tables: dict[str, list[dict[str, Any]]] = {}
    tooling: dict[str, list[dict[str, Any]]] = {}

    def add(into: dict[str, list[dict[str, Any]]], sobject: str, **fields: Any) -> dict[str, Any]:
        row = _rec(sobject, Id=fields.pop("Id", None) or new_id(sobject), **fields)
        into.setdefault(sobject.lower(), []).append(row)
        return row

    for sobject in ("PackageLicense",):
        tables.setdefault(sobject.lower(), [])
    tooling["installedsubscriberpackage"] = []
    for pkg in loose.get("packages") or []:
        found = re.fullmatch(r"(.*?)\s*\((\d+(?:\.\d+)*)\)", pkg.version)
        name, number = (found.group(1), found.group(2)) if found else (pkg.version, "")
        parts = [int(n) for n in number.split(".")] if number else []
        parts += [0] * (3 - len(parts))
        package_id = new_id("SubscriberPackage")
        version_id = new_id("SubscriberPackageVersion")
        add(
            tooling,
            "InstalledSubscriberPackage",
            Id=pkg.id or None,
            SubscriberPackageId=package_id,
            SubscriberPackage=_rec(
                "SubscriberPackage", NamespacePrefix=pkg.namespace, Name=pkg.name
            ),
            SubscriberPackageVersionId=version_id,
            SubscriberPackageVersion=_rec(
                "SubscriberPackageVersion",
                Name=name or number,
                MajorVersion=parts[0],
                MinorVersion=parts[1],
                PatchVersion=parts[2],
                BuildNumber=1,
            ),
        )
        if pkg.license_status:
            add(
                tables,
                "PackageLicense",
                NamespacePrefix=pkg.namespace,
                Status=pkg.license_status,
                AllowedLicenses=pkg.seats_allowed,
                UsedLicenses=pkg.seats_used,
                ExpirationDate=sf_datetime(
                    dt.datetime.combine(pkg.expiration, dt.time(), dt.timezone.utc)
                    if pkg.expiration
                    else None
                ),
                IsProvisioned=True,
            )
    tables["connectedapplication"] = []
    for app in loose.get("connected_apps") or []:
        add(tables, "ConnectedApplication", Id=app.id or None, Name=app.name)
    tables["oauthtoken"] = []
    for token in loose.get("oauth_tokens") or []:
        add(
            tables,
            "OauthToken",
            AppName=token.app,
            UserId=token.user_id,
            LastUsedDate=sf_datetime(token.last_used),
            UseCount=token.use_count,
            DeleteToken=None,
        )
    tables["namedcredential"] = []
    for cred in loose.get("named_credentials") or []:
        add(
            tables,
            "NamedCredential",
            Id=cred.id or None,
            DeveloperName=cred.name,
            MasterLabel=cred.name.replace("_", " "),
            Endpoint=cred.url,
            PrincipalType=cred.principal or "NamedUser",
        )
    tooling["remoteproxy"] = []
    for site in loose.get("remote_sites") or []:
        add(
            tooling,
            "RemoteProxy",
            Id=site.id or None,
            SiteName=site.name,
            EndpointUrl=site.url,
            IsActive=site.active,
        )
    tooling["workflowoutboundmessage"] = []
    for message in loose.get("outbound_messages") or []:
        add(
            tooling,
            "WorkflowOutboundMessage",
            Id=message.id or None,
            Name=message.name,
            EntityDefinitionId=message.object,
        )
    tables["emailservicesaddress"] = []
    for address in loose.get("email_services") or []:
        local, _, domain = address.address.partition("@")
        add(
            tables,
            "EmailServicesAddress",
            Id=address.id or None,
            LocalPart=local,
            EmailDomainName=domain,
            IsActive=address.active,
            FunctionId=new_id("EmailServicesFunction"),
        )
    for key, sobject in (
        ("email_to_case", "EmailRoutingAddress"),
        ("org_wide_addresses", "OrgWideEmailAddress"),
    ):
        tables[sobject.lower()] = []
        for address in loose.get(key) or []:
            add(
                tables,
                sobject,
                Id=address.id or None,
                Address=address.address,
                DisplayName=address.name or None,
            )
    tables["site"], tables["sitedetail"], tables["network"] = [], [], []
    for site in [*(loose.get("sites") or []), *(loose.get("networks") or [])]:
        network = site.kind == "network"
        prefix = site.url.rstrip("/").rsplit("/", 1)[-1] if site.url else ""
        if network:
            add(tables, "Network", Id=site.id or None, Name=site.name, Status=site.status,
                UrlPathPrefix=prefix or None)  # fmt: skip
        row = add(
            tables,
            "Site",
            Id=None if network else site.id or None,
            Name=site.name.replace(" ", "_"),
            MasterLabel=site.name,
            Status=("Active" if site.live else "Inactive") if network else site.status,
            SiteType="ChatterNetwork" if network else "Visualforce",
            Subdomain=None,
            UrlPathPrefix=prefix or None,
            GuestUserId=site.guest_user_id or None,
        )
        if site.url:
            add(tables, "SiteDetail", Id=None, DurableId=row["Id"], SecureUrl=site.url)
    return tables, tooling
