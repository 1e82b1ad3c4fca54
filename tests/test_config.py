"""The YAML config: validation errors name file:line and key, exit code 2."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from sfaudit.config import apply_overrides, load_config
from sfaudit.errors import ConfigError

GOOD = """\
version: 1
today: 2026-11-26
org:
  source: snapshot:org.json
contract:
  start_date: 2026-02-01
  end_date: 2027-01-31
  notice_days: 30
  annual_fee: 18000
checks:
  my-check: {severity: high, limit: 3}
waivers:
  - check: my-check
    match: {user: a@b.example}
    reason: Known
    expires: 2026-12-31
plugins: [my_checks.py]
fail_on: high
"""

PLUGIN = """\
from sfaudit import check

@check("my-check", severity="low", options={"limit": 1, "names": [], "strict": False})
def my_check(org, options):
    assert len(org.users()) <= options["limit"], "too many users"
"""

# (name, config text, expected line, text expected in the message)
BAD_CONFIGS = [
    ("malformed yaml", "version: 1\norg: {source: [\n", 3, "invalid YAML"),
    ("tab indentation", "version: 1\norg:\n\tsource: live\n", 3, "tab"),
    ("duplicate key", "version: 1\nfail_on: high\nfail_on: low\n", 3, "duplicate key 'fail_on'"),
    ("unknown top key", "version: 1\nfial_on: high\n", 2, "did you mean 'fail_on'"),
    (
        "unknown nested key",
        "version: 1\ncontract:\n  end_dte: 2027-01-31\n",
        3,
        "did you mean 'end_date'",
    ),
    ("wrong type", "version: 1\ncontract:\n  notice_days: soon\n", 3, "contract.notice_days"),
    ("invalid date", "version: 1\ncontract:\n  end_date: 2027-02-30\n", 3, "contract.end_date"),
    (
        "end before start",
        "version: 1\ncontract:\n  start_date: 2027-01-01\n  end_date: 2026-01-01\n",
        2,
        "not after start_date",
    ),
    (
        "negative days",
        "version: 1\ncontract:\n  notice_days: -5\n",
        3,
        "greater than or equal to 0",
    ),
    (
        "bad severity",
        "version: 1\nplugins: [my_checks.py]\nchecks:\n  my-check: {severity: urgent}\n",
        4,
        "unknown severity 'urgent'",
    ),
    ("bad fail_on", "version: 1\nfail_on: sometimes\n", 2, "fail_on"),
    (
        "waiver without reason",
        "version: 1\nwaivers:\n  - check: my-check\n    expires: 2026-12-31\n",
        3,
        "waivers[0].reason",
    ),
    (
        "waiver without expiry",
        "version: 1\nwaivers:\n  - check: my-check\n    reason: ok\n",
        3,
        "waivers[0].expires",
    ),
    (
        "unknown check",
        "version: 1\nplugins: [my_checks.py]\nchecks:\n  my-chek: {}\n",
        4,
        "did you mean 'my-check'",
    ),
    (
        "unknown check option",
        "version: 1\nplugins: [my_checks.py]\nchecks:\n  my-check: {limt: 3}\n",
        4,
        "did you mean 'limit'",
    ),
    (
        "option of wrong type",
        "version: 1\nplugins: [my_checks.py]\nchecks:\n  my-check: {strict: maybe}\n",
        4,
        "must be true or false",
    ),
    (
        "list option not a list",
        "version: 1\nplugins: [my_checks.py]\nchecks:\n  my-check: {names: bob}\n",
        4,
        "must be a list",
    ),
    (
        "unset env var",
        "version: 1\norg:\n  source: ${SFAUDIT_TEST_UNSET_VAR}\n",
        3,
        "SFAUDIT_TEST_UNSET_VAR is not set",
    ),
    ("not a mapping", "- just\n- a list\n", 1, "must be a mapping"),
    ("wrong version", "version: 2\n", 1, "unsupported config version"),
    ("bad currency", "version: 1\ncontract:\n  currency: euros\n", 3, "contract.currency"),
    (
        "enabled not bool",
        "version: 1\nplugins: [my_checks.py]\nchecks:\n  my-check: {enabled: 'no'}\n",
        4,
        "must be true or false",
    ),
    (
        "waiver for unknown check",
        "version: 1\nplugins: [my_checks.py]\nwaivers:\n  - check: my-chek\n    reason: r\n    expires: 2026-12-31\n",
        4,
        "waiver for unknown check",
    ),
    (
        "blank waiver reason",
        "version: 1\nwaivers:\n  - check: x\n    reason: '   '\n    expires: 2026-12-31\n",
        4,
        "needs a reason",
    ),
    (
        "unknown report key",
        "version: 1\nreport: {formats: [json], outptu: x}\n",
        2,
        "did you mean 'output'",
    ),
    ("unknown lang", "version: 1\nreport: {lang: fr}\n", 2, "report.lang"),
    (
        "negative timeout",
        "version: 1\nplugins: [my_checks.py]\nchecks:\n  my-check: {timeout: -1}\n",
        4,
        "positive number",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "needle"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_bad_config_exits_2_and_names_file_line_key(
    tmp_path: Path, snapshot: Path, cli, write_plugin, text: str, line: int, needle: str
) -> None:
    write_plugin(PLUGIN)
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    result = cli("run", "-c", config, "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{config}:{line}" in result.stderr, result.stderr
    assert needle in result.stderr, result.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_at_least_fifteen_distinct_bad_configs() -> None:
    assert len({c[1] for c in BAD_CONFIGS}) >= 15


def test_good_config_loads_with_types(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.today == dt.date(2026, 11, 26)
    assert config.contract.end_date == dt.date(2027, 1, 31)
    assert config.contract.notice_days == 30
    assert config.waivers[0].expires == dt.date(2026, 12, 31)
    assert config.resolve("org.json") == tmp_path / "org.json"
    assert config.where("contract", "notice_days") == (str(path), 8)


def test_env_interpolation_and_default(tmp_path: Path) -> None:
    text = "version: 1\norg:\n  source: ${SRC}\nreport:\n  output: ${OUT:-reports/x}\n"
    config = load_config(text=text, env={"SRC": "sf:prod"})
    assert config.org.source == "sf:prod"
    assert config.report.output == "reports/x"


def test_env_values_are_not_reparsed_as_yaml() -> None:
    config = load_config(text="version: 1\norg:\n  source: ${SRC}\n", env={"SRC": "{a: 1}"})
    assert config.org.source == "{a: 1}"


def test_cli_flags_override_config(tmp_path: Path) -> None:
    config = load_config(text=GOOD)
    apply_overrides(
        config, source="live", today=dt.date(2027, 1, 1), fail_on="critical", formats=["json"]
    )
    assert config.org.source == "live"
    assert config.today == dt.date(2027, 1, 1)
    assert config.fail_on == "critical"
    assert config.report.formats == ["json"]


def test_missing_config_file_is_a_clear_error(tmp_path: Path, cli) -> None:
    result = cli("run", "-c", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "config file not found" in result.stderr and "sfaudit init" in result.stderr


def test_empty_config_is_valid() -> None:
    config = load_config(text="")
    assert config.fail_on == "info"
    assert config.contract.notice_days == 30


def test_config_error_has_structured_fields() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(text="version: 1\ncontract:\n  notice_days: x\n")
    assert info.value.line == 3
    assert info.value.key == "contract.notice_days"


def test_init_writes_a_starter_config_that_loads(tmp_path: Path, cli) -> None:
    target = tmp_path / "sfaudit.yaml"
    result = cli("init", target)
    assert result.exit_code == 0, result.output
    config = load_config(target)
    assert config.org.source == "live"
    assert config.fail_on == "high"
    assert re.search(r"^# ", target.read_text(), re.M), "starter config is commented"
    again = cli("init", target)
    assert again.exit_code == 2 and "--force" in again.stderr
