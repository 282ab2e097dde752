"""Executed copies of the lecture notebooks, with the wall time of each run.

`make test` leaves every lecture it ran in the smoke profile in `build/executed/notebooks/`
and the wall times in `build/executed/timings.json` (`{"05_lenet.ipynb": {"lecture": 41.2}}`).
The site reuses those; a lecture missing there (or executed from an older version of the
notebook) is run here, in the smoke profile, into `build/site-executed/`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from utils.tooling import nbfiles

#: Where `make test` writes the lectures it executed, and their timings.
TEST_RUNS = Path("build") / "executed"
#: Where the site build runs the lectures that `make test` did not leave behind.
OWN_RUNS = Path("build") / "site-executed"
PROFILE = "smoke"
#: TensorFlow's oneDNN path crashes the kernel (`double free or corruption`) on some AVX-512
#: CPUs for strided convolutions' input gradients; the kernels run without it, and without
#: TensorFlow's C++ log lines on the build's terminal.
KERNEL_ENV = {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}


@dataclass(frozen=True)
class ExecutedLecture:
    """One lecture's executed notebook: `path`, its run's wall time and who ran it."""

    name: str  # "05_lenet.ipynb"
    path: Path
    seconds: float | None
    origin: str  # "make test" or "make site"
    profile: str = PROFILE


def read_timings(folder: Path) -> dict[str, dict[str, float]]:
    """`folder/timings.json` ({} when absent): `{"05_lenet.ipynb": {"lecture": 41.2, ...}}`."""
    path = folder / "timings.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"{path} is not valid JSON ({exc}); delete it and run again.") from exc


def _write_timing(folder: Path, name: str, seconds: float) -> None:
    timings = read_timings(folder)
    timings.setdefault(name, {})["lecture"] = round(seconds, 1)
    (folder / "timings.json").write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")


def _sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(cell type, source) of every cell but papermill's injected parameters."""
    return [
        (c.cell_type, c.source.rstrip("\n"))
        for c in nb.cells
        if "injected-parameters" not in c.metadata.get("tags", [])
    ]


def is_current(executed: Path, lecture: Path) -> bool:
    """True when `executed` is a complete run of the cells `lecture` holds now."""
    try:
        run = nbfiles.read(executed)
    except Exception:  # a half-written or foreign file: run the lecture again
        return False
    if _sources(run) != _sources(nbfiles.read(lecture)):
        return False
    codes = [c for c in run.cells if c.cell_type == "code" and c.source.strip()]
    no_errors = all(o.get("output_type") != "error" for c in codes for o in c.get("outputs", []))
    return no_errors and all(c.get("execution_count") for c in codes)


def find_or_run(lectures: list[Path], root: Path) -> list[ExecutedLecture]:
    """An executed copy of every lecture in `lectures`, running those that have none.

    Prints one line per lecture (reused or executed, with the seconds), so a long build shows
    where it is. Raises RuntimeError naming the lecture when a run fails.
    """
    from utils.tooling import runner

    for key, value in KERNEL_ENV.items():
        os.environ.setdefault(key, value)
    tests, own = root / TEST_RUNS, root / OWN_RUNS
    test_times, own_times = read_timings(tests), read_timings(own)
    found = []
    for i, lecture in enumerate(lectures, 1):
        name = lecture.name
        candidate = tests / "notebooks" / name
        if candidate.exists() and is_current(candidate, lecture):
            seconds = test_times.get(name, {}).get("lecture")
            found.append(ExecutedLecture(name, candidate, seconds, "make test"))
            print(f"[{i}/{len(lectures)}] {name}: reusing the run of make test", flush=True)
            continue
        mine = own / name
        if mine.exists() and is_current(mine, lecture) and name in own_times:
            found.append(ExecutedLecture(name, mine, own_times[name]["lecture"], "make site"))
            print(f"[{i}/{len(lectures)}] {name}: reusing an earlier site run", flush=True)
            continue
        own.mkdir(parents=True, exist_ok=True)
        print(f"[{i}/{len(lectures)}] {name}: executing ({PROFILE}) ...", end=" ", flush=True)
        try:
            seconds = runner.execute(lecture, mine, profile=PROFILE)
        except Exception as exc:
            raise RuntimeError(
                f"{nbfiles.relpath(lecture)} failed in the {PROFILE} profile, so its page "
                f"cannot show its outputs. Run it in JupyterLab with PROFILE = {PROFILE!r} to "
                f"see the failing cell, fix it, then run `make site` again. ({exc})"
            ) from exc
        _write_timing(own, name, seconds)
        print(f"{seconds:.1f} s", flush=True)
        found.append(ExecutedLecture(name, mine, round(seconds, 1), "make site"))
    return found
