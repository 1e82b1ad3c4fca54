"""The error family a user can cause, each mapped to a documented exit code."""

from __future__ import annotations

from collections.abc import Sequence


class SfauditError(Exception):
    """A problem the user can fix; the CLI prints the message, not a traceback.

    ``exit_code`` follows DESIGN.md: 2 for usage and input errors, 3 when the
    audit cannot be completed (the org could not be read).
    """

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  hint: {hint}")


class UsageError(SfauditError):
    """Bad command-line flags or arguments."""


class ConfigError(SfauditError):
    """The YAML config is malformed or invalid; the message names file:line and the key."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.detail = message
        """The message without where it is."""
        where = file or "<config>"
        if line is not None:
            where = f"{where}:{line}"
        if key:
            where = f"{where}: {key}"
        super().__init__(f"{where}: {message}", hint=hint)


class InputError(SfauditError):
    """An input file (snapshot, backup, baseline) is missing or unreadable."""


class PluginError(SfauditError):
    """A plugin could not be loaded."""


class SourceError(SfauditError):
    """The org could not be read: the audit is incomplete (exit 3)."""

    exit_code = 3


class DataUnavailable(Exception):
    """The org source cannot answer this question (a snapshot lacks the data,
    or the user lacks a permission). A check that needs it is skipped or errors
    with this message; the rest of the audit goes on."""

    def __init__(self, message: str, *, permission: bool = False) -> None:
        self.permission = permission
        super().__init__(message)

    @classmethod
    def combine(cls, problems: Sequence[DataUnavailable]) -> DataUnavailable:
        """One error for several parts a check could not read, each problem written
        ``"part: reason"``: the parts sharing a reason are named once before it
        (``"sites, networks: no access"``). A permission problem if any part is one."""
        reasons: dict[str, list[str]] = {}
        for problem in problems:
            what, _, why = str(problem).partition(": ")
            reasons.setdefault(why or what, []).append(what if why else "")
        text = "; ".join(
            f"{', '.join(w for w in whats if w)}: {why}" if any(whats) else why
            for why, whats in reasons.items()
        )
        return cls(text, permission=any(p.permission for p in problems))


__all__ = [
    "ConfigError",
    "DataUnavailable",
    "InputError",
    "PluginError",
    "SfauditError",
    "SourceError",
    "UsageError",
]
