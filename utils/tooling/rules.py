"""The notebook rules `make lint` enforces (and `make fmt` fixes where it can)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from utils.course import COURSE_REF, badge_markdown, pip_spec
from utils.tooling import labs, nbfiles

#: Every notebook's second cell (`make fmt` writes it, `make lint` checks it). It hides
#: TensorFlow's C++ log lines (level 3: Python errors still show) before anything imports
#: TensorFlow; on Colab it installs the course package at the release COURSE_REF (nothing
#: else: Colab has TensorFlow, Keras and the rest); everywhere it checks that `import utils`
#: is the course's package (`utils.course.check_package`), with a message saying what to do
#: when the install failed or another `utils` hides it.
SETUP_SOURCE = f"""# Setup. On Colab: install the course's package at the release this notebook was written for
# (TensorFlow and Keras are preinstalled there). Everywhere: check that `import utils` finds it.
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's C++ log lines
if "google.colab" in sys.modules:
    %pip install -q "{pip_spec()}"
try:
    from utils.course import check_package
except ImportError as err:
    raise ImportError(
        "`import utils` does not find the course's package. If the install above failed, its "
        "message says why; if a folder or file named utils is here, rename it. Then restart "
        "the runtime (Colab: Runtime > Restart session) and run this cell again."
    ) from err
check_package("{COURSE_REF}")"""
START_CALL = "PROFILE = start(PROFILE, SEED)"
FLOATING_INSTALL = re.compile(r"pip install[^\n]*(\s-U\b|--upgrade)")
STAR_IMPORT = re.compile(r"^\s*from\s+\S+\s+import\s+\*", re.M)
#: A solution line this long, found in a lab, is a leak (shorter ones may be coincidence).


def fix(nb: nbformat.NotebookNode, relpath: str) -> nbformat.NotebookNode:
    """Put the badge and the setup cell right, and normalise. (What `make fmt` does.)"""
    if nb.cells and nb.cells[0].cell_type == "markdown":
        nb.cells[0].source = labs.BADGE.sub(badge_markdown(relpath), nb.cells[0].source)
    if (
        len(nb.cells) > 1
        and nb.cells[1].cell_type == "code"
        and "google.colab" in nb.cells[1].source
    ):
        nb.cells[1].source = SETUP_SOURCE
    return nbfiles.normalise(nb, keep_outputs=relpath.startswith("solutions/"))


def check_structure(nb: nbformat.NotebookNode, relpath: str) -> list[str]:
    """The rules every notebook follows: title, outcomes, badge, setup, parameters, summary."""
    problems = []
    cells = nb.cells
    first = cells[0] if cells else None
    if first is None or first.cell_type != "markdown" or not first.source.startswith("# "):
        problems.append("the first cell must be Markdown starting with a `# Title`")
    else:
        if badge_markdown(relpath) not in first.source:
            problems.append(f"the first cell needs the Colab badge for {relpath} (`make fmt`)")
        if "will be able to" not in first.source.lower():
            problems.append("the first cell must say what the learner will be able to do")
    if len(cells) < 2 or cells[1].cell_type != "code" or cells[1].source != SETUP_SOURCE:
        problems.append("the second cell must be the standard Colab setup cell (`make fmt`)")
    params = [c for c in cells if nbfiles.has_tag(c, "parameters")]
    if len(params) != 1:
        problems.append(f"exactly one cell must be tagged `parameters` (found {len(params)})")
    else:
        if not params[0].source.startswith('PROFILE = "full"'):
            problems.append('the parameters cell must open with `PROFILE = "full"`')
        if "SEED = " not in params[0].source:
            problems.append("the parameters cell must set `SEED`")
    if any(nbfiles.has_tag(c, "injected-parameters") for c in cells):
        problems.append("an injected-parameters cell (papermill's) was committed: remove it")
    if not any(c.cell_type == "code" and START_CALL in c.source for c in cells):
        problems.append(f"a code cell must call `{START_CALL}`")
    if not any(c.cell_type == "markdown" and c.source.startswith("## Summary") for c in cells):
        problems.append("a `## Summary` section is missing")
    for i, c in enumerate(cells):
        if c.cell_type != "code":
            continue
        if FLOATING_INSTALL.search(c.source):
            problems.append(f"cell {i}: no `pip install -U/--upgrade` in notebooks")
        if STAR_IMPORT.search(c.source):
            problems.append(f"cell {i}: no `from x import *`")
    return problems


def check_format(path: Path, nb: nbformat.NotebookNode, relpath: str) -> list[str]:
    """The committed text must be the canonical one (outputs only in solutions)."""
    keep = relpath.startswith("solutions/")
    if path.read_text(encoding="utf-8") != nbfiles.dumps(nbfiles.normalise(nb, keep_outputs=keep)):
        what = "stray metadata or unnumbered outputs" if keep else "outputs or stray metadata"
        return [f"not in canonical form ({what}): run `make fmt`"]
    return []


def check_solution_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """A committed solution was executed top to bottom without errors."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    if any(c.execution_count is None for c in code):
        return ["not executed (or only partly): run `make solutions NB=<name>`"]
    if any(o.get("output_type") == "error" for c in code for o in c.outputs):
        return ["holds an error output: fix the notebook and run `make solutions`"]
    return []


