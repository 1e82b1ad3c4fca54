"""Record an org (usually live) into the offline snapshot format: ``sfaudit snapshot``.

The recorder runs the config's enabled org checks through an :class:`~sfaudit.audit.Audit`
(so the queries they make are answered and kept), then reads every facade
section of the same open org, through its public methods only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .audit import Audit
from .errors import DataUnavailable, SourceError
from .sources import Org
from .sources.model import OrgData, SObjectInfo

if TYPE_CHECKING:
    from .config import Config
    from .plugins import PluginManager

OWNERSHIP_CHECK = "record-ownership"


@dataclass
class Recording:
    """What was recorded, for the command's summary."""

    path: Path
    data: OrgData
    missing: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


def record_snapshot(config: Config, pm: PluginManager, output: Path) -> Recording:
    """Open the config's org, run its enabled org checks (so the queries they make are
    captured), read every facade section, and write the snapshot to ``output``."""
    from .config import check_enabled
    from .sources.snapshot import write_snapshot

    with Audit(config, pm) as audit:
        org = audit.org()
        org_checks = [
            cid
            for cid, spec in audit.checks.items()
            if check_enabled(config, cid)
            and not ("backup" in spec.argnames and "org" not in spec.argnames)
        ]
        if org_checks:
            audit.run(select=org_checks)
        data, missing = capture(org, config)
        metrics = org.metrics()
    path = write_snapshot(data, output, source=(config.org.source or ""))
    return Recording(path=path, data=data, missing=missing, metrics=metrics)


def capture(org: Org, config: Config) -> tuple[OrgData, list[str]]:
    """Every section of ``org`` as :class:`OrgData`; sections it cannot read stay ``None``."""
    missing: list[str] = []

    def section(name: str, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except DataUnavailable as exc:
            missing.append(f"{name}: {exc}")
            return None

    info = section("org", org.info)
    if info is None:
        raise SourceError(
            f"cannot record the org: {missing[-1]}",
            hint="grant the API user 'View Setup and Configuration' and record again",
        )
    data = OrgData(info=info)
    data.users = section("users", org.users)
    data.licenses = section("licenses", org.licenses)
    data.objects = section("objects", lambda: [_plain(o) for o in org.objects()])
    data.queues = section("queues", org.queues)
    data.scheduled_jobs = section("scheduled_jobs", org.scheduled_jobs)
    custodians = _custodians(org, config)
    data.ownership = section("ownership", lambda: org.ownership(custodians=custodians))
    if data.ownership is not None:
        data.ownership_custodians = tuple(custodians)
    _capture_loose_ends(org, data)
    data.queries = org.recorded_queries()
    metrics = org.metrics()
    limits: dict[str, Any] = {}
    if "api_daily_max" in metrics:
        limits["DailyApiRequests"] = {
            "Max": metrics["api_daily_max"],
            "Remaining": metrics["api_daily_remaining"],
        }
    # Storage is shown when known; no check needs it, so a snapshot without it is complete.
    with contextlib.suppress(DataUnavailable):
        limits.update(org.storage().to_limits())
    data.limits = limits or None
    return data, missing


def _capture_loose_ends(org: Org, data: OrgData) -> None:
    """Every loose-ends section (a section the API user may not read is kept as its
    error, so the offline audit reports it the same way) and the token use the checks
    asked for."""
    from .sources.model import LOOSE_ENDS

    sections: dict[str, list[Any]] = {}
    for name in LOOSE_ENDS:
        if name == "oauth_tokens":
            continue  # recorded aggregated, per `since`, below
        try:
            sections[name] = org.loose_ends(name)
        except DataUnavailable as exc:
            if not exc.permission and "cannot read" in str(exc):
                continue  # a source without loose ends: nothing to record
            data.loose_end_errors[name] = {"error": str(exc), "permission": exc.permission}
        except SourceError as exc:
            data.loose_end_errors[name] = {"error": str(exc), "permission": False}
    if not sections and not data.loose_end_errors:
        return
    data.loose_ends = sections
    data.oauth_usage = org.recorded_oauth_usage()
    failed = org.recorded_oauth_failures()
    if failed and not data.oauth_usage:
        first = next(iter(failed.values()))
        data.loose_end_errors["oauth_usage"] = {
            "error": str(first),
            "permission": first.permission,
        }
    data.not_in_org = org.not_in_org()


def _plain(obj: SObjectInfo) -> SObjectInfo:
    """``obj`` with every field read now (a live org describes ``queue_ownable`` when it
    is first read: a describe that fails then makes the section missing)."""
    return SObjectInfo(**{f.name: getattr(obj, f.name) for f in fields(SObjectInfo)})


def _custodians(org: Org, config: Config) -> list[str]:
    """The custodians the checks asked ownership for, else the record-ownership check's."""
    used = org.recorded_custodians()
    if len(used) == 1:
        return list(next(iter(used)))
    block = config.check_block(OWNERSHIP_CHECK)
    return [str(c) for c in block.get("custodians") or []]
