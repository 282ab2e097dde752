"""Checks for unit 04 (backpropagation in a shallow CNN): softmax + cross-entropy, max-pool
backward, convolution backward, the whole network's backward pass, and the trained network.

Every gradient is compared with two independent references, in float64:
- `tf.GradientTape` of TensorFlow's own ops (`tf.nn.conv2d`, `tf.nn.max_pool2d`,
  `tf.nn.sparse_softmax_cross_entropy_with_logits`), which should agree to about 1e-12;
- numeric gradients (`utils.measure.gradients.numeric_gradient`) of forward passes, reported as
  CS231n's relative error, which should be below 1e-6 (usually 1e-8 to 1e-11).
Nothing here contains an exercise's answer (no backward pass is written out).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np

from utils.checks.core import (
    CheckFailed,
    call,
    expect_array,
    fail,
    likely_cause,
    passed,
    rel_error,
)
from utils.checks.references import reference
from utils.measure.errors import norm_relative_error
from utils.measure.gradients import GRADIENT_TOLERANCE, numeric_gradient

#: Largest relative error accepted against tf.GradientTape (both exact up to rounding).
TAPE_TOLERANCE = 1e-7


def _name(fn: Callable, default: str) -> str:
    return getattr(fn, "__name__", default)


@reference
def _tape_gradients(forward, inputs: list[np.ndarray], dout: np.ndarray) -> list[np.ndarray]:
    """Gradients of sum(forward(*inputs) * dout) w.r.t. each input, by tf.GradientTape."""
    import tensorflow as tf

    tensors = [tf.constant(v, dtype=tf.float64) for v in inputs]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        out = forward(*tensors)
    grads = tape.gradient(out, tensors, output_gradients=tf.constant(dout, dtype=tf.float64))
    return [g.numpy() for g in grads]


def _compare(name, case, what, got, want, tol, hint="") -> float:
    """Shape and relative-error comparison of one gradient; returns the error."""
    got = expect_array(got, name=name, case=case, shape=want.shape, what=what, shape_hint=hint)
    err = rel_error(got, want)
    if not err < tol:  # also catches nan
        cause = likely_cause(got, want, spatial=False) if np.all(np.isfinite(got)) else ""
        hint = "; ".join(h for h in (cause, hint) if h)
        shown_want, shown_got = _slice(what, want), _slice(what, got)
        raise fail(
            name,
            case,
            f"{what} (relative error < {tol:.0e}){shown_want}",
            f"relative error {err:.1e}{shown_got}",
            hint,
        )
    return err


def _slice(what: str, arr: np.ndarray) -> str:
    """A small 2-D view of a gradient for a failure message: one image's first channel, or
    one kernel's (first input, first output channel) slice."""
    if arr.ndim == 4 and what.startswith(("dw", "grads['w1'")):
        arr, label = arr[:, :, 0, 0], "[:, :, 0, 0]"
    elif arr.ndim == 4:
        arr, label = arr[0, :, :, 0], "[0, :, :, 0]"
    elif arr.ndim == 2 and arr.shape[0] > 8:
        arr, label = arr[:8], "[:8]"
    else:
        label = ""
    return f"; {label}:\n{np.round(arr, 4)}" if label else f":\n{np.round(arr, 4)}"


@contextlib.contextmanager
def _quiet_numpy():
    """Overflow warnings from a learner's unstable softmax are reported by the check itself."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        yield


# --------------------------------------------------------------------------- softmax + CE


@reference
def _tf_softmax_ce(scores, y):
    """(loss, dloss/dscores) of TF's mean sparse softmax cross-entropy, float64.

    TF gives each example's loss and gradient (a row depends on its own scores only); the
    mean over the batch is taken in NumPy, so the result does not depend on how many threads
    TF's reduction used (the release replays it, recorded in other processes)."""
    import tensorflow as tf

    s = tf.constant(scores, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(s)
        each = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(y), logits=s)
    n = len(y)
    return float(np.mean(each.numpy())), tape.gradient(each, s).numpy() / n


