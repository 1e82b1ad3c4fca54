"""Property-based fuzzing of the config loader: only SfauditError ever escapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfaudit.config import Config, load_config, validate_checks
from sfaudit.errors import SfauditError

KEYS = [
    "version",
    "today",
    "org",
    "source",
    "contract",
    "start_date",
    "end_date",
    "notice_days",
    "recommended_notice_days",
    "notice_sent",
    "annual_fee",
    "currency",
    "early_termination_fee",
    "data_return_days",
    "deletion_days",
    "backup",
    "path",
    "max_age_days",
    "require_files",
    "checks",
    "waivers",
    "check",
    "match",
    "reason",
    "expires",
    "plugins",
    "report",
    "formats",
    "output",
    "lang",
    "fail_on",
    "timeout",
    "baseline",
    "severity",
    "enabled",
    "x",
    "",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.sampled_from(["${HOME}", "${NOPE_UNSET}", "${X:-1}", "high", "never", "2027-02-30", "live"]),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=5),
    ),
    max_leaves=25,
)
KNOWN = {"my-check": {"limit": 1, "names": [], "strict": False}}


def _load(text: str) -> Config | None:
    try:
        config = load_config(text=text, env={"HOME": "/root", "X": "2"})
        validate_checks(config, KNOWN)
        return config
    except SfauditError as exc:
        assert str(exc)
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), trees, max_size=8))
def test_structured_configs(data: dict[str, Any]) -> None:
    _load(yaml.safe_dump(data, allow_unicode=True))


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab:-_ {}[]\n\t#&*!|>'\"%@`,?$0123456789.")), max_size=80)
)
def test_arbitrary_text(text: str) -> None:
    _load(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60))
def test_arbitrary_bytes_as_text(raw: bytes) -> None:
    _load(raw.decode("utf-8", errors="replace"))
