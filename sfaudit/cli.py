"""The ``sfaudit`` command line. Heavy imports stay inside the commands so
``sfaudit --help`` is fast."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from .results import FAIL_ON_CHOICES

if TYPE_CHECKING:
    from .config import Config
    from .plugins import PluginManager
    from .results import AuditReport

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_CONFIGS = ("sfaudit.yaml", "sfaudit.yml")
FORMATS_HELP = "html,json,junit,md,csv,ics"


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Print an SfauditError's message (never a traceback) and exit with its code;
    anything unexpected exits 3 (incomplete), never 1 (not ready)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ._redact import redact
        from .errors import SfauditError

        try:
            return func(*args, **kwargs)
        except SfauditError as exc:
            _fail(redact(str(exc)), exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: no report was written", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug, or a failure nobody anticipated: never "not ready"
            logging.getLogger("sfaudit").debug("unexpected error", exc_info=True)
            _fail(
                redact(f"unexpected {type(exc).__name__}: {exc}")
                + "\n  hint: the audit is incomplete; run with -vv for details and report it",
                3,
            )

    return wrapper  # type: ignore[return-value]


def config_option(help: str) -> Callable[[F], F]:
    """The ``-c/--config`` option every command that reads a config shares."""
    return click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), help=help)


#: ``--format table|json``, for the commands that verify one backup on its own.
table_or_json = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _load(config_path: str | None) -> Config:
    from .config import load_config

    if config_path is None:
        for candidate in DEFAULT_CONFIGS:
            if Path(candidate).is_file():
                config_path = candidate
                break
    return load_config(config_path) if config_path else load_config()


def _plugin_manager(config: Config) -> PluginManager:
    from .plugins import get_plugin_manager

    return get_plugin_manager(config.plugin_paths(), config_path=config.path)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  sfaudit demo                                 audit the bundled demo org
  sfaudit init && sfaudit run -c sfaudit.yaml  start your own audit
  sfaudit run --source sf:prod --backup backups/ --fail-on high
  sfaudit explain active-users

Exit codes: 0 ready, 1 not ready, 2 usage or input error, 3 audit incomplete.""",
)
@click.version_option(package_name="sfaudit")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Is this Salesforce org ready to be cancelled? Audit it, with evidence."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from ._redact import install_log_redaction

    install_log_redaction()


