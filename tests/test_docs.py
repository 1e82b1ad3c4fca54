"""The docs are checked: every relative link and anchor in README.md and docs/*.md
resolves; every ``sfaudit``, ``pytest --sfaudit`` and ``make`` command in their shell
blocks names real subcommands, options and targets; the CLI reference and the plugin
guide's hooks reference match the code; the marked examples run; the GitHub Actions
recipe's steps run against the emulator.

Regenerate both generated pages with ``make docs``, or one at a time::

    .venv/bin/python -m sfaudit._clidoc > docs/cli.md     # the CLI reference
    .venv/bin/python -m tests.test_docs                    # the hooks reference
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from sfaudit import _clidoc, hookspecs, pytest_plugin
from sfaudit.cli import main as cli_main
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.exports import ExportBuilder
from sfaudit.testing.pytest_fixtures import EmulatorLogins

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
WORKFLOW = ROOT / "docs" / "github-actions.yml"
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PYTEST_DOC = DOCS / "pytest.md"
CLI_DOC = DOCS / "cli.md"
PAGES = sorted(DOCS.glob("*.md"))
MARKDOWN = [README, *PAGES]
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
    team_test = marked_blocks(PYTEST_DOC)["tests/readiness/test_org.py"]
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


# --- docs/pytest.md examples for the pytest plugin -----------------------------------


def test_pytest_doc_example_runs(
    tmp_path: Path, emulator: SalesforceEmulator, sf_env: EmulatorLogins
) -> None:
    blocks = marked_blocks(PYTEST_DOC)
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


# --- the README and the pages it links --------------------------------------------


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_readme_is_a_short_pitch() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 300, f"README.md has {len(lines)} lines: move reference to docs/"


def test_readme_starts_with_the_two_commands() -> None:
    """``make demo`` and ``make test`` stay the README's first block, with what they install."""
    text = README.read_text(encoding="utf-8")
    first = next(body for lang, body in fenced_blocks(text))
    assert [line.split()[:2] for line in first.splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]
    assert "Both work on a fresh machine with Python 3.10+" in text


def test_readme_links_every_docs_page() -> None:
    linked = {
        (README.parent / target.partition("#")[0]).resolve()
        for target in links(README.read_text(encoding="utf-8"))
        if target.startswith("docs/")
    }
    unlinked = [_rel(page) for page in PAGES if page.resolve() not in linked]
    assert not unlinked, f"README.md links no docs page {unlinked}: add it to Documentation"
    expected = {
        "getting-started",
        "configuration",
        "checks",
        "backups",
        "live-orgs",
        "reports",
        "pytest",
        "plugins",
        "cli",
        "guarantees",
        "performance",
        "changelog",
    }
    assert {page.stem for page in PAGES} >= expected


# --- links and anchors -----------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)")


def fenced_blocks(text: str) -> Iterator[tuple[str, str]]:
    """``(language, body)`` of every fenced code block, in order."""
    lang, fence, body = "", "", []
    for line in text.splitlines():
        m = _FENCE.match(line)
        if not fence and m:
            fence, lang, body = m.group(1), m.group(2).lower(), []
        elif fence and line.strip().startswith(fence[0] * len(fence)) and not line.strip(fence[0]):
            yield lang, "\n".join(body)
            fence = ""
        elif fence:
            body.append(line)


def _outside_fences(text: str) -> list[str]:
    """The lines of a page outside its fenced code blocks."""
    out, fence = [], ""
    for line in text.splitlines():
        m = _FENCE.match(line)
        if not fence and m:
            fence = m.group(1)
        elif fence and line.strip() and not line.strip(fence[0]):
            fence = ""
        elif not fence:
            out.append(line)
    return out


def prose(text: str) -> str:
    """The text outside code blocks and inline code spans (a link in code is code)."""
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "code", "\n".join(_outside_fences(text)))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lowercased, punctuation dropped,
    spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a page has: its headings' slugs (``-1``, ``-2`` for repeats) and
    explicit ``id``/``name`` attributes."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in _outside_fences(text):
        m = re.match(r" {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$", line)
        if m:
            slug = github_slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    found.update(re.findall(r"""<a\s[^>]*(?:id|name)=["']([^"']+)["']""", prose(text)))
    return found


def links(text: str) -> list[str]:
    """The target of every inline Markdown link and image outside code."""
    return re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", prose(text))


def link_problems(path: Path, root: Path = ROOT) -> list[str]:
    """Every relative link in ``path`` that points at no file, or at no anchor there."""
    problems = []
    for target in links(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, flags=re.I):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            problems.append(f"{target}: no such file")
        elif root.resolve() not in dest.parents:
            problems.append(f"{target}: outside the repository")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text("utf-8")):
            problems.append(f"{target}: no heading with the anchor #{anchor} in {dest.name}")
    return problems


