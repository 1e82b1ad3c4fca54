"""Benchmark: `sfaudit verify-backup` against `unzip -tq` on the same Data Exports.

Four workloads, generated reproducibly (fixed seeds) into a cache folder and reused:

  csv-heavy    one ~47 MB part holding ~300 MB of CSV in one member: every field
               quoted, values with line breaks and doubled quotes, deflate level 6
  csv-parts    ~600 MB of CSV in 7 objects, in parts of at most 64 MB (objects
               that do not fit are continued in the next part, header repeated)
  attachments  an attachment-heavy export: 90% of the bytes are binary files
  real         the real-profile export (ISO-8859-1, LF, NUL-led rich text,
               header-only CSVs, ContentBody blobs; sfaudit.testing.exports)

Each round runs `unzip -tq` and every sfaudit variant on the same files, one after
the other (the order flips each round, so drift on a shared machine falls on both),
and the report gives per workload the median of each, the median of the per-round
ratios sfaudit / unzip, the peak RSS of sfaudit's whole process tree (the CLI, the
forkserver and its workers, sampled every 20 ms) and the CPU seconds of the whole
tree. sfaudit's record counts are checked against the generated ones, so a fast
wrong answer fails the benchmark.

A variant is an inflate backend (``--backends``: ``default`` is what a scan picks,
``zlib`` is a plain install without isal and zlib-ng: SFAUDIT_INFLATE=zlib) run from
a source tree (``--tree``: the installed sfaudit, or another checkout, for
before/after figures in one invocation).

    python benchmarks/backup_bench.py                       # every workload, 3 rounds
    python benchmarks/backup_bench.py --scale 0.05 --rounds 1   # a quick check
    python benchmarks/backup_bench.py --workloads csv-heavy --backends zlib --rounds 5
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ORG = "00D5g000000BENCHA2"
STAMP = (2026, 11, 20, 3, 15, 0)
#: Bumped whenever a generator changes, so a stale cache is not reused.
GENERATOR_VERSION = 1
WORKLOADS = ("csv-heavy", "csv-parts", "attachments", "real")
TARGETS = {"csv-heavy": 0.5}  # every other workload: 1.0
RSS_TARGET = 200e6
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "backup_bench"

_ALNUM = string.ascii_letters + string.digits


def _vocabulary(rnd: random.Random, n: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "xi", "zu", "br", "st", "qu"]
    words = []
    for _ in range(n):
        words.append("".join(rnd.choice(syllables) for _ in range(rnd.randint(1, 4))))
    return words


def _fields(n: int) -> list[str]:
    base = ["Id", "IsDeleted", "Name", "OwnerId", "CreatedDate", "LastModifiedDate", "Description"]
    return base + [f"Field{i}__c" for i in range(max(0, n - len(base)))]


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _block(fields: int, words: int, seed: int, target: int = 4 << 20) -> tuple[bytes, bytes, int]:
    """(header, block of rows, rows in the block): a Data Export CSV as Salesforce quotes
    it, every field in quotes, long text with commas, doubled quotes and line breaks in
    every third record; words drawn Zipf-like, Ids sequential, as in an org. The block is
    repeated to make a large CSV: it is far larger than deflate's 32 KB window, so
    repeating it does not make it compress better (about 6:1 at level 6, as real ones)."""
    rnd = random.Random(seed)
    vocab = _vocabulary(rnd, 1500)
    weights = list(itertools.accumulate(1 / (i + 1) ** 1.1 for i in range(len(vocab))))

    def pick(k: int) -> list[str]:
        return rnd.choices(vocab, cum_weights=weights, k=k)

    # Long text repeats itself in an org (templates, signatures, stock phrases).
    sentences = [" ".join(pick(rnd.randint(3, 12))).capitalize() for _ in range(600)]
    said = list(itertools.accumulate(1 / (i + 1) for i in range(len(sentences))))
    header = ",".join(_quote(f) for f in _fields(fields)) + "\n"
    owners = ["0055g00000" + "".join(rnd.choices(_ALNUM, k=5)) + "AAA" for _ in range(40)]
    rows: list[str] = []
    size = 0
    while size < target:
        i = len(rows)
        values = [
            f"a0B5g0000{seed:03d}{i:06d}AAA",
            "0" if i % 17 else "1",
            " ".join(pick(rnd.randint(1, 3))).title(),
            rnd.choice(owners),
            f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} "
            f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}",
            f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} 10:00:00",
        ]
        text = ". ".join(rnd.choices(sentences, cum_weights=said, k=rnd.randint(1, words // 6)))
        if i % 3 == 0:
            text += f'\n-- line two, with a comma, and "{pick(1)[0]}" quoted\n\nlast line'
        values.append(text)
        for f in range(fields - len(values)):
            kind = f % 10
            if kind in (0, 3, 6, 8):  # most fields of a real org are empty
                values.append("")
            elif kind in (1, 7):
                values.append("1" if rnd.random() < 0.2 else "0")
            elif kind == 2:
                values.append(pick(1)[0].title())
            elif kind == 4:
                values.append(f"{rnd.randint(0, 200) * 25}.00")
            elif kind == 5:
                values.append(" ".join(pick(rnd.randint(0, 6))))
            else:
                values.append(rnd.choice(owners))
        row = ",".join(_quote(v) for v in values) + "\n"
        rows.append(row)
        size += len(row)
    return header.encode(), "".join(rows).encode(), len(rows)


def _block_bytes(scale: float, full: int) -> int:
    """A block's size: ``full`` at full scale, smaller (but past deflate's window) below."""
    return int(min(full, max(256 << 10, full * scale * 4)))


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def gen_csv_heavy(folder: Path, scale: float) -> dict[str, int]:
    header, block, rows = _block(30, 90, seed=1, target=_block_bytes(scale, 4 << 20))
    repeats = max(1, round(300e6 * scale / len(block)))
    part = folder / f"WE_{ORG}_1.ZIP"
    with zipfile.ZipFile(part, "w", compresslevel=6) as zf, zf.open(_info("Case.csv"), "w") as out:
        out.write(header)
        for _ in range(repeats):
            out.write(block)
    return {"Case": rows * repeats}


#: (object, fields, long-text words, share of the CSV bytes)
PART_OBJECTS = [
    ("Account", 45, 120, 0.22),
    ("Contact", 30, 60, 0.18),
    ("Opportunity", 35, 80, 0.12),
    ("Case", 28, 250, 0.18),
    ("Task", 14, 40, 0.14),
    ("Invoice_Line__c", 9, 10, 0.06),
    ("Project__c", 80, 90, 0.10),
]


def gen_csv_parts(folder: Path, scale: float, part_bytes: float = 64e6) -> dict[str, int]:
    """Objects written one after the other; a part that reaches ``part_bytes`` (scaled)
    is closed and the object goes on in the next part as a new CSV with its header."""
    limit = part_bytes * scale
    counts: dict[str, int] = {}
    number = 1
    zf = zipfile.ZipFile(folder / f"WE_{ORG}_{number}.ZIP", "w", compresslevel=6)
    try:
        for i, (name, fields, words, share) in enumerate(PART_OBJECTS):
            header, block, rows = _block(
                fields, words, seed=100 + i, target=_block_bytes(scale, 2 << 20)
            )
            repeats = max(1, round(600e6 * scale * share / len(block)))
            counts[name] = rows * repeats
            left = repeats
            while left:
                with zf.open(_info(f"{name}.csv"), "w") as out:
                    out.write(header)
                    while left and zf.fp.tell() < limit:  # type: ignore[union-attr]
                        out.write(block)
                        left -= 1
                if left:
                    zf.close()
                    number += 1
                    zf = zipfile.ZipFile(folder / f"WE_{ORG}_{number}.ZIP", "w", compresslevel=6)
    finally:
        zf.close()
    return counts


def gen_attachments(folder: Path, scale: float) -> dict[str, int]:
    """~400 MB: attachment files (random bytes, as compressed formats are) are 90%."""
    from sfaudit.testing.exports import ExportBuilder

    total = 400e6 * scale
    size = 1_500_000 if scale >= 0.2 else 100_000
    files = max(2, int(total * 0.9 / size))
    b = ExportBuilder(org_id=ORG, seed=7)
    b.object("Attachment", files)
    b.files("Attachment", size=size)
    b.object("Account", max(10, int(total * 0.1 / 2 / 1500)), long_text=120)
    b.object("Contact", max(10, int(total * 0.1 / 2 / 1000)), long_text=80)
    b.write(folder, parts=2)
    return {name: b.true_count(name) for name in ("Attachment", "Account", "Contact")}


def gen_real(folder: Path, scale: float) -> dict[str, int]:
    """The real-profile export of sfaudit.testing.exports (the demo's builder: header-only
    CSVs, aliases, ContentBody blobs, files) in parts 2 and 3, and the bulk of the
    records in part 1: real-profile blocks (ISO-8859-1, NUL-led rich text) repeated."""
    import datetime as dt

    from sfaudit.testing.exports import ExportBuilder, write_demo_export

    small = {"Account": 400, "Contact": 800, "Lead": 300, "Attachment": 40, "Document": 12}
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        write_demo_export(
            tmp, small, org_id=ORG, exported_at=dt.datetime(*STAMP), parts=2, profile="real"
        )
        counts = _counts_of(Path(tmp))
        for n, part in enumerate(sorted(Path(tmp).glob("WE_*.ZIP")), start=2):
            part.rename(folder / f"WE_{ORG}_{n}.ZIP")
    with zipfile.ZipFile(folder / f"WE_{ORG}_1.ZIP", "w", compresslevel=6) as zf:
        for i, (name, words, share) in enumerate(
            [("Opportunity", 200, 0.4), ("Case", 300, 0.35), ("Task", 60, 0.25)]
        ):
            b = ExportBuilder.real(org_id=ORG, seed=30 + i)
            b.object(name, 2000, long_text=words)
            data = b.csv_bytes(name)
            cut = data.index(b"\n") + 1
            header, block = data[:cut], data[cut:]
            repeats = max(1, round(300e6 * scale * share / len(block)))
            counts[name] = b.true_count(name) * repeats
            with zf.open(_info(f"{name}.csv"), "w") as out:
                out.write(header)
                for _ in range(repeats):
                    out.write(block)
    return counts


def _counts_of(folder: Path) -> dict[str, int]:
    """Records per CSV of the ZIPs in ``folder``, by :mod:`csv` (the reference)."""
    import csv
    import io

    counts: dict[str, int] = {}
    for part in sorted(folder.glob("WE_*.ZIP")):
        with zipfile.ZipFile(part) as zf:
            for info in zf.infolist():
                if "/" in info.filename or not info.filename.endswith(".csv"):
                    continue
                text = zf.read(info).decode("iso-8859-1").replace("\x00", "")
                rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
                name = info.filename[:-4]
                counts[name] = counts.get(name, 0) + max(0, len(rows) - 1)
    return counts


GENERATORS: dict[str, Callable[[Path, float], dict[str, int]]] = {
    "csv-heavy": gen_csv_heavy,
    "csv-parts": gen_csv_parts,
    "attachments": gen_attachments,
    "real": gen_real,
}


def workload(cache: Path, name: str, scale: float) -> tuple[Path, dict[str, int]]:
    """The workload's folder (generated unless the cache has it) and its true counts."""
    folder = cache / f"{name}-x{scale:g}-v{GENERATOR_VERSION}"
    manifest = folder / "counts.json"
    if manifest.is_file():
        return folder, json.loads(manifest.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    counts = GENERATORS[name](folder, scale)
    manifest.write_text(json.dumps(counts))  # written last: a half-made workload is redone
    print(f"  generated {name} in {time.perf_counter() - t0:.0f} s", flush=True)
    return folder, counts


# --- measuring ---------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def _sample(pid: int) -> tuple[int, float] | None:
    """(RSS bytes, CPU seconds) of one process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/statm") as f:
            rss_pages = int(f.read().split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None
    cpu = (int(stat[11]) + int(stat[12])) / _TICK  # utime, stime
    return rss_pages * os.sysconf("SC_PAGE_SIZE"), cpu


@dataclass
class Run:
    seconds: float
    out: str
    code: int
    rss: int  # peak RSS of the whole tree
    cpu: float  # CPU seconds of the whole tree


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> Run:
    """Run ``cmd``, sampling its process tree: peak summed RSS, and CPU seconds (the
    larger of the reaped children's rusage and the sum of every process's last sample)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, cwd=cwd
    )
    done = threading.Event()
    peak = [0]
    cpu_seen: dict[int, float] = {}

    def sample() -> None:
        while not done.is_set():
            total = 0
            for p in _tree(proc.pid):
                got = _sample(p)
                if got is not None:
                    total += got[0]
                    cpu_seen[p] = max(cpu_seen.get(p, 0.0), got[1])
            peak[0] = max(peak[0], total)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return Run(seconds, out, proc.returncode, peak[0], max(reaped, sum(cpu_seen.values())))


