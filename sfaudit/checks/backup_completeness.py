"""Built-in check: the Data Export is complete, intact and recent.

A cancelled org cannot be exported again, so this is the one check that must
never wrongly say "complete": a part it cannot read, a CSV it cannot count
and an object it cannot find are all findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DataUnavailable
from ..registry import check
from ..results import Finding, Severity

if TYPE_CHECKING:
    from ..backup import BackupInventory, ScanResult
    from ..config import Config
    from ..sources import Org

#: Problem kinds reported only when files are required.
FILE_KINDS = frozenset({"files-missing", "files-empty"})
#: Problem kinds that are notes or lesser findings, not the check's own severity.
LOWER = {"encoding": Severity.MEDIUM}

_DOWNLOAD_AGAIN = "download the part again from Setup > Data Export (within 48 hours of the export)"
_EXPORT_AGAIN = (
    "run Setup > Data Export > Export Now again with 'Include images, documents, and "
    "attachments' and 'Include Salesforce Files', and download every part"
)
#: What to do about each kind of finding; shown by verify-backup and kept in the finding's data.
FIXES = {
    "part-unreadable": _DOWNLOAD_AGAIN,
    "part-missing": "download the missing part: parts are numbered from 1 with no gaps",
    "part-maybe-missing": "check Setup > Data Export for more parts, or set expected_parts",
    "corrupt": _DOWNLOAD_AGAIN,
    "crc": _DOWNLOAD_AGAIN,
    "zip-bomb": _DOWNLOAD_AGAIN + "; never unpack a member that claims such a ratio",
    "encrypted": "Salesforce does not encrypt exports: use the original download, not a re-zip",
    "unsafe-name": "this is not a Salesforce export as downloaded: use the original files",
    "duplicate-member": "this is not a Salesforce export as downloaded: use the original files",
    "mixed-orgs": "keep one org's export per folder",
    "org-mismatch": "point backup.path at the export of the audited org",
    "empty": _EXPORT_AGAIN,
    "binary": _DOWNLOAD_AGAIN,
    "cut": _DOWNLOAD_AGAIN,
    "header": _EXPORT_AGAIN,
    "encoding": "set checks.backup-completeness.encoding to the export's encoding",
    "files-missing": _EXPORT_AGAIN,
    "files-empty": _EXPORT_AGAIN,
    "no-csv": _EXPORT_AGAIN,
    "not-complete": _EXPORT_AGAIN,
    "missing": _EXPORT_AGAIN,
    "short": _EXPORT_AGAIN
    + " (or raise checks.backup-completeness.tolerance if the gap is expected)",
    "age": "export again: the backup must be recent when the org is cancelled",
    "no-backup": _EXPORT_AGAIN + "; then set backup.path to the folder of WE_*.ZIP files "
    "(turn the check off with checks.backup-completeness.enabled: false only if another "
    "backup is verified elsewhere)",
}


@check(
    "backup-completeness",
    severity="critical",
    title="A complete, intact and recent Data Export exists",
    summary="{findings} problems with the export; {objects_covered} of {objects_in_org} objects "
    "with records are covered",
    fix=(
        "Run Setup > Data Export > Export Now with 'Include images, documents, and attachments' "
        "and 'Include Salesforce Files', download every WE_<orgid>_<n>.ZIP within 48 hours, "
        "and point backup.path at the folder. A part that fails its CRC must be downloaded again."
    ),
    options={
        "tolerance": 0.005,
        "ignore_objects": [],
        "max_age_days": None,
        "require_files": None,
        "encoding": "utf-8",
        "expected_parts": None,
    },
)
def backup_completeness(
    backup: BackupInventory | None,
    org: Org,
    options: dict[str, Any],
    config: Config,
    today: dt.date,
    metrics: dict[str, Any],
) -> list[Finding]:
    """A complete, intact and recent Data Export exists.

    Every object with records in the org must be in the export, with its
    records and files, and every part must be intact. The export is scanned
    in full: every ZIP member is inflated and its CRC checked, every object
    CSV is counted with a quote-aware parse (records hold line breaks, so
    lines are not records), and attachment, document and content-version
    files are matched to the Ids in their CSVs. The counts are compared with
    the org's record counts for replicateable objects; Salesforce reports
    approximate counts, hence the tolerance (0.5% by default).
    ``max_age_days`` and ``require_files`` default to the config's
    ``backup:`` block.

    Why it matters: a cancelled org cannot be exported again. Once the
    subscription ends, data and files that are not in a verified export are
    gone, and a Data Export is only kept for 48 hours. This is the one check
    that must never wrongly say "complete".
    """
    if backup is None:
        # No export to verify is the most common way to be unready: never a skip.
        return [
            Finding(
                "no Data Export to verify: backup.path is not set (or pass --backup)",
                key="no-backup",
                data={"kind": "no-backup", "fix": FIXES["no-backup"]},
            )
        ]
    tolerance = _number(options.get("tolerance"), config)
    max_age = _optional(options, "max_age_days", int, config)
    require_files = _optional(options, "require_files", bool, config)
    expected_parts = _optional(options, "expected_parts", int, config)
    result = backup.result(str(options.get("encoding") or "utf-8"))
    try:
        org_id: str | None = org.info().id
    except DataUnavailable:
        org_id = None
    evaluation = evaluate(
        result,
        org_counts(org, options.get("ignore_objects") or []),
        org_id=org_id,
        tolerance=tolerance,
        today=today,
        max_age_days=config.backup.max_age_days if max_age is None else int(max_age),
        require_files=config.backup.require_files if require_files is None else bool(require_files),
        expected_parts=expected_parts,
    )
    metrics.update(evaluation.metrics)
    metrics["objects"] = [row.to_dict() for row in evaluation.rows]
    return evaluation.findings


def org_counts(org: Org, ignore: Iterable[str] = ()) -> dict[str, int]:
    """Record counts of the org's replicateable objects that have records."""
    skip = {str(o).lower() for o in ignore}
    return {
        o.name: o.count or 0
        for o in org.objects()
        if o.replicateable and (o.count or 0) > 0 and o.name.lower() not in skip
    }


