"""``sfaudit fleet`` and ``sfaudit merge``: the fleet file, per-org credentials and
their isolation, three emulator orgs at once, the roll-up files and the merge of
reports made separately."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import Result

from sfaudit.fleet import env_prefix, load_fleet, org_environment
from sfaudit.report.fleet import fleet_schema
from sfaudit.testing import OrgBuilder
from sfaudit.testing.exports import ExportBuilder
from tests.fleet_orgs import BIN, Orgs, clean_env
from tests.fleet_orgs import LIVE_DEFAULTS as FLEET_DEFAULTS
from tests.notify_servers import Hooks

# --- the fleet file --------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _snapshot_org(name: str, org_id: str, extra_user: bool = False) -> OrgBuilder:
    b = OrgBuilder(org_id=org_id, name=name)
    bot = b.user("audit.bot@acme.example", profile="System Administrator", admin=True)
    if extra_user:
        b.user("jane@acme.example", last_login="2026-11-20T09:00:00Z")
    b.user("gone@acme.example", active=False)
    b.license("Salesforce", 5, used=1)
    b.object("Account", 40, ownable=True).own("Account", bot, 40)
    b.object("Case", 0, ownable=True)
    return b


DEFAULTS = """\
version: 1
today: 2026-11-26
contract: {start_date: 2026-02-01, end_date: 2027-01-31, notice_days: 30}
checks:
  active-users: {allow: [audit.bot@acme.example]}
  record-ownership: {custodians: [audit.bot@acme.example]}
  metadata-backup: {enabled: false}
  backup-completeness: {enabled: false}
