"""The docs run: the plugin guide's hooks reference matches hookspecs.py, its code
and commands work, and the GitHub Actions recipe's steps run against the emulator.

Regenerate the hooks reference in docs/plugins.md with::

    .venv/bin/python -m tests.test_docs
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from sfaudit import hookspecs
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.exports import ExportBuilder
from sfaudit.testing.pytest_fixtures import EmulatorLogins

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
WORKFLOW = ROOT / "docs" / "github-actions.yml"
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
START, END = "<!-- hooks-reference:start -->", "<!-- hooks-reference:end -->"


# --- the hooks reference ---------------------------------------------------------


def hook_specs() -> list[tuple[str, Any]]:
    """Every hook spec, in the order hookspecs.py declares them."""
    found = [
        (name, obj)
        for name, obj in vars(hookspecs).items()
        if name.startswith("sfaudit_") and hasattr(obj, "sfaudit_spec")
    ]
    return sorted(found, key=lambda item: item[1].__code__.co_firstlineno)


def _doc_markdown(doc: str) -> str:
    """A hook docstring as Markdown: ``:param x:`` and ``:return:`` become a list."""
    text, params, returns = [], [], ""
    field: list[str] | None = None
    for line in doc.splitlines():
        m = re.match(r":param (\w+):\s*(.*)", line)
        if m:
            params.append([m.group(1), m.group(2)])
            field = params[-1]
            continue
        m = re.match(r":returns?:\s*(.*)", line)
        if m:
            returns = m.group(1)
            field = None
            continue
        if field is not None and line.startswith(" "):
            field[1] += " " + line.strip()
        elif returns and line.startswith(" "):
            returns += " " + line.strip()
        else:
            field = None
            text.append(line)
    out = "\n".join(text).strip().replace("``", "`")
    out = re.sub(r":(?:class|func|data|meth):`~?([\w.]+)`", lambda m: f"`{m.group(1)}`", out)
    items = [f"- `{name}`: {desc}" for name, desc in params]
    if returns:
        items.append(f"- returns: {returns}")
    items = [
        re.sub(r":(?:class|func|data|meth):`~?([\w.]+)`", r"`\1`", i).replace("``", "`")
        for i in items
    ]
    return out + ("\n\n" + "\n".join(items) if items else "")


def hooks_reference() -> str:
    """The hooks reference, generated from sfaudit/hookspecs.py."""
    parts = [START, ""]
    for name, func in hook_specs():
        sig = inspect.signature(func)
        args = ", ".join(
            f"{p.name}: {p.annotation}" if p.annotation is not p.empty else p.name
            for p in sig.parameters.values()
        )
        if func.sfaudit_spec.get("firstresult"):
            style = "`firstresult`: implementations run until one returns something other than None"
        else:
            style = "every implementation runs; what they return is collected in a list"
        parts.append(f"### `{name}`")
        parts.append("")
        parts.append("```python")
        parts.append(f"def {name}({args}) -> {sig.return_annotation}")
        parts.append("```")
        parts.append("")
        parts.append(f"Calling style: {style}.")
        parts.append("")
        parts.append(_doc_markdown(inspect.getdoc(func) or ""))
        parts.append("")
    parts.append(END)
    return "\n".join(parts)


def _current_reference(text: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def test_hooks_reference_matches_hookspecs() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert _current_reference(text) == hooks_reference(), (
        "docs/plugins.md is out of date: run `.venv/bin/python -m tests.test_docs`"
    )


def test_every_hook_is_in_the_reference_once() -> None:
    reference = _current_reference(GUIDE.read_text(encoding="utf-8"))
    names = re.findall(r"^### `(sfaudit_\w+)`", reference, flags=re.M)
    assert names == [name for name, _ in hook_specs()]
    assert len(names) >= 10


# --- code blocks marked for testing ----------------------------------------------


def marked_blocks(path: Path) -> dict[str, str]:
    """Fenced blocks preceded by ``<!-- docs-test: NAME -->``, by name."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(r"<!-- docs-test: ([\w./-]+) -->\n```[\w-]*\n(.*?)\n```", re.S)
    return {m.group(1): m.group(2) + "\n" for m in pattern.finditer(text)}


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment for the commands: this venv first on PATH, no SF_* leftovers."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SF_", "PYTEST_", "SFAUDIT_", "COV_", "GITHUB_"))
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    env.update(extra or {})
    return env


