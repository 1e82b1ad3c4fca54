"""Judging a metadata backup against the org's inventory. Shared by the
``metadata-backup`` check and ``sfaudit verify-metadata``, which are thin callers."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..errors import InputError
from ..results import Finding, Severity
from .backup import RETRIEVE_FILE_LIMIT, MetadataBackup
from .types import DEFAULT_TYPES, TYPES, is_standard_name

if TYPE_CHECKING:
    from ..config import Config

#: The check whose ``checks.<id>`` block holds the options.
CHECK_ID = "metadata-backup"
#: The check's options and their defaults (``types``: every type sfaudit covers).
OPTIONS: dict[str, Any] = {"types": list(DEFAULT_TYPES), "include_managed": False, "ignore": []}
#: How many members a finding's message names (``data.members`` holds them all).
SHOWN = 10

_RETRIEVE = (
    "retrieve what is missing: `sf project generate manifest --from-org --metadata {types} "
    "--output-dir manifest`, then `sf project retrieve start --manifest manifest/package.xml` "
    "(split the manifest into chunks under 10,000 files); name standard objects whose custom "
    "fields you keep (`CustomObject *` leaves them out), and list reports folder by folder"
)
FIXES = {
    "missing": _RETRIEVE,
    "retrieve-capped": "one retrieve holds at most 10,000 files: split package.xml into "
    "chunks (by type, or reports by folder) and retrieve each into the same backup",
    "unreadable-type": "grant the API user the permission named, then audit again",
    "partial-permissions": "retrieve profiles and permission sets together with every "
    "component they grant access to (the same manifest), so their permissions are complete",
    "stale": "retrieve the metadata again: the backup must be recent when the org is cancelled",
    "not-in-org": "nothing to do: these components were deleted from the org after the backup",
    "no-backup": "retrieve the org's metadata (`sf project generate manifest --from-org`, then "
    "`sf project retrieve start --manifest package.xml --target-metadata-dir backups/metadata`) "
    "and set metadata.path (or pass --metadata)",
}


@dataclass
class MetadataOptions:
    """What to compare: the check's options over the config's ``metadata:`` block."""

    types: tuple[str, ...] = DEFAULT_TYPES
    include_managed: bool = False
    ignore: tuple[str, ...] = ()
    max_age_days: int | None = None
    today: dt.date | None = None

    @classmethod
    def from_config(
        cls,
        config: Config | None,
        options: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> MetadataOptions:
        """The options of ``checks.metadata-backup`` (or ``options``, the check's merged
        block) with ``metadata.max_age_days``, validated (errors name the key and line);
        ``overrides`` (command-line flags) win where not None."""
        block: Mapping[str, Any] = (
            options if options is not None else (config.check_block(CHECK_ID) if config else {})
        )
        out = cls(
            types=_types(block.get("types"), config),
            include_managed=_bool(block.get("include_managed", False), config),
            ignore=_ignore(block.get("ignore"), config),
            max_age_days=config.metadata.max_age_days if config else None,
            today=config.today if config else None,
        )
        for name, value in overrides.items():
            if value is not None:
                setattr(out, name, value)
        return out


@dataclass
class TypeRow:
    """One line of the per-type table: the org's components against the backup's."""

    type: str
    org: int | None
    backup: int
    missing: int | None
    status: str  # ok, missing, unreadable
    pages: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Evaluation:
    findings: list[Finding] = field(default_factory=list)
    rows: list[TypeRow] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def failing(self) -> bool:
        return any(f.failing for f in self.findings)


#: The Tooling API's CustomObject rows give a DeveloperName without its suffix, so the
#: org side names every custom object ``X__c``; custom metadata types, platform events,
#: big and external objects are ``X__mdt``, ``X__e``, ``X__b``, ``X__x`` in a backup.
_OBJECT_SUFFIX = re.compile(r"__(?:mdt|e|b|x)(?=$|\.|-)", re.IGNORECASE)
#: Types whose names start with their object's API name.
_OBJECT_NAMED = frozenset({"CustomObject", "CustomField", "ValidationRule", "Layout"})


def _key(type_name: str, full_name: str) -> str:
    """Names compare as Salesforce compares them: case-insensitively; profiles decoded
    (``Custom%3A Sales Rep`` is ``Custom: Sales Rep``); an object's suffix as the
    Tooling API leaves it (``Region__mdt`` compares as ``Region__c``)."""
    name = unquote(full_name) if type_name == "Profile" else full_name
    if type_name in _OBJECT_NAMED:
        head, dot, rest = name.partition("." if type_name != "Layout" else "-")
        name = _OBJECT_SUFFIX.sub("__c", head) + dot + rest
    return name.casefold()


def ignored(type_name: str, full_name: str, patterns: Sequence[str]) -> bool:
    """Whether ``Type:fullName`` matches one of the ``ignore`` globs."""
    for pattern in patterns:
        kind, _, name = pattern.partition(":")
        if fnmatch.fnmatchcase(type_name, kind) and fnmatch.fnmatchcase(full_name, name):
            return True
    return False


def _shown(members: Sequence[str]) -> str:
    text = ", ".join(members[:SHOWN])
    return text + (f" and {len(members) - SHOWN} more" if len(members) > SHOWN else "")


def judge(
    backup: MetadataBackup,
    inventory: Mapping[str, Mapping[str, Any]],
    options: MetadataOptions,
) -> Evaluation:
    """Compare the backup with the org's inventory (see :mod:`sfaudit.metadata.org`)."""
    out = Evaluation()
    for type_name in options.types:
        entry = inventory.get(type_name) or {
            "error": f"the org source did not list {type_name}",
            "permission": False,
        }
        in_backup = backup.has(type_name)
        if "error" in entry:
            out.findings.append(unreadable(type_name, entry))
            out.rows.append(TypeRow(type_name, None, len(in_backup), None, "unreadable"))
            continue
        wanted = [
            str(c["fullName"])
            for c in entry.get("components") or []
            if (options.include_managed or not c.get("namespace"))
            and not ignored(type_name, str(c["fullName"]), options.ignore)
        ]
        have = {_key(type_name, n) for n in in_backup}
        missing = [n for n in wanted if _key(type_name, n) not in have]
        pages = int(entry.get("pages") or 0)
        if missing:
            out.findings.append(
                Finding(
                    f"{type_name}: {len(missing)} of {len(wanted)} in the org are not in the "
                    f"backup: {_shown(missing)}",
                    count=len(missing),
                    key=f"missing:{type_name}",
                    data={
                        "kind": "missing",
                        "type": type_name,
                        "members": missing,
                        "count": len(missing),
                        "fix": _RETRIEVE.format(types=type_name),
                    },
                )
            )
        status = "missing" if missing else "ok"
        out.rows.append(
            TypeRow(type_name, len(wanted), len(in_backup), len(missing), status, pages)
        )
        in_org = {_key(type_name, str(c["fullName"])) for c in entry.get("components") or []}
        extra = sorted(
            n
            for n in in_backup
            if _key(type_name, n) not in in_org and not is_standard_name(type_name, n)
        )
        if extra:
            out.findings.append(
                Finding(
                    f"{type_name}: {len(extra)} in the backup are no longer in the org: "
                    f"{_shown(extra)}",
                    severity=Severity.INFO,
                    count=len(extra),
                    key=f"not-in-org:{type_name}",
                    data={"kind": "not-in-org", "type": type_name, "members": extra,
                          "count": len(extra)},
                )
            )  # fmt: skip
    out.findings.extend(_capped(backup, options.types))
    permissions = [t for t in ("Profile", "PermissionSet") if t in options.types and backup.has(t)]
    if permissions:
        out.findings.append(
            Finding(
                f"{' and '.join(permissions)} files are in the backup, but a retrieve only "
                "holds the permissions of the components retrieved with them: the permission "
                "model is saved in full only if everything was retrieved together",
                severity=Severity.INFO,
                key="partial-permissions",
                data={"kind": "partial-permissions", "type": ",".join(permissions),
                      "members": [], "count": 0},
            )
        )  # fmt: skip
    if options.max_age_days is not None:
        out.findings.extend(_stale(backup, options.today or dt.date.today(), options.max_age_days))
    for finding in out.findings:
        finding.data.setdefault("fix", FIXES[str(finding.data["kind"])])
    out.metrics = {
        "types": [row.to_dict() for row in out.rows],
        "components_in_org": sum(r.org or 0 for r in out.rows),
        "components_missing": sum(r.missing or 0 for r in out.rows),
        "types_covered": sum(1 for r in out.rows if r.status == "ok"),
        "types_checked": len(out.rows),
        "types_unreadable": sum(1 for r in out.rows if r.status == "unreadable"),
        "backup_files": backup.files,
        "backup_layout": backup.layout,
        "backup_newest": backup.newest.isoformat() if backup.newest else None,
    }
    return out


