"""Self-checks for the labs: the learner's code against an independent reference.

Each `check_*` function runs the learner's code on seeded random cases, compares with SciPy,
NumPy or Keras, and prints one `PASSED` line, or raises `CheckFailed` naming the first failing
case with what was expected and what came back. A function that still raises
NotImplementedError gets a message saying where to write code. A reference that could stand
in for an answer is marked `@reference` (`references`): the learners' release ships only its
results on the checks' own cases.

One module per topic (`convolution`, `lenet`, `models`, ...); the harness is in `core`:
"""

from utils.checks.core import CheckFailed, call, passed, rel_error

__all__ = ["CheckFailed", "call", "passed", "rel_error"]
