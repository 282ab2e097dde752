"""Every notebook runs from a fresh kernel in the smoke profile; labs fail only at exercises.

Solutions are not executed here: strict nbval runs each of them from a fresh kernel in the same
pytest session (`make test`) and compares every output with the committed one, which checks
more than a plain run would, at half the cost.
"""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import EXECUTED
from utils.tooling import nbfiles, runner
from utils.tooling.labs import CODE_STUB

pytestmark = pytest.mark.notebook
#: A cell that calls a `check_*` function of `utils.checks` right after an exercise.
CHECK_CALL = re.compile(r"\bcheck_\w+\(")


def _ids(path):
    return path.name


@pytest.mark.parametrize("path", nbfiles.course_notebooks("notebooks"), ids=_ids)
def test_lecture_runs_in_smoke(path, tmp_path, record_timing):
    executed = tmp_path / path.name
    record_timing(path.name, "lecture", runner.execute(path, executed))
    # Kept for the website (`make site`), which shows the lectures with their outputs.
    (EXECUTED / "notebooks").mkdir(parents=True, exist_ok=True)
    shutil.move(executed, EXECUTED / "notebooks" / path.name)


def _is_stub(cell):
    return cell.cell_type == "code" and CODE_STUB[1] in cell.source


@pytest.mark.parametrize("path", nbfiles.course_notebooks("labs"), ids=_ids)
def test_blank_lab_fails_only_where_the_learner_must_write_code(path, record_timing):
    nb, seconds = runner.execute_all_cells(nbfiles.read(path), cwd=path.parent)
    record_timing(path.name, "lab", seconds)
    stubs = [i for i, c in enumerate(nb.cells) if _is_stub(c)]
    assert stubs, "a lab without exercises"
    errors = runner.errors(nb)
    assert errors, "a blank lab must not pass"
    for i, err in errors:
        assert i >= stubs[0], f"cell {i} fails before the first exercise: {err['evalue']}"
        assert err["ename"] in ("NotImplementedError", "NameError"), (
            f"cell {i} fails with {err['ename']}: {err['evalue']}"
        )
    failing = {i for i, _ in errors}
    for i in stubs:
        following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        if CHECK_CALL.search(getattr(following, "source", "")):
            outs = [o for o in following.outputs if o.get("output_type") == "error"]
            assert outs and outs[0]["ename"] == "NotImplementedError", f"check after cell {i}"
            assert "YOUR CODE HERE" in outs[0]["evalue"], "the check must say where to write"
        else:
            assert i in failing or any(j > i for j in failing), f"exercise in cell {i} unchecked"
