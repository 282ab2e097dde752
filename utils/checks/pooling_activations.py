"""Checks for unit 02 (pooling and activations): pooling forward, max-pool backward,
activation derivatives.

References, all independent of the exercises' answers:
- pooling forward: Keras `MaxPooling2D` / `AveragePooling2D` layers ('valid' padding);
- max-pool backward: `tf.GradientTape` through a Keras `MaxPooling2D` layer;
- activation derivatives: `tf.GradientTape` through `keras.activations`, and centred numeric
  differences of the activations themselves.
Everything is computed in float64, so a correct answer agrees to about 1e-15.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from utils.checks.core import (
    call,
    call_for_array,
    compare,
    fail,
    passed,
    rel_error,
    rounded_alike,
)
from utils.checks.references import reference

#: The worked example used for pooling (a 4x4 single-channel map, 2x2 windows, stride 2).
EXAMPLE_4X4 = np.array(
    [[1.0, 1.0, 2.0, 4.0], [5.0, 6.0, 7.0, 8.0], [3.0, 2.0, 1.0, 0.0], [1.0, 2.0, 3.0, 4.0]]
)


def _pool_layer(size: int, stride: int, mode: str):
    import keras

    cls = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}[mode]
    return cls(pool_size=size, strides=stride, padding="valid", dtype="float64")


@reference
def keras_pool2d(x: np.ndarray, size: int, stride: int, mode: str) -> np.ndarray:
    """Keras reference. x: (H, W, C) -> (OH, OW, C), 'valid' padding, float64."""
    import keras

    y = _pool_layer(size, stride, mode)(np.asarray(x, dtype=np.float64)[None])
    return keras.ops.convert_to_numpy(y)[0]


@reference
def keras_maxpool2d_grad(dout: np.ndarray, x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """d(sum(dout * maxpool(x))) / dx by tf.GradientTape. dout: (OH, OW, C), x: (H, W, C)."""
    import tensorflow as tf

    layer = _pool_layer(size, stride, "max")
    xv = tf.Variable(np.asarray(x, dtype=np.float64)[None])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(xv) * np.asarray(dout, dtype=np.float64)[None])
    return tape.gradient(loss, xv).numpy()[0]


def pooling_cases(n: int = 12, seed: int = 0) -> Iterator[tuple[np.ndarray, int, int]]:
    """(x, size, stride) cases: x (H, W, C) standard normals (no ties), windows that tile the
    input (stride = size), overlap (stride < size) and skip pixels (stride > size)."""
    rng = np.random.default_rng(seed)
    fixed = [((4, 4, 1), 2, 2), ((7, 7, 2), 3, 2), ((9, 8, 1), 2, 3), ((6, 5, 3), 1, 1)]
    for i in range(n):
        if i < len(fixed):
            shape, size, stride = fixed[i]
        else:
            size, stride = int(rng.integers(1, 5)), int(rng.integers(1, 5))
            h, w = (int(v) for v in rng.integers(size, 11, size=2))
            shape = (h, w, int(rng.integers(1, 4)))
        yield rng.standard_normal(shape), size, stride


def check_pool2d(pool2d: Callable, n_cases: int = 12, seed: int = 0) -> None:
    """Check `pool2d(x, size, stride, mode) -> (OH, OW, C)` for mode "max" and "avg" against
    Keras MaxPooling2D / AveragePooling2D with 'valid' padding. x: (H, W, C)."""
    name = getattr(pool2d, "__name__", "pool2d")
    cases = [(EXAMPLE_4X4[:, :, None], 2, 2)] + list(pooling_cases(n_cases - 1, seed))
    worst = 0.0
    for x, size, stride in cases:
        for mode in ("max", "avg"):
            case = f'x {x.shape}, size={size}, stride={stride}, mode="{mode}"'
            want = keras_pool2d(x, size, stride, mode)
            got = call(pool2d, x.copy(), size, stride, mode, case=case)
            err = compare(
                name,
                case,
                got,
                want,
                shape_hint="one window every `stride` pixels that fits inside the input "
                "('valid'), and one output channel per input channel (pooling never mixes "
                "channels).",
                hint="an average divides the window's sum by the number of its pixels."
                if mode == "avg"
                else "",
                show=lambda a: a[..., 0],
            )
            worst = max(worst, err)
    passed(
        f"`{name}` matches Keras MaxPooling2D and AveragePooling2D on {len(cases)} cases each "
        f"(relative error below 1e-9)."
    )


def check_maxpool_backward(maxpool_backward: Callable, n_cases: int = 12, seed: int = 1) -> None:
    """Check `maxpool_backward(dout, x, size, stride) -> dx (H, W, C)` against tf.GradientTape
    through a Keras MaxPooling2D layer. dout: (OH, OW, C), x: (H, W, C) without ties."""
    name = getattr(maxpool_backward, "__name__", "maxpool_backward")
    rng = np.random.default_rng(seed + 1000)
    worst = 0.0
    for x, size, stride in pooling_cases(n_cases, seed):
        case = f"x {x.shape}, size={size}, stride={stride}"
        oh, ow = (x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1
        dout = rng.standard_normal((oh, ow, x.shape[2]))
        want = keras_maxpool2d_grad(dout, x, size, stride)
        got = call(maxpool_backward, dout.copy(), x.copy(), size, stride, case=case)
        hint = "each window sends its upstream gradient to the position of its maximum only."
        if stride < size:
            hint += (
                " Here windows overlap (stride < size): an input that is the maximum of "
                "two windows receives the sum of both gradients."
            )
        err = compare(
            name,
            case,
            got,
            want,
            shape_hint="dx has the shape of x",
            hint=hint,
            spatial=False,
            show=lambda a: a[..., 0],
        )
        worst = max(worst, err)
    passed(
        f"`{name}` matches tf.GradientTape through Keras MaxPooling2D on {n_cases} cases "
        f"(relative error below 1e-9)."
    )


# The activations themselves (not the exercise): forward functions for numeric differences.
_FORWARD = {
    "sigmoid": lambda x, a: 1.0 / (1.0 + np.exp(-x)),
    "tanh": lambda x, a: np.tanh(x),
    "relu": lambda x, a: np.maximum(x, 0.0),
    "leaky_relu": lambda x, a: np.where(x > 0, x, a * x),
}


@reference
def _tape_grad(kind: str, x: np.ndarray, alpha: float) -> np.ndarray:
    """Elementwise derivative of keras.activations.<kind> at x, by tf.GradientTape."""
    import keras
    import tensorflow as tf

    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        if kind == "leaky_relu":
            y = keras.activations.leaky_relu(xv, negative_slope=alpha)
        else:
            y = getattr(keras.activations, kind)(xv)
        total = tf.reduce_sum(y)  # elementwise function: d(sum)/dx_i = f'(x_i)
    return tape.gradient(total, xv).numpy()


def _numeric_grad(kind: str, x: np.ndarray, alpha: float, h: float = 1e-5) -> np.ndarray:
    """Centred differences (f(x + h) - f(x - h)) / 2h, elementwise."""
    f = _FORWARD[kind]
    return (f(x + h, alpha) - f(x - h, alpha)) / (2 * h)


def activation_inputs(rng: np.random.Generator) -> np.ndarray:
    """Random float64 inputs in about [-6, 6] of a random shape, none within 0.01 of 0 (the
    kink of ReLU and LeakyReLU, where numeric differences straddle two slopes)."""
    shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    x = rng.uniform(-6.0, 6.0, size=shape)
    return np.where(np.abs(x) < 0.01, 0.01 * np.sign(x) + x, x)


def check_activation_grads(
    sigmoid_grad: Callable,
    tanh_grad: Callable,
    relu_grad: Callable,
    leaky_relu_grad: Callable,
    n_cases: int = 5,
    seed: int = 2,
) -> None:
    """Check four elementwise derivatives, each `f(x) -> array of x's shape`
    (`leaky_relu_grad(x, alpha)`), against tf.GradientTape of keras.activations and against
    centred numeric differences; print the relative errors."""
    rng = np.random.default_rng(seed)
    fns = {
        "sigmoid": sigmoid_grad,
        "tanh": tanh_grad,
        "relu": relu_grad,
        "leaky_relu": leaky_relu_grad,
    }
    for kind, fn in fns.items():
        name = getattr(fn, "__name__", "")
        name = name if name.isidentifier() else f"{kind}_grad"
        for i_case in range(n_cases + 1):
            if i_case == 0:  # simple first: a few values, exactly 0 included (the kink)
                x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
            else:
                x = activation_inputs(rng)
            # A slope exactly representable in float32 (Keras keeps negative_slope in float32).
            alpha = int(rng.integers(3, 77)) / 256
            case = f"x of shape {x.shape}" + (f", alpha={alpha}" if kind == "leaky_relu" else "")
            args = (x.copy(), alpha) if kind == "leaky_relu" else (x.copy(),)
            got = call_for_array(
                fn,
                *args,
                name=name,
                case=case,
                shape=x.shape,
                shape_hint="the derivative is elementwise: one value per value of x, same shape.",
            )
            tape = _tape_grad(kind, x, alpha)
            num = _numeric_grad(kind, x, alpha)
            # at exactly 0 the numeric difference straddles the kink: only the tape counts there
            num = np.where(x == 0, tape, num)
            err_tape, err_num = rel_error(got, tape), rel_error(got, num)
            if err_tape > 1e-9 or err_num > 1e-5:
                i = np.unravel_index(int(np.argmax(np.abs(got - tape))), x.shape)
                w_text, g_text = rounded_alike(tape[i], got[i], 6)
                if x[i] == 0 and kind in ("relu", "leaky_relu"):
                    hint = (
                        "at exactly x = 0 the derivative is a convention: the one in the "
                        "function's docstring (TensorFlow's); which side does 0 fall on in "
                        "your comparison?"
                    )
                else:
                    hint = (
                        f"relative errors {err_tape:.1e} (GradientTape) and {err_num:.1e} "
                        "(numeric); they should be below 1e-9 and 1e-5."
                    )
                raise fail(
                    name,
                    f"{case}, at x = {x[i]:.4f}",
                    f"{w_text} (tf.GradientTape; numeric {num[i]:.6f})",
                    g_text,
                    hint,
                )
    passed(
        f"the four derivatives match tf.GradientTape (relative error should be < 1e-9, "
        f"float64 rounding) and numeric differences (< 1e-5, the error of a finite step) on "
        f"{n_cases} random arrays each, and at exactly 0."
    )
