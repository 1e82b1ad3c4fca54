"""The plugin manager: building it (built-ins, entry points, then local plugin
files) and collecting from it (checks, fixtures, report formats), where a
plugin that raises becomes a recorded problem, never a crash."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import PluginError
from .fixtures import RESERVED_FIXTURES, FixtureDef, as_fixture
from .registry import CheckSpec, as_spec, checks_in
from .report import ReportFormat

if TYPE_CHECKING:
    from .notify import Notifier

ENTRY_POINT_GROUP = "sfaudit"

#: Built-in plugins, registered first and exactly as third-party plugins are.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "sfaudit.fixtures_builtin",
    "sfaudit.runner",
    "sfaudit.sources.snapshot",
    "sfaudit.sources.live",
    "sfaudit.checks.notice_deadline",
    "sfaudit.checks.active_users",
    "sfaudit.checks.record_ownership",
    "sfaudit.checks.scheduled_jobs",
    "sfaudit.checks.license_utilization",
    "sfaudit.checks.backup_completeness",
    "sfaudit.checks.metadata_backup",
    "sfaudit.checks.integrations",
    "sfaudit.checks.installed_packages",
    "sfaudit.checks.inbound_email",
    "sfaudit.checks.public_sites",
    "sfaudit.backup.plugin",
    "sfaudit.waivers",
    "sfaudit.baseline",
    "sfaudit.report.json_report",
    "sfaudit.report.html",
    "sfaudit.report.markdown",
    "sfaudit.report.junit",
    "sfaudit.report.csv_report",
    "sfaudit.report.ics",
    "sfaudit.notify.slack",
    "sfaudit.notify.teams",
    "sfaudit.notify.webhook",
    "sfaudit.notify.mail",
)


@dataclass
class PluginInfo:
    name: str
    origin: str  # "builtin", "entry point" or "file"
    location: str = ""
    version: str = ""
    error: str | None = None
    checks: list[str] = field(default_factory=list)


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus what sfaudit records about each plugin, and the one
    place that calls "every implementation, a problem per failure"."""

    def __init__(self) -> None:
        super().__init__("sfaudit")
        self.infos: dict[str, PluginInfo] = {}
        self.problems: list[str] = []

    def add(self, plugin: object, name: str, info: PluginInfo) -> None:
        self.register(plugin, name=name)
        self.infos[name] = info

    # --- calling hooks ------------------------------------------------------

    def collect(self, hook: str | pluggy.HookCaller, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of ``hook`` on its own, in pluggy's call order
        (the last registered first), so one that raises does not stop the others.

        :return: ``(plugin name, result)`` for each implementation that returned;
            each one that raised is recorded on :attr:`problems` instead.
        """
        caller = getattr(self.hook, hook) if isinstance(hook, str) else hook
        out: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):
            try:
                if impl.wrapper or impl.hookwrapper:
                    raise TypeError(f"{caller.name} cannot be a wrapper; implement it plainly")
                wanted = {k: v for k, v in kwargs.items() if k in impl.argnames}
                out.append((impl.plugin_name, impl.function(**wanted)))
            except Exception as exc:
                self.problems.append(
                    f"plugin {impl.plugin_name!r} failed in {caller.name}: "
                    f"{type(exc).__name__}: {exc}"
                )
        return out

    def notify(self, hook: str | pluggy.HookCaller, **kwargs: Any) -> None:
        """Call every implementation of a notification hook; failures are problems."""
        self.collect(hook, **kwargs)

    # --- what the plugins contribute ---------------------------------------

    def collect_checks(self) -> dict[str, CheckSpec]:
        """Every check from every plugin: discovered in modules, then from
        ``sfaudit_register_checks``. A duplicate id or a bad check is a problem."""
        found: dict[str, CheckSpec] = {}

        def add(spec: CheckSpec, plugin: str) -> None:
            spec = spec.with_plugin(plugin)
            if spec.id in found and found[spec.id].func is not spec.func:
                self.problems.append(
                    f"check {spec.id!r} is defined by both {found[spec.id].plugin} and "
                    f"{plugin}; the one from {found[spec.id].plugin} is kept"
                )
                return
            found[spec.id] = spec
            info = self.infos.get(plugin)
            if info is not None and spec.id not in info.checks:
                info.checks.append(spec.id)

        for name, plugin in self.list_name_plugin():
            if plugin is None:
                continue
            errors: list[str] = []
            for spec in checks_in(plugin, errors):
                add(spec, name)
            self.problems.extend(f"plugin {name!r} defines a bad check: {err}" for err in errors)
        for name, result in self.collect("sfaudit_register_checks"):
            for item in result or ():
                try:
                    add(as_spec(item), name)
                except (TypeError, ValueError) as err:
                    self.problems.append(f"plugin {name!r} registered a bad check: {err}")
        return found

    def collect_fixtures(self) -> dict[str, FixtureDef]:
        """Every plugin's fixtures by name; a plugin's fixture overrides a built-in
        of the same name (registration order), and none may take a reserved name."""
        defs: dict[str, FixtureDef] = {}
        for name, result in reversed(self.collect("sfaudit_register_fixtures")):
            for item in result or ():
                fdef = as_fixture(item)
                if fdef.name in RESERVED_FIXTURES:
                    self.problems.append(
                        f"plugin {name!r} defines the fixture {fdef.name!r}, which the runner "
                        "provides itself; rename it"
                    )
                    continue
                defs[fdef.name] = FixtureDef(fdef.name, fdef.func, fdef.scope, name)
        return defs

    def collect_report_formats(self) -> dict[str, ReportFormat]:
        """Every report format by name; the first plugin to name a format keeps it."""
        formats: dict[str, ReportFormat] = {}
        for plugin, result in self.collect("sfaudit_register_report_formats"):
            for fmt in result or ():
                formats.setdefault(
                    fmt.name,
                    ReportFormat(fmt.name, fmt.filename, fmt.write, fmt.description, plugin),
                )
        return formats

    def collect_notifiers(self) -> dict[str, Notifier]:
        """Every notifier type by name; the first plugin to name a type keeps it."""
        from dataclasses import replace

        from .notify import Notifier

        notifiers: dict[str, Notifier] = {}
        for plugin, result in self.collect("sfaudit_register_notifiers"):
            for item in result or ():
                if not isinstance(item, Notifier):
                    self.problems.append(
                        f"plugin {plugin!r} registered {type(item).__name__}, not a Notifier"
                    )
                    continue
                if item.name in notifiers:
                    continue
                notifiers[item.name] = replace(item, plugin=plugin)
        return notifiers


def get_plugin_manager(
    plugin_files: Iterable[str | Path] = (),
    *,
    entry_points: bool = True,
    extra: Iterable[object] = (),
    config_path: str | None = None,
) -> PluginManager:
    """A fresh plugin manager: specs, DEFAULT_PLUGINS, the ``sfaudit`` entry-point
    group, then ``plugin_files`` (from the config). ``extra`` plugin objects are
    registered last (tests use it)."""
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    for modname in DEFAULT_PLUGINS:
        module = importlib.import_module(modname)
        pm.add(module, modname, PluginInfo(modname, "builtin", modname))
    if entry_points:
        _load_entry_points(pm)
    for path in plugin_files:
        module = load_plugin_file(Path(path), config_path=config_path)
        name = f"file:{path}"
        pm.add(module, name, PluginInfo(Path(path).stem, "file", str(path)))
    for i, plugin in enumerate(extra):
        name = getattr(plugin, "__name__", None) or f"extra-{i}"
        pm.add(plugin, name, PluginInfo(name, "extra", ""))
    return pm


def _load_entry_points(pm: PluginManager) -> None:
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.has_plugin(ep.name) or pm.is_blocked(ep.name):
            continue
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            ep.name,
            "entry point",
            ep.value,
            version=getattr(dist, "version", "") if dist else "",
        )
        try:
            plugin = ep.load()
            pm.add(plugin, ep.name, info)
        except Exception as exc:  # one broken plugin never takes the audit down
            info.error = f"{type(exc).__name__}: {exc}"
            pm.infos[ep.name] = info
            pm.problems.append(
                f"plugin {ep.name!r} ({ep.value}) failed to load: {info.error}; "
                f"fix or uninstall {info.version and dist.name if dist else ep.name}"
            )


def load_plugin_file(path: Path, *, config_path: str | None = None) -> ModuleType:
    """Import a local plugin file named in the config's ``plugins:`` list."""
    where = f"{config_path}: plugins" if config_path else "plugins"
    if not path.is_file():
        raise PluginError(
            f"{where}: plugin file {path} does not exist",
            hint="fix the path (relative to the config file) or remove it from plugins:",
        )
    modname = "sfaudit_local_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{where}: {path} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(modname, None)
        raise PluginError(
            f"{exc.filename or path}:{exc.lineno}: syntax error in plugin: {exc.msg}",
            hint="fix the plugin file, or remove it from plugins:",
        ) from None
    except Exception as exc:
        sys.modules.pop(modname, None)
        tb = traceback.extract_tb(exc.__traceback__)
        line = next((f.lineno for f in reversed(tb) if f.filename == str(path)), None)
        loc = f"{path}:{line}" if line else str(path)
        raise PluginError(
            f"{loc}: plugin raised {type(exc).__name__} on import: {exc}",
            hint="fix the plugin file, or remove it from plugins:",
        ) from None
    return module


def collect_checks(pm: PluginManager) -> dict[str, CheckSpec]:
    """Shorthand for :meth:`PluginManager.collect_checks`."""
    return pm.collect_checks()
