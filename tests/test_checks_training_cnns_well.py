"""The unit 06 checks (optimizer steps, spatial dropout, cutout, closing the gap) accept correct
answers, reject typical wrong ones with CheckFailed, and say where to write code. The gap
check's decisions are tested here on chosen accuracies (its training replaced by a stub); its
typical mistakes, trained for real on a tiny task, are in tests/mistakes/unit06.py."""

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


def _dense_model(hidden=8, front=()):
    import keras

    return keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            *front,
            keras.layers.Flatten(),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


def _baseline(train_acc=1.0, val_acc=0.6):
    return Run("baseline", {}, train_acc, val_acc, 0.0, _dense_model())


@pytest.fixture
def measured(monkeypatch):
    """Make `train_side_by_side` return untrained Runs: the learner's runs get the accuracies
    in result["yours"], the baseline's fresh copies those in result["copies"]."""

    result = {"yours": (1.0, 0.5), "copies": (1.0, 0.6)}
    seen = {}

    def fake(models, train, val, *, epochs, batch_size, optimizer, verbose=True, **kwargs):
        seen.update(epochs=epochs, batch_size=batch_size, optimizer=optimizer, names=list(models))
        runs = {}
        for name, model in models.items():
            train_acc, val_acc = result["copies" if name.startswith("baseline") else "yours"]
            runs[name] = Run(name, {}, train_acc, val_acc, 0.0, model)
        return runs

    monkeypatch.setattr(training, "train_side_by_side", fake)
    return result, seen


RECIPE = dict(epochs=3, batch_size=8, learning_rate=1e-3)


def test_gap_check_passes_a_smaller_mean_gap_with_the_baseline_recipe(measured, capsys):
    import keras

    result, seen = measured
    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    result["yours"] = (0.9, 0.62)  # gap 0.28 against the baseline's 0.4
    run = training_cnns_well.check_gap_closed(_dense_model, _baseline(), train, val, **RECIPE)
    out = capsys.readouterr().out
    assert "PASSED" in out and "mean of 4" in out
    assert run.gap == pytest.approx(0.28)
    assert seen["epochs"] == 3 and seen["batch_size"] == 8
    # 4 runs of the learner's model and 3 fresh copies of the baseline, trained together
    assert len(seen["names"]) == 2 * training_cnns_well.GAP_REPEATS - 1
    assert isinstance(seen["optimizer"](), keras.optimizers.Adam)


def test_gap_check_averages_the_notebooks_baseline_run_with_its_copies(measured):
    result, _ = measured
    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    # baseline runs: the notebook's (gap 0.4) and three copies (gap 0.2): mean gap 0.25
    result["copies"] = (0.8, 0.6)
    result["yours"] = (0.8, 0.62)  # gap 0.18: 0.07 below the mean, passes
    training_cnns_well.check_gap_closed(_dense_model, _baseline(), train, val, **RECIPE)
    result["yours"] = (0.82, 0.62)  # gap 0.20: only 0.05 below the mean
    with pytest.raises(CheckFailed, match="mean generalisation gap"):
        training_cnns_well.check_gap_closed(_dense_model, _baseline(), train, val, **RECIPE)


@pytest.mark.parametrize(
    "accuracies, message",
    [
        ((1.0, 0.62), "gap"),  # gap 0.38: not 0.06 below the baseline's 0.4
        ((0.5, 0.5), "validation accuracy"),  # no gap, but it learned less (0.1 below)
    ],
)
def test_gap_check_rejects(measured, accuracies, message):
    result, _ = measured
    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    result["yours"] = accuracies
    with pytest.raises(CheckFailed, match=message):
        training_cnns_well.check_gap_closed(_dense_model, _baseline(), train, val, **RECIPE)


def test_gap_check_allows_a_drop_within_the_noise_only(measured):
    result, _ = measured
    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    drop = training_cnns_well.GAP_MAX_VAL_DROP
    result["yours"] = (0.6 - drop + 0.1, 0.6 - drop + 0.01)
    training_cnns_well.check_gap_closed(_dense_model, _baseline(), train, val, **RECIPE)
    result["yours"] = (0.6 - drop + 0.1, 0.6 - drop - 0.01)
    with pytest.raises(CheckFailed, match="validation accuracy"):
        training_cnns_well.check_gap_closed(_dense_model, _baseline(), train, val, **RECIPE)


def test_gap_check_rejects_less_capacity_before_training(measured):
    result, seen = measured
    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    result["yours"] = (0.7, 0.65)  # would pass on its numbers
    with pytest.raises(CheckFailed, match="capacity is not regularisation") as err:
        training_cnns_well.check_gap_closed(
            lambda: _dense_model(hidden=4), _baseline(), train, val, **RECIPE
        )
    assert "Dense 36->8" in str(err.value) and "Dense 36->4" in str(err.value)
    assert not seen  # nothing was trained


def test_gap_check_rejects_a_bigger_network_and_accepts_added_layers_without_weights(measured):
    import keras

    result, _ = measured
    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    with pytest.raises(CheckFailed, match="bigger one is not regularisation"):
        training_cnns_well.check_gap_closed(
            lambda: _dense_model(hidden=16), _baseline(), train, val, **RECIPE
        )
    result["yours"] = (0.9, 0.62)

    def with_noise_and_dropout():
        return _dense_model(front=[keras.layers.GaussianNoise(0.1), keras.layers.Dropout(0.2)])

    training_cnns_well.check_gap_closed(with_noise_and_dropout, _baseline(), train, val, **RECIPE)


def test_gap_check_rejects_a_model_random_at_inference(measured):
    import keras

    class AlwaysNoisy(keras.layers.Layer):
        def call(self, x):
            return x + keras.random.normal(keras.ops.shape(x))

    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    with pytest.raises(CheckFailed, match="random at inference"):
        training_cnns_well.check_gap_closed(
            lambda: _dense_model(front=[AlwaysNoisy()]), _baseline(), train, val, **RECIPE
        )


def test_gap_check_rejects_a_build_that_returns_one_model_again(measured):
    train, val = _tiny_data(16, 1), _tiny_data(16, 2)
    model = _dense_model()
    with pytest.raises(CheckFailed, match="same model object"):
        training_cnns_well.check_gap_closed(lambda: model, _baseline(), train, val, **RECIPE)


def test_gap_check_rejects_wrong_shapes_and_stubs(measured):
    import keras

    train, val = _tiny_data(16, 1), _tiny_data(16, 2)

    def build_wrong():
        return keras.Sequential(
            [
                keras.Input((6, 6, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(5, activation="softmax"),
            ]
        )

    with pytest.raises(CheckFailed, match="shapes"):
        training_cnns_well.check_gap_closed(build_wrong, _baseline(), train, val, **RECIPE)
    with pytest.raises(CheckFailed, match="Keras model"):
        training_cnns_well.check_gap_closed(lambda: None, _baseline(), train, val, **RECIPE)
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        training_cnns_well.check_gap_closed(not_written, _baseline(), train, val, **RECIPE)
    no_model = Run("baseline", {}, 1.0, 0.6, 0.0)
    with pytest.raises(TypeError, match="fit_and_measure"):
        training_cnns_well.check_gap_closed(_dense_model, no_model, train, val, **RECIPE)
