"""The result model: severities, statuses, findings, check results and the audit verdict."""

from __future__ import annotations

import datetime as dt
import enum
import fnmatch
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    """How much a failing check matters, lowest to highest."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r}; use one of {names}") from None

    def raised(self, steps: int = 1) -> Severity:
        """The severity ``steps`` levels higher, capped at critical."""
        order = list(Severity)
        return order[min(len(order) - 1, order.index(self) + steps)]

    def __str__(self) -> str:
        return self.value


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}

#: The values of ``fail_on`` (config, ``--fail-on``, ``--sfaudit-fail-on``), highest first.
FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "info", "never")


class Status(str, enum.Enum):
    """The outcome of one check."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    ERROR = "error"
    SKIP = "skip"
    WAIVED = "waived"

    def __str__(self) -> str:
        return self.value


class Outcome(str, enum.Enum):
    """How the check function itself ended, before waivers are applied."""

    PASS = "pass"
    ASSERT = "assert"
    WARN = "warn"
    SKIP = "skip"
    ERROR = "error"
    WAIVED = "waived"


class Verdict(str, enum.Enum):
    READY = "ready"
    NOT_READY = "not-ready"
    INCOMPLETE = "incomplete"

    def __str__(self) -> str:
        return self.value

    @property
    def words(self) -> str:
        """The verdict as prose: ``not ready``."""
        return self.value.replace("-", " ")


EXIT_CODES = {Verdict.READY: 0, Verdict.NOT_READY: 1, Verdict.INCOMPLETE: 3}

# Finding fields that identify it across runs; the message is left out on
# purpose, because it carries counts that change while the problem stays.
_IDENTITY_FIELDS = ("user", "object", "record_id", "owner", "key")


@dataclass
class Finding:
    """One thing that stands between the org and "ready".

    ``severity`` defaults to the check's severity; ``info`` findings are
    notes that never make a check fail. ``key`` overrides the identity used
    for the fingerprint when the standard fields do not identify the finding.
    """

    message: str
    severity: Severity | None = None
    user: str | None = None
    object: str | None = None
    record_id: str | None = None
    owner: str | None = None
    count: int | None = None
    key: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    waived_by: str | None = None
    waiver_expires: str | None = None
    baseline: str | None = None

    def __post_init__(self) -> None:
        if self.severity is not None and not isinstance(self.severity, Severity):
            self.severity = Severity.parse(self.severity)

    @property
    def failing(self) -> bool:
        return self.waived_by is None and self.severity is not Severity.INFO

    def compute_fingerprint(self, check_id: str) -> str:
        parts = [check_id] + [f"{name}={getattr(self, name) or ''}" for name in _IDENTITY_FIELDS]
        if not any(getattr(self, name) for name in _IDENTITY_FIELDS):
            parts.append(self.message)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    def matches(self, match: Mapping[str, Any]) -> bool:
        """True when every ``match`` item equals this finding's field (or data key).

        Values may be shell-style patterns: ``{user: "*@vendor.example"}``.
        """
        for name, expected in match.items():
            value = getattr(self, name) if name in FINDING_FIELDS else self.data.get(name)
            if value is None or not fnmatch.fnmatchcase(str(value), str(expected)):
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "severity": str(self.severity) if self.severity else None,
            "message": self.message,
            "user": self.user,
            "object": self.object,
            "record_id": self.record_id,
            "owner": self.owner,
            "count": self.count,
            "waived_by": self.waived_by,
            "waiver_expires": self.waiver_expires,
            "baseline": self.baseline,
            "data": _jsonable(self.data),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Finding:
        return cls(
            message=str(raw.get("message", "")),
            severity=Severity.parse(raw["severity"]) if raw.get("severity") else None,
            user=raw.get("user"),
            object=raw.get("object"),
            record_id=raw.get("record_id"),
            owner=raw.get("owner"),
            count=raw.get("count"),
            data=dict(raw.get("data") or {}),
            fingerprint=str(raw.get("fingerprint", "")),
            waived_by=raw.get("waived_by"),
            waiver_expires=raw.get("waiver_expires"),
            baseline=raw.get("baseline"),
        )


FINDING_FIELDS = {"message", "severity", "user", "object", "record_id", "owner", "count", "key"}