def softmax_cases(n: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray, bool]]:
    """(scores (N, C), labels (N,), numeric-check?) cases; the last has huge scores."""
    rng = np.random.default_rng(seed)
    yield np.zeros((2, 10)), np.array([3, 7]), True  # all classes equal: loss = ln(10)
    for i in range(max(0, n - 2)):
        rows, classes = int(rng.integers(1, 9)), int(rng.integers(2, 11))
        scale = (0.01, 0.5, 3.0, 10.0)[i % 4]
        scores = rng.standard_normal((rows, classes)) * scale
        yield scores, rng.integers(0, classes, rows), scale < 1
    scores = rng.standard_normal((4, 10)) * 100 + 1000  # exp(1000) overflows float64
    yield scores, rng.integers(0, 10, 4), False


def check_softmax_cross_entropy(fn: Callable, n_cases: int = 8, seed: int = 0) -> None:
    """Check `fn(scores, y) -> (loss, dscores)`: the mean softmax cross-entropy loss of
    scores: (N, C) for integer labels y: (N,), and its gradient dscores: (N, C).

    Against TF's `sparse_softmax_cross_entropy_with_logits` (loss, and its gradient by
    tf.GradientTape) and a numeric gradient of `fn`'s own loss. The last case has scores near
    1000, where exp() overflows unless the softmax is computed stably.
    """
    name = _name(fn, "softmax_cross_entropy")
    worst_tape = worst_numeric = 0.0
    for scores, y, numeric in softmax_cases(n_cases, seed):
        big = scores.max() > 100
        case = f"scores {scores.shape} of size ~{np.abs(scores).max():.2g}, y={y.tolist()}"
        with _quiet_numpy():
            out = call(fn, scores.copy(), y.copy(), case=case)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise fail(name, case, "a pair (loss, dscores)", type(out).__name__)
        loss, dscores = out
        want_loss, want_grad = _tf_softmax_ce(scores, y)
        if np.ndim(loss) != 0:
            raise fail(name, case, "one number, the mean loss", f"shape {np.shape(loss)}")
        loss = float(np.asarray(loss))
        stable = (
            "subtract each row's maximum from the scores before exp(): the softmax does "
            "not change, and exp() no longer overflows."
        )
        hint = (
            stable
            if big and not np.isfinite(loss)
            else "the loss of a batch is the mean of the examples' losses, each from the "
            "probability given to the example's own label."
        )
        if not abs(loss - want_loss) <= 1e-9 * max(1.0, abs(want_loss)):
            raise fail(name, case, f"loss {want_loss:.6f}", f"loss {loss:.6f}", hint)
        worst_tape = max(
            worst_tape,
            _compare(
                name,
                case,
                "dscores",
                dscores,
                want_grad,
                TAPE_TOLERANCE,
                stable
                if big and not np.all(np.isfinite(np.asarray(dscores, dtype=float)))
                else "the loss is right, its gradient is not: does the label's own score "
                "get its extra term, and is the gradient of a mean scaled like the mean?",
            ),
        )
        if numeric:

            def loss_of(s, y=y):
                return float(np.asarray(fn(s, y)[0]))

            num = numeric_gradient(loss_of, scores.copy())
            worst_numeric = max(
                worst_numeric,
                _compare(name, case, "dscores (numeric)", dscores, num, GRADIENT_TOLERANCE),
            )
    passed(
        f"`{name}` gives TF's loss on {n_cases} cases, large scores included; dscores: "
        f"relative error below {TAPE_TOLERANCE:.0e} vs tf.GradientTape and below {GRADIENT_TOLERANCE:.0e} "
        f"vs numeric gradients."
    )


# --------------------------------------------------------------------------- max-pool


def _pool_reference(x: np.ndarray, size: int) -> np.ndarray:
    """Forward max-pooling of x: (N, H, W, C) over size x size windows (for numeric grads)."""
    from utils.networks.shallow_cnn import maxpool_forward

    return maxpool_forward(x, size)


