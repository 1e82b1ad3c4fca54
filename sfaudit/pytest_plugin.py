"""The sfaudit pytest plugin: ``pytest --sfaudit CONFIG`` runs an audit's checks as test items.

Each enabled check of the config becomes an item named ``<config>::<check-id>``,
run through the same runner as ``sfaudit run`` (waivers and the baseline
apply). Plain tests get the ``sfaudit_*`` fixtures. Without ``--sfaudit`` (or
the ``sfaudit_configs`` ini option) the plugin only declares its options and
fixtures: it collects nothing, imports nothing heavy and prints nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .results import FAIL_ON_CHOICES

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr
    from _pytest.reports import CollectReport

    from .audit import Audit
    from .config import Config, ContractConfig
    from .registry import CheckSpec
    from .results import AuditReport, CheckResult
    from .sources import Org
_MAX_FINDINGS = 20
_COUNT_ONLY = re.compile(r"\d+ findings?")


class SfauditWarning(UserWarning):
    """A check ended with status ``warn``, or the audit recorded a problem."""


# -------------------------------------------------------------------------
# Options
# -------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sfaudit", "sfaudit readiness audits")
    group.addoption(
        "--sfaudit",
        action="append",
        dest="sfaudit_configs",
        default=[],
        metavar="CONFIG",
        help="Run the enabled checks of this sfaudit config as test items "
        "(repeatable; replaces the sfaudit_configs ini option).",
    )
    group.addoption(
        "--sfaudit-source",
        metavar="SPEC",
        help="Override org.source of the sfaudit configs: snapshot:PATH, live or sf:ALIAS.",
    )
    group.addoption(
        "--sfaudit-backup", metavar="PATH", help="Override backup.path of the sfaudit configs."
    )
    group.addoption(
        "--sfaudit-today",
        metavar="YYYY-MM-DD",
        type=_parse_date,
        help="Pin the audit date of the sfaudit configs.",
    )
    group.addoption(
        "--sfaudit-fail-on",
        choices=FAIL_ON_CHOICES,
        help="Override fail_on: failing checks below it are reported as xfail.",
    )
    parser.addini(
        "sfaudit_configs",
        type="paths",
        default=[],
        help="sfaudit configs whose checks run as test items (like --sfaudit).",
    )


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(
            f"--sfaudit-today: {value!r} is not a date; use YYYY-MM-DD"
        ) from None


def pytest_configure(config: pytest.Config) -> None:
    """Activate the audit machinery only when a config was asked for."""
    paths = _config_paths(config)
    if not paths:
        return
    overrides = {
        "source": config.getoption("sfaudit_source"),
        "backup": config.getoption("sfaudit_backup"),
        "today": config.getoption("sfaudit_today"),
        "fail_on": config.getoption("sfaudit_fail_on"),
    }
    base = config.invocation_params.dir
    plugin = SfauditSession([_Audit(p, _shown(p, base), overrides) for p in paths])
    config.stash[_SESSION] = plugin
    config.pluginmanager.register(plugin, "sfaudit-session")


def _shown(path: Path, base: Path) -> str:
    """The path as messages show it: relative to where pytest was started, when inside it."""
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _config_paths(config: pytest.Config) -> list[Path]:
    given: Sequence[str] = config.getoption("sfaudit_configs") or []
    if given:
        base = config.invocation_params.dir
        raw = [base / Path(p).expanduser() for p in given]
    else:
        raw = list(config.getini("sfaudit_configs"))
    seen: dict[Path, None] = {}
    for path in raw:
        seen.setdefault(Path(path).resolve(), None)
    return list(seen)


# -------------------------------------------------------------------------
# One audit per config, computed lazily and at most once per process
# -------------------------------------------------------------------------


class _Audit:
    """A config's :class:`~sfaudit.audit.Audit`, loaded lazily, and (lazily) its report.

    Every pytest process (each xdist worker too) computes its own audit from
    the config: cheap from a snapshot, a few API calls for a live org.
    """

    def __init__(self, path: Path, shown: str, overrides: dict[str, Any]) -> None:
        self.path = path
        self.shown = shown
        self.overrides = overrides
        self._audit: Audit | None = None
        self._specs: list[CheckSpec] = []
        self._report: AuditReport | BaseException | None = None

    def load(self) -> Audit:
        """The config's audit: config, plugin manager and checks, validated."""
        if self._audit is None:
            from .audit import Audit

            same = Path(self.shown).resolve() == self.path
            audit = Audit.from_config(
                self.shown if same else self.path,
                self.overrides,
                source_flag="--sfaudit-source",  # as `sfaudit run`: before any check
            )
            self._specs = audit.select()
            self._audit = audit
        return self._audit

    @property
    def specs(self) -> list[CheckSpec]:
        """The config's enabled checks, in order."""
        self.load()
        return self._specs

    def report(self, selected: Sequence[str]) -> AuditReport:
        """The audit of ``selected`` checks, run on first use; a failure is re-raised."""
        if self._report is None:
            try:
                self._report = self.load().run(select=list(selected))
            except Exception as exc:
                self._report = exc
            else:
                _warn_problems(self._report, self.path)
        if isinstance(self._report, BaseException):
            raise self._report
        return self._report

    def org(self) -> Org:
        return self.load().org()

    def close(self) -> None:
        if self._audit is not None:
            self._audit.close()


