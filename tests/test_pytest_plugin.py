"""The pytest plugin, driven through pytester: collection, status mapping,
selection, junitxml, fixtures for plain tests, inertness and xdist."""

from __future__ import annotations

import json
import re
import textwrap
import xml.etree.ElementTree as ET

import pytest

from sfaudit.plugins import collect_checks, get_plugin_manager
from sfaudit.testing import OrgBuilder

pytest_plugins = ["pytester"]

# Deterministic checks, one per sfaudit status.
LOCAL_CHECKS = '''
from sfaudit import Finding, check, skip, warn


@check("zz-pass", severity="high")
def zz_pass(org):
    """Open cases are counted."""
    open_cases = org.count("Case", where="IsClosed = false")
    assert open_cases == 3, f"{open_cases} open cases"


@check("zz-fail", severity="high", fix="Deactivate them.")
def zz_fail():
    """Users who can still log in."""
    yield Finding("user a can log in", user="a@x.example")
    yield Finding("user b can log in", user="b@x.example")


@check("zz-low", severity="low")
def zz_low():
    """A minor problem."""
    assert False, "a minor problem"


@check("zz-warn")
def zz_warn():
    """Worth a look."""
    warn("look at this")


@check("zz-skip")
def zz_skip():
    """Does not apply here."""
    skip("does not apply")


@check("zz-waived", severity="high")
def zz_waived():
    """Only a vendor login remains."""
    yield Finding("vendor login", user="support@x.example")


@check("zz-error")
def zz_error():
    """A check with a bug."""
    raise RuntimeError("boom")


@check("zz-off")
def zz_off():
    """Disabled in the config."""
'''

LOCAL_IDS = ["zz-pass", "zz-fail", "zz-low", "zz-warn", "zz-skip", "zz-waived", "zz-error"]
#: Items per config: a check each, and ``waivers`` (the config has a waiver).
ITEMS = [*LOCAL_IDS, "waivers"]


def _other_checks() -> list[str]:
    """Checks installed besides the local ones (built-ins, entry points): disabled in
    the test configs so the outcomes depend on the local checks only."""
    return sorted(collect_checks(get_plugin_manager()))


def make_project(
    pytester: pytest.Pytester,
    *,
    name: str = "readiness.yaml",
    fail_on: str = "medium",
    extra: str = "",
    source: str = "snapshot:org.json",
) -> None:
    """Write org.json (an OrgBuilder snapshot), my_checks.py and the config."""
    builder = OrgBuilder(name="Test Org")
    builder.user("admin@x.example")
    builder.query("SELECT COUNT() FROM Case WHERE IsClosed = false", 3)
    builder.write(pytester.path / "org.json")
    pytester.makepyfile(my_checks=LOCAL_CHECKS)
    disabled = "".join(f"  {cid}: {{enabled: false}}\n" for cid in _other_checks())
    config = (
        "version: 1\n"
        "today: 2026-11-26\n"
        f"org: {{source: '{source}'}}\n"
        "contract: {notice_days: 45}\n"
        "plugins: [my_checks.py]\n"
        "checks:\n"
        f"{disabled}"
        "  zz-off: {enabled: false}\n"
        "  zz-fail: {severity: high}\n"
        "waivers:\n"
        "  - check: zz-waived\n"
        "    match: {user: support@x.example}\n"
        "    reason: Vendor support login\n"
        "    expires: 2026-12-31\n"
        f"fail_on: {fail_on}\n"
        f"{extra}"
    )
    (pytester.path / name).write_text(config, encoding="utf-8")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An in-process run. sfaudit is already imported here, so pytest's notice that
    it cannot assertion-rewrite the plugin's package is silenced."""
    return pytester.runpytest("-W", "ignore::pytest.PytestAssertRewriteWarning", *args)


