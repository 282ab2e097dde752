"""The harness every lab check uses: calling learner code, reporting, comparing.

A topic module's `check_*` function uses these to call the learner's function (`call`), to
check that what came back is an array of the expected shape and dtype (`expect_array`, or
`call_for_array` for both steps), to compare it with a reference (`compare`: None? -> shape ->
dtype -> values, with the likely cause named when the difference has a recognisable pattern),
to report a pass (`passed`) or the first failing case (`fail` -> `CheckFailed`), and to
measure arrays (`rel_error`, CS231n's relative error).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from utils.measure.errors import rel_error, scaled_error  # noqa: F401  (part of the checks API)


class CheckFailed(AssertionError):
    """The learner's code gave a wrong answer on a case; the message shows the case.

    In IPython and Jupyter the learner sees the message (and any notes), not a traceback
    through the check's own source, which holds the reference computation.
    """

    def _render_traceback_(self) -> list[str]:
        """What IPython prints instead of a traceback: the message and its notes."""
        notes = [str(n) for n in getattr(self, "__notes__", ())]
        return [f"CheckFailed: {self}", *notes]


#: Error messages a typical mistake makes Keras or NumPy raise -> the course's hint.
KNOWN_ERRORS: list[tuple[str, str]] = [
    (
        r"(?is)`target`.*`output`.*rank|`output` must have rank|received a label value"
        r"|(target|labels).*(output|logits).*same shape",
        "hint: integer class labels of shape (N,) go with sparse_categorical_crossentropy, "
        "one-hot labels of shape (N, classes) with categorical_crossentropy: is the loss the "
        "one that matches your labels?",
    ),
    (
        r"(?i)Concatenate. layer requires inputs with matching shapes",
        "hint: the tensors reaching Concatenate differ in height or width: a branch or a "
        "skip that should keep the size changes it (its stride, its padding)?",
    ),
    (
        r"(?i)Inputs have incompatible shapes",
        "hint: the tensors reaching Add (or another merge) differ in shape: is the shortcut "
        "brought to the branch's size (its stride, its number of filters)?",
    ),
    (
        r"(?i)expected axis -1 of input shape to have value|incompatible with the layer",
        "hint: a layer received an input of another shape than it was built for: compare the "
        "input shape (height, width, channels last) with the one the exercise gives.",
    ),
    (
        r"(?i)matmul|shapes? .* not aligned|mismatch in its core dimension",
        "hint: a matrix product got operands whose inner sizes differ: print the shapes of "
        "both operands (reshape to (rows, columns) first?).",
    ),
]


def _course_hint(err: Exception) -> str:
    text = f"{type(err).__name__}: {err}"
    for pattern, hint in KNOWN_ERRORS:
        if re.search(pattern, text):
            return hint
    return ""


def call(fn: Callable, *args, case: str = "", **kwargs) -> Any:
    """Call the learner's `fn`, turning "not written yet" into a message that says what to do,
    and adding to any other error the case it was raised on and, for an error a typical
    mistake raises (see KNOWN_ERRORS), the course's hint."""
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
        hint = _course_hint(err)
        if hint:
            err.add_note(hint)
        raise


def passed(message: str) -> None:
    """Print the line a learner sees when a check passes."""
    print(f"PASSED: {message}")


def fail(name: str, case: str, expected: Any, got: Any, hint: str = "") -> CheckFailed:
    """The exception for the first failing case: what was expected, what came back, a hint
    that names the likely cause (never the answer)."""
    return CheckFailed(
        f"`{name}` is wrong on the case {case}\n  expected: {expected}\n  got:      {got}"
        + (f"\n  hint: {hint}" if hint else "")
    )


def as_array(value: Any, name: str, case: str) -> np.ndarray:
    """`value` as an array, or CheckFailed if the learner's function returned None."""
    if value is None:
        raise CheckFailed(f"`{name}` returned None on the case {case}: did you forget `return`?")
    return np.asarray(value)


def expect_array(
    got: Any,
    *,
    name: str,
    case: str,
    shape: tuple | None = None,
    dtype: Any = None,
    what: str = "",
    shape_hint: str = "",
    dtype_hint: str = "",
) -> np.ndarray:
    """`got` as an array, checked in the order None? -> shape -> dtype (each only if given).

    shape: the shape `got` must have, e.g. the reference's `want.shape`; dtype: the dtype it
    must have; what: names the expected array in the message ("w" -> "w of shape (3, 4)").
    Raises CheckFailed on the first difference, with `shape_hint` or `dtype_hint`.
    """
    got = as_array(got, name, case)
    if shape is not None and got.shape != tuple(shape):
        expected = f"{what + ' of ' if what else ''}shape {tuple(shape)}"
        raise fail(name, case, expected, f"shape {got.shape}", shape_hint)
    if dtype is not None and got.dtype != np.dtype(dtype):
        raise fail(name, case, f"dtype {np.dtype(dtype)}", f"dtype {got.dtype}", dtype_hint)
    return got


def call_for_array(fn: Callable, *args, name: str, case: str, **expected: Any) -> np.ndarray:
    """The learner's fn(*args) through `call`, its result checked by `expect_array`.

    expected: `expect_array`'s keywords (shape, dtype, what, shape_hint, dtype_hint).
    """
    return expect_array(call(fn, *args, case=case), name=name, case=case, **expected)


