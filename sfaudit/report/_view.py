"""What the human-facing writers share: labels, the notice dates, the timeline, chart data.

Everything here reads the JSON report contract (``AuditReport.to_dict()``), so
a writer renders exactly what ``report.json`` says.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..registry import DEFAULT_STEP
from ._i18n import N_, Language, parse_date

VERDICT_LABELS = {
    "ready": N_("Ready to cancel"),
    "not-ready": N_("Not ready to cancel"),
    "incomplete": N_("Audit incomplete"),
}
VERDICT_EXPLAIN = {
    "ready": N_("No failing check blocks the cancellation."),
    "not-ready": N_("At least one failing check blocks the cancellation."),
    "incomplete": N_(
        "The audit could not finish: an org read or a check failed, so it cannot say ready."
    ),
}
STATUS_LABELS = {
    "pass": N_("pass"),
    "fail": N_("fail"),
    "warn": N_("warning"),
    "error": N_("error"),
    "skip": N_("skipped"),
    "waived": N_("waived"),
    "not-run": N_("not run"),
}
SEVERITY_LABELS = {
    "critical": N_("critical"),
    "high": N_("high"),
    "medium": N_("medium"),
    "low": N_("low"),
    "info": N_("info"),
}
STATE_LABELS = {
    "open": N_("open"),
    "waived": N_("waived"),
    "note": N_("note"),
    "resolved": N_("resolved"),
}
BASELINE_LABELS = {"new": N_("new"), "existing": N_("existing"), "resolved": N_("resolved")}

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
STATUS_ORDER = ("error", "fail", "warn", "waived", "skip", "pass", "not-run")
"""Worst first: a timeline step takes the worst status among its checks."""

FULL_REFUND_DAYS = 30


def finding_state(finding: Mapping[str, Any]) -> str:
    """``open`` (counts against ready), ``waived``, ``note`` (info) or ``resolved``."""
    if finding.get("baseline") == "resolved":
        return "resolved"
    if finding.get("waived_by"):
        return "waived"
    if finding.get("severity") == "info":
        return "note"
    return "open"


# -------------------------------------------------------------------------
# The cancellation timeline (the seed guide's process)
# -------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    key: str
    number: int
    title: str
    items: tuple[str, ...]


TIMELINE = (
    Step(
        "contract",
        1,
        N_("Understand the contract"),
        (
            N_("Read the Order Form: end date, notice period, renewal terms"),
            N_("Give written notice at least 30 days before the end date; 60 days is safer"),
            N_("A cancellation in the first month of the term is refunded in full, later pro rata"),
        ),
    ),
    Step(
        "prepare",
        2,
        N_("Prepare"),
        (
            N_("Back up all data and files with Data Export"),
            N_("Evaluate alternatives: a cheaper edition or fewer licences"),
            N_("Offboard users and admins"),
            N_("Reassign record ownership to a custodian"),
            N_("Stop scheduled jobs and integrations"),
        ),
    ),
    Step(
        "submit",
        3,
        N_("Submit the cancellation"),
        (
            N_("Setup → Billing (Manage Subscription): request the cancellation"),
            N_("State the reason for cancelling"),
            N_("Send it before the notice deadline"),
        ),
    ),
    Step(
        "after",
        4,
        N_("After the cancellation"),
        (
            N_("Get written confirmation of the cancellation"),
            N_("Watch the invoices: no renewal, the refund arrives"),
        ),
    ),
)
"""One section per step of :data:`sfaudit.registry.STEPS`, in that order."""


@dataclass
class PlacedStep:
    """One step of the timeline with the checks that placed themselves there."""

    step: Step
    checks: list[Mapping[str, Any]]
    """Results of the checks that ran, in the report's order."""
    missing: list[str]
    """Ids of checks placed here that did not run (not selected, or disabled)."""

    @property
    def status(self) -> str:
        """The worst status of its checks; ``not-run`` when none ran; "" when none covers it."""
        if self.checks:
            return worst_status(str(c.get("status")) for c in self.checks)
        return "not-run" if self.missing else ""


