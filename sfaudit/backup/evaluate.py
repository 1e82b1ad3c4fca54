"""Judging a scanned Data Export: its problems, each object against the org's counts,
its age. Shared by the ``backup-completeness`` check and ``sfaudit verify-backup``, which
are thin callers; nothing here knows about checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DataUnavailable, InputError
from ..results import Finding, Severity
from .catalog import csv_names, never_exported
from .csvcount import normalize_encoding
from .model import NOTE_KINDS

if TYPE_CHECKING:
    from ..config import Config
    from ..sources import Org
    from .model import ObjectStats, ScanResult

#: The check whose ``checks.<id>`` block holds the backup options.
CHECK_ID = "backup-completeness"

#: Problem kinds reported only when files are required.
FILE_KINDS = frozenset(
    {
        "files-missing",
        "files-empty",
        "files-unmatched",
        "file-size",
        "file-checksum",
        "files-unsized",
    }
)
#: Problem kinds that are notes or lesser findings, not the check's own severity.
LOWER = {"encoding": Severity.MEDIUM, **dict.fromkeys(NOTE_KINDS, Severity.INFO)}
_METADATA_RETRIEVE = (
    "back them up with a metadata retrieve (sf project generate manifest --from-org, then "
    "sf project retrieve start --manifest package.xml), which the metadata-backup check "
    "verifies; Data Export holds records only"
)

_DOWNLOAD_AGAIN = "download the part again from Setup > Data Export (within 48 hours of the export)"
_EXPORT_AGAIN = (
    "run Setup > Data Export > Export Now again with 'Include images, documents, and "
    "attachments' and 'Include Salesforce Files', and download every part"
)
_ORIGINAL = "this is not a Salesforce export as downloaded: use the original files"
#: What to do about each kind of finding; shown by verify-backup and kept in the finding's
#: data. Its keys are exactly the kinds the scanner (PROBLEM_KINDS) and this check emit.
FIXES = {
    "part-unreadable": _DOWNLOAD_AGAIN,
    "part-missing": "download the missing part: parts are numbered from 1 with no gaps",
    "part-maybe-missing": "check Setup > Data Export for more parts, or set expected_parts",
    "part-extra": "keep exactly one file per part, named WE_<orgid>_<n>.ZIP: delete copies "
    "such as 'WE_<orgid>_1 (1).ZIP' or rename the right download",
    "part-duplicate": "keep exactly one file per part, named WE_<orgid>_<n>.ZIP",
    "mixed-exports": "download every part of one export: the parts come from different runs",
    "corrupt": _DOWNLOAD_AGAIN,
    "crc": _DOWNLOAD_AGAIN,
    "zip-bomb": _DOWNLOAD_AGAIN + "; never unpack a member that claims such a ratio",
    "encrypted": "Salesforce does not encrypt exports: use the original download, not a re-zip",
    "unsupported": "Salesforce only stores or deflates members: use the original download, "
    "not a re-zip",
    "unsafe-name": _ORIGINAL,
    "duplicate-member": _ORIGINAL,
    "mixed-orgs": "keep one org's export per folder",
    "org-mismatch": "point backup.path at the export of the audited org",
    "org-unknown": "verify the WE_<orgid>_<n>.ZIP parts as downloaded: their names carry the "
    "org id",
    "empty": _EXPORT_AGAIN,
    "binary": _DOWNLOAD_AGAIN,
    "truncated": _DOWNLOAD_AGAIN,
    "short-row": _DOWNLOAD_AGAIN,
    "long-row": _DOWNLOAD_AGAIN,
    "malformed": _DOWNLOAD_AGAIN,
    "header": _EXPORT_AGAIN,
    "duplicate-column": _ORIGINAL,
    "encoding": "leave checks.backup-completeness.encoding at auto, or set it to the encoding "
    "chosen in Setup > Data Export; a file that mixes encodings was changed after the export: "
    "use the original download",
    "encoding-note": "choose UTF-8 (Unicode) as the encoding of the next export, so no "
    "character is lost",
    "files-missing": _EXPORT_AGAIN,
    "files-empty": _EXPORT_AGAIN,
    "file-size": _DOWNLOAD_AGAIN + "; a file shorter than its row states was cut",
    "file-checksum": _DOWNLOAD_AGAIN + "; the file does not hash to the MD5 its row states",
    "files-unsized": "use the CSV as exported: Salesforce writes BodyLength (Attachment, "
    "Document) and ContentSize (ContentVersion), which let each file be checked",
    "not-exported": _METADATA_RETRIEVE,
    "files-unmatched": "use the CSV as exported: its header must have an Id column",
    "no-csv": _EXPORT_AGAIN,
    "missing": _EXPORT_AGAIN,
    "count-unknown": _EXPORT_AGAIN + "; or record the org's record counts again (sfaudit "
    "snapshot) so the export can be compared",
    "no-counts": "record the org's record counts (sfaudit snapshot, or a source that can "
    "count records): without them the export cannot be compared with the org",
    "short": _EXPORT_AGAIN
    + " (or raise checks.backup-completeness.tolerance if the gap is expected)",
    "age": "export again: the backup must be recent when the org is cancelled",
    "age-unknown": "verify the WE_<orgid>_<n>.ZIP parts as downloaded (their entries are "
    "dated), or unset max_age_days",
    "no-backup": _EXPORT_AGAIN + "; then set backup.path to the folder of WE_*.ZIP files "
    "(turn the check off with checks.backup-completeness.enabled: false only if another "
    "backup is verified elsewhere)",
}
#: Kinds this check emits itself (the rest come from the scanner's PROBLEM_KINDS).
CHECK_KINDS = frozenset(
    {
        "org-mismatch",
        "org-unknown",
        "missing",
        "short",
        "count-unknown",
        "no-counts",
        "part-missing",
        "age",
        "age-unknown",
        "no-backup",
        "not-exported",
    }
)


def org_counts(org: Org, ignore: Iterable[str] = ()) -> dict[str, int | None]:
    """Record counts of the org's replicateable objects that have records, and None
    for those whose count the source does not know (they may have records)."""
    skip = {str(o).lower() for o in ignore}
    return {
        o.name: o.count
        for o in org.objects()
        if o.replicateable and (o.count is None or o.count > 0) and o.name.lower() not in skip
    }


def resolve_unknown(
    counts: Mapping[str, int | None], result: ScanResult, count: Callable[[str], int]
) -> dict[str, int | None]:
    """Ask the source to count the objects whose count it does not know and the export
    has no CSV for (Salesforce's cached counts leave empty objects out): 0 drops the
    object, a number is compared as usual, and a source that cannot count keeps it
    unknown (a finding)."""
    out: dict[str, int | None] = {}
    for name, known in counts.items():
        if known is None and result.object(name) is None:
            try:
                known = count(name)
            except DataUnavailable:
                known = None
            if known == 0:
                continue
        out[name] = known
    return out


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
    counts: Mapping[str, int | None] | None,
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
    if not result.org_ids:
        where = (
            "an unpacked folder has no WE_<orgid>_<n>.ZIP names"
            if result.layout == "folder"
            else "no ZIP is named WE_<orgid>_<n>.ZIP"
        )
        out.findings.append(
            Finding(
                f"the export's org is unknown ({where}): it cannot be checked against "
                "the audited org",
                severity=Severity.INFO,
                key="org-unknown",
                data={"kind": "org-unknown"},
            )
        )
    if counts and all(c is None for c in counts.values()):
        out.findings.append(
            Finding(
                f"the org source knows no record counts ({len(counts)} objects, none "
                "counted): the export cannot be compared with the org",
                key="no-counts",
                data={"kind": "no-counts"},
            )
        )
    covered = 0
    seen: set[str] = set()
    unexported: list[str] = []
    unexported_counts: dict[str, int | None] = {}
    for name, org_count in sorted((counts or {}).items()):
        stats = find_object(result, name)
        if stats is None and never_exported(name):
            # No org count in the row: there is nothing to compare (nor to chart as a
            # gap); the note lists the counts.
            unexported.append(name)
            unexported_counts[name] = org_count
            out.rows.append(ObjectRow(name, None, None, None, "not-exported"))
            continue
        if stats is not None:
            seen.add(stats.name)
        exported = stats.records if stats else None
        if org_count is None:
            if stats is None:
                out.findings.append(
                    Finding(
                        f"{name}: the org's record count is unknown and the export has no "
                        f"{name}.csv: its records may not be backed up",
                        object=name,
                        key=f"object:{name}",
                        data={"kind": "count-unknown", "org_count": None, "export_count": 0},
                    )
                )
                out.rows.append(ObjectRow(name, None, None, None, "missing"))
            else:
                covered += 1
                status = "ok" if stats.intact else "unreliable"
                out.rows.append(ObjectRow(_label(name, stats), exported, None, None, status))
            continue
        if stats is not None and stats.records >= org_count * (1 - tolerance):
            covered += 1
            status = "ok" if stats.intact else "unreliable"
            out.rows.append(
                ObjectRow(
                    _label(name, stats), exported, org_count, org_count - stats.records, status
                )
            )
            continue
        out.findings.append(object_finding(name, org_count, exported))
        status = "missing" if stats is None else "short"
        gap = org_count - (exported or 0)
        out.rows.append(ObjectRow(name, exported, org_count, gap, status))
    if unexported:
        shown = ", ".join(unexported[:12]) + (
            f" and {len(unexported) - 12} more" if len(unexported) > 12 else ""
        )
        out.findings.append(
            Finding(
                f"{len(unexported)} object(s) with records are never in a Data Export: "
                f"{shown}; {_METADATA_RETRIEVE}",
                severity=Severity.INFO,
                key="not-exported",
                count=len(unexported),
                data={
                    "kind": "not-exported",
                    "objects": unexported,
                    "org_counts": unexported_counts,
                },
            )
        )
    for stats in sorted(result.objects.values(), key=lambda o: o.name):
        if stats.name in seen:
            continue
        if not stats.intact:
            status = "unreliable"
        elif counts is None or stats.records == 0:
            status = "ok"  # a header-only CSV: an object with no records
        else:
            status = "not-in-org"
        out.rows.append(ObjectRow(stats.name, stats.records, None, None, status))
    if today is not None and max_age_days is not None:
        out.findings.extend(_age(result, today, max_age_days))
    for finding in out.findings:
        fix = FIXES.get(str(finding.data.get("kind")))
        if fix:
            finding.data.setdefault("fix", fix)
    out.metrics = {
        "objects_covered": covered if counts is not None else len(result.objects),
        "objects_in_org": len(counts) - len(unexported) if counts is not None else None,
        "objects_not_exportable": len(unexported),
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


def find_object(result: ScanResult, name: str) -> ObjectStats | None:
    """The CSV that holds ``name``'s records: its own, or the one Data Export writes
    them to under another name (FeedItem in NewsFeed.csv)."""
    found = [stats for stem in csv_names(name) if (stats := result.object(stem)) is not None]
    # Of several (NewsFeed.csv and FeedPost.csv), the one holding the most records.
    return max(found, key=lambda stats: stats.records, default=None)


def _label(name: str, stats: ObjectStats) -> str:
    """The row's name: the CSV's, or the org object's when its CSV has another name."""
    return stats.name if stats.name.lower() == name.lower() else name


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
            record_id=p.record_id,
            count=p.count,
            key=f"{p.kind}:{p.part or ''}:{p.member or ''}:{p.object or ''}"
            + (f":{p.record_id}" if p.record_id else ""),
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
        why = (
            "an unpacked folder's file times change when it is copied"
            if result.layout == "folder"
            else "no dated entries"
        )
        yield Finding(
            f"the export's age cannot be verified ({why}); max_age_days is {max_age}",
            key="age",
            data={"kind": "age-unknown"},
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


@dataclass
class VerifyOptions:
    """How to judge an export: the check's options over the config's ``backup:`` block."""

    encoding: str = "auto"
    tolerance: float = 0.005
    require_files: bool = True
    max_age_days: int | None = None
    expected_parts: int | None = None
    ignore_objects: Sequence[str] = ()
    workers: int | None = None
    progress: bool | None = None
    today: dt.date | None = None

    @classmethod
    def from_config(
        cls,
        config: Config | None,
        options: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> VerifyOptions:
        """The options of ``checks.backup-completeness`` (or ``options``, the check's
        merged block) over ``backup.max_age_days``/``require_files``, validated (errors
        name the key); ``overrides`` (command-line flags) win where not None."""
        block: Mapping[str, Any] = (
            options if options is not None else (config.check_block(CHECK_ID) if config else {})
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        max_age = _optional(block, "max_age_days", int, config)
        require = _optional(block, "require_files", bool, config)
        out = cls(
            encoding=encoding_option(block.get("encoding"), config),
            tolerance=_number(block.get("tolerance", 0.005), config),
            require_files=(config.backup.require_files if config else True)
            if require is None
            else bool(require),
            max_age_days=(config.backup.max_age_days if config else None)
            if max_age is None
            else int(max_age),
            expected_parts=_optional(block, "expected_parts", int, config),
            ignore_objects=[str(o) for o in block.get("ignore_objects") or []],
            today=config.today if config else None,
        )
        for name, value in given.items():
            setattr(out, name, value)
        return out


def judge(
    result: ScanResult,
    options: VerifyOptions,
    org: Org | None = None,
    counts: Mapping[str, int | None] | None = None,
) -> Evaluation:
    """Judge a scan with ``options``, against ``org``'s record counts when one is given
    (``counts``: those already read with :func:`org_counts`). Raises DataUnavailable
    when the org's counts cannot be read."""
    org_id: str | None = None
    if org is not None:
        try:
            org_id = org.info().id
        except DataUnavailable:
            org_id = None
        if counts is None:
            counts = org_counts(org, options.ignore_objects)
        counts = resolve_unknown(counts, result, org.count)
    return evaluate(
        result,
        counts,
        org_id=org_id,
        tolerance=options.tolerance,
        today=options.today or dt.date.today(),
        max_age_days=options.max_age_days,
        require_files=options.require_files,
        expected_parts=options.expected_parts,
    )


def encoding_option(value: Any, config: Config | None) -> str:
    """The ``encoding`` option, validated: ``auto`` or an encoding an export can be in."""
    try:
        return normalize_encoding(str(value or "auto"))
    except ValueError as exc:
        message = f"{exc}: use auto (detect), utf-8, utf-16, iso-8859-1 or windows-1252"
        raise _error(config, message, "checks", CHECK_ID, "encoding") from None


def _error(config: Config | None, message: str, *where: str) -> Exception:
    """A bad option: a ConfigError at its key, or an input error without a config."""
    if config is None:
        return InputError(f"{'.'.join(where)}: {message}")
    return config.error(message, *where)


def _number(value: Any, config: Config | None) -> float:
    where = ("checks", CHECK_ID, "tolerance")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise _error(
            config, f"must be a fraction between 0 and 1, e.g. 0.005 (got {value!r})", *where
        )
    return float(value)


def _optional(options: Mapping[str, Any], name: str, kind: type, config: Config | None) -> Any:
    """An option whose default is None (inherit): None, or a value of ``kind``."""
    value = options.get(name)
    if value is None:
        return None
    where = ("checks", CHECK_ID, name)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise _error(config, f"must be a whole number, 0 or more (got {value!r})", *where)
    if kind is bool and not isinstance(value, bool):
        raise _error(config, f"must be true or false (got {value!r})", *where)
    return value
