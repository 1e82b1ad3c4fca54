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

NOTICE_CHECK = "notice-deadline"
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


def check_by_id(data: Mapping[str, Any], check_id: str) -> Mapping[str, Any] | None:
    return next((c for c in data.get("checks", []) if c.get("id") == check_id), None)


@dataclass
class Notice:
    """The notice countdown and refund, from the notice-deadline check's metrics."""

    present: bool = False
    status: str = "not-run"
    deadline: dt.date | None = None
    recommended_date: dt.date | None = None
    renewal_date: dt.date | None = None
    full_refund_until: dt.date | None = None
    days_left: int | None = None
    refund_estimate: float | None = None
    currency: str = "EUR"
    notice_sent: dt.date | None = None
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
        ]
        return sorted(((k, d, m) for k, d, m in items if d is not None), key=lambda e: e[1])


def notice(data: Mapping[str, Any]) -> Notice:
    """Read the notice dates; any missing piece stays None (the check may not have run)."""
    contract = data.get("contract") or {}
    result = check_by_id(data, NOTICE_CHECK)
    out = Notice(currency=str(contract.get("currency") or "EUR"))
    out.notice_sent = parse_date(contract.get("notice_sent"))
    start = parse_date(contract.get("start_date"))
    if start is not None:
        out.full_refund_until = start + dt.timedelta(days=FULL_REFUND_DAYS - 1)
    if result is None:
        return out
    metrics = result.get("metrics") or {}
    out.present = True
    out.status = str(result.get("status", "not-run"))
    out.deadline = parse_date(metrics.get("deadline"))
    out.recommended_date = parse_date(metrics.get("recommended_date"))
    out.renewal_date = parse_date(metrics.get("renewal_date"))
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
# The cancellation timeline (the seed guide's process)
# -------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    items: tuple[str, ...]
    checks: tuple[str, ...]


TIMELINE = (
    Step(
        1,
        N_("Understand the contract"),
        (
            N_("Read the Order Form: end date, notice period, renewal terms"),
            N_("Give written notice at least 30 days before the end date; 60 days is safer"),
            N_("A cancellation in the first month of the term is refunded in full, later pro rata"),
        ),
        ("notice-deadline",),
    ),
    Step(
        2,
        N_("Prepare"),
        (
            N_("Back up all data and files with Data Export"),
            N_("Evaluate alternatives: a cheaper edition or fewer licences"),
            N_("Offboard users and admins"),
            N_("Reassign record ownership to a custodian"),
            N_("Stop scheduled jobs and integrations"),
        ),
        (
            "backup-completeness",
            "license-utilization",
            "active-users",
            "record-ownership",
            "scheduled-jobs",
        ),
    ),
    Step(
        3,
        N_("Submit the cancellation"),
        (
            N_("Setup → Billing (Manage Subscription): request the cancellation"),
            N_("State the reason for cancelling"),
            N_("Send it before the notice deadline"),
        ),
        ("notice-deadline",),
    ),
    Step(
        4,
        N_("After the cancellation"),
        (
            N_("Get written confirmation of the cancellation"),
            N_("Watch the invoices: no renewal, the refund arrives"),
        ),
        (),
    ),
)


def worst_status(statuses: Iterable[str]) -> str:
    ranked = sorted(statuses, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 99)
    return ranked[0] if ranked else "not-run"


# -------------------------------------------------------------------------
# Chart data
# -------------------------------------------------------------------------


@dataclass
class Series:
    """A stacked or grouped bar chart: ``rows`` of ``(label, {series: value})``."""

    series: list[str]
    rows: list[tuple[str, dict[str, float]]]

    @property
    def max_total(self) -> float:
        return max((sum(v.values()) for _, v in self.rows), default=0.0)

    @property
    def max_value(self) -> float:
        return max((max(v.values(), default=0.0) for _, v in self.rows), default=0.0)


OTHER_OWNERS = N_("other owners")


def reassign_chart(
    data: Mapping[str, Any], top_objects: int = 12, top_owners: int = 6
) -> Series | None:
    """Records to reassign by object (bars) and owner (stacks), from record-ownership findings."""
    result = check_by_id(data, "record-ownership")
    if result is None:
        return None
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    by_owner: Counter[str] = Counter()
    for f in result.get("findings", []):
        if finding_state(f) == "resolved" or not f.get("object"):
            continue
        count = f.get("count")
        n = int(count) if isinstance(count, (int, float)) else 1
        owner = str(f.get("owner") or f.get("user") or "?")
        totals[str(f["object"])][owner] += n
        by_owner[owner] += n
    if not totals:
        return None
    owners = [o for o, _ in by_owner.most_common(top_owners)]
    other = OTHER_OWNERS
    objects = sorted(totals, key=lambda o: -sum(totals[o].values()))[:top_objects]
    rows = []
    for obj in objects:
        values = {o: float(totals[obj][o]) for o in owners if totals[obj][o]}
        rest = sum(n for o, n in totals[obj].items() if o not in owners)
        if rest:
            values[other] = float(rest)
        rows.append((obj, values))
    series = owners + ([other] if any(other in v for _, v in rows) else [])
    return Series(series, rows)


