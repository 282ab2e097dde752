"""Test-session setup for `make test` (tests/ and nbval on solutions/).

- every kernel runs the smoke profile and does not capture C-level logs;
- solutions are compared by nbval in kernels that compute like another CPU of the same kind
  (see `OTHER_CPU`), so an output that holds floating-point noise fails here, not on CI's CPU;
- under pytest-xdist (`make test` runs `-n auto`), each solution's cells stay together on one
  worker and the notebooks start first (the slowest work first keeps both cores busy);
- the per-notebook timing table and the run's wall time are printed at the end (the timings
  travel from the workers in each report's `user_properties`), and written, with every lecture
  the run executed, to `build/executed/` for the website.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest

from utils.course import PROFILE_ENV
from utils.tooling.runner import prepare_ipythondir

#: Seconds a notebook may take in the smoke profile (reported, not asserted: machines are noisy).
BUDGET = 60.0
#: Where the run leaves the lectures it executed and the timings (read by `make site`).
EXECUTED = Path(__file__).resolve().parent / "build" / "executed"
#: The kernel nbval compares the solutions in.
OTHER_CPU_KERNEL = "course-other-cpu"
TIMING_KEY = "notebook_timing"
TIMINGS: dict[str, dict[str, float]] = defaultdict(dict)
STARTED = time.perf_counter()


def other_cpu_env() -> dict[str, str]:
    """Variables that make this machine compute like another x86 CPU of its kind.

    `make solutions` records outputs with the machine's own code paths; nbval re-runs them with
    oneDNN limited to AVX2, OpenBLAS's Haswell kernels and NumPy without its AVX-512 loops.
    These change the rounding of convolutions, matrix products and NumPy's transcendental
    functions the way a different CPU does, so printed noise shows up as a difference.
    """
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as available
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as available

    avx512 = sorted(k for k, on in available.items() if on and k.startswith("AVX512"))
    env = {"ONEDNN_MAX_CPU_ISA": "AVX2", "OPENBLAS_CORETYPE": "Haswell"}
    if avx512:  # only features this CPU has: NumPy warns about unknown ones
        env["NPY_DISABLE_CPU_FEATURES"] = ",".join(avx512)
    return env


def _install_other_cpu_kernel(directory: Path) -> None:
    spec = directory / "kernels" / OTHER_CPU_KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    kernel = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (another CPU of the same kind)",
        "language": "python",
        "env": other_cpu_env(),
    }
    (spec / "kernel.json").write_text(json.dumps(kernel, indent=1))


def pytest_configure(config):
    # Kernels started by nbval and papermill inherit these: smoke profile, C-level logs not
    # captured, and the kernelspec of the other CPU on JUPYTER_PATH.
    os.environ.setdefault(PROFILE_ENV, "smoke")
    os.environ["IPYTHONDIR"] = str(prepare_ipythondir(Path(tempfile.mkdtemp(prefix="ipy-"))))
    jupyter_path = Path(tempfile.mkdtemp(prefix="jupyter-"))
    _install_other_cpu_kernel(jupyter_path)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(jupyter_path), os.environ.get("JUPYTER_PATH", "")) if p
    )


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def _notebook_of(nodeid: str) -> str | None:
    return Path(nodeid.split("::")[0]).name if ".ipynb::" in nodeid else None


def _set_nodeid(item, nodeid: str) -> None:
    if hasattr(item, "_id"):  # pytest >= 9.2
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(nodeid)
    else:
        item._nodeid = nodeid


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the groups from the markers
def pytest_collection_modifyitems(config, items):
    """Keep each solution's cells on one worker; start the notebooks first, then the rest."""

    def weight(item):
        if _notebook_of(item.nodeid):
            return 0  # a solution under nbval: the longest units of work
        if item.get_closest_marker("notebook"):
            return 1  # lectures, blank labs, other notebook executions
        return 2

    # `--dist loadgroup` sends the items whose node ids end in the same `@group` to one worker.
    # xdist 3.8's own hook appends that suffix by assigning `item._nodeid`, which pytest 9.2 no
    # longer reads (it keeps the id in `item._id`), so the suffix is set here, both ways.
    if getattr(config.option, "loadgroup", False):
        for item in items:
            name = _notebook_of(item.nodeid)
            if name and "@" not in item.nodeid:
                _set_nodeid(item, f"{item.nodeid}@{name}")
    items.sort(key=weight)  # stable: the order within each kind is kept


@pytest.fixture
def record_timing(record_property):
    """`record_timing(notebook, kind, seconds)`: one row cell of the timing table (lecture,
    lab, ...). Stored in the report, so it reaches the controller under pytest-xdist."""

    def record(notebook: str, kind: str, seconds: float) -> None:
        record_property(TIMING_KEY, [notebook, kind, round(seconds, 2)])

    return record


def pytest_runtest_logreport(report):
    # Runs on the controller for every report (its own or a worker's).
    for key, value in getattr(report, "user_properties", []):
        if key == TIMING_KEY and report.when == "call":
            notebook, kind, seconds = value
            TIMINGS[notebook][kind] = float(seconds)
    # nbval runs one test item per cell: add up each solution's cells (and its kernel start).
    name = _notebook_of(report.nodeid)
    if name and report.when in ("setup", "call"):
        TIMINGS[name]["nbval"] = TIMINGS[name].get("nbval", 0.0) + report.duration


def pytest_terminal_summary(terminalreporter, config):
    if _is_worker(config) or not TIMINGS:
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
    wall = time.perf_counter() - STARTED
    workers = getattr(config.option, "numprocesses", None) or 1
    tr.write_line(f"{'total notebook time':34s}{total:10.1f}")
    tr.write_line(f"wall time of this run: {wall:.1f} s on {workers} worker(s)")
    if over:
        tr.write_line("over the 60 s budget: " + ", ".join(over))
    EXECUTED.mkdir(parents=True, exist_ok=True)
    (EXECUTED / "timings.json").write_text(json.dumps(TIMINGS, indent=1, sort_keys=True))


@pytest.fixture
def smoke_env(monkeypatch):
    """The course's profile variable set to smoke for the test."""
    monkeypatch.setenv(PROFILE_ENV, "smoke")
