"""Fleets: many orgs audited at once, each in a process of its own, with one roll-up.

``sfaudit fleet -c fleet.yaml`` reads a fleet file (:func:`load_fleet`), runs one
:class:`~sfaudit.audit.Audit` per org in a child process with an environment built
for that org alone (:func:`org_environment`), and writes the roll-up
(:mod:`sfaudit.report.fleet`). ``sfaudit merge`` builds the same roll-up from
``report.json`` files made elsewhere (:func:`merge_reports`). Both read each org's
``report.json`` through :func:`sfaudit.rollup.row_from_report`, so they agree.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from ._redact import SECRET_ENV_VARS, add_secret, redact
from ._yaml import KeyPath, dotted, line_for, load_with_lines
from .config import (
    Config,
    NotifyConfig,
    _config_error,
    _http,
    did_you_mean,
    load_config,
    read_yaml_text,
    validate_channels,
    validate_checks,
    validate_notify,
)
from .errors import ConfigError, InputError, UsageError
from .report.fleet import ROLLUP_FILES, write_rollup
from .rollup import OrgRow, Rollup, incomplete_row, report_problem, row_from_report

if TYPE_CHECKING:
    from .notify import Delivery

FLEET_VERSION = 1
DEFAULT_CONCURRENCY = 2
#: Keys of an org entry besides the normal config keys it may override.
ORG_KEYS = ("name", "source", "config")
_GLOB = re.compile(r"[*?\[]")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,62}")
#: Credential variables of some org outside this fleet (``PARTNER_SF_PASSWORD``): never passed on.
_PREFIXED_CREDENTIAL = re.compile(
    r"[A-Za-z0-9_]+_SF_(?:USERNAME|PASSWORD|SECURITY_TOKEN|DOMAIN|INSTANCE_URL|ACCESS_TOKEN|"
    r"CONSUMER_KEY|CONSUMER_SECRET|JWT_KEY_FILE|SESSION_ID|LOGIN_URL)"
)
log = logging.getLogger("sfaudit.fleet")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _all_formats() -> list[Literal["html", "json", "md"]]:
    return ["html", "json", "md"]


class FleetReportConfig(_Model):
    output: str = "reports/fleet"
    """The roll-up's folder; each org's reports go into ``<output>/<name>/``."""
    formats: list[Literal["html", "json", "md"]] = Field(default_factory=_all_formats, min_length=1)
    lang: Literal["en", "nl"] = "en"
    title: str | None = None
    url: str | None = None
    """Where the roll-up is published: notifications link it (and each org's report
    relative to it)."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _http(value)


class FleetFile(_Model):
    version: Literal[1] = 1
    defaults: str | None = None
    """A normal config every org starts from (relative to the fleet file)."""
    concurrency: StrictInt = Field(default=DEFAULT_CONCURRENCY, ge=1, le=64)
    org_timeout_s: float | None = Field(default=None, gt=0, le=86400)
    """Stop an org's audit after this many seconds: it is ``incomplete``, the others go on."""
    orgs: list[Any] = Field(min_length=1)
    report: FleetReportConfig = Field(default_factory=FleetReportConfig)
    notify: list[NotifyConfig] | None = None
    """Notification channels; each gets one roll-up message (see :func:`notify_fleet`)."""


@dataclass
class FleetOrg:
    """One org of a fleet: its name and its whole config (defaults + overrides)."""

    name: str
    config: Config
    line: int | None = None

    @property
    def prefix(self) -> str:
        return env_prefix(self.name)


@dataclass
class Fleet:
    """A validated fleet file. Paths are absolute."""

    path: str
    orgs: list[FleetOrg]
    concurrency: int = DEFAULT_CONCURRENCY
    org_timeout_s: float | None = None
    output: Path = Path("reports/fleet")
    formats: list[str] = field(default_factory=lambda: list(ROLLUP_FILES))
    lang: str = "en"
    title: str | None = None
    notify: list[NotifyConfig] = field(default_factory=list)
    """The channels told of the roll-up: the fleet file's ``notify:``, else the
    defaults config's (validated against the notifier types when the file is loaded)."""
    defaults: Config | None = None
    url: str | None = None
    """``report.url``: where the roll-up is published."""

    def org(self, name: str) -> FleetOrg:
        for org in self.orgs:
            if org.name == name:
                return org
        raise KeyError(name)

    def select(self, names: Sequence[str] | None) -> list[FleetOrg]:
        """The orgs named (all when None); an unknown name is a usage error."""
        if not names:
            return list(self.orgs)
        known = [o.name for o in self.orgs]
        for name in names:
            if name not in known:
                hint = did_you_mean(name, known) or f"the fleet's orgs: {', '.join(known)}"
                raise UsageError(f"--only: no org {name!r} in {self.path}", hint=hint)
        return [o for o in self.orgs if o.name in names]