def outcomes_by_item(result: pytest.RunResult) -> dict[str, str]:
    """``readiness.yaml::zz-pass`` → ``PASSED`` from ``-v`` output."""
    found = {}
    for line in result.outlines:
        m = re.match(r"^(\S+\.yaml::\S+) (PASSED|FAILED|SKIPPED|XFAIL|ERROR)\b", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


EXPECTED = {
    "readiness.yaml::zz-pass": "PASSED",
    "readiness.yaml::zz-fail": "FAILED",
    "readiness.yaml::zz-low": "XFAIL",
    "readiness.yaml::zz-warn": "PASSED",
    "readiness.yaml::zz-skip": "SKIPPED",
    "readiness.yaml::zz-waived": "SKIPPED",
    "readiness.yaml::zz-error": "ERROR",
    "readiness.yaml::waivers": "PASSED",
}


# --- collection ---------------------------------------------------------------


def test_collects_each_enabled_check_as_an_item(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = run(pytester, "--sfaudit", "readiness.yaml", "--collect-only", "-q")
    ids = sorted(line for line in result.outlines if "::" in line)
    assert ids == sorted(f"readiness.yaml::{cid}" for cid in ITEMS)
    assert result.ret == 0


def test_configs_in_a_subfolder_and_repeated_option(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    checks_dir = pytester.mkdir("checks")
    text = (pytester.path / "readiness.yaml").read_text(encoding="utf-8")
    text = text.replace("snapshot:org.json", "snapshot:../org.json")
    text = text.replace("[my_checks.py]", "[../my_checks.py]")
    (checks_dir / "second.yaml").write_text(text, encoding="utf-8")
    result = run(
        pytester, "--sfaudit", "readiness.yaml", "--sfaudit", "checks/second.yaml", "--co", "-q"
    )
    lines = [line for line in result.outlines if "::" in line]
    assert "readiness.yaml::zz-pass" in lines
    assert "checks/second.yaml::zz-pass" in lines
    assert len(lines) == 2 * len(ITEMS)


def test_ini_option_names_the_configs(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makeini("[pytest]\nsfaudit_configs = readiness.yaml\n")
    result = run(pytester, "--co", "-q")
    assert "readiness.yaml::zz-fail" in result.outlines


def test_plain_tests_are_still_collected_alongside(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(test_other="def test_other():\n    assert True\n")
    result = run(pytester, "--sfaudit", "readiness.yaml", "--co", "-q")
    assert "test_other.py::test_other" in result.outlines
    assert "readiness.yaml::zz-pass" in result.outlines


def test_invalid_config_is_a_collection_error_without_traceback(
    pytester: pytest.Pytester,
) -> None:
    make_project(pytester)
    (pytester.path / "bad.yaml").write_text("version: 1\nfail_onn: high\n", encoding="utf-8")
    result = run(pytester, "--sfaudit", "bad.yaml")
    result.stdout.fnmatch_lines(
        ["*ERROR collecting bad.yaml*", "*bad.yaml:2: fail_onn: unknown key 'fail_onn'*"]
    )
    assert "Traceback" not in result.stdout.str()
    assert "config.py" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("# org:\n#   source: live\n", "holds only comments"),
        ("---\n", "holds no settings"),
    ],
)
def test_an_empty_config_is_a_collection_error(
    pytester: pytest.Pytester, text: str, problem: str
) -> None:
    (pytester.path / "empty.yaml").write_text(text, encoding="utf-8")
    result = run(pytester, "--sfaudit", "empty.yaml")
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting empty.yaml*",
            f"sfaudit: empty.yaml: {problem}*",
            "*hint: write a config (`sfaudit init` writes a commented one)*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_a_config_without_an_org_source_is_a_collection_error(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    text = (pytester.path / "readiness.yaml").read_text(encoding="utf-8")
    (pytester.path / "nosource.yaml").write_text(
        text.replace("org: {source: 'snapshot:org.json'}\n", ""), encoding="utf-8"
    )
    result = run(pytester, "--sfaudit", "nosource.yaml")
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting nosource.yaml*",
            "sfaudit: nosource.yaml: no org source",
            "*hint: set org.source in nosource.yaml (snapshot:PATH, live or sf:ALIAS), "
            "or pass --sfaudit-source",
        ]
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    # The fix the message names works: the same config with --sfaudit-source runs.
    fixed = run(pytester, "--sfaudit", "nosource.yaml", "--sfaudit-source", "snapshot:org.json")
    fixed.assert_outcomes(passed=3, failed=1, skipped=2, xfailed=1, errors=1)


# --- status mapping -----------------------------------------------------------


def test_every_status_maps_to_its_pytest_outcome(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = run(pytester, "--sfaudit", "readiness.yaml", "-v", "-rsxX")
    assert outcomes_by_item(result) == EXPECTED
    result.assert_outcomes(passed=3, failed=1, xfailed=1, skipped=2, errors=1, warnings=1)
    out = result.stdout.str()
    # skip and waived carry their reasons
    assert "zz-skip: does not apply" in out
    assert "zz-waived: waived: Vendor support login (until 2026-12-31)" in out
    # warn passes, with a pytest warning of our class
    result.stdout.fnmatch_lines(["*SfauditWarning: zz-warn: look at this*"])
    # the verdict per config
    result.stdout.fnmatch_lines(["*= sfaudit =*", "readiness.yaml: incomplete (a check errored);*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_failure_text_is_the_findings_without_traceback(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = run(pytester, "--sfaudit", "readiness.yaml", "-k", "zz-fail")
    result.stdout.fnmatch_lines(
        [
            "*_ sfaudit readiness.yaml::zz-fail _*",
            "zz-fail [[]high[]] failed: Users who can still log in.",
            "  - [[]high[]] user a can log in (a@x.example)",
            "  - [[]high[]] user b can log in (b@x.example)",
            "fix: Deactivate them.",
        ]
    )
    out = result.stdout.str()
    for noise in ("Traceback", "pytest_plugin.py", "runner.py", "CheckFailed", "def "):
        assert noise not in out


def test_error_is_a_pytest_error_with_the_checks_own_traceback(
    pytester: pytest.Pytester,
) -> None:
    make_project(pytester)
    result = run(pytester, "--sfaudit", "readiness.yaml", "-k", "zz-error")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of sfaudit readiness.yaml::zz-error*",
            "zz-error errored: RuntimeError: boom",
            "*my_checks.py*line*in zz_error",
            "*raise RuntimeError*",
        ]
    )
    assert "_multicall" not in result.stdout.str()
    assert "runner.py" not in result.stdout.str()


def test_failures_below_fail_on_are_xfail(pytester: pytest.Pytester) -> None:
    make_project(pytester, fail_on="high")
    result = run(pytester, "--sfaudit", "readiness.yaml", "-k", "zz-low or zz-fail", "-rx")
    result.assert_outcomes(failed=1, xfailed=1)
    result.stdout.fnmatch_lines(
        ["*XFAIL readiness.yaml::zz-low - below fail_on high: [[]low[]] a minor problem*"]
    )
    # fail_on never: nothing fails; the command line overrides the config
    result = run(
        pytester,
        "--sfaudit",
        "readiness.yaml",
        "-k",
        "zz-low or zz-fail",
        "--sfaudit-fail-on",
        "never",
    )
    result.assert_outcomes(xfailed=2)
    assert result.ret == pytest.ExitCode.OK
    result = run(
        pytester,
        "--sfaudit",
        "readiness.yaml",
        "-k",
        "zz-low or zz-fail",
        "--sfaudit-fail-on",
        "low",
    )
    result.assert_outcomes(failed=2)


def test_expired_waiver_stops_applying_and_warns(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = run(
        pytester, "--sfaudit", "readiness.yaml", "-k", "zz-waived", "--sfaudit-today", "2027-01-15"
    )
    result.assert_outcomes(failed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*SfauditWarning: readiness.yaml: the waiver for zz-waived expired on 2026-12-31*"]
    )


def test_an_expired_waiver_fails_the_waivers_item(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = run(
        pytester, "--sfaudit", "readiness.yaml", "-k", "waivers", "--sfaudit-today", "2027-01-15"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the waiver for zz-waived expired on 2026-12-31*renew it*"])
    assert result.ret == 1
    ok = run(
        pytester, "--sfaudit", "readiness.yaml", "-k", "waivers", "--sfaudit-today", "2026-12-01"
    )
    ok.assert_outcomes(passed=1)


def test_the_pytest_summary_with_an_expired_waiver(pytester: pytest.Pytester) -> None:
    """zz-pass passes, but the waiver for zz-waived has expired: that alone blocks
    "ready", so the summary says "not ready", as report.json does."""
    make_project(pytester)
    result = run(
        pytester, "--sfaudit", "readiness.yaml", "-k", "zz-pass", "--sfaudit-today", "2027-01-15"
    )
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["readiness.yaml: not ready (expired waiver: zz-waived); 1 pass"])
    assert result.ret == 0  # the items passed; the summary states the verdict
    from click.testing import CliRunner

    from sfaudit.cli import main

    out = pytester.path / "out"
    config = str(pytester.path / "readiness.yaml")
    args = ["-c", config, "--select", "zz-pass", "--today", "2027-01-15", "--format", "json"]
    cli = CliRunner().invoke(main, ["run", *args, "-o", str(out)])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "not-ready" and cli.exit_code == 1
    assert "readiness.yaml: not ready" in result.stdout.str()


def test_audit_problems_fail_the_session(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(
        noisy="""
        from sfaudit import hookimpl

        @hookimpl
        def sfaudit_run_finished(report):
            raise RuntimeError("listener broke")
        """
    )
    text = (pytester.path / "readiness.yaml").read_text(encoding="utf-8")
    (pytester.path / "readiness.yaml").write_text(
        text.replace("[my_checks.py]", "[my_checks.py, noisy.py]"), encoding="utf-8"
    )
    result = run(pytester, "--sfaudit", "readiness.yaml", "-k", "zz-pass")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*readiness.yaml: incomplete (1 audit problems*"])
    assert result.ret == 1


def test_unreadable_org_errors_every_item_with_the_message(pytester: pytest.Pytester) -> None:
    make_project(pytester, source="snapshot:missing.json")
    result = run(pytester, "--sfaudit", "readiness.yaml", "-k", "zz-pass or zz-fail")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*sfaudit: *missing.json*"])
    assert "Traceback" not in result.stdout.str()


# --- selection and the usual flags --------------------------------------------


def test_k_selects_checks_and_only_those_run(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = run(pytester, "--sfaudit", "readiness.yaml", "-k", "zz-fail", "-v")
    assert outcomes_by_item(result) == {"readiness.yaml::zz-fail": "FAILED"}
    result.assert_outcomes(failed=1, deselected=len(ITEMS) - 1)
    # the audit ran the selected check alone
    result.stdout.fnmatch_lines(["readiness.yaml: not ready (blocking: zz-fail); 1 fail"])


def test_k_matches_severity_keywords(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    # zz-fail is high by default and in the config; zz-waived only by default;
    # the config raises zz-warn to high
    text = (pytester.path / "readiness.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  zz-off: {enabled: false}\n", "  zz-off: {enabled: false}\n  zz-warn: {severity: HIGH}\n"
    )
    (pytester.path / "readiness.yaml").write_text(text, encoding="utf-8")
    result = run(pytester, "--sfaudit", "readiness.yaml", "-k", "high", "--co", "-q")
    ids = {line for line in result.outlines if "::" in line}
    assert ids == {
        "readiness.yaml::zz-pass",
        "readiness.yaml::zz-fail",
        "readiness.yaml::zz-waived",
        "readiness.yaml::zz-warn",
    }


def test_x_stops_at_the_first_failure(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = run(pytester, "--sfaudit", "readiness.yaml", "-x", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 1
    assert "stopping after 1 failures" in result.stdout.str()


def test_quiet_and_verbose_output(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    quiet = run(pytester, "--sfaudit", "readiness.yaml", "-q", "-k", "zz-pass")
    assert quiet.outlines[0].startswith(".")
    verbose = run(pytester, "--sfaudit", "readiness.yaml", "-v", "-k", "zz-pass")
    verbose.stdout.fnmatch_lines(["readiness.yaml::zz-pass PASSED*"])


def test_junitxml_records_each_check(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    run(pytester, "--sfaudit", "readiness.yaml", "--junitxml=junit.xml")
    root = ET.parse(pytester.path / "junit.xml").getroot()
    cases = {tc.get("name"): tc for tc in root.iter("testcase")}
    assert set(cases) == set(ITEMS)
    assert cases["zz-pass"].get("classname") == "readiness.yaml"
    failure = cases["zz-fail"].find("failure")
    assert failure is not None
    assert "user a can log in (a@x.example)" in (failure.text or "")
    assert "Traceback" not in (failure.text or "")
    skipped = cases["zz-waived"].find("skipped")
    assert skipped is not None
    assert "waived: Vendor support login" in (skipped.get("message") or "")
    xfail = cases["zz-low"].find("skipped")
    assert xfail is not None and xfail.get("type") == "pytest.xfail"
    error = cases["zz-error"].find("error")
    assert error is not None and "RuntimeError: boom" in (error.get("message") or "")
    props = {p.get("name"): p.get("value") for p in cases["zz-fail"].iter("property")}
    assert props == {
        "sfaudit_status": "fail",
        "sfaudit_severity": "high",
        "sfaudit_findings": "2",
        "sfaudit_blocking": "true",
        "sfaudit_problems": "0",
    }
    waived = {p.get("name"): p.get("value") for p in cases["zz-waived"].iter("property")}
    assert waived["sfaudit_status"] == "waived"


# --- fixtures for plain tests --------------------------------------------------

PLAIN_TESTS = """
import datetime as dt


def test_open_cases(sfaudit_org):
    assert sfaudit_org.count("Case", where="IsClosed = false") == 3


def test_org_name(sfaudit_org):
    assert sfaudit_org.info().name == "Test Org"


def test_config_contract_today(sfaudit_config, sfaudit_contract, sfaudit_today):
    assert sfaudit_config.fail_on == "medium"
    assert sfaudit_contract.notice_days == 45
    assert sfaudit_today == dt.date(2026, 11, 26)


def test_backup(sfaudit_backup):
    pass
"""


def test_fixtures_work_in_plain_tests(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(test_team=PLAIN_TESTS)
    result = run(pytester, "--sfaudit", "readiness.yaml", "test_team.py", "-k", "test_", "-rs")
    result.assert_outcomes(passed=3, skipped=1, deselected=len(ITEMS))
    result.stdout.fnmatch_lines(["*sfaudit_backup: no backup configured*"])


def test_fixtures_without_a_config_skip_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_team=PLAIN_TESTS)
    result = run(pytester, "-rs")
    result.assert_outcomes(skipped=4)
    result.stdout.fnmatch_lines(
        ["*sfaudit_org needs an sfaudit config: run pytest --sfaudit CONFIG*"]
    )


def test_fixture_with_a_broken_config_errors_with_the_message(pytester: pytest.Pytester) -> None:
    (pytester.path / "bad.yaml").write_text("version: 1\ntoday: someday\n", encoding="utf-8")
    pytester.makepyfile(test_team=PLAIN_TESTS)
    result = run(
        pytester,
        "--sfaudit",
        "bad.yaml",
        "test_team.py",
        "-k",
        "test_config",
        "--continue-on-collection-errors",
    )
    result.assert_outcomes(errors=2, deselected=3)  # bad.yaml itself, and the test
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting bad.yaml*",
            "sfaudit: bad.yaml:2: today: input should be a valid date*",
            "*ERROR at setup of test_config_contract_today*",
            "sfaudit: bad.yaml:2: today: input should be a valid date*",
        ]
    )


# --- inert when unused -----------------------------------------------------------

INERT_CONFTEST = """
import sys


def pytest_sessionfinish(session):
    heavy = [m for m in ("sfaudit.config", "sfaudit.runner", "pydantic", "jinja2")
             if m in sys.modules]
    print("HEAVY-MODULES:", heavy)
"""


def _normalized(result: pytest.RunResult) -> list[str]:
    lines = []
    for line in result.outlines:
        if line.startswith(("plugins:", "platform ", "cachedir:")):
            continue
        lines.append(re.sub(r"in \d+\.\d+s", "in Xs", line))
    return lines


def test_plugin_is_inert_when_not_asked_for(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(INERT_CONFTEST)
    pytester.makepyfile(
        test_plain="""
        import warnings

        def test_one():
            assert 1 + 1 == 2

        def test_two():
            warnings.warn(UserWarning("unrelated"))
        """
    )
    with_plugin = pytester.runpytest_subprocess("-rA", "-s")
    without = pytester.runpytest_subprocess("-rA", "-s", "-p", "no:sfaudit")
    assert "sfaudit" in "\n".join(with_plugin.outlines[:5])  # listed among installed plugins
    assert _normalized(with_plugin) == _normalized(without)
    assert "HEAVY-MODULES: []" in with_plugin.stdout.str()
    assert not any("sfaudit" in line for line in _normalized(with_plugin))


def test_help_lists_the_options(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(
        ["*sfaudit readiness audits*", "*--sfaudit=CONFIG*", "*sfaudit_configs*"]
    )


# --- xdist -------------------------------------------------------------------------


def test_xdist_runs_the_checks_in_workers(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = pytester.runpytest_subprocess("--sfaudit", "readiness.yaml", "-n", "2", "-v")
    result.stdout.fnmatch_lines(["*created: 2/2 workers*"])
    found = {}
    for line in result.outlines:
        m = re.search(r"(PASSED|FAILED|SKIPPED|XFAIL|ERROR) (\S+\.yaml::\S+)", line)
        if m:
            found[m.group(2)] = m.group(1)
    assert found == EXPECTED
    result.assert_outcomes(passed=3, failed=1, xfailed=1, skipped=2, errors=1, warnings=1)
    result.stdout.fnmatch_lines(["readiness.yaml: incomplete (a check errored);*"])


def test_collection_is_unchanged_by_the_plugin_when_a_config_is_given(
    pytester: pytest.Pytester,
) -> None:
    make_project(pytester)
    pytester.makepyfile(
        test_other=textwrap.dedent(
            """
            def test_a():
                pass
            """
        )
    )
    plain = run(pytester, "--co", "-q", "test_other.py")
    both = run(pytester, "--co", "-q", "test_other.py", "--sfaudit", "readiness.yaml")
    plain_ids = [line for line in plain.outlines if "::" in line]
    both_ids = [line for line in both.outlines if "::" in line]
    assert both_ids[: len(plain_ids)] == plain_ids
    assert len(both_ids) == len(plain_ids) + len(ITEMS)


def test_command_line_overrides_the_source_and_checks_dates(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    builder = OrgBuilder(name="Other Org")
    builder.query("SELECT COUNT() FROM Case WHERE IsClosed = false", 9)
    builder.write(pytester.path / "other.json")
    result = run(
        pytester,
        "--sfaudit",
        "readiness.yaml",
        "-k",
        "zz-pass",
        "--sfaudit-source",
        "snapshot:other.json",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  9 open cases"])
    bad = run(pytester, "--sfaudit", "readiness.yaml", "--sfaudit-today", "someday")
    bad.stderr.fnmatch_lines(["*--sfaudit-today: 'someday' is not a date; use YYYY-MM-DD*"])
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
