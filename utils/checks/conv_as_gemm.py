"""Checks for unit 03 (convolution as matrix multiply): im2col, conv via GEMM, a MAC counter.

References, none of which is an exercise's answer:
- im2col: TensorFlow's patch extraction (`keras.ops.image.extract_patches` on the zero-padded
  image) and the property that `im2col(x) @ w.reshape(-1, F)` is the convolution (SciPy);
- conv2d_gemm: scipy.signal.correlate and keras.ops.conv (the references of unit 01);
- conv_macs: `utils.measure.macs.count_macs` of a real Keras layer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.convolution import _keras_conv2d, _reference_conv2d, conv2d_cases
from utils.checks.core import CheckFailed, call, call_for_array, fail, passed, rel_error


def _patches(x, kh, kw, stride, padding):
    """TensorFlow's patches of the zero-padded x: (H, W, C) -> (OH * OW, KH * KW * C)."""
    import keras

    padded = np.pad(x, [(padding, padding), (padding, padding), (0, 0)])
    p = keras.ops.image.extract_patches(
        padded[None], (kh, kw), strides=(stride, stride), padding="valid"
    )
    p = keras.ops.convert_to_numpy(p)[0]
    return p.reshape(p.shape[0] * p.shape[1], p.shape[2])


def _out_size(n, k, stride, padding):
    return (n + 2 * padding - k) // stride + 1


def _float32_case(seed):
    """A float32 case a little bigger than the others (the benchmark's dtype)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((11, 12, 4)).astype(np.float32)
    w = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    return x, w, b, 2, 1


def _im2col_hint(got_row, want_row, got, want):
    if np.allclose(np.sort(got_row), np.sort(want_row)):
        return (
            "the right numbers in the wrong order: flatten each window in the order "
            "(KH, KW, C), the order of w.reshape(-1, F)."
        )
    if any(np.allclose(got_row, r) for r in want):
        return (
            "this row is the window of another output position: row i * OW + j is position (i, j)."
        )
    return "a row is the KH x KW x C window of the zero-padded input at one output position."


def check_im2col(im2col: Callable, n_cases: int = 12, seed: int = 0) -> None:
    """Check `im2col(x, kh, kw, stride, padding) -> (OH * OW, KH * KW * C)` for x: (H, W, C).

    Row `i * OW + j` must be the window of output position (i, j) of the zero-padded input,
    flattened in the order (KH, KW, C), like `w.reshape(-1, F)` for kernels w: (KH, KW, C, F).
    """
    name = getattr(im2col, "__name__", "im2col")
    cases = [(x, w.shape[0], w.shape[1], s, p) for x, w, _, s, p in conv2d_cases(n_cases - 1, seed)]
    x32, w32, _, s32, p32 = _float32_case(seed)
    cases.append((x32, w32.shape[0], w32.shape[1], s32, p32))
    rng = np.random.default_rng(seed + 1000)
    for x, kh, kw, stride, pad in cases:
        case = f"x {x.shape} {x.dtype}, kh={kh}, kw={kw}, stride={stride}, padding={pad}"
        oh, ow = _out_size(x.shape[0], kh, stride, pad), _out_size(x.shape[1], kw, stride, pad)
        want = _patches(x, kh, kw, stride, pad)
        got = call_for_array(
            im2col,
            x.copy(),
            kh,
            kw,
            stride,
            pad,
            name=name,
            case=case,
            shape=want.shape,
            dtype=np.float32 if x.dtype == np.float32 else None,
            shape_hint=f"one row per output position (OH * OW = {oh} * {ow}), "
            f"one column per kernel weight (KH * KW * C = {kh} * {kw} * {x.shape[2]}).",
            dtype_hint="keep x's dtype: float64 doubles the memory and halves the GEMM's speed.",
        )
        bad = np.flatnonzero(~np.isclose(got, want, rtol=1e-6, atol=1e-6).all(axis=1))
        if bad.size:
            r = int(bad[0])
            raise fail(
                name,
                f"{case}: row {r} = output position ({r // ow}, {r % ow})",
                np.round(want[r], 3),
                np.round(got[r], 3),
                _im2col_hint(got[r], want[r], got, want),
            )
        # Second reference: with F = KH*KW*C random filters, im2col(x) @ W determines im2col.
        k = kh * kw * x.shape[2]
        w = rng.standard_normal((kh, kw, x.shape[2], k))
        conv = _reference_conv2d(x.astype(np.float64), w, np.zeros(k), stride, pad)
        err = rel_error(got.astype(np.float64) @ w.reshape(k, k), conv.reshape(oh * ow, k))
        if err > 1e-5:
            raise fail(
                name,
                case,
                "im2col(x) @ w.reshape(-1, F) == the convolution",
                f"relative error {err:.1e}",
            )
    passed(
        f"`{name}` matches TensorFlow's extract_patches on {len(cases)} cases, and "
        "im2col(x) @ w.reshape(-1, F) equals scipy's convolution."
    )


def python_lines(fn: Callable, *args) -> tuple[object, int]:
    """Run fn(*args); return its result and the number of Python lines executed in code
    outside the standard library and installed packages (the learner's own functions)."""
    import sys
    import sysconfig

    skip = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame, event, arg):
        file = frame.f_code.co_filename
        if file.startswith(skip) or file.startswith("<frozen"):
            return None
        return local

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = fn(*args)
    finally:
        sys.settrace(previous)
    return result, count