@dataclass
class ObjectRow:
    """One line of the per-object table: the export against the org."""

    name: str
    export_count: int | None
    org_count: int | None
    gap: int | None
    status: str  # ok, short, missing, unreliable, not-in-org

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Evaluation:
    findings: list[Finding] = field(default_factory=list)
    rows: list[ObjectRow] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


def evaluate(
    result: ScanResult,
    counts: Mapping[str, int] | None,
    *,
    org_id: str | None = None,
    tolerance: float = 0.005,
    today: dt.date | None = None,
    max_age_days: int | None = None,
    require_files: bool = True,
    expected_parts: int | None = None,
) -> Evaluation:
    """Judge a scan: its problems, and (when ``counts`` are given) each object against the org.

    Shared by the check and ``sfaudit verify-backup``; ``counts`` None means no org to compare.
    """
    out = Evaluation()
    out.findings.extend(
        _problems(result, require_files, have_counts=counts is not None, expected=expected_parts)
    )
    if org_id:
        for part in result.parts:
            if part.org_id and part.org_id[:15] != org_id[:15]:
                out.findings.append(
                    Finding(
                        f"{part.name} is the export of org {part.org_id}, "
                        f"not of the audited org {org_id}",
                        key=f"org-mismatch:{part.name}",
                        data={"kind": "org-mismatch", "part": part.name, "export_org": part.org_id},
                    )
                )
    covered = 0
    seen: set[str] = set()
    for name, org_count in sorted((counts or {}).items()):
        stats = result.object(name)
        if stats is not None:
            seen.add(stats.name)
        exported = stats.records if stats else None
        if stats is not None and stats.records >= org_count * (1 - tolerance):
            covered += 1
            status = "ok" if stats.intact else "unreliable"
            out.rows.append(
                ObjectRow(stats.name, exported, org_count, org_count - stats.records, status)
            )
            continue
        out.findings.append(object_finding(name, org_count, exported))
        status = "missing" if stats is None else "short"
        gap = org_count - (exported or 0)
        out.rows.append(ObjectRow(name, exported, org_count, gap, status))
    for stats in sorted(result.objects.values(), key=lambda o: o.name):
        if stats.name in seen:
            continue
        status = ("ok" if counts is None else "not-in-org") if stats.intact else "unreliable"
        out.rows.append(ObjectRow(stats.name, stats.records, None, None, status))
    if today is not None and max_age_days is not None:
        out.findings.extend(_age(result, today, max_age_days))
    for finding in out.findings:
        fix = FIXES.get(str(finding.data.get("kind")))
        if fix:
            finding.data.setdefault("fix", fix)
    out.metrics = {
        "objects_covered": covered if counts is not None else len(result.objects),
        "objects_in_org": len(counts) if counts is not None else None,
        "records_exported": result.records,
        "bytes_scanned": result.bytes_read,
        "bytes_inflated": result.bytes_inflated,
        "scan_seconds": round(result.seconds, 2),
        "scan_rate_mb_s": round(result.rate_mb_s, 1),
        "parts": len(result.parts),
        "exported_at": result.exported_at.isoformat() if result.exported_at else None,
        "inflate": result.backend,
        "workers": result.workers,
    }
    return out


