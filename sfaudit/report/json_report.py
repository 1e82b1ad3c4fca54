"""The JSON report (schema version 1), the contract CI pipelines read."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ..hookspecs import hookimpl
from ..results import AuditReport
from . import ReportContext, ReportFormat


def write_json(report: AuditReport, path: Path, context: ReportContext) -> None:
    path.write_text(report.to_json() + "\n", encoding="utf-8")


def report_schema() -> dict[str, Any]:
    """The JSON Schema of report.json, shipped in the package."""
    text = resources.files("sfaudit.report").joinpath("report.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@hookimpl
def sfaudit_register_report_formats() -> list[ReportFormat]:
    return [ReportFormat("json", "report.json", write_json, "machine-readable report, schema v1")]