# --- per-org credentials -----------------------------------------------------------


def env_prefix(name: str) -> str:
    """The prefix of an org's variables: ``us-legacy`` reads ``US_LEGACY_SF_*``."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper() + "_"


def org_environment(
    name: str,
    names: Iterable[str],
    environ: Mapping[str, str] | None = None,
    withhold: Iterable[str] = (),
) -> dict[str, str]:
    """The environment of org ``name``'s process, built from ``environ``: no ``SF_*``
    variable passes as it is, this org's ``<PREFIX>SF_*`` become its ``SF_*``, and
    every other org's (any ``*_SF_<credential>``) are left out.

    A variable belongs to the org with the longest prefix that matches it, so org
    ``us`` never reads org ``us-sf``'s ``US_SF_SF_PASSWORD``.

    :param withhold: secrets the org's process has no use for (the notification
        channels' URLs and passwords): a variable holding one is left out.
    """
    environ = os.environ if environ is None else environ
    prefixes = {env_prefix(n) + "SF_": n for n in {*names, name}}
    held = {s for s in withhold if len(s) >= 4}
    env: dict[str, str] = {}
    mapped: dict[str, str] = {}
    for key, value in environ.items():
        if value in held or any(s in value for s in held if len(s) >= 8):
            continue
        owners = [p for p in prefixes if key.upper().startswith(p) and len(key) > len(p)]
        if owners:
            owner = prefixes[max(owners, key=len)]
            if owner == name:
                mapped["SF_" + key[len(max(owners, key=len)) :]] = value
            continue
        if key.upper().startswith("SF_") or _PREFIXED_CREDENTIAL.fullmatch(key.upper()):
            continue
        env[key] = value
    env.update(mapped)
    return env


def channel_secrets(fleet: Fleet) -> set[str]:
    """The secrets of every notification channel the fleet's files name: the fleet
    file's, the defaults config's and each org's own config's."""
    channels = [*fleet.notify, *(fleet.defaults.notify if fleet.defaults else [])]
    channels += [c for org in fleet.orgs for c in org.config.notify]
    return {s for c in channels for s in c.secrets()}


def fleet_secrets(names: Iterable[str], environ: Mapping[str, str] | None = None) -> set[str]:
    """The values of every org's prefixed secret variables (for redaction here)."""
    environ = os.environ if environ is None else environ
    found = set()
    for name in names:
        prefix = env_prefix(name)
        for var in SECRET_ENV_VARS:
            value = environ.get(prefix + var, "")
            if len(value) >= 4:
                found.add(value)
    return found


# --- the fleet file ----------------------------------------------------------------