@pytest.mark.parametrize("path", MARKDOWN, ids=_rel)
def test_every_relative_link_resolves(path: Path) -> None:
    problems = link_problems(path)
    assert not problems, f"{_rel(path)} has broken links:\n  " + "\n  ".join(problems)


def test_slugs_are_githubs() -> None:
    text = (
        "# Guide\n## Testing with sfaudit.testing\n### `sfaudit_run_started`\n"
        "## How it scans, and how fast\n## Faults\n## Faults\n"
        "## [Linked](x.md) heading\n```sh\n# not a heading\n```\n"
    )
    assert anchors(text) == {
        "guide",
        "testing-with-sfaudittesting",
        "sfaudit_run_started",
        "how-it-scans-and-how-fast",
        "faults",
        "faults-1",
        "linked-heading",
    }


def test_the_link_checker_finds_broken_links(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.md").write_text(
        "[ok](checks.md#active-users) [gone](nope.md) [bad anchor](checks.md#nope)\n"
        "[self](#here) [missing self](#there) [web](https://example.com/x.md)\n"
        "`[in code](nope.md)` ![image](checks.md) [up](../../outside.md)\n\n## Here\n",
        encoding="utf-8",
    )
    (tmp_path.parent / "outside.md").touch()
    shutil.copy(DOCS / "checks.md", docs / "checks.md")
    problems = [p.split(":")[0] for p in link_problems(docs / "page.md", root=tmp_path)]
    assert problems == ["nope.md", "checks.md#nope", "#there", "../../outside.md"]


# --- commands in the docs --------------------------------------------------------

SHELLS = {"sh", "bash", "shell", "console", "zsh"}
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")"}
_REDIRECTS = {">", ">>", "<", ">&", "<&", ">|"}


def shell_commands(text: str) -> Iterator[list[str]]:
    """Every simple command in the shell blocks (and ``run:`` lines of YAML blocks) of a
    page, as words: comments, redirections and ``$`` prompts dropped, ``&&``/``|`` split."""
    for lang, body in fenced_blocks(text):
        if lang in ("yaml", "yml"):
            lines = [m.group(1) for m in re.finditer(r"^\s*-?\s*run:\s*(.+)$", body, re.M)]
        elif lang in SHELLS:
            lines = body.replace("\\\n", " ").splitlines()
            if lang == "console":  # only what follows a prompt is a command
                lines = [line[2:] for line in lines if line.startswith("$ ")]
        else:
            continue
        for line in lines:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            words: list[str] = []
            skip_next = False
            for token in lexer:
                if skip_next:
                    skip_next = False
                elif token in _SEPARATORS:
                    if words:
                        yield words
                    words = []
                elif token in _REDIRECTS:
                    skip_next = True
                else:
                    words.append(token)
            if words:
                yield words


def _context(command: click.Command = cli_main, **extra: Any) -> click.Context:
    """A context as the real CLI makes one (``-h`` included): click caches each
    command's help option from the first context it sees."""
    return click.Context(command, info_name="sfaudit", **{**cli_main.context_settings, **extra})


def _option_names(command: click.Command, ctx: click.Context | None = None) -> set[str]:
    params = command.get_params(ctx or _context())
    return {
        name for p in params if isinstance(p, click.Option) for name in (*p.opts, *p.secondary_opts)
    }


def sfaudit_problem(words: list[str]) -> str | None:
    """Why ``sfaudit WORDS...`` would not parse against the real command tree, or None."""
    ctx = _context()
    args = list(words)
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option.split("=")[0] not in _option_names(cli_main) and not re.fullmatch(r"-v+", option):
            return f"sfaudit has no option {option}"
        if option in ("--version", "-h", "--help"):
            return None
    if not args:
        return None
    name, rest = args[0], args[1:]
    command = cli_main.get_command(ctx, name)
    if command is None:
        return f"sfaudit has no command {name!r}"
    try:
        command.make_context(name, rest, parent=ctx)
    except click.exceptions.Exit:  # --help
        return None
    except click.UsageError as exc:
        return f"sfaudit {name}: {exc.format_message()}"
    return None


class _OptionRecorder:
    """Stands in for pytest's parser to learn the options the sfaudit plugin adds."""

    def __init__(self) -> None:
        self.options: set[str] = set()

    def getgroup(self, *args: Any, **kwargs: Any) -> _OptionRecorder:
        return self

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.options.update(names)

    def addini(self, *args: Any, **kwargs: Any) -> None:
        pass


def _pytest_plugin_options() -> set[str]:
    recorder = _OptionRecorder()
    pytest_plugin.pytest_addoption(recorder)  # type: ignore[arg-type]
    return recorder.options


