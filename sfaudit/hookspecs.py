"""Every hook sfaudit calls, and the two markers plugins use.

A plugin is a module (or object) with functions named after these specs and
marked with :data:`hookimpl`. Hooks are always called with keyword arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .config import Config
    from .fixtures import FixtureDef
    from .notify import Delivery, Notification, Notifier
    from .registry import CheckSpec
    from .report import ReportFormat
    from .results import AuditReport, CheckResult
    from .sources import Org

hookspec = pluggy.HookspecMarker("sfaudit")
hookimpl = pluggy.HookimplMarker("sfaudit")


# -------------------------------------------------------------------------
# Registration: what plugins contribute
# -------------------------------------------------------------------------


@hookspec
def sfaudit_register_checks() -> list[CheckSpec | Callable[..., Any]]:
    """Contribute checks beyond those found in the plugin module itself.

    Checks defined in a plugin module (``@check`` functions and plain
    ``check_*`` functions) are discovered without this hook; use it for checks
    built at run time, such as one per entry of an external list.

    :return: a list of :class:`~sfaudit.registry.CheckSpec` or check functions.
    """


@hookspec
def sfaudit_register_fixtures() -> list[FixtureDef | Callable[..., Any]]:
    """Contribute fixtures that checks receive by parameter name.

    :return: functions marked with :func:`sfaudit.fixture` (or
        :class:`~sfaudit.fixtures.FixtureDef` objects). A fixture asks for other
        fixtures by its own parameter names.
    """


@hookspec
def sfaudit_register_report_formats() -> list[ReportFormat]:
    """Contribute report formats (``html``, ``json``, ...).

    :return: a list of :class:`~sfaudit.report.ReportFormat`, each with a name,
        a default file name and a writer.
    """


@hookspec
def sfaudit_register_notifiers() -> list[Notifier]:
    """Contribute notifier types: the ``type:`` values of the config's ``notify:`` channels.

    The built-in ``slack``, ``teams``, ``webhook`` and ``email`` types come from this
    hook too. A channel's keys other than the common ones go under ``options:``.

    :return: a list of :class:`~sfaudit.notify.Notifier`, each with a name, the
        channel keys it requires and ``send(message, channel, transport)``.
    """


# -------------------------------------------------------------------------
# Reading the org and the backup
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def sfaudit_org_source(spec: str, config: Config) -> Org | None:
    """Open the org named by ``spec`` (``snapshot:PATH``, ``live``, ``sf:ALIAS``...).

    Stops at the first non-None result.

    :param spec: the ``--source`` value or the config's ``org.source``.
    :param config: the validated config.
    :return: a read-only :class:`~sfaudit.sources.Org`, or None if this plugin
        does not handle ``spec``.
    """


@hookspec(firstresult=True)
def sfaudit_open_backup(path: Path, config: Config) -> Any | None:
    """Open the Data Export at ``path`` (a folder of ZIPs, one ZIP, or an unpacked folder).

    Stops at the first non-None result.

    :param path: where the export is.
    :param config: the validated config.
    :return: a backup inventory object (the ``backup`` fixture), or None.
    """


# -------------------------------------------------------------------------
# Running checks
# -------------------------------------------------------------------------


@hookspec
def sfaudit_run_started(config: Config, checks: list[CheckSpec], today: dt.date) -> None:
    """Called once before the first check runs.

    :param config: the validated config.
    :param checks: the checks selected to run, in order.
    :param today: the audit date.
    """


@hookspec(firstresult=True)
def sfaudit_call_check(spec: CheckSpec, kwargs: Mapping[str, Any]) -> Any:
    """Call one check function with its resolved fixtures.

    Stops at the first non-None result. The built-in implementation calls
    ``spec.func(**kwargs)``; a generator it returns is drained inside the
    call, so a ``wrapper=True`` implementation that times, traces or limits the
    check sees the whole run.

    :param spec: the check to call.
    :param kwargs: fixture values by parameter name.
    :return: what the check returned (None, or an iterable of findings).
    """


@hookspec
def sfaudit_check_finished(result: CheckResult) -> None:
    """Called after each check, with its result before waivers and the baseline.

    :param result: the check's result.
    """


@hookspec
def sfaudit_amend_results(report: AuditReport, config: Config) -> None:
    """Adjust results after every check ran: waivers, baselines, severity maps.

    Implementations change ``report`` in place; each check's status is
    recomputed afterwards.

    :param report: the audit report so far.
    :param config: the validated config.
    """


@hookspec
def sfaudit_run_finished(report: AuditReport) -> None:
    """Called once with the final report, before reports are written.

    :param report: the final audit report.
    """


# -------------------------------------------------------------------------
# After the reports
# -------------------------------------------------------------------------


@hookspec
def sfaudit_notify(report: Notification, config: Config) -> list[Delivery] | None:
    """Called once after the reports are written, and after the configured ``notify:``
    channels were told, to notify by other means.

    ``report`` is a roll-up, so a plugin handles one audit (``sfaudit run``: one row)
    and a fleet (one row per org, one call per fleet) alike. An implementation that
    raises is a failed delivery: a warning, never a change of the verdict.

    :param report: a :class:`~sfaudit.notify.Notification`: ``report.rollup``
        (:class:`~sfaudit.rollup.Rollup`: verdict, one row per org with its blocking
        checks and finding counts, deadline and days left), ``report.baseline`` (the
        roll-up of ``--baseline``, or None), ``report.report_url`` and ``report.sample``.
    :param config: the validated config (a fleet's defaults config).
    :return: a :class:`~sfaudit.notify.Delivery` per message sent (``sfaudit run``
        prints failures as warnings), or None.
    """
