"""Unit 03's checks accept right answers and reject typical wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import correlate

from utils.checks import CheckFailed, conv_as_gemm


def im2col_by_loops(x, kh, kw, stride, padding):
    """Independent: one row per output position, filled window by window."""
    h, w, c = x.shape
    xp = np.zeros((h + 2 * padding, w + 2 * padding, c), dtype=x.dtype)
    xp[padding : padding + h, padding : padding + w] = x
    rows = []
    for i in range(0, xp.shape[0] - kh + 1, stride):
        for j in range(0, xp.shape[1] - kw + 1, stride):
            rows.append(xp[i : i + kh, j : j + kw, :].reshape(-1))
    return np.array(rows, dtype=x.dtype)


def conv_by_scipy(x, w, b, stride, padding):
    """Independent: SciPy per filter, then keep every stride-th position."""
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    out = np.stack(
        [correlate(xp, w[..., f], mode="valid")[..., 0] for f in range(w.shape[-1])], axis=-1
    )
    return (out[::stride, ::stride] + b).astype(np.result_type(x, w))


def macs_by_shapes(h, w, c_in, c_out, k, stride=1, padding=0, batch=1):
    """Independent: count the output positions by walking the kernel along each axis."""
    positions = len(range(0, h + 2 * padding - k + 1, stride)) * len(
        range(0, w + 2 * padding - k + 1, stride)
    )
    return batch * positions * c_out * (k * k * c_in)


def test_im2col_check_accepts_a_correct_version_and_rejects_wrong_ones():
    conv_as_gemm.check_im2col(im2col_by_loops)
    with pytest.raises(CheckFailed, match="wrong order"):  # windows flattened as (C, KH, KW)
        conv_as_gemm.check_im2col(
            lambda x, kh, kw, s, p: (
                im2col_by_loops(x, kh, kw, s, p)
                .reshape(-1, kh, kw, x.shape[2])
                .transpose(0, 3, 1, 2)
                .reshape(-1, kh * kw * x.shape[2])
            )
        )
    with pytest.raises(CheckFailed, match="shape"):  # ignores the stride
        conv_as_gemm.check_im2col(lambda x, kh, kw, s, p: im2col_by_loops(x, kh, kw, 1, p))
    with pytest.raises(CheckFailed, match="shape"):  # transposed matrix
        conv_as_gemm.check_im2col(lambda x, kh, kw, s, p: im2col_by_loops(x, kh, kw, s, p).T)
    with pytest.raises(CheckFailed, match="float32"):  # float64 output for float32 input
        conv_as_gemm.check_im2col(
            lambda x, kh, kw, s, p: im2col_by_loops(x, kh, kw, s, p).astype(float)
        )


def test_im2col_check_names_rows_out_of_order():
    def column_major(x, kh, kw, s, p):
        cols = im2col_by_loops(x, kh, kw, s, p)
        oh = (x.shape[0] + 2 * p - kh) // s + 1
        ow = (x.shape[1] + 2 * p - kw) // s + 1
        return cols.reshape(oh, ow, -1).transpose(1, 0, 2).reshape(oh * ow, -1)

    with pytest.raises(CheckFailed, match="another output position"):
        conv_as_gemm.check_im2col(column_major)


def grouped_by_scipy(x, w, b, stride, padding, groups=1):
    """Independent: each group is its own ordinary convolution (SciPy), concatenated."""
    cg, fg = x.shape[2] // groups, w.shape[3] // groups
    parts = [
        conv_by_scipy(
            x[..., g * cg : (g + 1) * cg],
            w[..., g * fg : (g + 1) * fg],
            b[g * fg : (g + 1) * fg],
            stride,
            padding,
        )
        for g in range(groups)
    ]
    return np.concatenate(parts, axis=-1)


def grouped_by_tf(x, w, b, stride, padding, groups=1):
    """Independent and loop-free: TensorFlow's conv2d, which reads the groups from the kernel's
    depth (C // groups), in the input's dtype."""
    import tensorflow as tf

    pads = [[0, 0], [padding, padding], [padding, padding], [0, 0]]
    y = tf.nn.conv2d(x[None], w.astype(x.dtype), strides=stride, padding=pads).numpy()[0]
    return y + b.astype(x.dtype)


def test_grouped_cases_fit_their_groups():
    cases = list(conv_as_gemm.grouped_conv_cases(30, seed=5))
    assert len(cases) == 30 and {c[-1] for c in cases[:4]} == {1}
    assert {c[-1] for c in cases} >= {1, 2, 3}
    for x, w, b, _, pad, groups in cases:
        assert x.shape[2] == groups * w.shape[2] and w.shape[3] % groups == 0
        assert b.shape == (w.shape[3],)
        assert w.shape[0] <= x.shape[0] + 2 * pad and w.shape[1] <= x.shape[1] + 2 * pad


def test_conv2d_gemm_check():
    conv_as_gemm.check_conv2d_gemm(grouped_by_tf)
    with pytest.raises(CheckFailed):  # forgets the bias
        conv_as_gemm.check_conv2d_gemm(lambda x, w, b, s, p, g: grouped_by_tf(x, w, 0 * b, s, p, g))
    with pytest.raises(CheckFailed):  # flips the kernel (a true convolution)
        conv_as_gemm.check_conv2d_gemm(
            lambda x, w, b, s, p, g: grouped_by_tf(x, w[::-1, ::-1], b, s, p, g)
        )
    with pytest.raises(CheckFailed, match="shape"):  # padding ignored
        conv_as_gemm.check_conv2d_gemm(lambda x, w, b, s, p, g: grouped_by_tf(x, w, b, s, 0, g))
    with pytest.raises(CheckFailed, match="float32"):  # computes in float64
        conv_as_gemm.check_conv2d_gemm(
            lambda x, w, b, s, p, g: grouped_by_tf(x, w, b, s, p, g).astype(float)
        )


def test_conv2d_gemm_check_names_the_group_mistakes():
    def first_channels(x, w, b, s, p, g):  # every group on the first C / groups channels
        return grouped_by_scipy(np.concatenate([x[..., : w.shape[2]]] * g, -1), w, b, s, p, g)

    def interleaved(x, w, b, s, p, g):  # filter j in group j % groups
        f = w.shape[3]
        order = np.argsort(np.arange(f) % g, kind="stable")  # the filters of each group, in turn
        out = np.empty(conv_by_scipy(x[..., :1], w[:, :, :1], b, s, p).shape)
        out[..., order] = grouped_by_scipy(x, w[..., order], b[order], s, p, g)
        return out

    for wrong, message in [(first_channels, "first C/groups"), (interleaved, "consecutive")]:
        with pytest.raises(CheckFailed, match=message):
            conv_as_gemm.check_conv2d_gemm(wrong)


def test_conv2d_gemm_check_rejects_a_loop_over_the_groups():
    def per_group(x, w, b, s, p, g):  # right values, one Python iteration per group
        return grouped_by_scipy(x, w, b, s, p, g)

    with pytest.raises(CheckFailed, match="loop over the groups"):
        conv_as_gemm.check_conv2d_gemm(per_group)


def test_conv_macs_check():
    conv_as_gemm.check_conv_macs(macs_by_shapes)
    with pytest.raises(CheckFailed, match="OUTPUT positions"):  # input size instead of output size
        conv_as_gemm.check_conv_macs(
            lambda h, w, ci, co, k, s=1, p=0, b=1: k * k * ci * co * h * w * b
        )
    with pytest.raises(CheckFailed):  # forgets the batch
        conv_as_gemm.check_conv_macs(
            lambda h, w, ci, co, k, s=1, p=0, b=1: macs_by_shapes(h, w, ci, co, k, s, p)
        )
    with pytest.raises(CheckFailed, match="an int"):  # a float, even if the value is right
        conv_as_gemm.check_conv_macs(lambda *args: float(macs_by_shapes(*args)))


def test_unwritten_exercises_say_where_to_write():
    def im2col(x, kh, kw, stride, padding):
        raise NotImplementedError()

    def conv2d_gemm(x, w, b, stride, padding, groups=1):
        raise NotImplementedError()

    def conv_macs(h, w, c_in, c_out, k, stride=1, padding=0, batch=1):
        raise NotImplementedError()

    for check, fn in [
        (conv_as_gemm.check_im2col, im2col),
        (conv_as_gemm.check_conv2d_gemm, conv2d_gemm),
        (conv_as_gemm.check_conv_macs, conv_macs),
    ]:
        with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
            check(fn)
