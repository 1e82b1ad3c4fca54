"""notice-deadline: written notice must reach Salesforce before the contract renews itself."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sfaudit import DataUnavailable, Finding, Severity, check, warn
from sfaudit.config import ContractConfig

#: Cancelling within this many days of the term's start refunds the whole fee.
FULL_REFUND_DAYS = 30

EXPLAIN = """\
Reads the `contract:` block of the config and today's date (pin it with
`today:` or `--today`). The deadline for written notice is end_date minus
notice_days (30 unless the Order Form says otherwise); the recommended date is
end_date minus recommended_notice_days (60). Fails once the deadline has passed
without contract.notice_sent on or before it; warns inside the recommended
window while no notice has gone out; passes when notice went out in time or the
recommended date is still ahead.

Why it matters: Salesforce's Master Subscription Agreement renews a
subscription automatically, for the shorter of the expiring term or one year,
unless written notice arrives at least notice_days before the term ends. Miss
the deadline and the org is paid for another term however ready it is.

Metrics: deadline, recommended_date, days_left (negative once passed),
renewal_date (end_date + 1, when a new term would start), next_deadline after a
renewal, and refund_estimate in the contract currency: the whole term's fee
when cancelling within the first 30 days of start_date (until
full_refund_until), else the fee for the term's unused days minus
early_termination_fee, never below zero. The refund is estimated as of
contract.notice_sent, or today while no notice has gone out; the term's fee is
annual_fee x months / 12 (x days / 365 for terms that are not whole months).

After the contract ends: data_return_until is the last day to ask Salesforce
for the data back (end date + contract.data_return_days, 30) and deletion_date
the day by which Salesforce has deleted it (end date + contract.deletion_days,
210: kept inactive for 120 days, then deleted within 90). The end date is
end_date, or next_term_end once the deadline is missed. Both figures are taken
from Salesforce's documentation, not from your contract: check them against
the Order Form."""

FIX = """\
Send written notice of non-renewal (email is accepted) to your Salesforce
account executive before the deadline, keep the confirmation, and record the
date under contract.notice_sent in the config. If the deadline has passed, the
contract renews: negotiate with your account executive, and send notice before
the next deadline the finding names. Wrong dates? Correct contract.start_date,
end_date and notice_days from the Order Form."""


@dataclass(frozen=True)
class Term:
    """A subscription term, start and end inclusive."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def months(self) -> int | None:
        """Whole calendar months in the term, or None when it is not whole months."""
        after = self.end + dt.timedelta(days=1)
        months = (after.year - self.start.year) * 12 + after.month - self.start.month
        if months > 0 and add_months(self.start, months) == after:
            return months
        return None

    def renewal(self) -> Term:
        """The term that follows when nobody gives notice: as long as this one, at most a year."""
        start = self.end + dt.timedelta(days=1)
        months = self.months
        if months is not None:
            return Term(start, add_months(start, min(months, 12)) - dt.timedelta(days=1))
        year_later = add_months(start, 12)
        return Term(start, start + dt.timedelta(days=min(self.days, (year_later - start).days) - 1))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months; the 31st becomes the month's last day when needed."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Refund:
    """What cancelling on ``as_of`` would give back."""

    amount: float | None
    as_of: dt.date
    full_until: dt.date
    term_fee: float | None
    unused_days: int


def estimate_refund(contract: ContractConfig, term: Term, as_of: dt.date) -> Refund:
    """Full within the first 30 days of the term, else pro-rata minus the early-termination fee."""
    full_until = term.start + dt.timedelta(days=FULL_REFUND_DAYS - 1)
    unused = max(0, min(term.days, (term.end - as_of).days))
    if contract.annual_fee is None:
        return Refund(None, as_of, full_until, None, unused)
    months = term.months
    fee = contract.annual_fee * (months / 12 if months is not None else term.days / 365)
    if as_of <= full_until:
        amount = fee
    else:
        amount = max(0.0, fee * unused / term.days - contract.early_termination_fee)
    return Refund(round(amount, 2), as_of, full_until, round(fee, 2), unused)


def _deadline(term: Term, contract: ContractConfig) -> dt.date:
    return term.end - dt.timedelta(days=contract.notice_days)


def _after_end(end: dt.date, contract: ContractConfig) -> dict[str, dt.date]:
    """The data-return and deletion dates after a contract that ends on ``end``."""
    return {
        "data_return_until": end + dt.timedelta(days=contract.data_return_days),
        "deletion_date": end + dt.timedelta(days=contract.deletion_days),
    }


def _after_text(end: dt.date, contract: ContractConfig) -> str:
    dates = _after_end(end, contract)
    return (
        f"; after {end}, ask Salesforce for the data by {dates['data_return_until']}: "
        f"it is deleted by {dates['deletion_date']} (Salesforce's documented figures: "
        "check them against the Order Form)"
    )


