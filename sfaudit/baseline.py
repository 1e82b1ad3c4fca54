"""Baselines (a built-in plugin): compare findings with an earlier ``report.json``.

Each finding is marked ``new`` or ``existing`` by its stable fingerprint; findings
of the earlier run that are gone are listed on the check as ``resolved``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import Config
from .errors import InputError
from .hookspecs import hookimpl
from .results import AuditReport, Finding


def load_baseline(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Findings by check id from a report.json; errors name the file and the fix."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"baseline {p} not found", hint="pass the report.json of an earlier run"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"baseline {p} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"baseline {p}:{exc.lineno}: not valid JSON ({exc.msg})",
            hint="pass the report.json written by `sfaudit run --format json`",
        ) from None
    if (
        not isinstance(raw, dict)
        or raw.get("schema_version") != 1
        or not isinstance(raw.get("checks"), list)
    ):
        raise InputError(
            f"baseline {p} is not an sfaudit report.json (schema_version 1)",
            hint="pass the report.json written by `sfaudit run --format json`",
        )
    out: dict[str, list[dict[str, Any]]] = {}
    for check in raw["checks"]:
        if isinstance(check, dict) and isinstance(check.get("id"), str):
            findings = [f for f in check.get("findings") or [] if isinstance(f, dict)]
            for i, finding in enumerate(findings):
                try:
                    Finding.from_dict(finding)
                except (TypeError, ValueError) as exc:
                    raise InputError(
                        f"baseline {p}: check {check['id']!r}, finding {i}: {exc}",
                        hint="pass the unmodified report.json of an earlier run",
                    ) from None
            out[check["id"]] = findings
    return out


@hookimpl
def sfaudit_amend_results(report: AuditReport, config: Config) -> None:
    if not config.baseline:
        return
    path = config.resolve(config.baseline)
    old = load_baseline(path)
    report.baseline_path = str(path)
    for result in report.checks:
        before = {
            f.get("fingerprint"): f
            for f in old.get(result.id, [])
            if f.get("baseline") != "resolved"
        }
        now = {f.fingerprint for f in result.findings}
        for finding in result.findings:
            finding.baseline = "existing" if finding.fingerprint in before else "new"
        result.resolved = [_resolved(raw) for fp, raw in before.items() if fp and fp not in now]


def _resolved(raw: dict[str, Any]) -> Finding:
    finding = Finding.from_dict(raw)
    finding.baseline = "resolved"
    return finding
