"""Unit 04's checks (utils.checks.backprop_from_scratch), gradient checker and shallow-CNN helpers:
right answers pass, typical wrong ones fail with CheckFailed, unwritten ones say where to write."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

from utils.checks import CheckFailed, backprop_from_scratch
from utils.measure import errors, gradients
from utils.measure.errors import rel_error
from utils.networks import shallow_cnn

swv = np.lib.stride_tricks.sliding_window_view


# ----------------------------------------------------------------- independent implementations


def softmax_ce_scipy(scores, y):
    """Loss and gradient with SciPy's softmax (a different route from the lab's solution)."""
    n = len(y)
    loss = -log_softmax(scores, axis=1)[np.arange(n), y].mean()
    grad = softmax(scores, axis=1) - np.eye(scores.shape[1])[y]
    return loss, grad / n


def maxpool_backward_loops(dout, x, size):
    """Route each window's gradient to its argmax, one window at a time."""
    dx = np.zeros_like(x)
    n_img, oh, ow, c = dout.shape
    for n in range(n_img):
        for i in range(oh):
            for j in range(ow):
                for k in range(c):
                    win = x[n, i * size : (i + 1) * size, j * size : (j + 1) * size, k]
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, i * size + a, j * size + b, k] += dout[n, i, j, k]
    return dx


