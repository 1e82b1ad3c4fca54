"""The backup benchmark runs end to end on tiny workloads (its figures are not asserted:
speed is measured by running it, see docs/performance.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "backup_bench.py"


def test_backup_bench_runs_every_workload_and_checks_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("backup_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["backup_bench"] = bench
    try:
        spec.loader.exec_module(bench)
        args = ["--scale", "0.005", "--rounds", "1", "--cache", str(tmp_path), "--backends", "zlib"]
        assert bench.main(args) == 0
        first = capsys.readouterr().out
        # A second run reuses the cached workloads (the same files, the same counts).
        assert bench.main([*args, "--workloads", "csv-heavy"]) == 0
        second = capsys.readouterr().out
    finally:
        sys.modules.pop("backup_bench", None)
    for name in bench.WORKLOADS:
        assert f"== {name}:" in first
        assert f"generated {name}" in first
    assert "generated" not in second and "== csv-heavy:" in second
    summary = first.split("summary")[1]
    assert summary.count("ratio") == len(bench.WORKLOADS)
    assert "RSS" in summary and "CPU" in summary
    # The export with parts really has several, some object continued in the next one.
    parts = sorted((tmp_path / "csv-parts-x0.005-v1").glob("WE_*.ZIP"))
    assert len(parts) >= 2