def leaks(lab_text: str, solution: nbformat.NotebookNode) -> list[str]:
    """Solution or hidden-test lines that appear in a lab's text (lines that the solution
    also shows outside its blocks are not secrets), and markers left in it."""
    found = [
        f"{kind} line leaked: {text[:60]!r}"
        for text, kind in labs.secret_lines([solution]).items()
        if text in lab_text
    ]
    for marker in labs.MARKERS:
        if marker in lab_text:
            found.append(f"marker {marker!r} present")
    return found


def check_lab(lab_path: Path, solutions_dir: Path) -> list[str]:
    """A lab is exactly what the builder makes from its solution, and leaks nothing."""
    src = solutions_dir / lab_path.name
    if not src.exists():
        return [f"no solution {nbfiles.relpath(src)} generates this lab: delete it"]
    solution = nbfiles.read(src)
    expected = nbfiles.dumps(labs.make_lab(solution, nbfiles.relpath(lab_path)))
    text = lab_path.read_text(encoding="utf-8")
    problems = leaks(text, solution)
    lab = nbformat.reads(text, as_version=4)
    if any(c.cell_type == "code" and (c.outputs or c.execution_count) for c in lab.cells):
        problems.append("holds outputs")
    if text != expected:
        problems.append("out of sync with its solution: run `make labs` (labs are generated)")
    return problems


def lint_all() -> list[str]:
    """Every problem in the course's notebooks, as `path: problem` lines."""
    problems: list[str] = []
    root = nbfiles.root()
    for folder in nbfiles.FOLDERS:
        for path in nbfiles.course_notebooks(folder):
            rel = nbfiles.relpath(path)
            try:
                nb = nbfiles.read(path)
            except Exception as err:  # unreadable JSON is a lint error, not a crash
                problems.append(f"{rel}: cannot be read as a notebook: {err}")
                continue
            found = check_structure(nb, rel) + check_format(path, nb, rel)
            if folder == "solutions":
                found += check_solution_outputs(nb)
                if not (root / "labs" / path.name).exists():
                    found.append("has no lab: run `make labs`")
            if folder == "labs":
                found += check_lab(path, root / "solutions")
            problems += [f"{rel}: {p}" for p in found]
    from utils.tooling.export import export_problems
    from utils.tooling.layout import layout_problems

    problems += layout_problems()
    problems += export_problems()  # the lectures' `# @save` cells = the package's copies
    lectures = {p.name for p in nbfiles.course_notebooks("notebooks")}
    for path in nbfiles.course_notebooks("solutions"):
        if path.name not in lectures:
            problems.append(f"{nbfiles.relpath(path)}: no lecture notebooks/{path.name}")
    return problems


def fix_all() -> list[str]:
    """Apply `fix` to every lecture and solution notebook; return the files rewritten."""
    written = []
    for folder in ("notebooks", "solutions"):
        for path in nbfiles.course_notebooks(folder):
            rel = nbfiles.relpath(path)
            if nbfiles.write(fix(nbfiles.read(path), rel), path):
                written.append(rel)
    return written
