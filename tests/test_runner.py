"""Check outcomes, fixtures by name, isolation of crashing checks and plugins."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from sfaudit import check, fixture, hookimpl
from sfaudit.audit import run_audit
from sfaudit.config import load_config
from sfaudit.results import Severity, Status
from tests.conftest import core_pm, read_json

OUTCOMES = '''
from sfaudit import check, warn, skip, Finding

@check("passes", severity="high")
def passes(org):
    assert org.info().name == "Test Org"

@check("asserts", severity="high")
def asserts(org):
    n = len(org.users())
    assert n == 0, f"{n} users remain"

@check("bare-assert", severity="low")
def bare_assert(today):
    assert today.year == 1999

@check("yields", severity="medium")
def yields(org):
    for u in org.users():
        yield Finding(f"{u.username} is here", user=u.username)

@check("returns-list", severity="medium")
def returns_list():
    return [Finding("note", severity="info")]

@check("warns", severity="high")
def warns():
    warn("look at this")

@check("skips")
def skips():
    skip("does not apply")

@check("errors", severity="critical")
def errors(org):
    return {}["missing"]

def check_plain_function(config):
    """A plain check_* function is discovered too."""
'''


def _run(
    tmp_path: Path, snapshot: Path, plugin: str, extra: str = "", select: list[str] | None = None
):
    (tmp_path / "p.py").write_text(plugin)
    config = load_config(
        text=f"version: 1\ntoday: 2026-11-26\norg: {{source: 'snapshot:{snapshot}'}}\n{extra}"
    )
    pm = core_pm([tmp_path / "p.py"])
    return run_audit(config, pm, select=select)


def test_every_outcome(tmp_path: Path, snapshot: Path) -> None:
    report = _run(tmp_path, snapshot, OUTCOMES)
    status = {c.id: c.status for c in report.checks}
    assert status == {
        "passes": Status.PASS,
        "asserts": Status.FAIL,
        "bare-assert": Status.FAIL,
        "yields": Status.FAIL,
        "returns-list": Status.PASS,
        "warns": Status.WARN,
        "skips": Status.SKIP,
        "errors": Status.ERROR,
        "plain-function": Status.PASS,
    }
    assert report.check("asserts").message == "2 users remain"
    assert "assert today.year == 1999" in report.check("bare-assert").message
    assert [f.user for f in report.check("yields").findings] == [
        "admin@test.example",
        "gone@test.example",
    ]
    assert report.check("yields").message == "2 findings"
    assert report.check("warns").message == "look at this"
    assert report.check("skips").message == "does not apply"
    err = report.check("errors")
    assert err.message == "KeyError: 'missing'"
    assert err.traceback and 'return {}["missing"]' in err.traceback
    assert report.check("plain-function").title == "A plain check_* function is discovered too."


def test_error_makes_run_incomplete_but_others_still_report(tmp_path: Path, snapshot: Path) -> None:
    report = _run(tmp_path, snapshot, OUTCOMES)
    assert report.verdict == "incomplete"
    assert report.exit_code == 3
    assert len(report.checks) == 9


def test_crashing_check_via_cli_exit_3_others_reported(tmp_path: Path, snapshot: Path, cli) -> None:
    (tmp_path / "p.py").write_text(OUTCOMES)
    cfg = tmp_path / "a.yaml"
    cfg.write_text(
        "version: 1\ntoday: 2026-11-26\norg: {source: snapshot:org.json}\nplugins: [p.py]\n"
        "report: {formats: [json], output: out}\n"
    )
    result = cli("run", "-c", cfg)
    assert result.exit_code == 3, result.output
    data = read_json(tmp_path / "out" / "report.json")
    assert data["verdict"] == "incomplete"
    assert {c["id"] for c in data["checks"]} >= {"passes", "errors", "yields"}
    assert "Traceback" not in result.stdout


class CrashingPlugin:
    """A plugin whose hooks raise: the audit goes on without it."""

    @hookimpl
    def sfaudit_register_checks(self) -> list[Any]:
        raise RuntimeError("boom in register")

    @hookimpl
    def sfaudit_amend_results(self, report: Any, config: Any) -> None:
        raise RuntimeError("boom in amend")


def test_crashing_plugin_is_isolated_and_makes_run_incomplete(
    tmp_path: Path, snapshot: Path
) -> None:
    (tmp_path / "p.py").write_text(OUTCOMES)
    config = load_config(text=f"version: 1\norg: {{source: 'snapshot:{snapshot}'}}\n")
    pm = core_pm([tmp_path / "p.py"], extra=[CrashingPlugin()])
    report = run_audit(config, pm, select=["passes"])
    assert report.check("passes").status == Status.PASS
    assert any("boom in register" in p for p in report.problems)
    assert any("boom in amend" in p for p in report.problems)
    assert report.exit_code == 3


def test_plugin_fixture_by_parameter_name(tmp_path: Path, snapshot: Path) -> None:
    calls: list[str] = []

    @fixture
    def custodian(config: Any) -> str:
        calls.append("setup")
        yield "archive@test.example"
        calls.append("teardown")

    @fixture(scope="check")
    def per_check(check: Any) -> str:
        return check.id

    @check("uses-fixtures")
    def uses(custodian: str, per_check: str) -> None:
        assert custodian == "archive@test.example"
        assert per_check == "uses-fixtures"

    @check("uses-fixtures-too")
    def uses_too(custodian: str) -> None:
        assert custodian

    class Plugin:
        @hookimpl
        def sfaudit_register_fixtures(self) -> list[Any]:
            return [custodian, per_check]

        @hookimpl
        def sfaudit_register_checks(self) -> list[Any]:
            return [uses, uses_too]

    config = load_config(text=f"version: 1\norg: {{source: 'snapshot:{snapshot}'}}\n")
    pm = core_pm(extra=[Plugin()])
    report = run_audit(config, pm, select=["uses-fixtures", "uses-fixtures-too"])
    assert [c.status for c in report.checks] == [Status.PASS, Status.PASS]
    assert calls == ["setup", "teardown"], "run-scoped fixture set up once, torn down at the end"


def test_unknown_fixture_is_an_error_naming_it(tmp_path: Path, snapshot: Path) -> None:
    report = _run(
        tmp_path, snapshot, "from sfaudit import check\n@check('x')\ndef x(orgg):\n    pass\n"
    )
    result = report.check("x")
    assert result.status == Status.ERROR
    assert "fixture 'orgg' not found" in result.message and "org" in result.message


def test_options_and_metrics_fixtures(tmp_path: Path, snapshot: Path) -> None:
    plugin = (
        "from sfaudit import check\n"
        "@check('opt', options={'limit': 1, 'names': ['a']})\n"
        "def opt(options, metrics, severity):\n"
        "    metrics['limit'] = options['limit']\n"
        "    metrics['names'] = options['names']\n"
        "    metrics['severity'] = str(severity)\n"
    )
    report = _run(tmp_path, snapshot, plugin, "checks:\n  opt: {limit: 5, severity: critical}\n")
    assert report.check("opt").metrics == {"limit": 5, "names": ["a"], "severity": "critical"}
    assert report.check("opt").severity == Severity.CRITICAL


@pytest.mark.timed_wait
def test_check_timeout_becomes_error(tmp_path: Path, snapshot: Path) -> None:
    plugin = (
        "import time\nfrom sfaudit import check\n@check('slow')\ndef slow():\n    time.sleep(5)\n"
    )
    start = time.perf_counter()
    report = _run(tmp_path, snapshot, plugin, "checks:\n  slow: {timeout: 0.2}\n")
    assert time.perf_counter() - start < 4
    assert report.check("slow").status == Status.ERROR
    assert "timed out after 0.2s" in report.check("slow").message


def test_generator_keeps_findings_before_an_assert(tmp_path: Path, snapshot: Path) -> None:
    plugin = (
        "from sfaudit import check, Finding\n"
        "@check('gen')\n"
        "def gen():\n"
        "    yield Finding('first', key='1')\n"
        "    assert False, 'then it failed'\n"
    )
    result = _run(tmp_path, snapshot, plugin).check("gen")
    assert result.status == Status.FAIL
    assert result.message == "then it failed"
    assert [f.message for f in result.findings] == ["first"]


def test_disabled_check_does_not_run_unless_selected(tmp_path: Path, snapshot: Path) -> None:
    report = _run(tmp_path, snapshot, OUTCOMES, "checks:\n  errors: {enabled: false}\n")
    assert "errors" not in {c.id for c in report.checks}
    selected = _run(
        tmp_path, snapshot, OUTCOMES, "checks:\n  errors: {enabled: false}\n", ["errors"]
    )
    assert [c.id for c in selected.checks] == ["errors"]


def test_unknown_select_is_usage_error(tmp_path: Path, snapshot: Path, cli) -> None:
    (tmp_path / "p.py").write_text(OUTCOMES)
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\norg: {source: snapshot:org.json}\nplugins: [p.py]\n")
    result = cli("run", "-c", cfg, "--select", "pases")
    assert result.exit_code == 2
    assert "did you mean 'passes'" in result.stderr


UNREADABLE_SOURCE = """
from sfaudit import hookimpl

