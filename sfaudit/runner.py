"""The runner: gives each selected check its fixtures, runs it isolated, and
turns what it did into a :class:`~sfaudit.results.CheckResult`; then amends and
settles the whole :class:`~sfaudit.results.AuditReport`.

:class:`sfaudit.audit.Audit` owns a run (config, plugin manager, checks, the
opened inputs) and calls :func:`run_checks`; nothing else assembles a run.
"""

from __future__ import annotations

import datetime as dt
import inspect
import linecache
import threading
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._redact import redact
from .config import Config, check_enabled, did_you_mean
from .errors import ConfigError, DataUnavailable, SfauditError, SourceError, UsageError
from .fixtures import FixtureLookupError, FixtureResolver
from .hookspecs import hookimpl
from .outcomes import Skipped, Warned
from .plugins import PluginManager
from .registry import CheckSpec, timeline
from .results import FINDING_FIELDS, AuditReport, CheckResult, Finding, Outcome, Severity, Status
from .sources import Org


@dataclass
class RunContext:
    """What one audit shares across its checks; the ``run`` fixture."""

    config: Config
    pm: PluginManager
    today: dt.date
    _org: Org | BaseException | None = None
    _backup: Any = None
    _backup_error: BaseException | None = None
    _backup_opened: bool = False

    def org(self) -> Org:
        """Open the org once; a failure is remembered and re-raised for every check."""
        if self._org is None:
            try:
                self._org = open_org(self.config, self.pm)
            except Exception as exc:
                self._org = exc
        if isinstance(self._org, BaseException):
            raise self._org
        return self._org

    def org_if_open(self) -> Org | None:
        return self._org if isinstance(self._org, Org) else None

    def org_error(self) -> BaseException | None:
        """Why the org could not be opened, if it was tried and failed."""
        return self._org if isinstance(self._org, BaseException) else None

    def close(self) -> None:
        """Close the org if it was opened; the next :meth:`org` opens it again."""
        org = self.org_if_open()
        self._org = None
        if org is not None:
            org.close()

    def backup(self) -> Any:
        if not self._backup_opened:
            self._backup_opened = True
            try:
                self._backup = open_backup(self.config, self.pm)
            except Exception as exc:
                self._backup_error = exc
        if self._backup_error is not None:
            raise self._backup_error
        return self._backup


def open_org(config: Config, pm: PluginManager) -> Org:
    spec = config.org.source
    if not spec:
        raise UsageError(
            "no org source configured",
            hint="set org.source in the config, or pass --source snapshot:PATH / live / sf:ALIAS",
        )
    org = pm.hook.sfaudit_org_source(spec=spec, config=config)
    if org is None:
        raise UsageError(
            f"unknown org source {spec!r}",
            hint="use snapshot:PATH, live or sf:ALIAS (or install the plugin that provides it)",
        )
    if not isinstance(org, Org):
        raise SourceError(
            f"the plugin for source {spec!r} returned {type(org).__name__}, not an Org"
        )
    return org


NO_BACKUP = "no backup configured: set backup.path in the config or pass --backup"


def open_backup(config: Config, pm: PluginManager) -> Any:
    """The backup inventory, or None when no ``backup.path`` is configured."""
    if not config.backup.path:
        return None
    path = config.resolve(config.backup.path)
    inventory = pm.hook.sfaudit_open_backup(path=path, config=config)
    if inventory is None:
        raise DataUnavailable(f"no installed plugin can read the backup at {path}")
    return inventory


def select_checks(
    all_checks: dict[str, CheckSpec], config: Config, select: Sequence[str] | None
) -> list[CheckSpec]:
    """The checks to run: ``select`` if given (even if disabled), else the enabled ones."""
    if select:
        chosen = []
        for check_id in select:
            if check_id not in all_checks:
                hint = (
                    did_you_mean(check_id, all_checks) or "`sfaudit list-checks` shows the checks"
                )
                raise UsageError(f"--select: unknown check {check_id!r}", hint=hint)
            chosen.append(all_checks[check_id])
        return chosen
    return [spec for spec in all_checks.values() if check_enabled(config, spec.id)]


