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
