"""The org's inventory of metadata components, built from Tooling and data API rows.

Each type is one query (see :data:`~sfaudit.metadata.types.TYPES`); the rows become
fullNames exactly as package.xml and the backup's files name them: ``Account.Score__c``
for a field, ``Invoice__c`` for an object, ``Folder/Report_Name`` for a report, with the
namespace prefix where there is one. A type whose query fails is an entry with an
``error``: reported, never dropped.

An inventory is plain JSON (type → entry), the form snapshots record::

    {"ApexClass": {"components": [{"fullName": "acme__Util", "namespace": "acme"}],
                   "pages": 1},
     "Report": {"error": "the API user cannot read Report ...", "permission": true}}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ..errors import DataUnavailable
from .types import FOLDER_SOQL, NEEDS_OBJECTS, STANDARD_PROFILES, TYPES, Api

#: Runs queries: ``[(api, soql)]`` → soql → ``{"records": [...], "pages": n}`` or the
#: :class:`DataUnavailable` its failure means.
Fetch = Callable[[Sequence[tuple[Api, str]]], Mapping[str, "dict[str, Any] | DataUnavailable"]]
Entry = dict[str, Any]


def queries_for(types: Iterable[str]) -> list[tuple[Api, str]]:
    """The queries that list ``types``: one per type, plus CustomObject for the types
    that name their object by Id, and Folder for the folder types."""
    wanted = [TYPES[t] for t in types if t in TYPES]
    out: list[tuple[Api, str]] = [(t.api, t.soql) for t in wanted]
    if any(t.name in NEEDS_OBJECTS for t in wanted) and "CustomObject" not in {
        t.name for t in wanted
    }:
        obj = TYPES["CustomObject"]
        out.append((obj.api, obj.soql))
    if any(t.kind == "folder" for t in wanted):
        out.append(("data", FOLDER_SOQL))
    return out


def read_inventory(fetch: Fetch, types: Sequence[str]) -> dict[str, Entry]:
    """The org's components of ``types``, one entry per type (see the module doc)."""
    answers = fetch(queries_for(types))
    objects = _object_names(answers.get(TYPES["CustomObject"].soql))
    folders = _folder_names(answers.get(FOLDER_SOQL))
    out: dict[str, Entry] = {}
    for name in types:
        info = TYPES.get(name)
        if info is None:
            out[name] = {"error": f"sfaudit cannot list {name} components", "permission": False}
            continue
        answer = answers.get(info.soql)
        if answer is None:
            out[name] = {"error": f"the query for {name} was not answered", "permission": False}
            continue
        if isinstance(answer, DataUnavailable):
            out[name] = _error(name, answer, info.grant)
            continue
        try:
            components = list(_components(name, answer.get("records") or [], objects, folders))
        except DataUnavailable as exc:
            out[name] = _error(name, exc, info.grant)
            continue
        unique = {str(c["fullName"]).lower(): c for c in components}
        components = sorted(unique.values(), key=lambda c: str(c["fullName"]).lower())
        out[name] = {"components": components, "pages": int(answer.get("pages") or 1)}
    return out


def _error(name: str, exc: DataUnavailable, grant: str) -> Entry:
    message = str(exc)
    if exc.permission and grant not in message:
        message += f"; to list {name} components, grant the API user {grant}"
    return {"error": message, "permission": bool(exc.permission), "grant": grant}


def _with_ns(name: str, namespace: str | None) -> str:
    return f"{namespace}__{name}" if namespace and not name.startswith(f"{namespace}__") else name


def _object_names(
    answer: dict[str, Any] | DataUnavailable | None,
) -> dict[str, str] | DataUnavailable:
    """CustomObject Id (15 and 18 characters) → the object's API name."""
    if answer is None:
        return {}
    if isinstance(answer, DataUnavailable):
        return answer
    out: dict[str, str] = {}
    for row in answer.get("records") or []:
        full = _with_ns(f"{row.get('DeveloperName')}__c", row.get("NamespacePrefix"))
        ident = str(row.get("Id") or "")
        out[ident] = out[ident[:15]] = full
    return out


