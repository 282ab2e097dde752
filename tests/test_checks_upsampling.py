"""Unit 12's checks accept right answers and reject typical wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import correlate2d

from utils.checks import CheckFailed, upsampling


def conv_matrix_by_probing(kernel, shape):
    """Independent: column k of C is the convolution of the k-th unit image."""
    h, w = shape
    cols = []
    for k in range(h * w):
        e = np.zeros(h * w)
        e[k] = 1
        cols.append(correlate2d(e.reshape(h, w), kernel, mode="valid").ravel())
    return np.stack(cols, axis=1)


def transposed_by_zero_insertion(x, w, stride, padding):
    """Independent: zeros between pixels, pad k-1, correlate with the flipped kernel."""
    h, wd, c_in = x.shape
    kh, kw, c_out, _ = w.shape
    spread = np.zeros(((h - 1) * stride + 1, (wd - 1) * stride + 1, c_in))
    spread[::stride, ::stride] = x
    padded = np.pad(spread, ((kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    out = np.stack(
        [
            sum(correlate2d(padded[..., c], w[::-1, ::-1, o, c], mode="valid") for c in range(c_in))
            for o in range(c_out)
        ],
        axis=-1,
    )
    if padding == "same":
        t, lft = (kh - stride) // 2, (kw - stride) // 2
        out = out[t : t + h * stride, lft : lft + wd * stride]
    return out


def test_conv_matrix_check():
    upsampling.check_conv_matrix(conv_matrix_by_probing)
    with pytest.raises(CheckFailed):
        upsampling.check_conv_matrix(lambda k, s: conv_matrix_by_probing(k[::-1, ::-1], s))
    with pytest.raises(CheckFailed, match="shape"):
        upsampling.check_conv_matrix(lambda k, s: conv_matrix_by_probing(k, s).T)


def test_transposed_conv_check():
    upsampling.check_transposed_conv2d(transposed_by_zero_insertion)
    with pytest.raises(CheckFailed, match="shape"):  # forgets the 'same' crop
        upsampling.check_transposed_conv2d(
            lambda x, w, s, p: transposed_by_zero_insertion(x, w, s, "valid")
        )
    with pytest.raises(CheckFailed):  # crops from the wrong side
        upsampling.check_transposed_conv2d(
            lambda x, w, s, p: (
                transposed_by_zero_insertion(x, w, s, "valid")[: x.shape[0] * s, : x.shape[1] * s]
                if p == "same"
                else transposed_by_zero_insertion(x, w, s, p)
            )
        )


def test_overlap_check_and_unwritten_exercise():
    def counts(n, k, s):
        return np.array(
            [sum(1 for i in range(n) if i * s <= p < i * s + k) for p in range((n - 1) * s + k)]
        )

    upsampling.check_overlap_counts(counts)
    with pytest.raises(CheckFailed):
        upsampling.check_overlap_counts(lambda n, k, s: np.ones((n - 1) * s + k, dtype=int))

    def overlap_counts(n, k, s):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        upsampling.check_overlap_counts(overlap_counts)