def _days(n: int) -> str:
    return f"{n} day{'s' if abs(n) != 1 else ''}"


@check(
    "notice-deadline",
    step=("contract", "submit"),
    severity="critical",
    title="Notice of non-renewal goes out before the deadline",
    explain=EXPLAIN,
    fix=FIX,
)
def notice_deadline(
    contract: ContractConfig, today: dt.date, metrics: dict[str, Any]
) -> Iterator[Finding]:
    start, end = contract.start_date, contract.end_date
    if start is None or end is None:
        missing = [k for k, v in (("start_date", start), ("end_date", end)) if v is None]
        keys = " and ".join(f"contract.{k}" for k in missing)
        # Missing data, not "does not apply": the run cannot be called ready.
        raise DataUnavailable(
            f"{keys} not set: add {'them' if len(missing) > 1 else 'it'} to the config "
            "(YYYY-MM-DD, from the Order Form) to check the notice deadline"
        )
    term = Term(start, end)
    deadline = _deadline(term, contract)
    recommended = min(term.end - dt.timedelta(days=contract.recommended_notice_days), deadline)
    renewal = term.renewal()
    sent = contract.notice_sent
    sent_by_today = sent is not None and sent <= today
    refund = estimate_refund(contract, term, sent if sent_by_today and sent else today)
    days_left = (deadline - today).days
    metrics.update(
        deadline=deadline,
        recommended_date=recommended,
        days_left=days_left,
        renewal_date=renewal.start,
        term_end=term.end,
        notice_days=contract.notice_days,
        notice_sent=sent,
        refund_estimate=refund.amount,
        currency=contract.currency,
        full_refund_until=refund.full_until,
        refund_as_of=refund.as_of,
        term_fee=refund.term_fee,
        unused_days=refund.unused_days,
        **_after_end(term.end, contract),
    )
    data: dict[str, Any] = {
        "deadline": deadline,
        "end_date": term.end,
        "renewal_date": renewal.start,
        "refund_estimate": refund.amount,
        "currency": contract.currency,
    }
    future_note = (
        f" (contract.notice_sent {sent} is after today: it counts once the notice is sent)"
        if sent is not None and not sent_by_today
        else ""
    )

    if sent_by_today and sent is not None and sent <= deadline:
        margin = (deadline - sent).days
        ended = "ended" if today > term.end else "ends"
        when = "on the deadline day" if margin == 0 else f"{_days(margin)} before the deadline"
        metrics["summary"] = (
            f"notice sent on {sent}, {when} {deadline}; the contract {ended} on {term.end}"
            + _after_text(term.end, contract)
        )
        return

    if today > deadline:
        current = term
        while today > current.end:
            current = current.renewal()
        guarded = current if _deadline(current, contract) >= today else current.renewal()
        next_deadline = _deadline(guarded, contract)
        metrics.update(
            next_deadline=next_deadline,
            next_days_left=(next_deadline - today).days,
            next_term_end=guarded.end,
            **_after_end(guarded.end, contract),
        )
        if sent_by_today and sent is not None:
            late = _days((sent - deadline).days)
            what = f"notice sent on {sent}, {late} after the deadline {deadline}"
        else:
            what = f"no notice sent by the deadline {deadline}{future_note}"
        if current is term:
            renews = f"the contract renews on {renewal.start} for another term, until {renewal.end}"
        else:
            renews = (
                f"the contract renewed on {renewal.start}; the current term runs until "
                f"{current.end}"
            )
            if guarded is not current:
                renews += f" and renews again on {guarded.start}, until {guarded.end}"
        yield Finding(
            f"{what}: {renews}. Next deadline: {next_deadline} "
            f"({_days((next_deadline - today).days)} left)",
            key=f"missed:{deadline}",
            data={**data, "next_deadline": next_deadline, "next_term_end": guarded.end},
        )
        return

    refund_text = _refund_text(refund, contract.currency)
    if today >= recommended:
        when = "TODAY" if days_left == 0 else f"in {_days(days_left)}"
        message = (
            f"send written notice: the deadline {deadline} is {when} "
            f"(recommended by {recommended}){future_note}; otherwise the contract renews "
            f"on {renewal.start}{refund_text}"
        )
        yield Finding(message, severity=Severity.INFO, key=f"due:{deadline}", data=data)
        warn(message)

    ahead = (recommended - today).days
    metrics["summary"] = (
        f"{_days(ahead)} left until the recommended date {recommended} "
        f"(deadline {deadline}){future_note}{refund_text}{_after_text(term.end, contract)}"
    )


def _refund_text(refund: Refund, currency: str) -> str:
    if refund.amount is None:
        return "; set contract.annual_fee to estimate the refund"
    return f"; refund if cancelled now: {refund.amount:,.2f} {currency}"