def load_fleet(path: str | Path, env: Mapping[str, str] | None = None) -> Fleet:
    """Read and validate a fleet file and every org's config; errors name file:line
    and the key (``orgs[1].contract.end_date``), before anything runs."""
    filename = str(path)
    p = Path(path)
    text = read_yaml_text(p, "fleet file", "see docs/fleet.md for an example")
    data, lines = (None, {}) if not text.strip() else load_with_lines(text, filename, env)
    if not isinstance(data, dict):
        raise ConfigError(
            "a fleet file is a mapping with version, orgs and report",
            file=filename,
            line=1,
            hint="see docs/fleet.md for an example",
        )
    _known(data, (), FleetFile.model_fields, filename, lines)
    if isinstance(data.get("report"), dict):
        _known(data["report"], ("report",), FleetReportConfig.model_fields, filename, lines)
    if data.get("version", FLEET_VERSION) != FLEET_VERSION:
        raise ConfigError(
            f"unsupported fleet file version {data.get('version')!r}; "
            f"this sfaudit reads version {FLEET_VERSION}",
            file=filename,
            line=lines.get(("version",)),
            key="version",
            hint="set version: 1",
        )
    try:
        model = FleetFile.model_validate(data)
    except ValidationError as exc:
        error = _config_error(exc, filename, lines)
        if error.key == "orgs":
            error = ConfigError(
                "lists no orgs",
                file=filename,
                line=error.line,
                key="orgs",
                hint="list the orgs to audit, each with a name and a source",
            )
        raise error from None
    base_dir = p.resolve().parent
    defaults = None
    if model.defaults:
        defaults = load_config(_resolve(base_dir, model.defaults), env=env)
    orgs: list[FleetOrg] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(model.orgs):
        org = _load_org(i, entry, defaults, base_dir, filename, lines, env)
        for other, j in seen.items():
            same = other.lower() == org.name.lower()
            if same or env_prefix(other) == env_prefix(org.name):
                why = (
                    "appears twice"
                    if other == org.name
                    else f"clashes with {other!r} (orgs[{j}])"
                    + (" as a folder name" if same else f": both read {env_prefix(other)}SF_*")
                )
                raise ConfigError(
                    f"org name {org.name!r} {why}",
                    file=filename,
                    line=line_for(lines, ("orgs", i, "name")),
                    key=f"orgs[{i}].name",
                    hint="give every org a name of its own",
                )
        seen[org.name] = i
        orgs.append(org)
    channels = _channels(model, defaults, filename, lines)
    return Fleet(
        path=filename,
        orgs=orgs,
        concurrency=model.concurrency,
        org_timeout_s=model.org_timeout_s,
        output=_resolve(base_dir, model.report.output),
        formats=list(dict.fromkeys(model.report.formats)),
        lang=model.report.lang,
        title=model.report.title,
        notify=channels,
        defaults=defaults,
        url=model.report.url,
    )


def _channels(
    model: FleetFile, defaults: Config | None, filename: str, lines: Mapping[KeyPath, int]
) -> list[NotifyConfig]:
    """The fleet's channels, checked against the notifier types its plugins register:
    the fleet file's ``notify:`` if it has one, else the defaults config's."""
    if not model.notify and not (defaults and defaults.notify):
        return []
    from .plugins import get_plugin_manager

    pm = get_plugin_manager(
        defaults.plugin_paths() if defaults else [],
        config_path=defaults.path if defaults else None,
    )
    notifiers = pm.collect_notifiers()
    if model.notify:

        def error(message: str, *path: str | int, hint: str | None = None) -> ConfigError:
            return ConfigError(
                message, file=filename, line=line_for(lines, path), key=dotted(path), hint=hint
            )

        validate_channels(model.notify, notifiers, error, ("notify",))
        return list(model.notify)
    assert defaults is not None
    validate_notify(defaults, notifiers)
    return list(defaults.notify)


def _known(
    data: Mapping[str, Any],
    where: KeyPath,
    known: Iterable[str],
    filename: str,
    lines: Mapping[KeyPath, int],
) -> None:
    """Unknown keys are errors with a did-you-mean hint."""
    choices = list(known)
    for key in data:
        if key not in choices:
            path = (*where, key)
            raise ConfigError(
                f"unknown key {key!r}",
                file=filename,
                line=line_for(lines, path),
                key=dotted(path),
                hint=did_you_mean(str(key), choices) or f"known keys here: {', '.join(choices)}",
            )


def _config_keys() -> list[str]:
    return [n for n, f in Config.model_fields.items() if not f.exclude and n != "version"]


