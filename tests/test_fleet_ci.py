"""The CI side of fleets, run as a runner would run it: the matrix recipe in
docs/fleet.md (one job per org against the emulators, then the merge job) and the
composite action (action.yml's shell steps with GITHUB_* files in tmp dirs)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sfaudit.report.fleet import fleet_schema
from sfaudit.testing.exports import ExportBuilder
from tests.fleet_orgs import BOT, CONSUMER_KEY, LIVE_DEFAULTS, Orgs, clean_env
from tests.test_docs import marked_blocks

ROOT = Path(__file__).resolve().parent.parent
FLEET_DOC = ROOT / "docs" / "fleet.md"
ACTION = ROOT / "action.yml"
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def evaluate(expr: str, ctx: Mapping[str, Any]) -> str:
    """The few expression forms the recipe and the action use: ``a.b``, ``a.b.c.d``
    and ``vars.X || 'default'``. Anything else fails the test (so the docs stay simple)."""
    m = re.fullmatch(r"([\w.-]+)(?:\s*\|\|\s*'([^']*)')?", expr)
    assert m, f"unsupported expression: {expr}"
    value: Any = ctx
    for part in m.group(1).split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return str(value) if value not in (None, "") else (m.group(2) or "")


def expand(text: str, ctx: Mapping[str, Any]) -> str:
    return _EXPR.sub(lambda m: evaluate(m.group(1), ctx), str(text))


def condition(expr: str | None, ctx: Mapping[str, Any], failed: bool) -> bool:
    if expr is None:
        return not failed
    if expr == "always()":
        return True
    m = re.fullmatch(r"([\w.-]+)\s*(==|!=)\s*'([^']*)'", expr)
    assert m, f"unsupported condition: {expr}"
    equal = evaluate(m.group(1), ctx) == m.group(3)
    return (equal if m.group(2) == "==" else not equal) and not failed


def bash(command: str, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """A step's script, as the runner runs ``shell: bash`` (``-e -o pipefail``)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
    )


class Runner:
    """One runner machine: a workspace, RUNNER_TEMP, GITHUB_ENV and the step summary."""

    def __init__(self, root: Path, name: str, env: Mapping[str, str]) -> None:
        self.workspace = root / name / "workspace"
        self.temp = root / name / "temp"
        self.workspace.mkdir(parents=True)
        self.temp.mkdir(parents=True)
        self.github_env = self.temp / "github_env"
        self.summary = self.temp / "step_summary.md"
        self.github_env.touch()
        self.summary.touch()
        self.env = {
            **env,
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_ENV": str(self.github_env),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_WORKSPACE": str(self.workspace),
        }

    def step_env(self, extra: Mapping[str, str]) -> dict[str, str]:
        env = dict(self.env)
        for line in self.github_env.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            env[key] = value
        env.update(extra)
        return env


def run_job(
    job: Mapping[str, Any],
    runner: Runner,
    ctx: Mapping[str, Any],
    artifacts: Path,
    checkout: Path | None = None,
) -> dict[str, tuple[int | None, str]]:
    """A workflow job's steps: ``run:`` steps in bash; checkout, setup-python and the
    artifact actions done locally; ``pip install sfaudit`` left out (this environment
    has it). Returns ``{step name: (exit code or None, output)}``."""
    failed = False
    results: dict[str, tuple[int | None, str]] = {}
    runner.env.update({k: expand(v, ctx) for k, v in (job.get("env") or {}).items()})
    for step in job["steps"]:
        name = step.get("name") or step.get("uses") or step["run"]
        if not condition(step.get("if"), ctx, failed):
            results[name] = (None, "skipped")
            continue
        uses = step.get("uses", "")
        with_ = {k: expand(v, ctx) for k, v in (step.get("with") or {}).items()}
        if uses.startswith("actions/checkout@"):
            assert checkout is not None
            shutil.copytree(checkout, runner.workspace, dirs_exist_ok=True)
        elif uses.startswith("actions/upload-artifact@"):
            source = runner.workspace / with_["path"]
            if source.exists():
                shutil.copytree(source, artifacts / with_["name"])
        elif uses.startswith("actions/download-artifact@"):
            assert "name" not in with_ and "pattern" not in with_
            for artifact in artifacts.iterdir():
                shutil.copytree(artifact, runner.workspace / with_["path"] / artifact.name)
        elif uses:
            assert uses.startswith("actions/setup-python@"), uses
        elif step["run"].strip() == "pip install sfaudit":
            pass
        else:
            env = runner.step_env({k: expand(v, ctx) for k, v in (step.get("env") or {}).items()})
            done = bash(expand(step["run"], ctx), runner.workspace, env)
            results[name] = (done.returncode, done.stdout + done.stderr)
            failed = failed or done.returncode != 0
            continue
        results[name] = (None, uses or "left out")
    return results


