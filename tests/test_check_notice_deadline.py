"""notice-deadline: deadline, recommended window, renewal and refund, run through the engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sfaudit.audit import run_audit
from sfaudit.config import load_config
from sfaudit.errors import ConfigError
from sfaudit.plugins import get_plugin_manager
from sfaudit.results import CheckResult, Severity, Status

BASE = {
    "start_date": "2026-02-01",
    "end_date": "2027-01-31",
    "notice_days": 30,
    "recommended_notice_days": 60,
    "annual_fee": 18000,
    "currency": "EUR",
    "early_termination_fee": 1500,
}


def audit(today: str, **contract: Any) -> CheckResult:
    fields = {**BASE, **contract}
    lines = [f"  {k}: {v}" for k, v in fields.items() if v is not None]
    text = "version: 1\ntoday: {}\ncontract:\n{}\n".format(today, "\n".join(lines))
    config = load_config(text=text)
    report = run_audit(config, get_plugin_manager(entry_points=False), select=["notice-deadline"])
    return report.check("notice-deadline")


D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("today", "contract", "status", "days_left", "text"),
    [
        pytest.param(
            "2026-11-26",
            {},
            Status.PASS,
            36,
            "6 days left until the recommended date 2026-12-02",
            id="before-window",
        ),
        pytest.param("2026-12-02", {}, Status.WARN, 30, "is in 30 days", id="recommended-day"),
        pytest.param("2026-12-10", {}, Status.WARN, 22, "is in 22 days", id="inside-window"),
        pytest.param(
            "2027-01-01",
            {},
            Status.WARN,
            0,
            "the deadline 2027-01-01 is TODAY",
            id="deadline-today",
        ),
        pytest.param(
            "2027-01-02",
            {},
            Status.FAIL,
            -1,
            "renews on 2027-02-01 for another term, until 2028-01-31. Next deadline: 2028-01-01",
            id="day-after-deadline",
        ),
        pytest.param(
            "2027-01-05",
            {"notice_sent": "2027-01-01"},
            Status.PASS,
            -4,
            "on the deadline day 2027-01-01",
            id="sent-on-deadline",
        ),
        pytest.param(
            "2027-01-03",
            {"notice_sent": "2027-01-02"},
            Status.FAIL,
            -2,
            "notice sent on 2027-01-02, 1 day after the deadline 2027-01-01",
            id="sent-one-day-late",
        ),
        pytest.param(
            "2026-12-20",
            {"notice_sent": "2026-12-01"},
            Status.PASS,
            12,
            "31 days before the deadline",
            id="sent-early",
        ),
        pytest.param(
            "2027-03-15",
            {},
            Status.FAIL,
            -73,
            "renewed on 2027-02-01; the current term runs until 2028-01-31. "
            "Next deadline: 2028-01-01",
            id="after-end-no-notice",
        ),
        pytest.param(
            "2027-03-15",
            {"notice_sent": "2026-10-01"},
            Status.PASS,
            -73,
            "the contract ended on 2027-01-31",
            id="after-end-notice-on-time",
        ),
        pytest.param(
            "2028-01-10",
            {},
            Status.FAIL,
            -374,
            "current term runs until 2028-01-31 and renews again on 2028-02-01, "
            "until 2029-01-31. Next deadline: 2029-01-01",
            id="after-end-and-next-deadline",
        ),
        pytest.param(
            "2026-12-10",
            {"notice_sent": "2026-12-20"},
            Status.WARN,
            22,
            "is after today: it counts once the notice is sent",
            id="sent-in-future",
        ),
        pytest.param(
            "2026-11-26",
            {"notice_days": 60, "recommended_notice_days": 90},
            Status.WARN,
            6,
            "the deadline 2026-12-02 is in 6 days",
            id="notice-60-days",
        ),
    ],
)
def test_outcomes(
    today: str, contract: dict[str, Any], status: Status, days_left: int, text: str
) -> None:
    result = audit(today, **contract)
    assert result.status == status, result.message
    assert result.metrics["days_left"] == days_left
    shown = " ".join(
        [result.message, result.metrics.get("summary", "")] + [f.message for f in result.findings]
    )
    assert text in shown


def test_fail_finding_is_stable_across_days_and_carries_dates() -> None:
    first = audit("2027-01-02")
    later = audit("2027-01-20")
    assert [f.severity for f in first.findings] == [Severity.CRITICAL]
    assert first.findings[0].fingerprint == later.findings[0].fingerprint
    data = first.findings[0].data
    assert (data["deadline"], data["renewal_date"], data["next_deadline"]) == (
        D("2027-01-01"),
        D("2027-02-01"),
        D("2028-01-01"),
    )
    assert first.metrics["next_deadline"] == D("2028-01-01")


def test_warn_carries_an_info_finding_with_a_key() -> None:
    result = audit("2026-12-10")
    [finding] = result.findings
    assert finding.severity is Severity.INFO
    assert audit("2026-12-20").findings[0].fingerprint == finding.fingerprint


@pytest.mark.parametrize(
    ("start", "end", "notice", "deadline", "renewal", "next_end"),
    [
        pytest.param(
            "2027-03-01",
            "2028-02-29",
            30,
            "2028-01-30",
            "2028-03-01",
            "2029-02-28",
            id="leap-day-end",
        ),
        pytest.param(
            "2027-03-31",
            "2028-03-30",
            30,
            "2028-02-29",
            "2028-03-31",
            "2029-03-30",
            id="deadline-on-leap-day",
        ),
        pytest.param(
            "2024-02-29",
            "2025-02-28",
            30,
            "2025-01-29",
            "2025-03-01",
            "2026-02-28",
            id="leap-day-start",
        ),
        pytest.param(
            "2025-02-01",
            "2028-01-31",
            30,
            "2028-01-01",
            "2028-02-01",
            "2029-01-31",
            id="36-months-renews-for-one-year",
        ),
        pytest.param(
            "2026-08-01",
            "2027-01-31",
            30,
            "2027-01-01",
            "2027-02-01",
            "2027-07-31",
            id="6-months-renews-for-6",
        ),
        pytest.param(
            "2026-01-15",
            "2026-12-20",
            30,
            "2026-11-20",
            "2026-12-21",
            "2027-11-25",
            id="340-days-renews-for-340",
        ),
        pytest.param(
            "2026-02-01",
            "2027-01-31",
            0,
            "2027-01-31",
            "2027-02-01",
            "2028-01-31",
            id="no-notice-days",
        ),
    ],
)
def test_dates(
    start: str, end: str, notice: int, deadline: str, renewal: str, next_end: str
) -> None:
    result = audit(
        "2020-01-01",
        start_date=start,
        end_date=end,
        notice_days=notice,
        recommended_notice_days=notice,
    )
    assert result.metrics["deadline"] == D(deadline)
    assert result.metrics["renewal_date"] == D(renewal)
    late = audit(
        (D(deadline) + dt.timedelta(days=1)).isoformat(),
        start_date=start,
        end_date=end,
        notice_days=notice,
        recommended_notice_days=notice,
    )
    assert late.status == Status.FAIL
    assert f"until {next_end}" in late.findings[0].message


def test_recommended_date_never_after_deadline() -> None:
    result = audit("2026-11-26", notice_days=30, recommended_notice_days=10)
    assert result.metrics["recommended_date"] == result.metrics["deadline"] == D("2027-01-01")


@pytest.mark.parametrize(
    ("today", "contract", "refund", "term_fee"),
    [
        pytest.param("2026-01-10", {}, 18000.0, 18000.0, id="before-start-full"),
        pytest.param("2026-02-15", {}, 18000.0, 18000.0, id="first-30-days-full"),
        pytest.param("2026-03-02", {}, 18000.0, 18000.0, id="day-30-full"),
        # 18000 x 334 / 365 - 1500
        pytest.param("2026-03-03", {}, 14971.23, 18000.0, id="day-31-pro-rata"),
        # 18000 x 66 / 365 - 1500
        pytest.param("2026-11-26", {}, 1754.79, 18000.0, id="pro-rata-minus-fee"),
        pytest.param(
            "2027-01-20", {"early_termination_fee": 5000}, 0.0, 18000.0, id="never-below-zero"
        ),
        pytest.param("2027-03-01", {}, 0.0, 18000.0, id="after-end-nothing-left"),
        # 36-month term: fee 54000; 2025-02-01..2028-01-31 is 1095 days, 760 unused
        pytest.param(
            "2026-01-01",
            {"start_date": "2025-02-01", "end_date": "2028-01-31", "early_termination_fee": 0},
            37479.45,
            54000.0,
            id="36-months",
        ),
        # 340-day term: fee 18000 x 340 / 365 = 16767.12; unused 100 of 340
        pytest.param(
            "2026-09-11",
            {"start_date": "2026-01-15", "end_date": "2026-12-20", "early_termination_fee": 0},
            4931.51,
            16767.12,
            id="not-whole-months",
        ),
        # refund as of the notice date, not today: unused 2026-12-01..2027-01-31 = 61 days
        pytest.param(
            "2026-12-20",
            {"notice_sent": "2026-12-01", "early_termination_fee": 0},
            3008.22,
            18000.0,
            id="as-of-notice-sent",
        ),
    ],
)
def test_refund(today: str, contract: dict[str, Any], refund: float, term_fee: float) -> None:
    result = audit(today, **contract)
    assert result.metrics["refund_estimate"] == pytest.approx(refund, abs=0.01)
    assert result.metrics["term_fee"] == pytest.approx(term_fee, abs=0.01)
    assert result.metrics["full_refund_until"] == D(
        contract.get("start_date", BASE["start_date"])
    ) + dt.timedelta(days=29)


def test_refund_currency_shown_and_fee_optional() -> None:
    result = audit("2026-12-10", currency="USD")
    assert result.metrics["currency"] == "USD"
    assert "1,064.38 USD" in result.message  # 18000 x 52 / 365 - 1500
    unknown = audit("2026-12-10", annual_fee=None)
    assert unknown.metrics["refund_estimate"] is None
    assert "set contract.annual_fee" in unknown.message


@pytest.mark.parametrize(
    ("contract", "keys"),
    [
        ({"start_date": None}, "contract.start_date not set"),
        ({"end_date": None}, "contract.end_date not set"),
        ({"start_date": None, "end_date": None}, "contract.start_date and contract.end_date"),
    ],
)
def test_skip_without_dates(contract: dict[str, Any], keys: str) -> None:
    result = audit("2026-11-26", **contract)
    assert result.status == Status.SKIP
    assert keys in result.message
    assert "to the config" in result.message


def test_end_before_start_is_a_config_error() -> None:
    text = "version: 1\ncontract:\n  start_date: 2027-02-01\n  end_date: 2026-01-31\n"
    with pytest.raises(ConfigError) as info:
        load_config(text=text)
    assert "end_date 2026-01-31 is not after start_date 2027-02-01" in str(info.value)
    assert info.value.line == 4  # the end_date: line
    assert info.value.key == "contract.end_date"


# --- after the end: the data-return window and the deletion date ----------------------


@pytest.mark.parametrize(
    ("today", "contract", "returns", "deleted"),
    [
        pytest.param("2026-11-26", {}, "2027-03-02", "2027-08-29", id="defaults-30-and-210"),
        pytest.param(
            "2026-11-26",
            {"data_return_days": 0, "deletion_days": 60},
            "2027-01-31",
            "2027-04-01",
            id="from-the-order-form",
        ),
        pytest.param(
            "2027-01-05",
            {"notice_sent": "2027-01-01"},
            "2027-03-02",
            "2027-08-29",
            id="notice-sent-in-time",
        ),
        # Missed: the contract renews, so the data goes after the next term's end.
        pytest.param("2027-01-02", {}, "2028-03-01", "2028-08-28", id="missed-next-term"),
    ],
)
def test_data_return_and_deletion_dates(
    today: str, contract: dict[str, Any], returns: str, deleted: str
) -> None:
    result = audit(today, **contract)
    assert result.metrics["data_return_until"] == D(returns)
    assert result.metrics["deletion_date"] == D(deleted)


def test_the_dates_are_labelled_as_salesforce_figures() -> None:
    result = audit("2026-11-26")
    assert result.status == Status.PASS
    assert (
        "after 2027-01-31, ask Salesforce for the data by 2027-03-02: it is deleted by "
        "2027-08-29 (Salesforce's documented figures: check them against the Order Form)"
    ) in result.metrics["summary"]
    assert "Salesforce's documentation" in result.explain
    assert "contract.data_return_days" in result.explain and "Order Form" in result.explain
    sent = audit("2027-01-05", notice_sent="2027-01-01")
    assert "ask Salesforce for the data by 2027-03-02" in sent.metrics["summary"]
