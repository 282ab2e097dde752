"""Unit 03 (convolution as matrix multiply): typical wrong answers and correct variants.

Exercise 2 is a grouped convolution `conv2d_gemm(x, w, b, stride, padding, groups)`, w: (KH, KW,
C // groups, F), by im2col and one batched matmul."""

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


def _grouped(cols, w, groups):
    """(P, KH * KW * C) columns and a grouped kernel -> (P, F), one batched matmul (correct)."""
    kh, kw, cg, f = w.shape
    a = cols.reshape(len(cols), kh * kw, groups, cg).transpose(2, 0, 1, 3)
    a = a.reshape(groups, len(cols), -1)
    k = w.reshape(-1, groups, f // groups).transpose(1, 0, 2)
    return np.matmul(a, k).transpose(1, 0, 2).reshape(len(cols), f)


def _out_hw(x, w, stride, padding):
    return tuple(
        (n + 2 * padding - k) // stride + 1 for n, k in zip(x.shape[:2], w.shape[:2], strict=True)
    )


def gemm_conv(x, w, b, stride, padding, groups=1):
    """Correct: the lecture's im2col (a loop over the kernel offsets), one batched matmul."""
    kh, kw, _, f = w.shape
    cols = im2col_by_offsets(x, kh, kw, stride, padding)
    return (_grouped(cols, w, groups) + b).reshape(*_out_hw(x, w, stride, padding), f)


def gemm_conv_einsum(x, w, b, stride, padding, groups=1):
    """Correct, written differently: np.einsum on the window view, the group axis explicit,
    no explicit im2col matrix."""
    kh, kw, cg, f = w.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(0, 1))[::stride, ::stride]
    oh, ow = win.shape[:2]
    win = win.reshape(oh, ow, groups, cg, kh, kw)  # (OH, OW, G, C/G, KH, KW)
    wg = w.reshape(kh, kw, cg, groups, f // groups)  # (KH, KW, C/G, G, F/G)
    out = np.einsum("ijgcuv,uvcgf->ijgf", win, wg, optimize=True)
    return out.reshape(oh, ow, f) + b


def gemm_conv_block_diagonal(x, w, b, stride, padding, groups=1):
    """Correct, written differently (and wasteful): the block-diagonal (KH, KW, C, F) kernel
    the grouped one amounts to, built without a loop, then one ordinary GEMM."""
    kh, kw, cg, f = w.shape
    fg = f // groups
    same_group = np.eye(groups, dtype=w.dtype)  # (G, G): channel group == filter group
    full = np.einsum("uvcgf,hg->uvhcgf", w.reshape(kh, kw, cg, groups, fg), same_group)
    full = full.reshape(kh * kw * groups * cg, f)
    cols = im2col_strided(x, kh, kw, stride, padding)
    return (cols @ full + b).reshape(*_out_hw(x, w, stride, padding), f)


def _gemm_loops(x, w, b, stride, padding, groups=1):
    kh, kw, _, f = w.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    oh, ow = _out_hw(x, w, stride, padding)
    out = np.zeros((oh, ow, f), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            window = xp[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = _grouped(window.reshape(1, -1), w, groups)[0] + b
    return out


def _gemm_loop_over_groups(x, w, b, stride, padding, groups=1):
    """One GEMM per group, each on its own channels' im2col: right values, G matmuls."""
    kh, kw, cg, f = w.shape
    fg = f // groups
    parts = []
    for g in range(groups):
        cols = im2col_strided(x[..., g * cg : (g + 1) * cg], kh, kw, stride, padding)
        parts.append(cols @ w[..., g * fg : (g + 1) * fg].reshape(-1, fg))
    return (np.concatenate(parts, axis=1) + b).reshape(*_out_hw(x, w, stride, padding), f)


def _gemm_column_blocks(x, w, b, stride, padding, groups=1):
    """Splits im2col's columns into `groups` contiguous blocks (ignores the (KH, KW, C) order)."""
    kh, kw, cg, f = w.shape
    cols = im2col_strided(x, kh, kw, stride, padding)
    a = cols.reshape(len(cols), groups, -1).transpose(1, 0, 2)
    k = w.reshape(-1, groups, f // groups).transpose(1, 0, 2)
    out = np.matmul(a, k).transpose(1, 0, 2).reshape(len(cols), f)
    return (out + b).reshape(*_out_hw(x, w, stride, padding), f)


def _gemm_interleaved_filters(x, w, b, stride, padding, groups=1):
    """Gives filter j to group j % groups (the filters split as (F/G, G), not (G, F/G))."""
    kh, kw, cg, f = w.shape
    cols = im2col_strided(x, kh, kw, stride, padding)
    a = cols.reshape(len(cols), kh * kw, groups, cg).transpose(2, 0, 1, 3)
    a = a.reshape(groups, len(cols), -1)
    k = w.reshape(-1, f // groups, groups).transpose(2, 0, 1)
    out = np.matmul(a, k).transpose(1, 2, 0).reshape(len(cols), f)
    return (out + b).reshape(*_out_hw(x, w, stride, padding), f)


def _gemm_first_channels(x, w, b, stride, padding, groups=1):
    """Every group convolves the first C/groups channels."""
    kh, kw, cg, f = w.shape
    cols = im2col_strided(x[..., :cg], kh, kw, stride, padding)
    return (cols @ w.reshape(-1, f) + b).reshape(*_out_hw(x, w, stride, padding), f)


def _gemm_group_axis_in_front(x, w, b, stride, padding, groups=1):
    """Reshapes the (G, P, F/G) product straight to (OH, OW, F)."""
    kh, kw, cg, f = w.shape
    cols = im2col_strided(x, kh, kw, stride, padding)
    a = cols.reshape(len(cols), kh * kw, groups, cg).transpose(2, 0, 1, 3)
    a = a.reshape(groups, len(cols), -1)
    k = w.reshape(-1, groups, f // groups).transpose(1, 0, 2)
    return np.matmul(a, k).reshape(*_out_hw(x, w, stride, padding), f) + b


def _gemm_float64(x, w, b, stride, padding, groups=1):
    return gemm_conv(x.astype(np.float64), w.astype(np.float64), b, stride, padding, groups)


def _gemm_wrong_order(x, w, b, stride, padding, groups=1):
    kh, kw, _, f = w.shape
    cols = _im2col_channel_first(x, kh, kw, stride, padding)
    return (_grouped(cols, w, groups) + b).reshape(*_out_hw(x, w, stride, padding), f)


def _gemm_no_bias(x, w, b, stride, padding, groups=1):
    return gemm_conv(x, w, np.zeros_like(b), stride, padding, groups)


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
            "loop-over-groups": (_gemm_loop_over_groups, r"loop over the groups"),
            "columns-in-contiguous-blocks": (_gemm_column_blocks, r"contiguous block.*recur"),
            "filters-interleaved": (_gemm_interleaved_filters, r"consecutive blocks"),
            "every-group-first-channels": (_gemm_first_channels, r"first C/groups input"),
            "group-axis-in-front": (_gemm_group_axis_in_front, r"wrong places.*group axis"),
            "float64-output": (_gemm_float64, r"float32"),
            "columns-in-wrong-order": (_gemm_wrong_order, r"expected"),
            "no-bias": (_gemm_no_bias, r"bias"),
        },
        right={
            "einsum-on-windows": gemm_conv_einsum,
            "im2col-by-offsets": gemm_conv,
            "block-diagonal-kernel": gemm_conv_block_diagonal,
        },
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
