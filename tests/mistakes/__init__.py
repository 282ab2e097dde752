"""The catalogue of typical wrong answers, one module per unit (`unitNN.py`).

Each module defines `EXERCISES`: check name -> `Exercise`, whose `run(answer)` calls the lab's
check on one answer (a function, or a tuple of functions for checks that take several), whose
`wrong` maps a mistake's name to (wrong answer, regex the check's message must match), and
whose `right` maps a variant's name to a correct answer written differently from the
solution. `tests/test_checks_mistakes.py` runs them all and reports, per unit and check, how
many mistakes are rejected and how many correct variants accepted.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Exercise:
    """One lab exercise: how to run its check, the mistakes it must reject, right variants."""

    run: Callable[[object], None]
    wrong: dict[str, tuple[object, str]] = field(default_factory=dict)
    right: dict[str, object] = field(default_factory=dict)


def catalogue() -> dict[str, dict[str, Exercise]]:
    """unit module name ("unit01") -> its EXERCISES, for every unit module in this package."""
    units = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("unit"):
            units[info.name] = importlib.import_module(f"{__name__}.{info.name}").EXERCISES
    return units