@dataclass
class Variant:
    label: str
    cmd: list[str]
    env: dict[str, str]
    #: Where it runs: ``python -m`` puts the working folder first on sys.path.
    cwd: str | None = None
    runs: list[Run] = field(default_factory=list)


def _variants(trees: list[str], backends: list[str]) -> list[Variant]:
    out = []
    installed = str(Path(sys.executable).with_name("sfaudit"))
    for tree in trees or [""]:
        for backend in backends:
            env = {k: v for k, v in os.environ.items() if k != "SFAUDIT_INFLATE"}
            if backend != "default":
                env["SFAUDIT_INFLATE"] = backend
            if tree:
                env["PYTHONPATH"] = str(Path(tree).resolve())
                cmd = [sys.executable, "-m", "sfaudit"]
                label = f"{Path(tree).name}/{backend}"
            else:
                cmd = [installed]
                label = backend
            where = str(Path(tree).resolve()) if tree else tempfile.gettempdir()
            out.append(Variant(label, [*cmd, "verify-backup"], env, where))
    return out


def _check(run: Run, counts: dict[str, int], what: str) -> str:
    doc = json.loads(run.out)
    got = {o["name"]: o["records"] for o in doc["scan"]["objects"]}
    failing = [f for f in doc["findings"] if f.get("failing", True)]
    if got != counts or run.code != 0:
        sys.exit(
            f"{what}: sfaudit's answer is wrong: {got} vs {counts}; "
            f"{[f.get('message') for f in failing]}"
        )
    return f"{doc['scan']['backend']}, {doc['scan']['workers']} worker(s)"