@hookimpl
def sfaudit_org_source(spec, config):
    if spec == "down:":
        raise RuntimeError("the org is down for maintenance")
"""


def test_unreadable_org_makes_dependent_checks_error_exit_3(tmp_path: Path, cli) -> None:
    # A source that cannot be read (not one that is missing: that is exit 2 before
    # anything runs) errors the checks that need the org; the others still run.
    (tmp_path / "p.py").write_text(OUTCOMES + UNREADABLE_SOURCE)
    cfg = tmp_path / "a.yaml"
    cfg.write_text(
        "version: 1\norg: {source: 'down:'}\nplugins: [p.py]\n"
        "report: {formats: [json], output: out}\n"
    )
    result = cli("run", "-c", cfg, "--select", "passes,warns")
    assert result.exit_code == 3
    data = read_json(tmp_path / "out" / "report.json")
    statuses = {c["id"]: c["status"] for c in data["checks"]}
    assert statuses == {"passes": "error", "warns": "warn"}
    assert "the org is down for maintenance" in data["checks"][0]["message"]
    assert data["verdict"] == "incomplete"


def test_missing_snapshot_is_input_error_exit_2(tmp_path: Path, cli) -> None:
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\norg: {source: snapshot:nope.json}\n")
    result = cli("run", "-c", cfg)
    assert result.exit_code == 2
    assert "nope.json not found" in result.stderr


@pytest.mark.parametrize(
    ("plugin_text", "needle"),
    [
        ("def broken(:\n", "syntax error in plugin"),
        ("raise RuntimeError('nope')\n", "plugin raised RuntimeError on import: nope"),
    ],
)
def test_bad_plugin_file_exit_2(tmp_path: Path, cli, plugin_text: str, needle: str) -> None:
    (tmp_path / "p.py").write_text(plugin_text)
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\nplugins: [p.py]\n")
    result = cli("run", "-c", cfg)
    assert result.exit_code == 2
    assert needle in result.stderr and "p.py:1" in result.stderr


def test_missing_plugin_file_exit_2(tmp_path: Path, cli) -> None:
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\nplugins: [gone.py]\n")
    result = cli("run", "-c", cfg)
    assert result.exit_code == 2
    assert "gone.py does not exist" in result.stderr


def test_duplicate_check_ids_reported(tmp_path: Path, snapshot: Path) -> None:
    (tmp_path / "q.py").write_text(
        "from sfaudit import check\n@check('passes')\ndef dup():\n    pass\n"
    )
    (tmp_path / "p.py").write_text(OUTCOMES)
    config = load_config(text=f"version: 1\norg: {{source: 'snapshot:{snapshot}'}}\n")
    pm = core_pm([tmp_path / "p.py", tmp_path / "q.py"])
    report = run_audit(config, pm, select=["passes"])
    assert any("defined by both" in p for p in report.problems)


def test_summary_template_and_counts_after_waivers(tmp_path: Path, snapshot: Path) -> None:
    plugin = (
        "from sfaudit import check, Finding\n"
        "@check('people', summary='{findings} of {total} users remain')\n"
        "def people(org, metrics):\n"
        "    metrics['total'] = len(org.users())\n"
        "    for u in org.users():\n"
        "        yield Finding(u.username, user=u.username)\n"
        "@check('bad-template', summary='{nope} remain')\n"
        "def bad_template():\n"
        "    yield Finding('x', key='x')\n"
    )
    waiver = "waivers:\n  - {check: people, match: {user: gone@test.example}, reason: r, expires: 2099-01-01}\n"
    report = _run(tmp_path, snapshot, plugin, waiver)
    assert report.check("people").message == "1 of 2 users remain"
    assert report.check("bad-template").message == "1 finding"


def test_findings_before_a_skip_still_fail(tmp_path: Path, snapshot: Path) -> None:
    plugin = (
        "from sfaudit import check, Finding, skip\n"
        "@check('partial', severity='critical')\n"
        "def partial():\n"
        "    yield Finding('500 records owned by an inactive user', key='x')\n"
        "    skip('the rest could not be read')\n"
    )
    report = _run(tmp_path, snapshot, plugin)
    assert report.check("partial").status == Status.FAIL
    assert report.exit_code == 1


def test_run_scoped_fixture_cannot_capture_check_scoped_values(
    tmp_path: Path, snapshot: Path
) -> None:
    @fixture
    def limit(options: Any) -> int:
        return int(options["max"])

    @check("uses-limit", options={"max": 1})
    def uses_limit(limit: int) -> None:
        assert limit >= 5

    class Plugin:
        @hookimpl
        def sfaudit_register_fixtures(self) -> list[Any]:
            return [limit]

        @hookimpl
        def sfaudit_register_checks(self) -> list[Any]:
            return [uses_limit]

    config = load_config(text=f"version: 1\norg: {{source: 'snapshot:{snapshot}'}}\n")
    report = run_audit(config, core_pm(extra=[Plugin()]), select=["uses-limit"])
    result = report.check("uses-limit")
    assert result.status == Status.ERROR
    assert "run-scoped fixture 'limit' asks for the check-scoped 'options'" in result.message


def test_sys_exit_in_a_check_is_an_error_not_an_exit(tmp_path: Path, snapshot: Path) -> None:
    plugin = (
        "import sys\nfrom sfaudit import check\n"
        "@check('quits')\ndef quits():\n    sys.exit(0)\n"
        "@check('still-runs')\ndef still_runs():\n    pass\n"
    )
    report = _run(tmp_path, snapshot, plugin)
    assert report.check("quits").status == Status.ERROR
    assert "sys.exit(0)" in report.check("quits").message
    assert report.check("still-runs").status == Status.PASS
    assert report.exit_code == 3


def test_no_checks_is_never_ready(tmp_path: Path, snapshot: Path) -> None:
    ids = ("passes", "asserts", "bare-assert", "yields", "returns-list", "warns", "skips")
    ids += ("errors", "plain-function")
    disabled = "checks:\n" + "".join(f"  {c}: {{enabled: false}}\n" for c in ids)
    report = _run(tmp_path, snapshot, OUTCOMES, disabled)
    assert report.checks == []
    assert report.verdict == "incomplete"
    assert any("no checks ran" in p for p in report.problems)


def test_raising_notification_hook_is_a_problem(tmp_path: Path, snapshot: Path) -> None:
    class Noisy:
        @hookimpl
        def sfaudit_check_finished(self, result: Any) -> None:
            raise RuntimeError("listener broke")

    (tmp_path / "p.py").write_text(OUTCOMES)
    config = load_config(text=f"version: 1\norg: {{source: 'snapshot:{snapshot}'}}\n")
    report = run_audit(config, core_pm([tmp_path / "p.py"], extra=[Noisy()]), select=["passes"])
    assert report.check("passes").status == Status.PASS
    assert any("listener broke" in p for p in report.problems)
    assert report.exit_code == 3


def test_bad_check_name_is_a_problem_and_the_others_run(tmp_path: Path, snapshot: Path) -> None:
    plugin = "def check_Foo():\n    pass\n\ndef check_fine():\n    pass\n"
    report = _run(tmp_path, snapshot, plugin)
    assert [c.id for c in report.checks] == ["fine"]
    assert any("check_Foo" in p for p in report.problems)


def test_the_same_plugin_listed_twice_loads_once(tmp_path: Path, snapshot: Path, cli) -> None:
    (tmp_path / "p.py").write_text(OUTCOMES)
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\norg: {source: snapshot:org.json}\nplugins: [p.py, ./p.py]\n")
    result = cli("run", "-c", cfg, "--select", "passes", "--format", "json", "-o", tmp_path / "o")
    assert result.exit_code == 0, result.output


def test_a_plugin_fixture_overrides_a_builtin_and_reserved_names_are_problems(
    tmp_path: Path, snapshot: Path
) -> None:
    @fixture(name="contract")
    def my_contract() -> str:
        return "from the plugin"

    @fixture(name="today")
    def my_today() -> str:
        return "never used"

    @check("reads-contract")
    def reads_contract(contract: Any, today: Any) -> None:
        assert contract == "from the plugin"
        assert today != "never used"

    class Plugin:
        @hookimpl
        def sfaudit_register_fixtures(self) -> list[Any]:
            return [my_contract, my_today]

        @hookimpl
        def sfaudit_register_checks(self) -> list[Any]:
            return [reads_contract]

    config = load_config(text=f"version: 1\norg: {{source: 'snapshot:{snapshot}'}}\n")
    report = run_audit(config, core_pm(extra=[Plugin()]), select=["reads-contract"])
    assert report.check("reads-contract").status == Status.PASS
    assert any("'today', which the runner provides itself" in p for p in report.problems)
