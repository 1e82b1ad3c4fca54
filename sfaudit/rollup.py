"""The roll-up of many audits: one row per org, built from each org's ``report.json``.

``sfaudit fleet`` builds it from the audits it ran, ``sfaudit merge`` from reports
made elsewhere (a CI matrix), and the notifiers turn it into one message. Both
paths go through :func:`row_from_report`, so a fleet and a merge of the same
reports give the same roll-up.

Nothing here knows a check by name: the notice deadline is read from the metrics
of a check placed at the ``contract`` step that reports a ``deadline`` (as the
HTML timeline does), and the backup from a check whose metrics carry
``exported_at`` (its age) and ``objects_covered`` / ``objects_in_org`` (coverage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .results import EXIT_CODES, Verdict

#: The version of ``fleet.json``; bumped only with a note in the README.
FLEET_SCHEMA_VERSION = 1

_VERDICT_RANK = {"ready": 0, "not-ready": 1, "incomplete": 2}


@dataclass(frozen=True)
class BlockingCheck:
    """A check that keeps an org from being ready, with its failing finding count."""

    id: str
    title: str
    severity: str
    status: str
    findings: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "findings": self.findings,
        }


@dataclass(frozen=True)
class OrgRow:
    """One org in a roll-up. ``report`` is the link to the org's own report
    (relative to the roll-up, or a published URL), None when there is none;
    ``error`` says why an org could not be audited."""

    name: str
    verdict: str
    exit_code: int
    org: Mapping[str, Any] = field(default_factory=dict)
    today: str | None = None
    blocking: tuple[BlockingCheck, ...] = ()
    deadline: str | None = None
    days_left: int | None = None
    backup_exported_at: str | None = None
    backup_age_days: int | None = None
    backup_coverage: float | None = None
    report: str | None = None
    error: str | None = None

    def urgency(self) -> tuple[int, int, str]:
        """Sort key: orgs that are not ready first (incomplete and not-ready
        together), nearest notice deadline first among them, then by name."""
        not_ready = 0 if self.verdict != "ready" else 1
        days = self.days_left if self.days_left is not None else 10**6
        return (not_ready, days, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "org": dict(self.org),
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "today": self.today,
            "blocking": [b.to_dict() for b in self.blocking],
            "notice": {"deadline": self.deadline, "days_left": self.days_left},
            "backup": {
                "exported_at": self.backup_exported_at,
                "age_days": self.backup_age_days,
                "coverage": self.backup_coverage,
            },
            "report": self.report,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> OrgRow:
        """The row :meth:`to_dict` wrote (an org of a ``fleet.json``)."""
        notice = raw.get("notice") or {}
        backup = raw.get("backup") or {}
        coverage = backup.get("coverage")
        return cls(
            name=str(raw.get("name") or "org"),
            verdict=str(raw.get("verdict") or "incomplete"),
            exit_code=_exit_code(raw, str(raw.get("verdict") or "incomplete")),
            org=dict(raw.get("org") or {}),
            today=raw.get("today"),
            blocking=tuple(
                BlockingCheck(
                    id=str(b.get("id")),
                    title=str(b.get("title") or b.get("id")),
                    severity=str(b.get("severity") or ""),
                    status=str(b.get("status") or ""),
                    findings=_int(b.get("findings")) or 0,
                )
                for b in raw.get("blocking") or []
            ),
            deadline=notice.get("deadline"),
            days_left=_int(notice.get("days_left")),
            backup_exported_at=backup.get("exported_at"),
            backup_age_days=_int(backup.get("age_days")),
            backup_coverage=float(coverage) if isinstance(coverage, (int, float)) else None,
            report=raw.get("report"),
            error=raw.get("error"),
        )


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                return None
    return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _shape(value: Any, kind: type, where: str) -> str | None:
    if value is None or isinstance(value, kind):
        return None
    want = "an object" if kind is dict else "a list"
    return f"{where} is {want} in an sfaudit file, not {type(value).__name__}"


def report_problem(report: Mapping[str, Any]) -> str | None:
    """What keeps :func:`row_from_report` from reading ``report`` (a parsed
    ``report.json``): the first part that has the wrong shape, or None."""
    checks = report.get("checks")
    if report.get("verdict") not in _VERDICT_RANK:
        return f"verdict {report.get('verdict')!r} is not one of {', '.join(_VERDICT_RANK)}"
    for problem in (
        _shape(report.get("org"), dict, "org"),
        _shape(checks, list, "checks"),
        _shape(report.get("blocking"), list, "blocking"),
        _shape(report.get("problems"), list, "problems"),
        _shape(report.get("timeline"), dict, "timeline"),
    ):
        if problem:
            return problem
    timeline = report.get("timeline") or {}
    problem = _shape(timeline.get("contract"), list, "timeline.contract")
    if problem:
        return problem
    for i, check in enumerate(checks or []):
        if not isinstance(check, dict):
            return f"checks[{i}] is an object in an sfaudit file, not {type(check).__name__}"
        for part, kind in (("findings", list), ("metrics", dict)):
            problem = _shape(check.get(part), kind, f"checks[{i}].{part}")
            if problem:
                return problem
        for j, finding in enumerate(check.get("findings") or []):
            if not isinstance(finding, dict):
                return f"checks[{i}].findings[{j}] is an object in an sfaudit file, not " + (
                    type(finding).__name__
                )
    return None


def fleet_problem(doc: Mapping[str, Any]) -> str | None:
    """What keeps :meth:`Rollup.from_dict` from reading ``doc`` (a parsed ``fleet.json``):
    the first part that has the wrong shape, or None."""
    orgs = doc.get("orgs")
    problem = _shape(doc.get("tool"), dict, "tool") or _shape(orgs, list, "orgs")
    if problem:
        return problem
    for i, row in enumerate(orgs or []):
        if not isinstance(row, dict):
            return f"orgs[{i}] is an object in an sfaudit file, not {type(row).__name__}"
        if row.get("verdict") not in _VERDICT_RANK:
            return f"orgs[{i}].verdict {row.get('verdict')!r} is not one of " + ", ".join(
                _VERDICT_RANK
            )
        for part, kind in (("org", dict), ("notice", dict), ("backup", dict), ("blocking", list)):
            problem = _shape(row.get(part), kind, f"orgs[{i}].{part}")
            if problem:
                return problem
        for j, check in enumerate(row.get("blocking") or []):
            if not isinstance(check, dict):
                return f"orgs[{i}].blocking[{j}] is an object in an sfaudit file, not " + (
                    type(check).__name__
                )
    return None


def row_from_report(
    report: Mapping[str, Any], name: str | None = None, link: str | None = None
) -> OrgRow:
    """The roll-up row of one ``report.json`` (already parsed).

    :param name: the org's name in the fleet (default: the org's name in the report).
    :param link: where the org's report is, as the roll-up should link it.
    """
    checks: list[Mapping[str, Any]] = list(report.get("checks") or [])
    by_id = {str(c.get("id")): c for c in checks}
    blocking = []
    for check_id in report.get("blocking") or []:
        check = by_id.get(str(check_id), {})
        failing = [
            f
            for f in check.get("findings") or []
            if not f.get("waived_by") and f.get("severity") != "info"
        ]
        blocking.append(
            BlockingCheck(
                id=str(check_id),
                title=str(check.get("title") or check_id),
                severity=str(check.get("severity") or ""),
                status=str(check.get("status") or ""),
                findings=len(failing),
            )
        )
    today = _date(report.get("today"))
    contract_steps = set((report.get("timeline") or {}).get("contract") or [])
    deadline: dt.date | None = None
    days_left: int | None = None
    for check in checks:
        metrics = check.get("metrics") or {}
        if contract_steps and check.get("id") not in contract_steps:
            continue
        found = _date(metrics.get("deadline"))
        if found is not None:
            deadline = found
            days_left = _int(metrics.get("days_left"))
            if days_left is None and today is not None:
                days_left = (found - today).days
            break
    exported: dt.date | None = None
    exported_raw: str | None = None
    coverage: float | None = None
    for check in checks:
        metrics = check.get("metrics") or {}
        if "exported_at" not in metrics and "objects_in_org" not in metrics:
            continue
        exported = _date(metrics.get("exported_at"))
        exported_raw = str(metrics["exported_at"]) if metrics.get("exported_at") else None
        covered, total = _int(metrics.get("objects_covered")), _int(metrics.get("objects_in_org"))
        if covered is not None and total:
            coverage = round(covered / total, 4)
        break
    org = report.get("org") or {}
    verdict = str(report.get("verdict") or "incomplete")
    return OrgRow(
        name=name or str(org.get("name") or org.get("id") or "org"),
        verdict=verdict,
        exit_code=_exit_code(report, verdict),
        org={k: org.get(k) for k in ("id", "name", "edition", "source") if k in org},
        today=today.isoformat() if today else None,
        blocking=tuple(blocking),
        deadline=deadline.isoformat() if deadline else None,
        days_left=days_left,
        backup_exported_at=exported_raw,
        backup_age_days=(today - exported).days if today and exported else None,
        backup_coverage=coverage,
        report=link,
        error=_why_incomplete(report, checks) if verdict == "incomplete" else None,
    )


def _why_incomplete(report: Mapping[str, Any], checks: Sequence[Mapping[str, Any]]) -> str | None:
    """Why an audit is incomplete, in a line: its first problem or errored check."""
    reasons = [str(p) for p in report.get("problems") or []]
    reasons += [
        f"{c.get('id')} errored: {c.get('message') or ''}".rstrip(": ")
        for c in checks
        if c.get("status") == "error"
    ]
    if not reasons:
        return None
    text = reasons[0] + (f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else "")
    return text if len(text) <= 500 else text[:499] + "…"


def incomplete_row(name: str, error: str) -> OrgRow:
    """The row of an org that could not be audited (its error, already free of secrets)."""
    return OrgRow(name=name, verdict="incomplete", exit_code=3, error=error)


@dataclass
class Rollup:
    """Rows of many orgs; the fleet's verdict and exit code are the worst of them."""

    rows: list[OrgRow]
    generated_at: str | None = None
    tool_version: str | None = None

    @property
    def verdict(self) -> str:
        if not self.rows:
            return "incomplete"
        return max((r.verdict for r in self.rows), key=lambda v: _VERDICT_RANK.get(v, 2))

    @property
    def exit_code(self) -> int:
        """The worst org's exit code (3 > 2 > 1 > 0); a roll-up of no orgs is incomplete."""
        return worst_exit_code([r.exit_code for r in self.rows])

    def sorted_rows(self) -> list[OrgRow]:
        """The rows by urgency (see :meth:`OrgRow.urgency`)."""
        return sorted(self.rows, key=OrgRow.urgency)

    def summary(self) -> dict[str, int]:
        counts = {"ready": 0, "not-ready": 0, "incomplete": 0}
        for row in self.rows:
            counts[row.verdict if row.verdict in counts else "incomplete"] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The ``fleet.json`` document (schema version :data:`FLEET_SCHEMA_VERSION`)."""
        from . import __version__

        return {
            "schema_version": FLEET_SCHEMA_VERSION,
            "tool": {"name": "sfaudit", "version": self.tool_version or __version__},
            "generated_at": self.generated_at,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "summary": self.summary(),
            "orgs": [row.to_dict() for row in self.sorted_rows()],
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Rollup:
        """The roll-up a ``fleet.json`` holds (what :meth:`to_dict` wrote)."""
        tool = doc.get("tool") or {}
        return cls(
            [OrgRow.from_dict(o) for o in doc.get("orgs") or []],
            generated_at=doc.get("generated_at"),
            tool_version=tool.get("version"),
        )

    @classmethod
    def from_reports(
        cls,
        reports: Iterable[tuple[Mapping[str, Any], str | None, str | None]],
        generated_at: str | None = None,
    ) -> Rollup:
        """A roll-up of ``(report_json, name, link)`` triples."""
        return cls([row_from_report(r, n, link) for r, n, link in reports], generated_at)


def _exit_code(report: Mapping[str, Any], verdict: str) -> int:
    code = _int(report.get("exit_code"))
    if code is not None:
        return code
    return EXIT_CODES[Verdict(verdict)] if verdict in _VERDICT_RANK else 3


def worst_exit_code(codes: Sequence[int]) -> int:
    """The worst of some exit codes: incomplete (3) > usage error (2) > not ready (1) >
    ready (0); none at all is incomplete."""
    return max(codes) if codes else 3
