"""Building the plugin manager: built-ins, entry points, then local plugin files."""

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
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError
from .registry import CheckSpec, as_spec, checks_in

ENTRY_POINT_GROUP = "sfaudit"

#: Built-in plugins, registered first and exactly as third-party plugins are.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "sfaudit.fixtures",
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
    "sfaudit.backup.plugin",
    "sfaudit.waivers",
    "sfaudit.baseline",
    "sfaudit.report.json_report",
    "sfaudit.report.html",
    "sfaudit.report.markdown",
    "sfaudit.report.junit",
    "sfaudit.report.csv_report",
    "sfaudit.report.ics",
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
    """pluggy's manager plus what sfaudit records about each plugin."""

    def __init__(self) -> None:
        super().__init__("sfaudit")
        self.infos: dict[str, PluginInfo] = {}
        self.problems: list[str] = []

    def add(self, plugin: object, name: str, info: PluginInfo) -> None:
        self.register(plugin, name=name)
        self.infos[name] = info


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


def call_each(hook: Any, **kwargs: Any) -> list[tuple[str, Any, BaseException | None]]:
    """Call every implementation of a hook on its own, so one that raises does
    not stop the others: ``[(plugin name, result, exception)]``."""
    out: list[tuple[str, Any, BaseException | None]] = []
    for impl in reversed(hook.get_hookimpls()):
        if impl.wrapper or impl.hookwrapper:
            error = TypeError(f"{hook.name} cannot be a wrapper; implement it plainly")
            out.append((impl.plugin_name, None, error))
            continue
        wanted = {k: v for k, v in kwargs.items() if k in impl.argnames}
        try:
            out.append((impl.plugin_name, impl.function(**wanted), None))
        except Exception as exc:
            out.append((impl.plugin_name, None, exc))
    return out


def collect_checks(pm: PluginManager) -> dict[str, CheckSpec]:
    """Every check from every plugin: discovered in modules, then from the hook.
    Problems (a raising hook, a duplicate id) are recorded on ``pm.problems``."""
    found: dict[str, CheckSpec] = {}

    def add(spec: CheckSpec, plugin: str) -> None:
        spec = spec.with_plugin(plugin)
        if spec.id in found and found[spec.id].func is not spec.func:
            pm.problems.append(
                f"check {spec.id!r} is defined by both {found[spec.id].plugin} and {plugin}; "
                f"the one from {found[spec.id].plugin} is kept"
            )
            return
        found[spec.id] = spec
        info = pm.infos.get(plugin)
        if info is not None and spec.id not in info.checks:
            info.checks.append(spec.id)

    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        errors: list[str] = []
        for spec in checks_in(plugin, errors):
            add(spec, name)
        pm.problems.extend(f"plugin {name!r} defines a bad check: {err}" for err in errors)
    for name, result, exc in call_each(pm.hook.sfaudit_register_checks):
        if exc is not None:
            pm.problems.append(
                f"plugin {name!r} failed in sfaudit_register_checks: {type(exc).__name__}: {exc}"
            )
            continue
        for item in result or ():
            try:
                add(as_spec(item), name)
            except (TypeError, ValueError) as err:
                pm.problems.append(f"plugin {name!r} registered a bad check: {err}")
    return found
