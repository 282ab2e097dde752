"""What learners get (labs/ and the installed `utils` package) leaks no answers."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from utils.tooling import nbfiles, release

ROOT = nbfiles.root()


#: Shorter lines may match by coincidence ("return out"); these are the telling ones.
def _secret_lines() -> set[str]:
    """The release's own scan list (one home: utils.tooling.labs.secret_lines)."""
    return release.secret_lines()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (path,) = out.glob("*.whl")
    return zipfile.ZipFile(path)


def test_the_package_ships_only_source_files(wheel):
    names = [n for n in wheel.namelist() if not n.startswith("cnn_course-")]
    assert names and all(n.startswith("utils/") for n in names)
    assert all(n.endswith((".py", ".typed")) for n in names), "no compiled files, notebooks or data"


def test_the_package_holds_no_tooling(wheel):
    """What `pip install` from the repository gives a learner: utils without utils.tooling
    (an old egg-info manifest once put it back: include-package-data is off)."""
    names = wheel.namelist()
    assert "utils/checks/lenet.py" in names and "utils/measure/macs.py" in names
    assert not [n for n in names if n.startswith("utils/tooling")]


def test_the_package_contains_no_solution_or_hidden_test(wheel):
    secrets = _secret_lines()
    assert secrets, "the solutions have distinctive lines to look for"
    for name in wheel.namelist():
        text = wheel.read(name).decode("utf-8", errors="replace")
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{name} contains solution text: {leaked[:3]}"


def test_no_lab_contains_solution_hidden_tests_or_outputs():
    secrets = _secret_lines()
    for path in nbfiles.course_notebooks("labs"):
        text = path.read_text()
        assert not [s for s in secrets if s in text], path.name
        assert '"output_type"' not in text and "BEGIN SOLUTION" not in text, path.name


def test_no_compiled_or_cache_files_are_tracked():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [t for t in tracked if t.endswith((".pyc", ".pyo")) or "__pycache__" in t]
    assert not [t for t in tracked if t.startswith("labs/") and not t.endswith(".ipynb")]
