"""utils.training.train_and_record: the architecture lectures' fit -> evaluate -> band -> record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from utils.course import PROFILE_ENV
from utils.measure import RESULTS_ENV, OutsideBandError, ThroughputCallback
from utils.training import train_and_record


@pytest.fixture
def results(tmp_path, monkeypatch):
    """Records go to a temporary folder; the band check runs in the smoke profile."""
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    monkeypatch.setenv(PROFILE_ENV, "smoke")
    return tmp_path


def _data(n, seed):
    """(x (n, 4, 4, 1) float32, y (n,) int): class 1 images are bright, class 0 ones dark."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0.0, 0.1, (n, 4, 4, 1)) + 2.0 * y[:, None, None, None] - 1.0
    return x.astype("float32"), y


def _model(heads=None):
    """(N, 4, 4, 1) -> probabilities (N, 2), or {head: probabilities} for each of `heads`."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Flatten()(inputs)
    if heads is None:
        outputs = keras.layers.Dense(2, activation="softmax")(x)
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        outputs = {h: keras.layers.Dense(2, activation="softmax", name=h)(x) for h in heads}
        loss = {h: "sparse_categorical_crossentropy" for h in heads}
        metrics = {h: "accuracy" for h in heads}
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss=loss, metrics=metrics)
    return model


SPLITS = {"train": _data(64, 0), "val": _data(16, 1)}
TEST = _data(32, 2)


def test_fits_evaluates_checks_and_records(results, capsys):
    model = _model()
    run = train_and_record(
        model,
        TEST,
        **SPLITS,
        epochs=3,
        batch_size=16,
        unit="99_tiny",
        name="tiny (4x4)",
        band=0.9,
        causes="a broken helper",
        params=int(model.count_params()),
        profile="smoke",
    )
    out = capsys.readouterr().out
    assert "training speed:" in out and "images/s" in out
    assert "tiny (4x4) test accuracy:" in out and "within the expected band 0.900" in out
    assert "recorded in 99_tiny.json" in out
    assert len(run.history.history["val_accuracy"]) == 3
    assert run.test_accuracy >= 0.9 and run.images_per_second > 0
    saved = json.loads((results / "99_tiny.json").read_text())
    assert saved == {
        "name": "99_tiny",
        "model": "tiny (4x4)",
        "params": 34,  # 16 inputs x 2 classes + 2 biases
        "profile": "smoke",
        "accuracy": run.test_accuracy,
        "images_per_second": run.images_per_second,
    }
    assert run.path == results / "99_tiny.json"


def test_a_fit_made_in_the_notebook_is_not_repeated(results, capsys):
    model = _model()
    x, y = SPLITS["train"]
    throughput = ThroughputCallback(len(x))
    history = model.fit(x, y, epochs=2, batch_size=16, callbacks=[throughput], verbose=0)
    weights = [w.copy() for w in model.get_weights()]
    run = train_and_record(
        model,
        TEST,
        history=history,
        throughput=throughput,
        unit="99_tiny",
        name="tiny",
        band=0.5,
        causes="",
        band_name="tiny, trained in the notebook",
    )
    out = capsys.readouterr().out
    assert "training speed" not in out and "tiny, trained in the notebook:" in out
    assert run.history is history and run.images_per_second == throughput.steady
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))


def test_several_outputs_get_the_same_labels(results, capsys):
    run = train_and_record(
        _model(heads=("main", "aux")),
        TEST,
        **SPLITS,
        epochs=2,
        batch_size=16,
        unit="99_heads",
        name="two heads",
        band=0.5,
        causes="",
        accuracy="main_accuracy",
    )
    out = capsys.readouterr().out
    assert "main  head test accuracy:" in out and "aux   head test accuracy:" in out
    assert run.test_accuracy == pytest.approx(run.scores["main_accuracy"])
    assert {"main_loss", "aux_loss", "aux_accuracy"} <= set(run.scores)


def test_outside_the_band_raises_with_the_causes_and_records_nothing(results):
    with pytest.raises(OutsideBandError, match="too few epochs"):
        train_and_record(
            _model(),
            TEST,
            **SPLITS,
            epochs=1,
            batch_size=16,
            unit="99_tiny",
            name="tiny",
            band=1.01,
            causes="too few epochs",
        )
    assert not (results / "99_tiny.json").exists()


def test_needs_either_the_data_to_fit_or_a_fit(results):
    with pytest.raises(ValueError, match="history and throughput"):
        train_and_record(_model(), TEST, unit="u", name="n", band=0.0, causes="", epochs=1)
    with pytest.raises(ValueError, match="ThroughputCallback"):
        train_and_record(_model(), TEST, unit="u", name="n", band=0.0, causes="", history={})
