"""The figures in docs/guarantees.md are the sizes of the test tables: they cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import test_bad_inputs, test_fault_matrix, test_read_only, test_secrets

ROOT = Path(__file__).resolve().parent.parent


GUARANTEES = ROOT / "docs" / "guarantees.md"


def _section() -> str:
    """The Guarantees page, from its title on."""
    text = GUARANTEES.read_text(encoding="utf-8")
    return text[text.index("# Guarantees\n") :]


def _figure(pattern: str) -> int:
    """The bold number in front of ``pattern`` on the Guarantees page."""
    found = re.findall(r"\*\*(\d[\d,]*)\*\* " + pattern, _section())
    assert len(found) == 1, f"docs/guarantees.md states '**N** {pattern}' once, found {found}"
    return int(found[0].replace(",", ""))


def _fuzz_examples() -> int:
    source = (ROOT / "tests" / "test_fuzz_config.py").read_text(encoding="utf-8")
    return sum(int(n) for n in re.findall(r"max_examples=(\d+)", source))


FAULTS = test_fault_matrix.FAULTS
EXPECTED: dict[str, int] = {
    "bad inputs tried": len(test_bad_inputs.CASES),
    "generated configs": _fuzz_examples(),
    "faults injected": len(FAULTS),
    r"survived": sum(1 for f in FAULTS if f.expect == test_fault_matrix.SURVIVED),
    "failed cleanly": sum(1 for f in FAULTS if f.expect == test_fault_matrix.CLEAN),
    "credential variables": len(test_secrets.SECRET_VARS),
    r"commands \(every auth flow": len(test_secrets.SCENARIOS),
    "commands checked": len(test_read_only.COMMANDS),
    "writes": 0,
    "write calls": len(test_read_only.WRITES),
}


@pytest.mark.parametrize("pattern", sorted(EXPECTED))
def test_guarantees_figure_matches_its_table(pattern: str) -> None:
    assert _figure(pattern) == EXPECTED[pattern], (
        f"docs/guarantees.md says {_figure(pattern)} {pattern!r}; the tests hold "
        f"{EXPECTED[pattern]}: update docs/guarantees.md"
    )


def test_the_tables_meet_the_issue() -> None:
    assert len(test_bad_inputs.CASES) >= 40
    assert len(FAULTS) >= 12
    assert EXPECTED["survived"] + EXPECTED["failed cleanly"] == len(FAULTS)
    assert {f.expect for f in FAULTS} == {test_fault_matrix.SURVIVED, test_fault_matrix.CLEAN}
