"""The lectures' `# @save` cells are the single source of the package's copies: `make lint`
catches a copy that drifted, and `python -m utils.tooling export` regenerates it."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from utils.tooling import __main__ as cli
from utils.tooling import export, nbfiles, rules

LECTURE = "notebooks/04_backprop_from_scratch.ipynb"
MODULE = "utils/networks/shallow_cnn.py"
SAVED = [
    "conv_forward",
    "relu_forward",
    "maxpool_forward",
    "dense_forward",
    "relu_backward",
    "dense_backward",
]


def test_the_committed_lecture_and_package_agree():
    assert export.export_problems() == []
    found, problems = export.collect()
    assert problems == []
    assert [s.name for s in found[(MODULE, LECTURE)]] == SAVED


def test_lint_all_runs_the_export_check(monkeypatch):
    monkeypatch.setattr(export, "export_problems", lambda root=None: ["drifted"])
    assert "drifted" in rules.lint_all()


@pytest.fixture
def clone(tmp_path):
    """A minimal checkout: unit 04's lecture and the module it saves into."""
    for rel in (LECTURE, MODULE):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(nbfiles.root() / rel, tmp_path / rel)
    return tmp_path


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_drifted_package_copy_fails_lint_and_export_restores_it(clone):
    module = clone / MODULE
    original = module.read_text(encoding="utf-8")
    assert export.export_problems(clone) == []
    _edit(module, "    return dout * (x > 0)\n", "    return dout * (x >= 0)\n")
    problems = export.export_problems(clone)
    assert len(problems) == 1
    assert "`relu_backward` differs from " + LECTURE in problems[0]
    assert "'return dout * (x > 0)' vs 'return dout * (x >= 0)'" in problems[0]

    assert export.export_all(clone) == [f"{MODULE}: exported {', '.join(SAVED)} from {LECTURE}"]
    assert module.read_text(encoding="utf-8") == original
    assert export.export_problems(clone) == []
    assert export.export_all(clone) == []  # nothing left to write


def test_a_change_in_the_lecture_is_exported_and_the_hand_written_parts_stay(clone):
    module = clone / MODULE
    lecture = clone / LECTURE
    nb = nbformat.read(str(lecture), as_version=4)
    cell = next(
        c for c in nb.cells if c.source.startswith("# @save:") and "def dense_fo" in c.source
    )
    cell.source = cell.source.replace(
        "x.reshape(len(x), -1) @ w + b", "x.reshape(x.shape[0], -1) @ w + b"
    )
    nbformat.write(nb, str(lecture))
    problems = export.export_problems(clone)
    assert len(problems) == 1 and "`dense_forward` differs" in problems[0]

    export.export_all(clone)
    text = module.read_text(encoding="utf-8")
    assert "    return x.reshape(x.shape[0], -1) @ w + b\n" in text
    assert export.export_problems(clone) == []
    begin, end = export.sections(text)[LECTURE]
    outside = text.splitlines()[:begin] + text.splitlines()[end + 1 :]
    for hand_written in ("POOL = 2", "def init_params(", "def minibatch_sgd(", "def tf_scores("):
        assert any(line.startswith(hand_written) for line in outside), hand_written


def test_comments_and_layout_do_not_count(clone):
    module = clone / MODULE
    _edit(
        module,
        "    return dout * (x > 0)\n",
        "    # a note added by hand\n    return dout * (\n        x > 0\n    )\n",
    )
    assert export.export_problems(clone) == []


def test_a_function_missing_added_or_out_of_place_in_the_section_is_reported(clone):
    module = clone / MODULE
    text = module.read_text(encoding="utf-8")
    begin, end = export.sections(text)[LECTURE]
    lines = text.splitlines(keepends=True)
    lines.insert(end, "def extra():\n    return 1\n\n\n")
    module.write_text("".join(lines), encoding="utf-8")
    _edit(module, "def relu_backward(dout, x):", "def relu_backwards(dout, x):")
    problems = "\n".join(export.export_problems(clone))
    assert "`extra` is in the section" in problems
    assert "`relu_backward` (saved by" in problems and "is missing" in problems
    assert "`relu_backwards` is in the section" in problems
    export.export_all(clone)
    assert export.export_problems(clone) == []
    assert "def extra" not in module.read_text(encoding="utf-8")


def test_a_missing_section_is_reported_and_export_appends_it(clone):
    module = clone / MODULE
    text = module.read_text(encoding="utf-8")
    begin, end = export.sections(text)[LECTURE]
    lines = text.splitlines(keepends=True)
    module.write_text("".join(lines[:begin] + lines[end + 1 :]), encoding="utf-8")
    assert export.export_problems(clone) == [
        f"{MODULE}: no section exported from {LECTURE}: run `{export.COMMAND}`"
    ]
    export.export_all(clone)
    assert export.export_problems(clone) == []
    assert module.read_text(encoding="utf-8").rstrip().endswith(export.END)


def test_a_marker_must_be_a_cells_first_line_and_name_a_module(clone):
    lecture = clone / LECTURE
    nb = nbformat.read(str(lecture), as_version=4)
    marked = [c for c in nb.cells if c.source.startswith("# @save:")]
    marked[0].source = "x = 1\n" + marked[0].source
    marked[1].source = marked[1].source.replace(MODULE, "utils/networks/nowhere.py", 1)
    nbformat.write(nb, str(lecture))
    problems = "\n".join(export.export_problems(clone))
    assert "marker must be the cell's first line" in problems
    assert "`# @save: utils/networks/nowhere.py`: no such module" in problems
    with pytest.raises(ValueError, match="cannot export"):
        export.export_all(clone)


def test_the_command_line_regenerates_the_section(clone, monkeypatch, capsys):
    monkeypatch.setattr(nbfiles, "root", lambda: clone)
    _edit(clone / MODULE, "    return np.maximum(x, 0)\n", "    return np.maximum(0, x)\n")
    assert cli.main(["export"]) == 0
    assert f"{MODULE}: exported" in capsys.readouterr().out
    assert export.export_problems(clone) == []
    assert cli.main(["export"]) == 0
    assert "up to date" in capsys.readouterr().out