def maxpool_cases(n: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """(x, dout, size) with all values of x distinct (no ties inside a window)."""
    rng = np.random.default_rng(seed)
    x = np.array([[1, 3, 2, 0], [4, 6, 5, 7], [8, 9, 3, 1], [2, 0, 4, 6]], dtype=float)
    yield x.reshape(1, 4, 4, 1), np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1), 2
    for _ in range(max(0, n - 1)):
        size = int(rng.integers(2, 4))
        n_img, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        h, w = size * int(rng.integers(1, 4)), size * int(rng.integers(1, 4))
        total = n_img * h * w * c
        x = (rng.permutation(total) / total * 4 - 2).reshape(n_img, h, w, c)
        yield x, rng.standard_normal((n_img, h // size, w // size, c)), size


def check_maxpool_backward(fn: Callable, n_cases: int = 10, seed: int = 0) -> None:
    """Check `fn(dout, x, size) -> dx` for max-pooling over non-overlapping size x size
    windows (stride = size). x: (N, H, W, C), dout: (N, H // size, W // size, C),
    dx: (N, H, W, C).

    Against tf.GradientTape of `tf.nn.max_pool2d` and numeric gradients of a NumPy forward
    pass. Inputs have no ties inside a window (with ties the gradient is not defined).
    """
    import tensorflow as tf

    name = _name(fn, "maxpool_backward")
    worst = 0.0
    for x, dout, size in maxpool_cases(n_cases, seed):
        case = f"x {x.shape}, size={size}"
        dx = call(fn, dout.copy(), x.copy(), size, case=case)
        (want,) = _tape_gradients(lambda t, s=size: tf.nn.max_pool2d(t, s, s, "VALID"), [x], dout)
        hint = (
            "each window passes its upstream gradient to the position of its maximum "
            "(where the forward pass took its value from); the other positions get 0."
        )
        _compare(name, case, "dx", dx, want, TAPE_TOLERANCE, hint)
        num = numeric_gradient(lambda t, s=size: _pool_reference(t, s), x.copy(), dout)
        worst = max(worst, _compare(name, case, "dx (numeric)", dx, num, GRADIENT_TOLERANCE, hint))
    passed(
        f"`{name}` matches tf.GradientTape of tf.nn.max_pool2d on {n_cases} cases; relative "
        f"error vs numeric gradients below {GRADIENT_TOLERANCE:.0e}."
    )


# --------------------------------------------------------------------------- convolution


def conv_cases(n: int, seed: int) -> Iterator[tuple]:
    """(dout, x, w, b, pad) cases: the network's layer first, then random small shapes."""
    rng = np.random.default_rng(seed)
    shapes = [(2, 6, 6, 1, 3, 3, 2, 1)]  # N, H, W, C, KH, KW, F, pad: the network's conv
    while len(shapes) < n:
        n_img, h, w, c = (int(v) for v in rng.integers((1, 3, 3, 1), (4, 8, 8, 4)))
        kh, kw, f, pad = (int(v) for v in rng.integers((1, 1, 1, 0), (4, 4, 4, 3)))
        if kh <= h + 2 * pad and kw <= w + 2 * pad:
            shapes.append((n_img, h, w, c, kh, kw, f, pad))
    for n_img, h, w, c, kh, kw, f, pad in shapes:
        oh, ow = h + 2 * pad - kh + 1, w + 2 * pad - kw + 1
        yield (
            rng.standard_normal((n_img, oh, ow, f)),
            rng.standard_normal((n_img, h, w, c)),
            rng.standard_normal((kh, kw, c, f)),
            rng.standard_normal(f),
            pad,
        )


def check_conv_backward(fn: Callable, n_cases: int = 10, seed: int = 0) -> None:
    """Check `fn(dout, x, w, pad) -> (dx, dw, db)` for a stride-1 convolution with `pad`
    zeros on each side. x: (N, H, W, C), w: (KH, KW, C, F),
    dout: (N, H + 2*pad - KH + 1, W + 2*pad - KW + 1, F); returns dx: x's shape, dw: w's
    shape, db: (F,).

    Against tf.GradientTape of `tf.nn.conv2d` (on the zero-padded input) and numeric
    gradients of a NumPy forward pass.
    """
    import tensorflow as tf

    from utils.networks.shallow_cnn import conv_forward

    name = _name(fn, "conv_backward")
    worst = {"dx": 0.0, "dw": 0.0, "db": 0.0}
    hints = {
        "dx": "each input pixel collects a contribution from every output position whose "
        "window covered it (mind which kernel weight met it), and dx has x's shape, "
        "not the padded one.",
        "dw": "each weight met many input values, in every window of every image: all of them "
        "contribute to its gradient.",
        "db": "each bias was added at every position of every image: how do those uses "
        "combine in its gradient?",
    }
    for dout, x, w, b, pad in conv_cases(n_cases, seed):
        case = f"x {x.shape}, w {w.shape}, pad={pad}"
        out = call(fn, dout.copy(), x.copy(), w.copy(), pad, case=case)
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            raise fail(name, case, "a triple (dx, dw, db)", type(out).__name__)

        def tf_conv(xt, wt, bt, p=pad):
            padded = tf.pad(xt, [[0, 0], [p, p], [p, p], [0, 0]])
            return tf.nn.conv2d(padded, wt, strides=1, padding="VALID") + bt

        tape = _tape_gradients(tf_conv, [x, w, b], dout)
        # The convolution is linear in each argument, so a numeric gradient has no
        # truncation error whatever the step: a larger step only reduces the rounding error.
        args = [x, w, b]

        def forward(t, i, args=args, pad=pad):
            return conv_forward(*args[:i], t, *args[i + 1 :], pad)

        numeric = [
            numeric_gradient(lambda t, i=i: forward(t, i), args[i].copy(), dout, h=1e-3)
            for i in range(3)
        ]
        for what, got, want, num in zip(("dx", "dw", "db"), out, tape, numeric, strict=True):
            _compare(name, case, what, got, want, TAPE_TOLERANCE, hints[what])
            err = _compare(
                name, case, f"{what} (numeric)", got, num, GRADIENT_TOLERANCE, hints[what]
            )
            worst[what] = max(worst[what], err)
    passed(
        f"`{name}` matches tf.GradientTape of tf.nn.conv2d on {n_cases} cases; relative "
        f"errors of dx, dw and db vs numeric gradients below {GRADIENT_TOLERANCE:.0e}."
    )


# --------------------------------------------------------------------------- the network


def _reference_loss(params, x, y) -> float:
    """Mean cross-entropy of the NumPy network, with SciPy's log_softmax (numeric grads)."""
    from scipy.special import log_softmax

    from utils.networks.shallow_cnn import predict

    logp = log_softmax(predict(params, x), axis=1)
    return float(-logp[np.arange(len(y)), y].mean())


def network_cases(n: int, seed: int) -> Iterator[tuple[dict, np.ndarray, np.ndarray]]:
    """(params float64, x (N, S, S, 1), y) for small versions of the network."""
    from utils.networks.shallow_cnn import init_params

    rng = np.random.default_rng(seed)
    for i in range(n):
        image = (4, 6)[i % 2]
        params = init_params(
            int(rng.integers(1 << 30)), filters=2 + i % 2, image=image, dtype=np.float64
        )
        params["b1"] = rng.standard_normal(params["b1"].shape) * 0.1
        params["b2"] = rng.standard_normal(params["b2"].shape) * 0.1
        n_img = int(rng.integers(2, 6))
        yield params, rng.random((n_img, image, image, 1)), rng.integers(0, 10, n_img)


def check_network_backward(fn: Callable, n_cases: int = 3, seed: int = 0) -> None:
    """Check `fn(params, x, y) -> (loss, grads)` for the whole shallow CNN (see
    utils.networks.shallow_cnn): params {"w1", "b1", "w2", "b2"}, x: (N, H, W, 1), y: (N,); grads has
    the same keys and shapes as params.

    Against tf.GradientTape of the same network in TF ops (`utils.networks.shallow_cnn.tf_scores`)
    and numeric gradients of its NumPy forward pass with SciPy's log-softmax.
    """
    from utils.networks.shallow_cnn import autodiff_loss_and_grads

    name = _name(fn, "loss_and_grads")
    worst = 0.0
    for params, x, y in network_cases(n_cases, seed):
        shapes = {k: v.shape for k, v in params.items()}
        case = f"x {x.shape}, params {shapes}"
        out = call(fn, {k: v.copy() for k, v in params.items()}, x.copy(), y.copy(), case=case)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise fail(name, case, "a pair (loss, grads)", type(out).__name__)
        loss, grads = out
        want_loss, want = autodiff_loss_and_grads(params, x, y)
        loss = float(np.asarray(loss))
        if not abs(loss - want_loss) <= 1e-9 * max(1.0, abs(want_loss)):
            raise fail(name, case, f"loss {want_loss:.6f}", f"loss {loss:.6f}")
        if not isinstance(grads, dict) or set(grads) != set(params):
            got_keys = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
            raise fail(name, case, f"a dict with keys {sorted(params)}", got_keys)
        for key in ("b2", "w2", "b1", "w1"):  # the order backpropagation reaches them
            hint = (
                "walk the layers backwards: softmax-CE, dense, max-pool, ReLU, conv; each "
                "backward pass needs the input its layer saw in the forward pass."
            )
            _compare(name, case, f"grads[{key!r}]", grads[key], want[key], TAPE_TOLERANCE, hint)

            def loss_of(value, key=key, params=params, x=x, y=y):
                return _reference_loss({**params, key: value}, x, y)

            # ReLU and max-pooling have kinks; a step of 1e-6 is unlikely to cross one. Some
            # entries of grads['w1'] are tiny (~1e-5) and their own relative error is all
            # rounding, so the whole gradient's relative error (norms) is compared here.
            num = numeric_gradient(loss_of, params[key].copy(), h=1e-6)
            err = norm_relative_error(grads[key], num)
            if not err < GRADIENT_TOLERANCE:
                raise fail(
                    name,
                    case,
                    f"grads[{key!r}] within {GRADIENT_TOLERANCE:.0e} of the numeric gradient (norms)",
                    f"relative error {err:.1e}",
                )
            worst = max(worst, err)
    passed(
        f"`{name}` gives the loss and the 4 gradients of tf.GradientTape on {n_cases} "
        f"networks; relative error of the whole gradients vs numeric ones below {GRADIENT_TOLERANCE:.0e}."
    )


def check_trained_network(params: dict, band: float) -> None:
    """Test accuracy of trained shallow-CNN parameters on the 1,000 offline test digits
    (load_mnist("smoke")), computed with the TF version of the network; must reach `band`."""
    import tensorflow as tf

    from utils.data import load_mnist
    from utils.networks.shallow_cnn import init_params, tf_scores

    expected = {k: v.shape for k, v in init_params().items()}
    got = {k: np.shape(v) for k, v in params.items()} if isinstance(params, dict) else None
    if got != expected:
        raise CheckFailed(f"params should have the shapes {expected}, not {got}")
    _, (x_test, y_test) = load_mnist("smoke")
    x = (x_test.astype(np.float32) / 255.0)[..., None]
    weights = {k: tf.constant(np.asarray(v, dtype=np.float32)) for k, v in params.items()}
    scores = tf_scores(weights, tf.constant(x)).numpy()
    acc = float(np.mean(scores.argmax(axis=1) == y_test))
    if not acc >= band:
        raise CheckFailed(
            f"test accuracy {acc:.3f} is below {band}: did the loss fall during training? "
            "If not, re-run the checks of the backward passes."
        )
    passed(f"the trained network reaches at least {band} on the 1,000 offline test digits.")
