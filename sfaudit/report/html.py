"""The HTML readiness report: one self-contained file rendered with Jinja2.

No external requests: CSS, JavaScript and SVG charts are inline. Findings
travel as compact JSON in a ``<script type="application/json">`` block (gzip
and base64 when large) and the page renders, filters and paginates them, so
a report with 100,000 findings stays small and opens quickly.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..results import AuditReport
from . import ReportContext, ReportFormat
from ._i18n import Language, language
from ._view import (
    AFTER_SOURCE,
    BASELINE_LABELS,
    SEVERITY_LABELS,
    SEVERITY_ORDER,
    STATE_LABELS,
    STATUS_LABELS,
    VERDICT_EXPLAIN,
    VERDICT_LABELS,
    ChartView,
    charts,
    finding_state,
    label,
    notice,
    placements,
    step_dates,
    storage_rows,
)

if TYPE_CHECKING:
    import jinja2

PREVIEW_ROWS = 20
"""Findings rendered into the HTML itself per check, for readers without JavaScript."""
FACET_LIMIT = 300
"""Most frequent objects and owners offered in a check's filter menus."""
GZIP_ABOVE = 512 * 1024
"""Embedded findings larger than this (bytes of JSON) are gzipped and base64-encoded."""

_ORG_KEYS = ("id", "name", "edition", "is_sandbox", "instance", "source", "storage")
_COLUMNS = (
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
)


def script_json(value: Any) -> str:
    """JSON safe inside ``<script>``: no ``<``, ``>`` or ``&`` can end or confuse the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Strings:
    """Interns strings so repeated users, objects and owners are stored once."""

    def __init__(self) -> None:
        self.table: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: Any) -> int:
        if value is None or value == "":
            return -1
        text = str(value)
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.table)
            self.table.append(text)
        return found


def findings_payload(checks: list[Mapping[str, Any]]) -> tuple[str, str]:
    """The findings of every check as ``(encoding, text)`` for the data script.

    Each check's rows are one flat integer array (``len(_COLUMNS)`` per finding)
    indexing an interned string table; ``count`` is stored as itself (-1 for none).
    """
    strings = _Strings()
    out: dict[str, Any] = {"columns": list(_COLUMNS), "strings": strings.table, "checks": {}}
    count_col = _COLUMNS.index("count")
    for c in checks:
        flat: list[int | float] = []
        for f in [*c.get("findings", []), *c.get("resolved", [])]:
            row = {**f, "state": finding_state(f)}
            for i, col in enumerate(_COLUMNS):
                if i == count_col:
                    n = row.get("count")
                    flat.append(
                        n if isinstance(n, (int, float)) and not isinstance(n, bool) else -1
                    )
                else:
                    flat.append(strings(row.get(col)))
        out["checks"][c["id"]] = flat
    text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
    if len(text) > GZIP_ABOVE:
        packed = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
        return "gzip+base64", json.dumps(base64.b64encode(packed).decode("ascii"))
    return "json", script_json(out)


def _facets(findings: list[Mapping[str, Any]], key: str) -> list[tuple[str, int]]:
    counter = Counter(str(f[key]) for f in findings if f.get(key))
    return counter.most_common(FACET_LIMIT)


def _metrics(lang: Language, metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Metric rows for people: scalars as they are, nested values summarised."""
    rows = []
    for key, value in metrics.items():
        name = lang.gettext(key.replace("_", " "))
        if isinstance(value, Mapping) and len(value) > 12:
            text = lang.ngettext("%(n)s entry", "%(n)s entries", len(value)) % {
                "n": lang.number(len(value))
            }
        elif isinstance(value, list) and len(value) > 12:
            text = lang.ngettext("%(n)s item", "%(n)s items", len(value)) % {
                "n": lang.number(len(value))
            }
        else:
            text = lang.value(value)
        if len(text) > 400:
            text = text[:400] + "…"
        rows.append((name, text))
    return rows


def _check_view(lang: Language, c: Mapping[str, Any]) -> dict[str, Any]:
    findings = list(c.get("findings", []))
    resolved = list(c.get("resolved", []))
    everything = findings + resolved
    states = Counter(finding_state(f) for f in everything)
    severities = Counter(
        str(f.get("severity") or "") for f in findings if finding_state(f) != "resolved"
    )
    present = {col for f in everything for col in _COLUMNS if f.get(col) not in (None, "")}
    preview = []
    for f in everything[:PREVIEW_ROWS]:
        state = finding_state(f)
        preview.append({**f, "state": state})
    return {
        **c,
        "status_label": label(lang, STATUS_LABELS, str(c.get("status"))),
        "severity_label": label(
            lang, SEVERITY_LABELS, str(c.get("effective_severity") or c.get("severity"))
        ),
        "metric_rows": _metrics(lang, c.get("metrics") or {}),
        "total": len(everything),
        "failing": states["open"],
        "states": [(s, label(lang, STATE_LABELS, s), states[s]) for s in STATE_LABELS if states[s]],
        "severities": [
            (s, label(lang, SEVERITY_LABELS, s), severities[s])
            for s in SEVERITY_ORDER
            if severities[s]
        ],
        "objects": _facets(everything, "object"),
        "owners": _facets(everything, "owner"),
        "new": sum(1 for f in findings if f.get("baseline") == "new"),
        "resolved_count": len(resolved),
        "has": sorted(present),
        "preview": preview,
    }


