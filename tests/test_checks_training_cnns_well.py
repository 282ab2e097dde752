"""The unit 06 checks (optimizer steps, spatial dropout, cutout, closing the gap) accept correct
answers, reject typical wrong ones with CheckFailed, and say where to write code."""

from __future__ import annotations

import numpy as np
import pytest

from utils import training
from utils.checks import CheckFailed, training_cnns_well
from utils.training import Run

# --- correct answers, written differently from the lab's solution -----------------------------


def momentum_textbook(w, g, velocity, lr, momentum):
    """The other sign convention: velocity accumulates gradients, the step subtracts it."""
    velocity = momentum * velocity + g
    return w - lr * velocity, velocity


def adam_paper(w, g, m, v, t, lr, beta1, beta2, eps):
    """Algorithm 1 of Kingma & Ba (2015)."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_keras_form(w, g, m, v, t, lr, beta1, beta2, eps):
    """The 'efficient' form of the paper's section 2 (epsilon outside the correction)."""
    m = m + (g - m) * (1 - beta1)
    v = v + (g**2 - v) * (1 - beta2)
    alpha = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return w - alpha * m / (np.sqrt(v) + eps), m, v


def spatial_dropout_ok(x, rate, training, rng):
    if not training:
        return x
    keep = rng.random((x.shape[0], 1, 1, x.shape[3])) >= rate
    return np.where(keep, x / (1 - rate), 0.0)