def unreadable(type_name: str, entry: Mapping[str, Any]) -> Finding:
    """A type the org's inventory could not list: never dropped silently."""
    return Finding(
        f"{type_name}: the org's components cannot be listed: {entry.get('error')}",
        key=f"unreadable-type:{type_name}",
        data={
            "kind": "unreadable-type",
            "type": type_name,
            "members": [],
            "count": 0,
            "permission": bool(entry.get("permission")),
            "grant": entry.get("grant") or (TYPES[type_name].grant if type_name in TYPES else ""),
        },
    )


def _capped(backup: MetadataBackup, types: Sequence[str]) -> list[Finding]:
    out: list[Finding] = []
    if backup.files == RETRIEVE_FILE_LIMIT:
        out.append(
            Finding(
                f"the backup holds exactly {RETRIEVE_FILE_LIMIT:,} files, the most one retrieve "
                "returns: it was most likely cut short",
                key="retrieve-capped:files",
                data={"kind": "retrieve-capped", "type": None, "members": [], "count": 0,
                      "files": backup.files},
            )
        )  # fmt: skip
    for type_name, members in sorted((backup.manifest or {}).items()):
        if type_name not in types or type_name not in TYPES:
            continue
        folder_type = TYPES[type_name].kind == "folder"
        have = {_key(type_name, n) for n in backup.has(type_name)}
        lacking = [
            m
            for m in members
            if "*" not in m
            and not (folder_type and "/" not in m)  # a folder, not a component
            and _key(type_name, m) not in have
        ]
        if lacking:
            out.append(
                Finding(
                    f"{type_name}: package.xml lists {len(lacking)} the backup lacks "
                    f"(the retrieve was cut short or failed for them): {_shown(lacking)}",
                    count=len(lacking),
                    key=f"retrieve-capped:manifest:{type_name}",
                    data={"kind": "retrieve-capped", "type": type_name, "members": lacking,
                          "count": len(lacking)},
                )
            )  # fmt: skip
    return out


