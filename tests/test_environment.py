"""One source of pins: requirements.txt, used by pip, the Makefile and environment.yml."""

from __future__ import annotations

import re
import tomllib

from utils.tooling.nbfiles import root


def _pins(text):
    pins = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_environment_yml_installs_through_requirements_txt():
    env = (root() / "environment.yml").read_text()
    assert "- -r requirements.txt" in env
    assert not re.search(r"^\s+- (tensorflow|keras|numpy)\b", env, re.M), "no second set of pins"
    python = re.search(r"python=(\d+\.\d+)", env).group(1)
    pyproject = tomllib.loads((root() / "pyproject.toml").read_text())
    low = pyproject["project"]["requires-python"].removeprefix(">=")
    assert tuple(map(int, python.split("."))) >= tuple(map(int, low.split(".")))


def test_requirements_txt_pins_everything_requirements_in_asks_for():
    locked = _pins((root() / "requirements.txt").read_text())
    assert all(v for v in locked.values()), "every line of requirements.txt is pinned with =="
    wanted = _pins((root() / "requirements.in").read_text())
    for name, version in wanted.items():
        assert name in locked, f"{name} is in requirements.in but not locked"
        assert not version or locked[name] == version


def test_the_package_never_pulls_tensorflow_into_colab():
    deps = tomllib.loads((root() / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any(d.lower().startswith(("tensorflow", "keras")) for d in deps)


def test_ci_runs_the_readme_test_command():
    assert "make test" in (root() / ".ci" / "run").read_text()
    assert "make test" in (root() / "README.md").read_text()
