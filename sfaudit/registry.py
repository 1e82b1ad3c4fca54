"""The check API: the ``@check`` decorator and discovery of checks in plugin modules."""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, TypeVar

from .fixtures import argnames
from .results import Severity

F = TypeVar("F", bound=Callable[..., Any])

_CHECK_ATTR = "_sfaudit_check"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

#: Keys every check accepts in its ``checks:`` block, besides its own options.
COMMON_OPTIONS = ("severity", "enabled", "timeout", "title")

#: The steps of cancelling, in order: the report's timeline has one section per step.
STEPS = ("contract", "prepare", "submit", "after")
#: Where a check that names no ``step`` is shown.
DEFAULT_STEP = "prepare"


def N_(message: str) -> str:
    """Mark a report string (a chart title or legend label) for the message catalog."""
    return message


@dataclass(frozen=True)
class Chart:
    """A bar chart the report draws from one check's result, declared with ``@check(charts=...)``.

    The rows come either from a metric (``metric=``) or from the findings
    (``findings=``, a finding field). A metric holds ``{row: {key: number}}``,
    ``{row: number}`` (key ``value``) or ``[{"name" | "object" | "type": row, key: number}]``.
    Findings are grouped by the ``findings`` field and stacked by the ``stack``
    field, each adding its ``count`` (1 when it has none).

    :param name: names the chart in the page (``id="chart-<name>"``).
    :param title: the caption; translated when sfaudit's catalog has it.
    :param kind: ``stacked`` (one bar per row, a segment per series) or
        ``grouped`` (a thin bar per series, for comparing them).
    :param series: ``(key, label)`` pairs in legend order; a key ``a-b`` plots
        ``a`` minus ``b``. Empty: every numeric key found, labelled by itself.
        Rows without a number for the first series are left out.
    :param sort: ``total`` (largest row first) or ``gap`` (largest first series
        minus second first, for "expected against found").
    :param top: the most rows shown.
    :param top_series: for findings charts, the most stacks shown; the rest are
        summed under ``other``.
    """

    name: str
    title: str
    kind: Literal["stacked", "grouped"] = "stacked"
    metric: str = ""
    findings: str = ""
    stack: str = ""
    series: tuple[tuple[str, str], ...] = ()
    sort: Literal["total", "gap"] = "total"
    top: int = 15
    top_series: int = 0
    other: str = N_("others")

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.name):
            raise ValueError(f"chart name {self.name!r} must be lowercase letters, digits, '-'")
        if bool(self.metric) == bool(self.findings):
            raise ValueError(f"chart {self.name!r} needs either metric= or findings=, not both")
        if self.kind not in ("stacked", "grouped"):
            raise ValueError(f"chart {self.name!r}: kind must be 'stacked' or 'grouped'")
        if self.sort not in ("total", "gap"):
            raise ValueError(f"chart {self.name!r}: sort must be 'total' or 'gap'")
        object.__setattr__(self, "series", tuple((str(k), str(v)) for k, v in self.series))

    def to_dict(self) -> dict[str, Any]:
        """The declaration as report.json carries it (``checks[].charts``)."""
        out = dataclasses.asdict(self)
        out["series"] = [list(pair) for pair in self.series]
        return out


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
    step: tuple[str, ...] = ()
    """The timeline steps the check declared (see :data:`STEPS`)."""
    charts: tuple[Chart, ...] = ()

    @property
    def steps(self) -> tuple[str, ...]:
        """Where the report's timeline shows the check: its ``step``, else :data:`DEFAULT_STEP`."""
        return self.step or (DEFAULT_STEP,)

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
    step: str | Iterable[str] = (),
    charts: Iterable[Chart] = (),
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
    :param step: the step of cancelling the check belongs to in the report's
        timeline: ``contract``, ``prepare``, ``submit`` or ``after`` (or several,
        as a tuple); without one it is shown under ``prepare``.
    :param charts: :class:`Chart` declarations the report draws from the
        check's metrics or findings.
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
        spec = dataclasses.replace(
            spec, summary=summary, step=_steps(spec.id, step), charts=_charts(spec.id, charts)
        )
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


def _steps(check_id: str, step: str | Iterable[str]) -> tuple[str, ...]:
    steps = (step,) if isinstance(step, str) else tuple(step)
    for value in steps:
        if value not in STEPS:
            raise ValueError(
                f"check {check_id!r}: unknown step {value!r}; use one of {', '.join(STEPS)}"
            )
    return tuple(dict.fromkeys(steps))


def _charts(check_id: str, charts: Iterable[Chart]) -> tuple[Chart, ...]:
    out = tuple(charts)
    for chart in out:
        if not isinstance(chart, Chart):
            raise TypeError(f"check {check_id!r}: charts= takes sfaudit.Chart objects")
    return out


def timeline(specs: Iterable[CheckSpec]) -> dict[str, list[str]]:
    """Every step with the ids of the checks placed in it, in the order given."""
    out: dict[str, list[str]] = {step: [] for step in STEPS}
    for spec in specs:
        for step in spec.steps:
            out[step].append(spec.id)
    return out


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