def _stale(backup: MetadataBackup, today: dt.date, max_age: int) -> list[Finding]:
    if backup.newest is None:
        return [
            Finding(
                f"the backup holds no dated file; max_age_days is {max_age}",
                key="stale",
                data={"kind": "stale", "type": None, "members": [], "count": 0},
            )
        ]
    age = (today - backup.newest.date()).days
    if age <= max_age:
        return []
    return [
        Finding(
            f"the metadata backup is {age} days old (newest file {backup.newest.date()}); "
            f"max_age_days is {max_age}",
            key="stale",
            data={"kind": "stale", "type": None, "members": [], "count": 0, "age_days": age,
                  "newest": backup.newest.isoformat()},
        )
    ]  # fmt: skip


def no_backup(inventory: Mapping[str, Mapping[str, Any]] | None) -> Finding:
    """No metadata.path: the most common way to be unready, never a skip."""
    counted = ""
    if inventory:
        readable = [e for e in inventory.values() if "components" in e]
        total = sum(len(e["components"]) for e in readable)
        counted = f"; the org has {total} components in {len(readable)} types"
    return Finding(
        "no metadata backup to verify: metadata.path is not set (or pass --metadata)" + counted,
        key="no-backup",
        data={"kind": "no-backup", "type": None, "members": [], "count": 0,
              "fix": FIXES["no-backup"]},
    )  # fmt: skip


# --- option validation ------------------------------------------------------------


def _error(
    config: Config | None, message: str, *where: str | int, hint: str | None = None
) -> Exception:
    if config is None:
        return InputError(f"{'.'.join(str(w) for w in where)}: {message}", hint=hint)
    return config.error(message, *where, hint=hint)


def _types(value: Any, config: Config | None) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_TYPES
    where = ("checks", CHECK_ID, "types")
    if not isinstance(value, list) or not value:
        raise _error(config, f"must be a list of metadata types (got {value!r})", *where)
    out: list[str] = []
    for i, item in enumerate(value):
        if item not in TYPES:
            from ..config import did_you_mean

            hint = did_you_mean(str(item), TYPES) or f"known types: {', '.join(TYPES)}"
            raise _error(config, f"unknown metadata type {item!r}", *where, i, hint=hint)
        if item not in out:
            out.append(str(item))
    return tuple(out)


def _bool(value: Any, config: Config | None) -> bool:
    if not isinstance(value, bool):
        raise _error(
            config, f"must be true or false (got {value!r})", "checks", CHECK_ID, "include_managed"
        )
    return value


def _ignore(value: Any, config: Config | None) -> tuple[str, ...]:
    if value is None:
        return ()
    where = ("checks", CHECK_ID, "ignore")
    if not isinstance(value, list):
        raise _error(config, f"must be a list of Type:fullName globs (got {value!r})", *where)
    for i, item in enumerate(value):
        kind, sep, name = str(item).partition(":") if isinstance(item, str) else ("", "", "")
        if not sep or not kind or not name:
            raise _error(
                config,
                f"must be Type:fullName, e.g. 'ApexClass:Legacy*' (got {item!r})",
                *where,
                i,
            )
        if not any(fnmatch.fnmatchcase(t, kind) for t in TYPES):
            from ..config import did_you_mean

            hint = did_you_mean(kind, TYPES) or f"known types: {', '.join(TYPES)}"
            raise _error(config, f"{kind!r} matches no metadata type", *where, i, hint=hint)
    return tuple(str(v) for v in value)