def rounded_alike(want: Any, got: Any, decimals: int = 3, most: int = 8) -> tuple[str, str]:
    """Both values printed with the same number of decimals, the fewest from `decimals` on at
    which they differ (so two different values never print the same, and equal ones do)."""
    w, g = np.asarray(want, dtype=np.float64), np.asarray(got, dtype=np.float64)
    d = decimals
    differ = w.shape == g.shape and not np.array_equal(w, g)
    while d < most and differ and np.array_equal(np.round(w, d), np.round(g, d)):
        d += 1

    def text(a: np.ndarray) -> str:
        if a.ndim == 0:
            return f"{float(a):.{d}f}"
        return np.array2string(
            np.round(a, d), precision=d, floatmode="fixed", suppress_small=True, max_line_width=100
        )

    return text(w), text(g)


def likely_cause(got: np.ndarray, want: np.ndarray, spatial: bool = True) -> str:
    """A sentence naming the cause when the difference has a recognisable pattern, else "".

    got, want: arrays of one shape; with `spatial`, axes 0 and 1 are rows and columns (H, W, ...)
    and the last axis holds channels or filters.
    """
    g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    diff = g - w
    scale = max(1e-12, float(np.abs(w).max(initial=0.0)))
    close = np.abs(diff) <= 1e-6 * scale + 1e-12
    if close.all():
        return ""
    if np.allclose(g, -w, atol=1e-6 * scale):
        return "every value has the wrong sign: a subtraction the wrong way round?"
    nz = np.abs(w) > 1e-9 * scale
    if nz.any():
        ratio = g[nz] / w[nz]
        if np.allclose(ratio, ratio.flat[0], rtol=1e-6) and np.allclose(
            g[~nz], 0, atol=1e-6 * scale
        ):
            return (
                f"every value is {ratio.flat[0]:.4g} times the expected one: a missing or "
                "extra scale factor (a division by the count, a factor of 2)?"
            )
    if g.ndim >= 1 and g.size > 1:
        per_channel = diff.reshape(-1, g.shape[-1]) if g.ndim >= 2 else diff.reshape(-1, 1)
        if np.allclose(per_channel, per_channel[:1], atol=1e-6 * scale):
            return (
                "every value is off by the same amount (per output channel): "
                "a missing or doubled bias, or a constant offset?"
            )
    if spatial and g.ndim >= 2 and g.shape[0] >= 5 and g.shape[1] >= 5:
        bad = ~close.reshape(g.shape[0], g.shape[1], -1).all(axis=-1)
        inner = bad[1:-1, 1:-1]
        if not inner.any():
            return (
                "only the border rows and columns differ, the inside is right: "
                "the padding (its size, or padding with zeros)?"
            )
        if bad[0].all() and not bad[1:].any() or bad[:, 0].all() and not bad[:, 1:].any():
            return "only the first row or column differs: an off-by-one start index?"
    return ""


def compare(
    name: str,
    case: str,
    got: Any,
    want: np.ndarray,
    *,
    tol: float = 1e-9,
    error: str = "relative",
    dtype: Any = None,
    shape_hint: str = "",
    hint: str = "",
    show: Callable[[np.ndarray], np.ndarray] | None = None,
    spatial: bool = True,
) -> float:
    """The check every numeric exercise shares: None? -> shape -> dtype -> values.

    got: what the learner's function returned; want: the reference array. `error` is
    "relative" (CS231n's, for float64) or "scaled" (against the output's size, for float32);
    `dtype`, if given, is the dtype `got` must have; `show` selects what the message prints of
    both (for instance the first channel). Returns the measured error (not to be printed by a
    passing check: it varies between CPUs). Raises CheckFailed naming the first difference.
    """
    want = np.asarray(want)
    got = expect_array(
        got, name=name, case=case, shape=want.shape, dtype=dtype, shape_hint=shape_hint
    )
    if not (np.issubdtype(got.dtype, np.number) or got.dtype == np.bool_):
        raise fail(name, case, "numbers", f"dtype {got.dtype}", "return a NumPy array of numbers")
    err = scaled_error(got, want) if error == "scaled" else rel_error(got, want)
    if not np.isfinite(err) or err > tol:
        cause = likely_cause(got, want, spatial=spatial)
        shown_want, shown_got = (show(want), show(got)) if show else (want, got)
        w_text, g_text = rounded_alike(shown_want, shown_got)
        bound = f"{error} error {err:.1e} (the bound is {tol:.0e})"
        full_hint = "; ".join(h for h in (cause, hint) if h)
        full_hint = full_hint[:1].upper() + full_hint[1:]
        raise fail(name, case, w_text, g_text, f"{bound}. {full_hint}".strip())
    return err


def calls_to(fn: Callable, targets: list[Callable], *args, case: str = "", **kwargs):
    """Run the learner's fn(*args, **kwargs) through `call`; return (its result, how many times
    any of `targets` (Python functions) ran meanwhile, e.g. a helper the exercise must not
    delegate to, or a layer's constructor where nothing may be built)."""
    import sys

    codes = {getattr(t, "__code__", None) for t in targets} - {None}
    count = 0

    previous = sys.getprofile()

    def profile(frame, event, arg):
        nonlocal count
        if event == "call" and frame.f_code in codes:
            count += 1
        if previous is not None:  # a profiler already watching (the drop-in scan's) goes on
            previous(frame, event, arg)

    sys.setprofile(profile)
    try:
        result = call(fn, *args, case=case, **kwargs)
    finally:
        sys.setprofile(previous)
    return result, count