def run_checks(
    ctx: RunContext, specs: Sequence[CheckSpec], registered: Iterable[CheckSpec] = ()
) -> AuditReport:
    """Run ``specs`` with the inputs ``ctx`` opened and return the amended, settled
    report; ``registered`` (every check known, run or not) places them in the
    timeline. The org stays open (``ctx.close()`` closes it)."""
    config, pm, today = ctx.config, ctx.pm, ctx.today
    resolver = FixtureResolver(
        pm.collect_fixtures(), {"config": config, "today": today, "run": ctx}
    )
    _check_inputs(ctx, specs)
    if not specs:
        pm.problems.append("no checks ran: every check is disabled, or --select chose none")
    pm.notify("sfaudit_run_started", config=config, checks=list(specs), today=today)
    results: list[CheckResult] = []
    try:
        for spec in specs:
            result = run_check(spec, config, pm, resolver)
            results.append(result)
            pm.notify("sfaudit_check_finished", result=result)
    finally:
        for failure in resolver.close():
            pm.problems.append(f"fixture teardown failed: {type(failure).__name__}: {failure}")
    report = AuditReport(
        checks=results,
        today=today,
        fail_on=config.fail_on,
        config_path=config.path,
        lang=config.report.lang,
        contract=config.contract.model_dump(),
        problems=list(pm.problems),
        timeline=timeline(list(registered) or specs),
    )
    org, org_error = ctx.org_if_open(), ctx.org_error()
    if org is not None:
        report.org = _org_summary(org)
        report.metrics.update(org.metrics())
    elif org_error is not None:
        report.org = {"source": (config.org.source or "").split(":", 1)[0]}
        report.problems.append(f"the org could not be read: {_message(org_error)}")
    pm.notify("sfaudit_amend_results", report=report, config=config)
    _take_problems(report, pm)
    for result in report.checks:
        result.settle()
        if result.status == Status.SKIP and result.data_missing and report.counts_severity(result):
            report.problems.append(
                f"{result.id} could not read what it checks, so its verdict is unknown: "
                f"{result.message}"
            )
    pm.notify("sfaudit_run_finished", report=report)
    _take_problems(report, pm)
    return report


def _take_problems(report: AuditReport, pm: PluginManager) -> None:
    """The plugin manager's problems onto the report, each once."""
    report.problems.extend(p for p in pm.problems if p not in report.problems)


def _check_inputs(ctx: RunContext, specs: Sequence[CheckSpec]) -> None:
    """Open the inputs up front: a bad snapshot path, source spec or backup path is
    an input error (exit 2) before any check runs. An org that cannot be read is
    remembered, and the checks that need it error (exit 3)."""
    config = ctx.config
    if config.org.source:
        try:
            ctx.org()
        except SfauditError as exc:
            if exc.exit_code == 2:
                raise
        except Exception:
            pass  # kept by ctx; every check that asks for the org reports it
    if config.backup.path and any("backup" in spec.argnames for spec in specs):
        from .backup.model import require_export

        require_export(config.resolve(config.backup.path))


def _org_summary(org: Org) -> dict[str, Any]:
    try:
        info = org.info()
    except Exception as exc:
        return {"source": org.source, "error": _message(exc)}
    summary: dict[str, Any] = {
        "id": info.id,
        "name": info.name,
        "edition": info.edition,
        "is_sandbox": info.is_sandbox,
        "instance": info.instance,
        "source": org.source,
    }
    try:
        summary["storage"] = org.storage().to_dict()
    except Exception:  # unknown storage (an older snapshot) leaves the header as it was
        summary["storage"] = None
    return summary


