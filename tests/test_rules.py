"""The notebook rules: the committed course obeys them, and each rule catches its violation."""

from __future__ import annotations

import re

import nbformat
import pytest

from utils.course import REPOSITORY, badge_markdown, colab_url
from utils.tooling import nbfiles, rules

ALL = [p for f in nbfiles.FOLDERS for p in nbfiles.course_notebooks(f)]


def test_the_committed_course_passes_lint():
    assert rules.lint_all() == []


@pytest.mark.parametrize("path", ALL, ids=lambda p: nbfiles.relpath(p))
def test_every_badge_points_at_the_file_itself(path):
    first = nbfiles.read(path).cells[0].source
    links = re.findall(r"\(https://colab\.research\.google\.com/github/([^)]*)\)", first)
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    assert links == [f"{owner_repo}/blob/main/{nbfiles.relpath(path)}"]
    assert (nbfiles.root() / links[0].split("/blob/main/")[1]).exists()


@pytest.mark.parametrize("path", ALL, ids=lambda p: nbfiles.relpath(p))
def test_a_person_who_opens_a_notebook_gets_the_full_profile(path):
    nb = nbfiles.read(path)
    params = [c for c in nb.cells if nbfiles.has_tag(c, "parameters")]
    assert params[0].source.startswith('PROFILE = "full"')
    assert not any(nbfiles.has_tag(c, "injected-parameters") for c in nb.cells)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not re.search(r"^\s*PROFILE\s*=\s*[\"']smoke", code, re.M)


def test_colab_setup_installs_the_course_package_and_never_tensorflow():
    assert "google.colab" in rules.SETUP_SOURCE and REPOSITORY in rules.SETUP_SOURCE
    install = [line for line in rules.SETUP_SOURCE.splitlines() if "pip install" in line]
    assert len(install) == 1 and "tensorflow" not in install[0] and "keras" not in install[0]


def _good(relpath="notebooks/99_x.ipynb"):
    cells = [
        nbformat.v4.new_markdown_cell(
            f"# X\n\n{badge_markdown(relpath)}\n\nYou will be able to ..."
        ),
        nbformat.v4.new_code_cell(rules.SETUP_SOURCE),
        nbformat.v4.new_code_cell('PROFILE = "full"\nSEED = 0'),
        nbformat.v4.new_code_cell(rules.START_CALL),
        nbformat.v4.new_markdown_cell("## Summary\n\n- done"),
    ]
    cells[2].metadata["tags"] = ["parameters"]
    return nbformat.v4.new_notebook(cells=cells)


def test_a_good_notebook_passes():
    assert rules.check_structure(_good(), "notebooks/99_x.ipynb") == []


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda nb: nb.cells[0].update(source="# X\n\nYou will be able to"), "badge"),
        (
            lambda nb: nb.cells[0].update(source=nb.cells[0].source.replace("will be able", "can")),
            "able",
        ),
        (lambda nb: nb.cells[1].update(source="!pip install tensorflow"), "setup"),
        (lambda nb: nb.cells[2].update(source='PROFILE = "smoke"\nSEED = 0'), "open with"),
        (lambda nb: nb.cells[2].metadata.update(tags=[]), "parameters"),
        (lambda nb: nb.cells[3].update(source="start()"), "start"),
        (lambda nb: nb.cells.pop(), "Summary"),
        (lambda nb: nb.cells[3].update(source=rules.START_CALL + "\n%pip install -U numpy"), "-U"),
        (
            lambda nb: nb.cells[3].update(source=rules.START_CALL + "\nfrom numpy import *"),
            "import *",
        ),
    ],
)
def test_each_rule_catches_its_violation(spoil, message):
    nb = _good()
    spoil(nb)
    problems = rules.check_structure(nb, "notebooks/99_x.ipynb")
    assert any(message in p for p in problems), problems


def test_a_badge_for_another_path_is_caught_and_fixed():
    nb = _good("notebooks/98_other.ipynb")
    assert any("badge" in p for p in rules.check_structure(nb, "notebooks/99_x.ipynb"))
    fixed = rules.fix(nb, "notebooks/99_x.ipynb")
    assert colab_url("notebooks/99_x.ipynb") in fixed.cells[0].source


def test_unexecuted_or_failing_solutions_are_caught():
    nb = _good("solutions/99_x.ipynb")
    assert rules.check_solution_outputs(nb)
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = i + 1
    assert rules.check_solution_outputs(nb) == []
    nb.cells[3].outputs = [nbformat.v4.new_output("error", ename="E", evalue="", traceback=[])]
    assert rules.check_solution_outputs(nb)


def test_normalise_numbers_solutions_and_strips_lectures():
    nb = _good()
    nb.metadata["papermill"] = {"duration": 3}
    nb.cells[3].execution_count = 7
    nb.cells[3].outputs = [
        nbformat.v4.new_output("stream", text="a"),
        nbformat.v4.new_output("stream", text="b"),
    ]
    sol = nbfiles.normalise(nb, keep_outputs=True)
    assert "papermill" not in sol.metadata
    assert sol.cells[3].execution_count == 1 and sol.cells[3].outputs[0]["text"] == "ab"
    lecture = nbfiles.normalise(nb, keep_outputs=False)
    assert lecture.cells[3].outputs == [] and lecture.cells[3].execution_count is None
