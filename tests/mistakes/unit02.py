"""Unit 02 (pooling and activations): typical wrong answers and correct variants."""

from __future__ import annotations

import numpy as np

from mistakes import Exercise
from utils.checks import pooling_activations


def _windows(x, size, stride):
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(0, 1))
    return win[::stride, ::stride]


def pool_windows(x, size, stride, mode):
    win = _windows(x, size, stride)
    return win.max(axis=(3, 4)) if mode == "max" else win.mean(axis=(3, 4))


def _pool_same_mode(x, size, stride, mode):
    return _windows(x, size, stride).max(axis=(3, 4))


def _pool_sum(x, size, stride, mode):
    win = _windows(x, size, stride)
    return win.max(axis=(3, 4)) if mode == "max" else win.sum(axis=(3, 4))


def _pool_ignores_stride(x, size, stride, mode):
    return pool_windows(x, size, 1, mode)


def _pool_mixes_channels(x, size, stride, mode):
    out = pool_windows(x, size, stride, mode)
    return np.repeat(out.max(axis=-1, keepdims=True), x.shape[2], axis=-1)


def maxpool_backward_flat(dout, x, size, stride):
    win = _windows(x, size, stride)
    oh, ow, c = win.shape[:3]
    flat = win.reshape(oh, ow, c, size * size).argmax(axis=-1)
    r = np.arange(oh)[:, None, None] * stride + flat // size
    q = np.arange(ow)[None, :, None] * stride + flat % size
    ch = np.broadcast_to(np.arange(c), (oh, ow, c))
    dx = np.zeros_like(x)
    np.add.at(dx, (r, q, ch), dout)
    return dx


def _maxpool_backward_assign(dout, x, size, stride):
    win = _windows(x, size, stride)
    oh, ow, c = win.shape[:3]
    flat = win.reshape(oh, ow, c, size * size).argmax(axis=-1)
    r = np.arange(oh)[:, None, None] * stride + flat // size
    q = np.arange(ow)[None, :, None] * stride + flat % size
    dx = np.zeros_like(x)
    dx[r, q, np.broadcast_to(np.arange(c), (oh, ow, c))] = dout  # overwrites, never adds
    return dx


def _maxpool_backward_spread(dout, x, size, stride):
    dx = np.zeros_like(x)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            dx[i * stride : i * stride + size, j * stride : j * stride + size] += dout[i, j] / (
                size * size
            )
    return dx


def _maxpool_backward_ones(dout, x, size, stride):
    return maxpool_backward_flat(np.ones_like(dout), x, size, stride)


def _sig(x):
    return 1 / (1 + np.exp(-x))


GRADS = (
    lambda x: _sig(x) * _sig(-x),
    lambda x: 1 / np.cosh(x) ** 2,
    lambda x: np.heaviside(x, 0.0),
    lambda x, alpha: np.where(x > 0, 1.0, alpha),
)


def _with(i, fn):
    fns = list(GRADS)
    fns[i] = fn
    return tuple(fns)


EXERCISES = {
    "check_pool2d": Exercise(
        run=pooling_activations.check_pool2d,
        wrong={
            "avg-is-max": (_pool_same_mode, r"average|expected"),
            "sum-not-mean": (_pool_sum, r"times the expected|average"),
            "ignores-stride": (_pool_ignores_stride, r"shape"),
            "mixes-channels": (_pool_mixes_channels, r"expected"),
        },
        right={"sliding-windows": pool_windows},
    ),
    "check_maxpool_backward": Exercise(
        run=pooling_activations.check_maxpool_backward,
        wrong={
            "assign-not-add": (_maxpool_backward_assign, r"overlap"),
            "spread-like-average": (_maxpool_backward_spread, r"maximum"),
            "forgets-upstream": (_maxpool_backward_ones, r"expected"),
        },
        right={"argmax-add-at": maxpool_backward_flat},
    ),
    "check_activation_grads": Exercise(
        run=lambda fns: pooling_activations.check_activation_grads(*fns),
        wrong={
            "relu-geq-at-0": (_with(2, lambda x: (x >= 0).astype(float)), r"exactly x = 0"),
            "leaky-alpha-wrong-side-at-0": (
                _with(3, lambda x, a: np.where(x >= 0, 1.0, a)),
                r"exactly x = 0",
            ),
            "sigmoid-forgets-chain": (_with(0, lambda x: _sig(x)), r"expected"),
            "tanh-not-squared": (_with(1, lambda x: 1 - np.tanh(x)), r"expected"),
            "relu-returns-relu": (_with(2, lambda x: np.maximum(x, 0)), r"expected"),
            "leaky-slope-as-zero": (_with(3, lambda x, a: (x > 0).astype(float)), r"expected"),
        },
        right={"heaviside-cosh-where": GRADS},
    ),
}
