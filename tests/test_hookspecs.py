"""Every hook spec is documented, typed, exercised, and listed in docs/plugins.md."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from sfaudit import check, hookimpl
from sfaudit import hookspecs as specs_module
from sfaudit.audit import run_audit
from sfaudit.config import Config, load_config
from sfaudit.notify import Notification, Notifier, notify
from sfaudit.plugins import DEFAULT_PLUGINS, get_plugin_manager
from sfaudit.report import ReportFormat, available_formats, write_reports
from sfaudit.sources.snapshot import SnapshotOrg
from sfaudit.testing import OrgBuilder

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(
    name
    for name, obj in vars(specs_module).items()
    if name.startswith("sfaudit_") and callable(obj)
)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_and_typed(name: str) -> None:
    func = getattr(specs_module, name)
    doc = inspect.getdoc(func) or ""
    assert doc, f"{name} has no docstring"
    params = [p for p in inspect.signature(func).parameters]
    for param in params:
        assert f":param {param}:" in doc, f"{name} does not document {param}"
    assert inspect.signature(func).return_annotation is not inspect.Signature.empty
    if getattr(func, "sfaudit_spec", {}).get("firstresult"):
        assert "Stops at the first non-None result" in doc


def test_hooks_reference_lists_exactly_the_hooks() -> None:
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    listed = sorted(set(re.findall(r"^### `(sfaudit_[a-z_]+)`", guide, flags=re.M)))
    assert listed == HOOKS


def test_builtins_are_ordinary_plugins() -> None:
    pm = get_plugin_manager(entry_points=False)
    assert [n for n in pm.infos if pm.infos[n].origin == "builtin"] == list(DEFAULT_PLUGINS)


class EveryHook:
    """A plugin implementing every hook; records what was called."""

    def __init__(self, data: Any) -> None:
        self.calls: list[str] = []
        self.data = data

    @hookimpl
    def sfaudit_register_checks(self) -> list[Any]:
        self.calls.append("register_checks")

        @check("hooked", severity="low")
        def hooked(org: Any, extra_value: str, backup: Any) -> None:
            assert extra_value == "from a fixture"
            assert backup == {"parts": 1}
            assert org.info().name == "Hooked"

        return [hooked]

    @hookimpl
    def sfaudit_register_fixtures(self) -> list[Any]:
        self.calls.append("register_fixtures")

        def extra_value() -> str:
            return "from a fixture"

        return [extra_value]

    @hookimpl
    def sfaudit_register_report_formats(self) -> list[ReportFormat]:
        self.calls.append("register_report_formats")

        def write(report: Any, path: Path, context: Any) -> None:
            path.write_text(f"{report.verdict}\n")

        return [ReportFormat("txt", "verdict.txt", write)]

    @hookimpl(tryfirst=True)
    def sfaudit_org_source(self, spec: str, config: Config) -> Any:
        self.calls.append("org_source")
        return SnapshotOrg(self.data) if spec == "hooked:" else None

    @hookimpl
    def sfaudit_open_backup(self, path: Path, config: Config) -> Any:
        self.calls.append("open_backup")
        return {"parts": 1}

    @hookimpl
    def sfaudit_run_started(self, config: Config, checks: list[Any], today: dt.date) -> None:
        self.calls.append(f"run_started:{len(checks)}:{today}")

    @hookimpl(wrapper=True)
    def sfaudit_call_check(self, spec: Any, kwargs: Any) -> Any:
        self.calls.append(f"call_check:{spec.id}")
        return (yield)

    @hookimpl
    def sfaudit_check_finished(self, result: Any) -> None:
        self.calls.append(f"check_finished:{result.status}")

    @hookimpl
    def sfaudit_amend_results(self, report: Any, config: Config) -> None:
        self.calls.append("amend_results")

    @hookimpl
    def sfaudit_register_notifiers(self) -> list[Any]:
        self.calls.append("register_notifiers")

        def deliver(message: Any, channel: Any, transport: Any) -> str:
            self.calls.append(f"notifier:{message.verdict}")
            return "ok"

        return [Notifier("hooked", deliver, requires=())]

    @hookimpl
    def sfaudit_notify(self, report: Any, config: Config) -> list[Any]:
        self.calls.append(f"notify:{len(report.rollup.rows)}")
        return []

    @hookimpl
    def sfaudit_run_finished(self, report: Any) -> None:
        self.calls.append(f"run_finished:{report.verdict}")


def test_every_hook_is_exercised(tmp_path: Path) -> None:
    plugin = EveryHook(OrgBuilder(name="Hooked").build())
    pm = get_plugin_manager(entry_points=False, extra=[plugin])
    config = load_config(
        text=f"version: 1\ntoday: 2026-11-26\norg: {{source: 'hooked:'}}\nbackup: {{path: '{tmp_path}'}}\n"
        "notify: [{type: hooked, on: [always]}]\n"
    )
    report = run_audit(config, pm, select=["hooked"])
    formats = available_formats(pm)
    written, problems = write_reports(report, formats, ["txt"], tmp_path)
    assert not problems
    assert written["txt"].read_text() == "ready\n"
    deliveries = notify(pm, Notification.of_report(report), config)
    assert [d.status for d in deliveries] == ["sent"]
    called = {c.split(":")[0] for c in plugin.calls} - {"notifier"}
    assert called == {h.removeprefix("sfaudit_") for h in HOOKS}
    assert "run_started:1:2026-11-26" in plugin.calls
    assert "check_finished:pass" in plugin.calls
    assert plugin.calls[-4:] == [
        "register_report_formats",
        "register_notifiers",
        "notifier:ready",
        "notify:1",
    ]


def test_a_failing_writer_leaves_every_file_with_the_same_verdict(tmp_path: Path) -> None:
    import json

    class Boom:
        @hookimpl
        def sfaudit_register_report_formats(self) -> list[ReportFormat]:
            def write(report: Any, path: Path, context: Any) -> None:
                raise RuntimeError("disk on fire")

            return [ReportFormat("boom", "boom.txt", write)]

    pm = get_plugin_manager(entry_points=False, extra=[Boom()])
    config = load_config(text="version: 1\ntoday: 2026-11-26\n")
    report = run_audit(config, pm, select=["notice-deadline"])
    formats = available_formats(pm)
    written, problems = write_reports(report, formats, ["html", "boom", "json"], tmp_path)
    assert problems == ["the boom report could not be written: RuntimeError: disk on fire"]
    assert json.loads(written["json"].read_text())["verdict"] == "incomplete"
    assert 'data-verdict="incomplete"' in written["html"].read_text()
    assert not (tmp_path / "boom.txt").exists()
