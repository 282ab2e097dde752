"""`make test-colab`'s pieces (utils.tooling.colab), and Colab's versions against the package's
declared dependencies. The job itself builds a venv and runs every notebook: it runs in CI."""

from __future__ import annotations

import tomllib

from packaging.requirements import Requirement

from utils.course import COURSE_REF, DISTRIBUTION
from utils.tooling import colab
from utils.tooling.nbfiles import root

PINS = colab.read_constraints(root() / colab.CONSTRAINTS)


def test_the_constraints_hold_colabs_tensorflow_keras_and_numpy():
    assert PINS["tensorflow"].startswith("2.19.")
    assert PINS["keras"].startswith("3.10.")
    assert PINS["numpy"].startswith("2.0.")


def test_colabs_versions_meet_every_dependency_of_the_package():
    """pip keeps a preinstalled package only if it meets the requirement: every dependency
    must be satisfied by Colab's version (so no lower bound that Colab misses)."""
    deps = tomllib.loads((root() / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in map(Requirement, deps):
        name = colab.normalise_name(dep.name)
        assert name in PINS, f"{name}: add Colab's version to {colab.CONSTRAINTS}"
        assert dep.specifier.contains(PINS[name]), f"Colab's {name} {PINS[name]} misses {dep}"


def test_the_job_installs_the_wheel_with_the_setup_cells_own_line(tmp_path):
    wheel = tmp_path / "cnn_course-0.1.0-py3-none-any.whl"
    args = colab.setup_cell_install(wheel)
    assert args == ["-q", f"{DISTRIBUTION} @ {wheel.as_uri()}"]
    assert COURSE_REF  # the cell's own spec names the release; only its URL is replaced


def test_freeze_comparison_names_every_change():
    before = colab.parse_freeze("numpy==2.0.2\nScikit_Learn==1.6.1\nkeras==3.10.0\n")
    after = colab.parse_freeze(
        "numpy==2.4.6\nscikit-learn==1.6.1\ncnn-course @ file:///tmp/x.whl\n"
    )
    assert colab.changed_packages(before, after) == [
        "keras 3.10.0 was removed",
        "numpy 2.0.2 -> 2.4.6",
    ]
    assert colab.changed_packages(before, before) == []
    assert after["cnn-course"] == "file:///tmp/x.whl"


def test_every_lecture_and_solution_is_run_and_no_lab():
    paths = colab.notebooks_to_run()
    folders = {p.parent.name for p in paths}
    assert folders == {"notebooks", "solutions"}
    assert len(paths) == 2 * len([p for p in paths if p.parent.name == "solutions"])
    assert [p.name for p in colab.notebooks_to_run(["03_conv"])] == ["03_conv_as_gemm.ipynb"] * 2
