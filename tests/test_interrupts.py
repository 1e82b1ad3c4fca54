"""Ctrl-C during an audit: exit 130, nothing claims readiness, previous reports stay whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import small_org

SLOW_PLUGIN = """\
import time
from pathlib import Path
from sfaudit import check, hookimpl
from sfaudit.report import ReportFormat

@check("slow")
def slow():
    Path("started").write_text("x")
    if Path("slow-check").exists():
        time.sleep(30)

def write_slow(report, path, context):
    path.write_text("partial")
    Path("writing").write_text("x")
    time.sleep(30)

@hookimpl
def sfaudit_register_report_formats():
    return [ReportFormat("slow", "slow.txt", write_slow)]
"""


def _start(tmp_path: Path, formats: str) -> subprocess.Popen[str]:
    small_org().write(tmp_path / "org.json")
    (tmp_path / "p.py").write_text(SLOW_PLUGIN)
    (tmp_path / "a.yaml").write_text(
        "version: 1\norg: {source: snapshot:org.json}\nplugins: [p.py]\n"
        f"report: {{formats: [{formats}], output: out}}\n"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "sfaudit", "run", "-c", "a.yaml", "--select", "slow"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the audit never got there"
        time.sleep(0.05)


def _previous_reports(tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "out"
    out.mkdir()
    good = {
        "report.json": json.dumps({"verdict": "not-ready", "marker": "previous"}),
        "slow.txt": "previous",
    }
    for name, text in good.items():
        (out / name).write_text(text)
    return good


@pytest.mark.parametrize(("marker", "formats"), [("started", "json"), ("writing", "slow, json")])
def test_sigint_exits_130_and_keeps_previous_reports(
    tmp_path: Path, marker: str, formats: str
) -> None:
    good = _previous_reports(tmp_path)
    if marker == "started":
        (tmp_path / "slow-check").write_text("x")
    proc = _start(tmp_path, formats)
    _wait_for(tmp_path / marker, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert "READY" not in stdout
    for name, text in good.items():
        assert (tmp_path / "out" / name).read_text() == text, f"{name} was replaced"
    assert not [p for p in os.listdir(tmp_path / "out") if p.endswith(".tmp")], (
        "temporary files left"
    )