fail_on: high
report: {formats: [html, json, md]}
"""


@pytest.fixture
def snapshot_fleet(tmp_path: Path) -> Path:
    """Two snapshot orgs: the defaults config in a folder of its own (its paths are
    relative to it), the snapshots relative to the fleet file."""
    _snapshot_org("Ready Ltd", "00D5g000000READYEA").write(tmp_path / "orgs" / "ready.json")
    _snapshot_org("Busy Ltd", "00D5g000000BUSYYEA", extra_user=True).write(
        tmp_path / "orgs" / "busy.json"
    )
    _write(tmp_path / "configs" / "defaults.yaml", DEFAULTS)
    return _write(
        tmp_path / "fleet.yaml",
        """\
        version: 1
        defaults: configs/defaults.yaml
        concurrency: 2
        orgs:
          - name: ready
            source: snapshot:orgs/ready.json
            contract: {end_date: 2027-03-31}
          - name: busy
            source: snapshot:orgs/busy.json
        report: {output: out/fleet, formats: [html, json, md]}
        notify:
          - {type: webhook, url: "https://hooks.example/sfaudit"}
        """,
    )


def test_fleet_of_snapshots_writes_each_org_and_the_rollup(
    snapshot_fleet: Path, cli: Callable[..., Result]
) -> None:
    result = cli("fleet", "-c", snapshot_fleet)
    out = snapshot_fleet.parent / "out" / "fleet"
    assert result.exit_code == 1, result.output
    for name in ("ready", "busy"):
        assert {p.name for p in (out / name).iterdir()} >= {
            "readiness.html",
            "report.json",
            "summary.md",
        }
    doc = json.loads((out / "fleet.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, fleet_schema())
    assert [o["name"] for o in doc["orgs"]] == ["busy", "ready"]  # not ready first
    busy, ready = doc["orgs"]
    assert busy["verdict"] == "not-ready" and busy["exit_code"] == 1
    assert [b["id"] for b in busy["blocking"]] == ["active-users"]
    assert busy["blocking"][0]["findings"] == 1
    assert busy["notice"] == {"deadline": "2027-01-01", "days_left": 36}
    # the override merged into the defaults' contract: a later end date
    assert ready["verdict"] == "ready" and ready["notice"]["deadline"] == "2027-03-01"
    assert ready["report"] == "ready/readiness.html" and (out / ready["report"]).is_file()
    assert ready["org"]["name"] == "Ready Ltd"
    assert doc["summary"] == {"ready": 1, "not-ready": 1, "incomplete": 0}
    html = (out / "fleet.html").read_text(encoding="utf-8")
    assert html.index('data-org="busy"') < html.index('data-org="ready"')
    assert 'href="ready/readiness.html"' in html and "<link" not in html
    assert "--bad-bg" in html  # the readiness report's stylesheet, inlined
    md = (out / "fleet.md").read_text(encoding="utf-8")
    assert "| ❌ | **busy** | Not ready to cancel | `active-users` (1) |" in md
    assert "[open](ready/readiness.html)" in md
    assert "fleet verdict: NOT-READY" in result.output


def test_fleet_options_override_the_file(
    snapshot_fleet: Path, cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli(
        "fleet", "-c", snapshot_fleet, "--today", "2026-12-20", "-o", tmp_path / "o",
        "--concurrency", "1", "--only", "ready", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fleet verdict: ready (exit 0)" in result.output
    doc = json.loads((tmp_path / "o" / "fleet.json").read_text(encoding="utf-8"))
    assert [o["name"] for o in doc["orgs"]] == ["ready"]
    assert doc["orgs"][0]["today"] == "2026-12-20"
    assert not (tmp_path / "o" / "busy").exists()


def test_fleet_file_keeps_notify_for_the_notifiers(snapshot_fleet: Path) -> None:
    fleet = load_fleet(snapshot_fleet)
    assert [(c.type, c.url) for c in fleet.notify] == [("webhook", "https://hooks.example/sfaudit")]
    assert fleet.concurrency == 2 and fleet.formats == ["html", "json", "md"]
    ready = fleet.org("ready").config
    assert ready.org.source == f"snapshot:{snapshot_fleet.parent / 'orgs' / 'ready.json'}"
    assert ready.check_block("active-users") == {"allow": ["audit.bot@acme.example"]}


BAD_FLEETS = [
    ("concurency: 2\n", 1, "concurency", "did you mean 'concurrency'?"),
    ("report: {outptu: x}\n", 1, "report.outptu", "did you mean 'output'?"),
    ("concurrency: 0\n", 1, "concurrency", None),
    ("version: 2\n", 1, "version", None),
    ("report: {formats: []}\n", 1, "report.formats", None),
    ("org_timeout_s: 0\n", 1, "org_timeout_s", None),
]


@pytest.mark.parametrize(("extra", "line", "key", "hint"), BAD_FLEETS)
def test_fleet_file_errors_exit_2_naming_file_line_and_key(
    tmp_path: Path, cli: Callable[..., Result], extra: str, line: int, key: str, hint: str | None
) -> None:
    fleet = _write(tmp_path / "fleet.yaml", extra + "orgs:\n  - {name: a, source: live}\n")
    result = cli("fleet", "-c", fleet)
    assert result.exit_code == 2, result.output
    assert f"{fleet}:{line}: {key}:" in result.output
    if hint:
        assert hint in result.output


BAD_ORGS = [
    ("  - {name: a, source: live, contrat: {}}\n", "orgs[0].contrat", "did you mean 'contract'?"),
    ("  - {source: live}\n", "orgs[0].name", "is required"),
    ("  - {name: ../up, source: live}\n", "orgs[0].name", "cannot name a folder"),
    ("  - {name: a, source: live}\n  - {name: a, source: live}\n", "orgs[1].name", "twice"),
    (
        "  - {name: us-x, source: live}\n  - {name: us_x, source: live}\n",
        "orgs[1].name",
        "US_X_SF_",
    ),
    ("  - {name: A, source: live}\n  - {name: a, source: live}\n", "orgs[1].name", "folder name"),
    (
        "  - name: a\n    source: live\n    contract: {end_date: 2027-13-01}\n",
        "orgs[0].contract.end_date",
        "YYYY-MM-DD",
    ),
    (
        "  - name: a\n    source: live\n    fail_on: sometimes\n",
        "orgs[0].fail_on",
        "must be one of",
    ),
    ("  - {name: a}\n", "orgs[0].source", "no org source"),
    (
        "  - name: a\n    source: live\n    checks: {activ-users: {}}\n",
        "orgs[0].checks.activ-users",
        "did you mean 'active-users'?",
    ),
    ("  - {name: a, source: live, config: nowhere.yaml}\n", "", "config file not found"),
]


@pytest.mark.parametrize(("orgs", "key", "words"), BAD_ORGS)
def test_org_entry_errors_point_at_the_fleet_file(
    tmp_path: Path, cli: Callable[..., Result], orgs: str, key: str, words: str
) -> None:
    fleet = _write(tmp_path / "fleet.yaml", "version: 1\norgs:\n" + orgs)
    result = cli("fleet", "-c", fleet, "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert words in result.output
    if key:
        assert re.search(rf"{re.escape(str(fleet))}:\d+: {re.escape(key)}:", result.output), (
            result.output
        )
    assert not (tmp_path / "out").exists(), "nothing runs before the fleet file is valid"


def test_an_error_in_the_defaults_config_names_that_file(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    _write(tmp_path / "d" / "defaults.yaml", "version: 1\ncontract:\n  notice_dayz: 3\n")
    fleet = _write(
        tmp_path / "fleet.yaml", "defaults: d/defaults.yaml\norgs:\n  - {name: a, source: live}\n"
    )
    result = cli("fleet", "-c", fleet)
    assert result.exit_code == 2
    assert f"{tmp_path / 'd' / 'defaults.yaml'}:3: contract.notice_dayz:" in result.output
    assert "did you mean 'notice_days'?" in result.output


def test_only_an_unknown_org_is_a_usage_error(
    snapshot_fleet: Path, cli: Callable[..., Result]
) -> None:
    result = cli("fleet", "-c", snapshot_fleet, "--only", "redy")
    assert result.exit_code == 2 and "did you mean 'ready'?" in result.output


def test_an_org_that_cannot_be_audited_is_incomplete_and_the_others_go_on(
    snapshot_fleet: Path, cli: Callable[..., Result]
) -> None:
    (snapshot_fleet.parent / "orgs" / "busy.json").write_text("{not json", encoding="utf-8")
    result = cli("fleet", "-c", snapshot_fleet)
    assert result.exit_code == 3, result.output
    doc = json.loads((snapshot_fleet.parent / "out" / "fleet" / "fleet.json").read_text())
    rows = {o["name"]: o for o in doc["orgs"]}
    assert rows["ready"]["verdict"] == "ready"
    assert rows["busy"]["verdict"] == "incomplete" and rows["busy"]["exit_code"] == 3
    assert "busy.json" in rows["busy"]["error"]
    jsonschema.validate(doc, fleet_schema())


HANGING_CHECK = """\
import time

