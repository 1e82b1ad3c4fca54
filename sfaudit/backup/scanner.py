"""Scan a Salesforce Data Export: every ZIP member inflated and CRC-checked, every
object CSV counted exactly, binary files matched to their rows.

Nothing is extracted and no member is held in memory: members are read in
1 MiB slices, inflated in pieces of at most 4 MiB and counted as they come.
Objects (a CSV, with its pieces in later parts) and batches of binary files are
jobs, run on every core by a process pool (inflating releases the GIL, but
counting is Python: processes beat threads here).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from . import inflate, members
from .csvcount import AUTO, CsvStats, id_hash, is_single_byte
from .files import SAMPLE, _match_files
from .members import (
    MAX_RATIO,
    CsvJob,
    Job,
    JobResult,
    Member,
    _Counter,
    _init_worker,
    iter_member,
    run_job,
)
from .model import (
    COUNT_KINDS,
    ObjectStats,
    Problem,
    ScanResult,
)
from .parts import _check_parts, _discover, _discover_many, _Plan, _plan_folder, _plan_zip

__all__ = ["MAX_RATIO", "Member", "default_workers", "iter_member", "scan"]

#: Below this much compressed data, scanning in-process beats starting workers.
POOL_MIN_BYTES = 32 << 20


def _pool_context() -> Any:
    """forkserver where it exists: forking a process that runs threads (a
    progress bar, a test server) can deadlock the child; the server starts
    from a clean, single-threaded process with the scanner already imported."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([members.__name__, __name__])
        return ctx
    return multiprocessing.get_context()


