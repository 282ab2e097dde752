"""Small training helpers: stating and checking the result a notebook expects."""

from __future__ import annotations

import os

DEFAULT_CAUSES = (
    "Usual causes: too few epochs, a changed learning rate or batch size, inputs not scaled the "
    "way the model expects, or different data (a partial download, another data set)."
)


class OutsideBandError(AssertionError):
    """A measured metric fell outside the band the notebook promised."""


def active_profile() -> str:
    """The profile the running notebook uses: `$COURSE_PROFILE` if set, else the notebook's
    `PROFILE` variable (every notebook sets it with `PROFILE = start(PROFILE, SEED)`), else
    "full" (what a person gets)."""
    from utils.course import PROFILE_ENV

    env = os.environ.get(PROFILE_ENV)
    if env:
        return env
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # plain Python, no IPython installed
        shell = None
    profile = shell.user_ns.get("PROFILE") if shell is not None else None
    return profile if isinstance(profile, str) else "full"


def check_band(
    name: str,
    value: float,
    low: float,
    high: float = 1.0,
    *,
    causes: str = "",
    strict: bool = True,
    measured: bool = False,
    profile: str | None = None,
) -> None:
    """Print `value` against its expected band [low, high]; raise or warn when outside.

    causes:   the likely reasons to print when the value is outside (what to check next).
    strict:   raise OutsideBandError when outside (a lab's check, the `smoke` run the tests
              make); False only warns.
    measured: whether the band was measured on the real data. In the `full` profile a band
              that was not (the test machines cannot download the full data sets) is an
              estimate: a value outside it warns, says so and lists the usual causes, and never
              raises, whatever `strict` says.
    profile:  "full" or "smoke"; None reads it with `active_profile()`.

    Returns None, so that a cell ending in `check_band(...)` shows only the printed verdict.
    """
    profile = profile or active_profile()
    estimate = profile == "full" and not measured
    ok = low <= value <= high
    verdict = "within" if ok else "OUTSIDE"
    note = " (an estimate, not measured on the real data)" if estimate else ""
    print(f"{name}: {value:.4f} ({verdict} the expected band {low:.3f} to {high:.3f}{note})")
    if ok:
        return None
    reasons = causes or DEFAULT_CAUSES
    if estimate:
        print(
            f"WARNING: {name} is outside its band. The band is an estimate for the full data and "
            f"has not been measured on it, so this is not necessarily an error. {reasons}"
        )
    elif strict:
        raise OutsideBandError(f"{name} = {value:.4f} is outside [{low}, {high}]. {reasons}")
    else:
        print(f"WARNING: {name} is outside its band. {reasons}")
    return None
