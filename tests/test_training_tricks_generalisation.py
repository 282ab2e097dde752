"""utils.training.train_side_by_side: training models together is training them alone.

The unit 06 lecture trains many small models in one loop and says this gives the same result as
training each one on its own with the same mini-batches. Checked here on two tiny models (one
with an L2 penalty and batch normalisation, each with its own optimizer), a few steps each.
"""

from __future__ import annotations

import numpy as np

from utils.training import Run, train_side_by_side


def _model(name, seed, regularizer=None):
    import keras

    keras.utils.set_random_seed(seed)
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            layers.Conv2D(3, 3, activation="relu", kernel_regularizer=regularizer),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dense(4, activation="softmax"),
        ],
        name=name,
    )


def _optimizers():
    import keras

    return {"a": keras.optimizers.Adam(1e-2), "b": keras.optimizers.SGD(0.1, momentum=0.9)}


def test_side_by_side_equals_one_at_a_time():
    import keras

    rng = np.random.default_rng(0)
    data = rng.normal(size=(20, 6, 6, 2)).astype("float32"), rng.integers(0, 4, 20)

    def pair():
        return {"a": _model("a", 1), "b": _model("b", 2, keras.regularizers.L2(1e-2))}

    together, alone = pair(), pair()
    recipe = dict(epochs=2, batch_size=8, verbose=False, curves=True)
    runs = train_side_by_side(together, data, data, optimizer=_optimizers(), **recipe)
    opts = _optimizers()
    for name in ("a", "b"):
        run = train_side_by_side(
            {name: alone[name]}, data, data, optimizer={name: opts[name]}, **recipe
        )[name]
        for w_together, w_alone in zip(
            together[name].get_weights(), alone[name].get_weights(), strict=True
        ):
            np.testing.assert_allclose(w_together, w_alone, rtol=0, atol=1e-6)
        assert runs[name].history == run.history
        assert (runs[name].train_acc, runs[name].val_acc) == (run.train_acc, run.val_acc)
        assert isinstance(run, Run) and len(run.history["val_loss"]) == 2
        # each Run carries its trained model (the gap check reads the baseline's architecture)
        assert runs[name].model is together[name] and run.model is alone[name]
