"""What a notification says, whatever the channel: built from a :class:`~sfaudit.rollup.Rollup`.

A single audit is a roll-up of one row, a fleet a roll-up of many, so every channel
renders the same :class:`Message`. A message holds verdicts, check titles and
finding counts; the findings themselves (user names, record ids) only when the
channel says ``details: true``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from .._redact import redact
from ..report._i18n import N_, Language, language
from ..report._view import VERDICT_LABELS
from ..results import Severity
from ..rollup import BlockingCheck, OrgRow, Rollup, row_from_report

if TYPE_CHECKING:
    from ..config import NotifyConfig
    from ..results import AuditReport
    from .transport import Transport

#: Findings listed per blocking check when ``details: true``.
MAX_DETAILS = 10
_VERDICT_RANK = {"ready": 0, "not-ready": 1, "incomplete": 2}
SHORT_VERDICTS = {
    "ready": N_("ready"),
    "not-ready": N_("not ready"),
    "incomplete": N_("incomplete"),
}


@dataclass(frozen=True)
class Notification:
    """What to tell: the roll-up (one row per org), the roll-up it is compared with
    (for ``on: [changed]``), and where the report is published.

    :param rollup: the audit, or the fleet, as a :class:`~sfaudit.rollup.Rollup`.
    :param baseline: an earlier roll-up of the same orgs (rows matched by name), or None.
    :param reports: each org's ``report.json`` (parsed) by row name; only read for
        ``details: true``, to list the blocking findings.
    :param report_url: the published report (``report.url``); a row's relative
        ``report`` link is resolved against it.
    :param lang: the language of the message (``report.lang``).
    :param sample: a sample sent by ``sfaudit notify --test``.
    """

    rollup: Rollup
    baseline: Rollup | None = None
    reports: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    report_url: str | None = None
    lang: str = "en"
    sample: bool = False

    @classmethod
    def of_report(
        cls,
        report: AuditReport | Mapping[str, Any],
        *,
        baseline: Mapping[str, Any] | None = None,
        report_url: str | None = None,
        lang: str = "en",
    ) -> Notification:
        """The notification of one audit: a roll-up of its one row (named after the org,
        so it matches the baseline report's row)."""
        data = report.to_dict() if hasattr(report, "to_dict") else dict(report)
        row = row_from_report(data, link=report_url)
        old = Rollup([row_from_report(baseline, name=row.name)]) if baseline else None
        return cls(
            Rollup([row], generated_at=data.get("generated_at")),
            baseline=old,
            reports={row.name: data},
            report_url=report_url,
            lang=lang,
        )

    def changed(self, min_severity: str | None = None) -> bool:
        """Does any org's verdict or set of blocking checks (at or above
        ``min_severity``) differ from the baseline's? False without a baseline."""
        if self.baseline is None:
            return False
        before = {row.name: row for row in self.baseline.rows}
        for row in self.rollup.rows:
            old = before.get(row.name)
            if old is None or old.verdict != row.verdict:
                return True
            if _ids(shown(row.blocking, min_severity)) != _ids(shown(old.blocking, min_severity)):
                return True
        return len(before) != len(self.rollup.rows)

    def events(self, min_severity: str | None = None) -> set[str]:
        """The ``on:`` values this notification matches for a channel with ``min_severity``.

        The verdict is the worst org's; a not-ready org whose blocking checks are all
        below ``min_severity`` counts as neither ``not-ready`` nor ``ready``.
        """
        found = {"always"}
        verdicts = [_effective(row, min_severity) for row in self.rollup.rows]
        worst = max((v for v in verdicts if v), key=_VERDICT_RANK.__getitem__, default=None)
        if worst is not None and not (worst == "ready" and None in verdicts):
            found.add(worst)
        if self.changed(min_severity):
            found.add("changed")
        return found

    def triggers(self, channel: NotifyConfig) -> bool:
        """Should ``channel`` be told? (A sample always is.)"""
        return self.sample or bool(set(channel.on) & self.events(channel.min_severity))


def shown(blocking: Sequence[BlockingCheck], min_severity: str | None) -> list[BlockingCheck]:
    """The blocking checks at or above ``min_severity`` (all of them without one)."""
    if min_severity is None:
        return list(blocking)
    floor = Severity.parse(min_severity).rank
    return [b for b in blocking if _rank(b.severity) >= floor]


def _rank(severity: str) -> int:
    try:
        return Severity.parse(severity).rank
    except ValueError:
        return Severity.CRITICAL.rank  # an unknown severity is never hidden


def _ids(blocking: Sequence[BlockingCheck]) -> set[str]:
    return {b.id for b in blocking}


def _effective(row: OrgRow, min_severity: str | None) -> str | None:
    """The row's verdict as a channel with ``min_severity`` sees it (None: below it)."""
    if row.verdict == "not-ready" and min_severity and row.blocking:
        return "not-ready" if shown(row.blocking, min_severity) else None
    return row.verdict if row.verdict in _VERDICT_RANK else "incomplete"


@dataclass(frozen=True)
class OrgLine:
    """One org in a message, as one channel shows it."""

    name: str
    verdict: str
    verdict_label: str
    blocking: tuple[BlockingCheck, ...]
    hidden: int
    """Blocking checks below the channel's ``min_severity``, not listed."""
    deadline: str | None
    days_left: int | None
    link: str | None
    error: str | None
    details: Mapping[str, tuple[str, ...]]
    """Blocking check id → its findings in words (only with ``details: true``)."""


@dataclass(frozen=True)
class Message:
    """A notification rendered for one channel: what every notifier formats."""

    notification: Notification
    channel: NotifyConfig
    title: str
    summary: str
    verdict: str
    orgs: tuple[OrgLine, ...]
    link: str | None
    changed: bool
    lang: Language

    def gettext(self, text: str) -> str:
        return self.lang.gettext(text)

    def deadline_words(self, org: OrgLine) -> str | None:
        """``12 days left to give notice (2026-12-08)``, or None without a deadline."""
        if org.days_left is None:
            return None
        if org.days_left < 0:
            words = self.lang.ngettext(
                "notice deadline passed %(n)d day ago",
                "notice deadline passed %(n)d days ago",
                -org.days_left,
            ) % {"n": -org.days_left}
        else:
            words = self.lang.ngettext(
                "%(n)d day left to give notice",
                "%(n)d days left to give notice",
                org.days_left,
            ) % {"n": org.days_left}
        return f"{words} ({self.lang.date(org.deadline, 'medium')})" if org.deadline else words

    def check_words(self, check: BlockingCheck) -> str:
        """``Active users remain (high): 4 findings``."""
        count = self.lang.ngettext("%(n)d finding", "%(n)d findings", check.findings) % {
            "n": check.findings
        }
        return f"{check.title} ({self.lang.gettext(check.severity)}): {count}"

    def hidden_words(self, org: OrgLine) -> str | None:
        if not org.hidden:
            return None
        return self.lang.ngettext(
            "%(n)d more blocking check below %(severity)s",
            "%(n)d more blocking checks below %(severity)s",
            org.hidden,
        ) % {"n": org.hidden, "severity": self.lang.gettext(self.channel.min_severity or "")}

    def text(self) -> str:
        """The message as plain text: Slack's fallback, the e-mail body, a webhook's summary."""
        lines = [self.title, self.summary, ""]
        for org in self.orgs:
            lines.append(f"{org.name}: {org.verdict_label}")
            deadline = self.deadline_words(org)
            if deadline:
                lines.append(f"  {deadline}")
            if org.error:
                lines.append(f"  {org.error}")
            for check in org.blocking:
                lines.append(f"  - {self.check_words(check)}")
                lines.extend(f"      {d}" for d in org.details.get(check.id, ()))
            hidden = self.hidden_words(org)
            if hidden:
                lines.append(f"  ({hidden})")
            if org.link and org.link != self.link:
                lines.append(f"  {org.link}")
        if self.link:
            lines += ["", f"{self.gettext('Report')}: {self.link}"]
        return "\n".join(lines).strip() + "\n"


def build_message(notification: Notification, channel: NotifyConfig) -> Message:
    """The message ``channel`` gets: its ``min_severity`` filter and ``details`` applied."""
    lang = language(notification.lang)
    rows = notification.rollup.sorted_rows()
    orgs = tuple(_line(notification, row, channel, lang) for row in rows)
    verdict = notification.rollup.verdict
    label = lang.gettext(VERDICT_LABELS.get(verdict, verdict))
    if len(rows) == 1:
        title = f"sfaudit: {rows[0].name}: {label}"
    else:
        title = f"sfaudit: {lang.gettext('fleet of %(n)d orgs') % {'n': len(rows)}}: {label}"
    if len(rows) == 1:
        n = len(orgs[0].blocking)
        summary = lang.ngettext("%(n)d blocking check", "%(n)d blocking checks", n) % {"n": n}
        if orgs[0].error:
            summary = orgs[0].error
    else:
        counts = notification.rollup.summary()
        summary = ", ".join(
            f"{counts[v]} {lang.gettext(SHORT_VERDICTS[v])}" for v in _VERDICT_RANK if counts[v]
        )
    changed = notification.changed(channel.min_severity)
    if changed:
        summary += " · " + lang.gettext("changed since the baseline")
    if notification.sample:
        title = lang.gettext("[test]") + " " + title
        summary = lang.gettext("A sample message from `sfaudit notify --test`.") + " " + summary
    link = notification.report_url
    if link is None and len(orgs) == 1:
        link = orgs[0].link
    return Message(
        notification=notification,
        channel=channel,
        title=title,
        summary=summary,
        verdict=verdict,
        orgs=orgs,
        link=link,
        changed=changed,
        lang=lang,
    )


def _line(
    notification: Notification, row: OrgRow, channel: NotifyConfig, lang: Language
) -> OrgLine:
    blocking = tuple(shown(row.blocking, channel.min_severity))
    details: dict[str, tuple[str, ...]] = {}
    if channel.details:
        report = notification.reports.get(row.name) or {}
        by_id = {str(c.get("id")): c for c in report.get("checks") or []}
        for check in blocking:
            details[check.id] = _finding_lines(by_id.get(check.id) or {})
    return OrgLine(
        name=row.name,
        verdict=row.verdict,
        verdict_label=lang.gettext(VERDICT_LABELS.get(row.verdict, row.verdict)),
        blocking=blocking,
        hidden=len(row.blocking) - len(blocking),
        deadline=row.deadline,
        days_left=row.days_left,
        link=_link(row.report, notification.report_url),
        error=redact(row.error)[:300] if row.error else None,
        details=details,
    )


def _finding_lines(check: Mapping[str, Any]) -> tuple[str, ...]:
    failing = [
        f
        for f in check.get("findings") or []
        if not f.get("waived_by") and f.get("severity") != "info"
    ]
    lines = []
    for finding in failing[:MAX_DETAILS]:
        who = finding.get("user") or finding.get("owner") or finding.get("object")
        text = redact(str(finding.get("message") or ""))[:200]
        lines.append(f"{who}: {text}" if who and str(who) not in text else text)
    if len(failing) > MAX_DETAILS:
        lines.append(f"… +{len(failing) - MAX_DETAILS}")
    return tuple(lines)


def _link(link: str | None, base: str | None) -> str | None:
    """A row's report link for people elsewhere: absolute as is, relative against ``base``."""
    if link and link.lower().startswith(("http://", "https://")):
        return link
    if link and base:
        return urljoin(base if base.endswith("/") else base + "/", link)
    return base


@dataclass
class Delivery:
    """What happened to one channel: ``sent``, ``skipped`` (its ``on:`` did not match)
    or ``failed``. ``detail`` never holds a secret (the URL, a password)."""

    channel: str
    type: str
    status: str
    detail: str = ""
    attempts: int = 0
    waits: tuple[float, ...] = ()
    """Seconds waited before each retry (a Retry-After, or the backoff)."""

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "type": self.type,
            "status": self.status,
            "detail": self.detail,
            "attempts": self.attempts,
            "waits": list(self.waits),
        }

    def line(self) -> str:
        return f"{self.channel}: {self.status}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Notifier:
    """A notifier type (the ``type:`` of a channel), contributed by
    ``sfaudit_register_notifiers``.

    ``send(message, channel, transport)`` delivers one message and returns a short
    note of how it went (``HTTP 200``); it raises :class:`DeliveryError` (or anything
    else) when it could not. ``requires`` names the channel keys it needs;
    ``check(channel)`` returns ``(key, problem, hint)`` for a channel it cannot use.
    """

    name: str
    send: Callable[[Message, NotifyConfig, Transport], str]
    requires: tuple[str, ...] = ("url",)
    description: str = ""
    validate: Callable[[NotifyConfig], tuple[str, str, str | None] | None] | None = None
    plugin: str = ""

    def check(self, channel: NotifyConfig) -> tuple[str, str, str | None] | None:
        return self.validate(channel) if self.validate is not None else None


class DeliveryError(Exception):
    """A channel could not be told; the message is safe to print (no secret in it)."""

    def __init__(self, message: str, *, attempts: int = 0, waits: Sequence[float] = ()) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.waits = tuple(waits)


# Words of the messages, for extraction (pybabel -k N_); shown through Language.gettext.
_WORDS = (N_("Report"), N_("fleet of %(n)d orgs"), N_("changed since the baseline"), N_("[test]"))
_WORDS_2 = (
    N_("A sample message from `sfaudit notify --test`."),
    N_("Blocking checks"),
    N_("Notice deadline"),
    N_("Open the report"),
    N_("Audit error"),
)
