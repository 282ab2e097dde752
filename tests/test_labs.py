"""The lab builder: markers, leaks, sync, and never overwriting a learner's work."""

from __future__ import annotations

import nbformat
import pytest

from utils.tooling import labs, nbfiles, rules
from utils.tooling.labs import MarkerError, make_lab, strip_cell

SOLVED = """def f(x):
    \"\"\"Double x.\"\"\"
    ### BEGIN SOLUTION
    result = x * 2  # the secret answer
    return result
    ### END SOLUTION"""


def test_solution_block_becomes_a_stub_with_the_same_indent():
    source, blocks = strip_cell(SOLVED, markdown=False)
    assert source.splitlines()[-2:] == ["    # YOUR CODE HERE", "    raise NotImplementedError()"]
    assert "secret" not in source and "x * 2" in "\n".join(blocks.solution)


def test_hidden_tests_are_removed():
    cell = "check(f)\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS"
    source, blocks = strip_cell(cell, markdown=False)
    assert source == "check(f)" and blocks.hidden == ["assert f(2) == 4"]


def test_markdown_answer_is_replaced():
    source, _ = strip_cell("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", markdown=True)
    assert source == "Why?\nYOUR ANSWER HERE"


@pytest.mark.parametrize(
    "bad",
    [
        "### BEGIN SOLUTION\nx = 1",
        "### END SOLUTION",
        "### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n### END SOLUTION",
        "x = 1  ### BEGIN SOLUTION",
    ],
)
def test_bad_markers_are_errors(bad):
    with pytest.raises(MarkerError):
        strip_cell(bad, markdown=False, where="t.ipynb cell 3")


def _solution_notebook():
    cells = [
        nbformat.v4.new_markdown_cell("# T\n\n[![Open In Colab](x)](y)"),
        nbformat.v4.new_code_cell(SOLVED, execution_count=1),
        nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nassert f(1) == 2\n### END HIDDEN TESTS"),
    ]
    cells[1].outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    return nbformat.v4.new_notebook(cells=cells)


def test_make_lab_clears_outputs_drops_hidden_only_cells_and_points_the_badge_at_the_lab():
    lab = make_lab(_solution_notebook(), "labs/99_x.ipynb")
    assert len(lab.cells) == 2
    assert lab.cells[1].outputs == [] and lab.cells[1].execution_count is None
    assert "labs/99_x.ipynb" in lab.cells[0].source
    assert rules.leaks(nbfiles.dumps(lab), _solution_notebook()) == []


def test_leak_detection_finds_solution_and_hidden_text():
    text = nbfiles.dumps(_solution_notebook())
    found = rules.leaks(text, _solution_notebook())
    assert any("solution" in f for f in found) and any("marker" in f for f in found)


def test_build_all_keeps_a_lab_with_learner_work(tmp_path, monkeypatch):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "labs").mkdir()
    nbformat.write(_solution_notebook(), str(tmp_path / "solutions" / "99_x.ipynb"))
    monkeypatch.setattr(nbfiles, "root", lambda: tmp_path)
    assert labs.build_all() == ["wrote labs/99_x.ipynb"]
    assert labs.build_all() == []  # in sync: nothing to do
    worked = nbfiles.read(tmp_path / "labs" / "99_x.ipynb")
    worked.cells[1].source = "def f(x):\n    return x + x"
    worked.cells[1].execution_count = 3
    nbformat.write(worked, str(tmp_path / "labs" / "99_x.ipynb"))
    messages = labs.build_all()
    assert "kept labs/99_x.ipynb" in messages[0] and "FORCE=1" in messages[0]
    assert "x + x" in (tmp_path / "labs" / "99_x.ipynb").read_text()
    assert labs.build_all(force=True) == ["wrote labs/99_x.ipynb"]


@pytest.mark.parametrize("path", nbfiles.course_notebooks("labs"), ids=lambda p: p.name)
def test_every_committed_lab_is_generated_and_leaks_nothing(path):
    assert rules.check_lab(path, nbfiles.root() / "solutions") == []
    text = path.read_text()
    assert '"outputs": []' in text and '"output_type"' not in text
