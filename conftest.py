"""Test-session setup for `make test` (tests/ and nbval on solutions/).

The smoke profile everywhere, kernels that do not capture C-level logs, and a per-notebook
timing table at the end of the run. It sits at the root so that it also sees nbval's items.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest

from utils.course import PROFILE_ENV
from utils.tooling.runner import prepare_ipythondir

#: Seconds a notebook may take in the smoke profile (reported, not asserted: machines are noisy).
BUDGET = 60.0
TIMINGS: dict[str, dict[str, float]] = defaultdict(dict)


def pytest_configure(config):
    # Kernels started by nbval inherit these: smoke profile, C-level logs not captured.
    os.environ.setdefault(PROFILE_ENV, "smoke")
    os.environ["IPYTHONDIR"] = str(prepare_ipythondir(Path(tempfile.mkdtemp(prefix="ipy-"))))


def record_timing(notebook: str, kind: str, seconds: float) -> None:
    """Remember how long `notebook` took for `kind` (lecture, lab, nbval)."""
    TIMINGS[notebook][kind] = seconds


def pytest_runtest_logreport(report):
    # nbval runs one test item per cell: add up each notebook's cells (and its kernel start).
    if ".ipynb::" in report.nodeid and report.when in ("setup", "call"):
        name = Path(report.nodeid.split("::")[0]).name
        TIMINGS[name]["nbval"] = TIMINGS[name].get("nbval", 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    kinds = ["lecture", "lab", "nbval"]  # nbval: the solution, run and compared
    tr = terminalreporter
    tr.section(f"notebook timings, smoke profile (seconds; budget {BUDGET:.0f} s each)")
    tr.write_line(f"{'unit':34s}" + "".join(f"{k:>10s}" for k in kinds))
    over = []
    for name in sorted(TIMINGS):
        row = TIMINGS[name]
        cells = "".join(f"{row[k]:10.1f}" if k in row else f"{'-':>10s}" for k in kinds)
        tr.write_line(f"{name:34s}{cells}")
        over += [f"{name} ({k}: {v:.0f} s)" for k, v in row.items() if v > BUDGET]
    total = sum(sum(r.values()) for r in TIMINGS.values())
    tr.write_line(f"{'total':34s}{total:10.1f}")
    if over:
        tr.write_line("over the 60 s budget: " + ", ".join(over))


@pytest.fixture
def smoke_env(monkeypatch):
    """The course's profile variable set to smoke for the test."""
    monkeypatch.setenv(PROFILE_ENV, "smoke")