def run_check(
    spec: CheckSpec, config: Config, pm: PluginManager, resolver: FixtureResolver
) -> CheckResult:
    """Run one check in isolation: whatever it raises becomes its result."""
    block = config.check_block(spec.id)
    severity = Severity.parse(block.get("severity", spec.severity))
    result = CheckResult(
        id=spec.id,
        title=str(block.get("title") or spec.title),
        severity=severity,
        explain=spec.explain,
        fix=spec.fix,
        tags=spec.tags,
        plugin=spec.plugin,
        charts=[chart.to_dict() for chart in spec.charts],
    )
    check_values = {"check": spec, "metrics": result.metrics, "severity": severity}
    timeout = block.get("timeout", config.timeout)
    start = time.perf_counter()
    teardown: list[Any] = []
    try:
        kwargs, teardown = resolver.resolve(spec.argnames, check_values)
        returned = _call_with_timeout(pm, spec, kwargs, timeout)
        _collect(result, returned)
    except FixtureLookupError as exc:
        _error(result, f"{exc} (check {spec.id} asks for it by parameter name)", exc)
    except AssertionError as exc:
        result.outcome = Outcome.ASSERT
        result.message = _assert_message(exc)
    except Warned as exc:
        result.outcome = Outcome.WARN
        result.message = exc.message
    except Skipped as exc:
        result.outcome = Outcome.SKIP
        result.message = exc.message
    except SystemExit as exc:
        _error(result, f"the check called sys.exit({exc.code!r}); report failures with assert", exc)
    except DataUnavailable as exc:
        if exc.permission:
            _error(result, str(exc), None)
        else:
            result.outcome = Outcome.SKIP
            result.message = str(exc)
            result.data_missing = True
    except ConfigError:
        raise  # the check found its own options invalid: an input error, exit 2
    except SfauditError as exc:
        _error(result, _message(exc), None)
    except _CheckTimeout as exc:
        _error(result, str(exc), None)
    except Exception as exc:
        _error(result, f"{type(exc).__name__}: {exc}", exc)
    finally:
        for failure in FixtureResolver.finish(teardown):
            pm.problems.append(f"teardown for check {spec.id} failed: {failure}")
        result.duration_s = time.perf_counter() - start
    if result.message:
        result.message = redact(result.message)
    for finding in result.findings:
        finding.message = redact(finding.message)
        if finding.severity is None:
            finding.severity = severity
        finding.fingerprint = finding.fingerprint or finding.compute_fingerprint(spec.id)
    if result.outcome == Outcome.PASS and any(f.failing for f in result.findings):
        result.auto_message = True
        result.summary = spec.summary
    result.settle()
    return result


class _CheckTimeout(Exception):
    pass


def _call_with_timeout(
    pm: PluginManager, spec: CheckSpec, kwargs: dict[str, Any], timeout: float | None
) -> Any:
    def call() -> Any:
        returned = pm.hook.sfaudit_call_check(spec=spec, kwargs=kwargs)
        if inspect.isgenerator(returned):
            return _Drained(returned)
        return returned

    if not timeout:
        return call()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"sfaudit-check-{spec.id}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _CheckTimeout(
            f"timed out after {timeout:g}s; raise checks.{spec.id}.timeout or fix what it waits on"
        )
    if "error" in box:
        raise box["error"]
    return box.get("value")


class _Drained:
    """A generator check, drained: the findings it yielded, then what it raised."""

    def __init__(self, gen: Any) -> None:
        self.items: list[Any] = []
        self.error: BaseException | None = None
        try:
            for item in gen:
                self.items.append(item)
        except BaseException as exc:
            self.error = exc


def _collect(result: CheckResult, returned: Any) -> None:
    error: BaseException | None = None
    if isinstance(returned, _Drained):
        items: Iterable[Any] = returned.items
        error = returned.error
    elif returned is None:
        items = ()
    elif isinstance(returned, (Finding, str, dict)):
        items = (returned,)
    elif isinstance(returned, Iterable):
        items = returned
    else:
        raise TypeError(
            f"check returned {type(returned).__name__}; return None, or yield/return findings"
        )
    for item in items:
        result.findings.append(_as_finding(item))
    if error is not None:
        raise error


def _as_finding(item: Any) -> Finding:
    if isinstance(item, Finding):
        return item
    if isinstance(item, str):
        return Finding(message=item)
    if isinstance(item, dict):
        known = FINDING_FIELDS
        data = {k: v for k, v in item.items() if k not in known}
        kwargs = {k: v for k, v in item.items() if k in known}
        kwargs.setdefault("message", "")
        return Finding(**kwargs, data=data)
    raise TypeError(f"a check yielded {type(item).__name__}; yield Finding, str or dict")


def _assert_message(exc: AssertionError) -> str:
    text = str(exc)
    if text:
        return text
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        frame = tb[-1]
        line = linecache.getline(frame.filename, frame.lineno or 0).strip()
        return f"assertion failed: {line} ({Path(frame.filename).name}:{frame.lineno})"
    return "assertion failed"


def _error(result: CheckResult, message: str, exc: BaseException | None) -> None:
    result.outcome = Outcome.ERROR
    result.message = message
    if exc is not None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        result.traceback = redact(text)


def _message(exc: BaseException) -> str:
    if isinstance(exc, SfauditError):
        return redact(str(exc))
    return redact(f"{type(exc).__name__}: {exc}")


@hookimpl(trylast=True)
def sfaudit_call_check(spec: CheckSpec, kwargs: dict[str, Any]) -> Any:
    """The default: call the check function with its fixtures."""
    returned = spec.func(**kwargs)
    return _Drained(returned) if inspect.isgenerator(returned) else returned
