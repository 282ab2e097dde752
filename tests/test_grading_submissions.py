"""`make grade` on generated submissions: right, blank, wrong, broken and endless labs.

Slow (every submission runs in a sandboxed kernel): `make test-grading`."""

from __future__ import annotations

import csv
import shutil

import nbformat
import pytest

from utils.tooling import grade, nbfiles

pytestmark = pytest.mark.grading

SOLUTIONS = nbfiles.root() / "solutions"
LABS = nbfiles.root() / "labs"
CONV, LENET = "01_convolution.ipynb", "05_lenet.ipynb"
#: Generous limits for the ordinary submissions (a loaded machine must not fail them) and
#: short ones for the two that never end on their own.
LIMITS = grade.Limits(cell_seconds=150, notebook_seconds=400, memory_mb=3000)
LOOP_LIMITS = grade.Limits(cell_seconds=45, notebook_seconds=240, memory_mb=3000)


def _edited(source_nb, *, replace=(), insert=(), drop=(), move_checks_first=False):
    """A copy of a notebook with text replaced in cells, cells inserted or dropped."""
    nb = nbformat.from_dict(source_nb)
    for old, new in replace:
        hits = [c for c in nb.cells if old in c.source]
        assert hits, f"test setup: {old!r} not found"
        for c in hits:
            c.source = c.source.replace(old, new)
    nb.cells = [c for c in nb.cells if not any(d in c.source for d in drop)]
    for index, code in insert:
        nb.cells.insert(index, nbformat.v4.new_code_cell(code))
    if move_checks_first:
        checks = [c for c in nb.cells if "convolution.check_" in c.source]
        others = [c for c in nb.cells if c not in checks]
        nb.cells = others[:4] + checks + others[4:]
    return nb


def _write(folder, name, nb):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / name))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    sol, lab = nbfiles.read(SOLUTIONS / CONV), nbfiles.read(LABS / CONV)
    for learner, source in (("alice", SOLUTIONS), ("bob", LABS)):
        (subs / learner).mkdir()
        for name in (CONV, LENET):  # alice hands in the solutions, bob the untouched labs
            shutil.copy(source / name, subs / learner / name)
    # carol: a flipped kernel (a wrong answer to exercise 1); no LeNet lab at all
    _write(
        subs / "carol",
        CONV,
        _edited(sol, replace=[("window * w[:, :, :, f]", "window * w[::-1, ::-1, :, f]")]),
    )
    # dave: a syntax error in exercise 2, a renamed exercise-3 function, an endless loop that
    # the per-cell limit interrupts, and a lab saved under the wrong name
    dave = _edited(
        sol,
        replace=[
            ("return (n - f + 2 * p) // s + 1", "return (n - f + 2 * p) // s + 1 +"),
            ("def conv_params(", "def conv_parameters("),
        ],
        insert=[(5, "while True:\n    pass")],
    )
    loops = tmp_path_factory.mktemp("loops")
    _write(loops / "dave", CONV, dave)
    _write(loops / "dave", "lab01.ipynb", lab)
    # erin: a file that is not a notebook
    (subs / "erin").mkdir()
    (subs / "erin" / CONV).write_text("{ this is not json")
    # frank: a cell that kills the kernel, one that eats memory, the checks moved first
    frank = _edited(
        sol,
        insert=[(6, "import os\nos._exit(1)"), (8, "import numpy\nbig = numpy.ones(2**31)")],
        move_checks_first=True,
    )
    _write(subs / "frank", CONV, frank)
    # gina: the blank lab, plus fake PASSED lines and monkey-patched checks
    gina = _edited(
        lab,
        insert=[
            (
                5,
                "import utils.checks.convolution as c\n"
                "c.check_conv2d = c.check_output_size = c.check_param_counts = "
                "lambda *a, **k: print('PASSED')\nprint('PASSED: everything')",
            )
        ],
    )
    _write(subs / "gina", CONV, gina)
    # hank: a loop that swallows the interrupt, so only the notebook limit stops it
    hank = _edited(
        sol,
        insert=[
            (
                5,
                "import time\nwhile True:\n    try:\n        time.sleep(0.5)\n"
                "    except KeyboardInterrupt:\n        pass",
            )
        ],
    )
    _write(loops / "hank", CONV, hank)
    out = tmp_path_factory.mktemp("out")
    grade.grade_folder(subs, out, jobs=2, limits=LIMITS)
    grade.grade_folder(loops, out / "loops", jobs=2, limits=LOOP_LIMITS)
    rows = list(csv.DictReader(open(out / "grades.csv")))
    rows += list(csv.DictReader(open(out / "loops" / "grades.csv")))
    for learner in ("dave", "hank"):
        (out / "feedback" / f"{learner}.md").write_text(
            (out / "loops" / "feedback" / f"{learner}.md").read_text()
        )
    return {(r["learner"], r["lab"]): r for r in rows}, out, (subs, loops)


