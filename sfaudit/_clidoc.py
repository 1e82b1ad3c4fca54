"""The CLI reference (docs/cli.md), generated from click's command tree so it cannot
drift from the code. Regenerate with ``.venv/bin/python -m sfaudit._clidoc > docs/cli.md``
(or ``make docs``); tests/test_docs.py fails while the file differs."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Iterator

import click

#: Help is wrapped at this width whatever the terminal, so the output is stable.
WIDTH = 100
REGENERATE = ".venv/bin/python -m sfaudit._clidoc > docs/cli.md"

HEADER = f"""\
# CLI reference

Every `sfaudit` command with its `--help`, generated from the code: do not edit
by hand. Regenerate with `make docs`, or:

    {REGENERATE}

`tests/test_docs.py` fails while this page differs from what the code prints.
Exit codes are in [Configuration](configuration.md#exit-codes)."""


def walk(
    command: click.Command, name: str = "sfaudit", parent: click.Context | None = None
) -> Iterator[tuple[str, click.Command, click.Context]]:
    """Every visible command under ``command`` (itself first), with its full name and
    a help context of a fixed width. Sub-commands come in alphabetical order."""
    if parent is None:
        settings = {**command.context_settings, "terminal_width": WIDTH}
        settings["max_content_width"] = WIDTH
        ctx = click.Context(command, info_name=name, **settings)
    else:
        ctx = click.Context(command, info_name=name.rsplit(" ", 1)[-1], parent=parent)
    yield name, command, ctx
    if isinstance(command, click.Group):
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, f"{name} {sub_name}", ctx)


def reference(command: click.Command | None = None) -> str:
    """The Markdown of docs/cli.md: a section per command with its help text."""
    if command is None:
        from .cli import main

        command = main
    commands = list(walk(command))
    parts = [HEADER]
    parts.append("\n".join(f"- [`{name}`](#{name.replace(' ', '-')})" for name, _, _ in commands))
    for name, cmd, ctx in commands:
        parts.append(f"## {name}")
        summary = inspect.cleandoc(cmd.help or "").split("\n\n")[0]
        if summary:
            parts.append(textwrap.fill(" ".join(summary.split()), 80))
        help_text = "\n".join(line.rstrip() for line in cmd.get_help(ctx).splitlines())
        parts.append(f"```text\n{help_text}\n```")
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    click.echo(reference(), nl=False)
