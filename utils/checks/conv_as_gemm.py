"""Checks for unit 03 (convolution as matrix multiply): im2col, a grouped conv via one batched
GEMM, a MAC counter.

References, none of which is an exercise's answer:
- im2col: TensorFlow's patch extraction (`keras.ops.image.extract_patches` on the zero-padded
  image) and the property that `im2col(x) @ w.reshape(-1, F)` is the convolution (SciPy);
- conv2d_gemm (a grouped convolution): scipy.signal.correlate with the block-diagonal kernel a
  grouped kernel amounts to, and a Keras `Conv2D(groups=...)` layer built by the check;
- conv_macs: `utils.measure.macs.count_macs` of a real Keras layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from utils.checks.convolution import _reference_conv2d, conv2d_cases
from utils.checks.core import (
    CheckFailed,
    call,
    call_for_array,
    fail,
    likely_cause,
    passed,
    rel_error,
)
from utils.checks.references import reference


@reference
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


def grouped_conv_cases(n: int = 16, seed: int = 0) -> Iterable[tuple]:
    """Random (x, w, b, stride, padding, groups) with x: (H, W, C), w: (KH, KW, C // groups, F),
    b: (F,), C and F multiples of `groups`: first ordinary convolutions (groups=1, unit 01's
    cases), then one grouped feature at a time, then random grouped cases (2 to 4 groups)."""
    rng = np.random.default_rng(seed + 2000)
    n_plain = min(4, n)
    for x, w, b, stride, pad in conv2d_cases(n_plain, seed):
        yield x, w, b, stride, pad, 1
    # two groups of one channel and one filter; two channels a group (the columns); three
    # groups of two filters with a stride and a non-square kernel
    staged = [
        ((6, 6, 2), (3, 3, 1, 2), 1, 1, 2),
        ((7, 7, 4), (3, 3, 2, 4), 1, 0, 2),
        ((7, 6, 6), (2, 3, 2, 6), 2, 1, 3),
    ]
    for xshape, kshape, stride, pad, groups in staged[: max(0, n - n_plain)]:
        yield (
            rng.standard_normal(xshape),
            rng.standard_normal(kshape),
            rng.standard_normal(kshape[-1]),
            stride,
            pad,
            groups,
        )
    n -= n_plain + len(staged)
    while n > 0:
        h, wd = (int(v) for v in rng.integers(3, 10, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        groups, cg, fg = (int(v) for v in rng.integers((2, 1, 1), (5, 4, 4)))
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        if kh > h + 2 * pad or kw > wd + 2 * pad:
            continue
        n -= 1
        yield (
            rng.standard_normal((h, wd, groups * cg)),
            rng.standard_normal((kh, kw, cg, groups * fg)),
            rng.standard_normal(groups * fg),
            stride,
            pad,
            groups,
        )


def _float32_grouped_case(seed):
    """A float32 case with two groups, a little bigger than the others (the benchmark's dtype)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((11, 12, 8)).astype(np.float32)
    w = rng.standard_normal((3, 3, 4, 6)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    return x, w, b, 2, 1, 2


def _kernel_as(w, groups, mistake=""):
    """The ordinary kernel (KH, KW, C, F) that a grouped kernel w: (KH, KW, C // groups, F)
    amounts to: filter j of group g = j // (F / groups) holds w[..., j] on the channels of
    group g and zeros elsewhere (a block-diagonal kernel). `mistake` gives the kernel a typical
    wrong answer amounts to instead: "interleaved" (filter j in group j % groups),
    "first-channels" (every group on channels 0 to C / groups - 1), "column-blocks" (group g
    on the g-th contiguous block of KH * KW * C / groups im2col columns)."""
    kh, kw, cg, f = w.shape
    fg = f // groups
    full = np.zeros((kh, kw, cg * groups, f), dtype=np.float64)
    flat = full.reshape(kh * kw * cg * groups, f)  # a view: im2col's column order
    for j in range(f):
        g = j % groups if mistake == "interleaved" else j // fg
        if mistake == "column-blocks":
            size = kh * kw * cg
            flat[g * size : (g + 1) * size, j] = w[..., j].reshape(-1)
        elif mistake == "first-channels":
            full[:, :, :cg, j] = w[..., j]
        else:
            full[:, :, g * cg : (g + 1) * cg, j] = w[..., j]
    return full


#: (typical mistake, the hint that names it), tried in this order on the first wrong case.
_GROUP_MISTAKES = [
    (
        "column-blocks",
        "each group took one contiguous block of KH * KW * C/groups columns of im2col(x); "
        "but the columns are ordered (KH, KW, C), the channel varying fastest: the columns of "
        "one group's channels recur at every kernel offset, they are not one block.",
    ),
    (
        "interleaved",
        "filter j was given to group j % groups; the groups' filters are consecutive blocks "
        "(Keras's layout): the first F/groups filters belong to group 0, the next F/groups to "
        "group 1, and so on.",
    ),
    (
        "first-channels",
        "every group saw the first C/groups input channels; group g sees channels "
        "g * C/groups to (g + 1) * C/groups - 1 only.",
    ),
]

_GROUP_AXIS_HINT = (
    "the right numbers in the wrong places: at each output position the F channels are group "
    "0's F/groups filters, then group 1's, and so on; the group axis belongs next to the "
    "filter axis, not in front of the positions, when you reshape to (OH, OW, F)."
)


def _case_error(got, want, float32: bool) -> float:
    """float32: the largest difference over the largest |want| (rounding grows with the output's
    size); float64: the relative error."""
    if float32:
        return float(np.abs(got - want).max() / max(1e-12, np.abs(want).max()))
    return rel_error(got, want)


def _grouped_hint(x, w, b, stride, pad, groups, got, tol, float32) -> str:
    """A hint naming the typical mistake that gives `got`, else a general one."""

    def close(a, c):
        return _case_error(a, c, float32) <= tol

    if groups > 1:
        for mistake, hint in _GROUP_MISTAKES:
            wrong = _reference_conv2d(x, _kernel_as(w, groups, mistake), b, stride, pad)
            if close(got, wrong):
                return hint
        want = _reference_conv2d(x, _kernel_as(w, groups), b, stride, pad)
        oh, ow, f = want.shape

        def in_front(a):  # (OH, OW, F) read as (groups, positions, F / groups)
            return a.reshape(oh * ow, groups, f // groups).transpose(1, 0, 2).reshape(a.shape)

        if close(got, in_front(want)) or close(got, in_front(want - b) + b):
            return _GROUP_AXIS_HINT
    return (
        "the columns of im2col are ordered like w.reshape(-1, F) for groups=1; each group "
        "multiplies its own channels' columns by its own filters; the bias is added to every "
        "row."
    )


@reference
def _keras_grouped(x, w, b, stride, padding, groups):
    """A Keras Conv2D(groups=groups) layer with the weights w, b on the zero-padded x, float32.

    TensorFlow compiles a grouped convolution once per shape and logs a warning about the
    retracing from the sixth shape on: the check's own cases, silenced while the layer runs."""
    import logging

    import keras

    kh, kw, _, f = w.shape
    xp = np.pad(x, [(padding, padding), (padding, padding), (0, 0)]).astype(np.float32)
    layer = keras.layers.Conv2D(f, (kh, kw), strides=stride, groups=groups)
    layer.build((None, *xp.shape))
    layer.set_weights([w.astype(np.float32), b.astype(np.float32)])
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return keras.ops.convert_to_numpy(layer(xp[None]))[0]
    finally:
        logger.setLevel(level)


def _check_vectorised(conv2d_gemm: Callable, name: str) -> None:
    """CheckFailed if conv2d_gemm runs Python code once per output position or once per group
    (lines of learner code run, counted on one ordinary and one depthwise case)."""
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((26, 26, 3)), rng.standard_normal((3, 3, 3, 8)), np.zeros(8)
    positions = 24 * 24
    case = f"x {x.shape}, w {w.shape}, stride=1, padding=0, groups=1 ({positions} output positions)"
    _, lines = python_lines(lambda: call(conv2d_gemm, x, w, b, 1, 0, 1, case=case))
    if lines > positions // 2:
        raise fail(
            name,
            case,
            f"far fewer Python lines run than output positions ({positions})",
            f"{lines:,} lines of your code ran",
            "a Python loop over output positions (in conv2d_gemm or in the im2col it calls): "
            "the point of the exercise is that one matrix product does the work of the loops.",
        )
    groups = 96  # a depthwise convolution: one channel and one filter a group
    x, w, b = (
        rng.standard_normal((8, 8, groups)),
        rng.standard_normal((3, 3, 1, groups)),
        np.zeros(groups),
    )
    case = f"x {x.shape}, w {w.shape}, stride=1, padding=1, groups={groups}"
    _, lines = python_lines(lambda: call(conv2d_gemm, x, w, b, 1, 1, groups, case=case))
    if lines > groups:
        raise fail(
            name,
            case,
            f"fewer Python lines run than groups ({groups})",
            f"{lines:,} lines of your code ran",
            "a Python loop over the groups: one np.matmul (or np.einsum) multiplies all the "
            "groups at once, as a stack of matrix products.",
        )


def check_conv2d_gemm(conv2d_gemm: Callable, n_cases: int = 16, seed: int = 0) -> None:
    """Check the grouped convolution `conv2d_gemm(x, w, b, stride, padding, groups) -> (OH, OW,
    F)` against SciPy (the block-diagonal kernel it amounts to) and a Keras Conv2D(groups=...)
    layer, and that it does not loop in Python over output positions or groups.

    x: (H, W, C), w: (KH, KW, C // groups, F), b: (F,); group g's F / groups filters (a
    consecutive block) see its C / groups channels; a float32 input must give a float32 output.
    """
    name = getattr(conv2d_gemm, "__name__", "conv2d_gemm")
    cases = list(grouped_conv_cases(n_cases - 1, seed)) + [_float32_grouped_case(seed)]
    for x, w, b, stride, pad, groups in cases:
        case = (
            f"x {x.shape} {x.dtype}, w {w.shape}, stride={stride}, padding={pad}, groups={groups}"
        )
        x64 = x.astype(np.float64)
        want = _reference_conv2d(x64, _kernel_as(w, groups), b, stride, pad)
        got = call_for_array(
            conv2d_gemm,
            x.copy(),
            w.copy(),
            b.copy(),
            stride,
            pad,
            groups,
            name=name,
            case=case,
            shape=want.shape,
            dtype=np.float32 if x.dtype == np.float32 else None,
            shape_hint="(OH, OW, F), F = w.shape[3] filters of all the groups, "
            "OH = (H + 2 * padding - KH) // stride + 1.",
            dtype_hint="keep float32 (float64 halves the GEMM's speed): check im2col and any "
            "np.zeros.",
        )
        float32 = x.dtype == np.float32  # float32 rounding: compared with the output's size
        err, tol = _case_error(got, want, float32), 1e-4 if float32 else 1e-9
        if err > tol:
            # show the first output channel that differs
            bad = ~np.isclose(got, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())
            c = int(np.flatnonzero(bad.reshape(-1, want.shape[-1]).any(axis=0))[0])
            cause = likely_cause(got, want)
            raise fail(
                name,
                f"{case}; output channel {c}",
                np.round(want[..., c], 3),
                np.round(got[..., c], 3),
                f"relative error {err:.1e}; "
                + (f"{cause} " if cause else "")
                + _grouped_hint(x64, w, b, stride, pad, groups, got, tol, float32),
            )
        k_diff = np.abs(_keras_grouped(x, w, b, stride, pad, groups) - got).max()
        if k_diff / max(1e-8, np.abs(got).max()) > 1e-4:
            raise fail(
                name, case, f"the same as Keras Conv2D(groups={groups})", f"difference {k_diff:.1e}"
            )
    _check_vectorised(conv2d_gemm, name)
    passed(
        f"`{name}` matches scipy.signal.correlate and Keras Conv2D(groups=...) on {len(cases)} "
        "cases (1 to 4 groups, float64 to 1e-9, float32 in and out), with no Python loop over "
        "output positions or groups."
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


__all__ = [
    "CheckFailed",
    "check_conv2d_gemm",
    "check_conv_macs",
    "check_im2col",
    "grouped_conv_cases",
]