def _load_org(
    i: int,
    entry: Any,
    defaults: Config | None,
    base_dir: Path,
    filename: str,
    lines: Mapping[KeyPath, int],
    env: Mapping[str, str] | None,
) -> FleetOrg:
    where: KeyPath = ("orgs", i)

    def error(message: str, *path: str | int, hint: str | None = None) -> ConfigError:
        full = (*where, *path)
        return ConfigError(
            message, file=filename, line=line_for(lines, full), key=dotted(full), hint=hint
        )

    if not isinstance(entry, dict):
        raise error(
            "each org is a mapping with at least a name and a source",
            hint="write each org as - {name: emea-prod, source: live}",
        )
    _known(entry, where, [*ORG_KEYS, *_config_keys()], filename, lines)
    if "notify" in entry:
        raise error(
            "an org has no channels of its own: the fleet tells each channel once, of every org",
            "notify",
            hint="move notify: to the top level of the fleet file",
        )
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise error(
            "is required" if name is None else "must be text",
            "name",
            hint="name every org: it names its report folder and its variables",
        )
    if not _NAME.fullmatch(name) or name.lower() in ROLLUP_FILES.values():
        raise error(
            f"org name {name!r} cannot name a folder and its variables",
            "name",
            hint="start with a letter; use letters, digits, '.', '_' and '-' (at most 63)",
        )
    base = defaults
    own = entry.get("config")
    if own is not None:
        if not isinstance(own, str) or not own:
            raise error("must be the path of a config file", "config")
        base = load_config(_resolve(base_dir, own), env=env)
    overrides = {k: copy.deepcopy(v) for k, v in entry.items() if k not in ORG_KEYS}
    if "source" in entry:
        if not isinstance(entry["source"], str) or not entry["source"]:
            raise error("must be snapshot:PATH, live or sf:ALIAS", "source")
        org_block = overrides.setdefault("org", {})
        if isinstance(org_block, dict):
            if "source" in org_block:
                raise error("set source once: here or under org:", "source")
            org_block["source"] = entry["source"]
    start = _absolute(base.model_dump(exclude_unset=True), base.base_dir) if base else {}
    merged = _deep_merge(start, _absolute(overrides, base_dir))
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"]
        if base is not None and loc and loc[0] not in overrides:
            raise _config_error(exc, base.path or filename, base.lines) from None
        raise _config_error(exc, filename, lines, where) from None
    config.path = base.path if base is not None else filename
    config.base_dir = base.base_dir if base is not None else base_dir
    config.lines = dict(base.lines) if base is not None else {}
    if not config.org.source:
        raise error(
            "no org source",
            "source",
            hint="set source: (snapshot:PATH, live or sf:ALIAS) on the org, "
            "or org.source in the defaults config",
        )
    # Errors in checks: and waivers: point at the file that wrote them.
    view = config.model_copy()
    if base is None or {"checks", "waivers", "plugins"} & set(overrides):
        view.path = filename
        view.lines = {path[2:]: n for path, n in lines.items() if path[:2] == where}
    try:
        _validate_checks(view)
    except ConfigError as exc:
        if view.path == filename and exc.key:
            raise ConfigError(
                exc.detail,
                file=filename,
                line=exc.line,
                key=f"{dotted(where)}.{exc.key}",
                hint=exc.hint,
            ) from None
        raise
    return FleetOrg(name=name, config=config, line=line_for(lines, where))


_check_options: dict[tuple[Path, ...], dict[str, Mapping[str, Any]]] = {}


def _validate_checks(config: Config) -> None:
    """The org's ``checks:`` and waivers against the checks its plugins provide."""
    from .plugins import get_plugin_manager

    files = tuple(config.plugin_paths())
    if files not in _check_options:
        pm = get_plugin_manager(list(files), config_path=config.path)
        _check_options[files] = {cid: s.options for cid, s in pm.collect_checks().items()}
    validate_checks(config, _check_options[files])


