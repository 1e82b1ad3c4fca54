"""``sfaudit verify-backup``: scan an export on its own, optionally against an org's counts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..results import Finding, Severity

if TYPE_CHECKING:
    from rich.console import Console

    from ..checks.backup_completeness import Evaluation
    from .model import ScanResult

CHECK_ID = "backup-completeness"


@dataclass
class VerifyOptions:
    encoding: str = "auto"
    tolerance: float = 0.005
    require_files: bool = True
    max_age_days: int | None = None
    expected_parts: int | None = None
    ignore_objects: Sequence[str] = ()
    workers: int | None = None
    progress: bool | None = None
    today: dt.date | None = None


def verify(
    paths: Sequence[str],
    options: VerifyOptions,
    counts: dict[str, int | None] | None = None,
    org_id: str | None = None,
    count: Callable[[str], int] | None = None,
) -> tuple[ScanResult, Evaluation]:
    """Scan ``paths`` (one export) and judge it; ``counts`` from an org if given, and
    ``count`` (the org's COUNT()) for objects whose count is unknown and have no CSV."""
    from ..checks.backup_completeness import evaluate, resolve_unknown
    from .scanner import scan

    result = scan(
        paths if len(paths) > 1 else paths[0],
        encoding=options.encoding,
        workers=options.workers,
        progress=options.progress,
    )
    if counts is not None:
        skip = {o.lower() for o in options.ignore_objects}
        counts = {k: v for k, v in counts.items() if k.lower() not in skip}
        if count is not None:
            counts = resolve_unknown(counts, result, count)
    evaluation = evaluate(
        result,
        counts,
        org_id=org_id,
        tolerance=options.tolerance,
        today=options.today or dt.date.today(),
        max_age_days=options.max_age_days,
        require_files=options.require_files,
        expected_parts=options.expected_parts,
    )
    for finding in evaluation.findings:
        finding.severity = finding.severity or Severity.CRITICAL
        finding.fingerprint = finding.compute_fingerprint(CHECK_ID)
    return result, evaluation


def exit_code(evaluation: Evaluation) -> int:
    """0 when nothing fails, 1 when a finding does (like ``sfaudit run``)."""
    return 1 if any(f.failing for f in evaluation.findings) else 0


def to_json(result: ScanResult, evaluation: Evaluation) -> str:
    code = exit_code(evaluation)
    doc: dict[str, Any] = {
        "schema_version": 1,
        "verdict": "complete" if code == 0 else "not-complete",
        "exit_code": code,
        "objects": [row.to_dict() for row in evaluation.rows],
        "findings": [f.to_dict() for f in evaluation.findings],
        "metrics": evaluation.metrics,
        "scan": result.to_dict(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def print_table(result: ScanResult, evaluation: Evaluation, console: Console) -> None:
    """The per-object table, the parts, the findings and a verdict line."""
    from rich.table import Table

    orgs = ", ".join(result.org_ids) or "unknown org"
    when = result.exported_at.strftime("%Y-%m-%d %H:%M") if result.exported_at else "unknown"
    console.print(
        f"Data Export {result.path}: {len(result.parts)} part(s) of {orgs}, exported {when}"
    )
    console.print(
        f"scanned {result.bytes_read / 1e6:,.1f} MB ({result.bytes_inflated / 1e6:,.1f} MB "
        f"inflated) in {result.seconds:.2f} s, {result.rate_mb_s:,.0f} MB/s "
        f"({result.backend}, {result.workers} worker(s))"
    )
    if result.backend_note:
        console.print(f"[yellow]note[/] {result.backend_note}", highlight=False)
    table = Table(show_edge=False)
    for col, justify in (
        ("object", "left"),
        ("records", "right"),
        ("org count", "right"),
        ("gap", "right"),
        ("status", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    styles = {"ok": "green", "short": "red", "missing": "red", "unreliable": "red"}
    for row in evaluation.rows:
        style = styles.get(row.status, "yellow")
        table.add_row(
            row.name,
            "-" if row.export_count is None else f"{row.export_count:,}",
            "-" if row.org_count is None else f"{row.org_count:,}",
            "-" if row.gap is None else f"{row.gap:,}",
            f"[{style}]{row.status}[/]",
        )
    console.print(table)
    for fileset in result.files.values():
        checked = []
        if fileset.size_column:
            checked.append(f"{fileset.wrong_size:,} not the size {fileset.size_column} states")
        if fileset.hashed:
            checked.append(f"{fileset.wrong_hash:,} of {fileset.hashed:,} failing their MD5")
        console.print(
            f"{fileset.object} files: {fileset.files:,} in {fileset.folder or '-'} "
            f"for {fileset.rows:,} rows ({fileset.missing:,} missing, {fileset.empty:,} empty)"
            + (f"; {', '.join(checked)}" if checked else "")
        )
    failing = [f for f in evaluation.findings if f.failing]
    notes = [f for f in evaluation.findings if not f.failing]
    for f in failing:
        console.print(f"[red]FAIL[/] {_escape(f)}")
        if f.data.get("fix"):
            console.print(f"     fix: {f.data['fix']}", highlight=False, markup=False)
    for f in notes:
        console.print(f"[dim]note[/] {_escape(f)}")
    if failing:
        console.print(f"[bold red]not complete[/]: {len(failing)} finding(s) (exit 1)")
    else:
        console.print("[bold green]complete[/]: every part intact, every CSV counted (exit 0)")


def _escape(finding: Finding) -> str:
    from rich.markup import escape

    return escape(finding.message)
