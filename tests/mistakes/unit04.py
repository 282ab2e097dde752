"""Unit 04 (backpropagation from scratch): typical wrong answers and correct variants."""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, softmax

from mistakes import Exercise
from utils.checks import backprop_from_scratch


def sce_scipy(scores, y):
    """Correct: SciPy's stable log-softmax; one-hot targets."""
    n, k = scores.shape
    onehot = np.eye(k)[y]
    loss = -np.sum(onehot * log_softmax(scores, axis=1)) / n
    return float(loss), (softmax(scores, axis=1) - onehot) / n


def _sce_unstable(scores, y):
    with np.errstate(all="ignore"):
        p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        n = len(y)
        loss = -np.log(p[np.arange(n), y]).mean()
        d = p.copy()
        d[np.arange(n), y] -= 1
    return float(loss), d / n


def _sce_sum_not_mean(scores, y):
    loss, d = sce_scipy(scores, y)
    return loss * len(y), d * len(y)


def _sce_grad_no_onehot(scores, y):
    loss, _ = sce_scipy(scores, y)
    return loss, softmax(scores, axis=1) / len(y)


def _sce_grad_sign(scores, y):
    loss, d = sce_scipy(scores, y)
    return loss, -d


def maxpool_backward_mask(dout, x, size):
    """Correct: np.kron spreads dout over each window, a mask keeps the maxima."""
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // size, size, w // size, size, c)
    mask = blocks == blocks.max(axis=(2, 4), keepdims=True)
    up = np.repeat(np.repeat(dout, size, axis=1), size, axis=2)
    return mask.reshape(x.shape) * up


def _maxpool_spread(dout, x, size):
    return np.repeat(np.repeat(dout, size, axis=1), size, axis=2) / size**2


def _maxpool_mask_only(dout, x, size):
    return maxpool_backward_mask(np.ones_like(dout), x, size)


def _maxpool_min(dout, x, size):
    return maxpool_backward_mask(dout, -x, size)


def conv_backward_windows(dout, x, w, pad):
    """Correct: sliding windows + einsum for dw, a full correlation with the flipped kernel
    for dx."""
    kh, kw = w.shape[:2]
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))  # N,OH,OW,C,KH,KW
    dw = np.einsum("nijcab,nijf->abcf", win, dout)
    dpad = np.pad(dout, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    dwin = np.lib.stride_tricks.sliding_window_view(dpad, (kh, kw), axis=(1, 2))
    dxp = np.einsum("nijfab,abcf->nijc", dwin, w[::-1, ::-1])
    dx = dxp[:, pad : pad + x.shape[1], pad : pad + x.shape[2]]
    return dx, dw, dout.sum(axis=(0, 1, 2))


def _conv_db_mean(dout, x, w, pad):
    dx, dw, _ = conv_backward_windows(dout, x, w, pad)
    return dx, dw, dout.mean(axis=(0, 1, 2))


def _conv_dx_unflipped(dout, x, w, pad):
    _, dw, db = conv_backward_windows(dout, x, w, pad)
    dx, _, _ = conv_backward_windows(dout, x, w[::-1, ::-1], pad)
    return dx, dw, db


def _conv_dx_padded(dout, x, w, pad):
    kh, kw = w.shape[:2]
    dx, dw, db = conv_backward_windows(dout, x, w, pad)
    return np.pad(dx, ((0, 0), (pad, pad), (pad, pad), (0, 0))), dw, db


def _conv_dw_one_image(dout, x, w, pad):
    dx, _, db = conv_backward_windows(dout, x, w, pad)
    _, dw, _ = conv_backward_windows(dout[:1], x[:1], w, pad)
    return dx, dw, db


EXERCISES = {
    "check_softmax_cross_entropy": Exercise(
        run=backprop_from_scratch.check_softmax_cross_entropy,
        wrong={
            "unstable-exp": (_sce_unstable, r"overflow|stabl|nan|inf|expected"),
            "sum-not-mean": (_sce_sum_not_mean, r"expected|mean|N"),
            "gradient-without-minus-one": (_sce_grad_no_onehot, r"expected"),
            "gradient-wrong-sign": (_sce_grad_sign, r"sign|expected"),
        },
        right={"scipy-log-softmax": sce_scipy},
    ),
    "check_maxpool_backward": Exercise(
        run=backprop_from_scratch.check_maxpool_backward,
        wrong={
            "spread-like-average": (_maxpool_spread, r"expected|max"),
            "mask-without-upstream": (_maxpool_mask_only, r"expected"),
            "routes-to-minimum": (_maxpool_min, r"expected"),
        },
        right={"repeat-and-mask": maxpool_backward_mask},
    ),
    "check_conv_backward": Exercise(
        run=backprop_from_scratch.check_conv_backward,
        wrong={
            "db-mean-not-sum": (_conv_db_mean, r"db"),
            "dx-kernel-not-flipped": (_conv_dx_unflipped, r"dx"),
            "dx-keeps-padding": (_conv_dx_padded, r"dx.*shape|shape"),
            "dw-one-image": (_conv_dw_one_image, r"dw"),
        },
        right={"windows-einsum": conv_backward_windows},
    ),
}


def _network(relu=True, pool="max", loss_scale=1.0, conv_db="sum"):
    """The shallow CNN's loss_and_grads from this module's pieces; arguments make mistakes."""
    from utils.networks.shallow_cnn import (
        conv_forward,
        dense_backward,
        dense_forward,
        maxpool_forward,
        relu_backward,
        relu_forward,
    )

    def loss_and_grads(params, x, y):
        pad = params["w1"].shape[0] // 2
        a1 = conv_forward(x, params["w1"], params["b1"], pad)
        r1 = relu_forward(a1)
        m1 = maxpool_forward(r1, 2)
        loss, dscores = sce_scipy(dense_forward(m1, params["w2"], params["b2"]), y)
        dm1, dw2, db2 = dense_backward(dscores * loss_scale, m1, params["w2"])
        dr1 = maxpool_backward_mask(dm1, r1, 2) if pool == "max" else _maxpool_spread(dm1, r1, 2)
        da1 = relu_backward(dr1, a1) if relu else dr1
        _, dw1, db1 = (conv_backward_windows if conv_db == "sum" else _conv_db_mean)(
            da1, x, params["w1"], pad
        )
        return loss * loss_scale, {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}

    return loss_and_grads


EXERCISES["check_network_backward"] = Exercise(
    run=backprop_from_scratch.check_network_backward,
    wrong={
        "relu-backward-skipped": (_network(relu=False), r"grads\['(w1|b1)'\]"),
        "pool-gradient-spread": (_network(pool="avg"), r"grads\['(w1|b1)'\]"),
        "summed-loss": (_network(loss_scale=7.0), r"loss|times the expected"),
        "conv-bias-mean": (_network(conv_db="mean"), r"grads\['b1'\]"),
    },
    right={"from-the-catalogue-pieces": _network()},
)
