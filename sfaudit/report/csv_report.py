"""All findings as CSV, one row per finding, for spreadsheets.

UTF-8 with a byte-order mark, so Excel reads names with accents correctly.
Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) are prefixed with ``'``: an org value
must never become code in the reader's spreadsheet.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..hookspecs import hookimpl
from ..results import AuditReport
from . import ReportContext, ReportFormat
from ._view import finding_state

COLUMNS = (
    "check",
    "check_title",
    "check_status",
    "severity",
    "state",
    "message",
    "user",
    "object",
    "record_id",
    "owner",
    "count",
    "baseline",
    "waived_by",
    "waiver_expires",
    "fingerprint",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str | int | float:
    """A cell value that cannot start a spreadsheet formula (and holds no NUL,
    which spreadsheets drop and Python 3.10's csv module cannot write)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value).replace("\x00", "")
    return "'" + text if text.startswith(_FORMULA_START) else text


def finding_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for c in data["checks"]:
        for f in [*c.get("findings", []), *c.get("resolved", [])]:
            row = {
                "check": c["id"],
                "check_title": c.get("title"),
                "check_status": c.get("status"),
                "state": finding_state(f),
                **{k: f.get(k) for k in COLUMNS if k in f},
            }
            rows.append({k: safe_cell(row.get(k)) for k in COLUMNS})
    return rows


def write_csv(report: AuditReport, path: Path, context: ReportContext) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(finding_rows(report.to_dict()))


@hookimpl
def sfaudit_register_report_formats() -> list[ReportFormat]:
    return [ReportFormat("csv", "findings.csv", write_csv, "every finding as CSV, one row each")]
