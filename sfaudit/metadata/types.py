"""The metadata types sfaudit covers: where a backup keeps each, and how the org lists it.

Directory names and suffixes are an extract of Salesforce's own registry,
forcedotcom/source-deploy-retrieve ``src/registry/metadataRegistry.json``
(Copyright Salesforce, Inc., Apache License 2.0), for the types below only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["file", "bundle", "folder", "object", "child"]
Api = Literal["tooling", "data"]

VIEW_SETUP = "'View Setup and Configuration'"


@dataclass(frozen=True)
class TypeInfo:
    """One metadata type.

    :param directory: its folder in a backup (``classes``); a child type's folder
        inside its object's folder in source format (``fields``).
    :param suffix: the file suffix (``cls``); source format adds ``-meta.xml``.
    :param kind: ``file`` (one file per component), ``bundle`` (a folder per
        component), ``folder`` (components inside folders, fullName
        ``Folder/Name``), ``object`` (CustomObject) or ``child`` (inside an object:
        fullName ``Object.Name``; MDAPI keeps it as ``<xml_tag>`` in ``X.object``).
    :param api: where the org lists it: the Tooling API or the data API.
    :param soql: the one query that lists it (never ``FullName`` or ``Metadata``).
    :param grant: the permission the API user needs to read it.
    """

    name: str
    directory: str
    suffix: str
    kind: Kind
    api: Api
    soql: str
    grant: str = VIEW_SETUP
    xml_tag: str = ""
    folder_suffix: str = ""


def _tooling(name: str, directory: str, suffix: str, soql: str, kind: Kind = "file") -> TypeInfo:
    return TypeInfo(name, directory, suffix, kind, "tooling", soql)


TYPES: dict[str, TypeInfo] = {
    t.name: t
    for t in (
        _tooling("ApexClass", "classes", "cls", "SELECT Id, Name, NamespacePrefix FROM ApexClass"),
        _tooling(
            "ApexTrigger",
            "triggers",
            "trigger",
            "SELECT Id, Name, NamespacePrefix, TableEnumOrId FROM ApexTrigger",
        ),
        _tooling("ApexPage", "pages", "page", "SELECT Id, Name, NamespacePrefix FROM ApexPage"),
        _tooling(
            "ApexComponent",
            "components",
            "component",
            "SELECT Id, Name, NamespacePrefix FROM ApexComponent",
        ),
        _tooling(
            "Flow",
            "flows",
            "flow",
            "SELECT Id, DeveloperName, NamespacePrefix, ActiveVersionId, LatestVersionId "
            "FROM FlowDefinition",
        ),
        _tooling(
            "CustomObject",
            "objects",
            "object",
            "SELECT Id, DeveloperName, NamespacePrefix FROM CustomObject",
            "object",
        ),
        TypeInfo(
            "CustomField",
            "fields",
            "field",
            "child",
            "tooling",
            "SELECT Id, DeveloperName, NamespacePrefix, TableEnumOrId FROM CustomField",
            xml_tag="fields",
        ),
        TypeInfo(
            "ValidationRule",
            "validationRules",
            "validationRule",
            "child",
            "tooling",
            "SELECT Id, ValidationName, EntityDefinitionId, NamespacePrefix FROM ValidationRule",
            xml_tag="validationRules",
        ),
        _tooling(
            "Layout",
            "layouts",
            "layout",
            "SELECT Id, Name, TableEnumOrId, NamespacePrefix FROM Layout",
        ),
        _tooling(
            "LightningComponentBundle",
            "lwc",
            "",
            "SELECT Id, DeveloperName, NamespacePrefix FROM LightningComponentBundle",
            "bundle",
        ),
        _tooling(
            "AuraDefinitionBundle",
            "aura",
            "",
            "SELECT Id, DeveloperName, NamespacePrefix FROM AuraDefinitionBundle",
            "bundle",
        ),
        _tooling(
            "StaticResource",
            "staticresources",
            "resource",
            "SELECT Id, Name, NamespacePrefix FROM StaticResource",
        ),
        TypeInfo(
            "PermissionSet",
            "permissionsets",
            "permissionset",
            "file",
            "data",
            "SELECT Id, Name, IsOwnedByProfile, NamespacePrefix FROM PermissionSet",
        ),
        TypeInfo("Profile", "profiles", "profile", "file", "data", "SELECT Id, Name FROM Profile"),
        TypeInfo(
            "EmailTemplate",
            "email",
            "email",
            "folder",
            "data",
            "SELECT Id, DeveloperName, NamespacePrefix, FolderId, FolderName FROM EmailTemplate",
            folder_suffix="emailFolder",
        ),
        TypeInfo(
            "Report",
            "reports",
            "report",
            "folder",
            "data",
            "SELECT Id, DeveloperName, NamespacePrefix, OwnerId, FolderName FROM Report",
            grant="'View Reports in Public Folders' (and 'View Setup and Configuration')",
            folder_suffix="reportFolder",
        ),
        TypeInfo(
            "Dashboard",
            "dashboards",
            "dashboard",
            "folder",
            "data",
            "SELECT Id, DeveloperName, NamespacePrefix, FolderId, FolderName FROM Dashboard",
            grant="'View Dashboards in Public Folders' (and 'View Setup and Configuration')",
            folder_suffix="dashboardFolder",
        ),
    )
}

#: The ``types`` option's default: every type above.
DEFAULT_TYPES: tuple[str, ...] = tuple(TYPES)
#: Folder names in a backup, to their type (child types live inside ``objects``).
BY_DIRECTORY = {t.directory: t for t in TYPES.values() if t.kind != "child"}
#: The folders that report, dashboard and e-mail template components live in.
FOLDER_SOQL = "SELECT Id, DeveloperName, NamespacePrefix, Type FROM Folder"
#: Types whose Tooling rows name their object by CustomObject Id.
NEEDS_OBJECTS = frozenset({"CustomField", "ValidationRule", "Layout"})

#: Profiles whose Metadata API names differ from ``Profile.Name``.
STANDARD_PROFILES = {
    "System Administrator": "Admin",
    "Standard User": "Standard",
    "Read Only": "ReadOnly",
    "Marketing User": "MarketingProfile",
    "Contract Manager": "ContractManager",
    "Solution Manager": "SolutionManager",
}


def is_standard_name(type_name: str, full_name: str) -> bool:
    """A standard object or field (``Account``, ``Account.Name``): in a backup for its
    custom children or as retrieved with them, never an "extra" the org lacks."""
    if type_name == "CustomObject":
        return "__" not in full_name
    if type_name == "CustomField":
        return "__" not in full_name.rsplit(".", 1)[-1]
    return False
