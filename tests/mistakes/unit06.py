"""Unit 06 (training CNNs well): typical wrong answers and correct variants (the optimiser
steps, the two regularisers written by hand, and the regularised model that closes the gap,
trained for real on a tiny task of its own)."""

from __future__ import annotations

import functools

import keras
import numpy as np

from mistakes import Exercise
from utils.checks import training_cnns_well

L = keras.layers


def momentum_positive_velocity(w, g, v, lr, mu):
    """Correct, the other sign convention: v accumulates gradients, w moves against it."""
    v = mu * v + g
    return w - lr * v, v


def adam_corrected_lr(w, g, m, v, t, lr, b1, b2, eps):
    """Correct up to eps placement, written as the paper's efficient form is not: plain form."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * np.square(g)
    return w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), m, v


def _adam(bias_correction=True, square=True, t_shift=0):
    def step(w, g, m, v, t, lr, b1, b2, eps):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g**2 if square else np.abs(g))
        tt = t + t_shift
        mh, vh = (m / (1 - b1**tt), v / (1 - b2**tt)) if bias_correction else (m, v)
        return w - lr * mh / (np.sqrt(vh) + eps), m, v

    return step


def spatial_dropout_mask(x, rate, training, rng):
    """Correct, written differently: a 0/1 mask per (image, channel), multiplied in."""
    if not training:
        return x
    mask = (rng.uniform(size=(x.shape[0], x.shape[3])) >= rate) / (1 - rate)
    return x * mask[:, None, None, :]


def _dropout_per_pixel(x, rate, training, rng):
    if not training:
        return x
    return np.where(rng.random(x.shape) >= rate, x / (1 - rate), 0.0)


def _dropout_no_rescale(x, rate, training, rng):
    if not training:
        return x
    keep = rng.random((x.shape[0], 1, 1, x.shape[3])) >= rate
    return np.where(keep, x, 0.0)


def _dropout_always(x, rate, training, rng):
    return spatial_dropout_mask(x, rate, True, rng)


def _dropout_keeps_rate(x, rate, training, rng):
    return spatial_dropout_mask(x, 1 - rate, training, rng) if training else x


def cutout_mask(x, size, training, rng):
    """Correct, written differently: a boolean mask from distances to a random centre."""
    if not training:
        return x
    n, h, w = x.shape[:3]
    cy, cx = rng.integers(0, h, n), rng.integers(0, w, n)
    rows, cols = np.arange(h), np.arange(w)
    inside_r = (rows[None] >= (cy - size // 2)[:, None]) & (
        rows[None] < (cy - size // 2 + size)[:, None]
    )
    inside_c = (cols[None] >= (cx - size // 2)[:, None]) & (
        cols[None] < (cx - size // 2 + size)[:, None]
    )
    mask = inside_r[:, :, None] & inside_c[:, None, :]
    return np.where(mask[..., None], 0.0, x)


def _cutout_same_square(x, size, training, rng):
    if not training:
        return x
    out = x.copy()
    cy, cx = rng.integers(0, x.shape[1]), rng.integers(0, x.shape[2])
    out[
        :,
        max(cy - size // 2, 0) : cy - size // 2 + size,
        max(cx - size // 2, 0) : cx - size // 2 + size,
    ] = 0
    return out


def _cutout_in_place(x, size, training, rng):
    if not training:
        return x
    n, h, w = x.shape[:3]
    for i in range(n):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        x[
            i,
            max(cy - size // 2, 0) : cy - size // 2 + size,
            max(cx - size // 2, 0) : cx - size // 2 + size,
        ] = 0
    return x


def _cutout_inference_too(x, size, training, rng):
    return cutout_mask(x, size, True, rng)


def _cutout_wraps_negative_index(x, size, training, rng):
    if not training:
        return x
    out = x.copy()
    n, h, w = x.shape[:3]
    for i in range(n):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        out[i, cy - size // 2 : cy - size // 2 + size, cx - size // 2 : cx - size // 2 + size] = 0
    return out


# --- check_gap_closed, on a tiny task that trains in seconds ----------------------------------
# 100 of scikit-learn's 8x8 digits, 30% of their labels replaced by random ones, and 600 clean
# digits to validate on: the baseline memorises the wrong labels, while regularisation keeps it
# from memorising them. Measured when this was written (3 seeds, 25 epochs of 2 batches; train /
# validation accuracy): the baseline 0.97-1.00 / 0.60-0.67, Dropout(0.5) 0.84-0.91 / 0.70-0.76,
# GaussianNoise(0.3) on the input 0.80-0.85 / 0.70-0.77, Dropout(0.9) 0.14-0.26 / 0.09-0.17,
# L2(1e-6) 0.99-1.00 / 0.60-0.67.

GAP_RECIPE = {"epochs": 25, "batch_size": 50, "learning_rate": 1e-2}


def _tiny_baseline():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Conv2D(8, 3, padding="same", activation="relu"),
            L.Flatten(),
            L.Dense(128, activation="relu"),
            L.Dense(10, activation="softmax"),
        ],
        name="baseline",
    )


@functools.cache
def _gap_task():
    """(train, val, the baseline's Run): the digits task above, the baseline trained once."""
    from sklearn.datasets import load_digits

    from utils.training import fit_and_measure

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).reshape(-1, 8, 8, 1).astype("float32")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    y_train = y[order[:100]].copy()
    wrong = rng.random(100) < 0.3
    y_train[wrong] = rng.integers(0, 10, int(wrong.sum()))
    train = (x[order[:100]], y_train.astype("int32"))
    val = (x[order[1000:1600]], y[order[1000:1600]].astype("int32"))
    keras.utils.set_random_seed(0)
    recipe = {k: v for k, v in GAP_RECIPE.items() if k != "learning_rate"}
    baseline = fit_and_measure(
        _tiny_baseline(),
        train,
        val,
        optimizer=keras.optimizers.Adam(GAP_RECIPE["learning_rate"]),
        verbose=False,
        **recipe,
    )
    return train, val, baseline