def conv_backward_windows(dout, x, w, pad):
    """dw by sliding windows + einsum; dx as a full convolution with the flipped kernel."""
    kh, kw = w.shape[:2]
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dw = np.einsum("nijcab,nijf->abcf", swv(xp, (kh, kw), axis=(1, 2)), dout)
    dpad = np.pad(dout, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    dxp = np.einsum("nijfab,abcf->nijc", swv(dpad, (kh, kw), axis=(1, 2)), w[::-1, ::-1])
    dx = dxp[:, pad : pad + x.shape[1], pad : pad + x.shape[2]]
    return dx, dw, dout.sum(axis=(0, 1, 2))


def make_network(conv_bwd=conv_backward_windows, pool_bwd=maxpool_backward_loops, relu=True):
    def loss_and_grads(params, x, y):
        pad = params["w1"].shape[0] // 2
        a = shallow_cnn.conv_forward(x, params["w1"], params["b1"], pad)
        r = shallow_cnn.relu_forward(a)
        m = shallow_cnn.maxpool_forward(r, 2)
        s = shallow_cnn.dense_forward(m, params["w2"], params["b2"])
        loss, ds = softmax_ce_scipy(s, y)
        g = {}
        dm, g["w2"], g["b2"] = shallow_cnn.dense_backward(ds, m, params["w2"])
        dr = pool_bwd(dm, r, 2)
        da = shallow_cnn.relu_backward(dr, a) if relu else dr
        _, g["w1"], g["b1"] = conv_bwd(da, x, params["w1"], pad)
        return loss, g

    return loss_and_grads


def _not_written(*args):
    raise NotImplementedError()


# ----------------------------------------------------------------- softmax + cross-entropy


def test_softmax_check_accepts_a_correct_answer(capsys):
    backprop_from_scratch.check_softmax_cross_entropy(softmax_ce_scipy)
    backprop_from_scratch.check_softmax_cross_entropy(softmax_ce_scipy, n_cases=20, seed=101)
    out = capsys.readouterr().out
    assert out.count("PASSED") == 2 and "below 1e-06 vs numeric" in out


def _unstable(scores, y):
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    n = len(y)
    return -np.log(p[np.arange(n), y]).mean(), (p - np.eye(scores.shape[1])[y]) / n


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (
            lambda s, y: (softmax_ce_scipy(s, y)[0], softmax_ce_scipy(s, y)[1] * len(y)),
            "times the expected",
        ),
        (lambda s, y: (softmax_ce_scipy(s, y)[0] * len(y), softmax_ce_scipy(s, y)[1]), "mean of the examples"),
        (lambda s, y: (softmax_ce_scipy(s, y)[0], softmax(s, axis=1) / len(y)), "extra term"),
        (_unstable, "maximum"),
        (lambda s, y: softmax_ce_scipy(s, y)[0], "pair"),
        (lambda s, y: (-log_softmax(s, axis=1)[np.arange(len(y)), y], softmax_ce_scipy(s, y)[1]), "one number"),
    ],
    ids=["not-divided-by-N", "summed-loss", "forgot-one-hot", "overflows", "loss-only", "per-image-loss"],
)  # fmt: skip
def test_softmax_check_rejects_wrong_answers(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        backprop_from_scratch.check_softmax_cross_entropy(wrong)


# ----------------------------------------------------------------- max-pool


def test_maxpool_check_accepts_a_correct_answer(capsys):
    backprop_from_scratch.check_maxpool_backward(maxpool_backward_loops)
    assert "PASSED" in capsys.readouterr().out


def _to_all(dout, x, size):
    return np.repeat(np.repeat(dout, size, axis=1), size, axis=2)


def _to_first(dout, x, size):
    dx = np.zeros_like(x)
    dx[:, ::size, ::size] = dout
    return dx


@pytest.mark.parametrize(
    "wrong",
    [
        _to_all,  # every position of the window gets dout
        lambda d, x, s: _to_all(d, x, s) / s**2,  # average-pooling's gradient
        lambda d, x, s: maxpool_backward_loops(np.ones_like(d), x, s),  # forgets dout
        _to_first,  # routes to the window's first position
    ],
    ids=["to-all", "average", "ignores-dout", "to-first"],
)
def test_maxpool_check_rejects_wrong_answers(wrong):
    with pytest.raises(CheckFailed, match="maximum"):
        backprop_from_scratch.check_maxpool_backward(wrong)


# ----------------------------------------------------------------- convolution


def test_conv_check_accepts_a_correct_answer(capsys):
    backprop_from_scratch.check_conv_backward(conv_backward_windows)
    assert "PASSED" in capsys.readouterr().out


def _unflipped(dout, x, w, pad):
    dx, dw, db = conv_backward_windows(dout, x, w[::-1, ::-1], pad)
    return dx, conv_backward_windows(dout, x, w, pad)[1], db


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (_unflipped, "dx"),
        (lambda d, x, w, p: (lambda g: (g[0], g[1][::-1, ::-1], g[2]))(conv_backward_windows(d, x, w, p)), "dw"),
        (lambda d, x, w, p: (lambda g: (g[0], g[1], d.mean(axis=(0, 1, 2))))(conv_backward_windows(d, x, w, p)), "db"),
        (lambda d, x, w, p: (lambda g: (np.pad(g[0], ((0, 0), (p, p), (p, p), (0, 0))), g[1], g[2]))(conv_backward_windows(d, x, w, p)), "shape"),
        (lambda d, x, w, p: conv_backward_windows(d, x, w, p)[:2], "triple"),
    ],
    ids=["dx-kernel-not-flipped", "dw-flipped", "db-mean", "dx-padding-kept", "pair"],
)  # fmt: skip
def test_conv_check_rejects_wrong_answers(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        backprop_from_scratch.check_conv_backward(wrong)


# ----------------------------------------------------------------- the network


def test_network_check_accepts_a_correct_answer(capsys):
    backprop_from_scratch.check_network_backward(make_network())
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (make_network(relu=False), "grads\\['w1'\\]|grads\\['b1'\\]"),
        (make_network(pool_bwd=_to_all), "grads\\['w1'\\]|grads\\['b1'\\]"),
        (make_network(conv_bwd=_unflipped), None),  # dx is not used: this one is right
        (lambda p, x, y: (make_network()(p, x, y)[0], {}), "keys"),
    ],
    ids=["no-relu-backward", "pool-to-all", "unused-dx-wrong", "no-grads"],
)
def test_network_check_rejects_wrong_answers(wrong, expect):
    if expect is None:
        backprop_from_scratch.check_network_backward(wrong)
        return
    with pytest.raises(CheckFailed, match=expect):
        backprop_from_scratch.check_network_backward(wrong)


# ----------------------------------------------------------------- not written yet


@pytest.mark.parametrize(
    "check",
    [
        backprop_from_scratch.check_softmax_cross_entropy,
        backprop_from_scratch.check_maxpool_backward,
        backprop_from_scratch.check_conv_backward,
        backprop_from_scratch.check_network_backward,
    ],
)
def test_an_unwritten_exercise_says_where_to_write(check):
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        check(_not_written)