from sfaudit import check


@check("hangs", severity="low", title="A check that never ends")
def hangs():
    time.sleep(120)
"""


def test_an_org_past_org_timeout_s_is_stopped_and_incomplete(
    snapshot_fleet: Path, cli: Callable[..., Result]
) -> None:
    _write(snapshot_fleet.parent / "hang.py", HANGING_CHECK)
    text = snapshot_fleet.read_text(encoding="utf-8")
    text = text.replace("concurrency: 2\n", "concurrency: 2\norg_timeout_s: 3\n")
    text = text.replace(
        "  - name: busy\n    source: snapshot:orgs/busy.json\n",
        "  - name: busy\n    source: snapshot:orgs/busy.json\n    plugins: [hang.py]\n",
    )
    snapshot_fleet.write_text(text, encoding="utf-8")
    assert load_fleet(snapshot_fleet).org_timeout_s == 3
    result = cli("fleet", "-c", snapshot_fleet, "-q")
    assert result.exit_code == 3, result.output
    doc = json.loads((snapshot_fleet.parent / "out" / "fleet" / "fleet.json").read_text())
    rows = {o["name"]: o for o in doc["orgs"]}
    assert rows["ready"]["verdict"] == "ready"
    assert rows["busy"]["verdict"] == "incomplete"
    assert "stopped after org_timeout_s (3 s)" in rows["busy"]["error"]


# --- per-org credentials ---------------------------------------------------------------


def test_env_prefix() -> None:
    assert env_prefix("us-legacy") == "US_LEGACY_"
    assert env_prefix("emea.prod_2") == "EMEA_PROD_2_"


def test_org_environment_maps_its_own_and_drops_everyone_elses() -> None:
    environ = {
        "PATH": "/bin",
        "SF_PASSWORD": "unprefixed",
        "SF_USERNAME": "someone",
        "US_SF_ACCESS_TOKEN": "us-token",
        "US_SF_INSTANCE_URL": "https://us",
        "US_SF_SF_PASSWORD": "belongs-to-us-sf",
        "EMEA_SF_ACCESS_TOKEN": "emea-token",
        "PARTNER_SF_PASSWORD": "not-in-this-fleet",
        "SFAUDIT_X": "kept",
    }
    us = org_environment("us", ["us", "us-sf", "emea"], environ)
    assert us == {
        "PATH": "/bin",
        "SFAUDIT_X": "kept",
        "SF_ACCESS_TOKEN": "us-token",
        "SF_INSTANCE_URL": "https://us",
    }
    assert org_environment("us-sf", ["us", "us-sf", "emea"], environ) == {
        "PATH": "/bin",
        "SFAUDIT_X": "kept",
        "SF_PASSWORD": "belongs-to-us-sf",
    }
    # a notification channel's URL or password, whole or in part, stays in the fleet
    channel = {"HOOK": "https://hooks.example/T1/B2/xoxb-secret-81", "PIECE": "xoxb-secret-81/x"}
    assert org_environment("emea", ["emea"], {**channel, "PATH": "/bin"}, channel.values()) == {
        "PATH": "/bin"
    }
    assert org_environment("emea", ["emea"], {**channel, "PATH": "/bin"}, ["xoxb-secret-81"]) == {
        "PATH": "/bin"
    }


# --- three emulator orgs at once --------------------------------------------------------

ENV_PROBE = '''\
"""Records what this org's process can see of the environment (names, and a hash of the token)."""
import hashlib
import os