def _run_options(func: F) -> F:
    options = [
        config_option("The audit config (YAML). Default: ./sfaudit.yaml if present."),
        click.option("--source", help="Org source: snapshot:PATH, live or sf:ALIAS."),
        click.option(
            "--backup",
            type=click.Path(),
            help="Data Export: folder of WE_*.ZIP, one ZIP or an unpacked folder.",
        ),
        click.option(
            "--today",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            help="Pin the audit date (YYYY-MM-DD) for reproducible runs.",
        ),
        click.option("--select", help="Only these checks, comma-separated ids."),
        click.option(
            "--format", "formats", help=f"Report formats, comma-separated ({FORMATS_HELP})."
        ),
        click.option(
            "-o", "--output", type=click.Path(file_okay=False), help="Folder for the reports."
        ),
        click.option(
            "--fail-on",
            type=click.Choice(FAIL_ON_CHOICES),
            help="Lowest severity of a failing check that makes the run 'not ready'.",
        ),
        click.option(
            "--baseline",
            type=click.Path(dir_okay=False),
            help="An earlier report.json: mark findings new, existing or resolved.",
        ),
        click.option("--lang", type=click.Choice(["en", "nl"]), help="Report language."),
        click.option("-q", "--quiet", is_flag=True, help="Print only the verdict line."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _execute(config: Config, select: list[str] | None, quiet: bool) -> AuditReport:
    """``run`` and ``demo``: one :class:`~sfaudit.audit.Audit`, its report printed."""
    from rich.console import Console

    from .audit import Audit
    from .report.terminal import print_summary

    # Input errors (the config, the baseline, plugin files, no source, an unknown
    # format) exit 2 here, before any check runs.
    with Audit.from_config(config) as audit:
        formats = audit.format_names()
        report = audit.run(select=select)
        written = audit.write(formats)
        deliveries = audit.notify()
    _warn_deliveries(deliveries)
    console = Console(stderr=False, highlight=False, soft_wrap=True)
    if quiet:
        console.print(f"verdict: {report.verdict} (exit {report.exit_code})")
    else:
        print_summary(report, console, written)
    return report


@main.command()
@_run_options
@click.option(
    "--metadata",
    type=click.Path(),
    help="Metadata backup: an MDAPI folder or ZIP, or an SFDX project (metadata.path).",
)
@handle_errors
def run(
    config_path: str | None,
    source: str | None,
    backup: str | None,
    today: dt.datetime | None,
    select: str | None,
    formats: str | None,
    output: str | None,
    fail_on: str | None,
    baseline: str | None,
    lang: str | None,
    quiet: bool,
    metadata: str | None,
) -> None:
    """Run a readiness audit and write its reports.

    \b
    Examples:
      sfaudit run -c checks/readiness.yaml
      sfaudit run -c sfaudit.yaml --source live --format html,json,junit -o reports/
      sfaudit run -c sfaudit.yaml --select notice-deadline,active-users --fail-on high
      sfaudit run -c sfaudit.yaml --baseline reports/last/report.json
    """
    from .config import apply_overrides

    config = _load(config_path)
    apply_overrides(
        config,
        source=source,
        backup=backup,
        metadata=metadata,
        today=today.date() if today else None,
        fail_on=fail_on,
        formats=_split(formats),
        output=output,
        baseline=baseline,
        lang=lang,
    )
    report = _execute(config, _split(select), quiet)
    sys.exit(report.exit_code)


def _warn_deliveries(deliveries: Any) -> None:
    from .notify import warn_failures

    warn_failures(deliveries, lambda line: click.echo(line, err=True))


@main.command()
@click.argument(
    "report_json",
    metavar="[REPORT.json|fleet.json]",
    required=False,
    type=click.Path(dir_okay=False),
)
@config_option("The config whose notify: channels to tell. Default: ./sfaudit.yaml if present.")
@click.option("--test", is_flag=True, help="Send a sample message to every channel.")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    help="An earlier report.json (or fleet.json), for channels with on: [changed].",
)
@handle_errors
def notify(
    report_json: str | None, config_path: str | None, test: bool, baseline: str | None
) -> None:
    """Tell the config's notify: channels: a sample (--test), or an existing report.json.

    `sfaudit run` and `sfaudit fleet` notify by themselves after writing their
    reports; this command checks the channels (--test sends to each, whatever its on:
    says) or notifies later, from a report made earlier (channels whose on: matches):
    a report.json, or the fleet.json of `sfaudit merge` (one message for the whole
    fleet, as `sfaudit fleet` sends). Prints one line per channel.
    Exits 0 when every channel was told (or skipped), 1 when one failed, 2 on bad input.

    \b
    Examples:
      sfaudit notify --test -c sfaudit.yaml
      sfaudit notify reports/report.json -c sfaudit.yaml --baseline last/report.json
      sfaudit notify reports/fleet/fleet.json -c sfaudit.yaml
    """
    from .config import validate_notify
    from .errors import InputError, UsageError
    from .notify import Notification, notify, sample_notification
    from .rollup import Rollup, fleet_problem, report_problem

    if test == (report_json is not None):
        raise UsageError(
            "pass --test or a report.json (one of them)",
            hint="sfaudit notify --test -c sfaudit.yaml",
        )
    config = _load(config_path)
    if not config.notify:
        where = config.path or "the config (none found)"
        raise UsageError(
            f"no notify: channels in {where}",
            hint="add a notify: list to the config (docs/configuration.md), or pass -c",
        )
    pm = _plugin_manager(config)
    validate_notify(config, pm.collect_notifiers())

    def read(path: str, want: str | None = None) -> dict[str, Any]:
        hint = "pass the report.json of `sfaudit run --format json`, or a fleet.json"
        data = _read_json(path, want or "report.json", hint)
        kind = "fleet.json" if "orgs" in data else "report.json"
        if want is not None and kind != want:
            raise InputError(
                f"{path} is a {kind}, and {report_json} a {want}",
                hint=f"compare a {want} with an earlier {want}",
            )
        problem = fleet_problem(data) if kind == "fleet.json" else report_problem(data)
        if problem:
            raise InputError(
                f"{path}: {problem}", hint=f"pass the {kind} sfaudit wrote, as it wrote it"
            )
        return data

    if test:
        note = sample_notification(config.report.url, config.report.lang)
    else:
        assert report_json is not None
        data = read(report_json)
        fleet_json = "orgs" in data
        old = read(baseline, "fleet.json" if fleet_json else "report.json") if baseline else None
        if fleet_json:  # a fleet.json: the roll-up itself
            note = Notification(
                Rollup.from_dict(data),
                baseline=Rollup.from_dict(old) if old else None,
                report_url=config.report.url,
                lang=config.report.lang,
            )
        else:
            note = Notification.of_report(
                data, baseline=old, report_url=config.report.url, lang=config.report.lang
            )
    deliveries = notify(pm, note, config)
    for delivery in deliveries:
        click.echo(delivery.line())
    _warn_deliveries(deliveries)
    sys.exit(0 if all(d.ok for d in deliveries) else 1)


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    default="reports",
    show_default=True,
    help="Folder for the reports.",
)
@click.option("--format", "formats", help=f"Report formats, comma-separated ({FORMATS_HELP}).")
@click.option("--lang", type=click.Choice(["en", "nl"]), help="Report language.")
@handle_errors
def demo(output: str, formats: str | None, lang: str | None) -> None:
    """Audit the bundled demo org (Acme Corp), end to end.

    Exits 0 when the audit ran, whatever its verdict: the demo org is meant to
    show findings. `sfaudit run` exits with the verdict's code.

    \b
    Example:
      sfaudit demo -o reports/ && open reports/readiness.html
    """
    from .config import apply_overrides
    from .demo import prepare_demo

    config = prepare_demo(Path(output))
    apply_overrides(config, output=output, formats=_split(formats), lang=lang)
    report = _execute(config, None, False)
    click.echo(
        f"demo finished: a real `sfaudit run` would exit {report.exit_code} ({report.verdict})."
    )
    sys.exit(0 if report.exit_code in (0, 1) else report.exit_code)


