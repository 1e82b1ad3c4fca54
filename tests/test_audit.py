"""The Audit object and the collecting plugin manager."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sfaudit import Audit, hookimpl
from sfaudit.errors import ConfigError, UsageError
from sfaudit.plugins import get_plugin_manager
from tests.conftest import read_json, small_org

PLUGIN = """
from sfaudit import check

SEEN = []

@check("uses-org", severity="high")
def uses_org(org, run):
    SEEN.append(org)
    assert run.org() is org
    assert org.count("Account", where="Name = 'x'") == 2
"""


def _project(tmp_path: Path, write_config: Callable[..., Path], extra: str = "") -> Path:
    small_org().query("SELECT COUNT() FROM Account WHERE Name = 'x'", 2).write(
        tmp_path / "org.json"
    )
    (tmp_path / "p.py").write_text(PLUGIN, encoding="utf-8")
    return write_config(
        "version: 1\ntoday: 2026-11-26\norg: {source: snapshot:org.json}\n"
        "plugins: [p.py]\nreport: {formats: [json]}\n" + extra
    )


def test_from_config_run_and_write(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    path = _project(tmp_path, write_config)
    overrides = {"today": dt.date(2026, 12, 1), "fail_on": "never", "output": str(tmp_path / "o")}
    with Audit.from_config(path, overrides, entry_points=False) as audit:
        assert audit.today == dt.date(2026, 12, 1)
        assert "uses-org" in audit.checks
        org = audit.org()
        report = audit.run(select=["uses-org"])
        assert audit.report is report
        assert str(report.check("uses-org").status) == "pass"
        seen = sys.modules["sfaudit_local_p"].SEEN
        assert seen == [org]  # the check got the audit's own org
        written = audit.write()
    assert set(written) == {"json"}
    data = read_json(written["json"])
    assert data["verdict"] == str(report.verdict) == "ready"
    assert data["today"] == "2026-12-01"


def test_input_errors_stop_from_config(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    with pytest.raises(UsageError, match="no org source"):
        Audit.from_config(None, entry_points=False)
    assert Audit.from_config(None, source_flag=None, entry_points=False).config.path is None
    path = _project(tmp_path, write_config, "checks:\n  no-such-check: {}\n")
    audit = Audit.from_config(path, entry_points=False)
    with pytest.raises(ConfigError, match="unknown check 'no-such-check'"):
        audit.checks  # noqa: B018 - validated when first read
    with pytest.raises(UsageError, match="unknown report format 'pdf'"):
        audit.format_names(["pdf"])
    with pytest.raises(RuntimeError, match=r"call Audit\.run"):
        audit.write()


class Flaky:
    """Two hooks that raise, and one that answers."""

    @hookimpl
    def sfaudit_register_report_formats(self) -> list[Any]:
        raise RuntimeError("formats broke")

    @hookimpl
    def sfaudit_run_finished(self, report: Any) -> None:
        raise ValueError("listener broke")


def test_collect_and_notify_record_a_problem_per_failure() -> None:
    pm = get_plugin_manager(entry_points=False, extra=[Flaky()])
    formats = pm.collect("sfaudit_register_report_formats")
    assert "sfaudit.report.json_report" in [name for name, _ in formats]
    assert pm.collect_report_formats()["json"].plugin == "sfaudit.report.json_report"
    pm.notify(pm.hook.sfaudit_run_finished, report=None)
    assert sum("formats broke" in p for p in pm.problems) == 2
    assert [p for p in pm.problems if "listener" in p] == [
        "plugin 'extra-0' failed in sfaudit_run_finished: ValueError: listener broke"
    ]


def test_the_org_tells_what_it_answered(tmp_path: Path) -> None:
    org = small_org().query("SELECT COUNT() FROM Case", 4).org()
    assert org.recorded_queries() == {}
    org.count("Case")
    assert org.recorded_queries()["SELECT COUNT() FROM Case"]["totalSize"] == 4
    org.ownership(custodians=["admin@test.example"])
    assert org.recorded_custodians() == {("admin@test.example",)}
