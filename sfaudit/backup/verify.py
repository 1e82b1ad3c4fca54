"""``sfaudit verify-backup``: scan an export on its own, optionally against an org's counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..results import Finding, Severity
from .evaluate import CHECK_ID, Evaluation, VerifyOptions, judge, org_counts

if TYPE_CHECKING:
    from rich.console import Console

    from ..sources import Org
    from .model import ScanResult

__all__ = ["VerifyOptions", "exit_code", "print_table", "to_json", "verify"]


def verify(
    paths: Sequence[str], options: VerifyOptions, org: Org | None = None
) -> tuple[ScanResult, Evaluation]:
    """Scan ``paths`` (one export) and judge it, against ``org``'s record counts when
    given (read first, so a source without counts fails before the scan)."""
    from .scanner import scan

    counts = org_counts(org, options.ignore_objects) if org is not None else None
    result = scan(
        paths if len(paths) > 1 else paths[0],
        encoding=options.encoding,
        workers=options.workers,
        progress=options.progress,
    )
    evaluation = judge(result, options, org, counts)
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
