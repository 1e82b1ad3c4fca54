"""The terminal summary: a rich table of checks and the verdict."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..results import AuditReport, Status, Verdict
from ..rollup import OrgRow, Rollup
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


_ROW_STYLE = {"ready": "bold green", "not-ready": "bold red", "incomplete": "bold magenta"}


def print_rollup(rollup: Rollup, console: Console, files: Mapping[str, Path] | None = None) -> None:
    """A fleet's roll-up: one line per org by urgency, then the fleet's verdict."""
    table = Table(title="sfaudit fleet", title_justify="left", expand=False)
    for column in ("org", "verdict", "blocking", "notice deadline", "backup", "report"):
        table.add_column(column, overflow="fold")
    for row in rollup.sorted_rows():
        verdict = Text(row.verdict, style=_ROW_STYLE.get(row.verdict, "bold magenta"))
        if row.error:
            verdict.append(f"\n{row.error}", style="magenta")
        deadline = ""
        if row.deadline:
            deadline = (
                f"{row.deadline} ({row.days_left} days)"
                if row.days_left is not None
                else row.deadline
            )
        backup = []
        if row.backup_age_days is not None:
            backup.append(f"{row.backup_age_days} days old")
        if row.backup_coverage is not None:
            backup.append(f"{row.backup_coverage:.0%} covered")
        table.add_row(
            Text(row.name),
            verdict,
            Text(", ".join(f"{b.id} ({b.findings})" for b in row.blocking)),
            deadline,
            ", ".join(backup),
            Text(row.report or ""),
        )
    console.print(table)
    counts = ", ".join(f"{n} {v}" for v, n in rollup.summary().items() if n)
    word = rollup.verdict
    console.print(
        f"fleet verdict: [{_ROW_STYLE.get(word, 'bold magenta')}]{word.upper()}[/] "
        f"({counts}) exit {rollup.exit_code}"
    )
    for name, path in (files or {}).items():
        console.print(f"  {name}: {path}", highlight=False, markup=False)


class FleetProgress:
    """Orgs done, running and queued: a live line on a terminal, plain lines elsewhere
    (CI logs). Pass :meth:`event` to :func:`sfaudit.fleet.run_fleet` as ``on_event``."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.queued: list[str] = []
        self.running: list[str] = []
        self.done: list[str] = []
        self._live: Live | None = None

    def __enter__(self) -> FleetProgress:
        if self.console.is_terminal:
            self._live = Live(self._status(), console=self.console, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def _counts(self) -> str:
        return f"{len(self.done)} done, {len(self.running)} running, {len(self.queued)} queued"

    def _status(self) -> Text:
        text = Text(f"fleet: {self._counts()}")
        if self.running:
            text.append(f"  (auditing {', '.join(self.running)})", style="dim")
        return text

    def event(self, kind: str, name: str, row: OrgRow | None) -> None:
        if kind == "queued":
            self.queued.append(name)
        elif kind == "started":
            if name in self.queued:
                self.queued.remove(name)
            self.running.append(name)
        elif kind == "finished":
            if name in self.running:
                self.running.remove(name)
            self.done.append(name)
        if kind == "queued":
            return
        if kind == "finished" and row is not None:
            line = Text(f"{name}: ")
            line.append(row.verdict, style=_ROW_STYLE.get(row.verdict, "bold magenta"))
            line.append(f" (exit {row.exit_code})  [{self._counts()}]")
            if self._live is not None:
                self._live.console.print(line)
            else:
                self.console.print(line, highlight=False)
        elif self._live is None:
            self.console.print(Text(f"{name}: started  [{self._counts()}]"), highlight=False)
        if self._live is not None:
            self._live.update(self._status())
