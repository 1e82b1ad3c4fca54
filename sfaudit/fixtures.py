"""Fixtures: values a check receives by parameter name, pytest-style.

This module is the mechanism (:func:`fixture`, :class:`FixtureDef`,
:class:`FixtureResolver`). The built-in fixtures (``org``, ``backup``,
``contract``, ``options``) are a plugin, :mod:`sfaudit.fixtures_builtin`; the
runner supplies the :data:`RESERVED_FIXTURES` itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast, overload

Scope = Literal["run", "check"]
F = TypeVar("F", bound=Callable[..., Any])
_FIXTURE_ATTR = "_sfaudit_fixture"

#: Values the runner hands to checks itself; plugins cannot redefine them.
RESERVED_FIXTURES = frozenset({"config", "today", "run", "check", "metrics", "severity"})


def argnames(func: Callable[..., Any]) -> tuple[str, ...]:
    """The fixtures ``func`` asks for: its parameters that can be passed by name
    and have no default. Checks and fixtures are both read this way."""
    sig = inspect.signature(func)
    return tuple(
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is p.empty
    )


@dataclass(frozen=True)
class FixtureDef:
    """A fixture: ``func``'s parameters name the fixtures it needs in turn."""

    name: str
    func: Callable[..., Any]
    scope: Scope = "run"
    plugin: str = ""

    @property
    def argnames(self) -> tuple[str, ...]:
        return argnames(self.func)


@overload
def fixture(func: F) -> F: ...
@overload
def fixture(*, scope: Scope = "run", name: str | None = None) -> Callable[[F], F]: ...


def fixture(
    func: F | None = None, *, scope: Scope = "run", name: str | None = None
) -> F | Callable[[F], F]:
    """Mark a function as a fixture. ``scope="run"`` computes it once per audit,
    ``scope="check"`` once per check. A generator fixture's code after ``yield``
    runs when its scope ends."""

    def mark(f: F) -> F:
        setattr(f, _FIXTURE_ATTR, FixtureDef(name or f.__name__, f, scope))
        return f

    return mark(func) if func is not None else mark


def as_fixture(item: FixtureDef | Callable[..., Any]) -> FixtureDef:
    if isinstance(item, FixtureDef):
        return item
    found = getattr(item, _FIXTURE_ATTR, None)
    if isinstance(found, FixtureDef):
        return found
    return FixtureDef(item.__name__, item)


class FixtureLookupError(LookupError):
    """A check asked for a fixture nobody provides, or fixtures form a cycle."""


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class FixtureResolver:
    """Resolves fixture values by name, caching per scope and running teardowns."""

    def __init__(self, defs: Mapping[str, FixtureDef], base: Mapping[str, Any]) -> None:
        self.defs = dict(defs)
        self._run: dict[str, Any] = dict(base)
        self._run_teardown: list[Generator[Any, None, None]] = []

    def resolve(
        self, argnames: tuple[str, ...], check_values: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[Generator[Any, None, None]]]:
        """Values for ``argnames``; returns them with the check-scope teardowns."""
        local: dict[str, Any] = dict(check_values)
        teardown: list[Generator[Any, None, None]] = []
        values = {n: self._get(n, local, teardown, ()) for n in argnames}
        return values, teardown

    def _get(
        self,
        name: str,
        local: dict[str, Any],
        teardown: list[Generator[Any, None, None]],
        stack: tuple[str, ...],
        in_run_scope: bool = False,
    ) -> Any:
        if in_run_scope and (name in local or self._scope(name) == "check"):
            raise FixtureLookupError(
                f"run-scoped fixture {stack[-1]!r} asks for the check-scoped {name!r}; "
                f"declare it @fixture(scope='check')"
            )
        for cache in (local, self._run):
            if name in cache:
                value = cache[name]
                if isinstance(value, _Failed):
                    raise value.exc
                return value
        fdef = self.defs.get(name)
        if fdef is None:
            known = ", ".join(sorted({*self.defs, *self._run, *local}))
            raise FixtureLookupError(f"fixture {name!r} not found; available: {known}")
        if name in stack:
            raise FixtureLookupError(
                f"fixtures depend on each other: {' -> '.join((*stack, name))}"
            )
        cache = self._run if fdef.scope == "run" else local
        try:
            run_scoped = fdef.scope == "run"
            kwargs = {
                a: self._get(a, local, teardown, (*stack, name), run_scoped) for a in fdef.argnames
            }
            value = fdef.func(**kwargs)
            if inspect.isgenerator(value):
                gen = cast(Generator[Any, None, None], value)
                value = next(gen)
                (self._run_teardown if fdef.scope == "run" else teardown).append(gen)
        except Exception as exc:
            if fdef.scope == "run":
                cache[name] = _Failed(exc)
            raise
        cache[name] = value
        return value

    def _scope(self, name: str) -> Scope | None:
        fdef = self.defs.get(name)
        return fdef.scope if fdef is not None else None

    @staticmethod
    def finish(teardown: list[Generator[Any, None, None]]) -> list[BaseException]:
        errors: list[BaseException] = []
        for gen in reversed(teardown):
            try:
                next(gen)
            except StopIteration:
                pass
            except Exception as exc:
                errors.append(exc)
        teardown.clear()
        return errors

    def close(self) -> list[BaseException]:
        return self.finish(self._run_teardown)
