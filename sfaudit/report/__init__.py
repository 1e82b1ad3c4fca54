"""Report formats: each is a plugin contributing a :class:`ReportFormat`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import chmod_default, temp_path
from ..errors import UsageError

if TYPE_CHECKING:
    from ..plugins import PluginManager
    from ..results import AuditReport


@dataclass(frozen=True)
class ReportContext:
    """What a writer may need besides the report itself."""

    output_dir: Path
    files: Mapping[str, str] = field(default_factory=dict)
    """format name → file name, for writers that link to each other."""
    lang: str = "en"
    title: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportFormat:
    """A report format: ``write(report, path, context)`` writes one file at ``path``."""

    name: str
    filename: str
    write: Callable[[AuditReport, Path, ReportContext], None]
    description: str = ""
    plugin: str = ""


def available_formats(pm: PluginManager) -> dict[str, ReportFormat]:
    """Shorthand for :meth:`sfaudit.plugins.PluginManager.collect_report_formats`."""
    return pm.collect_report_formats()


def check_formats(
    requested: Iterable[str], known: Mapping[str, object], *, what: str = "report"
) -> list[str]:
    """``requested`` format names, lower-cased, blanks and repeats dropped; an unknown
    one is a usage error listing ``known`` (report formats, or the roll-up's)."""
    names = []
    for name in requested:
        name = name.strip().lower()
        if not name:
            continue
        if name not in known:
            raise UsageError(
                f"unknown {what} format {name!r}",
                hint=f"available formats: {', '.join(sorted(known))}",
            )
        names.append(name)
    return list(dict.fromkeys(names))


def write_reports(
    report: AuditReport,
    formats: Mapping[str, ReportFormat],
    names: Iterable[str],
    output_dir: Path,
    *,
    lang: str = "en",
    title: str | None = None,
) -> tuple[dict[str, Path], list[str]]:
    """Write every format, then put them all in place; one writer failing never
    stops the others.

    Each file is written to a temporary name first and renamed only when all
    writers are done, so an interrupted run leaves the previous reports whole.
    A writer that fails is a problem on the report (the run is incomplete);
    the formats written before it are written again, so every file states
    the same verdict.

    :return: the files written by format, and the problems met.
    """
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot write reports to {output_dir}: {exc.strerror}",
            hint="pass -o with a writable folder (or set report.output)",
        ) from None
    names = list(names)
    context = ReportContext(
        output_dir=output_dir,
        files={n: formats[n].filename for n in names},
        lang=lang,
        title=title,
    )
    staged: dict[str, tuple[Path, Path]] = {}
    problems: list[str] = []

    def write(name: str) -> None:
        tmp = staged[name][0]
        try:
            formats[name].write(report, tmp, context)
        except Exception as exc:
            problem = f"the {name} report could not be written: {type(exc).__name__}: {exc}"
            problems.append(problem)
            report.problems.append(problem)
            del staged[name]
            tmp.unlink(missing_ok=True)

    try:
        for name in names:
            target = output_dir / formats[name].filename
            staged[name] = (temp_path(target), target)
            write(name)
        if problems:  # the verdict changed: the files written before must say so too
            for name in list(staged):
                write(name)
        written: dict[str, Path] = {}
        for name, (tmp, target) in staged.items():
            chmod_default(tmp)
            os.replace(tmp, target)
            written[name] = target
        return written, problems
    finally:
        for tmp, _ in staged.values():
            tmp.unlink(missing_ok=True)
