"""The offline snapshot source (a built-in plugin): ``snapshot:PATH``.

A snapshot is a versioned JSON file holding what the readiness checks read
from an org. It never holds credentials. The format is documented in docs/live-orgs.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._files import atomic_write
from ..config import Config
from ..errors import DataUnavailable, InputError
from ..hookspecs import hookimpl
from . import METADATA_KEY, Org, normalize_soql
from .model import (
    LOOSE_ENDS,
    AppUsage,
    License,
    OAuthUsage,
    OrgData,
    OrgInfo,
    OwnershipCount,
    Queue,
    ScheduledJob,
    SObjectInfo,
    Storage,
    User,
    from_dict,
    to_dict,
)

FORMAT = "sfaudit-snapshot"
VERSION = 1

_SECTIONS: dict[str, type[Any]] = {
    "users": User,
    "licenses": License,
    "objects": SObjectInfo,
    "queues": Queue,
    "scheduled_jobs": ScheduledJob,
}


class SnapshotOrg(Org):
    """The org facade over an :class:`OrgData` (from a file or built in memory)."""

    source = "snapshot"

    def __init__(self, data: OrgData, path: str | None = None) -> None:
        super().__init__()
        self.data = data
        self.path = path

    def _missing(self, section: str) -> DataUnavailable:
        where = f"snapshot {self.path}" if self.path else "the snapshot"
        return DataUnavailable(
            f"{where} has no {section!r} section; record it again with `sfaudit snapshot`"
        )

    def _section(self, name: str) -> Any:
        value = getattr(self.data, name)
        if value is None:
            raise self._missing(name)
        return list(value)

    def _fetch_info(self) -> OrgInfo:
        return self.data.info

    def _fetch_users(self) -> list[User]:
        return self._section("users")  # type: ignore[no-any-return]

    def _fetch_licenses(self) -> list[License]:
        return self._section("licenses")  # type: ignore[no-any-return]

    def _fetch_objects(self) -> list[SObjectInfo]:
        return self._section("objects")  # type: ignore[no-any-return]

    def _fetch_queues(self) -> list[Queue]:
        return list(self.data.queues or [])

    def _fetch_scheduled_jobs(self) -> list[ScheduledJob]:
        return self._section("scheduled_jobs")  # type: ignore[no-any-return]

    def _fetch_ownership(
        self, objects: Sequence[str], custodian_ids: Sequence[str]
    ) -> list[OwnershipCount]:
        rows: list[OwnershipCount] = self._section("ownership")
        recorded = self.data.ownership_custodians
        if recorded is not None:
            users = {u.id: u.username for u in self.users()}
            wanted = {users.get(i, i).lower() for i in custodian_ids}
            if wanted != {c.lower() for c in recorded}:
                raise DataUnavailable(
                    "the snapshot recorded ownership for custodians "
                    f"{sorted(recorded) or 'none'}, not {sorted(wanted) or 'none'}; "
                    "record it again with `sfaudit snapshot` and this config"
                )
        return rows

    def count(self, sobject: str, where: str | None = None) -> int:
        """As recorded: the exact ``COUNT()`` the live source made, when it made one
        (the live source counts exactly), else the recorded record count."""
        if where is None:
            soql = f"SELECT COUNT() FROM {sobject}"
            if self._recorded(soql) is not None:
                return int(self.query_result(soql).get("totalSize") or 0)
        return super().count(sobject, where)

    def _recorded(self, soql: str) -> dict[str, Any] | None:
        key = normalize_soql(soql).lower()
        for stored, result in self.data.queries.items():
            if normalize_soql(stored).lower() == key:
                return dict(result)
        return None

    def _fetch_query(self, soql: str) -> dict[str, Any]:
        recorded = self._recorded(soql)
        if recorded is not None:
            return recorded
        key = normalize_soql(soql)
        raise DataUnavailable(
            f"the snapshot did not record the query {key!r}; "
            "record it again with `sfaudit snapshot` and the config that needs it"
        )

    def _fetch_storage(self) -> Storage:
        storage = Storage.from_limits(self.data.limits)
        if storage is None:
            where = f"snapshot {self.path}" if self.path else "the snapshot"
            raise DataUnavailable(
                f"{where} has no storage figures (limits.DataStorageMB, limits.FileStorageMB); "
                "record it again with `sfaudit snapshot`"
            )
        return storage

    def _fetch_metadata(self, types: Sequence[str]) -> dict[str, dict[str, Any]]:
        recorded = recorded_metadata(self.data)
        if recorded is None:
            raise self._missing("metadata")
        where = f"snapshot {self.path}" if self.path else "the snapshot"
        return {
            t: dict(recorded[t])
            if isinstance(recorded.get(t), dict)
            else {
                "error": f"{where} did not record {t}; record it again with `sfaudit snapshot` "
                "and a config whose checks.metadata-backup.types lists it",
                "permission": False,
            }
            for t in types
        }

    def _fetch_loose_end(self, section: str) -> list[Any]:
        if self.data.loose_ends is None and not self.data.loose_end_errors:
            raise self._missing("loose_ends")
        error = self.data.loose_end_errors.get(section)
        if error is not None:
            raise DataUnavailable(
                str(error.get("error") or f"{section} could not be read"),
                permission=bool(error.get("permission")),
            )
        recorded = (self.data.loose_ends or {}).get(section)
        if recorded is None:
            raise self._missing(f"loose_ends.{section}")
        return list(recorded)

    def _fetch_oauth_usage(self, since: dt.date) -> OAuthUsage:
        usage = self.data.oauth_usage.get(since.isoformat())
        if usage is not None:
            return usage
        error = self.data.loose_end_errors.get("oauth_usage")
        if error is not None:
            raise DataUnavailable(
                str(error.get("error") or "the OAuth tokens could not be read"),
                permission=bool(error.get("permission")),
            )
        if (self.data.loose_ends or {}).get("oauth_tokens") is not None:
            return super()._fetch_oauth_usage(since)
        if self.data.loose_ends is None and not self.data.oauth_usage:
            raise self._missing("loose_ends")
        where = f"snapshot {self.path}" if self.path else "the snapshot"
        recorded = ", ".join(sorted(self.data.oauth_usage)) or "none"
        raise DataUnavailable(
            f"{where} recorded OAuth token use since {recorded}, not since {since}; "
            "record it again with `sfaudit snapshot`, the same `today` and this config"
        )

    def not_in_org(self) -> tuple[str, ...]:
        return tuple(self.data.not_in_org)

    def metrics(self) -> dict[str, Any]:
        return {"api_requests": 0}


def recorded_metadata(data: OrgData) -> dict[str, Any] | None:
    """The metadata inventory a snapshot holds: its ``metadata`` section, or the one a
    recording kept with the queries."""
    if data.metadata is not None:
        return data.metadata
    kept = data.queries.get(METADATA_KEY)
    return dict(kept) if isinstance(kept, dict) else None


def parse_snapshot(raw: Any, where: str) -> OrgData:
    """Build :class:`OrgData` from parsed snapshot JSON; errors name the field."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a snapshot is a JSON object, got {type(raw).__name__}")
    if raw.get("format") != FORMAT:
        raise InputError(
            f"{where}: not an sfaudit snapshot (field 'format' should be {FORMAT!r})",
            hint="record one with `sfaudit snapshot --source live -o org.json`",
        )
    version = raw.get("version")
    if version != VERSION:
        raise InputError(
            f"{where}: snapshot version {version!r} is not supported; "
            f"this sfaudit reads version {VERSION}",
            hint="record the snapshot again with this sfaudit",
        )
    if not isinstance(raw.get("org"), dict):
        raise InputError(
            f"{where}: field 'org' is missing or not an object", hint="record the snapshot again"
        )
    try:
        info = from_dict(OrgInfo, raw["org"], "org")
        data = OrgData(info=info)
        for name, cls in _SECTIONS.items():
            section = raw.get(name)
            if section is None:
                continue
            if not isinstance(section, list):
                raise ValueError(f"{name}: expected a list")
            setattr(
                data, name, [from_dict(cls, item, f"{name}[{i}]") for i, item in enumerate(section)]
            )
        ownership = raw.get("ownership")
        if ownership is not None:
            if not isinstance(ownership, dict) or not isinstance(ownership.get("counts"), list):
                raise ValueError("ownership: expected an object with a 'counts' list")
            data.ownership = [
                from_dict(OwnershipCount, item, f"ownership.counts[{i}]")
                for i, item in enumerate(ownership["counts"])
            ]
            custodians = ownership.get("custodians")
            data.ownership_custodians = None if custodians is None else tuple(custodians)
        queries = raw.get("queries") or {}
        if not isinstance(queries, dict):
            raise ValueError("queries: expected an object of SOQL → result")
        data.queries = dict(queries)
        limits = raw.get("limits")
        if limits is not None and not isinstance(limits, dict):
            raise ValueError("limits: expected an object, as GET /limits/ answers")
        data.limits = limits
        _parse_loose_ends(data, raw.get("loose_ends"))
        metadata = raw.get("metadata")
        if metadata is not None:
            if not isinstance(metadata, dict) or not all(
                isinstance(v, dict) for v in metadata.values()
            ):
                raise ValueError("metadata: expected an object of type → entry")
            data.metadata = dict(metadata)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{where}: {exc}", hint="fix the field, or record the snapshot again"
        ) from None
    return data


