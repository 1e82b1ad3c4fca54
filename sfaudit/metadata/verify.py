"""``sfaudit verify-metadata``: a metadata backup against the org's inventory, on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results import Severity
from .backup import MetadataBackup, read_backup
from .evaluate import CHECK_ID, Evaluation, MetadataOptions, judge

if TYPE_CHECKING:
    from rich.console import Console

    from ..sources import Org

__all__ = ["exit_code", "print_table", "to_json", "verify"]


def verify(
    path: str | Path, options: MetadataOptions, org: Org
) -> tuple[MetadataBackup, Evaluation]:
    """Read the backup at ``path`` and judge it against ``org``'s inventory."""
    backup = read_backup(path)
    before = int(org.metrics().get("api_requests") or 0)
    inventory = org.metadata(options.types)
    evaluation = judge(backup, inventory, options)
    evaluation.metrics["api_requests"] = int(org.metrics().get("api_requests") or 0) - before
    for finding in evaluation.findings:
        finding.severity = finding.severity or Severity.HIGH
        finding.fingerprint = finding.compute_fingerprint(CHECK_ID)
    return backup, evaluation


def exit_code(evaluation: Evaluation) -> int:
    """0 when covered, 1 when a finding fails (like ``sfaudit run``)."""
    return 1 if evaluation.failing else 0


def to_json(backup: MetadataBackup, evaluation: Evaluation) -> str:
    code = exit_code(evaluation)
    doc: dict[str, Any] = {
        "schema_version": 1,
        "verdict": "covered" if code == 0 else "not-covered",
        "exit_code": code,
        "backup": {"path": str(backup.path), "layout": backup.layout, "files": backup.files},
        "types": [row.to_dict() for row in evaluation.rows],
        "findings": [f.to_dict() for f in evaluation.findings],
        "metrics": evaluation.metrics,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def print_table(backup: MetadataBackup, evaluation: Evaluation, console: Console) -> None:
    from rich.table import Table

    table = Table(title=f"{backup.path} ({backup.layout}, {backup.files} files)")
    for column in ("type", "in org", "in backup", "missing", "status"):
        table.add_column(column, justify="left" if column in ("type", "status") else "right")
    for row in evaluation.rows:
        table.add_row(
            row.type,
            "?" if row.org is None else str(row.org),
            str(row.backup),
            "?" if row.missing is None else str(row.missing),
            row.status,
        )
    console.print(table)
    for finding in evaluation.findings:
        mark = "info" if finding.severity is Severity.INFO else "FAIL"
        console.print(f"{mark}: {finding.message}", markup=False)
    code = exit_code(evaluation)
    console.print(
        "covered: every component of the org is in the backup"
        if code == 0
        else "not covered: see the findings above",
        markup=False,
    )