@main.command()
@click.option(
    "-c",
    "--config",
    "fleet_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The fleet file (YAML): defaults, orgs, report, concurrency.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Pin the audit date (YYYY-MM-DD) of every org.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Folder for the roll-up; each org's reports go into OUTPUT/NAME/.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="Orgs audited at once, each in a process. Default: the fleet file's (2).",
)
@click.option("--only", help="Only these orgs, comma-separated names.")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    help="An earlier fleet.json, for notify: channels with on: [changed].",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the fleet's verdict line.")
@handle_errors
def fleet(
    fleet_path: str,
    today: dt.datetime | None,
    output: str | None,
    concurrency: int | None,
    only: str | None,
    baseline: str | None,
    quiet: bool,
) -> None:
    """Audit many orgs at once, each in a process of its own, and write a roll-up
    (fleet.html, fleet.json, fleet.md) with one row per org.

    Each org's reports go into OUTPUT/NAME/. For `source: live` an org reads its
    credentials from variables prefixed with its name (org `us-legacy`:
    US_LEGACY_SF_USERNAME, US_LEGACY_SF_ACCESS_TOKEN, ...); unprefixed SF_* variables
    are never passed to any org. An org that cannot be audited is incomplete and
    the others go on. Exits with the worst org's code; a fleet file error exits 2
    before anything runs. Each notify: channel (of the fleet file, else of the
    defaults config) gets one message about the whole fleet; a channel that fails
    is a warning and changes no exit code.

    \b
    Examples:
      sfaudit fleet -c fleet.yaml
      sfaudit fleet -c fleet.yaml --today 2026-11-26 -o reports/fleet/ --concurrency 4
      sfaudit fleet -c fleet.yaml --only emea-prod,us-legacy
    """
    from rich.console import Console

    from .fleet import load_fleet, run_fleet
    from .report.terminal import FleetProgress, print_rollup

    loaded = load_fleet(fleet_path)
    selected = _split(only)
    loaded.select(selected)
    old = _read_rollup(baseline) if baseline else None
    with FleetProgress(Console(stderr=True, highlight=False, soft_wrap=True)) as progress:
        done = run_fleet(
            loaded,
            today=today.date() if today else None,
            output=Path(output) if output else None,
            concurrency=concurrency,
            only=selected,
            on_event=progress.event,
            baseline=old,
        )
    console = Console(highlight=False, soft_wrap=True)
    if quiet:
        console.print(f"fleet verdict: {done.rollup.verdict} (exit {done.exit_code})")
    else:
        print_rollup(done.rollup, console, done.written)
    _warn_deliveries(done.deliveries)
    sys.exit(done.exit_code)


