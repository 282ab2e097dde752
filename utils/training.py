"""Small training helpers: stating and checking the result a notebook expects."""

from __future__ import annotations


class OutsideBandError(AssertionError):
    """A measured metric fell outside the band the notebook promised."""


def check_band(
    name: str,
    value: float,
    low: float,
    high: float = 1.0,
    *,
    causes: str = "",
    strict: bool = True,
) -> bool:
    """Print `value` against its expected band [low, high]; return whether it is inside.

    causes: the likely reasons to print when the value is outside (what to check next).
    strict: raise OutsideBandError when outside (a lab's check); False only warns (a lecture's
    `full` run on hardware the notebook cannot control). Returns True when inside.
    """
    ok = low <= value <= high
    verdict = "within" if ok else "OUTSIDE"
    print(f"{name}: {value:.4f} ({verdict} the expected band {low:.3f} to {high:.3f})")
    if not ok and not strict:
        print(f"WARNING: {name} is outside its band. " + (causes or "Check the data and epochs."))
    elif not ok:
        raise OutsideBandError(
            f"{name} = {value:.4f} is outside [{low}, {high}]. "
            + (causes or "Check the data, the learning rate and the number of epochs.")
        )
    return ok
