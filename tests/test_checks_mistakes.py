"""Every catalogued exercise's check rejects its typical mistakes with a message that helps,
and accepts correct answers written differently from the solution (tests/mistakes/)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mistakes import catalogue

from utils.checks import CheckFailed

CATALOGUE = catalogue()
ROOT = Path(__file__).resolve().parents[1]
#: The modules of utils.checks (the labs' checks; grading tasks live elsewhere).
CHECK_MODULES = {p.stem for p in (ROOT / "utils" / "checks").glob("*.py")} - {"__init__", "core"}

WRONG = [
    pytest.param(unit, check, mistake, id=f"{unit}-{check}-{mistake}")
    for unit, exercises in CATALOGUE.items()
    for check, ex in exercises.items()
    for mistake in ex.wrong
]
RIGHT = [
    pytest.param(unit, check, variant, id=f"{unit}-{check}-{variant}")
    for unit, exercises in CATALOGUE.items()
    for check, ex in exercises.items()
    for variant in ex.right
]


@pytest.mark.parametrize("unit, check, mistake", WRONG)
def test_check_rejects_the_mistake_with_a_helpful_message(unit, check, mistake):
    ex = CATALOGUE[unit][check]
    answer, message = ex.wrong[mistake]
    with pytest.raises(Exception) as err:  # noqa: PT011 - which kind is asserted below
        ex.run(answer)
    notes = getattr(err.value, "__notes__", [])
    # rejected by the check, or by Keras with the course's hint added by `call`
    assert isinstance(err.value, CheckFailed) or any(n.startswith("hint:") for n in notes), (
        f"neither CheckFailed nor a course hint: {err.value!r}"
    )
    text = "\n".join([str(err.value), *notes])
    assert re.search(message, text, flags=re.I | re.S), f"message lacks /{message}/:\n{text}"


@pytest.mark.parametrize("unit, check, variant", RIGHT)
def test_check_accepts_a_correct_variant(unit, check, variant, capsys):
    ex = CATALOGUE[unit][check]
    ex.run(ex.right[variant])
    assert "PASSED" in capsys.readouterr().out


def _lab_checks() -> dict[str, list[str]]:
    """Unit ("unit01") -> the check_* names its solution notebook calls."""
    found = {}
    for nb in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        calls = re.findall(r"\b(\w+)\.(check_\w+)\(", source)
        # `from utils.checks import unet as unet_checks`: the alias names the module
        aliases = dict(
            (alias, module)
            for module, alias in re.findall(r"from utils\.checks import (\w+) as (\w+)", source)
        )
        names = sorted(
            {check for module, check in calls if aliases.get(module, module) in CHECK_MODULES}
        )
        found[f"unit{nb.name[:2]}"] = names
    return found


def test_report_mistakes_rejected_per_unit_and_check(capsys):
    """Print unit -> check -> mistakes rejected / correct variants; every catalogued check has
    at least three mistakes and one correct variant; list the lab checks not catalogued yet."""
    lines, missing = [], []
    for unit, checks in _lab_checks().items():
        exercises = CATALOGUE.get(unit, {})
        for check in checks:
            if check in exercises:
                ex = exercises[check]
                lines.append(f"{unit} {check}: {len(ex.wrong)} rejected, {len(ex.right)} accepted")
                assert len(ex.wrong) >= 3 and len(ex.right) >= 1, check
            else:
                missing.append(f"{unit} {check}")
    with capsys.disabled():
        print("\nmistakes rejected / correct variants accepted, per unit and check:")
        print("\n".join(lines))
        print(f"not catalogued yet ({len(missing)}): " + ", ".join(missing))
    assert lines