# --- the matrix recipe ---------------------------------------------------------------


def _recipe() -> dict[str, Any]:
    data = yaml.safe_load(marked_blocks(FLEET_DOC)["fleet-workflow.yml"])
    assert isinstance(data, dict)
    return data


def test_recipe_is_a_matrix_then_a_merge() -> None:
    wf = _recipe()
    audit, rollup = wf["jobs"]["audit"], wf["jobs"]["roll-up"]
    assert audit["strategy"]["fail-fast"] is False
    assert audit["environment"] == "${{ matrix.org }}"  # each org's secrets, only in its job
    assert rollup["needs"] == "audit" and rollup["if"] == "always()"
    uploads = [s for s in audit["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads[0]["if"] == "always()" and uploads[0]["with"]["name"] == "${{ matrix.org }}"
    text = marked_blocks(FLEET_DOC)["fleet-workflow.yml"]
    assert "SF_PASSWORD" not in text and "GITHUB_STEP_SUMMARY" in text
    merge = next(s["run"] for s in rollup["steps"] if s.get("name") == "Merge the reports")
    expected = merge.split("--expect ", 1)[1].split()[0].split(",")
    assert expected == audit["strategy"]["matrix"]["org"]  # the two lists agree


@pytest.fixture
def checkout(tmp_path: Path, two_emulators: Orgs) -> Path:
    """The repository the recipe checks out: one config per org, its backup beside it."""
    repo = tmp_path / "repo"
    (repo / "configs").mkdir(parents=True)
    for name, export in (("emea-prod", "exports/emea"), ("us-legacy", "exports/us"), ("apac", "")):
        text = LIVE_DEFAULTS
        if name == "emea-prod":
            text = text.replace("end_date: 2027-01-31", "end_date: 2027-03-31")
        if export:
            text += f"backup: {{path: ../{export}}}\n"
        (repo / "configs" / f"{name}.yaml").write_text(text, encoding="utf-8")
    ExportBuilder(org_id="00D5g000000READYEA").object("Account", 40).object("Contact", 60).write(
        repo / "exports" / "emea"
    )
    ExportBuilder().object("Account", 1200).object("Contact", 3400).write(repo / "exports" / "us")
    return repo


def test_recipe_runs_a_job_per_org_then_merges(
    tmp_path: Path, checkout: Path, two_emulators: Orgs
) -> None:
    wf = _recipe()
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    # each org's GitHub environment: its own secrets; the runner's network reaches its org
    environments = {
        "emea-prod": (CONSUMER_KEY, two_emulators.ready.url),
        "us-legacy": (CONSUMER_KEY, two_emulators.busy.url),
        "apac": ("3MVG9revokedConnectedAppKey", two_emulators.ready.url),
    }
    audits = {}
    for org in wf["jobs"]["audit"]["strategy"]["matrix"]["org"]:
        key, login_url = environments[org]
        ctx = {
            "matrix": {"org": org},
            "secrets": {
                "SF_USERNAME": BOT,
                "SF_CONSUMER_KEY": key,
                "SF_JWT_KEY": two_emulators.jwt_key,
            },
            "vars": {},
        }
        runner = Runner(
            tmp_path, f"audit-{org}", clean_env(two_emulators, {"SF_LOGIN_URL": login_url})
        )
        steps = run_job(wf["jobs"]["audit"], runner, ctx, artifacts, checkout)
        audits[org] = (steps, runner)
        summary = runner.summary.read_text(encoding="utf-8")
        assert summary == (artifacts / org / "summary.md").read_text(encoding="utf-8"), org
        assert two_emulators.jwt_key.splitlines()[1] not in "".join(o for _, o in steps.values())
    codes = {org: steps["Audit the org"][0] for org, (steps, _) in audits.items()}
    assert codes == {"emea-prod": 0, "us-legacy": 1, "apac": 3}, {
        org: steps["Audit the org"][1][-2000:] for org, (steps, _) in audits.items()
    }
    assert sorted(p.name for p in artifacts.iterdir()) == ["apac", "emea-prod", "us-legacy"]

    merge_runner = Runner(tmp_path, "roll-up", clean_env(two_emulators))
    steps = run_job(wf["jobs"]["roll-up"], merge_runner, {"secrets": {}, "vars": {}}, artifacts)
    code, out = steps["Merge the reports"]
    assert code == 3, out  # the worst org: apac could not log in
    fleet = merge_runner.workspace / "reports" / "fleet"
    doc = json.loads((fleet / "fleet.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, fleet_schema())
    verdicts = {o["name"]: o["verdict"] for o in doc["orgs"]}
    assert verdicts == {"emea-prod": "ready", "us-legacy": "not-ready", "apac": "incomplete"}
    links = {o["name"]: o["report"] for o in doc["orgs"]}
    assert links["emea-prod"] == "../emea-prod/readiness.html"
    assert (fleet / links["emea-prod"]).is_file()
    assert merge_runner.summary.read_text(encoding="utf-8") == (fleet / "fleet.md").read_text(
        encoding="utf-8"
    )
    assert (artifacts / "fleet" / "fleet" / "fleet.html").is_file()
    assert (artifacts / "fleet" / "emea-prod" / "readiness.html").is_file()
    assert not two_emulators.ready.writes() and not two_emulators.busy.writes()

    # a job lost before it uploaded anything: its org is incomplete, never left out
    lost = tmp_path / "lost"  # only emea-prod's job uploaded its reports
    shutil.copytree(artifacts / "emea-prod", lost / "emea-prod")
    again = Runner(tmp_path, "roll-up-again", clean_env(two_emulators))
    steps = run_job(wf["jobs"]["roll-up"], again, {"secrets": {}, "vars": {}}, lost)
    code, out = steps["Merge the reports"]
    assert code == 3, out
    doc = json.loads((again.workspace / "reports" / "fleet" / "fleet.json").read_text("utf-8"))
    rows = {o["name"]: o for o in doc["orgs"]}
    assert rows["emea-prod"]["verdict"] == "ready"
    assert rows["us-legacy"]["verdict"] == rows["apac"]["verdict"] == "incomplete"
    assert "no report.json" in rows["us-legacy"]["error"]
    # and no report at all: the pattern stays unexpanded, every org is incomplete
    empty = Runner(tmp_path, "roll-up-empty", clean_env(two_emulators))
    (tmp_path / "none").mkdir()
    steps = run_job(wf["jobs"]["roll-up"], empty, {"secrets": {}, "vars": {}}, tmp_path / "none")
    assert steps["Merge the reports"][0] == 3, steps["Merge the reports"][1]


# --- the composite action --------------------------------------------------------------


def _action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def run_action(
    inputs: Mapping[str, str], workspace: Path, env: Mapping[str, str], tmp: Path
) -> tuple[dict[str, str], dict[str, tuple[int | None, str]], Path, Path]:
    """action.yml's steps as a runner runs a composite action: inputs with their
    defaults, ``github.action_path``, each step's GITHUB_OUTPUT read into
    ``steps.<id>.outputs``. ``python -m pip`` in the install step is a stand-in that
    records its arguments. Returns the action's outputs, the steps, the step summary
    and the stand-in's log."""
    action = _action()
    assert action["runs"]["using"] == "composite"
    values = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    unknown = set(inputs) - set(values)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    values.update(inputs)
    summary = tmp / "step_summary.md"
    summary.touch()
    shim = tmp / "shim"
    shim.mkdir()
    pip_log = tmp / "pip.log"
    (shim / "python").write_text(f'#!/bin/sh\necho "$@" >> {pip_log}\n', encoding="utf-8")
    (shim / "python").chmod(0o755)
    ctx: dict[str, Any] = {"inputs": values, "github": {"action_path": str(ROOT)}, "steps": {}}
    results: dict[str, tuple[int | None, str]] = {}
    failed = False
    for i, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", step.get("uses"))
        if not condition(step.get("if"), ctx, failed):
            results[name] = (None, "skipped")
            continue
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@")
            results[name] = (None, expand(step["with"]["python-version"], ctx))
            continue
        assert step["shell"] == "bash"
        output = tmp / f"output-{i}"
        output.touch()
        step_env = {
            **env,
            **{k: expand(v, ctx) for k, v in (step.get("env") or {}).items()},
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
        }
        if name == "Install sfaudit":
            step_env["PATH"] = f"{shim}:{step_env['PATH']}"
        done = bash(step["run"], workspace, step_env)
        results[name] = (done.returncode, done.stdout + done.stderr)
        failed = failed or done.returncode != 0
        if "id" in step:
            pairs = (line.partition("=") for line in output.read_text().splitlines())
            ctx["steps"][step["id"]] = {"outputs": {k: v for k, _, v in pairs}}
    outputs = {k: expand(v["value"], ctx) for k, v in action["outputs"].items()}
    return outputs, results, summary, pip_log


@pytest.fixture
def snapshot_repo(tmp_path: Path) -> Path:
    from tests.test_fleet import DEFAULTS, _snapshot_org

    repo = tmp_path / "repo"
    repo.mkdir()
    _snapshot_org("Busy Ltd", "00D5g000000BUSYYEA", extra_user=True).write(repo / "org.json")
    (repo / "sfaudit.yaml").write_text(DEFAULTS + "org: {source: snapshot:org.json}\n")
    return repo


def test_action_audits_publishes_and_fails_with_the_exit_code(
    tmp_path: Path, snapshot_repo: Path, two_emulators: Orgs
) -> None:
    outputs, steps, summary, pip_log = run_action(
        {"formats": "html", "output": "out/busy", "extras": "fast"},
        snapshot_repo,
        clean_env(two_emulators),
        tmp_path,
    )
    assert steps["Set up Python"] == (None, "3.12")
    assert steps["Install sfaudit"][0] == 0
    assert pip_log.read_text().split() == [
        "-m", "pip", "install", "--disable-pip-version-check", "--quiet", f"{ROOT}[fast]",
    ]  # fmt: skip
    assert (ROOT / "pyproject.toml").is_file()  # what it installs: this checkout
    report = json.loads((snapshot_repo / "out" / "busy" / "report.json").read_text())
    assert outputs == {"verdict": "not-ready", "exit-code": "1", "report": "out/busy"}
    assert report["verdict"] == "not-ready"
    assert summary.read_text() == (snapshot_repo / "out" / "busy" / "summary.md").read_text()
    assert (snapshot_repo / "out" / "busy" / "readiness.html").is_file()
    code, out = steps["Fail on the verdict"]
    assert code == 1 and "::error title=sfaudit::the audit exited 1" in out


def test_action_can_report_without_failing_and_pins_a_version(
    tmp_path: Path, snapshot_repo: Path, two_emulators: Orgs
) -> None:
    outputs, steps, _, pip_log = run_action(
        {
            "fail": "false",
            "fail-on": "never",
            "today": "2026-12-01",
            "version": "0.1.0",
            "python-version": "",
        },
        snapshot_repo,
        clean_env(two_emulators),
        tmp_path,
    )
    assert steps["Set up Python"] == (None, "skipped")
    assert pip_log.read_text().split()[-1] == "sfaudit==0.1.0"
    assert outputs["verdict"] == "ready" and outputs["exit-code"] == "0"
    assert steps["Fail on the verdict"] == (None, "skipped")
    report = json.loads((snapshot_repo / "reports" / "report.json").read_text())
    assert report["today"] == "2026-12-01" and report["fail_on"] == "never"


def test_action_without_a_report_says_so(
    tmp_path: Path, snapshot_repo: Path, two_emulators: Orgs
) -> None:
    outputs, steps, summary, _ = run_action(
        {"config": "missing.yaml"}, snapshot_repo, clean_env(two_emulators), tmp_path
    )
    assert outputs == {"verdict": "error", "exit-code": "2", "report": "reports"}
    assert "sfaudit wrote no summary" in summary.read_text()
    assert steps["Fail on the verdict"][0] == 2


def test_action_usage_in_the_docs_names_real_inputs_and_outputs() -> None:
    usage = yaml.safe_load(marked_blocks(FLEET_DOC)["action-usage.yml"])
    action = _action()
    assert set(usage[0]["with"]) <= set(action["inputs"])
    used = re.findall(r"steps\.readiness\.outputs\.([\w-]+)", json.dumps(usage))
    assert used and set(used) <= set(action["outputs"])
    documented = FLEET_DOC.read_text(encoding="utf-8").split("## The composite action")[1]
    for name in action["inputs"]:
        assert f"`{name}`" in documented, name