from sfaudit import check


@check("env-probe", severity="info", title="What the process sees")
def env_probe(metrics):
    metrics["sf_keys"] = sorted(k for k in os.environ if "SF_" in k.upper())
    token = os.environ.get("SF_ACCESS_TOKEN", "")
    metrics["token_sha256"] = hashlib.sha256(token.encode()).hexdigest()
'''


FLEET = """\
version: 1
defaults: configs/defaults.yaml
concurrency: 3
orgs:
  - name: emea-prod
    source: live
    contract: {end_date: 2027-03-31}
    backup: {path: exports/emea}
  - name: us-legacy
    source: live
    backup: {path: exports/us}
  - name: apac
    source: live
report: {output: reports/fleet, formats: [html, json, md]}
"""

LIVE_DEFAULTS = FLEET_DEFAULTS + "plugins: [env_probe.py]\n"

UNPREFIXED_SECRET = "Unprefixed-Secret-Never-Shared-9f3a"
BROKEN_TOKEN = "apac-revoked-session-7c1e55d0aa"
OUTSIDER_SECRET = "Partner-Org-Secret-Not-In-Fleet-31"


@pytest.fixture
def live_fleet(tmp_path: Path, two_emulators: Orgs) -> tuple[Path, dict[str, str], dict[str, str]]:
    """A fleet of three live orgs: emea-prod (ready), us-legacy (not ready: active
    users, a partial backup), apac (its token is refused). Returns the fleet file, the
    environment to run it with, and each org's secret."""
    ready, busy = two_emulators.ready, two_emulators.busy
    _write(tmp_path / "configs" / "defaults.yaml", LIVE_DEFAULTS)
    _write(tmp_path / "configs" / "env_probe.py", ENV_PROBE)
    ExportBuilder(org_id="00D5g000000READYEA").object("Account", 40).object("Contact", 60).write(
        tmp_path / "exports" / "emea"
    )
    ExportBuilder().object("Account", 1200).object("Contact", 3400).write(
        tmp_path / "exports" / "us"
    )
    fleet = _write(tmp_path / "fleet.yaml", FLEET)
    secrets = {
        "emea-prod": ready.new_session("audit.bot@acme.example"),
        "us-legacy": busy.new_session("audit.bot@acme.example"),
        "apac": BROKEN_TOKEN,
    }
    env = clean_env(
        two_emulators,
        {
            "EMEA_PROD_SF_ACCESS_TOKEN": secrets["emea-prod"],
            "EMEA_PROD_SF_INSTANCE_URL": ready.url,
            "US_LEGACY_SF_ACCESS_TOKEN": secrets["us-legacy"],
            "US_LEGACY_SF_INSTANCE_URL": busy.url,
            "APAC_SF_ACCESS_TOKEN": secrets["apac"],
            "APAC_SF_INSTANCE_URL": ready.url,
            # never passed to any org
            "SF_USERNAME": "unprefixed@acme.example",
            "SF_PASSWORD": UNPREFIXED_SECRET,
            "PARTNER_SF_PASSWORD": OUTSIDER_SECRET,
        },
    )
    return fleet, env, secrets


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "sfaudit"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _files(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.is_file())


def test_three_live_orgs_at_once(
    live_fleet: tuple[Path, dict[str, str], dict[str, str]], two_emulators: Orgs
) -> None:
    fleet, env, secrets = live_fleet
    done = _run(["fleet", "-c", str(fleet)], fleet.parent, env)
    assert done.returncode == 3, done.stdout + done.stderr  # the worst: apac is incomplete
    out = fleet.parent / "reports" / "fleet"
    doc = json.loads((out / "fleet.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, fleet_schema())
    rows = {o["name"]: o for o in doc["orgs"]}
    assert doc["verdict"] == "incomplete" and doc["exit_code"] == 3
    assert doc["summary"] == {"ready": 1, "not-ready": 1, "incomplete": 1}

    emea, us, apac = rows["emea-prod"], rows["us-legacy"], rows["apac"]
    assert (emea["verdict"], emea["exit_code"], emea["blocking"]) == ("ready", 0, [])
    assert emea["org"] == {
        "id": "00D5g000000READYEA",
        "name": "Ready Ltd",
        "edition": "Enterprise Edition",
        "source": "live",
    }
    assert emea["notice"] == {"deadline": "2027-03-01", "days_left": 95}
    assert emea["backup"]["age_days"] == 6 and emea["backup"]["coverage"] == 1.0

    assert (us["verdict"], us["exit_code"]) == ("not-ready", 1)
    assert us["org"]["name"] == "Acme Emulated"
    blocking = {b["id"]: b["findings"] for b in us["blocking"]}
    assert set(blocking) >= {"active-users", "backup-completeness", "record-ownership"}, us
    assert all(n > 0 for n in blocking.values())
    assert us["notice"] == {"deadline": "2027-01-01", "days_left": 36}
    assert 0 < us["backup"]["coverage"] < 1

    assert (apac["verdict"], apac["exit_code"]) == ("incomplete", 3)
    assert apac["error"] and "could not be read" in apac["error"]
    # by urgency: the not-ready orgs (nearest deadline first), then the ready one
    assert [o["name"] for o in doc["orgs"]][-1] == "emea-prod"

    for name in ("emea-prod", "us-legacy", "apac"):
        report = json.loads((out / name / "report.json").read_text(encoding="utf-8"))
        assert (out / name / "readiness.html").is_file() and (out / name / "summary.md").is_file()
        assert rows[name]["report"] == f"{name}/readiness.html"
        # env isolation, seen from inside each org's process
        probe = next(c for c in report["checks"] if c["id"] == "env-probe")
        assert probe["metrics"]["sf_keys"] == ["SF_ACCESS_TOKEN", "SF_INSTANCE_URL"], name
        expected = hashlib.sha256(secrets[name].encode()).hexdigest()
        assert probe["metrics"]["token_sha256"] == expected, name
    assert not two_emulators.ready.writes() and not two_emulators.busy.writes()

    # no secret anywhere: files, stdout, stderr
    leaks = [*secrets.values(), UNPREFIXED_SECRET, OUTSIDER_SECRET]
    for path in _files(fleet.parent / "reports"):
        text = path.read_bytes().decode("utf-8", "replace")
        for secret in leaks:
            assert secret not in text, (path, secret)
    for secret in leaks:
        assert secret not in done.stdout and secret not in done.stderr
    assert "fleet verdict: INCOMPLETE" in done.stdout
    assert re.search(r"apac: incomplete \(exit 3\)", done.stderr), done.stderr
    assert "3 done, 0 running, 0 queued" in done.stderr


def test_merge_of_separately_made_reports_equals_the_fleet(
    live_fleet: tuple[Path, dict[str, str], dict[str, str]],
) -> None:
    fleet, env, _ = live_fleet
    whole = _run(["fleet", "-c", str(fleet), "-o", "whole"], fleet.parent, env)
    assert whole.returncode == 3, whole.stderr
    # the CI way: each org on its own (a matrix job each), then one merge
    for name in ("apac", "us-legacy", "emea-prod"):
        one = _run(["fleet", "-c", str(fleet), "--only", name, "-o", "ci"], fleet.parent, env)
        assert one.returncode in (0, 1, 3), one.stderr
    (fleet.parent / "ci" / "fleet.json").unlink()
    merged = _run(
        ["merge", *sorted(str(p) for p in (fleet.parent / "ci").glob("*/report.json")), "-o", "ci"],
        fleet.parent,
        env,
    )
    assert merged.returncode == 3, merged.stdout + merged.stderr

    def doc(path: Path) -> dict[str, Any]:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data.pop("generated_at")
        return data  # type: ignore[no-any-return]

    fleet_doc = doc(fleet.parent / "whole" / "fleet.json")
    assert doc(fleet.parent / "ci" / "fleet.json") == fleet_doc
    assert len(fleet_doc["orgs"]) == 3


# --- notifications: one roll-up message per channel ----------------------------------

NOTIFY = """\
  - {type: slack, url: "HOOKS/slack/T0001/B0001/fleet-slack-secret-41", on: [always]}
  - {type: webhook, url: "HOOKS/webhook/fleet-webhook-secret-42", on: [not-ready, incomplete]}
  - {type: teams, url: "HOOKS/teams/fleet-teams-secret-43", retries: 2, backoff_s: 0}
"""


def test_a_fleet_sends_one_rollup_message_per_channel(
    live_fleet: tuple[Path, dict[str, str], dict[str, str]], hooks: Hooks
) -> None:
    fleet, env, secrets = live_fleet
    text = fleet.read_text(encoding="utf-8")
    fleet.write_text(text + "notify:\n" + NOTIFY.replace("HOOKS", hooks.url), encoding="utf-8")
    hooks.answers["/teams/fleet-teams-secret-43"] = [(500, {}, "busy")] * 3
    done = _run(["fleet", "-c", str(fleet)], fleet.parent, env)
    assert done.returncode == 3, done.stdout + done.stderr  # a failing channel changes nothing

    slack = hooks.bodies("/slack/T0001/B0001/fleet-slack-secret-41")
    webhook = hooks.bodies("/webhook/fleet-webhook-secret-42")
    teams = hooks.bodies("/teams/fleet-teams-secret-43")
    assert len(slack) == 1 and len(webhook) == 1  # one message for the whole fleet
    assert len(teams) == 3  # the first try and two retries, all answered 500
    rollup = webhook[0]["rollup"]
    assert {o["name"]: o["verdict"] for o in rollup["orgs"]} == {
        "emea-prod": "ready",
        "us-legacy": "not-ready",
        "apac": "incomplete",
    }
    assert webhook[0]["verdict"] == "incomplete" and webhook[0]["exit_code"] == 3
    slack_text = json.dumps(slack[0])
    for name in ("emea-prod", "us-legacy", "apac"):
        assert name in slack_text
    assert "warning: notification not sent: teams" in done.stderr
    # no org's process notified on its own, and no channel URL leaks anywhere
    assert len(hooks.received) == 1 + 1 + 3
    leaks = ["fleet-slack-secret-41", "fleet-webhook-secret-42", "fleet-teams-secret-43"]
    for path in _files(fleet.parent / "reports"):
        body = path.read_bytes().decode("utf-8", "replace")
        for secret in [*leaks, *secrets.values()]:
            assert secret not in body, (path, secret)
    for secret in leaks:
        assert secret not in done.stdout and secret not in done.stderr


def test_a_fleet_without_changes_since_its_baseline_tells_only_changed_channels_nothing(
    snapshot_fleet: Path, cli: Callable[..., Result], hooks: Hooks, tmp_path: Path
) -> None:
    text = snapshot_fleet.read_text(encoding="utf-8").replace(
        '  - {type: webhook, url: "https://hooks.example/sfaudit"}',
        f'  - {{type: webhook, url: "{hooks.url}/webhook/changed", on: [changed]}}',
    )
    snapshot_fleet.write_text(text, encoding="utf-8")
    first = cli("fleet", "-c", snapshot_fleet, "-o", tmp_path / "first", "-q")
    assert first.exit_code == 1, first.output
    assert hooks.bodies("/webhook/changed") == []  # no baseline: nothing changed
    old = tmp_path / "first" / "fleet.json"
    same = cli("fleet", "-c", snapshot_fleet, "-o", tmp_path / "again", "--baseline", old, "-q")
    assert same.exit_code == 1 and hooks.bodies("/webhook/changed") == []
    doc = json.loads(old.read_text(encoding="utf-8"))
    doc["orgs"] = [o for o in doc["orgs"] if o["name"] != "busy"]  # busy is new since then
    old.write_text(json.dumps(doc), encoding="utf-8")
    later = cli("fleet", "-c", snapshot_fleet, "-o", tmp_path / "later", "--baseline", old, "-q")
    assert later.exit_code == 1
    (body,) = hooks.bodies("/webhook/changed")
    assert body["changed"] is True and len(body["rollup"]["orgs"]) == 2
    # the same roll-up, told again later from its fleet.json (the CI matrix's last step)
    config = _write(
        tmp_path / "notify.yaml",
        f"version: 1\nnotify:\n  - {{type: webhook, url: '{hooks.url}/webhook/merged'}}\n",
    )
    told = cli("notify", tmp_path / "later" / "fleet.json", "-c", config)
    assert told.exit_code == 0, told.output
    (merged,) = hooks.bodies("/webhook/merged")
    assert merged["rollup"]["summary"] == {"ready": 1, "not-ready": 1, "incomplete": 0}


def test_a_bad_channel_in_the_fleet_file_exits_2_before_anything_runs(
    snapshot_fleet: Path, cli: Callable[..., Result]
) -> None:
    text = snapshot_fleet.read_text(encoding="utf-8").replace("type: webhook", "type: slak")
    snapshot_fleet.write_text(text, encoding="utf-8")
    result = cli("fleet", "-c", snapshot_fleet)
    assert result.exit_code == 2, result.output
    assert "fleet.yaml:" in result.output and "notify[0].type" in result.output
    assert "did you mean 'slack'?" in result.output
    assert not (snapshot_fleet.parent / "out").exists()


# --- merge -------------------------------------------------------------------------------


def _made_report(tmp_path: Path, cli: Callable[..., Result], name: str, org: OrgBuilder) -> Path:
    snap = org.write(tmp_path / f"{name}.json")
    config = _write(tmp_path / f"{name}.yaml", DEFAULTS + f"org: {{source: 'snapshot:{snap}'}}\n")
    cli("run", "-c", config, "-o", tmp_path / "artifacts" / name)
    return tmp_path / "artifacts" / name / "report.json"


def test_merge_links_each_report_relative_to_the_output(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    a = _made_report(tmp_path, cli, "alpha", _snapshot_org("Alpha", "00D5g000000ALPHAEA"))
    b = _made_report(tmp_path, cli, "beta", _snapshot_org("Beta", "00D5g000000BETAAEA", True))
    (b.parent / "readiness.html").unlink()
    result = cli("merge", a, b, "-o", tmp_path / "site" / "fleet", "--format", "json,md")
    assert result.exit_code == 1, result.output
    doc = json.loads((tmp_path / "site" / "fleet" / "fleet.json").read_text(encoding="utf-8"))
    rows = {o["name"]: o for o in doc["orgs"]}
    assert rows["alpha"]["report"] == "../../artifacts/alpha/readiness.html"
    assert rows["beta"]["report"] is None
    assert not (tmp_path / "site" / "fleet" / "fleet.html").exists()
    by_org = cli("merge", a, b, "-o", tmp_path / "o2", "--names", "org", "-q")
    assert by_org.exit_code == 1 and "fleet verdict: not-ready (exit 1)" in by_org.output
    names = [o["name"] for o in json.loads((tmp_path / "o2" / "fleet.json").read_text())["orgs"]]
    assert sorted(names) == ["Alpha", "Beta"]


def test_merge_refuses_what_is_not_a_report(tmp_path: Path, cli: Callable[..., Result]) -> None:
    a = _made_report(tmp_path, cli, "alpha", _snapshot_org("Alpha", "00D5g000000ALPHAEA"))
    cli("merge", a, "-o", tmp_path / "fleet")
    not_report = cli("merge", tmp_path / "fleet" / "fleet.json", "-o", tmp_path / "x")
    assert not_report.exit_code == 2 and "not an sfaudit report.json" in not_report.output
    missing = cli("merge", tmp_path / "nope" / "report.json", "-o", tmp_path / "x")
    assert missing.exit_code == 2 and "no such report" in missing.output
    shutil.copytree(a.parent, tmp_path / "again" / "alpha")
    twice = cli("merge", a, tmp_path / "again" / "alpha" / "report.json", "-o", tmp_path / "x")
    assert twice.exit_code == 2 and "two reports for org 'alpha'" in twice.output
    assert cli("merge", "-o", tmp_path / "x").exit_code == 2
    bad_format = cli("merge", a, "-o", tmp_path / "x", "--format", "pdf")
    assert bad_format.exit_code == 2 and "unknown roll-up format 'pdf'" in bad_format.output


def test_merge_in_dutch(tmp_path: Path, cli: Callable[..., Result]) -> None:
    a = _made_report(tmp_path, cli, "alpha", _snapshot_org("Alpha", "00D5g000000ALPHAEA"))
    result = cli("merge", a, "-o", tmp_path / "nl", "--lang", "nl", "--title", "Acme & co")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "nl" / "fleet.html").read_text(encoding="utf-8")
    assert '<html lang="nl">' in html and "Blokkerende controles" in html
    assert "<title>Acme &amp; co</title>" in html
    md = (tmp_path / "nl" / "fleet.md").read_text(encoding="utf-8")
    assert "Elke org is klaar om op te zeggen." in md


def test_progress_shows_done_running_and_queued() -> None:
    import io

    from rich.console import Console

    from sfaudit.report.terminal import FleetProgress
    from sfaudit.rollup import incomplete_row

    plain = io.StringIO()
    with FleetProgress(Console(file=plain, width=200)) as progress:
        for name in ("a", "b"):
            progress.event("queued", name, None)
        progress.event("started", "a", None)
        progress.event("finished", "a", incomplete_row("a", "x"))
    assert plain.getvalue().splitlines() == [
        "a: started  [0 done, 1 running, 1 queued]",
        "a: incomplete (exit 3)  [1 done, 0 running, 1 queued]",
    ]
    tty = io.StringIO()
    with FleetProgress(Console(file=tty, width=200, force_terminal=True)) as live:
        live.event("queued", "a", None)
        live.event("started", "a", None)
        live.event("finished", "a", incomplete_row("a", "x"))
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", tty.getvalue())
    assert "a: incomplete (exit 3)  [1 done, 0 running, 0 queued]" in shown
    assert "fleet: 1 done, 0 running, 0 queued" in shown
    assert "started" not in shown  # a live status line, not a log line


CHANNEL_PROBE = '''\
"""Names the variables of this org's process that hold a notification channel's secret."""
import os
import sys
from pathlib import Path

