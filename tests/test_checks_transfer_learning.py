"""Tests of utils.checks.transfer_learning: right answers pass, typical wrong ones fail."""

import keras
import numpy as np
import pytest

from utils.checks.core import CheckFailed
from utils.checks.transfer_learning import (
    check_fine_tuning,
    check_preprocessing,
    check_transfer_model,
    train_from_scratch,
)
from utils.networks.backbones import batchnorm_statistics, course_backbone

MEANS_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def good_preprocess(x, family):
    x = np.asarray(x, dtype=np.float32)
    if family == "mobilenet_v2":
        return x / 127.5 - 1.0
    if family == "resnet50":
        return x[..., ::-1] - MEANS_BGR
    return x.copy()


def build(backbone, n_classes, hidden=64, dropout=0.2, *, freeze=True, mlp=True):
    backbone.trainable = not freeze
    inputs = keras.Input(backbone.input_shape[1:])
    x = keras.layers.GlobalAveragePooling2D()(backbone(inputs, training=False))
    if mlp:
        x = keras.layers.Dropout(dropout)(x)
        x = keras.layers.Dropout(dropout)(keras.layers.Dense(hidden, activation="relu")(x))
    return keras.Model(inputs, keras.layers.Dense(n_classes, activation="softmax")(x))


def _block(name):
    return name.split("_")[0]


def prepare(model, backbone, n_top, learning_rate, *, freeze_bn=True, recompile=True):
    backbone.trainable = True
    top = list(dict.fromkeys(_block(layer.name) for layer in backbone.layers))[-n_top:]
    for layer in backbone.layers:
        layer.trainable = _block(layer.name) in top
        if freeze_bn and isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    if recompile:
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy"
        )


def test_correct_answers_pass(capsys):
    check_preprocessing(good_preprocess, seed=1)
    check_transfer_model(build, seed=1)
    check_fine_tuning(prepare, build, seed=1)
    assert capsys.readouterr().out.count("PASSED") == 3


def test_preprocessing_mistakes_fail():
    def wrong_family(x, family):  # [-1, 1] for everyone
        return np.asarray(x, np.float32) / 127.5 - 1.0

    def rgb_means(x, family):  # forgot the channel flip
        return good_preprocess(x, family) if family != "resnet50" else x - MEANS_BGR

    def in_place(x, family):
        out = good_preprocess(x, family)
        x[...] = 0  # the caller's images are destroyed
        return out

    with pytest.raises(CheckFailed, match="mobilenet_v2's"):
        check_preprocessing(wrong_family)
    with pytest.raises(CheckFailed, match="resnet50"):
        check_preprocessing(rgb_means)
    with pytest.raises(CheckFailed, match="in place"):
        check_preprocessing(in_place)


def test_the_lectures_one_layer_head_fails():
    with pytest.raises(CheckFailed, match="after the backbone"):
        check_transfer_model(lambda b, n, **kw: build(b, n, mlp=False))


def test_hidden_and_dropout_are_used():
    with pytest.raises(CheckFailed, match="Dropout rate"):
        check_transfer_model(lambda b, n, hidden=64, dropout=0.2: build(b, n, hidden))


def test_unfrozen_backbone_fails():
    with pytest.raises(CheckFailed, match="backbone.trainable"):
        check_transfer_model(lambda b, n, **kw: build(b, n, **kw, freeze=False))


def test_new_backbone_fails():
    with pytest.raises(CheckFailed, match="backbone you were given"):
        check_transfer_model(lambda b, n, **kw: build(course_backbone(b.input_shape[1:]), n, **kw))


def test_batchnorm_updating_during_fine_tuning_fails():
    with pytest.raises(CheckFailed, match="BatchNorm"):
        check_fine_tuning(lambda *a: prepare(*a, freeze_bn=False), build)


def test_not_recompiled_fails():
    def no_recompile(model, backbone, n_top, lr):
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        prepare(model, backbone, n_top, lr, recompile=False)

    with pytest.raises(CheckFailed, match="learning_rate"):
        check_fine_tuning(no_recompile, build)


def test_whole_backbone_unfrozen_fails():
    with pytest.raises(CheckFailed, match="trainable"):
        check_fine_tuning(lambda m, b, n, lr: prepare(m, b, len(b.layers), lr), build)


def test_last_n_layers_instead_of_blocks_fails():
    def by_layers(model, backbone, n_top, learning_rate):
        backbone.trainable = True
        for i, layer in enumerate(backbone.layers):
            layer.trainable = i >= len(backbone.layers) - n_top and not isinstance(
                layer, keras.layers.BatchNormalization
            )
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")

    with pytest.raises(CheckFailed, match="blocks, not layers"):
        check_fine_tuning(by_layers, build)


def test_the_baseline_trains_the_whole_network_with_the_recipe():
    """`train_from_scratch` unfreezes the backbone `build` froze and trains the given epochs."""
    built = []

    def recording(backbone, n_classes, **kw):
        built.append(backbone)
        return build(backbone, n_classes, **kw)

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (24, 16, 16, 3)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    recipe = {"fe_lr": 1e-2, "fe_epochs": 1, "ft_epochs": 1, "batch_size": 8}
    keras.utils.set_random_seed(0)
    acc = train_from_scratch(recording, "smoke", (x, y), (x, y), 3, recipe)
    (backbone,) = built
    assert backbone.trainable and backbone.name == "scratch_backbone"
    assert 0.0 <= acc <= 1.0
    # the backbone trained too: its BatchNorm moving means left their initial zeros
    assert any(np.abs(s).max() > 0 for s in batchnorm_statistics(backbone)[::2])


def test_stub_says_where_to_write():
    def stub(*args):
        raise NotImplementedError()

    for check in (check_preprocessing, check_transfer_model):
        with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
            check(stub)
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        check_fine_tuning(stub, build)


def test_training_false_alone_does_not_stop_batchnorm_in_keras3():
    """What the lecture measures: an unfrozen backbone's BatchNorm statistics move in `fit`."""
    backbone = course_backbone((16, 16, 1))
    model = build(backbone, 3, freeze=False)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = batchnorm_statistics(model)
    model.fit(np.full((8, 16, 16, 1), 5.0, np.float32), np.zeros(8), verbose=0)
    moved = any(
        not np.array_equal(a, b) for a, b in zip(before, batchnorm_statistics(model), strict=True)
    )
    assert moved == (keras.__version__ >= "3")