def _encoding_note(result: ScanResult) -> None:
    """A single-byte export is complete; say so once, and what it costs."""
    single = sorted(
        o.name for o in result.objects.values() if o.intact and is_single_byte(o.encoding)
    )
    declared = result.encoding
    if not single and not is_single_byte(declared):
        return
    what = (
        f"{declared.upper()} (as set)"
        if is_single_byte(declared)
        else "a single-byte Western encoding (ISO-8859-1 or Windows-1252)"
    )
    shown = ", ".join(single[:5]) + (f" and {len(single) - 5} more" if len(single) > 5 else "")
    held = f"; {len(single)} CSV(s) hold text in it ({shown})" if single else ""
    result.problems.append(
        Problem(
            "encoding-note",
            f"the export is in {what}{held}: it was counted exactly, but Salesforce "
            "replaced every character that encoding cannot hold with '?'",
            data={"objects": single[:SAMPLE], "encoding": declared},
        )
    )


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def scan(
    path: str | Path | Sequence[str | Path],
    *,
    encoding: str = AUTO,
    workers: int | None = None,
    progress: bool | None = None,
    backend: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Scan the Data Export at ``path`` (a folder of WE_*.ZIP parts, one ZIP, or
    an unpacked folder; or a list of ZIPs and folders of ZIPs: one export).

    :param encoding: the export's encoding, or ``auto`` (each CSV's is detected).
    :param workers: processes to use; default every core. 1 scans in-process.
    :param progress: show a progress bar; default only when stderr is a terminal.
    :param backend: inflate backend (``isal``, ``zlib-ng``, ``zlib``); default the fastest.
    :param on_progress: called with (bytes done, bytes total) as the scan advances.
    """
    paths = [Path(p) for p in ([path] if isinstance(path, (str, Path)) else path)]
    if not paths:
        raise InputError("no backup path given")
    root = paths[0]
    started = time.perf_counter()
    layout, zips, skipped = _discover(root) if len(paths) == 1 else _discover_many(paths)
    chosen = inflate.choose(backend)
    result = ScanResult(
        path=", ".join(map(str, paths)),
        layout=layout,
        backend=chosen,
        backend_note=inflate.note(chosen),
        encoding=encoding,
    )
    result.problems.extend(skipped)
    plan = _Plan(result)
    if layout == "folder":
        _plan_folder(plan, root)
    else:
        for zpath, number, org_id in zips:
            _plan_zip(plan, zpath, number, org_id, chosen)
        _check_parts(result)
    jobs: list[Job] = [
        CsvJob(obj, tuple(pieces), encoding, chosen) for obj, pieces in plan.csv_pieces.items()
    ]
    jobs.extend(plan.blob_jobs)
    jobs.sort(key=lambda j: -j.weight)
    total = sum(j.weight for j in jobs)
    # Jobs with nothing to inflate (a part's run of entries that are all CSVs) do not
    # need a worker of their own: one large CSV is scanned in-process, inflating in
    # one thread and counting in another, without the cost of starting a pool.
    busy = sum(1 for j in jobs if j.weight > 0)
    n_workers = max(1, min(workers or default_workers(), busy))
    if total < POOL_MIN_BYTES and workers is None:
        n_workers = 1
    result.workers = n_workers
    if n_workers < default_workers():  # a core to spare: inflate and count apart
        jobs = [replace(j, pipeline=True) if isinstance(j, CsvJob) else j for j in jobs]
    show = sys.stderr.isatty() if progress is None else progress
    results = _execute(jobs, n_workers, total, show, on_progress)
    id_lists: dict[str, CsvStats] = {}
    hashes: dict[int, bytes] = {}
    for res in results:
        result.problems.extend(res.problems)
        hashes.update((id_hash(rid), digest) for rid, digest in res.hashes)
        result.bytes_read += res.bytes_read
        result.bytes_inflated += res.bytes_out
        if res.object is None or res.stats is None:
            continue
        stats = res.stats
        reliable = res.failed_members == 0 and not any(p.kind in COUNT_KINDS for p in res.problems)
        result.objects[res.object] = ObjectStats(
            name=res.object,
            records=stats.records,
            bytes=stats.bytes,
            sources=res.sources,
            header=stats.header,
            encoding=stats.encoding,
            intact=reliable,
        )
        if stats.id_keys is not None:
            id_lists[res.object] = stats
    for part in result.parts:
        if any(p.part == part.name and p.kind in ("crc", "corrupt") for p in result.problems):
            part.intact = False
    _match_files(plan, id_lists, hashes)
    _encoding_note(result)
    if not plan.csv_pieces and layout != "folder" and all(p.intact for p in result.parts):
        result.problems.append(
            Problem("no-csv", "the export holds no object CSV at all: it is not a Data Export")
        )
    result.seconds = time.perf_counter() - started
    return result


def _execute(
    jobs: list[Job],
    n_workers: int,
    total: int,
    show: bool,
    on_progress: Callable[[int, int], None] | None,
) -> list[JobResult]:
    bar: _Bar | None = None
    try:
        if n_workers == 1:
            bar = _Bar(total) if show and total else None
            members._progress = counter = _Counter()
            out = []
            for job in jobs:
                out.append(run_job(job))
                if bar:
                    bar.update(counter.value)
                if on_progress:
                    on_progress(counter.value, total)
            return out
        ctx = _pool_context()
        shared = ctx.Value("q", 0)
        done_results: dict[int, JobResult] = {}
        with cf.ProcessPoolExecutor(
            max_workers=n_workers, mp_context=ctx, initializer=_init_worker, initargs=(shared,)
        ) as pool:
            futures = {pool.submit(run_job, job): i for i, job in enumerate(jobs)}
            # Workers start on the first submit: start the bar's thread after.
            bar = _Bar(total) if show and total else None
            pending = set(futures)
            while pending:
                finished, pending = cf.wait(pending, timeout=0.2)
                for fut in finished:
                    try:
                        done_results[futures[fut]] = fut.result()
                    except BrokenProcessPool as exc:
                        raise InputError(f"a scanner worker died: {exc}") from None
                if bar:
                    bar.update(int(shared.value))
                if on_progress:
                    on_progress(int(shared.value), total)
        return [done_results[i] for i in range(len(jobs))]
    finally:
        members._progress = _Counter()
        if bar:
            bar.close()


class _Bar:
    """A rich progress bar on stderr: bytes, rate and time left."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("verifying backup"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("scan", total=total)
        self._progress.start()

    def update(self, done: int) -> None:
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        self._progress.stop()