from sfaudit import check

SECRETS = ("fleet-probe-hook-7d1f2a", "Smtp-Probe-Password-55")


@check("channel-probe", severity="info", title="What the process sees of the channels")
def channel_probe(metrics):
    metrics["holding"] = sorted(k for k, v in os.environ.items() if any(s in v for s in SECRETS))
    metrics["kept"] = os.environ.get("SFAUDIT_PROBE_KEPT")
    job = Path(sys.argv[1]).read_text(encoding="utf-8")  # python -m sfaudit._fleet_worker JOB
    metrics["job"] = [s for s in SECRETS if s in job] if '"config"' in job else "not a job"
'''


def test_no_channel_secret_reaches_an_orgs_process(
    snapshot_fleet: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fleet notifies; the orgs' processes get neither a channel's URL nor its
    password, not in their job file and not in their environment."""
    monkeypatch.setenv("PROBE_HOOK_URL", "https://hooks.example/services/fleet-probe-hook-7d1f2a")
    monkeypatch.setenv("PROBE_SMTP_PASSWORD", "Smtp-Probe-Password-55")
    monkeypatch.setenv("SFAUDIT_PROBE_KEPT", "yes")
    defaults = snapshot_fleet.parent / "configs" / "defaults.yaml"
    _write(snapshot_fleet.parent / "configs" / "channel_probe.py", CHANNEL_PROBE)
    # the defaults config's channel is every org's config's too (the fleet file's wins)
    defaults.write_text(
        defaults.read_text(encoding="utf-8") + "plugins: [channel_probe.py]\nnotify:\n"
        "  - {type: email, host: 127.0.0.1, port: 9, from: s@b.example, to: [a@b.example],"
        " username: u, password: '${PROBE_SMTP_PASSWORD}', on: [changed]}\n",
        encoding="utf-8",
    )
    text = snapshot_fleet.read_text(encoding="utf-8").replace(
        '  - {type: webhook, url: "https://hooks.example/sfaudit"}',
        "  - {type: webhook, url: '${PROBE_HOOK_URL}', on: [changed]}",
    )
    snapshot_fleet.write_text(text, encoding="utf-8")
    result = cli("fleet", "-c", snapshot_fleet, "-q")
    assert result.exit_code == 1, result.output
    out = snapshot_fleet.parent / "out" / "fleet"
    for name in ("ready", "busy"):
        report = json.loads((out / name / "report.json").read_text(encoding="utf-8"))
        probe = next(c for c in report["checks"] if c["id"] == "channel-probe")
        assert probe["metrics"] == {"holding": [], "kept": "yes", "job": []}, name


def test_only_compares_the_orgs_it_ran_with_the_baseline(
    snapshot_fleet: Path, cli: Callable[..., Result], hooks: Hooks, tmp_path: Path
) -> None:
    """``--only ready --baseline`` of the whole fleet: the orgs left out did not go,
    so nothing changed and an ``on: [changed]`` channel hears nothing; a change in
    the org that ran is still told."""
    text = snapshot_fleet.read_text(encoding="utf-8").replace(
        '  - {type: webhook, url: "https://hooks.example/sfaudit"}',
        f'  - {{type: webhook, url: "{hooks.url}/webhook/changed", on: [changed]}}',
    )
    snapshot_fleet.write_text(text, encoding="utf-8")
    first = cli("fleet", "-c", snapshot_fleet, "-o", tmp_path / "first", "-q")
    assert first.exit_code == 1, first.output
    old = tmp_path / "first" / "fleet.json"
    one = cli(
        "fleet", "-c", snapshot_fleet, "--only", "ready", "-o", tmp_path / "one",
        "--baseline", old, "-q",
    )  # fmt: skip
    assert one.exit_code == 0, one.output
    assert hooks.bodies("/webhook/changed") == []
    doc = json.loads(old.read_text(encoding="utf-8"))
    for row in doc["orgs"]:
        if row["name"] == "ready":
            row["verdict"], row["exit_code"] = "not-ready", 1
    old.write_text(json.dumps(doc), encoding="utf-8")
    again = cli(
        "fleet", "-c", snapshot_fleet, "--only", "ready", "-o", tmp_path / "again",
        "--baseline", old, "-q",
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    (body,) = hooks.bodies("/webhook/changed")
    assert body["changed"] is True and [o["name"] for o in body["rollup"]["orgs"]] == ["ready"]
