"""Unit 01 (convolution): typical wrong answers and correct variants."""

from __future__ import annotations

import math

import numpy as np

from mistakes import Exercise
from utils.checks import convolution


def conv2d_windows(x, w, b, stride, padding):
    """Correct: sliding windows and einsum."""
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[:2], axis=(0, 1))
    return np.einsum("ijcab,abcf->ijf", win[::stride, ::stride], w) + b


def conv2d_scipy_per_channel(x, w, b, stride, padding):
    """Correct: one 2-D correlation per (input channel, filter), summed."""
    from scipy.signal import correlate2d

    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    maps = [
        sum(correlate2d(xp[..., c], w[..., c, f], mode="valid") for c in range(x.shape[2])) + b[f]
        for f in range(w.shape[3])
    ]
    return np.stack(maps, axis=-1)[::stride, ::stride]


def _edge_padded(x, w, b, stride, padding):
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)), mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[:2], axis=(0, 1))
    return np.einsum("ijcab,abcf->ijf", win[::stride, ::stride], w) + b


EXERCISES = {
    "check_conv2d": Exercise(
        run=convolution.check_conv2d,
        wrong={
            "flipped-kernel": (
                lambda x, w, b, s, p: conv2d_windows(x, w[::-1, ::-1], b, s, p),
                r"flipped",
            ),
            "missing-bias": (
                lambda x, w, b, s, p: conv2d_windows(x, w, 0 * b, s, p),
                r"bias",
            ),
            "ignores-stride": (lambda x, w, b, s, p: conv2d_windows(x, w, b, 1, p), r"shape"),
            "ignores-padding": (lambda x, w, b, s, p: conv2d_windows(x, w, b, s, 0), r"shape"),
            "edge-padding-not-zeros": (_edge_padded, r"padding"),
            "off-by-one-output": (
                lambda x, w, b, s, p: conv2d_windows(x, w, b, s, p)[:-1],
                r"shape",
            ),
            "no-return": (lambda x, w, b, s, p: None, r"return"),
        },
        right={"scipy-per-channel": conv2d_scipy_per_channel, "windows-einsum": conv2d_windows},
    ),
    "check_output_size": Exercise(
        run=convolution.check_output_size,
        wrong={
            "ceil-not-floor": (lambda n, f, p, s: math.ceil((n + 2 * p - f) / s) + 1, r"expected"),
            "true-division": (lambda n, f, p, s: (n + 2 * p - f) / s + 1, r"int"),
            "padding-once": (lambda n, f, p, s: (n + p - f) // s + 1, r"expected"),
            "no-plus-one": (lambda n, f, p, s: (n + 2 * p - f) // s, r"expected"),
        },
        right={"count-positions": lambda n, f, p, s: len(range(0, n + 2 * p - f + 1, s))},
    ),
    "check_param_counts": Exercise(
        run=lambda fns: convolution.check_param_counts(*fns),
        wrong={
            "conv-no-bias": (
                (lambda kh, kw, ci, co: kh * kw * ci * co, lambda ni, no: (ni + 1) * no),
                r"conv_params.*bias",
            ),
            "dense-no-bias": (
                (lambda kh, kw, ci, co: (kh * kw * ci + 1) * co, lambda ni, no: ni * no),
                r"dense_params",
            ),
            "conv-bias-per-weight": (
                (lambda kh, kw, ci, co: 2 * kh * kw * ci * co, lambda ni, no: (ni + 1) * no),
                r"conv_params",
            ),
            "conv-forgets-input-channels": (
                (lambda kh, kw, ci, co: (kh * kw + 1) * co, lambda ni, no: (ni + 1) * no),
                r"conv_params",
            ),
        },
        right={
            "expanded": (
                lambda kh, kw, ci, co: kh * kw * ci * co + co,
                lambda ni, no: ni * no + no,
            )
        },
    ),
}