def _read_json(path: str, what: str, hint: str) -> dict[str, Any]:
    import json

    from .errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}", hint=hint) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        words = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InputError(f"{path}: cannot read the {what}: {words}", hint=hint) from None
    if not isinstance(data, dict) or data.get("schema_version") != 1:
        raise InputError(f"{path} is not an sfaudit {what} (schema_version 1)", hint=hint)
    return data


def _read_rollup(path: str) -> Any:
    from .errors import InputError
    from .rollup import Rollup, fleet_problem

    hint = "pass the fleet.json written by `sfaudit fleet` or `sfaudit merge`"
    data = _read_json(path, "fleet.json", hint)
    if not isinstance(data.get("orgs"), list):
        raise InputError(f"{path} is not an sfaudit fleet.json (no orgs list)", hint=hint)
    problem = fleet_problem(data)
    if problem:
        raise InputError(f"{path}: {problem}", hint=hint)
    return Rollup.from_dict(data)


@main.command()
@click.argument("reports", nargs=-1, type=click.Path())
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for the roll-up (fleet.html, fleet.json, fleet.md).",
)
@click.option(
    "--format", "formats", help="Roll-up formats, comma-separated (html,json,md). Default: all."
)
@click.option(
    "--names",
    type=click.Choice(["folder", "org"]),
    default="folder",
    show_default=True,
    help="Name each org by its report's folder, or by the org's name in the report.",
)
@click.option(
    "--expect",
    help="Orgs that must be in the roll-up, comma-separated: one without a report "
    "(its job failed before writing one) is incomplete.",
)
@click.option("--lang", type=click.Choice(["en", "nl"]), default="en", help="Roll-up language.")
@click.option("--title", help="The roll-up's title.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the fleet's verdict line.")
@handle_errors
def merge(
    reports: tuple[str, ...],
    output: str,
    formats: str | None,
    names: str,
    expect: str | None,
    lang: str,
    title: str | None,
    quiet: bool,
) -> None:
    """Build the fleet roll-up from report.json files made elsewhere, e.g. by the
    jobs of a CI matrix: the same roll-up `sfaudit fleet` writes. Exits with the
    worst org's code.

    \b
    Examples:
      sfaudit merge reports/*/report.json -o reports/fleet/
      sfaudit merge artifacts/*/report.json -o fleet/ --format md,json --names org
      sfaudit merge reports/*/report.json -o fleet/ --expect emea-prod,us-legacy,apac
    """
    from rich.console import Console

    from .fleet import merge_reports
    from .report.fleet import ROLLUP_FILES, check_formats, write_rollup
    from .report.terminal import print_rollup

    wanted = check_formats(_split(formats) or list(ROLLUP_FILES))
    folder = Path(output)
    rollup = merge_reports(list(reports), folder, names=names, expect=_split(expect) or ())
    written = write_rollup(rollup, folder, wanted, lang=lang, title=title)
    console = Console(highlight=False, soft_wrap=True)
    if quiet:
        console.print(f"fleet verdict: {rollup.verdict} (exit {rollup.exit_code})")
    else:
        print_rollup(rollup, console, written)
    sys.exit(rollup.exit_code)


@main.command("list-checks")
@config_option("Config whose plugins to load.")
@handle_errors
def list_checks(config_path: str | None) -> None:
    """List every check the installed plugins provide.

    \b
    Example:
      sfaudit list-checks -c sfaudit.yaml
    """
    from rich.console import Console
    from rich.table import Table

    from .config import check_enabled

    config = _load(config_path)
    pm = _plugin_manager(config)
    checks = pm.collect_checks()
    table = Table()
    for col in ("id", "severity", "enabled", "plugin", "title"):
        table.add_column(col)
    for spec in checks.values():
        table.add_row(
            spec.id,
            str(spec.severity),
            "yes" if check_enabled(config, spec.id) else "no",
            spec.plugin,
            spec.title,
        )
    Console(highlight=False, soft_wrap=True).print(table)
    for problem in pm.problems:
        click.echo(f"problem: {problem}", err=True)


