"""Waivers (a built-in plugin): accepted findings, each with a reason and an expiry.

An expired waiver stops applying and is reported; it alone blocks "ready".
A waiver with no ``match`` waives the whole check.
"""

from __future__ import annotations

from .config import Config
from .hookspecs import hookimpl
from .results import AuditReport, Outcome, WaiverUse


@hookimpl(tryfirst=True)
def sfaudit_amend_results(report: AuditReport, config: Config) -> None:
    by_id = {c.id: c for c in report.checks}
    for i, waiver in enumerate(config.waivers):
        use = WaiverUse(
            check=waiver.check,
            reason=waiver.reason,
            expires=waiver.expires,
            match=dict(waiver.match),
            expired=waiver.expires < report.today,
            line=config.where("waivers", i)[1],
        )
        report.waivers.append(use)
        result = by_id.get(waiver.check)
        if use.expired or result is None:
            continue
        label = f"{waiver.reason} (until {waiver.expires.isoformat()})"
        if not waiver.match:
            would_fail = result.outcome == Outcome.ASSERT or any(f.failing for f in result.findings)
            if would_fail:
                result.waived_reason = label
                for finding in result.findings:
                    if finding.failing:
                        finding.waived_by = waiver.reason
                        finding.waiver_expires = waiver.expires.isoformat()
                use.used = True
            continue
        for finding in result.findings:
            if finding.waived_by is None and finding.matches(waiver.match):
                finding.waived_by = waiver.reason
                finding.waiver_expires = waiver.expires.isoformat()
                use.used = True
