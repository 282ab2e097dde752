"""Unit 03 (convolution as matrix multiply): typical wrong answers and correct variants."""

from __future__ import annotations

import numpy as np

from mistakes import Exercise
from utils.checks import conv_as_gemm


def im2col_strided(x, kh, kw, stride, padding):
    """Correct: as_strided windows, transposed to (KH, KW, C) order."""
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(0, 1))[::stride, ::stride]
    oh, ow = win.shape[:2]
    return win.transpose(0, 1, 3, 4, 2).reshape(oh * ow, -1)


def im2col_by_offsets(x, kh, kw, stride, padding):
    """Correct, written differently: one strided slice per kernel offset (KH * KW slices)."""
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    oh = (xp.shape[0] - kh) // stride + 1
    ow = (xp.shape[1] - kw) // stride + 1
    cols = np.empty((oh, ow, kh, kw, x.shape[2]), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            cols[:, :, u, v] = xp[u : u + stride * oh : stride, v : v + stride * ow : stride]
    return cols.reshape(oh * ow, -1)


def _im2col_channel_first(x, kh, kw, stride, padding):
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(0, 1))[::stride, ::stride]
    return win.reshape(win.shape[0] * win.shape[1], -1)  # (C, KH, KW) order


def _im2col_no_padding(x, kh, kw, stride, padding):
    return im2col_strided(x, kh, kw, stride, 0)


def _im2col_float64(x, kh, kw, stride, padding):
    return im2col_strided(x, kh, kw, stride, padding).astype(np.float64)


def _im2col_transposed(x, kh, kw, stride, padding):
    return im2col_strided(x, kh, kw, stride, padding).T


def gemm_conv(x, w, b, stride, padding):
    kh, kw, c, f = w.shape
    cols = im2col_by_offsets(x, kh, kw, stride, padding)
    oh = (x.shape[0] + 2 * padding - kh) // stride + 1
    return (cols @ w.reshape(-1, f) + b).reshape(oh, -1, f)


def gemm_conv_tensordot(x, w, b, stride, padding):
    """Correct, written differently: tensordot on the window view, no explicit im2col."""
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[:2], axis=(0, 1))[::stride, ::stride]
    return np.tensordot(win, w.transpose(2, 0, 1, 3), axes=([2, 3, 4], [0, 1, 2])) + b


def _gemm_loops(x, w, b, stride, padding):
    kh, kw, _, f = w.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    oh, ow = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    out = np.zeros((oh, ow, f), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            window = xp[i * stride : i * stride + kh, j * stride : j * stride + kw].ravel()
            out[i, j] = window @ w.reshape(-1, f) + b
    return out


def _gemm_float64(x, w, b, stride, padding):
    return gemm_conv(x.astype(np.float64), w.astype(np.float64), b, stride, padding)


def _gemm_wrong_order(x, w, b, stride, padding):
    kh, kw, c, f = w.shape
    cols = _im2col_channel_first(x, kh, kw, stride, padding)
    oh = (x.shape[0] + 2 * padding - kh) // stride + 1
    return (cols @ w.reshape(-1, f) + b).reshape(oh, -1, f)


def _gemm_no_bias(x, w, b, stride, padding):
    return gemm_conv(x, w, np.zeros_like(b), stride, padding)


def macs(h, w, c_in, c_out, k, stride, padding, batch):
    oh = len(range(0, h + 2 * padding - k + 1, stride))
    ow = len(range(0, w + 2 * padding - k + 1, stride))
    return int(np.prod([oh, ow, k, k, c_in, c_out, batch], dtype=np.int64))


EXERCISES = {
    "check_im2col": Exercise(
        run=conv_as_gemm.check_im2col,
        wrong={
            "channel-first-order": (_im2col_channel_first, r"wrong order"),
            "no-padding": (_im2col_no_padding, r"shape"),
            "float64-copy": (_im2col_float64, r"float32"),
            "transposed": (_im2col_transposed, r"shape"),
        },
        right={"by-kernel-offsets": im2col_by_offsets, "sliding-windows": im2col_strided},
    ),
    "check_conv2d_gemm": Exercise(
        run=conv_as_gemm.check_conv2d_gemm,
        wrong={
            "loops-over-positions": (_gemm_loops, r"loop over output positions"),
            "float64-output": (_gemm_float64, r"float32"),
            "columns-in-wrong-order": (_gemm_wrong_order, r"expected"),
            "no-bias": (_gemm_no_bias, r"bias"),
        },
        right={"tensordot": gemm_conv_tensordot, "im2col-by-offsets": gemm_conv},
    ),
    "check_conv_macs": Exercise(
        run=conv_as_gemm.check_conv_macs,
        wrong={
            "input-size-not-output": (
                lambda h, w, ci, co, k, s, p, b: h * w * k * k * ci * co * b,
                r"OUTPUT positions",
            ),
            "forgets-batch": (
                lambda h, w, ci, co, k, s, p, b: macs(h, w, ci, co, k, s, p, 1),
                r"batch",
            ),
            "float-division": (
                lambda h, w, ci, co, k, s, p, b: (
                    ((h - k + 2 * p) / s + 1) * ((w - k + 2 * p) / s + 1) * k * k * ci * co * b
                ),
                r"an int",
            ),
            "counts-bias-as-mac": (
                lambda h, w, ci, co, k, s, p, b: (
                    macs(h, w, ci, co, k, s, p, b) + macs(h, w, 1, co, 1, s, 0, b)
                ),
                r"expected",
            ),
        },
        right={"range-lengths": macs},
    ),
}
