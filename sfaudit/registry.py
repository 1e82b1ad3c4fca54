"""The check API: the ``@check`` decorator and discovery of checks in plugin modules."""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

from .fixtures import argnames
from .results import Severity

F = TypeVar("F", bound=Callable[..., Any])

_CHECK_ATTR = "_sfaudit_check"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

#: Keys every check accepts in its ``checks:`` block, besides its own options.
COMMON_OPTIONS = ("severity", "enabled", "timeout", "title")


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: its function and the metadata the report shows."""

    id: str
    func: Callable[..., Any]
    severity: Severity = Severity.MEDIUM
    title: str = ""
    explain: str = ""
    fix: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    plugin: str = ""
    summary: str = ""
    """Message when findings fail the check: a format string over the check's
    metrics plus ``findings`` (failing) and ``waived`` counts."""

    @property
    def argnames(self) -> tuple[str, ...]:
        """The fixtures the check asks for, by parameter name."""
        return argnames(self.func)

    def with_plugin(self, plugin: str) -> CheckSpec:
        return dataclasses.replace(self, plugin=plugin)


def check(
    id: str | None = None,
    *,
    severity: str | Severity = Severity.MEDIUM,
    title: str | None = None,
    explain: str | None = None,
    fix: str = "",
    options: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    summary: str = "",
) -> Callable[[F], F]:
    """Mark a function as a readiness check.

    :param id: the check id used in configs and reports; defaults to the
        function name without ``check_``, with ``-`` for ``_``.
    :param severity: how much a failure matters (``info`` .. ``critical``).
    :param title: one line for the report; defaults to the docstring's first line.
    :param explain: what it checks and why it matters for a cancellation;
        defaults to the rest of the docstring.
    :param fix: how to fix each finding.
    :param options: the check's options with their defaults; a config may set
        only these (plus severity, enabled, timeout), with the same types.
    :param summary: the check's message when its findings fail it, formatted
        with its metrics and ``findings``/``waived`` counts, e.g.
        ``"{findings} users can still log in"``; default ``"N findings"``.
    """

    def mark(func: F) -> F:
        spec = _spec_for(
            func,
            id=id,
            severity=Severity.parse(severity),
            title=title,
            explain=explain,
            fix=fix,
            options=options or {},
            tags=tuple(tags),
        )
        spec = dataclasses.replace(spec, summary=summary)
        setattr(func, _CHECK_ATTR, spec)
        return func

    return mark


def _spec_for(
    func: Callable[..., Any],
    *,
    id: str | None,
    severity: Severity,
    title: str | None,
    explain: str | None,
    fix: str,
    options: Mapping[str, Any],
    tags: tuple[str, ...],
) -> CheckSpec:
    check_id = id or func.__name__.removeprefix("check_").replace("_", "-")
    if not _ID_RE.match(check_id):
        raise ValueError(
            f"check id {check_id!r} must be lowercase letters, digits, '-', '_' or '.'"
        )
    doc = inspect.getdoc(func) or ""
    first, _, rest = doc.partition("\n")
    return CheckSpec(
        id=check_id,
        func=func,
        severity=severity,
        title=title or first.strip() or check_id,
        explain=textwrap.dedent(explain if explain is not None else rest).strip(),
        fix=fix,
        options=dict(options),
        tags=tags,
    )


def checks_in(namespace: object, errors: list[str] | None = None) -> list[CheckSpec]:
    """Checks defined by a plugin: ``@check`` functions and plain ``check_*`` functions.

    A ``check_*`` function whose name makes no valid id is left out and described
    in ``errors`` (raised when ``errors`` is None).
    """
    found: list[CheckSpec] = []
    names = sorted(vars(namespace)) if isinstance(namespace, ModuleType) else dir(namespace)
    for name in names:
        obj = getattr(namespace, name, None)
        spec = getattr(obj, _CHECK_ATTR, None)
        if isinstance(spec, CheckSpec):
            found.append(spec)
        elif name.startswith("check_") and inspect.isfunction(obj):
            if isinstance(namespace, ModuleType) and obj.__module__ != namespace.__name__:
                continue
            try:
                found.append(as_spec(obj))
            except ValueError as err:
                if errors is None:
                    raise
                errors.append(f"{name}: {err}")
    return found


def as_spec(item: CheckSpec | Callable[..., Any]) -> CheckSpec:
    """Accept either a spec or a decorated/plain function from ``sfaudit_register_checks``."""
    if isinstance(item, CheckSpec):
        return item
    spec = getattr(item, _CHECK_ATTR, None)
    if isinstance(spec, CheckSpec):
        return spec
    return _spec_for(
        item,
        id=None,
        severity=Severity.MEDIUM,
        title=None,
        explain=None,
        fix="",
        options={},
        tags=(),
    )
