"""Ways a check can end other than pass, fail or error: ``warn`` and ``skip``."""

from __future__ import annotations

from typing import NoReturn


class OutcomeException(BaseException):
    """Base of the outcome signals; a BaseException so ``except Exception`` in a
    check does not swallow them (as pytest does with ``pytest.skip``)."""

    def __init__(self, message: str = "") -> None:
        self.message = message
        super().__init__(message)


class Warned(OutcomeException):
    """Raised by :func:`warn`."""


class Skipped(OutcomeException):
    """Raised by :func:`skip`."""


def warn(message: str) -> NoReturn:
    """End the check with status ``warn``: worth a look, never blocks "ready"."""
    raise Warned(message)


def skip(message: str) -> NoReturn:
    """End the check with status ``skip``: it does not apply, or its data is absent."""
    raise Skipped(message)
