"""The architecture units' shared reports: counts without weights, layer tables, graph depth."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from utils.measure import graph, speed, tables
from utils.measure.macs import count_macs


def _small_cnn():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(2, name="dense")(x)
    return keras.Model(inputs, outputs)


def test_human_counts():
    assert tables.human(138_357_544) == "138.36 M"
    assert tables.human(3_860_000_000, digits=1) == "3.9 G"
    assert tables.human(1_500) == "1.50 K"
    assert tables.human(12) == "12"


def test_models_built_without_weights_count_like_keras_applications():
    with tables.without_weights():
        vgg = keras.applications.VGG16(weights=None)
    assert vgg.count_params() == 138_357_544
    assert round(count_macs(vgg) / 1e9, 2) == 15.47
    with tables.without_weights():  # unit 11 counts it beside ResNet-50 this way
        b0 = keras.applications.EfficientNetB0(weights=None)
    assert b0.count_params() == 5_330_571 and count_macs(b0) == 385_814_752
    # the deferred initialisation is forgotten: an ordinary model afterwards gets real weights
    model = _small_cnn()
    assert np.abs(model.get_layer("conv").kernel.numpy()).sum() > 0


def test_layer_report_totals(capsys):
    model = _small_cnn()
    params, macs = tables.layer_report(model)
    assert params == model.count_params() == (3 * 3 * 3 * 4 + 4) + (8 * 8 * 4 * 2 + 2)
    assert macs == 8 * 8 * 3 * 3 * 3 * 4 + 8 * 8 * 4 * 2
    assert "conv" in capsys.readouterr().out


def test_compare_layers_counts_mismatches(capsys):
    assert tables.compare_layers(_small_cnn(), _small_cnn(), show=False) == 0
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(5, 3, padding="same")(inputs)
    other = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    assert tables.compare_layers(_small_cnn(), other) == 3  # conv, flatten, dense differ
    assert "DIFFERENT" in capsys.readouterr().out


def test_weight_depth_follows_the_longest_branch():
    inputs = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(4, 1)(inputs)
    b = keras.layers.Conv2D(4, 1)(keras.layers.Conv2D(4, 1)(keras.layers.MaxPooling2D(1)(inputs)))
    x = keras.layers.Add()([a, b])
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(x)))
    assert graph.weight_depth(model) == 3  # two convs + the dense layer
    assert graph.weight_depth(model, (keras.layers.Conv2D,)) == 2
    add = next(layer for layer in model.layers if isinstance(layer, keras.layers.Add))
    assert [type(p).__name__ for p in graph.parents(add)] == ["Conv2D", "Conv2D"]


@pytest.mark.parametrize("compiled", [True, False])
def test_training_throughput_is_a_positive_rate(compiled):
    rate = speed.measure_training_throughput(_small_cnn(), steps=2, compiled=compiled)
    assert np.isfinite(rate) and rate > 0


def test_throughput_callback_keeps_one_figure_per_epoch():
    model = _small_cnn()
    model.compile("sgd", "mse")
    callback = speed.ThroughputCallback(images_per_epoch=16)
    x, y = np.zeros((16, 8, 8, 3), "float32"), np.zeros((16, 2), "float32")
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[callback])
    assert len(callback.images_per_second) == 3
    assert callback.steady == max(callback.images_per_second[1:]) > 0