def placements(data: Mapping[str, Any]) -> list[PlacedStep]:
    """The timeline from the report's ``timeline`` (every registered check's steps);
    a check the report holds but places nowhere is shown under the default step."""
    declared: Mapping[str, Any] = data.get("timeline") or {}
    results = {str(c.get("id")): c for c in data.get("checks", [])}
    ids: dict[str, list[str]] = {step.key: [] for step in TIMELINE}
    for key, placed in declared.items():
        if key in ids:
            ids[key].extend(str(cid) for cid in placed)
    known = {cid for placed in ids.values() for cid in placed}
    ids[DEFAULT_STEP].extend(cid for cid in results if cid not in known)
    order = {cid: i for i, cid in enumerate(results)}
    out = []
    for step in TIMELINE:
        unique = list(dict.fromkeys(ids[step.key]))
        ran = sorted((cid for cid in unique if cid in results), key=order.__getitem__)
        missing = [cid for cid in unique if cid not in results]
        out.append(PlacedStep(step, [results[cid] for cid in ran], missing))
    return out


def worst_status(statuses: Iterable[str]) -> str:
    ranked = sorted(statuses, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 99)
    return ranked[0] if ranked else "not-run"


# -------------------------------------------------------------------------
# The org's storage (report.json ``org.storage``)
# -------------------------------------------------------------------------

STORAGE_LABELS = {
    "data_storage_mb": N_("Data storage"),
    "file_storage_mb": N_("File storage"),
}


@dataclass(frozen=True)
class StorageRow:
    """One storage figure for the report header: MB used of MB allowed."""

    key: str
    label: str
    """msgid"""
    used: int
    allowed: int

    @property
    def over_quota(self) -> bool:
        return self.used > self.allowed

    @property
    def share(self) -> float | None:
        """Used as a share of allowed (above 1 when over quota); None when nothing is allowed."""
        return self.used / self.allowed if self.allowed > 0 else None

    def text(self, lang: Language) -> str:
        """``1.120 MB of 5.120 MB (22%)``, with "over quota" when used exceeds allowed."""
        text = lang.gettext("%(used)s MB of %(allowed)s MB") % {
            "used": lang.number(self.used),
            "allowed": lang.number(self.allowed),
        }
        if self.share is not None:
            text += f" ({lang.percent(self.share)})"
        if self.over_quota:
            text += ", " + lang.gettext("over quota")
        return text


def storage_rows(org: Mapping[str, Any]) -> list[StorageRow]:
    """The storage figures ``org.storage`` holds; none when it is unknown (older reports)."""
    storage = org.get("storage")
    if not isinstance(storage, Mapping):
        return []
    out = []
    for key, msgid in STORAGE_LABELS.items():
        use = storage.get(key)
        if not isinstance(use, Mapping):
            continue
        used, allowed = _num(use.get("used")), _num(use.get("allowed"))
        if used is not None and allowed is not None:
            out.append(StorageRow(key, msgid, int(used), int(allowed)))
    return out


# -------------------------------------------------------------------------
# The notice countdown
# -------------------------------------------------------------------------


@dataclass
class Notice:
    """The notice countdown and refund, from the metrics of the ``contract`` step's check."""

    present: bool = False
    status: str = "not-run"
    check: str | None = None
    """The check the dates come from, or that would give them (None: no contract check)."""
    deadline: dt.date | None = None
    recommended_date: dt.date | None = None
    renewal_date: dt.date | None = None
    full_refund_until: dt.date | None = None
    days_left: int | None = None
    refund_estimate: float | None = None
    currency: str = "EUR"
    notice_sent: dt.date | None = None
    data_return_until: dt.date | None = None
    """Last day to ask Salesforce for the data back (from Salesforce's documentation)."""
    deletion_date: dt.date | None = None
    """The day by which Salesforce has deleted the data (from Salesforce's documentation)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def events(self) -> list[tuple[str, dt.date, str]]:
        """``(key, date, description msgid)`` for each known date, in date order."""
        items = [
            ("recommended_date", self.recommended_date, N_("Recommended date to send the notice")),
            ("deadline", self.deadline, N_("Notice deadline: last day to give written notice")),
            ("full_refund_until", self.full_refund_until, N_("End of the full-refund window")),
            (
                "renewal_date",
                self.renewal_date,
                N_("Renewal date: the contract renews without notice"),
            ),
            *self.after_events(),
        ]
        return sorted(((k, d, m) for k, d, m in items if d is not None), key=lambda e: e[1])

    def after_events(self) -> list[tuple[str, dt.date | None, str]]:
        """The dates after the contract ends, for the timeline's ``after`` step."""
        return [
            (
                "data_return_until",
                self.data_return_until,
                N_("Last day to ask Salesforce for the data"),
            ),
            ("deletion_date", self.deletion_date, N_("Salesforce deletes the data")),
        ]