def _resolve(base_dir: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base_dir / p


def _absolute(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """``data`` (raw config keys) with its paths made absolute against ``base_dir``:
    the file that wrote a path is the one it is relative to."""
    out = copy.deepcopy(data)
    org = out.get("org")
    if isinstance(org, dict):
        source = org.get("source")
        if isinstance(source, str) and source.startswith("snapshot:") and source != "snapshot:":
            org["source"] = f"snapshot:{_resolve(base_dir, source.split(':', 1)[1])}"
    for section in ("backup", "metadata"):
        block = out.get(section)
        if isinstance(block, dict) and isinstance(block.get("path"), str):
            block["path"] = str(_resolve(base_dir, block["path"]))
    if isinstance(out.get("baseline"), str):
        out["baseline"] = str(_resolve(base_dir, out["baseline"]))
    if isinstance(out.get("plugins"), list):
        out["plugins"] = [
            str(_resolve(base_dir, p)) if isinstance(p, str) else p for p in out["plugins"]
        ]
    return out


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# --- running a fleet ---------------------------------------------------------------


@dataclass
class OrgOutcome:
    """What one org's process left: its roll-up row and the files it wrote."""

    name: str
    row: OrgRow
    folder: Path
    written: dict[str, str] = field(default_factory=dict)


#: ``on_event(kind, name, row)``: kind is "queued", "started" or "finished" (with its row).
EventHandler = Callable[[str, str, "OrgRow | None"], None]


@dataclass
class FleetRun:
    rollup: Rollup
    outcomes: list[OrgOutcome]
    written: dict[str, Path]
    deliveries: list[Delivery] = field(default_factory=list)
    """One per notification channel (and notifier plugin): what was sent, what failed."""

    @property
    def exit_code(self) -> int:
        return self.rollup.exit_code


def run_fleet(
    fleet: Fleet,
    *,
    today: dt.date | None = None,
    output: Path | None = None,
    concurrency: int | None = None,
    only: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    on_event: EventHandler | None = None,
    baseline: Rollup | None = None,
) -> FleetRun:
    """Audit every org (or those in ``only``) in processes, at most ``concurrency``
    at once, each writing its reports into ``<output>/<name>/``; then write the roll-up
    and tell each of the fleet's channels, once, about the whole fleet.

    An org that cannot be audited is ``incomplete`` in the roll-up and the others go on.

    :param baseline: an earlier roll-up (a ``fleet.json``), for channels with
        ``on: [changed]``; with ``only``, its other orgs are left out of the comparison.
    """
    environ = dict(os.environ if environ is None else environ)
    orgs = fleet.select(only)
    out = Path(output) if output is not None else fleet.output
    names = [o.name for o in fleet.orgs]
    for secret in fleet_secrets(names, environ):
        add_secret(secret)
    withhold = channel_secrets(fleet)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot write the roll-up to {out}: {exc.strerror}",
            hint="pass -o with a writable folder (or set report.output in the fleet file)",
        ) from None
    emit = on_event or (lambda kind, name, row: None)
    lock = threading.Lock()
    for org in orgs:
        emit("queued", org.name, None)

    def audit(org: FleetOrg) -> OrgOutcome:
        with lock:
            emit("started", org.name, None)
        outcome = _audit_org(org, names, environ, out, today, withhold, fleet.org_timeout_s)
        with lock:
            emit("finished", org.name, outcome.row)
        return outcome

    workers = max(1, min(concurrency or fleet.concurrency, len(orgs)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sfaudit-fleet") as pool:
        outcomes = list(pool.map(audit, orgs))
    rollup = Rollup([o.row for o in outcomes], generated_at=_now())
    written = write_rollup(rollup, out, fleet.formats, lang=fleet.lang, title=fleet.title)
    if only and baseline is not None:
        # the orgs left out did not go: compare only the orgs that ran
        ran = {o.name for o in orgs}
        baseline = dataclasses.replace(baseline, rows=[r for r in baseline.rows if r.name in ran])
    deliveries = notify_fleet(rollup, fleet, outcomes, baseline)
    return FleetRun(rollup, outcomes, written, deliveries)


def notify_fleet(
    rollup: Rollup,
    fleet: Fleet,
    outcomes: Sequence[OrgOutcome] = (),
    baseline: Rollup | None = None,
) -> list[Delivery]:
    """The one place a fleet notifies: each of ``fleet.notify``'s channels gets one
    roll-up message (not one per org), and the plugins' ``sfaudit_notify`` is called
    once with it. The orgs' own processes never notify. Never raises for a channel."""
    from .notify import Notification, notify
    from .plugins import get_plugin_manager

    config = fleet.defaults or Config()
    pm = get_plugin_manager(config.plugin_paths(), config_path=config.path)
    reports: dict[str, Any] = {}
    for outcome in outcomes:
        path = outcome.written.get("json")
        if path:
            try:
                reports[outcome.name] = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # the row already says the report cannot be read
    note = Notification(
        rollup, baseline=baseline, reports=reports, report_url=fleet.url, lang=fleet.lang
    )
    return notify(pm, note, config, channels=fleet.notify)


def _audit_org(
    org: FleetOrg,
    names: Sequence[str],
    environ: Mapping[str, str],
    out: Path,
    today: dt.date | None,
    withhold: Iterable[str] = (),
    timeout_s: float | None = None,
) -> OrgOutcome:
    folder = out / org.name
    formats = list(dict.fromkeys([*org.config.report.formats, "json"]))
    data = org.config.model_dump(mode="json")
    data.pop("notify", None)  # the fleet notifies once; no channel secret in the job file
    with tempfile.TemporaryDirectory(prefix="sfaudit-fleet-") as tmp:
        job = Path(tmp) / "job.json"
        result_path = Path(tmp) / "result.json"
        job.write_text(
            json.dumps(
                {
                    "name": org.name,
                    "config": data,
                    "config_path": org.config.path,
                    "base_dir": str(org.config.base_dir),
                    "today": today.isoformat() if today else None,
                    "formats": formats,
                    "output": str(folder),
                    "result": str(result_path),
                    "log_level": logging.getLogger().getEffectiveLevel(),
                }
            ),
            encoding="utf-8",
        )
        try:
            done = _run_worker(
                [sys.executable, "-m", "sfaudit._fleet_worker", str(job)],
                org_environment(org.name, names, environ, withhold),
                timeout_s,
            )
        except OSError as exc:
            return OrgOutcome(org.name, incomplete_row(org.name, f"could not start: {exc}"), folder)
        except subprocess.TimeoutExpired:
            why = f"its audit was stopped after org_timeout_s ({timeout_s:g} s)"
            return OrgOutcome(org.name, incomplete_row(org.name, why), folder)
        result: dict[str, Any] = {}
        if result_path.is_file():
            try:
                result = json.loads(result_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                result = {}
    for line in redact(done.stderr or "").splitlines():
        if line.strip():
            log.warning("%s: %s", org.name, line)
    written = {str(k): str(v) for k, v in (result.get("written") or {}).items()}
    if "json" in written and Path(written["json"]).is_file():
        try:
            report = json.loads(Path(written["json"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            row = incomplete_row(org.name, redact(f"its report.json cannot be read: {exc}"))
        else:
            link = f"{org.name}/readiness.html" if "html" in written else None
            row = row_from_report(report, org.name, link)
        return OrgOutcome(org.name, row, folder, written)
    error = (
        result.get("error") or _last_line(done.stderr) or f"its process exited {done.returncode}"
    )
    return OrgOutcome(org.name, incomplete_row(org.name, redact(str(error))), folder, written)


def _run_worker(
    args: list[str], env: Mapping[str, str], timeout_s: float | None
) -> subprocess.CompletedProcess[str]:
    """Run an org's worker in a session of its own; past ``timeout_s`` the whole
    session (the worker and the scan's processes) is killed and TimeoutExpired raised."""
    with subprocess.Popen(
        args,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_session(proc)
            proc.communicate()
            raise
        return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _kill_session(proc: subprocess.Popen[str]) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- merging reports made elsewhere -------------------------------------------------


def merge_reports(
    paths: Sequence[str | Path],
    output: Path,
    *,
    names: str = "folder",
    expect: Sequence[str] = (),
) -> Rollup:
    """The roll-up of ``report.json`` files made elsewhere (a CI matrix's jobs).

    :param names: ``folder`` names each org by its report's folder, ``org`` by the
        org's name in the report.
    :param expect: the orgs that must be in the roll-up: one without a report (its
        job failed before writing one) is ``incomplete``, so a lost job never lets the
        fleet say "ready". With it, a pattern the shell left unexpanded (no file
        matched ``reports/*/report.json``) is no report rather than an error.
    """
    if expect:
        paths = [p for p in paths if Path(p).exists() or not _GLOB.search(str(p))]
    if not paths and not expect:
        raise UsageError(
            "no report to merge", hint="pass report.json files, e.g. reports/*/report.json"
        )
    triples: list[tuple[Mapping[str, Any], str | None, str | None]] = []
    seen: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            path = path / "report.json"
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: no such report", hint="pass the report.json files") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(
                f"{path}: not a readable report.json ({type(exc).__name__})",
                hint="pass the report.json an sfaudit run wrote",
            ) from None
        if (
            not isinstance(report, dict)
            or report.get("schema_version") != 1
            or "verdict" not in report
            or not isinstance(report.get("checks"), list)
        ):
            raise InputError(
                f"{path}: not an sfaudit report.json (schema version 1)",
                hint="pass the report.json an sfaudit run wrote (not fleet.json or another file)",
            )
        problem = report_problem(report)
        if problem:
            raise InputError(
                f"{path}: {problem}",
                hint="pass the report.json an sfaudit run wrote, as it wrote it",
            )
        org = report.get("org") or {}
        name = (
            path.resolve().parent.name
            if names == "folder"
            else str(org.get("name") or org.get("id") or path.resolve().parent.name)
        )
        if name in seen:
            raise UsageError(
                f"two reports for org {name!r}: {seen[name]} and {path}",
                hint="give each report a folder of its own, or pass --names org",
            )
        seen[name] = path
        html = path.parent / "readiness.html"
        link = (
            Path(os.path.relpath(html.resolve(), output.resolve())).as_posix()
            if html.is_file()
            else None
        )
        triples.append((report, name, link))
    rollup = Rollup.from_reports(triples, generated_at=_now())
    for name in expect:
        if name not in seen:
            rollup.rows.append(
                incomplete_row(
                    name,
                    "no report.json for this org: its audit wrote none (see its job's log)",
                )
            )
    return rollup
