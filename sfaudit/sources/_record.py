"""Record an org (usually live) into the offline snapshot format: ``sfaudit snapshot``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataUnavailable, SourceError
from ..hookspecs import hookimpl
from . import Org
from .model import OrgData

if TYPE_CHECKING:
    from ..config import Config
    from ..plugins import PluginManager

OWNERSHIP_CHECK = "record-ownership"


@dataclass
class Recording:
    """What was recorded, for the command's summary."""

    path: Path
    data: OrgData
    missing: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


class _UseOpenOrg:
    """A plugin that hands the already-open org to the audit that records it."""

    def __init__(self, org: Org) -> None:
        self.org = org

    @hookimpl(tryfirst=True)
    def sfaudit_org_source(self, spec: str, config: Config) -> Org | None:
        return self.org


def record_snapshot(config: Config, pm: PluginManager, output: Path) -> Recording:
    """Open the config's org, run its enabled org checks (so the queries they make are
    captured), read every facade section, and write the snapshot to ``output``."""
    from ..config import check_enabled
    from ..plugins import collect_checks
    from ..runner import open_org, run_audit
    from .snapshot import write_snapshot

    org = open_org(config, pm)
    try:
        checks = collect_checks(pm)
        org_checks = [
            cid
            for cid, spec in checks.items()
            if check_enabled(config, cid)
            and not ("backup" in spec.argnames and "org" not in spec.argnames)
        ]
        if org_checks:
            plugin = _UseOpenOrg(org)
            pm.register(plugin, name="sfaudit-recorder")
            try:
                run_audit(config, pm, select=org_checks)
            finally:
                pm.unregister(plugin)
        data, missing = capture(org, config)
        metrics = org.metrics()
    finally:
        org.close()
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
    data.objects = section("objects", org.objects)
    data.queues = section("queues", org.queues)
    data.scheduled_jobs = section("scheduled_jobs", org.scheduled_jobs)
    custodians = _custodians(org, config)
    data.ownership = section("ownership", lambda: org.ownership(custodians=custodians))
    if data.ownership is not None:
        data.ownership_custodians = tuple(custodians)
    cache = org._cache
    data.queries = {
        key[1]: dict(value)
        for key, value in cache.items()
        if isinstance(key, tuple)
        and len(key) == 2
        and key[0] == "query"
        and isinstance(value, dict)
    }
    metrics = org.metrics()
    if "api_daily_max" in metrics:
        data.limits = {
            "DailyApiRequests": {
                "Max": metrics["api_daily_max"],
                "Remaining": metrics["api_daily_remaining"],
            }
        }
    return data, missing


def _custodians(org: Org, config: Config) -> list[str]:
    """The custodians the checks asked ownership for, else the record-ownership check's."""
    used = {
        key[2]
        for key in org._cache
        if isinstance(key, tuple) and len(key) == 3 and key[0] == "ownership" and key[2]
    }
    if len(used) == 1:
        return list(next(iter(used)))
    block = config.check_block(OWNERSHIP_CHECK)
    return [str(c) for c in block.get("custodians") or []]