@main.command()
@click.argument("check_id")
@config_option("Config whose plugins to load.")
@handle_errors
def explain(check_id: str, config_path: str | None) -> None:
    """Explain a check: what it checks, why it matters, how to fix its findings.

    \b
    Example:
      sfaudit explain notice-deadline
    """
    from .config import did_you_mean
    from .errors import UsageError

    config = _load(config_path)
    checks = _plugin_manager(config).collect_checks()
    spec = checks.get(check_id)
    if spec is None:
        hint = did_you_mean(check_id, checks) or "`sfaudit list-checks` shows the checks"
        raise UsageError(f"unknown check {check_id!r}", hint=hint)
    click.echo(f"{spec.id}: {spec.title}")
    click.echo(f"severity: {spec.severity}    plugin: {spec.plugin}")
    if spec.explain:
        click.echo("\n" + spec.explain)
    if spec.fix:
        click.echo("\nHow to fix:\n" + spec.fix)
    if spec.options:
        click.echo("\nOptions (under checks." + spec.id + " in the config):")
        for key, default in spec.options.items():
            click.echo(f"  {key}: {default!r}")
    click.echo("  severity, enabled, timeout, title: accepted by every check")


@main.command()
@click.argument("path", default="sfaudit.yaml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@handle_errors
def init(path: str, force: bool) -> None:
    """Write a commented starter config (default: ./sfaudit.yaml).

    \b
    Example:
      sfaudit init && sfaudit run -c sfaudit.yaml
    """
    from .config import STARTER_CONFIG
    from .errors import UsageError

    target = Path(path)
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", hint="pass --force to overwrite it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(STARTER_CONFIG.format(name=target.name), encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write {target}: {exc.strerror}", hint="choose a writable path"
        ) from None
    click.echo(f"wrote {target}; edit the contract dates and run: sfaudit run -c {target}")


@main.command()
@config_option("Config whose plugins to load.")
@handle_errors
def plugins(config_path: str | None) -> None:
    """List the loaded plugins, where they come from, and what they provide.

    \b
    Example:
      sfaudit plugins -c sfaudit.yaml
    """
    from rich.console import Console
    from rich.table import Table

    config = _load(config_path)
    pm = _plugin_manager(config)
    pm.collect_checks()
    formats = pm.collect_report_formats()
    notifiers = pm.collect_notifiers()
    table = Table()
    for col in ("plugin", "origin", "version", "provides"):
        table.add_column(col)
    for name, info in pm.infos.items():
        plugin = pm.get_plugin(name)
        hooks = (
            sorted(h.name.removeprefix("sfaudit_") for h in (pm.get_hookcallers(plugin) or []))
            if plugin is not None
            else []
        )
        provides = []
        if info.checks:
            provides.append("checks: " + ", ".join(info.checks))
        fmts = [f.name for f in formats.values() if f.plugin == name]
        if fmts:
            provides.append("formats: " + ", ".join(fmts))
        kinds = [n.name for n in notifiers.values() if n.plugin == name]
        if kinds:
            provides.append("notifiers: " + ", ".join(kinds))
        registers = ("register_checks", "register_report_formats", "register_notifiers")
        other = [h for h in hooks if h not in registers]
        if other:
            provides.append("hooks: " + ", ".join(other))
        if info.error:
            provides.append(f"FAILED: {info.error}")
        table.add_row(name, info.origin, info.version, "; ".join(provides))
    Console(highlight=False, soft_wrap=True).print(table)
    for problem in pm.problems:
        click.echo(f"problem: {problem}", err=True)


@main.command()
@handle_errors
def doctor() -> None:
    """Show what sfaudit runs with: its version, Python, and the Salesforce CLI
    (`sf`, for --source sf:ALIAS). Never fails when something is missing.

    \b
    Example:
      sfaudit doctor
    """
    import platform
    from importlib.metadata import version

    from .sources import _sfcli

    click.echo(f"sfaudit {version('sfaudit')} (Python {platform.python_version()})")
    for line in _sfcli.doctor_lines():
        click.echo(line)


@main.command()
@config_option("The audit config: its org settings, custodians and enabled checks.")
@click.option("--source", help="Org to record: live (SF_* variables) or sf:ALIAS.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the snapshot (JSON).",
)
@handle_errors
def snapshot(config_path: str | None, source: str | None, output: str) -> None:
    """Record an org into an offline snapshot: audit it again later without credentials.

    The snapshot holds every section the checks read (users, licences, objects,
    queues, record ownership for the config's custodians, scheduled jobs) and the
    answers to the queries the enabled checks make. It never holds credentials.

    \b
    Examples:
      sfaudit snapshot --source live -c sfaudit.yaml -o org.json
      sfaudit snapshot --source sf:prod -o org.json
      sfaudit run -c sfaudit.yaml --source snapshot:org.json
    """
    from .config import apply_overrides
    from .errors import UsageError
    from .recording import record_snapshot

    config = _load(config_path)
    apply_overrides(config, source=source)
    if not config.org.source:
        raise UsageError("no org to record", hint="pass --source live or --source sf:ALIAS")
    recording = record_snapshot(config, _plugin_manager(config), Path(output))
    data = recording.data
    parts = [
        f"{len(data.users)} users" if data.users is not None else None,
        f"{len(data.objects)} objects" if data.objects is not None else None,
        f"{len(data.ownership)} ownership rows" if data.ownership is not None else None,
        f"{len(data.queries)} queries",
    ]
    click.echo(
        f"recorded {data.info.name} ({data.info.id}) to {recording.path}: "
        + ", ".join(p for p in parts if p)
    )
    if "api_requests" in recording.metrics:
        click.echo(f"API requests used: {recording.metrics['api_requests']}")
    for problem in recording.missing:
        click.echo(f"not recorded: {problem}", err=True)
    if recording.missing:
        sys.exit(3)


@main.command("verify-backup")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--counts",
    type=click.Path(dir_okay=False),
    help="A snapshot (org.json) whose record counts the export must match.",
)
@click.option("--source", help="Compare with an org: snapshot:PATH, live or sf:ALIAS.")
@config_option("Config for backup.path, the org source and the check's options.")
@table_or_json
@click.option(
    "--encoding",
    help="The export's encoding (Data Export setting): auto (detect each CSV's, the default), "
    "utf-8, iso-8859-1, windows-1252...",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1, max_open=True),
    help="Allowed shortfall against the org's counts. Default 0.005.",
)
@click.option(
    "--files/--no-files",
    "require_files",
    default=None,
    help="Require attachment, document and content-version files. Default on.",
)
@click.option("--max-age-days", type=click.IntRange(0), help="Fail when the export is older.")
@click.option("--expected-parts", type=click.IntRange(1), help="The number of WE_*.ZIP parts.")
@click.option(
    "--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Pin the date (YYYY-MM-DD)."
)
@click.option(
    "-j", "--workers", type=click.IntRange(1), help="Processes to use. Default: every core."
)
@handle_errors
def verify_backup(
    paths: tuple[str, ...],
    counts: str | None,
    source: str | None,
    config_path: str | None,
    fmt: str,
    encoding: str | None,
    tolerance: float | None,
    require_files: bool | None,
    max_age_days: int | None,
    expected_parts: int | None,
    today: dt.datetime | None,
    workers: int | None,
) -> None:
    """Verify a Data Export on its own: every part's CRCs, exact record counts per
    object, attachment files; with --counts or --source, against the org's counts.

    PATH is a folder of WE_<orgid>_<n>.ZIP parts, one ZIP, an unpacked folder, or
    several ZIPs of one export. Exits 0 when complete, 1 when not, 2 on bad input.

    \b
    Examples:
      sfaudit verify-backup backups/2026-11-20/
      sfaudit verify-backup WE_00D5g000000ACMEEA2_*.ZIP --counts org.json
      sfaudit verify-backup backups/latest/ --source sf:prod --format json > backup.json
      sfaudit verify-backup -c sfaudit.yaml          # backup.path and org from the config
    """
    from rich.console import Console

    from .backup.verify import VerifyOptions, exit_code, print_table, to_json, verify
    from .errors import DataUnavailable, InputError, UsageError

    config = _load(config_path) if config_path or source else None
    targets = list(paths)
    if not targets and config is not None and config.backup.path:
        targets = [str(config.resolve(config.backup.path))]
    if not targets:
        raise UsageError("no export to verify", hint="pass PATH, or -c CONFIG with backup.path")
    if counts and source:
        raise UsageError("--counts and --source both name an org", hint="pass one of them")
    audit = None
    if counts or source or (config is not None and config.org.source):
        from .audit import Audit

        spec = f"snapshot:{Path(counts).resolve()}" if counts else source
        audit = Audit.from_config(config, {"source": spec}, source_flag=None)
        config = audit.config
    options = VerifyOptions.from_config(
        config,
        encoding=_encoding(encoding) if encoding else None,
        tolerance=tolerance,
        require_files=require_files,
        max_age_days=max_age_days,
        expected_parts=expected_parts,
        workers=workers,
        today=today.date() if today else None,
    )
    try:
        result, evaluation = verify(targets, options, audit.org() if audit else None)
    except DataUnavailable as exc:
        raise InputError(
            f"the org's record counts are not available: {exc}",
            hint="record the snapshot again with `sfaudit snapshot`, or drop --counts",
        ) from None
    finally:
        if audit is not None:
            audit.close()
    if fmt == "json":
        click.echo(to_json(result, evaluation))
        if result.backend_note:  # also in scan.backend_note; stderr keeps stdout pure JSON
            click.echo(f"note: {result.backend_note}", err=True)
    else:
        print_table(result, evaluation, Console(highlight=False, soft_wrap=True))
    sys.exit(exit_code(evaluation))


