"""One audit run, owned by one object: :class:`Audit`.

As pytest's ``Session`` and datasette's ``Datasette`` do, an :class:`Audit`
holds the config, the plugin manager, the checks and the inputs it opened (the
org, the backup), runs the checks and writes the reports. ``sfaudit run``,
``sfaudit demo``, ``sfaudit snapshot`` and ``pytest --sfaudit`` all use it::

    from sfaudit import Audit

    with Audit.from_config("sfaudit.yaml", {"today": dt.date(2026, 11, 26)}) as audit:
        report = audit.run(select=["notice-deadline"])
        audit.write(["json"], "reports/")
        audit.notify()                  # the config's notify: channels; never raises
        print(report.verdict)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .config import (
    Config,
    apply_overrides,
    load_config,
    require_source,
    validate_checks,
    validate_notify,
)
from .plugins import PluginManager, get_plugin_manager
from .registry import CheckSpec
from .report import ReportFormat, check_formats, write_reports
from .results import AuditReport
from .runner import RunContext, run_checks, select_checks
from .sources import Org

if TYPE_CHECKING:
    from .notify import Delivery, Notifier


class Audit:
    """A config, its plugin manager and checks, the org and backup it opened, and
    (after :meth:`run`) its report.

    Build one with :meth:`from_config` (which stops at input errors before
    anything runs), or directly from a config and a plugin manager (tests do).
    Close it (or use it as a context manager) to close the org it opened.
    """

    def __init__(self, config: Config, plugin_manager: PluginManager) -> None:
        self.config = config
        self.plugin_manager = plugin_manager
        self.context = RunContext(
            config=config, pm=plugin_manager, today=config.today or dt.date.today()
        )
        self.report: AuditReport | None = None
        self._checks: dict[str, CheckSpec] | None = None
        self._formats: dict[str, ReportFormat] | None = None
        self._notifiers: dict[str, Notifier] | None = None
        self.deliveries: list[Delivery] = []
        """What :meth:`notify` sent, skipped and failed to send."""

    @classmethod
    def from_config(
        cls,
        path_or_config: str | Path | Config | None = None,
        overrides: Mapping[str, Any] | None = None,
        *,
        source_flag: str | None = "--source",
        plugins: Iterable[str | Path] = (),
        entry_points: bool = True,
        extra: Iterable[object] = (),
    ) -> Audit:
        """Load the config (a path, or a :class:`~sfaudit.config.Config` already
        loaded), apply the command line's ``overrides`` (``source``, ``backup``,
        ``today``, ``fail_on``, ``formats``, ``output``, ``baseline``, ``lang``;
        None leaves a value alone), and build the plugin manager.

        Input errors stop here, before any check runs: the config, the baseline
        file, the plugin files, the ``notify:`` channels (against the notifier types
        the plugins register) and, unless ``source_flag`` is None, a missing
        org source (``source_flag`` is the flag the error message suggests).

        :param plugins: plugin files to load besides the config's ``plugins:``.
        :param entry_points: load the plugins installed under the ``sfaudit`` group.
        :param extra: plugin objects registered last.
        """
        if isinstance(path_or_config, Config):
            config = path_or_config
        else:
            config = load_config(path_or_config)
        apply_overrides(config, **dict(overrides or {}))
        if config.baseline:
            from .baseline import load_baseline

            load_baseline(config.resolve(config.baseline))
        pm = get_plugin_manager(
            [*config.plugin_paths(), *plugins],
            entry_points=entry_points,
            extra=extra,
            config_path=config.path,
        )
        audit = cls(config, pm)
        if config.notify:
            validate_notify(config, audit.notifiers)
        if source_flag is not None:
            require_source(config, source_flag)
        return audit

    # --- what the plugins provide -------------------------------------------

    @property
    def checks(self) -> dict[str, CheckSpec]:
        """Every check the plugins provide, by id; the config's ``checks:`` block
        is validated against them (a :class:`~sfaudit.errors.ConfigError` if not)."""
        if self._checks is None:
            found = self.plugin_manager.collect_checks()
            validate_checks(self.config, {cid: spec.options for cid, spec in found.items()})
            self._checks = found
        return self._checks

    def select(self, select: Sequence[str] | None = None) -> list[CheckSpec]:
        """The checks a run would run: ``select`` (even if disabled), else the enabled ones."""
        return select_checks(self.checks, self.config, select)

    @property
    def report_formats(self) -> dict[str, ReportFormat]:
        """Every report format the plugins provide, by name."""
        if self._formats is None:
            self._formats = self.plugin_manager.collect_report_formats()
        return self._formats

    @property
    def notifiers(self) -> dict[str, Notifier]:
        """Every notifier type the plugins provide (``notify:`` channel types), by name."""
        if self._notifiers is None:
            self._notifiers = self.plugin_manager.collect_notifiers()
        return self._notifiers

    def format_names(self, formats: Iterable[str] | None = None) -> list[str]:
        """``formats`` (default: the config's ``report.formats``), checked: an
        unknown one is a usage error. Call it before :meth:`run` to fail early."""
        wanted = self.config.report.formats if formats is None else formats
        return check_formats(wanted, self.report_formats)

    # --- the inputs, opened once --------------------------------------------

    @property
    def today(self) -> dt.date:
        """The audit date: the config's ``today`` (or its override), else the real date."""
        return self.context.today

    def org(self) -> Org:
        """The org, opened on first use and shared with the run; a failure is kept
        and raised again."""
        return self.context.org()

    def backup(self) -> Any:
        """The Data Export inventory at ``backup.path``, or None when none is set."""
        return self.context.backup()

    # --- running and writing ------------------------------------------------

    def run(self, select: Sequence[str] | None = None) -> AuditReport:
        """Run the selected checks (default: the enabled ones) and return the
        report, also kept as :attr:`report`. Its ``verdict`` is the one verdict
        every front end shows."""
        self.report = run_checks(self.context, self.select(select), self.checks.values())
        return self.report

    def write(
        self, formats: Iterable[str] | None = None, output: str | Path | None = None
    ) -> dict[str, Path]:
        """Write the report of the last :meth:`run` in ``formats`` (default: the
        config's) into ``output`` (default: the config's ``report.output``).

        A writer that fails is a problem on the report (the run is incomplete),
        and the other formats are written again so every file states it.

        :return: the files written, by format.
        """
        if self.report is None:
            raise RuntimeError("Audit.write() needs a report: call Audit.run() first")
        names = self.format_names(formats)
        folder = (
            Path(output) if output is not None else self.config.resolve(self.config.report.output)
        )
        written, _ = write_reports(
            self.report,
            self.report_formats,
            names,
            folder,
            lang=self.config.report.lang,
            title=self.config.report.title,
        )
        return written

    def notify(self) -> list[Delivery]:
        """Tell the config's ``notify:`` channels (and the plugins' ``sfaudit_notify``)
        how the last :meth:`run` went: one message per channel whose ``on:`` matches,
        ``changed`` judged against ``--baseline``. Call it after :meth:`write`.

        Never raises for a channel: a failure is a :class:`~sfaudit.notify.Delivery`
        with status ``failed`` (kept on :attr:`deliveries` too), and the verdict and
        exit code stay as they are.
        """
        if self.report is None:
            raise RuntimeError("Audit.notify() needs a report: call Audit.run() first")
        from .notify import Notification, notify

        baseline = None
        if self.config.baseline:
            import json

            try:
                path = self.config.resolve(self.config.baseline)
                baseline = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                baseline = None  # load_baseline already vetted it; gone since: no "changed"
        notification = Notification.of_report(
            self.report,
            baseline=baseline,
            report_url=self.config.report.url,
            lang=self.config.report.lang,
        )
        self.deliveries = notify(self.plugin_manager, notification, self.config)
        return self.deliveries

    def close(self) -> None:
        """Close the org this audit opened."""
        self.context.close()

    def __enter__(self) -> Audit:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def run_audit(
    config: Config, pm: PluginManager, *, select: Sequence[str] | None = None
) -> AuditReport:
    """Run one audit of ``config`` with ``pm`` and close what it opened: the short
    form of ``Audit(config, pm).run(select)`` for tests and scripts."""
    with Audit(config, pm) as audit:
        return audit.run(select=select)