def _warn_problems(report: AuditReport, path: Path) -> None:
    for problem in report.problems:
        warnings.warn_explicit(f"{path.name}: {problem}", SfauditWarning, str(path), 1)
    for waiver in report.expired_waivers:
        warnings.warn_explicit(
            f"{path.name}: the waiver for {waiver.check} expired on {waiver.expires} "
            f"({waiver.reason}); it no longer applies and blocks 'ready'",
            SfauditWarning,
            str(path),
            waiver.line or 1,
        )


# -------------------------------------------------------------------------
# Collection: a File per config, an Item per check
# -------------------------------------------------------------------------


class SfauditSession:
    """Registered for a run that asked for audits: adds the config files to
    the session's collection and prints the verdict per config."""

    def __init__(self, audits: list[_Audit]) -> None:
        self.audits = audits
        self.statuses: dict[str, dict[str, tuple[str, bool]]] = {}
        self.problems: dict[str, int] = {}
        self.verdicts: dict[str, str] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, CollectReport, CollectReport]:
        rep = yield
        if isinstance(collector, pytest.Session) and rep.passed:
            assert isinstance(rep.result, list)
            for audit in self.audits:
                rep.result.append(ConfigFile.from_parent(collector, path=audit.path, audit=audit))
        return rep

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Carry the audit's verdict on each check's reports: an attribute of the
        report travels from xdist workers to the controller, as its fields do."""
        rep = yield
        verdict = getattr(item, "sfaudit_verdict", None)
        if verdict is not None:
            rep.sfaudit_verdict = verdict  # type: ignore[attr-defined]
        return rep

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        config_name = report.nodeid.split("::", 1)[0]
        verdict = getattr(report, "sfaudit_verdict", None)
        if isinstance(verdict, str):
            self.verdicts[config_name] = verdict
        props = dict(report.user_properties)
        if "sfaudit_status" in props:
            check_id = report.nodeid.rsplit("::", 1)[-1]
            blocking = props.get("sfaudit_blocking") == "true"
            if int(str(props.get("sfaudit_problems", 0))):
                self.problems[config_name] = int(str(props["sfaudit_problems"]))
            self.statuses.setdefault(config_name, {})[check_id] = (
                str(props["sfaudit_status"]),
                blocking,
            )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.statuses:
            return
        terminalreporter.section("sfaudit")
        for config_name, checks in self.statuses.items():
            counts: dict[str, int] = {}
            for status, _ in checks.values():
                counts[status] = counts.get(status, 0) + 1
            # The report's own verdict (results.py), as report.json states it.
            verdict = self.verdicts.get(config_name, "incomplete")
            tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            terminalreporter.write_line(f"{config_name}: {verdict}; {tally}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Audit problems (a plugin that failed) make ``sfaudit run`` exit 3: never
        let pytest pass them. Read from the items' reports, so xdist works too."""
        if self.problems and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_unconfigure(self) -> None:
        for audit in self.audits:
            audit.close()


_SESSION = pytest.StashKey[SfauditSession]()


