"""The contract's dates as an iCalendar file, each event with a reminder.

The notice deadline, the recommended date to send the notice, the renewal
date, the end of the full-refund window, the last day to ask Salesforce for
the data and the day it is deleted, as all-day events built with icalendar.
Import it into a shared calendar so nobody misses the deadline.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..hookspecs import hookimpl
from ..results import AuditReport
from . import ReportContext, ReportFormat
from ._i18n import Language, language
from ._view import AFTER_SOURCE, Notice, notice

REMINDER_DAYS = {
    "recommended_date": 7,
    "deadline": 14,
    "full_refund_until": 3,
    "renewal_date": 30,
    "data_return_until": 14,
    "deletion_date": 30,
}
"""Days before each event its reminder fires: the deadline gets two weeks to act."""
AFTER_KEYS = frozenset(k for k, _, _ in Notice().after_events())
"""Events after the contract ends: their figures come from Salesforce's documentation."""


def _event(
    key: str,
    day: dt.date,
    what: str,
    n: Notice,
    org: dict[str, Any],
    lang: Language,
    stamp: dt.datetime,
) -> Any:
    from icalendar import Alarm, Event

    name = str(org.get("name") or lang.gettext("org"))
    org_id = str(org.get("id") or "org")
    event = Event()
    event.add("uid", f"sfaudit-{key}-{org_id}-{day.isoformat()}@sfaudit")
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("summary", f"{lang.gettext(what)}: {name}")
    _ = lang.gettext
    t = {
        "Org": _("Org"),
        "Notice deadline": _("Notice deadline"),
        "Renewal date": _("Renewal date"),
        "Refund estimate": _("Refund estimate"),
    }
    lines = [_(what) + ".", f"{t['Org']}: {name} ({org_id})"]
    if n.deadline:
        lines.append(f"{t['Notice deadline']}: {lang.date(n.deadline)}")
    if n.renewal_date:
        lines.append(f"{t['Renewal date']}: {lang.date(n.renewal_date)}")
    if n.refund_estimate is not None:
        lines.append(f"{t['Refund estimate']}: {lang.money(n.refund_estimate, n.currency)}")
    if key in AFTER_KEYS:
        lines.append(lang.gettext(AFTER_SOURCE))
    else:
        lines.append(
            lang.gettext("Setup → Billing (Manage Subscription): request the cancellation")
        )
    event.add("description", "\n".join(lines))
    event.add("categories", ["sfaudit"])
    event.add("transp", "TRANSPARENT")
    days = REMINDER_DAYS.get(key, 7)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"{lang.gettext(what)}: {name} ({lang.date(day)})")
    alarm.add("trigger", dt.timedelta(days=-days))
    event.add_component(alarm)
    return event


def build_calendar(report: AuditReport, lang: Language) -> Any:
    from icalendar import Calendar

    data = report.to_dict()
    n = notice(data)
    org = dict(data.get("org") or {})
    cal = Calendar()
    cal.add("prodid", f"-//sfaudit//sfaudit {data['tool']['version']}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    title = lang.gettext("Salesforce cancellation")
    cal.add("x-wr-calname", f"{title}: {org.get('name') or org.get('id') or ''}")
    stamp = report.generated_at.astimezone(dt.timezone.utc).replace(microsecond=0)
    for key, day, what in n.events():
        cal.add_component(_event(key, day, what, n, org, lang, stamp))
    return cal


def write_ics(report: AuditReport, path: Path, context: ReportContext) -> None:
    path.write_bytes(build_calendar(report, language(context.lang or "en")).to_ical())


@hookimpl
def sfaudit_register_report_formats() -> list[ReportFormat]:
    return [
        ReportFormat(
            "ics", "deadlines.ics", write_ics, "contract dates with reminders, for calendars"
        )
    ]