def _folder_names(answer: dict[str, Any] | DataUnavailable | None) -> dict[str, str]:
    """Folder Id (15 and 18 characters) → the folder's DeveloperName."""
    if answer is None or isinstance(answer, DataUnavailable):
        return {}
    out: dict[str, str] = {}
    for row in answer.get("records") or []:
        name = _with_ns(str(row.get("DeveloperName") or ""), row.get("NamespacePrefix"))
        ident = str(row.get("Id") or "")
        out[ident] = out[ident[:15]] = name
    return out


def profile_full_name(name: str) -> str:
    """A profile's Metadata API name: ``Admin`` for System Administrator and the other
    standard renames; a custom name URL-encoded (``Custom%3A Sales Rep``)."""
    if name in STANDARD_PROFILES:
        return STANDARD_PROFILES[name]
    return quote(name, safe=" _-").replace(".", "%2E")


def _object_of(value: Any, objects: dict[str, str] | DataUnavailable, type_name: str) -> str:
    """The API name of the object a row names: a standard object's name as is, a
    custom object's Id through the CustomObject inventory."""
    text = str(value or "")
    if not text.startswith("01I"):
        return text
    if isinstance(objects, DataUnavailable):
        raise DataUnavailable(
            f"{type_name} names custom objects by Id, and CustomObject cannot be read: {objects}",
            permission=objects.permission,
        )
    found = objects.get(text) or objects.get(text[:15])
    if found is None:
        raise DataUnavailable(f"{type_name} names the custom object {text}, which is not listed")
    return found


def _components(
    type_name: str,
    rows: Iterable[dict[str, Any]],
    objects: dict[str, str] | DataUnavailable,
    folders: dict[str, str],
) -> Iterable[Entry]:
    for row in rows:
        ns = row.get("NamespacePrefix") or None
        if type_name in ("ApexClass", "ApexTrigger", "ApexPage", "ApexComponent", "StaticResource"):
            full = _with_ns(str(row.get("Name")), ns)
        elif type_name in ("Flow", "LightningComponentBundle", "AuraDefinitionBundle"):
            full = _with_ns(str(row.get("DeveloperName")), ns)
        elif type_name == "CustomObject":
            full = _with_ns(f"{row.get('DeveloperName')}__c", ns)
        elif type_name == "CustomField":
            obj = _object_of(row.get("TableEnumOrId"), objects, type_name)
            full = f"{obj}.{_with_ns(str(row.get('DeveloperName')) + '__c', ns)}"
        elif type_name == "ValidationRule":
            obj = _object_of(row.get("EntityDefinitionId"), objects, type_name)
            full = f"{obj}.{row.get('ValidationName')}"
        elif type_name == "Layout":
            obj = _object_of(row.get("TableEnumOrId"), objects, type_name)
            full = f"{obj}-{_with_ns(str(row.get('Name')), ns)}"
        elif type_name == "PermissionSet":
            if row.get("IsOwnedByProfile"):
                continue  # a profile's own permission set: the profile is its component
            full = _with_ns(str(row.get("Name")), ns)
        elif type_name == "Profile":
            full = profile_full_name(str(row.get("Name") or ""))
        else:  # EmailTemplate, Report, Dashboard: Folder/Name
            folder_id = str(row.get("FolderId") or row.get("OwnerId") or "")
            if folder_id.startswith("005"):
                continue  # a personal folder: the Metadata API cannot retrieve it
            if folder_id.startswith("00D") or not folder_id:
                folder = "unfiled$public"
            else:
                folder = (
                    folders.get(folder_id)
                    or folders.get(folder_id[:15])
                    or str(row.get("FolderName") or "").replace(" ", "_")
                )
            full = f"{folder}/{_with_ns(str(row.get('DeveloperName')), ns)}"
        yield {"fullName": full, "namespace": ns}