def _parse_loose_ends(data: OrgData, raw: Any) -> None:
    """The ``loose_ends`` section: one list per :data:`LOOSE_ENDS` section, plus
    ``oauth_usage`` (since → per-app use), ``errors`` and ``not_in_org``."""
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise ValueError("loose_ends: expected an object")
    sections: dict[str, list[Any]] = {}
    for name, cls in LOOSE_ENDS.items():
        items = raw.get(name)
        if items is None:
            continue
        if not isinstance(items, list):
            raise ValueError(f"loose_ends.{name}: expected a list")
        sections[name] = [
            from_dict(cls, item, f"loose_ends.{name}[{i}]") for i, item in enumerate(items)
        ]
    data.loose_ends = sections
    usage = raw.get("oauth_usage") or {}
    if not isinstance(usage, dict):
        raise ValueError("loose_ends.oauth_usage: expected an object of date → usage")
    for since, entry in usage.items():
        where = f"loose_ends.oauth_usage.{since}"
        if not isinstance(entry, dict) or not isinstance(entry.get("apps", []), list):
            raise ValueError(f"{where}: expected an object with an 'apps' list")
        apps = tuple(
            from_dict(AppUsage, a, f"{where}.apps[{i}]")
            for i, a in enumerate(entry.get("apps", []))
        )
        base = from_dict(OAuthUsage, {**entry, "since": since, "apps": ()}, where)
        data.oauth_usage[str(since)] = OAuthUsage(
            since=base.since, apps=apps, complete=base.complete, note=base.note
        )
    errors = raw.get("errors") or {}
    if not isinstance(errors, dict) or not all(isinstance(v, dict) for v in errors.values()):
        raise ValueError("loose_ends.errors: expected an object of section → error")
    data.loose_end_errors = dict(errors)
    absent = raw.get("not_in_org") or []
    if not isinstance(absent, list):
        raise ValueError("loose_ends.not_in_org: expected a list of object names")
    data.not_in_org = tuple(str(a) for a in absent)