def cutout_ok(x, size, training, rng):
    """Centre anywhere in the image (DeVries & Taylor 2017): squares may be cut by the border."""
    if not training:
        return x
    n, h, w, _ = x.shape
    cy, cx = rng.integers(0, h, n), rng.integers(0, w, n)
    rows, cols = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    top, left = (cy - size // 2)[:, None, None], (cx - size // 2)[:, None, None]
    inside = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return np.where(inside[..., None], 0.0, x)


def cutout_inside(x, size, training, rng):
    """Also correct: the square always lies entirely inside the image."""
    if not training:
        return x
    y = x.copy()
    for img in y:
        r = rng.integers(0, img.shape[0] - size + 1)
        c = rng.integers(0, img.shape[1] - size + 1)
        img[r : r + size, c : c + size, :] = 0
    return y


# --- wrong answers -----------------------------------------------------------------------------


def momentum_forgets(w, g, velocity, lr, momentum):
    return w - lr * g, velocity  # plain SGD


def adam_no_bias_correction(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * m / (np.sqrt(v) + eps), m, v


def adam_t_off_by_one(w, g, m, v, t, lr, beta1, beta2, eps):
    return adam_paper(w, g, m, v, t + 1, lr, beta1, beta2, eps)


def adam_v_of_abs(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * np.abs(g)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def dropout_pixels(x, rate, training, rng):
    if not training:
        return x
    return np.where(rng.random(x.shape) >= rate, x / (1 - rate), 0.0)


def spatial_dropout_unscaled(x, rate, training, rng):
    if not training:
        return x
    return np.where(rng.random((x.shape[0], 1, 1, x.shape[3])) >= rate, x, 0.0)


def spatial_dropout_keep_prob(x, rate, training, rng):
    if not training:
        return x
    return np.where(rng.random((x.shape[0], 1, 1, x.shape[3])) < rate, x / rate, 0.0)


def spatial_dropout_always(x, rate, training, rng):
    return spatial_dropout_ok(x, rate, True, rng)


def spatial_dropout_in_place(x, rate, training, rng):
    if training:
        x *= rng.random((x.shape[0], 1, 1, x.shape[3])) >= rate
        x /= 1 - rate
    return x


def cutout_one_channel(x, size, training, rng):
    y = cutout_ok(x, size, training, rng)
    if training:
        y[..., 1:] = x[..., 1:]
    return y


def cutout_too_big(x, size, training, rng):
    return cutout_ok(x, size + 1, training, rng)


def cutout_fixed_place(x, size, training, rng):
    if not training:
        return x
    y = x.copy()
    y[:, :size, :size, :] = 0
    return y


def cutout_rescaled(x, size, training, rng):
    y = cutout_ok(x, size, training, rng)
    return y * (x.shape[1] * x.shape[2]) / (x.shape[1] * x.shape[2] - size * size)


def not_written(*args, **kwargs):
    raise NotImplementedError()


# --- tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [momentum_textbook])
def test_momentum_check_accepts_correct(fn, capsys):
    training_cnns_well.check_momentum_step(fn)
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("fn", [adam_paper, adam_keras_form])
def test_adam_check_accepts_both_epsilon_forms(fn, capsys):
    training_cnns_well.check_adam_step(fn, seed=3)
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("fn", [adam_no_bias_correction, adam_t_off_by_one, adam_v_of_abs])
def test_adam_check_rejects(fn):
    with pytest.raises(CheckFailed):
        training_cnns_well.check_adam_step(fn)


def test_momentum_check_rejects_plain_sgd():
    with pytest.raises(CheckFailed):
        training_cnns_well.check_momentum_step(momentum_forgets)


def test_spatial_dropout_check_accepts_correct(capsys):
    training_cnns_well.check_spatial_dropout(spatial_dropout_ok, seed=5)
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn",
    [
        dropout_pixels,
        spatial_dropout_unscaled,
        spatial_dropout_keep_prob,
        spatial_dropout_always,
        spatial_dropout_in_place,
    ],
)
def test_spatial_dropout_check_rejects(fn):
    with pytest.raises(CheckFailed):
        training_cnns_well.check_spatial_dropout(fn)


@pytest.mark.parametrize("fn", [cutout_ok, cutout_inside])
def test_cutout_check_accepts_both_placements(fn, capsys):
    training_cnns_well.check_cutout(fn, seed=7)
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn", [cutout_one_channel, cutout_too_big, cutout_fixed_place, cutout_rescaled]
)
def test_cutout_check_rejects(fn):
    with pytest.raises(CheckFailed):
        training_cnns_well.check_cutout(fn)


@pytest.mark.parametrize(
    "check",
    [
        training_cnns_well.check_momentum_step,
        training_cnns_well.check_adam_step,
        training_cnns_well.check_spatial_dropout,
        training_cnns_well.check_cutout,
    ],
)
def test_stub_says_where_to_write(check):
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        check(not_written)


# --- closing the gap: the training is replaced by a stub that returns chosen accuracies ---------


def _tiny_data(n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, (n, 6, 6, 1)).astype("float32"), np.arange(n) % 2


def _dense_model():
    import keras

    return keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


@pytest.fixture
def measured(monkeypatch):
    """Make `fit_and_measure` return a Run with the accuracies in `measured[0]`, untrained."""

    result = [(1.0, 0.5)]
    seen = {}

    def fake_fit(model, train, val, *, epochs, batch_size, optimizer, name="", **kwargs):
        seen.update(epochs=epochs, batch_size=batch_size, optimizer=optimizer)
        train_acc, val_acc = result[0]
        return Run(name or model.name, {}, train_acc, val_acc, 0.0)

    monkeypatch.setattr(training, "fit_and_measure", fake_fit)
    return result, seen


RECIPE = dict(epochs=3, batch_size=8, learning_rate=1e-3)


def test_gap_check_passes_a_smaller_gap_with_the_baseline_recipe(measured, capsys):
    import keras

    result, seen = measured
    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    baseline = Run("baseline", {}, train_acc=1.0, val_acc=0.6, seconds=0.0)  # gap 0.4
    result[0] = (0.9, 0.62)  # gap 0.28
    run = training_cnns_well.check_gap_closed(_dense_model, baseline, train, val, **RECIPE)
    assert "PASSED" in capsys.readouterr().out
    assert run.gap == pytest.approx(0.28)
    assert seen["epochs"] == 3 and seen["batch_size"] == 8
    assert isinstance(seen["optimizer"], keras.optimizers.Adam)


@pytest.mark.parametrize(
    "accuracies, message",
    [
        ((1.0, 0.62), "gap"),  # gap 0.38: not 0.05 below the baseline's 0.4
        ((0.45, 0.45), "validation accuracy"),  # no gap, but it learned less
    ],
)
def test_gap_check_rejects(measured, accuracies, message):
    result, _ = measured
    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    baseline = Run("baseline", {}, train_acc=1.0, val_acc=0.6, seconds=0.0)
    result[0] = accuracies
    with pytest.raises(CheckFailed, match=message):
        training_cnns_well.check_gap_closed(_dense_model, baseline, train, val, **RECIPE)


def test_gap_check_rejects_wrong_shapes_and_stubs(measured):
    import keras

    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    baseline = Run("baseline", {}, train_acc=1.0, val_acc=0.6, seconds=0.0)

    def build_wrong():
        return keras.Sequential(
            [
                keras.Input((6, 6, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(5, activation="softmax"),
            ]
        )

    with pytest.raises(CheckFailed, match="shapes"):
        training_cnns_well.check_gap_closed(build_wrong, baseline, train, val, **RECIPE)
    with pytest.raises(CheckFailed, match="Keras model"):
        training_cnns_well.check_gap_closed(lambda: None, baseline, train, val, **RECIPE)
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        training_cnns_well.check_gap_closed(not_written, baseline, train, val, **RECIPE)