def bench(
    name: str, folder: Path, counts: dict[str, int], variants: list[Variant], rounds: int
) -> list[str]:
    zips = sorted(folder.glob("WE_*.ZIP"))
    compressed = sum(p.stat().st_size for p in zips)
    inflated = 0
    for z in zips:
        with zipfile.ZipFile(z) as zf:
            inflated += sum(i.file_size for i in zf.infolist())
    print(
        f"\n== {name}: {len(zips)} part(s), {compressed / 1e6:.0f} MB compressed, "
        f"{inflated / 1e6:.0f} MB inflated, {sum(counts.values()):,} records",
        flush=True,
    )
    unzip = Variant("unzip -tq", ["unzip", "-tq", str(folder / "WE_*.ZIP")], dict(os.environ))
    for v in variants:
        v.runs = []
    how: dict[str, str] = {}
    flags = ["--format", "json", "--today", "2026-11-21", "--expected-parts", str(len(zips))]
    for r in range(rounds):
        order = [unzip, *variants] if r % 2 == 0 else [*variants, unzip]
        line = []
        for v in order:
            if v is unzip:
                run = timed(v.cmd, v.env, v.cwd)
                if run.code != 0:
                    sys.exit(f"unzip -t found errors in {name}: {run.out[-500:]}")
            else:
                run = timed([*v.cmd, str(folder), *flags], v.env, v.cwd)
                how[v.label] = _check(run, counts, f"{name} ({v.label})")
            v.runs.append(run)
            line.append(f"{v.label} {run.seconds:.2f} s")
        print(f"  round {r + 1}: " + ", ".join(line), flush=True)
    mu = statistics.median(x.seconds for x in unzip.runs)
    print(f"  unzip -tq: median {mu:.2f} s ({inflated / 1e6 / mu:.0f} MB/s inflated)")
    target = TARGETS.get(name, 1.0)
    summary = []
    for v in variants:
        ms = statistics.median(x.seconds for x in v.runs)
        pairs = [x.seconds / u.seconds for x, u in zip(v.runs, unzip.runs, strict=True)]
        ratio = statistics.median(pairs)
        rss = max(x.rss for x in v.runs)
        cpu = statistics.median(x.cpu for x in v.runs)
        ok = "ok" if ratio <= target and rss <= RSS_TARGET else "MISSED"
        print(
            f"  {v.label:<18} median {ms:.2f} s ({inflated / 1e6 / ms:.0f} MB/s), ratio "
            f"{ratio:.2f} (pairs {min(pairs):.2f}-{max(pairs):.2f}; target <= {target}), "
            f"peak tree RSS {rss / 1e6:.0f} MB, CPU {cpu:.2f} s, {how[v.label]}: {ok}"
        )
        summary.append(
            f"{name:<12} {v.label:<18} {ms:6.2f} s  unzip {mu:6.2f} s  ratio {ratio:4.2f} "
            f"(<= {target})  RSS {rss / 1e6:4.0f} MB  CPU {cpu:5.2f} s  {ok}"
        )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help=f"comma-separated: {', '.join(WORKLOADS)}"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="size factor (0.05: a quick run)")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds per workload")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where workloads live")
    parser.add_argument(
        "--backends",
        default="zlib,default",
        help="inflate backends to time: default (the scan's choice), zlib, zlib-ng, isal",
    )
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        help="run sfaudit from this source tree (PYTHONPATH); repeat to compare trees",
    )
    args = parser.parse_args(argv)
    if shutil.which("unzip") is None:
        sys.exit("unzip is not installed (apt-get install unzip)")
    names = [w for w in args.workloads.split(",") if w]
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        sys.exit(f"unknown workload(s): {', '.join(unknown)}")
    variants = _variants(args.tree, [b for b in args.backends.split(",") if b])
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; cache {args.cache}; "
        f"variants: {', '.join(v.label for v in variants)}",
        flush=True,
    )
    summary = []
    for name in names:
        folder, counts = workload(args.cache.resolve(), name, args.scale)
        summary += bench(name, folder, counts, variants, args.rounds)
    print(f"\nsummary (medians; load average now {os.getloadavg()[0]:.2f}):")
    for line in summary:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