def object_finding(name: str, org_count: int, exported: int | None) -> Finding:
    """One object short in the export: data carries org_count, export_count and gap."""
    export_count = exported or 0
    gap = org_count - export_count
    if exported is None:
        message = f"{name}: {org_count} records in the org, but no {name}.csv in the export"
    else:
        pct = 100.0 * gap / org_count if org_count else 0.0
        message = (
            f"{name}: {export_count} of {org_count} records exported ({gap} missing, {pct:.1f}%)"
        )
    return Finding(
        message,
        object=name,
        count=gap,
        key=f"object:{name}",
        data={
            "kind": "missing" if exported is None else "short",
            "org_count": org_count,
            "export_count": export_count,
            "gap": gap,
        },
    )


def _problems(
    result: ScanResult, require_files: bool, *, have_counts: bool, expected: int | None
) -> Iterator[Finding]:
    for p in result.problems:
        if p.kind in FILE_KINDS and not require_files:
            continue
        severity: Severity | None = LOWER.get(p.kind)
        if p.kind == "part-maybe-missing":
            if expected is not None:
                continue
            if have_counts:
                severity = Severity.INFO
            message = (
                f"{p.message}; if the export has exactly {p.data.get('number')} parts, "
                f"set checks.backup-completeness.expected_parts: {p.data.get('number')}"
            )
        else:
            message = p.message
        yield Finding(
            message,
            severity=severity,
            object=p.object,
            count=p.count,
            key=f"{p.kind}:{p.part or ''}:{p.member or ''}:{p.object or ''}",
            data={"kind": p.kind, "part": p.part, "member": p.member, **p.data},
        )
    if expected is not None:
        numbers = [p.number for p in result.parts if p.number is not None]
        top = max(numbers, default=0)
        for n in range(top + 1, int(expected) + 1):
            org = result.org_ids[0] if result.org_ids else "<orgid>"
            yield Finding(
                f"part {n} of {expected} is missing (WE_{org}_{n}.ZIP)",
                key=f"part-missing:{n}",
                data={"kind": "part-missing", "number": n},
            )


def _age(result: ScanResult, today: dt.date, max_age: int) -> Iterator[Finding]:
    if result.exported_at is None:
        yield Finding(
            "the export's date is unknown (no dated entries)",
            key="age",
            data={"kind": "age"},
        )
        return
    age = (today - result.exported_at.date()).days
    if age > max_age:
        yield Finding(
            f"the export is {age} days old (made {result.exported_at.date()}); "
            f"max_age_days is {max_age}",
            key="age",
            data={"kind": "age", "age_days": age, "exported_at": result.exported_at.isoformat()},
        )


def _number(value: Any, config: Config) -> float:
    where = ("checks", "backup-completeness", "tolerance")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise config.error(
            f"must be a fraction between 0 and 1, e.g. 0.005 (got {value!r})", *where
        )
    return float(value)


def _optional(options: dict[str, Any], name: str, kind: type, config: Config) -> Any:
    """An option whose default is None (inherit): None, or a value of ``kind``."""
    value = options.get(name)
    if value is None:
        return None
    where = ("checks", "backup-completeness", name)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise config.error(f"must be a whole number, 0 or more (got {value!r})", *where)
    if kind is bool and not isinstance(value, bool):
        raise config.error(f"must be true or false (got {value!r})", *where)
    return value
