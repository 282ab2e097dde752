"""Checks for unit 12 (upsampling): the convolution matrix, transposed convolution by hand,
and kernel-overlap counts.

References: scipy.signal.correlate2d, keras.layers.Conv2DTranspose with the same weights, and
Conv2DTranspose of an all-ones kernel on an all-ones input (which counts overlaps). None of
these is the exercise's answer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import as_array, call, call_for_array, fail, passed, rel_error
from utils.checks.references import reference


def check_conv_matrix(conv_matrix: Callable, n_cases: int = 12, seed: int = 0) -> None:
    """`conv_matrix(kernel (kh, kw), (h, w)) -> C (oh*ow, h*w)` with C @ x.ravel() equal to the
    'valid' cross-correlation of x (h, w) with the kernel, flattened row by row."""
    from scipy.signal import correlate2d

    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        h, w = int(rng.integers(kh, 7)), int(rng.integers(kw, 7))
        kernel, x = rng.standard_normal((kh, kw)), rng.standard_normal((h, w))
        case = f"kernel {kernel.shape}, input {(h, w)}"
        want = correlate2d(x, kernel, mode="valid")
        c = call_for_array(
            conv_matrix,
            kernel.copy(),
            (h, w),
            name="conv_matrix",
            case=case,
            shape=(want.size, x.size),
            shape_hint="one row per output pixel, one column per input pixel.",
        )
        if rel_error(c @ x.ravel(), want.ravel()) > 1e-9:
            raise fail(
                "conv_matrix",
                case,
                np.round(want, 3),
                np.round((c @ x.ravel()).reshape(want.shape), 3),
            )
    passed(f"`conv_matrix` reproduces scipy's correlate2d on {n_cases} random cases.")


@reference
def _keras_transpose(x, w, stride, padding):
    import keras

    layer = keras.layers.Conv2DTranspose(
        w.shape[2], w.shape[:2], strides=stride, padding=padding, use_bias=False
    )
    layer.build((None, *x.shape))
    layer.set_weights([w.astype("float32")])
    return keras.ops.convert_to_numpy(layer(x[None].astype("float32")))[0].astype(np.float64)


def check_transposed_conv2d(transposed_conv2d: Callable, n_cases: int = 12, seed: int = 0) -> None:
    """`transposed_conv2d(x (H, W, C_in), w (KH, KW, C_out, C_in), stride, padding)` against
    keras.layers.Conv2DTranspose (padding 'valid' or 'same'; for 'same', KH, KW >= stride)."""
    rng = np.random.default_rng(seed)
    name = getattr(transposed_conv2d, "__name__", "transposed_conv2d")
    worst = 0.0
    for i in range(n_cases):
        stride = int(rng.integers(1, 4))
        k = int(rng.integers(stride, 6))
        padding = "valid" if i % 2 == 0 else "same"
        h, w_ = (int(v) for v in rng.integers(2, 6, size=2))
        c_in, c_out = (int(v) for v in rng.integers(1, 4, size=2))
        x = rng.standard_normal((h, w_, c_in))
        w = rng.standard_normal((k, k, c_out, c_in))
        case = f"x {x.shape}, w {w.shape}, stride={stride}, padding={padding!r}"
        want = _keras_transpose(x, w, stride, padding)
        got = call_for_array(
            transposed_conv2d,
            x.copy(),
            w.copy(),
            stride,
            padding,
            name=name,
            case=case,
            shape=want.shape,
            shape_hint="valid: (H - 1) * stride + KH; same: H * stride, the valid result cropped "
            "by KH - stride rows, (KH - stride) // 2 of them at the top.",
        )
        err = float(np.abs(got - want).max() / max(1e-8, np.abs(want).max()))
        if err > 1e-5:
            raise fail(
                name,
                case,
                np.round(want[..., 0], 3),
                np.round(got[..., 0], 3),
                f"relative error {err:.1e}: each input pixel adds w[:, :, o, c] * x "
                "into a window that starts at (i * stride, j * stride).",
            )
        worst = max(worst, err)
    passed(
        f"`{name}` equals keras Conv2DTranspose on {n_cases} cases with strides 1-3 and "
        f"both paddings (relative error below 1e-5: float32 rounding)."
    )


def check_overlap_counts(overlap_counts: Callable, seed: int = 0) -> None:
    """`overlap_counts(n, k, stride) -> (L,)` int array: how many kernel placements of a 1-D
    transposed convolution (valid) touch each output position, against Conv2DTranspose with
    an all-ones kernel on an all-ones input. Cases have k >= stride (Keras pads the output to
    (n - 1) * stride + max(k, stride) otherwise)."""
    rng = np.random.default_rng(seed)
    for _ in range(10):
        n, stride = int(rng.integers(2, 8)), int(rng.integers(1, 4))
        k = int(rng.integers(stride, 6))
        case = f"n={n}, k={k}, stride={stride}"
        want = _keras_transpose(np.ones((1, n, 1)), np.ones((1, k, 1, 1)), stride, "valid")[0, :, 0]
        got = as_array(call(overlap_counts, n, k, stride, case=case), "overlap_counts", case)
        if got.shape != want.shape or not np.array_equal(got, np.round(want)):
            raise fail("overlap_counts", case, np.round(want).astype(int), got)
    passed("`overlap_counts` matches Conv2DTranspose of ones on ones in 10 cases.")
