"""Benchmark: `sfaudit verify-backup` against `unzip -tq` on the same Data Export.

Generates a realistic export of about --size-mb compressed megabytes (wide records,
long text with commas, doubled quotes and line breaks inside quotes, several
parts, attachment files), then times, in the same run and alternating:

  unzip -tq 'DIR/WE_*.ZIP'                  inflate + CRC of every member
  sfaudit verify-backup DIR --format json   the same, plus exact record counts

and prints the medians, their ratio (target <= 1.0) and sfaudit's peak RSS
(target <= 200 MB), sampled over the whole process tree. sfaudit's counts are
checked against the generated counts, so a fast wrong answer cannot pass.

    python benchmarks/backup_bench.py --size-mb 600 --rounds 3
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from pathlib import Path

from sfaudit.testing.exports import ExportBuilder

ORG = "00D5g000000BENCHA2"
#: (object, fields, long-text words, share of the CSV bytes)
OBJECTS = [
    ("Account", 45, 400, 0.20),
    ("Contact", 30, 200, 0.18),
    ("Opportunity", 35, 300, 0.12),
    ("Case", 28, 900, 0.16),
    ("Task", 14, 150, 0.14),
    ("Invoice_Line__c", 9, 40, 0.08),
    ("Project__c", 80, 300, 0.12),
]
ATTACHMENT_SHARE = 0.10
BLOCK_ROWS = 1500


def _fields(n: int) -> list[str]:
    base = ["Id", "IsDeleted", "Name", "OwnerId", "CreatedDate", "LastModifiedDate", "Description"]
    return base + [f"Field{i}__c" for i in range(max(0, n - len(base)))]


def _block(name: str, fields: int, words: int, line_end: str, seed: int) -> tuple[bytes, bytes]:
    """A header and a block of rows; the block repeats (deflate sees 32 KB only)."""
    b = ExportBuilder(line_end=line_end, seed=seed)
    b.object(name, BLOCK_ROWS, fields=_fields(fields), long_text=words)
    data = b.csv_bytes(name)
    cut = data.index(line_end.encode()) + len(line_end)
    return data[:cut], data[cut:]


def _write_part(
    path: Path, plan: list[tuple[str, int, int, int, int]], files: int, seed: int
) -> None:
    """One part: per object (name, fields, words, repeats, seed), then attachments."""
    import random

    rnd = random.Random(seed)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, fields, words, repeats, oseed in plan:
            header, block = _block(name, fields, words, "\r\n" if oseed % 2 else "\n", oseed)
            info = zipfile.ZipInfo(f"{name}.csv", (2026, 11, 20, 3, 15, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as out:
                out.write(header)
                for _ in range(repeats):
                    out.write(block)
        written = 0
        i = 0
        while written < files:
            size = min(files - written, rnd.randint(20_000, 2_000_000))
            rid = f"00P5g{seed:02d}{i:08d}"[:15] + "AAA"
            info = zipfile.ZipInfo(f"Attachments/{rid}", (2026, 11, 20, 3, 15, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, rnd.randbytes(size))
            written += size
            i += 1


def generate(folder: Path, size_mb: int, parts: int) -> dict[str, int]:
    """Write the export; returns the true record count per object."""
    folder.mkdir(parents=True, exist_ok=True)
    ratio_probe = b"".join(_block(n, f, w, "\n", 1)[1] for n, f, w, _ in OBJECTS)
    ratio = len(ratio_probe) / len(zlib.compress(ratio_probe, 6))
    csv_raw = size_mb * 1e6 * (1 - ATTACHMENT_SHARE) * ratio
    counts: dict[str, int] = {}
    plans: list[list[tuple[str, int, int, int, int]]] = [[] for _ in range(parts)]
    for i, (name, fields, words, share) in enumerate(OBJECTS):
        block_len = len(_block(name, fields, words, "\n", 100 + i)[1])
        repeats = max(1, round(csv_raw * share / block_len))
        counts[name] = repeats * BLOCK_ROWS
        plans[i % parts].append((name, fields, words, repeats, 100 + i))
    files = int(size_mb * 1e6 * ATTACHMENT_SHARE / parts)
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        jobs = [
            pool.submit(_write_part, folder / f"WE_{ORG}_{n + 1}.ZIP", plans[n], files, n)
            for n in range(parts)
        ]
        for job in jobs:
            job.result()
    return counts


def _tree_rss(pid: int) -> tuple[int, int]:
    """(sum, max) RSS in bytes of ``pid`` and its descendants."""
    total = biggest = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) * 1024
                        total += rss
                        biggest = max(biggest, rss)
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total, biggest


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str, int, int, int]:
    """Run ``cmd``; returns (seconds, stdout, returncode, peak tree RSS, peak process RSS)."""
    peak = [0, 0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total, biggest = _tree_rss(proc.pid)
            peak[0], peak[1] = max(peak[0], total), max(peak[1], biggest)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {err.strip()}")
    return seconds, out, proc.returncode, peak[0], peak[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=300, help="compressed size of the export")
    parser.add_argument(
        "--parts", type=int, default=0, help="number of parts (default: ~250 MB each, at least 3)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder")
    parser.add_argument(
        "--backends", default="", help="also time these inflate backends, e.g. zlib,zlib-ng,isal"
    )
    args = parser.parse_args()
    if shutil.which("unzip") is None:
        sys.exit("unzip is not installed (apt-get install unzip)")
    sfaudit = str(Path(sys.executable).with_name("sfaudit"))
    parts = args.parts or max(3, round(args.size_mb / 250))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="sfaudit-bench-"))
    counts_file = folder / "counts.json"
    try:
        if args.keep and counts_file.is_file():
            counts = json.loads(counts_file.read_text())
            print(f"reusing the export in {folder}")
        else:
            t0 = time.perf_counter()
            counts = generate(folder, args.size_mb, parts)
            counts_file.write_text(json.dumps(counts))
            print(f"generated in {time.perf_counter() - t0:.0f} s: {folder}")
        zips = sorted(folder.glob("WE_*.ZIP"))
        compressed = sum(p.stat().st_size for p in zips)
        inflated = 0
        for z in zips:
            with zipfile.ZipFile(z) as zf:
                inflated += sum(i.file_size for i in zf.infolist())
        print(
            f"export: {len(zips)} parts, {compressed / 1e6:.0f} MB compressed, "
            f"{inflated / 1e6:.0f} MB inflated, {sum(counts.values()):,} records "
            f"in {len(counts)} objects; {os.cpu_count()} cores"
        )
        unzip_cmd = ["unzip", "-tq", str(folder / "WE_*.ZIP")]
        sf_cmd = [sfaudit, "verify-backup", str(folder), "--format", "json"]
        t_unzip: list[float] = []
        t_sf: list[float] = []
        rss_tree = rss_proc = 0
        for r in range(args.rounds):
            secs, out, code, _, _ = timed(unzip_cmd)
            if code != 0:
                sys.exit(f"unzip -t found errors: {out}")
            t_unzip.append(secs)
            secs, out, code, tree, proc = timed(sf_cmd)
            doc = json.loads(out)
            got = {o["name"]: o["records"] for o in doc["scan"]["objects"]}
            if got != counts or doc["findings"] or code != 0:
                sys.exit(f"sfaudit's answer is wrong: {got} vs {counts}; {doc['findings']}")
            t_sf.append(secs)
            rss_tree, rss_proc = max(rss_tree, tree), max(rss_proc, proc)
            print(f"round {r + 1}: unzip -tq {t_unzip[-1]:.2f} s, sfaudit {secs:.2f} s")
        mu, ms = statistics.median(t_unzip), statistics.median(t_sf)
        print(
            f"median unzip -tq:              {mu:.2f} s ({inflated / 1e6 / mu:.0f} MB/s inflated)"
        )
        print(
            f"median sfaudit verify-backup:  {ms:.2f} s ({inflated / 1e6 / ms:.0f} MB/s inflated)"
        )
        print(f"ratio sfaudit / unzip:         {ms / mu:.2f} (target <= 1.0)")
        print(
            f"sfaudit peak RSS:              {rss_tree / 1e6:.0f} MB for the process tree, "
            f"{rss_proc / 1e6:.0f} MB largest process (target <= 200 MB)"
        )
        print(f"inflate backend: {doc['scan']['backend']}, workers: {doc['scan']['workers']}")
        for backend in [b for b in args.backends.split(",") if b]:
            env = {**os.environ, "SFAUDIT_INFLATE": backend}
            secs, out, _, _, _ = timed(sf_cmd, env)
            used = json.loads(out)["scan"]["backend"]
            print(f"backend {used:8s}: {secs:.2f} s (ratio {secs / mu:.2f}), one round")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
