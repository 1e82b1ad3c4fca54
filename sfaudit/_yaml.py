"""A YAML loader that remembers the line of every key, refuses duplicate keys
and expands ``${ENV_VAR}`` in string values."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import yaml

from .errors import ConfigError

#: Where a value sits in a config: ("checks", "active-users", "allow", 0).
KeyPath = tuple[str | int, ...]
_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Constructor(yaml.constructor.SafeConstructor):
    pass


def load_with_lines(
    text: str, filename: str, env: Mapping[str, str] | None = None
) -> tuple[Any, dict[KeyPath, int]]:
    """Parse ``text``; return the data and a map of key path → 1-based line (``None``
    and an empty map when it holds no document: only comments, blanks or ``---``)."""
    env = os.environ if env is None else env
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        hint = (
            "YAML indents with spaces, never tabs"
            if "\t" in text and "tab" in problem.lower()
            else None
        )
        if "found character '\\t'" in problem:
            hint = "YAML indents with spaces, never tabs: replace the tab characters"
        raise ConfigError(f"invalid YAML: {problem}", file=filename, line=line, hint=hint) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=filename) from None
    lines: dict[KeyPath, int] = {}
    if node is None or (
        isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and node.value == ""
    ):
        # No document, or an empty one (a bare `---`): no data and no lines at all,
        # which tells an empty file apart from one that says `null`.
        return None, lines
    constructor = _Constructor()
    try:
        data = _build(node, (), lines, constructor, filename, env)
    except RecursionError:
        raise ConfigError(
            "a YAML alias refers to itself (or nests too deeply)",
            file=filename,
            hint="write the value out instead of using the recursive &anchor/*alias",
        ) from None
    return data, lines


def _build(
    node: yaml.Node,
    path: KeyPath,
    lines: dict[KeyPath, int],
    constructor: _Constructor,
    filename: str,
    env: Mapping[str, str],
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConfigError(
                    "YAML merge keys (<<) are not supported",
                    file=filename,
                    line=key_node.start_mark.line + 1,
                    hint="write the keys out in full",
                )
            try:
                key = constructor.construct_object(key_node, deep=True)
            except (ValueError, TypeError, yaml.YAMLError):
                key = None
            if isinstance(key, bool) and isinstance(key_node, yaml.ScalarNode):
                # YAML 1.1 reads a plain `on:` (or yes/no/off) as a boolean; a config
                # key is always a name, so keep the word as written (notify's `on:`).
                key = key_node.value
            if not isinstance(key, (str, int)):
                raise ConfigError(
                    f"keys must be plain strings, got {key!r}",
                    file=filename,
                    line=key_node.start_mark.line + 1,
                    key=_dotted(path),
                )
            key = str(key)
            child = (*path, key)
            if key in out:
                raise ConfigError(
                    f"duplicate key {key!r} (first at line {lines[child]})",
                    file=filename,
                    line=key_node.start_mark.line + 1,
                    key=_dotted(child),
                    hint="keep one of the two entries",
                )
            lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, lines, constructor, filename, env)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, i), lines, constructor, filename, env)
            for i, item in enumerate(node.value)
        ]
    try:
        value = constructor.construct_object(node, deep=True)
    except (ValueError, OverflowError, yaml.YAMLError) as exc:
        hint = "write dates as YYYY-MM-DD" if "timestamp" in node.tag else None
        raise ConfigError(
            f"invalid value {node.value!r}: {exc}",
            file=filename,
            line=node.start_mark.line + 1,
            key=_dotted(path),
            hint=hint,
        ) from None
    if isinstance(value, str) and "${" in value:
        value = _interpolate(value, env, filename, node.start_mark.line + 1, path)
    return value


def _interpolate(
    value: str, env: Mapping[str, str], filename: str, line: int, path: KeyPath
) -> str:
    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(
            f"environment variable {name} is not set",
            file=filename,
            line=line,
            key=_dotted(path),
            hint=f"export {name}=..., or write ${{{name}:-default}} for a fallback",
        )

    return _ENV_RE.sub(sub, value)


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_for(lines: Mapping[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    for n in range(len(path), -1, -1):
        found = lines.get(tuple(path[:n]))
        if found is not None:
            return found
    return None


dotted = _dotted
