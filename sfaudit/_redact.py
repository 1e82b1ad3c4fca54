"""Keep secrets out of logs, messages and reports."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

#: Environment variables that hold credentials; their values are never printed.
SECRET_ENV_VARS = (
    "SF_PASSWORD",
    "SF_SECURITY_TOKEN",
    "SF_ACCESS_TOKEN",
    "SF_CONSUMER_SECRET",
    "SF_CONSUMER_KEY",
    "SF_SESSION_ID",
)
_extra_secrets: set[str] = set()
_TOKEN_PATTERNS = (
    # Salesforce session ids / access tokens: 00D<org id>!<long token>
    re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]{20,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._!\-]{16,}"),
    re.compile(r"(?i)(<(?:\w+:)?(?:password|sessionId)>)[^<]*"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|password|assertion)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
    ),
)


def add_secret(value: str | None) -> None:
    """Register a value (a token obtained at run time) to be redacted everywhere."""
    if value and len(value) >= 4:
        _extra_secrets.add(value)


def secrets(env: dict[str, str] | None = None) -> set[str]:
    """Every value to redact: credential variables, the JWT key's lines, and ``add_secret``."""
    env = dict(os.environ) if env is None else env
    found = {env[name] for name in SECRET_ENV_VARS if len(env.get(name, "")) >= 4}
    return found | _key_lines(env.get("SF_JWT_KEY_FILE") or "") | _extra_secrets


_key_cache: dict[tuple[str, float], frozenset[str]] = {}


def _key_lines(path: str) -> frozenset[str]:
    """The body lines of the PEM private key at ``path`` (each is part of the secret)."""
    if not path:
        return frozenset()
    try:
        stamp = (path, os.stat(path).st_mtime)
    except OSError:
        return frozenset()
    if stamp not in _key_cache:
        try:
            with open(path, encoding="ascii", errors="replace") as key:
                text = key.read(65536)
        except OSError:
            return frozenset()
        lines = (line.strip() for line in text.splitlines())
        _key_cache[stamp] = frozenset(
            line for line in lines if len(line) >= 16 and not line.startswith("-----")
        )
    return _key_cache[stamp]


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret and token-shaped string replaced."""
    for value in sorted({*secrets(), *extra}, key=len, reverse=True):
        text = text.replace(value, "***")
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    """Redact secrets in every record passing through the root handlers."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
