"""Small training helpers: stating and checking the result a notebook expects."""

from __future__ import annotations


class OutsideBandError(AssertionError):
    """A measured metric fell outside the band the notebook promised."""


def check_band(name: str, value: float, low: float, high: float = 1.0, *, causes: str = "") -> None:
    """Print `value` against its expected band [low, high]; raise OutsideBandError outside it.

    causes: the likely reasons to print when the value is outside (what to check next).
    """
    ok = low <= value <= high
    verdict = "within" if ok else "OUTSIDE"
    print(f"{name}: {value:.4f} ({verdict} the expected band {low:.3f} to {high:.3f})")
    if not ok:
        raise OutsideBandError(
            f"{name} = {value:.4f} is outside [{low}, {high}]. "
            + (causes or "Check the data, the learning rate and the number of epochs.")
        )