class ConfigFile(pytest.File):
    """One sfaudit config; collects an item per enabled check."""

    def __init__(self, *, audit: _Audit, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.audit = audit

    def collect(self) -> Iterator[pytest.Item]:
        config = self.audit.load().config
        for spec in self.audit.specs:
            line = config.where("checks", spec.id)[1]  # the check's block, else `checks:`
            severity = str(config.check_block(spec.id).get("severity", spec.severity))
            yield CheckItem.from_parent(
                self, name=spec.id, spec=spec, line=line, severity=severity.lower()
            )
        if config.waivers:
            yield WaiversItem.from_parent(self, name="waivers")

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str | TerminalRepr:
        from .errors import SfauditError

        if isinstance(excinfo.value, SfauditError):
            return f"sfaudit: {excinfo.value}"
        return super().repr_failure(excinfo)


class WaiversItem(pytest.Item):
    """``<config>::waivers``: fails while any waiver has expired, since an expired
    waiver alone blocks "ready" (as it makes ``sfaudit run`` exit 1)."""

    def runtest(self) -> None:
        assert isinstance(self.parent, ConfigFile)
        audit = self.parent.audit.load()
        config, today = audit.config, audit.today
        expired = [w for w in config.waivers if w.expires < today]
        if expired:
            lines = [
                f"the waiver for {w.check} expired on {w.expires} ({w.reason}): "
                "renew it with a new expiry, or remove it"
                for w in expired
            ]
            pytest.fail("\n".join(lines), pytrace=False)

    def reportinfo(self) -> tuple[Path, int, str]:
        assert isinstance(self.parent, ConfigFile)
        line = self.parent.audit.load().config.where("waivers")[1] or 1
        return self.path, line - 1, f"sfaudit {self.path.name}::waivers"


class CheckFailed(Exception):
    """Raised by a :class:`CheckItem` whose check failed at or above fail_on."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


class CheckItem(pytest.Item):
    """One readiness check run as a test; its outcome follows the check's status."""

    def __init__(self, *, spec: CheckSpec, line: int | None, severity: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.line = line
        self.result: CheckResult | None = None
        self.sfaudit_verdict: str | None = None
        self._blocking = False
        self._fail_on = ""
        # `-k critical`, `-k "not security"`: the configured severity and the tags
        self.extra_keyword_matches.update({severity, *spec.tags})

    @property
    def config_file(self) -> ConfigFile:
        assert isinstance(self.parent, ConfigFile)
        return self.parent

    def setup(self) -> None:
        """Run (or reuse) the audit; an unreadable org or errored check is a pytest error."""
        from .errors import SfauditError

        audit = self.config_file.audit
        selected = [
            item.name
            for item in self.session.items
            if isinstance(item, CheckItem) and item.config_file.audit is audit
        ]
        try:
            report = audit.report(selected or [self.name])
        except SfauditError as exc:
            pytest.fail(f"sfaudit: {exc}", pytrace=False)
        result = report.check(self.name)
        self.result = result
        self.user_properties.extend(
            [
                ("sfaudit_status", str(result.status)),
                ("sfaudit_severity", str(result.effective_severity)),
                ("sfaudit_findings", str(sum(1 for f in result.findings if f.failing))),
                ("sfaudit_blocking", "true" if report.counts_against(result) else "false"),
                ("sfaudit_problems", str(len(report.problems))),
            ]
        )
        if str(result.status) == "error":
            pytest.fail(_error_text(result, self.spec), pytrace=False)
        self._blocking = report.counts_against(result)
        self._fail_on = report.fail_on
        self.sfaudit_verdict = report.verdict_text

    def runtest(self) -> None:
        result = self.result
        assert result is not None
        status = str(result.status)
        if status == "fail":
            if self._blocking:
                raise CheckFailed(result)
            pytest.xfail(
                f"below fail_on {self._fail_on}: [{result.effective_severity}] {_gist(result)}"
            )
        elif status == "warn":
            warnings.warn_explicit(
                f"{self.name}: {result.message}",
                SfauditWarning,
                str(self.path),
                self.line or 1,
            )
        elif status == "skip":
            raise pytest.skip.Exception(
                f"{self.name}: {result.message or 'skipped'}", _use_item_location=True
            )
        elif status == "waived":
            raise pytest.skip.Exception(
                f"{self.name}: waived: {_waiver_reason(result)}", _use_item_location=True
            )

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, CheckFailed):
            verbose = self.config.get_verbosity() > 0
            return _failure_text(excinfo.value.result, everything=verbose)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        # The domain heads the failure section; it must not be a suffix of the
        # node id, or pytest's terminal turns its dots into "::".
        return self.path, (self.line or 1) - 1, f"sfaudit {self.path.name}::{self.name}"


def _gist(result: CheckResult) -> str:
    """One line for a failed check: its message, or its first finding when the
    message is only the runner's finding count."""
    failing = [f for f in result.findings if f.failing]
    if failing and (not result.message or _COUNT_ONLY.fullmatch(result.message)):
        more = f" (and {len(failing) - 1} more)" if len(failing) > 1 else ""
        return failing[0].message + more
    return result.message or "failed"


def _waiver_reason(result: CheckResult) -> str:
    if result.waived_reason:
        return result.waived_reason
    reasons = sorted(
        {
            f"{f.waived_by} (until {f.waiver_expires})" if f.waiver_expires else f.waived_by
            for f in result.findings
            if f.waived_by
        }
    )
    return "; ".join(reasons) or "waived"


def _failure_text(result: CheckResult, *, everything: bool) -> str:
    """The findings of a failed check, as the failure text (no traceback)."""
    lines = [
        f"{result.id} [{result.effective_severity}] failed: {result.title}",
    ]
    failing = [f for f in result.findings if f.failing]
    if result.message and not _COUNT_ONLY.fullmatch(result.message):
        lines.append(f"  {result.message}")
    shown = failing if everything else failing[:_MAX_FINDINGS]
    for finding in shown:
        where = finding.user or finding.object or finding.record_id or finding.owner or ""
        detail = f" ({where})" if where and where not in finding.message else ""
        lines.append(f"  - [{finding.severity}] {finding.message}{detail}")
    if len(shown) < len(failing):
        lines.append(f"  ... and {len(failing) - len(shown)} more (-v shows them all)")
    waived = sum(1 for f in result.findings if f.waived_by)
    if waived:
        lines.append(f"  ({waived} waived finding{'s' if waived != 1 else ''} not shown)")
    if result.fix:
        lines.append(f"fix: {result.fix}")
    return "\n".join(lines)


def _error_text(result: CheckResult, spec: CheckSpec) -> str:
    """The error and the check's own traceback, without sfaudit's and pluggy's frames."""
    text = f"{result.id} errored: {result.message}"
    if result.traceback:
        lines = result.traceback.rstrip().splitlines()
        check_file = f'  File "{spec.func.__code__.co_filename}"'
        start = next((i for i, line in enumerate(lines) if line.startswith(check_file)), 1)
        text += "\n\n" + "\n".join([lines[0], *lines[start:]])
    return text


# -------------------------------------------------------------------------
# Fixtures for plain tests
# -------------------------------------------------------------------------


def _first_audit(request: pytest.FixtureRequest) -> _Audit:
    session = request.config.stash.get(_SESSION, None)
    if session is None:
        pytest.skip(
            f"{request.fixturename} needs an sfaudit config: run pytest --sfaudit CONFIG "
            "or set sfaudit_configs in the pytest ini file"
        )
    return session.audits[0]


def _loaded(request: pytest.FixtureRequest) -> Audit:
    from .errors import SfauditError

    audit = _first_audit(request)
    try:
        return audit.load()
    except SfauditError as exc:
        pytest.fail(f"sfaudit: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def sfaudit_config(request: pytest.FixtureRequest) -> Config:
    """The validated config of the first ``--sfaudit`` config (overrides applied)."""
    return _loaded(request).config


@pytest.fixture(scope="session")
def sfaudit_org(request: pytest.FixtureRequest) -> Org:
    """The read-only org facade of the first ``--sfaudit`` config, opened once."""
    from .errors import SfauditError

    _loaded(request)
    try:
        return _first_audit(request).org()
    except SfauditError as exc:
        pytest.fail(f"sfaudit: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def sfaudit_backup(request: pytest.FixtureRequest) -> Any:
    """The Data Export inventory at the config's ``backup.path``; skips when none is set."""
    from .errors import DataUnavailable, SfauditError
    from .runner import NO_BACKUP

    audit = _loaded(request)
    try:
        inventory = audit.backup()
    except DataUnavailable as exc:
        pytest.skip(f"sfaudit_backup: {exc}")
    except SfauditError as exc:
        pytest.fail(f"sfaudit: {exc}", pytrace=False)
    if inventory is None:
        pytest.skip(f"sfaudit_backup: {NO_BACKUP}")
    return inventory


@pytest.fixture(scope="session")
def sfaudit_contract(request: pytest.FixtureRequest) -> ContractConfig:
    """The config's ``contract:`` block."""
    return _loaded(request).config.contract


@pytest.fixture(scope="session")
def sfaudit_today(request: pytest.FixtureRequest) -> dt.date:
    """The audit date: ``--sfaudit-today``, the config's ``today:``, else the real date."""
    return _loaded(request).today
