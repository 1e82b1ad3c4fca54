"""The HTML readiness report: one self-contained file rendered with Jinja2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..hookspecs import hookimpl
from ..results import AuditReport
from . import ReportContext, ReportFormat


def render_html(report: AuditReport, context: ReportContext) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sfaudit.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    data: dict[str, Any] = report.to_dict()
    return env.get_template("report.html.j2").render(
        r=data, title=context.title or "Salesforce cancellation readiness", files=context.files
    )


def write_html(report: AuditReport, path: Path, context: ReportContext) -> None:
    path.write_text(render_html(report, context), encoding="utf-8")


@hookimpl
def sfaudit_register_report_formats() -> list[ReportFormat]:
    return [ReportFormat("html", "readiness.html", write_html, "self-contained HTML readiness report")]