def _run_gap_check(build):
    train, val, baseline = _gap_task()
    keras.utils.set_random_seed(1)
    return training_cnns_well.check_gap_closed(build, baseline, train, val, **GAP_RECIPE)


def _tiny(front=(), drop=0.0, l2=0.0, hidden=128, before_flatten=()):
    """The tiny baseline with regularisation (or a mistake) added; front, before_flatten:
    zero-argument functions making layers (each model gets layers of its own)."""

    def build_regularised():
        dropout = [L.Dropout(drop)] if drop else []
        reg = keras.regularizers.L2(l2) if l2 else None
        return keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                *(make() for make in front),
                L.Conv2D(8, 3, padding="same", activation="relu", kernel_regularizer=reg),
                *(make() for make in before_flatten),
                L.Flatten(),
                *dropout,
                L.Dense(hidden, activation="relu", kernel_regularizer=reg),
                *dropout,
                L.Dense(10, activation="softmax"),
            ]
        )

    return build_regularised


def _one_model_for_every_call():
    """A model built once (a global, in a notebook) and returned by every call."""
    built = []

    def build_regularised():
        if not built:
            built.append(_tiny(drop=0.5)())
        return built[0]

    return build_regularised


def noisy_inputs_functional():
    """Correct, written differently: the functional API, Gaussian noise on the input."""
    inputs = keras.Input((8, 8, 1))
    x = L.GaussianNoise(0.3)(inputs)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = L.Dense(128, activation="relu")(L.Flatten()(x))
    return keras.Model(inputs, L.Dense(10, activation="softmax")(x))


class AlwaysDropout(L.Layer):
    """Dropout written by hand that forgets `training`: it also drops at inference."""

    def call(self, x):
        return keras.random.dropout(x, 0.5)


EXERCISES = {
    "check_momentum_step": Exercise(
        run=training_cnns_well.check_momentum_step,
        wrong={
            "plain-sgd": (lambda w, g, v, lr, mu: (w - lr * g, v), r"expected|momentum|velocity"),
            "velocity-not-fed-back": (
                lambda w, g, v, lr, mu: (w - lr * g + mu * 0, -lr * g),
                r"expected|velocity",
            ),
            "momentum-on-gradient": (
                lambda w, g, v, lr, mu: (w + (mu * v - g), mu * v - g),
                r"expected|learning rate|lr",
            ),
        },
        right={"positive-velocity": momentum_positive_velocity},
    ),
    "check_adam_step": Exercise(
        run=training_cnns_well.check_adam_step,
        wrong={
            "no-bias-correction": (_adam(bias_correction=False), r"expected|bias"),
            "abs-not-square": (_adam(square=False), r"expected"),
            "t-zero-based": (_adam(t_shift=-1), r"expected|nan|inf|divide|t"),
        },
        right={"plain-form": adam_corrected_lr},
    ),
    "check_spatial_dropout": Exercise(
        run=training_cnns_well.check_spatial_dropout,
        wrong={
            "per-pixel-not-per-map": (_dropout_per_pixel, r"map|whole|channel"),
            "no-rescaling": (_dropout_no_rescale, r"1 - rate|scale|divid"),
            "drops-at-inference": (_dropout_always, r"training=False|inference"),
            "keeps-with-rate": (_dropout_keeps_rate, r"rate|fraction|expected"),
        },
        right={"multiplied-mask": spatial_dropout_mask},
    ),
    "check_cutout": Exercise(
        run=training_cnns_well.check_cutout,
        wrong={
            "one-square-for-the-batch": (_cutout_same_square, r"image|same|each"),
            "changes-the-input": (_cutout_in_place, r"input|copy|modif"),
            "cuts-at-inference": (_cutout_inference_too, r"training=False|inference"),
            "negative-index-wraps": (_cutout_wraps_negative_index, r"square|expected|border|edge"),
        },
        right={"boolean-mask": cutout_mask},
    ),
    "check_gap_closed": Exercise(
        run=_run_gap_check,
        wrong={
            "smaller-network": (_tiny(hidden=64), r"capacity is not regularisation"),
            "extra-pooling": (
                _tiny(before_flatten=[L.MaxPooling2D]),
                r"capacity is not regularisation.*Flatten",
            ),
            "dropout-also-at-inference": (
                _tiny(front=[AlwaysDropout]),
                r"random at inference.*training",
            ),
            "learns-nothing": (
                _tiny(front=[lambda: L.Rescaling(0.0)]),
                r"validation accuracy.*learns less",
            ),
            "dropout-too-strong": (_tiny(drop=0.9), r"validation accuracy.*learns less"),
            "same-model-every-call": (_one_model_for_every_call(), r"same model object"),
            "too-weak-to-matter": (
                _tiny(l2=1e-6),
                r"generalisation gap.*regularise more",
            ),
        },
        right={"noise-on-the-input": noisy_inputs_functional},
    ),
}
