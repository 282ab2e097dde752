"""Tests of utils.checks.transfer_learning: right answers pass, typical wrong ones fail."""

import keras
import numpy as np
import pytest

from utils.checks.core import CheckFailed
from utils.checks.transfer_learning import (
    check_fine_tuning,
    check_preprocessing,
    check_transfer_model,
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


def build(backbone, n_classes, *, freeze=True):
    backbone.trainable = not freeze
    inputs = keras.Input(backbone.input_shape[1:])
    x = keras.layers.GlobalAveragePooling2D()(backbone(inputs, training=False))
    return keras.Model(inputs, keras.layers.Dense(n_classes, activation="softmax")(x))


def prepare(model, backbone, n_top, learning_rate, *, freeze_bn=True, recompile=True):
    backbone.trainable = True
    n = len(backbone.layers)
    for i, layer in enumerate(backbone.layers):
        layer.trainable = i >= n - n_top
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


def test_unfrozen_backbone_fails():
    with pytest.raises(CheckFailed, match="backbone.trainable"):
        check_transfer_model(lambda b, n: build(b, n, freeze=False))


def test_new_backbone_fails():
    with pytest.raises(CheckFailed, match="backbone you were given"):
        check_transfer_model(lambda b, n: build(course_backbone(b.input_shape[1:]), n))


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
