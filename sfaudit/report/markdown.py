"""The Markdown summary: verdict, checks and top findings, sized for $GITHUB_STEP_SUMMARY.

GitHub caps a step summary at 1 MiB and a PR comment at 65,536 characters, so
the summary stays under :data:`MAX_BYTES` whatever the number of findings: it
lists the top findings and points to the HTML report for the rest.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..hookspecs import hookimpl
from ..results import AuditReport
from . import ReportContext, ReportFormat
from ._i18n import Language, language
from ._view import (
    AFTER_SOURCE,
    SEVERITY_LABELS,
    SEVERITY_ORDER,
    STATUS_LABELS,
    VERDICT_LABELS,
    finding_state,
    label,
    notice,
    placements,
    step_dates,
    storage_rows,
)

MAX_BYTES = 60_000
"""Upper bound on the summary's size (GitHub PR comments stop at 65,536 characters)."""
TOP_FINDINGS = 25
MAX_CHECK_ROWS = 150
MAX_CELL = 160
MAX_STEP_CHECKS = 20
"""Checks named per timeline step; the rest are counted."""

VERDICT_ICON = {"ready": "✅", "not-ready": "❌", "incomplete": "⚠️"}
STATUS_ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "error": "💥", "skip": "⏭️", "waived": "🏳️"}

