"""Gradient checking: numeric gradients by centred differences, and a CS231n-style report.

A backward pass is checked by comparing its *analytic* gradient with a *numeric* one,
`(f(x + h) - f(x - h)) / 2h` for each entry of `x`, and printing the relative error. In
float64 a correct backward pass gives about 1e-7 or less (usually 1e-9 to 1e-12); a wrong
one gives 1e-2 or more. In float32 even a correct one only reaches about 1e-3, so check in
float64.

These are independent references (they never look inside a layer), used by unit 04's
lecture and lab and by `utils.checks.backprop_from_scratch`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.measure.errors import rel_error

#: The relative error a correct backward pass stays under in float64 (CS231n's rule of thumb).
GRADIENT_TOLERANCE = 1e-6


def numeric_gradient(
    f: Callable[[np.ndarray], np.ndarray | float],
    x: np.ndarray,
    dout: np.ndarray | None = None,
    h: float = 1e-5,
) -> np.ndarray:
    """The gradient of `f` at `x` by centred differences, one entry of `x` at a time.

    f:    a function of the array `x` (it is called with `x` itself, nudged in place and
          restored afterwards, so `f` must read `x` and not keep a copy of it). It returns
          either a scalar (then leave `dout` as None) or an array `out` of any shape.
    x:    the point, any shape; a float64 array gives meaningful results.
    dout: the upstream gradient dL/dout, same shape as `f(x)`; the result is then the
          gradient of `sum(f(x) * dout)`, i.e. what a layer's backward pass returns for `x`.
          Differences are taken before the sum (CS231n's `eval_numerical_gradient_array`),
          which keeps the rounding error small.
    h:    the step.

    Returns an array shaped like `x` (float64). Costs two calls of `f` per entry of `x`.
    """
    if not np.issubdtype(np.asarray(x).dtype, np.floating):
        raise TypeError(f"x must be a float array (float64 for a useful check), not {x.dtype}")
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old - h
        minus = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old
        diff = plus - minus
        grad[i] = (diff if dout is None else np.sum(diff * dout)) / (2 * h)
        it.iternext()
    return grad


def gradient_report(
    name: str, analytic: np.ndarray, numeric: np.ndarray, tol: float = GRADIENT_TOLERANCE
) -> float:
    """Print `name: relative error below 1e-06: ok` (or the error and `TOO LARGE`); return it.

    analytic, numeric: arrays of the same shape (a backward pass's gradient and
    `numeric_gradient`'s). A passing line states the bound, not the error itself: the last
    digits of a tiny error are floating-point noise that differs from one CPU to the next.
    """
    a, n = np.asarray(analytic), np.asarray(numeric)
    if a.shape != n.shape:
        raise ValueError(f"shapes differ: analytic {a.shape}, numeric {n.shape}")
    err = rel_error(a, n)
    if err < tol:
        print(f"{name}: relative error below {tol:.0e}: ok")
    else:
        print(f"{name}: relative error {err:.1e}, should be below {tol:.0e}: TOO LARGE")
    return err
