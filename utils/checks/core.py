"""The harness every lab check uses: calling learner code, reporting, comparing.

A topic module's `check_*` function uses these to call the learner's function (`call`), to
report a pass (`passed`) or the first failing case (`fail` -> `CheckFailed`), and to compare
arrays (`rel_error`, CS231n's relative error).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class CheckFailed(AssertionError):
    """The learner's code gave a wrong answer on a case; the message shows the case."""


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """CS231n's relative error: max |x - y| / max(1e-8, |x| + |y|), elementwise."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


def call(fn: Callable, *args, case: str = "", **kwargs) -> Any:
    """Call the learner's `fn`, turning "not written yet" into a message that says what to do."""
    name = getattr(fn, "__name__", "your function")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise NotImplementedError(
            f"`{name}` is not written yet: in its cell, replace `raise NotImplementedError()` "
            f"under `# YOUR CODE HERE` with your code, run that cell, then run this check again."
        ) from None
    except Exception as err:
        if case:
            err.add_note(f"(raised by `{name}` on the case: {case})")
        raise


def passed(message: str) -> None:
    """Print the line a learner sees when a check passes."""
    print(f"PASSED: {message}")


def fail(name: str, case: str, expected: Any, got: Any, hint: str = "") -> CheckFailed:
    return CheckFailed(
        f"`{name}` is wrong on the case {case}\n  expected: {expected}\n  got:      {got}"
        + (f"\n  hint: {hint}" if hint else "")
    )


def as_array(value: Any, name: str, case: str) -> np.ndarray:
    if value is None:
        raise CheckFailed(f"`{name}` returned None on the case {case}: did you forget `return`?")
    return np.asarray(value)