@dataclass
class CheckResult:
    """What one check produced."""

    id: str
    title: str
    severity: Severity
    status: Status = Status.PASS
    message: str = ""
    duration_s: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    traceback: str | None = None
    explain: str = ""
    fix: str = ""
    tags: tuple[str, ...] = ()
    plugin: str = ""
    resolved: list[Finding] = field(default_factory=list)
    waived_reason: str | None = None
    outcome: Outcome = Outcome.PASS
    summary: str = ""
    """Template for ``message`` when findings (not an assert) fail the check."""
    auto_message: bool = False
    data_missing: bool = False
    """Skipped because the source could not answer (not because it does not apply)."""
    charts: list[dict[str, Any]] = field(default_factory=list)
    """The check's chart declarations (``Chart.to_dict()``), drawn by the report."""

    @property
    def effective_severity(self) -> Severity:
        """The highest severity among failing findings, else the check's own."""
        failing = [f.severity for f in self.findings if f.failing and f.severity]
        return max(failing, key=lambda s: s.rank) if failing else self.severity

    def settle(self) -> None:
        """Derive ``status`` (and an automatic message) from the raw outcome and
        the possibly waived findings."""
        if self.auto_message:
            self.message = self._findings_message()
        # Findings a check yielded before it skipped still fail it: a skip
        # must never hide what was already found.
        if self.outcome == Outcome.ERROR:
            self.status = Status.ERROR
        elif self.waived_reason is not None:
            self.status = Status.WAIVED
        elif self.outcome == Outcome.ASSERT or any(f.failing for f in self.findings):
            self.status = Status.FAIL
        elif self.outcome == Outcome.SKIP:
            self.status = Status.SKIP
        elif any(f.waived_by for f in self.findings):
            self.status = Status.WAIVED
        elif self.outcome == Outcome.WARN:
            self.status = Status.WARN
        else:
            self.status = Status.PASS

    def _findings_message(self) -> str:
        failing = sum(1 for f in self.findings if f.failing)
        waived = sum(1 for f in self.findings if f.waived_by)
        if failing and self.summary:
            try:
                return self.summary.format(
                    **{**self.metrics, "findings": failing, "waived": waived}
                )
            except (KeyError, IndexError, ValueError, AttributeError):
                pass
        parts = []
        if failing:
            parts.append(f"{failing} finding{'s' if failing != 1 else ''}")
        if waived:
            parts.append(f"{waived} waived")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": str(self.severity),
            "effective_severity": str(self.effective_severity),
            "status": str(self.status),
            "message": self.message,
            "duration_s": round(self.duration_s, 4),
            "explain": self.explain,
            "fix": self.fix,
            "tags": list(self.tags),
            "plugin": self.plugin,
            "findings": [f.to_dict() for f in self.findings],
            "resolved": [f.to_dict() for f in self.resolved],
            "metrics": _jsonable(self.metrics),
            "traceback": self.traceback,
            "data_missing": self.data_missing,
            "charts": _jsonable(self.charts),
        }


@dataclass
class WaiverUse:
    check: str
    reason: str
    expires: dt.date
    match: dict[str, Any]
    used: bool = False
    expired: bool = False
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "match": _jsonable(self.match),
            "reason": self.reason,
            "expires": self.expires.isoformat(),
            "used": self.used,
            "expired": self.expired,
        }


@dataclass
class AuditReport:
    """The whole audit: what every writer renders and what decides the exit code."""

    checks: list[CheckResult]
    today: dt.date
    fail_on: str
    org: dict[str, Any] = field(default_factory=dict)
    waivers: list[WaiverUse] = field(default_factory=list)
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    contract: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    config_path: str | None = None
    baseline_path: str | None = None
    lang: str = "en"
    problems: list[str] = field(default_factory=list)
    timeline: dict[str, list[str]] = field(default_factory=dict)
    """Step of cancelling → ids of the checks placed there (every registered check,
    run or not), as ``registry.timeline`` builds it."""

    def counts_against(self, result: CheckResult) -> bool:
        """Does this failing check block "ready" under ``fail_on``?"""
        if result.status != Status.FAIL or self.fail_on == "never":
            return False
        return result.effective_severity.rank >= Severity.parse(self.fail_on).rank

    def counts_severity(self, result: CheckResult) -> bool:
        """Is this check's own severity at or above ``fail_on``?"""
        if self.fail_on == "never":
            return False
        return result.severity.rank >= Severity.parse(self.fail_on).rank

    @property
    def blocking(self) -> list[CheckResult]:
        return [c for c in self.checks if self.counts_against(c)]

    @property
    def expired_waivers(self) -> list[WaiverUse]:
        return [w for w in self.waivers if w.expired]

    @property
    def verdict(self) -> Verdict:
        """The one verdict: every writer, the CLI and the pytest plugin show this."""
        if self.problems or not self.checks or any(c.status == Status.ERROR for c in self.checks):
            return Verdict.INCOMPLETE
        if self.blocking or self.expired_waivers:
            return Verdict.NOT_READY
        return Verdict.READY

    @property
    def verdict_reason(self) -> str:
        """Why the verdict is not "ready", in a few words ("" when it is)."""
        if any(c.status == Status.ERROR for c in self.checks):
            return "a check errored"
        if self.problems:
            return f"{len(self.problems)} audit problems"
        if not self.checks:
            return "no checks ran"
        reasons = []
        if self.blocking:
            reasons.append("blocking: " + ", ".join(sorted(c.id for c in self.blocking)))
        expired = sorted({w.check for w in self.expired_waivers})
        if expired:
            s = "s" if len(expired) > 1 else ""
            reasons.append(f"expired waiver{s}: " + ", ".join(expired))
        return "; ".join(reasons)

    @property
    def verdict_text(self) -> str:
        """The verdict and its reason: ``not ready (blocking: active-users)``."""
        reason = self.verdict_reason
        return f"{self.verdict.words} ({reason})" if reason else self.verdict.words

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def summary(self) -> dict[str, int]:
        counts = {str(s): 0 for s in Status}
        for c in self.checks:
            counts[str(c.status)] += 1
        return counts

    def check(self, check_id: str) -> CheckResult:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def to_dict(self) -> dict[str, Any]:
        from . import __version__

        return {
            "schema_version": 1,
            "tool": {"name": "sfaudit", "version": __version__},
            "generated_at": self.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "today": self.today.isoformat(),
            "org": _jsonable(self.org),
            "verdict": str(self.verdict),
            "exit_code": self.exit_code,
            "fail_on": self.fail_on,
            "summary": self.summary,
            "blocking": [c.id for c in self.blocking],
            "problems": list(self.problems),
            "contract": _jsonable(self.contract),
            "metrics": _jsonable(self.metrics),
            "checks": [c.to_dict() for c in self.checks],
            "waivers": [w.to_dict() for w in self.waivers],
            "baseline": self.baseline_path,
            "timeline": {step: list(ids) for step, ids in self.timeline.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    """Dates to ISO strings, enums to values, containers recursively."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
