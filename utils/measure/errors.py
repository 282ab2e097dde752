"""Relative errors: how far a result is from its reference, as one number.

- `rel_error(x, y)`: CS231n's elementwise relative error, max |x - y| / max(1e-8, |x| + |y|);
  about 1e-7 or less for a float64 result that is right, 1e-2 or more for one that is wrong
- `scaled_error(x, y)`: max |x - y| / max |y|, the error against the size of the reference
  (float32 work, where entries near zero make the elementwise error meaningless)
- `norm_relative_error(a, n)`: ||a - n|| / max(1e-8, ||a|| + ||n||), of a gradient as a whole

Every function takes arrays of one shape (any shape) and returns a Python float.
"""

from __future__ import annotations

import numpy as np


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """CS231n's relative error: max |x - y| / max(1e-8, |x| + |y|), elementwise."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


def scaled_error(x: np.ndarray, y: np.ndarray) -> float:
    """max |x - y| / max |y|: the error measured against the size of the output (float32)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.abs(x - y).max(initial=0.0) / max(1e-8, np.abs(y).max(initial=0.0)))


def norm_relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Relative error of a gradient as a whole: ||a - n|| / max(1e-8, ||a|| + ||n||).

    Unlike `rel_error`, a tiny entry (whose own relative error is dominated by rounding)
    cannot dominate it. Used where gradients have entries near zero. Shapes must agree.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"shapes differ: analytic {a.shape}, numeric {n.shape}")
    return float(np.linalg.norm(a - n) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(n)))