def _row(graded, learner, lab=CONV):
    return graded[0][(learner, lab)]


def test_every_input_file_has_a_row(graded):
    rows, _, folders = graded
    for folder in folders:
        for path in folder.rglob("*.ipynb"):
            assert (path.parent.name, path.name) in rows


def test_the_solutions_score_full_marks(graded):
    for lab in (CONV, LENET):
        row = _row(graded, "alice", lab)
        assert row["status"] == "graded" and row["total"] == row["max"] and int(row["max"]) > 0


def test_untouched_labs_score_zero(graded):
    for lab in (CONV, LENET):
        row = _row(graded, "bob", lab)
        assert row["status"] == "graded" and row["total"] == "0"


def test_a_wrong_answer_loses_exactly_that_exercise(graded):
    row = _row(graded, "carol")
    assert row["ex1"] == "0" and row["ex2"] == "2" and row["ex3"] == "2"
    assert _row(graded, "carol", LENET)["status"] == "missing"


def test_broken_cells_cost_only_their_exercises(graded):
    row = _row(graded, "dave")
    assert row["status"] == "graded"
    assert (row["ex1"], row["ex2"], row["ex3"]) == ("4", "0", "0")
    feedback = (graded[1] / "feedback" / "dave.md").read_text()
    assert "SyntaxError" in feedback and "was interrupted" in feedback
    assert "conv_params" in feedback  # the hidden test's NameError names the missing function


def test_wrong_file_name_and_unreadable_file_are_reported(graded):
    assert _row(graded, "dave", "lab01.ipynb")["status"] == "could not run"
    assert _row(graded, "erin")["status"] == "could not run"
    assert "rename it" in (graded[1] / "feedback" / "dave.md").read_text()


def test_crashing_and_memory_hungry_cells_are_skipped_and_the_rest_graded(graded):
    row = _row(graded, "frank")
    assert row["status"] == "graded" and row["total"] == row["max"]
    feedback = (graded[1] / "feedback" / "frank.md").read_text()
    assert "skipped" in feedback and "memory" in feedback


def test_a_notebook_that_never_ends_is_timed_out(graded):
    assert _row(graded, "hank")["status"] == "timed out"


def test_feedback_names_each_exercise_and_the_failing_message(graded):
    text = (graded[1] / "feedback" / "carol.md").read_text()
    assert "Exercise 1" in text and "not passed" in text and "expected" in text


def test_a_watchdog_that_cannot_read_memory_stops_the_lab(monkeypatch, tmp_path):
    import psutil

    def blind(pid):
        raise psutil.AccessDenied(pid)

    monkeypatch.setattr(grade._Watchdog, "_rss_mb", staticmethod(blind))
    out = grade.grade_one("ivy", CONV, SOLUTIONS / CONV, LIMITS, seed=1)
    assert out.status == "could not run" and out.total == 0
    assert "could not read the kernel's memory" in out.note
