"""`make grade` on generated submissions: right, blank, wrong, broken and dishonest labs."""

from __future__ import annotations

import csv
import shutil

import nbformat
import pytest

from utils.tooling import grade, nbfiles

pytestmark = pytest.mark.notebook

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


def test_printing_passed_or_patching_checks_earns_nothing(graded):
    assert _row(graded, "gina")["total"] == "0"


def test_a_notebook_that_never_ends_is_timed_out(graded):
    assert _row(graded, "hank")["status"] == "timed out"


def test_feedback_names_each_exercise_and_the_failing_message(graded):
    text = (graded[1] / "feedback" / "carol.md").read_text()
    assert "Exercise 1" in text and "not passed" in text and "expected" in text


def test_grading_twice_gives_the_same_grades(graded, tmp_path):
    subs = tmp_path / "subs"
    for learner in ("alice", "carol"):
        (subs / learner).mkdir(parents=True)
        shutil.copy(graded[2][0] / learner / CONV, subs / learner / CONV)
    runs = []
    for i in range(2):
        grade.grade_folder(subs, tmp_path / f"out{i}", jobs=2, limits=LIMITS)
        rows = list(csv.DictReader(open(tmp_path / f"out{i}" / "grades.csv")))
        runs.append([{k: v for k, v in r.items() if k != "seconds"} for r in rows])
    assert runs[0] == runs[1]
    first = [r for r in runs[0] if r["lab"] == CONV]
    assert first == [
        {k: v for k, v in _row(graded, who).items() if k != "seconds"} for who in ("alice", "carol")
    ]


def test_exercises_and_points_come_from_the_solution():
    exercises = grade.exercises_of(nbfiles.read(SOLUTIONS / CONV))
    assert [e.points for e in exercises] == [4, 2, 2]
    assert all("check_" in e.hidden and "from utils.checks import" in e.imports for e in exercises)
    lab_text = (LABS / CONV).read_text()
    assert "# Graded: 4 points" in lab_text and "seed=101" not in lab_text


def test_multi_line_imports_are_re_run_whole_before_the_hidden_tests():
    cells = [
        nbformat.v4.new_code_cell("from utils.checks import (\n    call,\n    passed,\n)\nx = 1"),
        nbformat.v4.new_code_cell(
            "def f():\n    import os\n    return os\n"
            "### BEGIN HIDDEN TESTS\nassert call(f) is not None\n### END HIDDEN TESTS"
        ),
    ]
    (exercise,) = grade.exercises_of(nbformat.v4.new_notebook(cells=cells))
    compile(exercise.imports, "<imports>", "exec")  # whole statements, no dangling lines
    assert exercise.imports == "from utils.checks import (\n    call,\n    passed,\n)"
