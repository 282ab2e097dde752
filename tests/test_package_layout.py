"""The package's layout (`utils` organised by role): indexes complete, the import rule
enforced, one check module per unit, no notebook read at run time (the wheel's contents are
tested in tests/test_release.py)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from utils.tooling import layout, nbfiles

ROOT = nbfiles.root()
INDEXED = ("plots", "measure", "networks")


def _public_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("package", INDEXED)
def test_each_index_names_every_public_name_of_its_submodules_once(package):
    """`utils.<package>._HOMES` is complete: every public name of an indexed submodule is in
    it, each resolves to the object its submodule defines, and module-only submodules (named
    so in the docstring) are not indexed."""
    pkg = importlib.import_module(f"utils.{package}")
    folder = ROOT / "utils" / package
    homes = pkg._HOMES
    module_only = {
        line.split("`")[1] for line in pkg.__doc__.splitlines() if "(module only)" in line
    }
    for path in sorted(folder.glob("*.py")):
        if path.stem == "__init__":
            continue
        names = _public_names(path)
        if path.stem in module_only:
            assert not names & {n for n, m in homes.items() if m == path.stem}
            continue
        assert names <= set(homes), f"{path.name}: not indexed: {sorted(names - set(homes))}"
        assert path.stem not in homes, f"{path.stem} is both a submodule and a name"
    for name, module in homes.items():
        sub = importlib.import_module(f"utils.{package}.{module}")
        assert getattr(pkg, name) is getattr(sub, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        pkg.nothing_here  # noqa: B018


def test_importing_an_index_loads_no_submodule():
    """`from utils import plots, measure, networks` loads nothing heavy until a name is used."""
    code = (
        "import sys; from utils import measure, networks, plots; "
        "print(sorted(m for m in sys.modules if m.startswith('utils.')), "
        "'keras' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert out == [
        "['utils.lazy_index',",
        "'utils.measure',",
        "'utils.networks',",
        "'utils.plots']",
        "False",
        "False",
    ]


def test_the_import_rule_holds_in_the_package_and_the_notebooks():
    assert layout.layout_problems() == []


def test_the_import_rule_catches_a_check_that_draws_and_a_lecture_that_checks(tmp_path):
    """The rule is not vacuous: a check module importing plots and a plotting module importing
    a check are both reported, and a TYPE_CHECKING import is not."""
    (tmp_path / "utils" / "checks").mkdir(parents=True)
    (tmp_path / "utils" / "plots").mkdir()
    (tmp_path / "utils" / "checks" / "lenet.py").write_text(
        "from utils.plots import show_images\nfrom utils.measure import count_macs\n"
    )
    (tmp_path / "utils" / "plots" / "curves.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from utils.training import Run\n"
        "def f():\n    from utils.checks.core import call\n"
    )
    problems = layout.package_problems(tmp_path)
    assert problems == [
        "utils/checks/lenet.py:1: a checks module imports utils.plots (plots)",
        "utils/plots/curves.py:5: a plots module imports utils.checks.core (checks)",
    ]


def test_every_unit_has_a_check_module_named_as_the_unit():
    """solutions/NN_<unit>.ipynb -> utils/checks/<unit>.py, and no other check module but the
    shared `core`, `structure` and `references` (the checks' references, replayed in the
    release)."""
    units = {p.stem.split("_", 1)[1] for p in nbfiles.course_notebooks("solutions")}
    modules = {p.stem for p in (ROOT / "utils" / "checks").glob("*.py")} - {"__init__"}
    assert modules == units | {"core", "structure", "references"}


def test_nothing_outside_tooling_reads_a_notebook():
    """The learner's package never parses notebooks (they are not beside it on Colab)."""
    for path in (ROOT / "utils").rglob("*.py"):
        if "tooling" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        text = path.read_text(encoding="utf-8")
        assert "nbformat" not in imported and "nbformat" not in text, path
        assert "REPO_ROOT" not in text or path.name == "course.py", path
