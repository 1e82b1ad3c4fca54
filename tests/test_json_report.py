"""report.json follows schema version 1, validated against the shipped JSON Schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from sfaudit.audit import run_audit
from sfaudit.config import load_config
from sfaudit.report.json_report import report_schema
from tests.conftest import core_pm, read_json
from tests.test_runner import OUTCOMES


def test_schema_is_itself_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())


def test_report_validates_against_schema(tmp_path: Path, snapshot: Path, cli) -> None:
    (tmp_path / "p.py").write_text(OUTCOMES)
    cfg = tmp_path / "a.yaml"
    cfg.write_text(
        "version: 1\ntoday: 2026-11-26\norg: {source: snapshot:org.json}\nplugins: [p.py]\n"
        "waivers:\n  - {check: yields, match: {user: gone@test.example}, reason: r, expires: 2027-01-01}\n"
        "report: {formats: [json], output: out}\nfail_on: high\n"
    )
    ids = "passes,asserts,bare-assert,yields,returns-list,warns,skips,errors,plain-function"
    result = cli("run", "-c", cfg, "--select", ids)
    assert result.exit_code == 3
    data = read_json(tmp_path / "out" / "report.json")
    jsonschema.validate(data, report_schema(), format_checker=jsonschema.FormatChecker())
    assert data["schema_version"] == 1
    assert data["tool"]["name"] == "sfaudit"
    assert data["today"] == "2026-11-26"
    assert data["org"] == {
        "id": "00D5g000000TESTEA2",
        "name": "Test Org",
        "edition": "Enterprise Edition",
        "is_sandbox": False,
        "instance": "EU45",
        "source": "snapshot",
        "storage": None,  # a snapshot without storage figures: unknown, not zero
    }
    assert data["verdict"] == "incomplete" and data["exit_code"] == 3 and data["fail_on"] == "high"
    assert data["summary"] == {"pass": 3, "fail": 3, "warn": 1, "error": 1, "skip": 1, "waived": 0}
    yields = next(c for c in data["checks"] if c["id"] == "yields")
    waived = [f for f in yields["findings"] if f["waived_by"]]
    assert [f["user"] for f in waived] == ["gone@test.example"]
    assert data["waivers"] == [
        {
            "check": "yields",
            "match": {"user": "gone@test.example"},
            "reason": "r",
            "expires": "2027-01-01",
            "used": True,
            "expired": False,
        }
    ]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(verdict="maybe"),
        lambda d: d.update(schema_version=2),
        lambda d: d["checks"][0].update(status="ok"),
        lambda d: d["checks"][0]["findings"].append({"message": "no fingerprint"}),
        lambda d: d.pop("summary"),
    ],
)
def test_schema_rejects_broken_reports(tmp_path: Path, snapshot: Path, mutate) -> None:
    (tmp_path / "p.py").write_text(OUTCOMES)
    config = load_config(text=f"version: 1\norg: {{source: 'snapshot:{snapshot}'}}\n")
    data = run_audit(config, core_pm([tmp_path / "p.py"])).to_dict()
    jsonschema.validate(data, report_schema())
    mutate(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, report_schema())