def step_dates(step: str, n: Notice) -> list[tuple[str, dt.date, str]]:
    """The known dates a timeline step shows: the data-return window after the end."""
    if step != "after":
        return []
    return [(k, d, m) for k, d, m in n.after_events() if d is not None]


AFTER_SOURCE = N_(
    "From Salesforce's documentation, not from your contract: check it against the Order Form."
)
"""The caveat shown with every date of :meth:`Notice.after_events`."""


def notice(data: Mapping[str, Any]) -> Notice:
    """Read the notice dates from the first ``contract``-step check whose metrics hold a
    ``deadline`` (else the first that ran); any missing piece stays None."""
    contract = data.get("contract") or {}
    out = Notice(currency=str(contract.get("currency") or "EUR"))
    out.notice_sent = parse_date(contract.get("notice_sent"))
    start = parse_date(contract.get("start_date"))
    if start is not None:
        out.full_refund_until = start + dt.timedelta(days=FULL_REFUND_DAYS - 1)
    step = next(p for p in placements(data) if p.step.key == "contract")
    dated = [c for c in step.checks if parse_date((c.get("metrics") or {}).get("deadline"))]
    result = next(iter(dated or step.checks), None)
    out.check = str(result["id"]) if result is not None else next(iter(step.missing), None)
    if result is None:
        return out
    metrics = result.get("metrics") or {}
    out.present = True
    out.status = str(result.get("status", "not-run"))
    out.deadline = parse_date(metrics.get("deadline"))
    out.recommended_date = parse_date(metrics.get("recommended_date"))
    out.renewal_date = parse_date(metrics.get("renewal_date"))
    out.data_return_until = parse_date(metrics.get("data_return_until"))
    out.deletion_date = parse_date(metrics.get("deletion_date"))
    for key in ("full_refund_until", "full_refund_end", "refund_window_end"):
        if parse_date(metrics.get(key)) is not None:
            out.full_refund_until = parse_date(metrics.get(key))
    days_left = metrics.get("days_left")
    out.days_left = int(days_left) if isinstance(days_left, (int, float)) else None
    refund = metrics.get("refund_estimate")
    out.refund_estimate = float(refund) if isinstance(refund, (int, float)) else None
    out.currency = str(metrics.get("currency") or out.currency)
    return out


# -------------------------------------------------------------------------
# Charts: what each check declares (``@check(charts=[Chart(...)])``)
# -------------------------------------------------------------------------


@dataclass
class Series:
    """A stacked or grouped bar chart: ``rows`` of ``(label, {series: value})``."""

    series: list[str]
    rows: list[tuple[str, dict[str, float]]]
    labels: dict[str, str] = field(default_factory=dict)
    """Series key → legend label (msgid); a key without one is its own label."""
    other: str | None = None
    """The series key that sums what the top series leave out, if any."""

    @property
    def max_total(self) -> float:
        return max((sum(v.values()) for _, v in self.rows), default=0.0)

    @property
    def max_value(self) -> float:
        return max((max(v.values(), default=0.0) for _, v in self.rows), default=0.0)


@dataclass
class ChartView:
    """A chart to draw: its declaration, the check that declared it, and its data."""

    name: str
    title: str
    kind: str
    check: str
    data: Series


def charts(data: Mapping[str, Any]) -> list[ChartView]:
    """Every chart the checks declare and have data for, in the report's check order."""
    out = []
    for c in data.get("checks", []):
        for decl in c.get("charts") or []:
            series = chart_series(c, decl)
            if series is not None and series.rows:
                name = str(decl.get("name") or "chart")
                out.append(
                    ChartView(
                        name,
                        str(decl.get("title") or name),
                        str(decl.get("kind") or "stacked"),
                        str(c.get("id")),
                        series,
                    )
                )
    return out