@main.command("verify-metadata")
@click.argument("path", required=False, type=click.Path())
@click.option("--source", help="The org: snapshot:PATH, live or sf:ALIAS.")
@config_option("Config for metadata.path, the org source and the check's options.")
@table_or_json
@click.option(
    "--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Pin the date (YYYY-MM-DD)."
)
@handle_errors
def verify_metadata(
    path: str | None,
    source: str | None,
    config_path: str | None,
    fmt: str,
    today: dt.datetime | None,
) -> None:
    """Verify a metadata backup on its own: every component of the org (per type in
    checks.metadata-backup.types) must have its file in the backup.

    PATH is an MDAPI folder or ZIP (package.xml + classes/...) or an SFDX project
    (sfdx-project.json). Exits 0 when covered, 1 when not, 2 on bad input.

    \b
    Examples:
      sfaudit verify-metadata backups/metadata/ --source sf:prod
      sfaudit verify-metadata retrieve.zip --source snapshot:org.json --format json
      sfaudit verify-metadata -c sfaudit.yaml        # metadata.path and org from the config
    """
    from rich.console import Console

    from .config import apply_overrides, require_source
    from .errors import UsageError
    from .metadata.evaluate import MetadataOptions
    from .metadata.verify import exit_code, print_table, to_json, verify
    from .runner import open_org

    config = _load(config_path)
    apply_overrides(config, source=source, metadata=path)
    if not config.metadata.path:
        raise UsageError(
            "no metadata backup to verify", hint="pass PATH, or -c CONFIG with metadata.path"
        )
    require_source(config)
    options = MetadataOptions.from_config(config, today=today.date() if today else None)
    org = open_org(config, _plugin_manager(config))
    try:
        backup, evaluation = verify(config.resolve(config.metadata.path), options, org)
    finally:
        org.close()
    if fmt == "json":
        click.echo(to_json(backup, evaluation))
    else:
        print_table(backup, evaluation, Console(highlight=False, soft_wrap=True))
    sys.exit(exit_code(evaluation))


def _encoding(value: str) -> str:
    from .backup.csvcount import normalize_encoding
    from .errors import UsageError

    try:
        return normalize_encoding(value)
    except ValueError as exc:
        raise UsageError(
            f"--encoding: {exc}",
            hint="use auto (detect), utf-8, utf-16, iso-8859-1 or windows-1252",
        ) from None


if __name__ == "__main__":  # pragma: no cover
    main()
