"""The command line: help, list-checks, explain, plugins, demo, a light start-up path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import read_json
from tests.test_runner import OUTCOMES

HEAVY = (
    "simple_salesforce",
    "jinja2",
    "requests",
    "rich",
    "pydantic",
    "yaml",
    "babel",
    "icalendar",
    "numpy",
)


def test_help_shows_examples_and_exit_codes(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "sfaudit demo" in result.output
    assert "3 audit incomplete" in result.output
    run_help = cli("run", "--help")
    assert "sfaudit run -c" in run_help.output and "--fail-on" in run_help.output


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from sfaudit.cli import main\n"
        "CliRunner().invoke(main, ['--help'])\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_list_checks_and_explain(tmp_path: Path, cli) -> None:
    (tmp_path / "p.py").write_text(OUTCOMES)
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\nplugins: [p.py]\nchecks:\n  skips: {enabled: false}\n")
    listing = cli("list-checks", "-c", cfg)
    assert listing.exit_code == 0
    assert "passes" in listing.output and "yields" in listing.output
    explain = cli("explain", "plain-function", "-c", cfg)
    assert explain.exit_code == 0
    assert "A plain check_* function is discovered too." in explain.output
    unknown = cli("explain", "pases", "-c", cfg)
    assert unknown.exit_code == 2 and "did you mean 'passes'" in unknown.stderr


def test_plugins_lists_builtins_and_files(tmp_path: Path, cli) -> None:
    (tmp_path / "p.py").write_text(OUTCOMES)
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\nplugins: [p.py]\n")
    result = cli("plugins", "-c", cfg)
    assert result.exit_code == 0
    assert "sfaudit.sources.snapshot" in result.output
    assert "builtin" in result.output and "file" in result.output
    assert "formats: json" in result.output


def test_demo_runs_end_to_end(tmp_path: Path, cli) -> None:
    result = cli("demo", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    data = read_json(tmp_path / "report.json")
    assert data["org"]["name"] == "Acme Corp"
    assert (tmp_path / "readiness.html").stat().st_size > 1000
    assert "a real `sfaudit run` would exit" in result.output


def test_quiet_prints_only_the_verdict(tmp_path: Path, snapshot: Path, cli) -> None:
    cfg = tmp_path / "a.yaml"
    cfg.write_text(
        "version: 1\norg: {source: snapshot:org.json}\nreport: {formats: [json], output: o}\n"
    )
    result = cli("run", "-c", cfg, "-q", "--select", "")
    assert result.output.strip().splitlines()[-1].startswith("verdict: ")


def test_unknown_format_is_usage_error(tmp_path: Path, snapshot: Path, cli) -> None:
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\norg: {source: snapshot:org.json}\n")
    result = cli("run", "-c", cfg, "--format", "json,pdf")
    assert result.exit_code == 2
    assert "unknown report format 'pdf'" in result.stderr and "available formats" in result.stderr


def test_bad_today_flag(tmp_path: Path, cli) -> None:
    result = cli("run", "--today", "26-11-2026")
    assert result.exit_code == 2
    assert "--today" in result.output


def test_python_dash_m(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sfaudit", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "0.1.0" in out.stdout


def test_public_api_is_complete_and_lazy() -> None:
    code = (
        "import sys, sfaudit\n"
        "lazy = 'sfaudit.results' not in sys.modules and 'pluggy' not in sys.modules\n"
        "names = [n for n in sfaudit.__all__ if n != '__version__']\n"
        "missing = [n for n in names if getattr(sfaudit, n, None) is None]\n"
        "print(lazy, missing)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True []"


def test_source_snapshot_path_is_relative_to_the_working_directory(
    tmp_path: Path, cli, monkeypatch
) -> None:
    from tests.conftest import small_org

    small_org().write(tmp_path / "here.json")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yaml").write_text("version: 1\nreport: {formats: [json], output: out}\n")
    monkeypatch.chdir(tmp_path)
    result = cli("run", "-c", "sub/a.yaml", "--source", "snapshot:here.json", "--select", "")
    assert "not found" not in result.output
    assert read_json(tmp_path / "sub" / "out" / "report.json")["org"]["name"] == "Test Org"


def test_unexpected_errors_exit_3_without_a_traceback(monkeypatch) -> None:
    import click
    from click.testing import CliRunner

    from sfaudit.cli import handle_errors

    monkeypatch.setenv("SF_PASSWORD", "hunter2-very-secret")

    @click.command()
    @handle_errors
    def boom() -> None:
        raise RuntimeError("failed with hunter2-very-secret inside")

    result = CliRunner().invoke(boom, [])
    assert result.exit_code == 3
    assert "unexpected RuntimeError" in result.output and "Traceback" not in result.output
    assert "hunter2-very-secret" not in result.output


def test_error_messages_are_redacted(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.setenv("SF_PASSWORD", "hunter2-very-secret")
    cfg = tmp_path / "a.yaml"
    cfg.write_text("version: 1\ncontract: {currency: '${SF_PASSWORD}'}\n")
    result = cli("run", "-c", cfg)
    assert result.exit_code == 2
    assert "contract.currency" in result.output
    assert "hunter2-very-secret" not in result.output