def chart_series(result: Mapping[str, Any], decl: Mapping[str, Any]) -> Series | None:
    """The rows of one declared chart, from the check's metrics or findings."""
    pairs = [(str(k), str(v)) for k, v in decl.get("series") or []]
    top = int(decl.get("top") or 15)
    if decl.get("findings"):
        return _findings_series(result, decl, top)
    metric = (result.get("metrics") or {}).get(str(decl.get("metric") or ""))
    rows = _metric_rows(metric)
    keys = [k for k, _ in pairs] or list(
        dict.fromkeys(k for _, v in rows for k, n in v.items() if _num(n) is not None)
    )
    if not keys:
        return None
    table: list[tuple[str, dict[str, float]]] = []
    for name, item in rows:
        if _value(item, keys[0]) is None:
            continue
        table.append((name, {k: _value(item, k) or 0.0 for k in keys}))
    if decl.get("kind") != "grouped":
        table = [(n, {k: x for k, x in v.items() if x}) for n, v in table]
        table = [(n, v) for n, v in table if v]
        keys = [k for k in keys if any(k in v for _, v in table)]
    if decl.get("sort") == "gap" and len(keys) > 1:
        a, b = keys[0], keys[1]
        table.sort(key=lambda r: (-(r[1].get(a, 0.0) - r[1].get(b, 0.0)), -r[1].get(a, 0.0), r[0]))
    else:
        table.sort(key=lambda r: -sum(r[1].values()))
    return Series(keys, table[:top], dict(pairs))


def _findings_series(result: Mapping[str, Any], decl: Mapping[str, Any], top: int) -> Series | None:
    """Findings grouped by one field (bars) and stacked by another, summing their counts."""
    row_field, stack_field = str(decl["findings"]), str(decl.get("stack") or "")
    top_series = int(decl.get("top_series") or 0)
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    by_stack: Counter[str] = Counter()
    for f in result.get("findings", []):
        if finding_state(f) == "resolved" or not f.get(row_field):
            continue
        count = f.get("count")
        n = int(count) if isinstance(count, (int, float)) else 1
        stack = str(f.get(stack_field) or "?") if stack_field else "count"
        totals[str(f[row_field])][stack] += n
        by_stack[stack] += n
    if not totals:
        return None
    stacks = [s for s, _ in by_stack.most_common(top_series or None)]
    other = str(decl.get("other") or "others")
    rows = []
    for name in sorted(totals, key=lambda o: -sum(totals[o].values()))[:top]:
        values = {s: float(totals[name][s]) for s in stacks if totals[name][s]}
        rest = sum(n for s, n in totals[name].items() if s not in stacks)
        if rest:
            values[other] = float(rest)
        rows.append((name, values))
    has_other = any(other in v for _, v in rows)
    return Series(stacks + ([other] if has_other else []), rows, other=other if has_other else None)


def _metric_rows(metric: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """``{row: {key: n}}``, ``{row: n}`` or ``[{name|object|type: row, key: n}]`` as
    ``(row, item)``."""
    if isinstance(metric, Mapping):
        return [(str(k), v if isinstance(v, Mapping) else {"value": v}) for k, v in metric.items()]
    if isinstance(metric, list):
        return [
            (str(item.get("object") or item.get("name") or item.get("type")), item)
            for item in metric
            if isinstance(item, Mapping)
            and (item.get("object") or item.get("name") or item.get("type"))
        ]
    return []


def _value(item: Mapping[str, Any], key: str) -> float | None:
    """``item[key]``, or for ``a-b`` the difference (at least 0; a missing ``b`` is 0)."""
    if key in item or "-" not in key:
        return _num(item.get(key))
    a, _, b = key.partition("-")
    first = _num(item.get(a))
    return None if first is None else max(0.0, first - (_num(item.get(b)) or 0.0))


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def label(lang: Language, table: Mapping[str, str], key: str) -> str:
    """The translated label for ``key`` in one of the tables above (the key itself if unknown)."""
    return lang.gettext(table[key]) if key in table else key


METRIC_NAMES = (
    N_("deadline"),
    N_("recommended date"),
    N_("days left"),
    N_("renewal date"),
    N_("term end"),
    N_("notice days"),
    N_("notice sent"),
    N_("refund estimate"),
    N_("currency"),
    N_("full refund until"),
    N_("refund as of"),
    N_("term fee"),
    N_("unused days"),
    N_("data return until"),
    N_("deletion date"),
    N_("data storage mb"),
    N_("file storage mb"),
    N_("can log in"),
    N_("admins"),
    N_("frozen"),
    N_("allowed"),
    N_("system"),
    N_("findings"),
    N_("by license"),
    N_("objects"),
    N_("owners"),
    N_("records inactive"),
    N_("records other owners"),
    N_("records queues"),
    N_("by object"),
    N_("custodians"),
    N_("firing"),
    N_("by type"),
    N_("not firing"),
    N_("data export next"),
    N_("total"),
    N_("used"),
    N_("unused"),
    N_("needed"),
    N_("licenses"),
    N_("inactive days"),
    N_("api requests"),
)
"""Metric names of the built-in checks (``days_left`` is shown as "days left"), for translation."""
