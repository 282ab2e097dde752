"""Checks for unit 01 (convolution): conv2d by loops, output size, parameter counts.

References: scipy.signal.correlate and keras.ops.conv; the shapes and count_params() of real
Keras layers. The references with the exercise's own contract (`_reference_conv2d`,
`_keras_conv2d`) are `@reference`s: the release holds only their results on the check's
own cases (utils.checks.references).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from utils.checks.core import call, compare, fail, passed, rel_error
from utils.checks.references import reference


def _zero_padded(x, padding):
    """x: (H, W, C) inside a border of `padding` zeros."""
    h, w, c = x.shape
    out = np.zeros((h + 2 * padding, w + 2 * padding, c), dtype=x.dtype)
    out[padding : padding + h, padding : padding + w] = x
    return out


@reference
def _reference_conv2d(x, w, b, stride, padding):
    """scipy reference. x: (H, W, C), w: (KH, KW, C, F), b: (F,) -> (OH, OW, F)."""
    from scipy.signal import correlate

    xp = _zero_padded(x, padding)
    maps = [correlate(xp, w[..., f], mode="valid")[..., 0] + b[f] for f in range(w.shape[-1])]
    return np.stack(maps, axis=-1)[::stride, ::stride]


@reference
def _keras_conv2d(x, w, b, stride, padding):
    """Keras reference, same contract as `_reference_conv2d`."""
    import keras

    padded = keras.layers.ZeroPadding2D(padding)(x[None].astype("float32"))
    y = keras.ops.conv(padded, w.astype("float32"), strides=stride)
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
    # Then one feature at a time (padding, stride, channels and bias), so that the first
    # failing case points at one cause; then random cases mixing everything.
    staged = [((6, 6, 1), (3, 3, 1, 1), 1, 1), ((7, 7, 1), (3, 3, 1, 1), 2, 0)]
    staged.append(((5, 6, 2), (2, 3, 2, 3), 1, 0))
    for (h, wd, c), kshape, stride, pad in staged[: max(0, n - 1)]:
        bias = rng.standard_normal(kshape[-1]) if c > 1 else np.zeros(1)
        yield rng.standard_normal((h, wd, c)), rng.standard_normal(kshape), bias, stride, pad
    n -= len(staged)
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


def _conv_hint(x, w, b, stride, padding, got) -> str:
    """The likely cause of a wrong conv2d output, from references with one thing changed."""
    got = np.asarray(got, dtype=np.float64)
    variants = {
        "the kernel is flipped (that is convolution; Keras and this lab cross-correlate)": (
            x,
            w[::-1, ::-1],
            b,
        ),
        "the bias is missing": (x, w, np.zeros_like(b)),
    }
    for cause, (xv, wv, bv) in variants.items():
        ref = _reference_conv2d(xv, wv, bv, stride, padding)
        if ref.shape == got.shape and rel_error(ref, got) < 1e-9:
            return f"your output is what you get when {cause}."
    return "start from the first case: one window, one filter, then add channels and stride."


def check_conv2d(conv2d: Callable, n_cases: int = 16, seed: int = 0) -> None:
    """Check `conv2d(x, w, b, stride, padding) -> (OH, OW, F)` against SciPy and Keras.

    x: (H, W, C), w: (KH, KW, C, F), b: (F,), integer stride and zero-padding.
    """
    name = getattr(conv2d, "__name__", "conv2d")
    worst = 0.0
    for x, w, b, stride, pad in conv2d_cases(n_cases, seed):
        case = f"x {x.shape}, w {w.shape}, stride={stride}, padding={pad}"
        want = _reference_conv2d(x, w, b, stride, pad)
        got = call(conv2d, x.copy(), w.copy(), b.copy(), stride, pad, case=case)
        err = compare(
            name,
            case,
            got,
            want,
            tol=1e-9,
            shape_hint="one output position per placement of the kernel on the padded input, "
            "moving `stride` pixels at a time; one output map per filter.",
            hint=_conv_hint(x, w, b, stride, pad, got),
            show=lambda a: a[..., 0],
        )
        worst = max(worst, err)
        # Keras is a second, independent reference. It computes in float32, so its error is
        # measured against the size of the output rather than elementwise.
        k_diff = np.abs(_keras_conv2d(x, w, b, stride, pad) - got).max()
        k_err = float(k_diff / max(1e-8, np.abs(got).max()))
        if k_err > 1e-5:
            raise fail(name, case, "the same as keras.ops.conv", f"relative error {k_err:.1e}")
    passed(
        f"`{name}` matches scipy.signal.correlate and keras.ops.conv on {n_cases} cases "
        f"(relative error below 1e-9)."
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
            raise fail(name, case, want, got, "an int; `//` rounds down like Keras does.")
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
            raise fail(
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
            raise fail("dense_params", case, dense.count_params(), got)
    passed("`conv_params` and `dense_params` agree with Keras count_params() on 10 layers each.")
