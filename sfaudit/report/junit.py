"""JUnit XML: one testsuite per audit config, one testcase per check.

CI dashboards (Jenkins, GitLab, Azure DevOps, GitHub test reporters) read the
``tests``/``failures``/``errors``/``skipped`` counts, so they are always set.
A failing check is a ``<failure>`` whose text lists its open findings; an
errored check is an ``<error>`` with the traceback; a skipped check is
``<skipped>``. Warnings and waivers pass, with the note in ``<system-out>``.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from ..hookspecs import hookimpl
from ..results import AuditReport
from . import ReportContext, ReportFormat
from ._view import finding_state

MAX_FINDINGS_TEXT = 1000
"""Findings listed in one failure's text; the rest are counted."""

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(value: Any) -> str:
    """Text XML 1.0 can hold: control characters an org value may carry are dropped."""
    return _INVALID_XML.sub("", "" if value is None else str(value))


def finding_line(f: Mapping[str, Any]) -> str:
    where = ", ".join(
        f"{k}={f[k]}"
        for k in ("user", "object", "owner", "record_id", "count")
        if f.get(k) not in (None, "")
    )
    extra = f" ({where})" if where else ""
    if f.get("waived_by"):
        extra += f" [waived: {f['waived_by']} until {f.get('waiver_expires')}]"
    if f.get("baseline") == "new":
        extra += " [new]"
    return f"[{f.get('severity')}] {f.get('message')}{extra}"


def suite_name(report: AuditReport) -> str:
    if report.config_path:
        return f"sfaudit: {Path(report.config_path).name}"
    return "sfaudit"


def build_junit(report: AuditReport) -> ET.Element:
    data = report.to_dict()
    org = data.get("org") or {}
    checks = data["checks"]
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    suite = ET.Element("testsuite")
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", data["verdict"]),
        ("exit_code", data["exit_code"]),
        ("fail_on", data["fail_on"]),
        ("today", data["today"]),
        ("org.id", org.get("id")),
        ("org.name", org.get("name")),
        ("org.edition", org.get("edition")),
        ("org.source", org.get("source")),
        ("config", data.get("config_path") or report.config_path),
    ):
        if value not in (None, ""):
            ET.SubElement(props, "property", name=name, value=clean(value))
    blocking = set(data.get("blocking") or [])
    total_time = 0.0
    for c in checks:
        duration = float(c.get("duration_s") or 0.0)
        total_time += duration
        case = ET.SubElement(
            suite,
            "testcase",
            classname=clean(c.get("plugin") or "sfaudit"),
            name=clean(f"{c['id']}: {c.get('title') or c['id']}"),
            time=f"{duration:.3f}",
        )
        status = c["status"]
        open_findings = [f for f in c.get("findings", []) if finding_state(f) == "open"]
        if status == "fail":
            counts["failures"] += 1
            note = "" if c["id"] in blocking else " (below fail_on: does not block)"
            lines = [finding_line(f) for f in open_findings[:MAX_FINDINGS_TEXT]]
            if len(open_findings) > MAX_FINDINGS_TEXT:
                lines.append(
                    f"... and {len(open_findings) - MAX_FINDINGS_TEXT} more findings in the report"
                )
            failure = ET.SubElement(
                case,
                "failure",
                message=clean(f"{c.get('message') or 'check failed'}{note}"),
                type=clean(c.get("effective_severity") or c.get("severity")),
            )
            failure.text = clean("\n".join(lines) or c.get("message"))
        elif status == "error":
            counts["errors"] += 1
            error = ET.SubElement(
                case, "error", message=clean(c.get("message") or "check errored"), type="error"
            )
            error.text = clean(c.get("traceback") or c.get("message"))
        elif status == "skip":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=clean(c.get("message") or "skipped"))
        elif status in ("warn", "waived"):
            out = ET.SubElement(case, "system-out")
            waived = [
                finding_line(f) for f in c.get("findings", []) if finding_state(f) == "waived"
            ]
            out.text = clean(
                "\n".join([f"{status}: {c.get('message') or ''}", *waived[:MAX_FINDINGS_TEXT]])
            )
    suite.attrib.update(
        name=clean(suite_name(report)),
        tests=str(len(checks)),
        failures=str(counts["failures"]),
        errors=str(counts["errors"]),
        skipped=str(counts["skipped"]),
        time=f"{total_time:.3f}",
        timestamp=data["generated_at"].rstrip("Z"),
        hostname=clean(socket.gethostname() or "localhost"),
    )
    root = ET.Element(
        "testsuites",
        name="sfaudit",
        tests=str(len(checks)),
        failures=str(counts["failures"]),
        errors=str(counts["errors"]),
        skipped=str(counts["skipped"]),
        time=f"{total_time:.3f}",
    )
    root.append(suite)
    return root


def write_junit(report: AuditReport, path: Path, context: ReportContext) -> None:
    tree = ET.ElementTree(build_junit(report))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


@hookimpl
def sfaudit_register_report_formats() -> list[ReportFormat]:
    return [
        ReportFormat(
            "junit", "junit.xml", write_junit, "JUnit XML: a testcase per check, for CI dashboards"
        )
    ]
