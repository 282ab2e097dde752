"""Build the learners' labs from the solution notebooks (nbgrader's markers).

In a solution's code cell:
    ### BEGIN SOLUTION ... ### END SOLUTION      -> `# YOUR CODE HERE` + `raise NotImplementedError()`
    ### BEGIN HIDDEN TESTS ... ### END HIDDEN TESTS -> removed (a cell left empty is dropped)
In a Markdown cell, a solution block becomes `YOUR ANSWER HERE`.
A cell that held hidden tests starts with a comment giving its points (cell metadata `points`).
Outputs and execution counts are cleared; the Colab badge points at the lab.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from utils.course import badge_markdown
from utils.tooling import nbfiles

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = "YOUR ANSWER HERE"
#: First line of a lab cell whose solution holds hidden tests: the learner sees the points.
GRADED_NOTE = "# Graded: {points} point{s}. When your lab is graded, hidden tests also run here.\n"
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")


class MarkerError(ValueError):
    """A solution notebook's markers are unbalanced or nested."""


@dataclass
class Blocks:
    """What a cell's markers held: the solution lines and the hidden-test lines."""

    solution: list[str]
    hidden: list[str]


def strip_cell(source: str, *, markdown: bool, where: str = "") -> tuple[str, Blocks]:
    """Return the learner's version of one cell's source, and the blocks taken out."""
    out: list[str] = []
    blocks = Blocks([], [])
    state = None  # None, "solution" or "hidden"
    for lineno, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        marker = next((m for m in MARKERS if stripped == m), None)
        if marker is None and any(m in line for m in MARKERS):
            raise MarkerError(f"{where} line {lineno}: a marker must stand alone on its line")
        if marker in (BEGIN_SOLUTION, BEGIN_HIDDEN):
            if state is not None:
                raise MarkerError(f"{where} line {lineno}: {marker} inside another block")
            state = "solution" if marker == BEGIN_SOLUTION else "hidden"
            if state == "solution":
                indent = line[: len(line) - len(line.lstrip())]
                out.extend([MARKDOWN_STUB] if markdown else [indent + s for s in CODE_STUB])
        elif marker in (END_SOLUTION, END_HIDDEN):
            expected = "solution" if marker == END_SOLUTION else "hidden"
            if state != expected:
                raise MarkerError(f"{where} line {lineno}: {marker} without its BEGIN")
            state = None
        elif state == "solution":
            blocks.solution.append(line)
        elif state == "hidden":
            blocks.hidden.append(line)
        else:
            out.append(line)
    if state is not None:
        raise MarkerError(f"{where}: a {state} block is not closed")
    return "\n".join(out).rstrip("\n"), blocks


def make_lab(solution: nbformat.NotebookNode, lab_relpath: str) -> nbformat.NotebookNode:
    """The lab generated from a solution notebook (not yet written anywhere)."""
    lab = nbformat.from_dict(solution)
    cells = []
    for i, cell in enumerate(lab.cells):
        where = f"{lab_relpath} cell {i}"
        markdown = cell.cell_type == "markdown"
        source, blocks = strip_cell(cell.source, markdown=markdown, where=where)
        if (blocks.solution or blocks.hidden) and not source.strip():
            continue  # a cell of hidden tests only
        if blocks.hidden:
            points = int(cell.metadata.get("points", 1))
            source = GRADED_NOTE.format(points=points, s="" if points == 1 else "s") + source
        cell.source = source
        cells.append(cell)
    if cells and cells[0].cell_type == "markdown":
        cells[0].source = BADGE.sub(badge_markdown(lab_relpath), cells[0].source)
    lab.cells = cells
    return nbfiles.normalise(lab, keep_outputs=False)


def without_hidden_tests(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of a solution notebook with its hidden-test blocks removed (solutions kept):
    what a learner's finished lab runs. The hidden tests run only in the grader, from a clone."""
    nb = copy.deepcopy(solution)
    for cell in nb.cells:
        if cell.cell_type != "code" or BEGIN_HIDDEN not in cell.source:
            continue
        kept, hidden = [], False
        for line in cell.source.splitlines(keepends=True):
            marker = line.strip()
            if marker == BEGIN_HIDDEN:
                hidden = True
            elif marker == END_HIDDEN:
                hidden = False
            elif not hidden:
                kept.append(line)
        cell.source = "".join(kept).rstrip("\n")
    return nb


#: A solution or hidden-test line at least this long (stripped) is telling enough to be a leak.
DISTINCTIVE = 24


def visible_text(nb: nbformat.NotebookNode) -> str:
    """The text of `nb` as learners see it: its cells with solution and hidden blocks removed."""
    return "\n".join(strip_cell(c.source, markdown=c.cell_type == "markdown")[0] for c in nb.cells)


def secret_lines(
    solutions: list[nbformat.NotebookNode], shown: list[nbformat.NotebookNode] = ()
) -> dict[str, str]:
    """{line: "solution" or "hidden test"}: the distinctive lines of the solutions' blocks, minus
    comments and the lines learners see anyway (outside the blocks, or in the `shown` notebooks:
    `with tf.GradientTape() as tape:` is taught in the lectures, so it is no secret)."""
    visible = "\n".join(visible_text(nb) for nb in [*solutions, *shown])
    found: dict[str, str] = {}
    for nb in solutions:
        blocks = solution_blocks(nb)
        for kind, lines in (("solution", blocks.solution), ("hidden test", blocks.hidden)):
            for line in lines:
                text = line.strip()
                if len(text) >= DISTINCTIVE and not text.startswith("#") and text not in visible:
                    found.setdefault(text, kind)
    return found


def solution_blocks(solution: nbformat.NotebookNode) -> Blocks:
    """All solution and hidden-test lines of a solution notebook."""
    total = Blocks([], [])
    for cell in solution.cells:
        _, blocks = strip_cell(cell.source, markdown=cell.cell_type == "markdown")
        total.solution += blocks.solution
        total.hidden += blocks.hidden
    return total


def lab_path(solution_path: Path) -> Path:
    """labs/<name> for solutions/<name>."""
    return nbfiles.root() / "labs" / Path(solution_path).name


def learner_work(path: Path) -> bool:
    """Whether a lab file holds a learner's work (outputs or execution counts)."""
    nb = nbfiles.read(path)
    return any(
        c.cell_type == "code" and (c.get("outputs") or c.get("execution_count")) for c in nb.cells
    )


def build_all(*, force: bool = False) -> list[str]:
    """Regenerate every lab from its solution. Returns messages (what changed, what was kept).

    A lab that holds a learner's work (outputs) is not overwritten unless `force`.
    """
    messages = []
    for src in nbfiles.course_notebooks("solutions"):
        dst = lab_path(src)
        lab = make_lab(nbfiles.read(src), nbfiles.relpath(dst))
        if dst.exists() and nbfiles.dumps(lab) == dst.read_text(encoding="utf-8"):
            continue
        if dst.exists() and learner_work(dst) and not force:
            messages.append(
                f"kept {nbfiles.relpath(dst)}: it holds outputs (someone worked in it). "
                f"Save that work elsewhere, then run `make labs FORCE=1` to regenerate it."
            )
            continue
        nbfiles.write(lab, dst)
        messages.append(f"wrote {nbfiles.relpath(dst)}")
    return messages
