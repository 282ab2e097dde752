"""Every lab of the course graded in sandboxed kernels: the solution earns full marks, the
blank lab nothing, and grading again with another seed gives the same points.

Slow (36 labs, then 18 again): `make test-grading`. Prints the time to grade one learner's 18
labs (two at a time, as `make grade` does on 2 cores)."""

from __future__ import annotations

import csv
import os
import shutil
import time

import pytest

from utils.tooling import grade, nbfiles, sandbox

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.bwrap_works(), reason="bubblewrap cannot run here"),
]

ROOT = nbfiles.root()
#: COURSE_GRADING_LABS=03,07 grades only those labs (for trying a change; CI grades all).
ONLY = [n for n in os.environ.get("COURSE_GRADING_LABS", "").split(",") if n]
LAB_NAMES = [
    p.name
    for p in nbfiles.course_notebooks("solutions")
    if not ONLY or any(p.name.startswith(n) for n in ONLY)
]
LIMITS = grade.Limits(cell_seconds=300, notebook_seconds=900, memory_mb=5000)
SEEDS = (20261, 77)


def _grade(subs, out, seed):
    started = time.perf_counter()
    grade.grade_folder(subs, out, jobs=2, limits=LIMITS, seed=seed)
    seconds = time.perf_counter() - started
    rows = list(csv.DictReader(open(out / "grades.csv")))
    return {(r["learner"], r["lab"]): r for r in rows}, seconds


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    for learner, folder in (("alice", "solutions"), ("bob", "labs")):
        (subs / learner).mkdir()
        for name in LAB_NAMES:
            shutil.copy(ROOT / folder / name, subs / learner / name)
    first, _ = _grade(subs, tmp_path_factory.mktemp("out1"), SEEDS[0])
    shutil.rmtree(subs / "bob")
    second, seconds = _grade(subs, tmp_path_factory.mktemp("out2"), SEEDS[1])
    print(
        f"\ngrading one learner's {len(LAB_NAMES)} labs took {seconds:.0f} s "
        f"(2 at a time, on a machine shared with other work)"
    )
    return first, second


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_the_solution_earns_full_marks(runs, lab):
    row = runs[0][("alice", lab)]
    assert row["status"] == "graded" and int(row["max"]) > 0
    assert row["total"] == row["max"], row
    assert row["seed"] == str(SEEDS[0]) and row["sandbox"] == sandbox.SANDBOX_BWRAP


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_the_blank_lab_earns_nothing(runs, lab):
    row = runs[0][("bob", lab)]
    assert row["status"] == "graded" and row["total"] == "0", row


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_grading_again_with_another_seed_gives_the_same_points(runs, lab):
    first, second = runs[0][("alice", lab)], runs[1][("alice", lab)]
    points = [k for k in first if k.startswith("ex") or k in ("total", "status")]
    assert [first[k] for k in points] == [second[k] for k in points]
    assert second["seed"] == str(SEEDS[1])
