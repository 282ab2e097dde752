"""Unit 14 (transfer learning): typical wrong answers and correct variants."""

from __future__ import annotations

import keras
import numpy as np

from mistakes import Exercise
from utils.checks import transfer_learning

MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def preprocess_table(x, family):
    """Correct, written differently: a table of (scale, offset, channel order)."""
    x = np.array(x, dtype=np.float32)  # a copy: the input stays as it was
    if family == "resnet50":
        return np.flip(x, axis=-1) - MEAN_BGR
    scale, offset = {"mobilenet_v2": (2 / 255, -1.0), "efficientnet": (1.0, 0.0)}[family]
    return x * scale + offset


def _pre(mobilenet="ok", resnet="ok", in_place=False):
    def preprocess(x, family):
        x = x if in_place else np.asarray(x, dtype=np.float32)
        if family == "mobilenet_v2":
            return x / 255.0 if mobilenet == "0-1" else x / 127.5 - 1.0
        if family == "resnet50":
            if resnet == "rgb":
                return x - MEAN_BGR[::-1]
            if resnet == "no-flip":
                return x - MEAN_BGR
            return x[..., ::-1] - MEAN_BGR
        if in_place:
            x[...] = x  # noqa: PLW0127 - the uint8 input returned as it is
            x -= 0
            x[0, 0, 0, 0] = 0
            return x.astype(np.float32)
        return x.copy()

    return preprocess


def build_functional(backbone, n_classes):
    """Correct, written differently: freeze the layers one by one, head as Sequential layers."""
    for layer in backbone.layers:
        layer.trainable = False
    backbone.trainable = False
    inputs = keras.Input(backbone.input_shape[1:])
    x = backbone(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(n_classes, activation="softmax")(x))


def _build(freeze=True, pool=True, softmax=True):
    def build(backbone, n_classes):
        backbone.trainable = not freeze
        inputs = keras.Input(backbone.input_shape[1:])
        x = backbone(inputs, training=False)
        x = keras.layers.GlobalAveragePooling2D()(x) if pool else x
        act = "softmax" if softmax else None
        return keras.Model(inputs, keras.layers.Dense(n_classes, activation=act)(x))

    return build


def prepare_by_slices(model, backbone, n_top, learning_rate):
    """Correct, written differently: slices of the layer list, Adam by keyword."""
    backbone.trainable = True
    for layer in backbone.layers[:-n_top]:
        layer.trainable = False
    for layer in backbone.layers[-n_top:]:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
    )


def _prepare(bn_trainable=False, all_layers=False, no_recompile=False, lr_factor=1.0):
    def prepare(model, backbone, n_top, learning_rate):
        backbone.trainable = True
        first = 0 if all_layers else len(backbone.layers) - n_top
        for i, layer in enumerate(backbone.layers):
            is_bn = isinstance(layer, keras.layers.BatchNormalization)
            layer.trainable = i >= first and (bn_trainable or not is_bn)
        if not no_recompile:
            model.compile(
                optimizer=keras.optimizers.Adam(learning_rate * lr_factor),
                loss="sparse_categorical_crossentropy",
            )

    return prepare


EXERCISES = {
    "check_preprocessing": Exercise(
        run=transfer_learning.check_preprocessing,
        wrong={
            "mobilenet-scaled-to-0-1": (_pre(mobilenet="0-1"), r"expected|mobilenet"),
            "resnet-without-bgr-flip": (_pre(resnet="no-flip"), r"BGR|channel|order|expected"),
            "changes-the-input": (_pre(in_place=True), r"input|changed|copy"),
        },
        right={"scale-offset-table": preprocess_table},
    ),
    "check_transfer_model": Exercise(
        run=transfer_learning.check_transfer_model,
        wrong={
            "backbone-not-frozen": (_build(freeze=False), r"trainable|frozen"),
            "no-softmax": (_build(softmax=False), r"probabilities|softmax"),
            "no-pooling-before-dense": (_build(pool=False), r"shape|n_classes"),
        },
        right={"freeze-layer-by-layer": build_functional},
    ),
    "check_fine_tuning": Exercise(
        run=lambda prepare: transfer_learning.check_fine_tuning(prepare, _build()),
        wrong={
            "batch-norm-unfrozen": (_prepare(bn_trainable=True), r"BatchNormalization"),
            "whole-backbone-unfrozen": (_prepare(all_layers=True), r"last n_top layers"),
            "not-recompiled": (_prepare(no_recompile=True), r"compile"),
            "learning-rate-not-used": (_prepare(lr_factor=10.0), r"learning.rate"),
        },
        right={"slices": prepare_by_slices},
    ),
}