def _loose_ends_dict(data: OrgData) -> dict[str, Any] | None:
    if data.loose_ends is None and not data.oauth_usage and not data.loose_end_errors:
        return None
    out: dict[str, Any] = {
        name: [to_dict(item) for item in items] for name, items in (data.loose_ends or {}).items()
    }
    if data.oauth_usage:
        out["oauth_usage"] = {
            since: {
                "complete": usage.complete,
                "note": usage.note,
                "apps": [to_dict(a) for a in usage.apps],
            }
            for since, usage in sorted(data.oauth_usage.items())
        }
    if data.loose_end_errors:
        out["errors"] = dict(sorted(data.loose_end_errors.items()))
    out["not_in_org"] = list(data.not_in_org)
    return out


def load_snapshot(path: str | Path) -> OrgData:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"snapshot {p} not found",
            hint="check org.source / --source, or record one with `sfaudit snapshot`",
        ) from None
    except IsADirectoryError:
        raise InputError(f"snapshot {p} is a folder; point at the .json file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"snapshot {p} cannot be read: {exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"snapshot {p}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})",
            hint="the file may be truncated; record it again with `sfaudit snapshot`",
        ) from None
    return parse_snapshot(_clean_text(raw), str(p))


def _clean_text(value: Any) -> Any:
    """JSON may carry lone surrogates (``"\\ud800"``) that no file or terminal can
    encode: replace them, so a hostile value cannot break the reports."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, list):
        return [_clean_text(v) for v in value]
    if isinstance(value, dict):
        return {_clean_text(k): _clean_text(v) for k, v in value.items()}
    return value


def snapshot_dict(
    data: OrgData, *, recorded_at: dt.datetime | None = None, source: str = ""
) -> dict[str, Any]:
    """The JSON form of :class:`OrgData`."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "recorded_at": (recorded_at or dt.datetime.now(dt.timezone.utc)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "recorded_from": source,
        "org": to_dict(data.info),
    }
    for name in _SECTIONS:
        section = getattr(data, name)
        if section is not None:
            out[name] = [to_dict(item) for item in section]
    if data.ownership is not None:
        out["ownership"] = {
            "custodians": None
            if data.ownership_custodians is None
            else list(data.ownership_custodians),
            "counts": [
                {"object": r.object, "owner_id": r.owner_id, "count": r.count}
                for r in data.ownership
            ],
        }
    queries = {k: v for k, v in data.queries.items() if k != METADATA_KEY}
    if queries:
        out["queries"] = queries
    metadata = recorded_metadata(data)
    if metadata is not None:
        out["metadata"] = metadata
    if data.limits is not None:
        out["limits"] = data.limits
    loose_ends = _loose_ends_dict(data)
    if loose_ends is not None:
        out["loose_ends"] = loose_ends
    return out


def write_snapshot(
    data: OrgData,
    path: str | Path,
    *,
    source: str = "",
    recorded_at: dt.datetime | None = None,
) -> Path:
    """Write atomically: a reader never sees half a snapshot."""
    p = Path(path)
    text = json.dumps(
        snapshot_dict(data, source=source, recorded_at=recorded_at), indent=1, ensure_ascii=False
    )
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(p, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            f"cannot write the snapshot {p}: {exc.strerror}", hint="pass -o with a writable path"
        ) from None
    return p


@hookimpl
def sfaudit_org_source(spec: str, config: Config) -> Org | None:
    if not spec.startswith("snapshot:"):
        return None
    raw_path = spec.split(":", 1)[1]
    if not raw_path:
        raise InputError(
            "--source snapshot: needs a path", hint="write snapshot:PATH, e.g. snapshot:org.json"
        )
    path = config.resolve(raw_path)
    return SnapshotOrg(load_snapshot(path), str(path))
