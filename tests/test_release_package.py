"""`make release`: the learner-facing course holds no answer and points at the release repo."""

from __future__ import annotations

import pytest

from utils.tooling import nbfiles, release

ROOT = nbfiles.root()


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "course"
    lines = release.write_release(out, repo="someone/cnn-course-public")
    return out, lines


def test_the_release_holds_lectures_labs_and_the_package_without_tooling(released):
    out, _ = released
    names = {p.name for p in nbfiles.course_notebooks("labs")}
    assert {p.name for p in (out / "labs").glob("*.ipynb")} == names
    assert {p.name for p in (out / "notebooks").glob("*.ipynb")} == {
        p.name for p in nbfiles.course_notebooks("notebooks")
    }
    assert (out / "utils" / "checks").is_dir() and not (out / "utils" / "tooling").exists()
    assert not (out / "solutions").exists() and not (out / "tests").exists()
    assert not list(out.rglob("__pycache__"))
    assert "hidden tests" in (out / "README.md").read_text()


def test_the_release_contains_no_solution_or_hidden_test(released):
    out, _ = released
    assert release.secret_lines(), "the solutions have distinctive lines to look for"
    assert release.leaks(out) == []
    text = "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert "GRADING_SEED" not in text


def test_badges_and_install_lines_point_at_the_release_repository(released):
    out, _ = released
    lab = (out / "labs" / "05_lenet.ipynb").read_text()
    assert "colab.research.google.com/github/someone/cnn-course-public/blob/" in lab
    assert "cnn-course/cnn-course" not in lab
    assert "someone/cnn-course-public" in (out / "utils" / "course.py").read_text()


def test_a_release_never_overwrites_and_a_leak_writes_nothing(released, tmp_path, monkeypatch):
    out, _ = released
    with pytest.raises(SystemExit, match="not empty"):
        release.write_release(out)
    monkeypatch.setattr(release, "secret_lines", lambda: {"Write your code where a cell says"})
    target = tmp_path / "leaky"
    (tmp_path / "leaky").mkdir()
    with pytest.raises(SystemExit, match="answers"):
        release.write_release(target)
    assert not target.exists()