def _make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([\w.-]+)\s*:(?!=)", makefile, flags=re.M))


def command_problems(text: str) -> tuple[list[str], int]:
    """The problems of every sfaudit, ``pytest --sfaudit`` and ``make`` command in a
    page, and how many such commands it holds."""
    problems, checked = [], 0
    plugin_options, targets = _pytest_plugin_options(), _make_targets()
    for words in shell_commands(text):
        program = Path(words[0]).name
        line = shlex.join(words)
        if program == "sfaudit":
            checked += 1
            problem = sfaudit_problem(words[1:])
            if problem:
                problems.append(f"{line}: {problem}")
        elif program == "pytest":
            for word in words[1:]:
                option = word.split("=")[0]
                if option.startswith("--sfaudit"):
                    checked += 1
                    if option not in plugin_options:
                        problems.append(f"{line}: the pytest plugin has no option {option}")
        elif program == "make":
            checked += 1
            for word in words[1:]:
                if not word.startswith("-") and "=" not in word and word not in targets:
                    problems.append(f"{line}: the Makefile has no target {word!r}")
    return problems, checked


@pytest.mark.parametrize("path", MARKDOWN, ids=_rel)
def test_every_command_parses(path: Path) -> None:
    problems, _ = command_problems(path.read_text(encoding="utf-8"))
    assert not problems, f"{_rel(path)} shows commands that do not work:\n  " + "\n  ".join(
        problems
    )


def test_the_docs_show_many_commands() -> None:
    counts = {_rel(p): command_problems(p.read_text(encoding="utf-8"))[1] for p in MARKDOWN}
    assert sum(counts.values()) >= 30, counts
    for page in ("README.md", "docs/backups.md", "docs/pytest.md", "docs/getting-started.md"):
        assert counts[page] >= 2, counts


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("sfaudit run -c sfaudit.yaml --fail-on high -o reports/", None),
        ("sfaudit -v demo -o out && sfaudit explain active-users", None),
        ("sfaudit verify-backup WE_*.ZIP --format json > backup.json", None),
        ("sfaudit rnu -c x.yaml", "no command 'rnu'"),
        ("sfaudit run --sauce live", "No such option '--sauce'"),
        ("sfaudit run --fail-on sometimes", "'sometimes' is not one of"),
        ("sfaudit run --today 26-11-2026", "does not match the format"),
        ("sfaudit snapshot --source live", "Missing option '-o'"),
        ("sfaudit --colour run", "sfaudit has no option --colour"),
        ("pytest --sfaudit a.yaml --sfaudit-sauce live", "no option --sfaudit-sauce"),
        ("make demo test", None),
        ("make docs-all", "no target 'docs-all'"),
    ],
)
def test_the_command_checker_catches_mistakes(line: str, expected: str | None) -> None:
    problems, checked = command_problems(f"```sh\n{line}   # a comment\n```\n")
    assert checked >= 1
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and expected in problems[0], problems


def test_console_blocks_check_only_prompted_lines() -> None:
    text = "```console\n$ sfaudit doctor\nsfaudit 0.1.0 (Python 3.11.7)\n```\n"
    assert list(shell_commands(text)) == [["sfaudit", "doctor"]]


# --- the CLI reference -----------------------------------------------------------


def test_cli_reference_is_generated_from_the_code() -> None:
    assert CLI_DOC.read_text(encoding="utf-8") == _clidoc.reference(), (
        f"docs/cli.md is out of date: run `make docs` (or `{_clidoc.REGENERATE}`)"
    )


def test_cli_reference_covers_every_command_and_option() -> None:
    text = CLI_DOC.read_text(encoding="utf-8")
    commands = list(_clidoc.walk(cli_main))
    assert len(commands) >= 10
    for name, command, ctx in commands:
        assert f"\n## {name}\n" in text
        section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"Usage: {name} " in section
        for option in _option_names(command, ctx) | {"-h", "--help"}:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", section), (name, option)


def test_cli_reference_ignores_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _clidoc.reference()
    for columns in ("40", "300"):
        monkeypatch.setenv("COLUMNS", columns)
        assert _clidoc.reference() == expected


def test_cli_reference_regenerates_from_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sfaudit._clidoc"],
        cwd=ROOT,
        env=_env({"COLUMNS": "50"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == CLI_DOC.read_text(encoding="utf-8")


if __name__ == "__main__":
    text = GUIDE.read_text(encoding="utf-8")
    GUIDE.write_text(text.replace(_current_reference(text), hooks_reference()), encoding="utf-8")
    print(f"updated the hooks reference in {GUIDE.relative_to(ROOT)}")
