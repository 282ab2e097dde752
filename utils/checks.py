"""Self-checks for the labs: the learner's function against an independent reference.

Each `check_*` runs the learner's code on random cases (seeded, so a re-run is identical),
compares with SciPy / NumPy / Keras, and prints one line that says it passed, or raises
`CheckFailed` naming the first failing case with what was expected and what came back.
A function that still raises NotImplementedError gets a message saying where to write code.
None of these functions contains an exercise's answer: the references are other libraries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


def _fail(name: str, case: str, expected: Any, got: Any, hint: str = "") -> CheckFailed:
    return CheckFailed(
        f"`{name}` is wrong on the case {case}\n  expected: {expected}\n  got:      {got}"
        + (f"\n  hint: {hint}" if hint else "")
    )


def _as_array(value: Any, name: str, case: str) -> np.ndarray:
    if value is None:
        raise CheckFailed(f"`{name}` returned None on the case {case}: did you forget `return`?")
    return np.asarray(value)


# ---------------------------------------------------------------- unit 01: convolution


def _reference_conv2d(x, w, b, stride, padding):
    """scipy reference. x: (H, W, C), w: (KH, KW, C, F), b: (F,) -> (OH, OW, F)."""
    from scipy.signal import correlate

    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    maps = [correlate(xp, w[..., f], mode="valid")[..., 0] + b[f] for f in range(w.shape[-1])]
    return np.stack(maps, axis=-1)[::stride, ::stride]


def _keras_conv2d(x, w, b, stride, padding):
    """Keras reference, same contract as `_reference_conv2d`."""
    import keras

    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    y = keras.ops.conv(xp[None].astype("float32"), w.astype("float32"), strides=stride)
    return keras.ops.convert_to_numpy(y)[0] + b


def conv2d_cases(n: int = 16, seed: int = 0) -> Iterable[tuple]:
    """Random (x, w, b, stride, padding) cases: small shapes, 1-3 channels, stride 1-3, pad 0-2."""
    rng = np.random.default_rng(seed)
    # The worked example of the lecture notes: 5x5 binary image, 3x3 binary kernel.
    image = np.array(
        [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
    )
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    yield image[..., None].astype(float), kernel[..., None, None].astype(float), np.zeros(1), 1, 0
    while n > 1:
        h, wd = rng.integers(3, 10, size=2)
        kh, kw = rng.integers(1, 5, size=2)
        c, f = rng.integers(1, 4, size=2)
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        if kh > h + 2 * pad or kw > wd + 2 * pad:
            continue
        n -= 1
        yield (
            rng.standard_normal((h, wd, c)),
            rng.standard_normal((kh, kw, c, f)),
            rng.standard_normal(f),
            stride,
            pad,
        )


def check_conv2d(conv2d: Callable, n_cases: int = 16, seed: int = 0) -> None:
    """Check `conv2d(x, w, b, stride, padding) -> (OH, OW, F)` against SciPy and Keras.

    x: (H, W, C), w: (KH, KW, C, F), b: (F,), integer stride and zero-padding.
    """
    name = getattr(conv2d, "__name__", "conv2d")
    worst = 0.0
    for x, w, b, stride, pad in conv2d_cases(n_cases, seed):
        case = f"x {x.shape}, w {w.shape}, stride={stride}, padding={pad}"
        want = _reference_conv2d(x, w, b, stride, pad)
        got = _as_array(
            call(conv2d, x.copy(), w.copy(), b.copy(), stride, pad, case=case), name, case
        )
        if got.shape != want.shape:
            raise _fail(
                name,
                case,
                f"shape {want.shape}",
                f"shape {got.shape}",
                "output size is (N - F + 2P) // S + 1 along each axis; one map per filter.",
            )
        err = rel_error(got, want)
        if err > 1e-9:
            raise _fail(
                name,
                case,
                np.round(want[..., 0], 3),
                np.round(got[..., 0], 3),
                f"relative error {err:.1e}; it should be about 1e-15.",
            )
        worst = max(worst, err)
        # Keras is a second, independent reference. It computes in float32, so its error is
        # measured against the size of the output rather than elementwise.
        k_diff = np.abs(_keras_conv2d(x, w, b, stride, pad) - got).max()
        k_err = float(k_diff / max(1e-8, np.abs(got).max()))
        if k_err > 1e-5:
            raise _fail(name, case, "the same as keras.ops.conv", f"relative error {k_err:.1e}")
    passed(
        f"`{name}` matches scipy.signal.correlate and keras.ops.conv on {n_cases} cases "
        f"(max relative error {worst:.0e}; should be < 1e-9)."
    )


def check_output_size(output_size: Callable, n_cases: int = 40, seed: int = 1) -> None:
    """Check `output_size(n, f, p, s) -> int` against the shape a Keras layer really produces."""
    import keras

    name = getattr(output_size, "__name__", "output_size")
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n, f = int(rng.integers(5, 64)), int(rng.integers(1, 8))
        p, s = int(rng.integers(0, 4)), int(rng.integers(1, 5))
        if f > n + 2 * p:
            continue
        case = f"n={n}, f={f}, p={p}, s={s}"
        padded = keras.Sequential(
            [
                keras.Input((n, n, 1)),
                keras.layers.ZeroPadding2D(p),
                keras.layers.Conv2D(1, f, strides=s),
            ]
        )
        want = padded.output_shape[1]
        got = call(output_size, n, f, p, s, case=case)
        if got != want or not isinstance(got, (int, np.integer)):
            raise _fail(name, case, want, got, "an int; `//` rounds down like Keras does.")
    passed(f"`{name}` agrees with the output shape of Keras Conv2D layers on {n_cases} cases.")


def check_param_counts(conv_params: Callable, dense_params: Callable, seed: int = 2) -> None:
    """Check `conv_params(kh, kw, c_in, c_out)` and `dense_params(n_in, n_out)` (with biases)
    against Keras's `count_params()` of real layers."""
    import keras

    rng = np.random.default_rng(seed)
    for _ in range(10):
        kh, kw = (int(v) for v in rng.integers(1, 8, size=2))
        c_in, c_out = (int(v) for v in rng.integers(1, 300, size=2))
        case = f"kh={kh}, kw={kw}, c_in={c_in}, c_out={c_out}"
        layer = keras.layers.Conv2D(c_out, (kh, kw))
        layer.build((None, 16, 16, c_in))
        got = call(conv_params, kh, kw, c_in, c_out, case=case)
        if got != layer.count_params():
            raise _fail(
                "conv_params",
                case,
                layer.count_params(),
                got,
                "each of the c_out filters has kh*kw*c_in weights and one bias.",
            )
        n_in, n_out = (int(v) for v in rng.integers(1, 5000, size=2))
        case = f"n_in={n_in}, n_out={n_out}"
        dense = keras.layers.Dense(n_out)
        dense.build((None, n_in))
        got = call(dense_params, n_in, n_out, case=case)
        if got != dense.count_params():
            raise _fail("dense_params", case, dense.count_params(), got)
    passed("`conv_params` and `dense_params` agree with Keras count_params() on 10 layers each.")


