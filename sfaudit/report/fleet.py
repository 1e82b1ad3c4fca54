"""The roll-up of a fleet: ``fleet.html``, ``fleet.json`` and ``fleet.md``.

``sfaudit fleet`` and ``sfaudit merge`` write them from one
:class:`~sfaudit.rollup.Rollup`. The HTML is self-contained and looks like the
readiness report (it inlines the same stylesheet); the Markdown fits a GitHub step
summary; ``fleet.json`` follows ``fleet.schema.json`` (schema version 1).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._files import atomic_write
from ..errors import UsageError
from ..rollup import OrgRow, Rollup
from ._i18n import N_, Language, language
from ._view import VERDICT_LABELS, label
from .markdown import VERDICT_ICON, md

#: Roll-up format → its file in the roll-up's folder.
ROLLUP_FILES = {"html": "fleet.html", "json": "fleet.json", "md": "fleet.md"}
MAX_MD_ROWS = 300
"""Orgs listed in fleet.md (a step summary stops at 1 MiB); the rest are counted."""

COUNT_LABELS = {
    "ready": N_("ready"),
    "not-ready": N_("not ready"),
    "incomplete": N_("incomplete"),
}
FLEET_EXPLAIN = {
    "ready": N_("Every org is ready to cancel."),
    "not-ready": N_("At least one org is not ready to cancel."),
    "incomplete": N_("At least one org could not be audited, so the fleet cannot say ready."),
}
_URL_SAFE = "/:?#&=%@+~.,;!$*'-_"
_ROW_STATUS = {"ready": "pass", "not-ready": "fail", "incomplete": "error"}


def fleet_schema() -> dict[str, Any]:
    """The JSON Schema of fleet.json, shipped in the package."""
    text = resources.files("sfaudit.report").joinpath("fleet.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def render_json(rollup: Rollup) -> str:
    return json.dumps(rollup.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _days(lang: Language, days: int | None) -> str:
    if days is None:
        return ""
    if days >= 0:
        return lang.ngettext("%(n)s day left", "%(n)s days left", days) % {"n": days}
    return lang.ngettext("%(n)s day late", "%(n)s days late", -days) % {"n": -days}


def _backup(lang: Language, row: OrgRow) -> str:
    parts = []
    if row.backup_age_days is not None:
        parts.append(
            lang.ngettext("%(n)s day old", "%(n)s days old", row.backup_age_days)
            % {"n": row.backup_age_days}
        )
    if row.backup_coverage is not None:
        parts.append(lang.gettext("%(pct)s covered") % {"pct": lang.percent(row.backup_coverage)})
    return ", ".join(parts)


def _row_view(lang: Language, row: OrgRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "org": dict(row.org),
        "verdict": row.verdict,
        "status": _ROW_STATUS.get(row.verdict, "error"),
        "verdict_label": label(lang, VERDICT_LABELS, row.verdict),
        "exit_code": row.exit_code,
        "blocking": [b.to_dict() for b in row.blocking],
        "deadline": row.deadline,
        "days_left": row.days_left,
        "days_text": _days(lang, row.days_left),
        "backup_text": _backup(lang, row),
        "report": row.report,
        "error": row.error,
    }


def render_html(rollup: Rollup, *, lang: str = "en", title: str | None = None) -> str:
    """The roll-up as one self-contained HTML page, orgs sorted by urgency."""
    from .html import _asset, template_environment

    language_ = language(lang)
    env = template_environment(language_)
    doc = rollup.to_dict()
    return env.get_template("fleet.html.j2").render(
        f=doc,
        lang=language_,
        html_lang=language_.lang,
        title=title or language_.gettext("Salesforce fleet readiness"),
        verdict_label=label(language_, VERDICT_LABELS, rollup.verdict),
        verdict_explain=label(language_, FLEET_EXPLAIN, rollup.verdict),
        counts=[(v, label(language_, COUNT_LABELS, v), n) for v, n in rollup.summary().items()],
        rows=[_row_view(language_, r) for r in rollup.sorted_rows()],
        css=_asset("report.css"),
    )


def render_markdown(rollup: Rollup, *, lang: str = "en", title: str | None = None) -> str:
    """The roll-up as Markdown, for a GitHub step summary or a PR comment."""
    la = language(lang)
    _ = la.gettext
    verdict = rollup.verdict
    name = md(title or _("Salesforce fleet readiness"))
    out = [
        f"## {VERDICT_ICON.get(verdict, '')} {name}: {label(la, VERDICT_LABELS, verdict)}",
        "",
        label(la, FLEET_EXPLAIN, verdict),
        "",
        ", ".join(f"{n} {label(la, COUNT_LABELS, v)}" for v, n in rollup.summary().items()),
        "",
        f"| | {_('Org')} | {_('Verdict')} | {_('Blocking checks')} | {_('Notice deadline')} "
        f"| {_('Backup')} | {_('Report')} |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = rollup.sorted_rows()
    for row in rows[:MAX_MD_ROWS]:
        blocking = ", ".join(f"`{md(b.id, 80)}` ({b.findings})" for b in row.blocking)
        if row.error:
            blocking = (blocking + " " if blocking else "") + f"⚠️ {md(row.error, 200)}"
        deadline = ""
        if row.deadline:
            deadline = f"{la.date(row.deadline, 'medium')} ({_days(la, row.days_left)})"
        link = (
            f"[{_('open')}]({quote(row.report, safe='/:?#&=%@+~.,;!$*-_')})" if row.report else ""
        )
        out.append(
            f"| {VERDICT_ICON.get(row.verdict, '')} | **{md(row.name, 80)}** | "
            f"{label(la, VERDICT_LABELS, row.verdict)} | {blocking} | {deadline} | "
            f"{_backup(la, row)} | {link} |"
        )
    if len(rows) > MAX_MD_ROWS:
        out += ["", _("… and %(n)s more orgs in fleet.html.") % {"n": len(rows) - MAX_MD_ROWS}]
    tool = rollup.to_dict()["tool"]
    out += ["", f"<sub>sfaudit {md(tool['version'])} · {md(rollup.generated_at)}</sub>"]
    return "\n".join(out) + "\n"


def check_formats(formats: Iterable[str]) -> list[str]:
    """The roll-up formats asked for; an unknown one is a usage error."""
    from . import check_formats as check

    return check(formats, ROLLUP_FILES, what="roll-up")


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def write_rollup(
    rollup: Rollup,
    output_dir: Path,
    formats: Iterable[str] = tuple(ROLLUP_FILES),
    *,
    lang: str = "en",
    title: str | None = None,
) -> dict[str, Path]:
    """Write the roll-up in ``formats`` into ``output_dir``; the files by format."""
    names = check_formats(formats)
    renderers: Mapping[str, Any] = {
        "html": lambda: render_html(rollup, lang=lang, title=title),
        "json": lambda: render_json(rollup),
        "md": lambda: render_markdown(rollup, lang=lang, title=title),
    }
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot write the roll-up to {output_dir}: {exc.strerror}",
            hint="pass -o with a writable folder",
        ) from None
    written = {}
    for name in names:
        text = renderers[name]()
        target = output_dir / ROLLUP_FILES[name]
        atomic_write(target, functools.partial(_write_text, text=text))
        written[name] = target
    return written
