"""The terminal summary: a rich table of checks and the verdict."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..results import AuditReport, Status, Verdict
from ._i18n import language
from ._view import storage_rows

_STATUS_STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.WARN: "yellow",
    Status.ERROR: "bold magenta",
    Status.SKIP: "dim",
    Status.WAIVED: "cyan",
}
_VERDICT_STYLE = {
    Verdict.READY: "bold green",
    Verdict.NOT_READY: "bold red",
    Verdict.INCOMPLETE: "bold magenta",
}


def print_summary(
    report: AuditReport,
    console: Console,
    files: Mapping[str, Path] | None = None,
    *,
    max_findings: int = 5,
) -> None:
    org = report.org
    title = f"sfaudit readiness audit: {org.get('name') or 'org'}"
    if org.get("id"):
        title += f" ({org['id']}, {org.get('edition') or 'edition unknown'}, {org.get('source')})"
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("check")
    table.add_column("severity")
    table.add_column("status")
    table.add_column("findings", justify="right")
    table.add_column("message", overflow="fold")
    for c in report.checks:
        n_failing = sum(1 for f in c.findings if f.failing)
        table.add_row(
            c.id,
            str(c.effective_severity if c.status == Status.FAIL else c.severity),
            f"[{_STATUS_STYLE[c.status]}]{c.status}[/]",
            str(n_failing) if c.findings else "",
            c.message,
        )
    console.print(table)
    en = language("en")
    storage = [f"{en.gettext(row.label)}: {row.text(en)}" for row in storage_rows(org)]
    if storage:
        console.print("; ".join(storage), highlight=False)
    for c in report.checks:
        failing = [f for f in c.findings if f.failing]
        if c.status == Status.FAIL and failing:
            console.print(f"[bold]{c.id}[/]:")
            for f in failing[:max_findings]:
                console.print(f"  - [{f.severity}] {f.message}", markup=False, highlight=False)
            if len(failing) > max_findings:
                console.print(f"  ... and {len(failing) - max_findings} more in the report")
        elif c.status == Status.ERROR:
            console.print(f"[bold magenta]{c.id}[/] errored: {c.message}", highlight=False)
    for problem in report.problems:
        console.print(f"[magenta]problem:[/] {problem}", highlight=False)
    for w in report.waivers:
        if w.expired:
            console.print(
                f"[red]expired waiver[/] for {w.check} (expired {w.expires}): {w.reason}",
                highlight=False,
            )
        elif not w.used:
            console.print(f"[yellow]unused waiver[/] for {w.check}: {w.reason}", highlight=False)
    verdict = report.verdict
    counts = ", ".join(f"{n} {s}" for s, n in report.summary.items() if n)
    console.print(
        f"verdict: [{_VERDICT_STYLE[verdict]}]{str(verdict).upper()}[/] "
        f"({counts}; fail_on={report.fail_on}) exit {report.exit_code}"
    )
    for name, path in (files or {}).items():
        console.print(f"  {name}: {path}", highlight=False)