def _check_vectorised(conv2d_gemm: Callable, name: str) -> None:
    """CheckFailed if conv2d_gemm runs Python code once per output position (loops)."""
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((26, 26, 3)), rng.standard_normal((3, 3, 3, 8)), np.zeros(8)
    positions = 24 * 24
    case = f"x {x.shape}, w {w.shape}, stride=1, padding=0 ({positions} output positions)"
    _, lines = python_lines(lambda: call(conv2d_gemm, x, w, b, 1, 0, case=case))
    if lines > positions // 2:
        raise fail(
            name,
            case,
            f"far fewer Python lines run than output positions ({positions})",
            f"{lines:,} lines of your code ran",
            "a Python loop over output positions (in conv2d_gemm or in the im2col it calls): "
            "the point of the exercise is that one matrix product does the work of the loops.",
        )


def check_conv2d_gemm(conv2d_gemm: Callable, n_cases: int = 16, seed: int = 0) -> None:
    """Check `conv2d_gemm(x, w, b, stride, padding) -> (OH, OW, F)` against SciPy and Keras,
    and that it does not loop in Python over output positions (lines of learner code run).

    x: (H, W, C), w: (KH, KW, C, F), b: (F,); a float32 input must give a float32 output.
    """
    name = getattr(conv2d_gemm, "__name__", "conv2d_gemm")
    cases = list(conv2d_cases(n_cases - 1, seed)) + [_float32_case(seed)]
    for x, w, b, stride, pad in cases:
        case = f"x {x.shape} {x.dtype}, w {w.shape}, stride={stride}, padding={pad}"
        want = _reference_conv2d(x.astype(np.float64), w.astype(np.float64), b, stride, pad)
        got = call_for_array(
            conv2d_gemm,
            x.copy(),
            w.copy(),
            b.copy(),
            stride,
            pad,
            name=name,
            case=case,
            shape=want.shape,
            dtype=np.float32 if x.dtype == np.float32 else None,
            shape_hint="reshape the (OH * OW, F) product to (OH, OW, F), "
            "OH = (H + 2 * padding - KH) // stride + 1.",
            dtype_hint="keep float32 (float64 halves the GEMM's speed): check im2col and any "
            "np.zeros.",
        )
        if x.dtype == np.float32:  # float32 rounding: compare with the size of the output
            err, tol = float(np.abs(got - want).max() / np.abs(want).max()), 1e-4
        else:
            err, tol = rel_error(got, want), 1e-9
        if err > tol:
            raise fail(
                name,
                case,
                np.round(want[..., 0], 3),
                np.round(got[..., 0], 3),
                f"relative error {err:.1e}; the columns of im2col are ordered like "
                "w.reshape(-1, F), and the bias is added to every row.",
            )
        k_diff = np.abs(_keras_conv2d(x, w, b, stride, pad) - got).max()
        if k_diff / max(1e-8, np.abs(got).max()) > 1e-4:
            raise fail(name, case, "the same as keras.ops.conv", f"difference {k_diff:.1e}")
    _check_vectorised(conv2d_gemm, name)
    passed(
        f"`{name}` matches scipy.signal.correlate and keras.ops.conv on {len(cases)} cases "
        "(float64 to 1e-9, float32 in and out), with no Python loop over output positions."
    )


def conv_macs_cases(n: int, seed: int):
    """Random (h, w, c_in, c_out, k, stride, padding, batch), every kernel fitting its input."""
    rng = np.random.default_rng(seed)
    yield 32, 32, 3, 16, 3, 1, 1, 8  # 3x3 'same' on a batch of 8 CIFAR-sized images
    yield 227, 227, 3, 96, 11, 4, 0, 1  # AlexNet's first layer
    while n > 2:
        h, w = (int(v) for v in rng.integers(5, 60, size=2))
        c_in, c_out = (int(v) for v in rng.integers(1, 130, size=2))
        k, stride, pad = int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(0, 4))
        if k > min(h, w) + 2 * pad:
            continue
        n -= 1
        yield h, w, c_in, c_out, k, stride, pad, int(rng.integers(1, 5))


def check_conv_macs(conv_macs: Callable, n_cases: int = 12, seed: int = 0) -> None:
    """Check `conv_macs(h, w, c_in, c_out, k, stride, padding, batch) -> int` against
    utils.measure.macs.count_macs of a real Keras layer (ZeroPadding2D + Conv2D, bias not counted)."""
    import keras

    from utils.measure.macs import count_macs

    name = getattr(conv_macs, "__name__", "conv_macs")
    for h, w, c_in, c_out, k, stride, pad, batch in conv_macs_cases(n_cases, seed):
        case = f"h={h}, w={w}, c_in={c_in}, c_out={c_out}, k={k}, stride={stride}, padding={pad}, batch={batch}"
        model = keras.Sequential(
            [
                keras.Input((h, w, c_in)),
                keras.layers.ZeroPadding2D(pad),
                keras.layers.Conv2D(c_out, k, strides=stride),
            ]
        )
        want = count_macs(model, batch=batch)
        got = call(conv_macs, h, w, c_in, c_out, k, stride, pad, batch, case=case)
        if not isinstance(got, (int, np.integer)) or got != want:
            oh, ow = model.output_shape[1:3]
            raise fail(
                name,
                case,
                f"{want:,}",
                got,
                f"an int; one MAC per kernel weight per output value, counted over the "
                f"OUTPUT positions ({ow} x {oh} here: they depend on stride and padding) and "
                "the whole batch.",
            )
    passed(
        f"`{name}` agrees with utils.measure.macs.count_macs of Keras Conv2D layers on {n_cases} cases."
    )


__all__ = ["CheckFailed", "check_conv2d_gemm", "check_conv_macs", "check_im2col"]
