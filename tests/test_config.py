"""The YAML config: validation errors name file:line and key, exit code 2."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from sfaudit.config import apply_overrides, load_config, require_source
from sfaudit.errors import ConfigError, UsageError

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


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("\n   \n\t\n", "is empty"),
        ("# version: 1\n# org:\n#   source: live\n", "holds only comments: no settings"),
        ("---\n", "holds no settings"),
        ("---\n# just a comment\n...\n", "holds only comments: no settings"),
    ],
)
def test_a_config_without_settings_is_an_error(tmp_path: Path, text: str, problem: str) -> None:
    """Almost always a wrong path or a truncated file: never an audit with every default."""
    path = tmp_path / "sfaudit.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: {problem}\n  hint: write a config (`sfaudit init` writes a commented one), "
        "or point -c (pytest: --sfaudit) at the right file"
    )


def test_a_null_config_is_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="must be a mapping of keys, got null"):
        load_config(text="~\n")


def test_no_config_at_all_is_the_defaults() -> None:
    """What `sfaudit demo` and `verify-backup` without -c start from."""
    config = load_config()
    assert config.fail_on == "info"
    assert config.contract.notice_days == 30


def test_require_source_names_the_file_and_both_fixes(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("version: 1\norg:\n  domain: test\n", encoding="utf-8")
    config = load_config(path)
    with pytest.raises(ConfigError) as info:
        require_source(config)
    assert info.value.exit_code == 2
    assert str(info.value) == (
        f"{path}:2: no org source\n  hint: set org.source in {path} "
        "(snapshot:PATH, live or sf:ALIAS), or pass --source"
    )
    with pytest.raises(UsageError, match="no org source and no config"):
        require_source(load_config())
    require_source(apply_overrides(config, source="live"))  # --source is the other fix


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


def test_data_return_and_deletion_days_default_to_salesforce_figures() -> None:
    contract = load_config(text="version: 1\ncontract:\n  end_date: 2027-01-31\n").contract
    assert (contract.data_return_days, contract.deletion_days) == (30, 120 + 90)
    custom = load_config(
        text="version: 1\ncontract:\n  data_return_days: 0\n  deletion_days: 400\n"
    ).contract
    assert (custom.data_return_days, custom.deletion_days) == (0, 400)


@pytest.mark.parametrize(
    ("key", "value", "message", "hint"),
    [
        ("data_return_days", "-1", "greater than or equal to 0 (got -1)", "not negative"),
        ("deletion_days", "soon", "valid integer", "whole number"),
        ("data_return_days", "2.5", "fractional part", "whole number"),
        ("deletion_days", "true", "must be a whole number of days, not true", "Order Form"),
        ("deletion_days", "4000", "less than or equal to 3650", "smaller value"),
    ],
)
def test_data_return_and_deletion_days_errors_name_file_line_and_field(
    tmp_path: Path, key: str, value: str, message: str, hint: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(
        f"version: 1\ncontract:\n  end_date: 2027-01-31\n  {key}: {value}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (info.value.line, info.value.key) == (4, f"contract.{key}")
    text = str(info.value)
    assert text.startswith(f"{path}:4: contract.{key}: ") and message in text and hint in text


@pytest.mark.parametrize(
    "channel",
    [
        "{type: email, host: h, from: a@b.example, to: [x@b.example], password: 98765432}",
        "{type: webhook, url: [https://hooks.example/Secret-Path-4417]}",
        "{type: webhook, url: {at: https://hooks.example/Secret-Path-4417}}",
    ],
)
def test_a_secret_of_the_wrong_type_is_not_quoted_in_the_error(channel: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(text=f"version: 1\nnotify:\n  - {channel}\n")
    assert err.value.line == 3 and err.value.key and err.value.key.startswith("notify[0].")
    assert "98765432" not in str(err.value) and "Secret-Path-4417" not in str(err.value)