_URL_SAFE = "/:?#&=%@+~.,;!$*'-_"
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(text: Any, limit: int = MAX_CELL) -> str:
    """Org text made inert in Markdown: one line, markup escaped, HTML as entities, capped."""
    value = " ".join(str(text or "").split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    value = value.replace("&", "&amp;").replace("<", "&lt;")
    return _SPECIAL.sub(r"\\\1", value)


def html_link(context: ReportContext) -> str | None:
    """Where readers find the HTML report: an explicit URL, the GitHub run, or the file."""
    explicit = context.options.get("html_url") if context.options else None
    if explicit:
        return str(explicit)
    env = os.environ
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return context.files.get("html")


def _top_findings(data: Mapping[str, Any], limit: int) -> list[tuple[str, Mapping[str, Any]]]:
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    items = [
        (c["id"], f)
        for c in data["checks"]
        for f in c.get("findings", [])
        if finding_state(f) == "open"
    ]
    items.sort(
        key=lambda item: (rank.get(str(item[1].get("severity")), 9), -(item[1].get("count") or 0))
    )
    return items[:limit]


def render_markdown(
    report: AuditReport,
    context: ReportContext,
    *,
    top: int = TOP_FINDINGS,
    max_bytes: int = MAX_BYTES,
) -> str:
    """The summary; ``top`` shrinks until it fits in ``max_bytes``."""
    data = report.to_dict()
    lang = language(context.lang or "en")
    while True:
        text = _render(data, lang, context, top)
        if len(text.encode("utf-8")) <= max_bytes or top == 0:
            return text
        top //= 2


def _render(data: Mapping[str, Any], lang: Language, context: ReportContext, top: int) -> str:
    _ = lang.gettext
    t = {
        "Audit date": _("Audit date"),
        "Check": _("Check"),
        "Full HTML readiness report": _("Full HTML readiness report"),
        "Message": _("Message"),
        "Notice deadline": _("Notice deadline"),
        "Open findings": _("Open findings"),
        "Org": _("Org"),
        "Recommended date": _("Recommended date"),
        "Refund estimate": _("Refund estimate"),
        "Renewal date": _("Renewal date"),
        "Severity": _("Severity"),
        "Status": _("Status"),
        "Top findings": _("Top findings"),
    }
    org = data.get("org") or {}
    verdict = str(data["verdict"])
    out: list[str] = []
    name = md(org.get("name") or _("org"))
    out.append(f"## {VERDICT_ICON.get(verdict, '')} {name}: {label(lang, VERDICT_LABELS, verdict)}")
    out.append("")
    env = _("sandbox") if org.get("is_sandbox") else _("production")
    org_bits = [
        f"`{md(org.get('id') or '?')}`",
        md(org.get("edition") or "?"),
        env,
        md(org.get("source") or "?"),
    ]
    out.append(
        f"**{t['Org']}:** {name} ({', '.join(org_bits)}) · "
        f"**{t['Audit date']}:** {lang.date(data.get('today'))} · "
        f"**fail_on:** {md(data.get('fail_on'))}"
    )
    storage = [f"**{_(row.label)}:** {row.text(lang)}" for row in storage_rows(org)]
    if storage:
        out.append("")
        out.append(" · ".join(storage))
    n = notice(data)
    if n.deadline:
        if n.days_left is not None and n.days_left >= 0:
            left = lang.ngettext("%(n)s day left", "%(n)s days left", n.days_left) % {
                "n": n.days_left
            }
        elif n.days_left is not None:
            left = lang.ngettext("%(n)s day late", "%(n)s days late", -n.days_left) % {
                "n": -n.days_left
            }
        else:
            left = ""
        parts = [f"**{t['Notice deadline']}:** {lang.date(n.deadline)} ({left})"]
        if n.recommended_date:
            parts.append(f"**{t['Recommended date']}:** {lang.date(n.recommended_date)}")
        if n.renewal_date:
            parts.append(f"**{t['Renewal date']}:** {lang.date(n.renewal_date)}")
        if n.refund_estimate is not None:
            parts.append(f"**{t['Refund estimate']}:** {lang.money(n.refund_estimate, n.currency)}")
        out.append("")
        out.append(" · ".join(parts))
    after = [f"**{_(what)}:** {lang.date(day)}" for _k, day, what in step_dates("after", n)]
    if after:
        out.append("")
        out.append(" · ".join(after) + f". {_(AFTER_SOURCE)}")
    summary = data.get("summary") or {}
    counts = ", ".join(
        f"{summary[s]} {label(lang, STATUS_LABELS, s)}"
        for s in ("fail", "error", "warn", "waived", "skip", "pass")
        if summary.get(s)
    )
    out += ["", counts, ""]
    problems = list(data.get("problems") or [])
    for p in problems[:10]:
        out.append(f"> ⚠️ {md(p, 300)}")
    if problems:
        out.append("")
    out += _timeline(data, lang)
    out.append(
        f"| | {t['Check']} | {t['Severity']} | {t['Status']} | "
        f"{t['Open findings']} | {t['Message']} |"
    )
    out.append("|---|---|---|---|--:|---|")
    checks = list(data["checks"])
    for c in checks[:MAX_CHECK_ROWS]:
        status = str(c["status"])
        open_n = sum(1 for f in c.get("findings", []) if finding_state(f) == "open")
        sev = label(lang, SEVERITY_LABELS, str(c.get("effective_severity") or c.get("severity")))
        out.append(
            f"| {STATUS_ICON.get(status, '')} | `{md(c['id'], 80)}` | {sev} | "
            f"{label(lang, STATUS_LABELS, status)} | {open_n} | {md(c.get('message'))} |"
        )
    if len(checks) > MAX_CHECK_ROWS:
        out.append("")
        out.append(
            _("… and %(n)s more checks in the full report.") % {"n": len(checks) - MAX_CHECK_ROWS}
        )
    total_open = sum(1 for c in checks for f in c.get("findings", []) if finding_state(f) == "open")
    findings = _top_findings(data, top)
    if findings:
        out += ["", f"### {t['Top findings']}", ""]
        for check_id, f in findings:
            sev = label(lang, SEVERITY_LABELS, str(f.get("severity")))
            out.append(f"- **{sev}** `{md(check_id, 80)}`: {md(f.get('message'), 240)}")
        if total_open > len(findings):
            out.append("")
            out.append(
                _("Showing %(shown)s of %(total)s open findings.")
                % {"shown": len(findings), "total": total_open}
            )
    link = html_link(context)
    if link:
        out += [
            "",
            f"📄 [{t['Full HTML readiness report']}]({quote(link, safe=_URL_SAFE)})",
        ]
    out.append("")
    out.append(f"<sub>sfaudit {md(data['tool']['version'])} · {md(data.get('generated_at'))}</sub>")
    return "\n".join(out) + "\n"


def _timeline(data: Mapping[str, Any], lang: Language) -> list[str]:
    """The steps of cancelling, each with the checks placed in it and their status."""
    out = [f"### {lang.gettext('Cancellation timeline')}", ""]
    for placed in placements(data):
        icon = STATUS_ICON.get(placed.status)
        head = f"{placed.step.number}. **{lang.gettext(placed.step.title)}**"
        head += f" {icon}" if icon else ""
        chips = [
            f"`{md(c['id'], 80)}` {label(lang, STATUS_LABELS, str(c.get('status')))}"
            for c in placed.checks
        ] + [f"`{md(cid, 80)}` {label(lang, STATUS_LABELS, 'not-run')}" for cid in placed.missing]
        if not chips:
            out.append(f"{head}: {lang.gettext('No check covers this step: tick it off by hand.')}")
            continue
        text = ", ".join(chips[:MAX_STEP_CHECKS])
        if len(chips) > MAX_STEP_CHECKS:
            more = lang.gettext("… and %(n)s more checks in the full report.")
            text += " " + more % {"n": len(chips) - MAX_STEP_CHECKS}
        out.append(f"{head}: {text}")
    return [*out, ""]


def write_markdown(report: AuditReport, path: Path, context: ReportContext) -> None:
    path.write_text(render_markdown(report, context), encoding="utf-8")


@hookimpl
def sfaudit_register_report_formats() -> list[ReportFormat]:
    return [
        ReportFormat(
            "md",
            "summary.md",
            write_markdown,
            "Markdown summary for CI step summaries and PR comments",
        )
    ]