# ---------------------------------------------------------------- unit 05: LeNet


def check_preprocess(preprocess: Callable, seed: int = 3) -> None:
    """Check `preprocess(x) -> float32 (N, 28, 28, 1) in [0, 1]` for uint8 x: (N, 28, 28)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    case = "x uint8 (7, 28, 28)"
    got = _as_array(call(preprocess, x.copy(), case=case), "preprocess", case)
    if got.shape != (7, 28, 28, 1):
        raise _fail("preprocess", case, "shape (7, 28, 28, 1): add a channel axis", got.shape)
    if got.dtype != np.float32:
        raise _fail("preprocess", case, "dtype float32", got.dtype)
    want = x.astype(np.float64)[..., None] / 255.0
    if rel_error(got, want) > 1e-6:
        raise _fail(
            "preprocess",
            case,
            "pixel values divided by 255",
            f"values from {got.min():.3g} to {got.max():.3g}",
        )
    passed("`preprocess` gives float32 (N, 28, 28, 1) images scaled to [0, 1].")


def model_table(model) -> list[tuple[str, tuple, int]]:
    """(layer class, output shape without batch, parameters) for each layer of a built model."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:])
        rows.append((type(layer).__name__, shape, int(layer.count_params())))
    return rows


def check_model_table(model, expected: list[tuple[str, tuple, int]], name: str = "model") -> None:
    """Compare a Keras model layer by layer with a target summary: (class, shape, params)."""
    if model is None:
        raise CheckFailed(f"`{name}` is None: did you forget to `return` the model?")
    got = model_table(model)
    for i, (g, e) in enumerate(zip(got, expected, strict=False)):
        if g != e:
            raise _fail(name, f"layer {i}", e, g, "compare kernel size, filters, padding, pooling.")
    if len(got) != len(expected):
        raise _fail(name, "number of layers", len(expected), len(got))
    total = sum(p for *_, p in expected)
    passed(f"`{name}` has the {len(expected)} layers of the target summary ({total:,} parameters).")


def check_model_builder(build: Callable, expected: list[tuple[str, tuple, int]]):
    """Call the learner's `build()` and compare the model with a target summary; return it."""
    name = getattr(build, "__name__", "build")
    model = call(build, case="no arguments")
    check_model_table(model, expected, name=name)
    return model
