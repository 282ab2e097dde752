"""Unit 12 (upsampling): typical wrong answers and correct variants."""

from __future__ import annotations

import numpy as np

from mistakes import Exercise
from utils.checks import upsampling


def conv_matrix_by_basis(kernel, input_shape):
    """Correct, written differently: column j is the correlation of the j-th basis image."""
    from scipy.signal import correlate2d

    h, w = input_shape
    cols = []
    for j in range(h * w):
        basis = np.zeros(h * w)
        basis[j] = 1
        cols.append(correlate2d(basis.reshape(h, w), kernel, mode="valid").ravel())
    return np.stack(cols, axis=1)


def _conv_matrix(flip=False, transpose=False, full_size=False):
    def conv_matrix(kernel, input_shape):
        k = kernel[::-1, ::-1] if flip else kernel
        c = conv_matrix_by_basis(k, input_shape)
        if full_size:
            c = np.vstack([c, np.zeros((1, c.shape[1]))])
        return c.T if transpose else c

    return conv_matrix


def transposed_scatter(x, w, stride, padding):
    """Correct, written differently: an einsum per input position into a padded canvas."""
    h, wd, _ = x.shape
    kh, kw, c_out, _ = w.shape
    canvas = np.zeros(((h - 1) * stride + kh, (wd - 1) * stride + kw, c_out))
    contrib = np.einsum("ijc,abdc->ijabd", x, w)
    for i in range(h):
        for j in range(wd):
            canvas[i * stride : i * stride + kh, j * stride : j * stride + kw] += contrib[i, j]
    if padding == "same":
        top, left = (kh - stride) // 2, (kw - stride) // 2
        canvas = canvas[top : top + h * stride, left : left + wd * stride]
    return canvas


def _transposed(assign=False, flip=False, crop="centre"):
    def transposed_conv2d(x, w, stride, padding):
        h, wd, _ = x.shape
        kh, kw, c_out, _ = w.shape
        ww = w[::-1, ::-1] if flip else w
        out = np.zeros(((h - 1) * stride + kh, (wd - 1) * stride + kw, c_out))
        for i in range(h):
            for j in range(wd):
                patch = np.tensordot(ww, x[i, j], axes=([3], [0]))
                window = (slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw))
                if assign:
                    out[window] = patch
                else:
                    out[window] += patch
        if padding == "same":
            top, left = ((kh - stride) // 2, (kw - stride) // 2) if crop == "centre" else (0, 0)
            out = out[top : top + h * stride, left : left + wd * stride]
        return out

    return transposed_conv2d


def overlaps_convolve(n, k, s):
    """Correct, written differently: zeros inserted between ones, convolved with a box."""
    spikes = np.zeros((n - 1) * s + 1, dtype=int)
    spikes[::s] = 1
    return np.convolve(spikes, np.ones(k, dtype=int))


EXERCISES = {
    "check_conv_matrix": Exercise(
        run=upsampling.check_conv_matrix,
        wrong={
            "flipped-kernel": (_conv_matrix(flip=True), r"expected|flip"),
            "transposed": (_conv_matrix(transpose=True), r"shape"),
            "one-row-too-many": (_conv_matrix(full_size=True), r"shape"),
        },
        right={"basis-images": conv_matrix_by_basis},
    ),
    "check_transposed_conv2d": Exercise(
        run=upsampling.check_transposed_conv2d,
        wrong={
            "assign-not-add": (_transposed(assign=True), r"expected|overlap|add"),
            "flipped-kernel": (_transposed(flip=True), r"expected|flip"),
            "same-crop-from-corner": (_transposed(crop="corner"), r"expected|crop|same"),
        },
        right={"einsum-scatter": transposed_scatter},
    ),
    "check_overlap_counts": Exercise(
        run=upsampling.check_overlap_counts,
        wrong={
            "n-times-k-length": (lambda n, k, s: np.ones(n * k, dtype=int), r"expected|shape"),
            "ignores-stride": (lambda n, k, s: overlaps_convolve(n, k, 1), r"expected|shape"),
            "float-counts": (
                lambda n, k, s: overlaps_convolve(n, k, s) / 1.0 + 0.5,
                r"expected|int",
            ),
        },
        right={"convolve-a-box": overlaps_convolve},
    ),
}