# ----------------------------------------------------------------- the trained network


def test_trained_network_check():
    (x, y), _ = __import__("utils.data", fromlist=["load_mnist"]).load_mnist("smoke")
    x = (x.astype(np.float32) / 255.0)[..., None]
    params = shallow_cnn.init_params(0)
    with pytest.raises(CheckFailed, match="below"):
        backprop_from_scratch.check_trained_network(params, band=0.5)  # untrained: about 10%
    with pytest.raises(CheckFailed, match="shapes"):
        backprop_from_scratch.check_trained_network({"w1": params["w1"]}, band=0.5)
    shallow_cnn.minibatch_sgd(
        shallow_cnn.autodiff_loss_and_grads,
        params,
        x[:2000],
        y[:2000].astype(np.int64),
        epochs=1,
        batch_size=32,
        lr=0.2,
        verbose=False,
    )
    backprop_from_scratch.check_trained_network(params, band=0.8)


# ----------------------------------------------------------------- gradcheck and shallow_cnn


def test_numeric_gradient_of_known_functions(capsys):
    x = np.linspace(-1.0, 1.0, 7)
    assert np.allclose(gradients.numeric_gradient(lambda t: np.sum(t**2), x), 2 * x)
    dout = np.arange(7.0)
    assert np.allclose(gradients.numeric_gradient(np.sin, x, dout), np.cos(x) * dout)
    assert np.array_equal(x, np.linspace(-1.0, 1.0, 7))  # restored after nudging
    err = gradients.gradient_report(
        "sin", np.cos(x) * dout, gradients.numeric_gradient(np.sin, x, dout)
    )
    assert err < gradients.GRADIENT_TOLERANCE and "below 1e-06: ok" in capsys.readouterr().out
    gradients.gradient_report("wrong", np.sin(x), np.cos(x))
    assert "TOO LARGE" in capsys.readouterr().out
    with pytest.raises(TypeError, match="float"):
        gradients.numeric_gradient(np.sum, np.arange(3))


def test_norm_relative_error_ignores_tiny_entries():
    a = np.array([1.0, 1e-6])
    n = np.array([1.0, 1.1e-6])
    assert rel_error(a, n) > 1e-2
    assert errors.norm_relative_error(a, n) < 1e-7


def test_shallow_cnn_shapes_and_autodiff_agree_with_numeric():
    params = shallow_cnn.init_params(1, filters=3, image=6, dtype=np.float64)
    params["b1"] = np.full(3, 0.1)
    x = np.random.default_rng(0).random((2, 6, 6, 1))
    y = np.array([1, 7])
    assert shallow_cnn.predict(params, x).shape == (2, 10)
    assert np.allclose(shallow_cnn.predict(params, x, batch_size=1), shallow_cnn.predict(params, x))
    loss, grads = shallow_cnn.autodiff_loss_and_grads(params, x, y)
    assert {k: g.shape for k, g in grads.items()} == {k: v.shape for k, v in params.items()}
    loss2, grads2 = make_network()(params, x, y)
    assert abs(loss - loss2) < 1e-12
    for k in params:
        assert rel_error(grads[k], grads2[k]) < 1e-9


def test_minibatch_sgd_history_and_divergence():
    rng = np.random.default_rng(0)
    x = rng.random((40, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 10, 40)
    params = shallow_cnn.init_params(0, filters=2, image=8)
    history = shallow_cnn.minibatch_sgd(
        make_network(), params, x, y, epochs=2, batch_size=16, lr=0.1, x_val=x[:8], y_val=y[:8]
    )
    assert {len(v) for k, v in history.items() if k != "batch_loss"} == {2}
    assert len(history["batch_loss"]) == 2 * 3

    def exploding(p, xb, yb):
        return float("nan"), {k: np.zeros_like(v) for k, v in p.items()}

    with pytest.raises(FloatingPointError, match="stable"):
        shallow_cnn.minibatch_sgd(exploding, params, x, y, epochs=1, batch_size=16, lr=0.1)
