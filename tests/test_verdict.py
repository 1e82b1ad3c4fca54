"""fail_on thresholds, waivers (with expiry), baselines and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sfaudit.audit import run_audit
from sfaudit.config import load_config
from sfaudit.plugins import get_plugin_manager
from sfaudit.results import Status
from tests.conftest import core_pm, read_json

PLUGIN = """
from sfaudit import check, Finding

@check("users", severity="medium", options={"allow": []})
def users(org, options):
    for u in org.users():
        if u.username not in options["allow"]:
            sev = "critical" if u.is_admin else None
            yield Finding(f"{u.username} remains", user=u.username, severity=sev)

@check("low-thing", severity="low")
def low_thing():
    assert False, "a low failure"
"""


def run(tmp_path: Path, snapshot: Path, extra: str = "", **kw):
    (tmp_path / "p.py").write_text(PLUGIN)
    config = load_config(
        text=f"version: 1\ntoday: 2026-11-26\norg: {{source: 'snapshot:{snapshot}'}}\n{extra}"
    )
    return run_audit(config, core_pm([tmp_path / "p.py"]), **kw)


@pytest.mark.parametrize(
    ("fail_on", "verdict", "code"),
    [
        ("info", "not-ready", 1),
        ("low", "not-ready", 1),
        ("medium", "not-ready", 1),
        ("high", "not-ready", 1),  # the admin finding is critical
        ("critical", "not-ready", 1),
        ("never", "ready", 0),
    ],
)
def test_fail_on_thresholds(
    tmp_path: Path, snapshot: Path, fail_on: str, verdict: str, code: int
) -> None:
    report = run(tmp_path, snapshot, f"fail_on: {fail_on}\n")
    assert str(report.verdict) == verdict
    assert report.exit_code == code


def test_fail_on_uses_effective_severity(tmp_path: Path, snapshot: Path) -> None:
    allow_admin = "checks:\n  users: {allow: [admin@test.example]}\n"
    report = run(tmp_path, snapshot, allow_admin + "fail_on: high\n")
    users = report.check("users")
    assert users.status == Status.FAIL
    assert str(users.effective_severity) == "medium"
    assert report.verdict == "ready", "medium and low failures are below fail_on: high"
    report = run(tmp_path, snapshot, allow_admin + "fail_on: medium\n")
    assert report.blocking == [report.check("users")]


def test_waiver_marks_matching_findings(tmp_path: Path, snapshot: Path) -> None:
    waiver = (
        "waivers:\n  - check: users\n    match: {user: gone@test.example}\n"
        "    reason: Leaves with the contract\n    expires: 2026-12-31\n"
    )
    report = run(tmp_path, snapshot, waiver + "checks:\n  users: {allow: [admin@test.example]}\n")
    users = report.check("users")
    assert users.status == Status.WAIVED
    assert users.findings[0].waived_by == "Leaves with the contract"
    assert users.findings[0].waiver_expires == "2026-12-31"
    assert report.waivers[0].used and not report.waivers[0].expired


def test_expired_waiver_stops_applying_and_blocks_ready(tmp_path: Path, snapshot: Path) -> None:
    waiver = (
        "waivers:\n  - check: users\n    match: {user: gone@test.example}\n"
        "    reason: Old excuse\n    expires: 2026-11-25\n"
    )
    report = run(
        tmp_path,
        snapshot,
        waiver + "checks:\n  users: {allow: [admin@test.example]}\nfail_on: never\n",
    )
    assert report.check("users").status == Status.FAIL
    assert report.check("users").findings[0].waived_by is None
    assert report.waivers[0].expired
    assert report.verdict == "not-ready", "an expired waiver alone blocks ready"


def test_waiver_expiring_today_still_applies(tmp_path: Path, snapshot: Path) -> None:
    waiver = "waivers:\n  - check: low-thing\n    reason: Accepted\n    expires: 2026-11-26\n"
    report = run(tmp_path, snapshot, waiver, select=["low-thing"])
    assert report.check("low-thing").status == Status.WAIVED
    assert report.exit_code == 0


def test_unused_waiver_is_reported(tmp_path: Path, snapshot: Path) -> None:
    waiver = "waivers:\n  - check: users\n    match: {user: nobody@x}\n    reason: r\n    expires: 2027-01-01\n"
    report = run(tmp_path, snapshot, waiver)
    assert report.waivers[0].used is False
    assert report.to_dict()["waivers"][0]["used"] is False


def test_whole_check_waiver_covers_an_assert(tmp_path: Path, snapshot: Path) -> None:
    waiver = "waivers:\n  - check: low-thing\n    reason: Known\n    expires: 2027-01-01\n"
    report = run(tmp_path, snapshot, waiver, select=["low-thing"])
    assert report.check("low-thing").status == Status.WAIVED
    assert report.verdict == "ready"


def test_baseline_marks_new_existing_resolved(tmp_path: Path, snapshot: Path, cli) -> None:
    (tmp_path / "p.py").write_text(PLUGIN)
    cfg = tmp_path / "a.yaml"
    cfg.write_text(
        "version: 1\ntoday: 2026-11-26\norg: {source: snapshot:org.json}\nplugins: [p.py]\n"
        "report: {formats: [json], output: out}\n"
    )
    assert cli("run", "-c", cfg, "--select", "users,low-thing").exit_code == 1
    old = tmp_path / "old.json"
    (tmp_path / "out" / "report.json").rename(old)
    # gone@ is resolved (allowed now); a brand-new user appears.
    data = json.loads(snapshot.read_text())
    new_user = dict(data["users"][0], id="0055g0000000099AAA", username="new@test.example")
    data["users"].append(new_user)
    snapshot.write_text(json.dumps(data))
    cfg.write_text(cfg.read_text() + "checks:\n  users: {allow: [gone@test.example]}\n")
    assert cli("run", "-c", cfg, "--baseline", old, "--select", "users,low-thing").exit_code == 1
    report = read_json(tmp_path / "out" / "report.json")
    users = next(c for c in report["checks"] if c["id"] == "users")
    marks = {f["user"]: f["baseline"] for f in users["findings"]}
    assert marks == {"admin@test.example": "existing", "new@test.example": "new"}
    assert [f["user"] for f in users["resolved"]] == ["gone@test.example"]
    assert report["baseline"] == str(old)


def test_bad_baseline_is_input_error(tmp_path: Path, snapshot: Path, cli) -> None:
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\norg: {source: snapshot:org.json}\n")
    bad = tmp_path / "old.json"
    bad.write_text("{not json")
    result = cli("run", "-c", cfg, "--baseline", bad)
    assert result.exit_code == 2
    assert "old.json:1: not valid JSON" in result.stderr


def test_fingerprints_are_stable_and_ignore_message(tmp_path: Path, snapshot: Path) -> None:
    a = run(tmp_path, snapshot).check("users").findings
    b = run(tmp_path, snapshot).check("users").findings
    assert [f.fingerprint for f in a] == [f.fingerprint for f in b]
    assert len({f.fingerprint for f in a}) == len(a)


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ("fail_on: never\n", 0),
        ("fail_on: info\n", 1),
    ],
)
def test_cli_exit_codes(tmp_path: Path, snapshot: Path, cli, extra: str, code: int) -> None:
    (tmp_path / "p.py").write_text(PLUGIN)
    cfg = tmp_path / "a.yaml"
    cfg.write_text(
        "version: 1\ntoday: 2026-11-26\norg: {source: snapshot:org.json}\nplugins: [p.py]\n"
        "report: {formats: [json], output: out}\n" + extra
    )
    result = cli("run", "-c", cfg, "--select", "users,low-thing")
    assert result.exit_code == code
    assert read_json(tmp_path / "out" / "report.json")["exit_code"] == code


def test_fail_on_flag_overrides_config(tmp_path: Path, snapshot: Path, cli) -> None:
    (tmp_path / "p.py").write_text(PLUGIN)
    cfg = tmp_path / "a.yaml"
    cfg.write_text(
        "version: 1\norg: {source: snapshot:org.json}\nplugins: [p.py]\nfail_on: info\n"
        "report: {formats: [json], output: out}\n"
    )
    assert cli("run", "-c", cfg, "--fail-on", "never", "--select", "users,low-thing").exit_code == 0
    assert cli("run", "-c", cfg, "--fail-on", "bogus").exit_code == 2


def test_waiver_match_accepts_patterns(tmp_path: Path, snapshot: Path) -> None:
    waiver = (
        "waivers:\n  - check: users\n    match: {user: '*@test.example'}\n"
        "    reason: Whole domain leaves with the contract\n    expires: 2026-12-31\n"
    )
    report = run(tmp_path, snapshot, waiver)
    assert report.check("users").status == Status.WAIVED
    assert all(f.waived_by for f in report.check("users").findings)


def test_a_check_that_cannot_read_its_data_makes_the_run_incomplete(tmp_path: Path) -> None:
    from sfaudit.sources.snapshot import write_snapshot
    from tests.conftest import small_org

    data = small_org().build()
    data.users = None  # a snapshot without users: active-users cannot know
    snap = write_snapshot(data, tmp_path / "org.json")
    text = f"version: 1\ntoday: 2026-11-26\norg: {{source: 'snapshot:{snap}'}}\n"
    pm = get_plugin_manager(entry_points=False)
    report = run_audit(load_config(text=text), pm, select=["active-users"])
    assert report.check("active-users").status == Status.SKIP
    assert report.verdict == "incomplete"
    assert any("active-users could not read what it checks" in p for p in report.problems)
    lenient = run_audit(
        load_config(text=text + "fail_on: critical\n"),
        get_plugin_manager(entry_points=False),
        select=["active-users"],
    )
    assert lenient.verdict == "ready", "a high check below fail_on: critical does not gate"


def test_an_explicit_skip_does_not_block_ready(tmp_path: Path, snapshot: Path) -> None:
    plugin = "from sfaudit import check, skip\n@check('n-a', severity='critical')\ndef n_a():\n    skip('does not apply to this edition')\n"
    (tmp_path / "p.py").write_text(plugin)
    config = load_config(text=f"version: 1\norg: {{source: 'snapshot:{snapshot}'}}\n")
    report = run_audit(config, core_pm([tmp_path / "p.py"]), select=["n-a"])
    assert report.check("n-a").status == Status.SKIP
    assert report.verdict == "ready"


def test_notice_deadline_without_contract_dates_is_incomplete() -> None:
    report = run_audit(
        load_config(text="version: 1\n"),
        get_plugin_manager(entry_points=False),
        select=["notice-deadline"],
    )
    assert report.check("notice-deadline").status == Status.SKIP
    assert (
        "contract.start_date and contract.end_date not set"
        in report.check("notice-deadline").message
    )
    assert report.exit_code == 3