def _emulator_env(sf_env: EmulatorLogins) -> dict[str, str]:
    """What reaches the emulator: its URL and CA (as a runner's network would)."""
    return {
        "SF_LOGIN_URL": sf_env.url,
        "REQUESTS_CA_BUNDLE": sf_env.ca_path,
        "CURL_CA_BUNDLE": sf_env.ca_path,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def _sh(command: str, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_guide_blocks_are_all_found() -> None:
    blocks = marked_blocks(GUIDE)
    assert set(blocks) >= {
        "plugins/our_checks.py",
        "checks/readiness.yaml",
        "commands",
        "tests/test_our_checks.py",
        "pyproject.toml",
    }


def test_guide_pyproject_is_the_example_plugins(tmp_path: Path) -> None:
    """The packaging section shows the example package's real pyproject.toml."""
    documented = marked_blocks(GUIDE)["pyproject.toml"]
    actual = (ROOT / "plugins" / "acme-checks" / "pyproject.toml").read_text(encoding="utf-8")
    assert documented == actual


def test_guide_plugin_config_and_commands_run_against_the_emulator(
    tmp_path: Path, emulator: SalesforceEmulator, sf_env: EmulatorLogins
) -> None:
    blocks = marked_blocks(GUIDE)
    for name in ("plugins/our_checks.py", "checks/readiness.yaml", "tests/test_our_checks.py"):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(blocks[name], encoding="utf-8")
    env = _env(
        {
            **_emulator_env(sf_env),
            "SF_USERNAME": sf_env.username,
            "SF_PASSWORD": sf_env.password,
            "SF_SECURITY_TOKEN": sf_env.security_token,
        }
    )
    outputs = []
    for command in blocks["commands"].strip().splitlines():
        if not command.strip() or command.startswith("#"):
            continue
        done = _sh(command, tmp_path, env)
        outputs.append((command, done))
    by_command = {c.split()[1] if c.startswith("sfaudit") else c.split()[0]: d for c, d in outputs}
    listed = by_command["list-checks"]
    assert listed.returncode == 0, listed.stderr
    for check_id in ("no-open-cases", "few-admins"):
        assert check_id in listed.stdout
    explained = by_command["explain"]
    assert explained.returncode == 0 and "max: 2" in explained.stdout
    run = by_command["run"]
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert run.returncode == report["exit_code"] == 1, run.stdout + run.stderr
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["no-open-cases"]["status"] == "pass"
    assert checks["few-admins"]["status"] == "fail"
    assert checks["few-admins"]["metrics"] == {"admins": 3}
    owners = (tmp_path / "reports" / "owners.csv").read_text(encoding="utf-8")
    assert owners.splitlines()[0] == "check,status,who,message"
    assert "few-admins,fail," in owners
    assert emulator.writes() == []
    tests = by_command["pytest"]
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout and "failed" not in tests.stdout


# --- the GitHub Actions recipe ---------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*(secrets|vars)\.(\w+)(?:\s*\|\|\s*'([^']*)')?\s*\}\}")


def _expand(value: str, secrets: Mapping[str, str], variables: Mapping[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        source = secrets if m.group(1) == "secrets" else variables
        return source.get(m.group(2)) or m.group(3) or ""

    out = _EXPR.sub(sub, value)
    assert "${{" not in out, f"unsupported expression in the workflow: {value}"
    return out


def run_job(
    name: str,
    job: Mapping[str, Any],
    workflow_env: Mapping[str, str],
    repo: Path,
    base_env: Mapping[str, str],
    secrets: Mapping[str, str],
    variables: Mapping[str, str],
) -> list[tuple[str, int | None, str]]:
    """Run a job's ``run:`` steps as a runner would (bash -eo pipefail, GITHUB_ENV,
    ``if: always()``); ``uses:`` steps are recorded, not run. Returns
    ``(step, exit code or None when not run, output)`` per step."""
    runner_temp = repo.parent / f"runner-temp-{name}"
    runner_temp.mkdir()
    github_env = runner_temp / "github_env"
    github_env.touch()
    summary = runner_temp / "step_summary.md"
    summary.touch()
    env = dict(base_env)
    env.update({k: _expand(str(v), secrets, variables) for k, v in workflow_env.items()})
    env["RUNNER_TEMP"] = str(runner_temp)
    env["GITHUB_ENV"] = str(github_env)
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    failed = False
    steps: list[tuple[str, int | None, str]] = []
    for step in job["steps"]:
        title = step.get("name") or step.get("uses") or step["run"]
        if "uses" in step:
            steps.append((title, None, json.dumps(step.get("with", {}))))
            continue
        if failed and step.get("if") != "always()":
            steps.append((title, None, "skipped after a failure"))
            continue
        command = _expand(step["run"], secrets, variables)
        if command.startswith("pip install"):
            # this environment already has them; the plugin path must exist in the repo
            for arg in command.split()[2:]:
                if arg.startswith("./"):
                    assert (ROOT / arg).is_dir(), f"{arg} is not in the repository"
            steps.append((title, None, command))
            continue
        step_env = {
            **env,
            **{k: _expand(str(v), secrets, variables) for k, v in step.get("env", {}).items()},
        }
        for line in github_env.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            step_env[key] = value
        done = _sh(command, repo, step_env)
        steps.append((title, done.returncode, done.stdout + done.stderr))
        failed = failed or done.returncode != 0
    return steps


def _org_with_a_backup(emulator: SalesforceEmulator, backup: Path) -> None:
    """A small org on the emulator, and a Data Export of it for backup-completeness."""
    b = OrgBuilder(name="Acme Corp")
    admin = b.user("audit.bot@acme.example", profile="System Administrator", admin=True)
    b.user("jane@acme.example", last_login="2026-11-20T09:00:00Z")
    b.user("gone@acme.example", active=False)
    b.object("Account", 40, ownable=True).own("Account", admin, 40)
    b.object("Contact", 60, ownable=True).own("Contact", admin, 60)
    b.license("Salesforce", 10)
    emulator.load(b.build(), records={"Case": [], "Opportunity": [], "NamedCredential": []})
    ExportBuilder(exported_at=ExportBuilder.exported_at).object("Account", 40).object(
        "Contact", 60
    ).write(backup)


@pytest.fixture
def workflow_repo(
    tmp_path: Path, emulator: SalesforceEmulator, sf_env: EmulatorLogins
) -> tuple[Path, dict[str, str], dict[str, str], dict[str, str]]:
    """A checkout as the workflow sees it: the example config, a backup, the team's
    tests; secrets for the JWT flow against the emulator."""
    repo = tmp_path / "repo"
    (repo / "checks").mkdir(parents=True)
    shutil.copy(ROOT / "checks" / "readiness.yaml", repo / "checks" / "readiness.yaml")
    team_test = marked_blocks(README)["tests/readiness/test_org.py"]
    (repo / "tests" / "readiness").mkdir(parents=True)
    (repo / "tests" / "readiness" / "test_org.py").write_text(team_test, encoding="utf-8")
    _org_with_a_backup(emulator, tmp_path / "export")
    secrets = {
        "SF_USERNAME": sf_env.username,
        "SF_CONSUMER_KEY": sf_env.consumer_key,
        "SF_JWT_KEY": Path(sf_env.jwt_key_file).read_text(encoding="utf-8"),
    }
    variables = {"SFAUDIT_BACKUP": str(tmp_path / "export")}
    return repo, secrets, variables, _env(_emulator_env(sf_env))


def _workflow() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_workflow_uses_jwt_secrets_and_uploads_the_reports() -> None:
    wf = _workflow()
    assert set(wf["jobs"]) == {"audit", "audit-pytest"}
    text = WORKFLOW.read_text(encoding="utf-8")
    for secret in ("SF_USERNAME", "SF_CONSUMER_KEY", "SF_JWT_KEY"):
        assert f"secrets.{secret}" in text
    assert "SF_PASSWORD" not in text
    uploads = [s for s in wf["jobs"]["audit"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["path"] == "reports/" and uploads[0]["if"] == "always()"


def test_workflow_audit_job_runs_against_the_emulator(
    workflow_repo: tuple[Path, dict[str, str], dict[str, str], dict[str, str]],
    emulator: SalesforceEmulator,
) -> None:
    repo, secrets, variables, env = workflow_repo
    wf = _workflow()
    steps = run_job("audit", wf["jobs"]["audit"], wf["env"], repo, env, secrets, variables)
    ran = {name: (code, out) for name, code, out in steps}
    code, out = ran["Audit the org"]
    report = json.loads((repo / "reports" / "report.json").read_text(encoding="utf-8"))
    # the job fails exactly as fail_on says: exit 1, not ready, with blocking checks
    assert code == report["exit_code"] == 1, out
    assert report["verdict"] == "not-ready" and report["blocking"]
    assert report["fail_on"] == "high"
    assert report["org"]["source"] == "live"
    summary = (repo.parent / "runner-temp-audit" / "step_summary.md").read_text(encoding="utf-8")
    assert summary == (repo / "reports" / "summary.md").read_text(encoding="utf-8")
    assert summary.strip()
    assert ran["Write the step summary"][0] == 0
    assert (repo / "reports" / "readiness.html").stat().st_size > 1000  # the artefact
    logins = [r for r in emulator.log if r.is_login]
    assert logins and all("jwt-bearer" in r.body for r in logins)
    assert emulator.writes() == []
    assert secrets["SF_JWT_KEY"].split("\n")[1] not in out


def test_workflow_pytest_job_agrees_with_the_audit(
    workflow_repo: tuple[Path, dict[str, str], dict[str, str], dict[str, str]],
) -> None:
    repo, secrets, variables, env = workflow_repo
    wf = _workflow()
    audit = run_job("audit", wf["jobs"]["audit"], wf["env"], repo, env, secrets, variables)
    assert dict((n, c) for n, c, _ in audit)["Audit the org"] == 1
    report = json.loads((repo / "reports" / "report.json").read_text(encoding="utf-8"))
    (repo / "reports" / "junit.xml").unlink()
    steps = run_job(
        "audit-pytest", wf["jobs"]["audit-pytest"], wf["env"], repo, env, secrets, variables
    )
    code, out = {n: (c, o) for n, c, o in steps}["Audit as tests"]
    assert code == 1, out
    root = ET.parse(repo / "reports" / "junit.xml").getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None and suite.get("name") == "readiness"
    failed = {tc.get("name") for tc in root.iter("testcase") if tc.find("failure") is not None}
    assert failed == set(report["blocking"])
    names = {tc.get("name") for tc in root.iter("testcase")}
    assert {c["id"] for c in report["checks"]} <= names
    assert "test_no_open_cases" in names  # the team's own test, with the fixtures


# --- README examples for the pytest plugin -------------------------------------------


def test_readme_pytest_example_runs(
    tmp_path: Path, emulator: SalesforceEmulator, sf_env: EmulatorLogins
) -> None:
    blocks = marked_blocks(README)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_org.py").write_text(
        blocks["tests/readiness/test_org.py"], encoding="utf-8"
    )
    (tmp_path / "readiness.yaml").write_text(
        "version: 1\ntoday: 2026-11-26\norg: {source: live}\n", encoding="utf-8"
    )
    env = _env(
        {
            **_emulator_env(sf_env),
            "SF_USERNAME": sf_env.username,
            "SF_PASSWORD": sf_env.password,
            "SF_SECURITY_TOKEN": sf_env.security_token,
        }
    )
    done = _sh("pytest --sfaudit readiness.yaml tests -k test_ -q", tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b[1-9]\d* passed\b", done.stdout)


if __name__ == "__main__":
    text = GUIDE.read_text(encoding="utf-8")
    GUIDE.write_text(text.replace(_current_reference(text), hooks_reference()), encoding="utf-8")
    print(f"updated the hooks reference in {GUIDE.relative_to(ROOT)}")