def backup_chart(data: Mapping[str, Any], top: int = 15) -> Series | None:
    """Org count against export count per object, from backup-completeness metrics or findings."""
    result = check_by_id(data, "backup-completeness")
    if result is None:
        return None
    per_object: dict[str, dict[str, float]] = {}
    for name, org_n, export_n in _count_pairs(result.get("metrics") or {}):
        per_object[name] = {"org": org_n, "export": export_n}
    for f in result.get("findings", []):
        d = f.get("data") or {}
        if f.get("object") and _num(d.get("org_count")) is not None:
            per_object[str(f["object"])] = {
                "org": _num(d.get("org_count")) or 0.0,
                "export": _num(d.get("export_count")) or 0.0,
            }
    if not per_object:
        return None
    names = sorted(
        per_object,
        key=lambda n: (-(per_object[n]["org"] - per_object[n]["export"]), -per_object[n]["org"], n),
    )[:top]
    return Series(["org", "export"], [(n, per_object[n]) for n in names])


def _count_pairs(metrics: Mapping[str, Any]) -> list[tuple[str, float, float]]:
    """Per-object ``(name, org_count, export_count)`` wherever the metrics hold them:
    ``{object: {org_count, export_count}}`` or ``[{object|name, org_count, export_count}]``."""
    out: list[tuple[str, float, float]] = []
    for value in metrics.values():
        items: list[tuple[Any, Any]] = []
        if isinstance(value, Mapping):
            items = list(value.items())
        elif isinstance(value, list):
            items = [
                (item.get("object") or item.get("name"), item)
                for item in value
                if isinstance(item, Mapping)
            ]
        for name, item in items:
            if name and isinstance(item, Mapping) and _num(item.get("org_count")) is not None:
                org_n = _num(item["org_count"]) or 0.0
                out.append((str(name), org_n, _num(item.get("export_count")) or 0.0))
    return out


def users_chart(data: Mapping[str, Any]) -> Series | None:
    """Users by licence (bars) and status (stacks).

    From license-utilization's ``licenses`` metric (assigned and active, assigned
    but idle, unassigned seats) when it ran, else active-users' ``by_license``
    (active users per licence). Also reads a ``{licence: {status: n}}`` mapping
    under any metric key naming licences, for plugins that report more.
    """
    rows: dict[str, dict[str, float]] = defaultdict(dict)
    lic_check = check_by_id(data, "license-utilization")
    per_license = (lic_check.get("metrics") or {}).get("licenses") if lic_check else None
    if isinstance(per_license, Mapping):
        for lic, fig in per_license.items():
            if not isinstance(fig, Mapping) or _num(fig.get("used")) is None:
                continue
            used, idle = _num(fig.get("used")) or 0.0, _num(fig.get("idle")) or 0.0
            rows[str(lic)] = {
                USER_STATUS_ACTIVE: max(0.0, used - idle),
                USER_STATUS_IDLE: idle,
                USER_STATUS_UNASSIGNED: _num(fig.get("unused")) or 0.0,
            }
    users = check_by_id(data, "active-users")
    if not rows and users is not None:
        for key, value in (users.get("metrics") or {}).items():
            if "licen" not in key.lower() or not isinstance(value, Mapping):
                continue
            for lic, item in value.items():
                if isinstance(item, Mapping):
                    for status, n in item.items():
                        if _num(n) is not None:
                            rows[str(lic)][str(status)] = _num(n) or 0.0
                elif _num(item) is not None:
                    rows[str(lic)][USER_STATUS_ACTIVE] = _num(item) or 0.0
    rows = {lic: {s: n for s, n in v.items() if n} for lic, v in rows.items() if any(v.values())}
    if not rows:
        return None
    known = [USER_STATUS_ACTIVE, USER_STATUS_IDLE, USER_STATUS_UNASSIGNED]
    series = [s for s in known if any(s in v for v in rows.values())]
    for values in rows.values():
        series.extend(s for s in values if s not in series)
    ordered = sorted(rows, key=lambda lic: -sum(rows[lic].values()))
    return Series(series, [(lic, rows[lic]) for lic in ordered])


USER_STATUS_ACTIVE = N_("active")
USER_STATUS_IDLE = N_("idle")
USER_STATUS_UNASSIGNED = N_("unassigned seats")


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