def _chart_view(chart: ChartView, lang: Language, html_id: str) -> dict[str, Any]:
    series = chart.data
    names = [lang.gettext(series.labels.get(s, s)) for s in series.series]
    classes = [f"s{7 if s == series.other else i % 7}" for i, s in enumerate(series.series)]
    return {
        "id": html_id,
        "kind": chart.kind,
        "caption": lang.gettext(chart.title),
        "check": chart.check,
        "series": series.series,
        "names": names,
        "classes": classes,
        "rows": series.rows,
        "max_total": series.max_total or 1.0,
        "max_value": series.max_value or 1.0,
    }


def _chart_views(data: Mapping[str, Any], lang: Language) -> list[dict[str, Any]]:
    """Every declared chart with data; ``id="chart-<name>"``, made unique by the check id."""
    out, used = [], set()
    for chart in charts(data):
        html_id = f"chart-{chart.name}"
        if html_id in used:
            html_id = f"chart-{chart.check}-{chart.name}"
        used.add(html_id)
        out.append(_chart_view(chart, lang, html_id))
    return out


def template_environment(lang: Language) -> jinja2.Environment:
    """The Jinja2 environment of the HTML pages (the readiness report, the fleet
    roll-up): the package's templates, autoescaped, strict, with ``lang``'s gettext
    and its ``number``, ``date`` and ``value`` filters."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sfaudit.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(lang.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = lang.number
    env.filters["date"] = lambda v, fmt="long": lang.date(v, fmt)
    env.filters["value"] = lang.value
    return env


def render_html(report: AuditReport, context: ReportContext) -> str:
    """The whole report as one HTML string in ``context.lang``."""
    lang = language(context.lang or "en")
    data: dict[str, Any] = report.to_dict()
    data["org"] = {**dict.fromkeys(_ORG_KEYS), **(data.get("org") or {})}
    env = template_environment(lang)
    checks = [_check_view(lang, c) for c in data["checks"]]
    by_id = {c["id"]: c for c in checks}
    dates = notice(data)
    timeline = []
    for placed in placements(data):
        status = placed.status
        timeline.append(
            {
                "number": placed.step.number,
                "key": placed.step.key,
                "title": lang.gettext(placed.step.title),
                "todo": [lang.gettext(i) for i in placed.step.items],
                "checks": [by_id[str(c["id"])] for c in placed.checks],
                "missing": placed.missing,
                "status": status,
                "status_label": label(lang, STATUS_LABELS, status) if status else "",
                "dates": [
                    {"key": key, "date": day, "label": lang.gettext(what)}
                    for key, day, what in step_dates(placed.step.key, dates)
                ],
            }
        )
    encoding, payload = findings_payload(data["checks"])
    ui = {
        "severity": {k: lang.gettext(v) for k, v in SEVERITY_LABELS.items()},
        "state": {k: lang.gettext(v) for k, v in STATE_LABELS.items()},
        "baseline": {k: lang.gettext(v) for k, v in BASELINE_LABELS.items()},
        "none": lang.gettext("No findings match."),
        "range": lang.gettext("%(from)s–%(to)s of %(total)s"),  # noqa: RUF001
        "until": lang.gettext("until %(date)s"),
        "noData": lang.gettext("The findings could not be loaded in this browser."),
        "locale": lang.locale.replace("_", "-"),
    }
    return env.get_template("report.html.j2").render(
        r=data,
        lang=lang,
        html_lang=lang.lang,
        title=context.title or lang.gettext("Salesforce cancellation readiness"),
        files=dict(context.files),
        verdict_label=label(lang, VERDICT_LABELS, data["verdict"]),
        verdict_explain=label(lang, VERDICT_EXPLAIN, data["verdict"]),
        status_labels={k: lang.gettext(v) for k, v in STATUS_LABELS.items()},
        severity_labels={k: lang.gettext(v) for k, v in SEVERITY_LABELS.items()},
        notice=dates,
        storage=[
            (row, lang.gettext(row.label), row.text(lang)) for row in storage_rows(data["org"])
        ],
        after_source=lang.gettext(AFTER_SOURCE),
        timeline=timeline,
        checks=checks,
        charts=_chart_views(data, lang),
        payload=payload,
        payload_encoding=encoding,
        ui=script_json(ui),
        total_findings=sum(c["total"] for c in checks),
        css=_asset("report.css"),
        js=_asset("report.js"),
    )


def _asset(name: str) -> str:
    """A static file from the templates folder, inlined as it is (not a Jinja template)."""
    return resources.files("sfaudit.report").joinpath("templates").joinpath(name).read_text("utf-8")


def write_html(report: AuditReport, path: Path, context: ReportContext) -> None:
    path.write_text(render_html(report, context), encoding="utf-8")


@hookimpl
def sfaudit_register_report_formats() -> list[ReportFormat]:
    return [
        ReportFormat("html", "readiness.html", write_html, "self-contained HTML readiness report")
    ]
