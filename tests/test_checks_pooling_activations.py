"""The unit 02 checks (pooling, max-pool backward, activation derivatives) accept correct
answers, reject typical wrong ones with CheckFailed, and say where to write code."""

from __future__ import annotations

import numpy as np
import pytest

from utils.checks import CheckFailed, pooling_activations


def _windows(x, size, stride):
    """(OH, OW, C, size, size) views of the pooling windows of x: (H, W, C)."""
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(0, 1))
    return win[::stride, ::stride]


def pool_windows(x, size, stride, mode):
    """A correct pooling forward written with sliding windows (independent of the lab's)."""
    win = _windows(x, size, stride)
    return win.max(axis=(3, 4)) if mode == "max" else win.mean(axis=(3, 4))


def maxpool_backward_flat(dout, x, size, stride):
    """A correct max-pool backward: argmax per window, scattered with np.add.at."""
    win = _windows(x, size, stride)
    oh, ow, c = win.shape[:3]
    flat = win.reshape(oh, ow, c, size * size).argmax(axis=-1)
    r = np.arange(oh)[:, None, None] * stride + flat // size
    q = np.arange(ow)[None, :, None] * stride + flat % size
    ch = np.broadcast_to(np.arange(c), (oh, ow, c))
    dx = np.zeros_like(x)
    np.add.at(dx, (r, q, ch), dout)
    return dx


def maxpool_backward_assign(dout, x, size, stride):
    """Wrong where windows overlap: assignment instead of accumulation."""
    win = _windows(x, size, stride)
    oh, ow, c = win.shape[:3]
    flat = win.reshape(oh, ow, c, size * size).argmax(axis=-1)
    dx = np.zeros_like(x)
    for i in range(oh):
        for j in range(ow):
            for k in range(c):
                a, b = divmod(int(flat[i, j, k]), size)
                dx[i * stride + a, j * stride + b, k] = dout[i, j, k]
    return dx


def maxpool_backward_spread(dout, x, size, stride):
    """Wrong: spreads each gradient evenly over its window (average pooling's backward)."""
    dx = np.zeros_like(x)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            dx[i * stride : i * stride + size, j * stride : j * stride + size] += dout[i, j] / (
                size * size
            )
    return dx


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


GRADS = {
    "sigmoid": lambda x: sigmoid(x) * sigmoid(-x),  # the same value, written differently
    "tanh": lambda x: 1 / np.cosh(x) ** 2,
    "relu": lambda x: np.heaviside(x, 0.0),
    "leaky": lambda x, alpha: np.where(x <= 0, alpha, 1.0),
}


def _activation_check(**wrong):
    fns = {**GRADS, **wrong}
    pooling_activations.check_activation_grads(
        fns["sigmoid"], fns["tanh"], fns["relu"], fns["leaky"]
    )


def test_pool2d_check_accepts_a_correct_implementation(capsys):
    pooling_activations.check_pool2d(pool_windows)
    pooling_activations.check_pool2d(pool_windows, n_cases=20, seed=7)
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (
            lambda x, k, s, m: (
                _windows(x, k, s).sum(axis=(3, 4)) if m == "avg" else pool_windows(x, k, s, m)
            ),
            "divides",
        ),
        (lambda x, k, s, m: pool_windows(x, k, k, m), "shape"),
        (lambda x, k, s, m: pool_windows(x, k, s, m).max(axis=-1, keepdims=True), "shape"),
        (lambda x, k, s, m: pool_windows(x, k, s, "max"), "expected"),
        (lambda x, k, s, m: None, "return"),
    ],
    ids=["avg-is-a-sum", "stride-ignored", "mixes-channels", "always-max", "no-return"],
)
def test_pool2d_check_rejects_wrong_answers(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        pooling_activations.check_pool2d(wrong)


def test_maxpool_backward_check_accepts_a_correct_implementation(capsys):
    pooling_activations.check_maxpool_backward(maxpool_backward_flat)
    pooling_activations.check_maxpool_backward(maxpool_backward_flat, n_cases=20, seed=9)
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (maxpool_backward_assign, "overlap"),
        (maxpool_backward_spread, "maximum only"),
        (lambda dout, x, k, s: dout, "shape"),
        (lambda dout, x, k, s: -maxpool_backward_flat(dout, x, k, s), "expected"),
    ],
    ids=["assign-not-add", "spread-like-average", "returns-dout", "wrong-sign"],
)
def test_maxpool_backward_check_rejects_wrong_answers(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        pooling_activations.check_maxpool_backward(wrong)


def test_activation_check_accepts_correct_derivatives(capsys):
    _activation_check()
    out = capsys.readouterr().out
    assert "PASSED" in out and "match tf.GradientTape" in out


@pytest.mark.parametrize(
    "wrong, expect",
    [
        ({"sigmoid": sigmoid}, "sigmoid"),  # the function, not its derivative
        ({"sigmoid": lambda x: x * (1 - x)}, "sigmoid"),  # s(1 - s) with s = x
        ({"tanh": lambda x: 1 - np.tanh(x)}, "tanh"),
        ({"relu": lambda x: np.maximum(x, 0)}, "relu"),
        ({"leaky": lambda x, alpha: np.where(x > 0, 1.0, 0.01)}, "alpha"),
        ({"relu": lambda x: float(x[0] > 0)}, "shape"),
    ],
    ids=[
        "sigmoid-itself",
        "sigmoid-of-x-forgotten",
        "tanh-not-squared",
        "relu-itself",
        "fixed-alpha",
        "scalar",
    ],
)
def test_activation_check_rejects_wrong_derivatives(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        _activation_check(**wrong)


@pytest.mark.parametrize(
    "check, n_args",
    [
        (pooling_activations.check_pool2d, 1),
        (pooling_activations.check_maxpool_backward, 1),
        (pooling_activations.check_activation_grads, 4),
    ],
)
def test_an_unwritten_exercise_says_where_to_write(check, n_args):
    def stub(*args):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        check(*([stub] * n_args))


def test_the_references_agree_with_each_other():
    """Keras pooling equals the sliding-window pooling; GradientTape equals np.add.at."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 6, 2))
    for mode in ("max", "avg"):
        np.testing.assert_allclose(
            pooling_activations.keras_pool2d(x, 3, 2, mode), pool_windows(x, 3, 2, mode)
        )
    dout = rng.standard_normal((3, 2, 2))
    np.testing.assert_allclose(
        pooling_activations.keras_maxpool2d_grad(dout, x, 3, 2),
        maxpool_backward_flat(dout, x, 3, 2),
    )
