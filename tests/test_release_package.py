"""`make release`: the learner-facing course holds no answer and points at the release repo."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

from utils.checks import convolution
from utils.checks.references import RECORD_ENV
from utils.tooling import nbfiles, references, release

ROOT = nbfiles.root()


def _solution_conv2d(x, w, b, stride, padding):
    """A correct conv2d for unit 01's check (written for this test)."""
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[:2], axis=(0, 1))
    return np.einsum("ijcab,abcf->ijf", win[::stride, ::stride], w) + b


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A release whose recorded references are those of unit 01's conv2d check, run here (the
    full recording runs every solution: `make release`, tested in `make test-colab`)."""
    recorded = tmp_path_factory.mktemp("recorded")
    os.environ[RECORD_ENV] = str(recorded)
    try:
        convolution.check_conv2d(_solution_conv2d)
    finally:
        del os.environ[RECORD_ENV]
    out = tmp_path_factory.mktemp("release") / "course"
    lines = release.write_release(out, repo="someone/cnn-course-public", recorded=recorded)
    return out, lines


def test_the_release_checks_hold_no_reference_code(released):
    """Every `@reference` of the course's checks is, in the release, its signature, docstring
    and one lookup of recorded results: no line of its computation is left."""
    out, lines = released
    total = 0
    for path in sorted((ROOT / "utils" / "checks").glob("*.py")):
        names = references.reference_functions(path.read_text())
        shipped = ast.parse((out / "utils" / "checks" / path.name).read_text())
        for node in shipped.body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                body = [
                    s
                    for s in node.body
                    if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                ]
                assert len(body) == 1 and "replayed(" in ast.unparse(body[0]), node.name
                total += 1
    assert total >= 15, f"only {total} references found"
    assert any(f"{total} references replaced" in line for line in lines)


def test_a_replayed_reference_answers_the_checks_own_cases_only(released):
    """The release's unit 01 check passes a correct answer on its own cases (from the recorded
    results), while its reference refuses any other input."""
    out, _ = released
    source = inspect.getsource(_solution_conv2d).replace("_solution_conv2d", "conv2d")
    (out / "answer.py").write_text("import numpy as np\n\n\n" + source)
    code = (
        "import numpy as np\n"
        "import answer\n"
        "import utils.checks.convolution as c, utils.checks.references as r\n"
        f"assert r.__file__.startswith({str(out)!r}), r.__file__\n"
        "c.check_conv2d(answer.conv2d)\n"
        "try:\n"
        "    c._reference_conv2d(np.ones((4, 4, 1)), np.ones((2, 2, 1, 1)), np.zeros(1), 1, 0)\n"
        "except r.ReferenceUnavailable:\n"
        "    print('refused')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=out,
        env={**os.environ, "PYTHONPATH": str(out)},
        capture_output=True,
        text=True,
    )
    (out / "answer.py").unlink()
    assert run.returncode == 0, run.stderr[-2000:]
    assert "PASSED" in run.stdout and "refused" in run.stdout


def test_the_release_holds_lectures_labs_and_the_package_without_tooling(released):
    out, _ = released
    names = {p.name for p in nbfiles.course_notebooks("labs")}
    assert {p.name for p in (out / "labs").glob("*.ipynb")} == names
    assert {p.name for p in (out / "notebooks").glob("*.ipynb")} == {
        p.name for p in nbfiles.course_notebooks("notebooks")
    }
    assert (out / "utils" / "checks").is_dir() and not (out / "utils" / "tooling").exists()
    assert not (out / "solutions").exists() and not (out / "tests").exists()
    assert not list(out.rglob("__pycache__"))
    assert "hidden tests" in (out / "README.md").read_text()


def test_the_release_contains_no_solution_or_hidden_test(released):
    out, _ = released
    assert release.secret_lines(), "the solutions have distinctive lines to look for"
    assert release.leaks(out) == []
    text = "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert "GRADING_SEED" not in text


def test_badges_and_install_lines_point_at_the_release_repository(released):
    out, _ = released
    lab = (out / "labs" / "05_lenet.ipynb").read_text()
    assert "colab.research.google.com/github/someone/cnn-course-public/blob/" in lab
    assert "cnn-course/cnn-course" not in lab
    assert "someone/cnn-course-public" in (out / "utils" / "course.py").read_text()


def test_a_release_never_overwrites_and_a_leak_writes_nothing(released, tmp_path, monkeypatch):
    out, _ = released
    with pytest.raises(SystemExit, match="not empty"):
        release.write_release(out)
    monkeypatch.setattr(release, "secret_lines", lambda: {"Write your code where a cell says"})
    target = tmp_path / "leaky"
    (tmp_path / "leaky").mkdir()
    with pytest.raises(SystemExit, match="answers"):
        release.write_release(target, recorded=tmp_path / "recorded")
    assert not target.exists()
