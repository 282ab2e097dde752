"""Unit 13 (U-Net): typical wrong answers and correct variants."""

from __future__ import annotations

import keras
import numpy as np

from mistakes import Exercise
from utils.checks import unet

L = keras.layers


def _unet(
    bn="conv-bn-relu",
    act="relu",
    final="softmax",
    skip=True,
    order="x-skip",
    pad="same",
    bias=False,
    momentum=0.9,
    skip_from="level-output",
):
    """A U-Net; the defaults give the exercise's (Conv -> BN -> ReLU blocks), each argument one
    way of getting it wrong. bn: "conv-bn-relu", "none" (the lecture's blocks),
    "conv-relu-bn" (the ReLU inside the Conv2D), "conv-relulayer-bn" (BN after a ReLU layer).
    skip_from: "level-output" (right), "first-conv" (the skip taken between the level's two
    blocks), "after-blocks" (on the way up: the two blocks first, then the concatenation)."""

    def conv(x, f):
        if bn == "none":
            return L.Conv2D(f, 3, padding=pad, activation=act)(x)
        if bn == "conv-relu-bn":
            x = L.Conv2D(f, 3, padding=pad, use_bias=bias, activation=act)(x)
            return L.BatchNormalization(momentum=momentum)(x)
        x = L.Conv2D(f, 3, padding=pad, use_bias=bias)(x)
        if bn == "conv-relulayer-bn":
            return L.BatchNormalization(momentum=momentum)(L.Activation(act)(x))
        x = L.BatchNormalization(momentum=momentum)(x)
        return L.Activation(act)(x) if act else x

    def unet(input_shape, n_classes, base_filters, depth):
        def block(x, f):
            return conv(conv(x, f), f)

        def concat(x, s):
            return L.Concatenate()([x, s] if order == "x-skip" else [s, x])

        inputs = keras.Input(input_shape)
        x, skips = inputs, []
        for i in range(depth):
            first = conv(x, base_filters * 2**i)
            x = conv(first, base_filters * 2**i)
            skips.append(first if skip_from == "first-conv" else x)
            x = L.MaxPooling2D()(x)
        x = block(x, base_filters * 2**depth)
        for i in reversed(range(depth)):
            x = L.Conv2DTranspose(base_filters * 2**i, 2, strides=2)(x)
            if skip_from == "after-blocks":
                x = concat(block(x, base_filters * 2**i), skips[i])
                continue
            if skip:
                x = concat(x, skips[i])
            x = block(x, base_filters * 2**i)
        return keras.Model(inputs, L.Conv2D(n_classes, 1, activation=final)(x))

    return unet


def unet_softmax_layer(input_shape, n_classes, base_filters, depth):
    """Correct, written differently: ReLU as a layer, the skip first in the concatenation, and
    the softmax as a layer of its own after a linear 1x1 convolution."""
    model = _unet(order="skip-x", final=None)(input_shape, n_classes, base_filters, depth)
    return keras.Model(model.input, L.Softmax()(model.output))


def unet_recursive(input_shape, n_classes, base_filters, depth):
    """Correct, written differently: one level calls the next, ReLU as a layer."""

    def conv_bn_relu(x, f):
        x = L.Conv2D(f, (3, 3), padding="same", use_bias=False)(x)
        return L.ReLU()(L.BatchNormalization(momentum=0.9)(x))

    def level(x, f, below):
        x = conv_bn_relu(conv_bn_relu(x, f), f)
        if below == 0:
            return x
        up = L.Conv2DTranspose(f, 2, strides=2)(level(L.MaxPooling2D()(x), 2 * f, below - 1))
        y = L.Concatenate(axis=-1)([up, x])
        return conv_bn_relu(conv_bn_relu(y, f), f)

    inputs = keras.Input(input_shape)
    return keras.Model(
        inputs, L.Conv2D(n_classes, 1, activation="softmax")(level(inputs, base_filters, depth))
    )


def iou_confusion(y_true, y_pred, n_classes):
    """Correct, written differently: a confusion matrix by bincount."""
    cm = np.bincount(
        n_classes * np.ravel(y_true) + np.ravel(y_pred), minlength=n_classes**2
    ).reshape(n_classes, n_classes)
    inter = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(union > 0, inter / union, np.nan)
    return per, float(np.nanmean(per))


def _iou_plain_mean(y_true, y_pred, n):
    per, _ = iou_confusion(y_true, y_pred, n)
    return per, float(np.mean(np.nan_to_num(per)))


def _iou_zero_for_absent(y_true, y_pred, n):
    per, _ = iou_confusion(y_true, y_pred, n)
    per = np.nan_to_num(per)
    return per, float(per.mean())


def _iou_over_true(y_true, y_pred, n):
    per = np.full(n, np.nan)
    for c in range(n):
        t, p = np.ravel(y_true) == c, np.ravel(y_pred) == c
        if (t | p).any():
            per[c] = (t & p).sum() / max(t.sum(), 1)
    return per, float(np.nanmean(per))


def _iou_pixel_accuracy(y_true, y_pred, n):
    per, _ = iou_confusion(y_true, y_pred, n)
    return per, float(np.mean(np.ravel(y_true) == np.ravel(y_pred)))


def _iou_from_the_lecture(y_true, y_pred, n):
    from utils.measure.segmentation import pooled_iou

    return pooled_iou(y_true, y_pred, n)


def _iou_keras(y_true, y_pred, n):
    per = np.full(n, np.nan)
    for c in range(n):
        if np.any(np.ravel(y_true) == c) or np.any(np.ravel(y_pred) == c):
            metric = keras.metrics.IoU(num_classes=n, target_class_ids=[c])
            metric.update_state(np.ravel(y_true), np.ravel(y_pred))
            per[c] = float(metric.result())
    return per, float(np.nanmean(per))


def dice_guarded(y_true, y_pred):
    """Correct, written differently: from IoU, with two empty masks giving 1.0."""
    a, b = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    union = (a | b).sum()
    if union == 0:
        return 1.0
    iou = (a & b).sum() / union
    return float(2 * iou / (1 + iou))


def _dice_unguarded(y_true, y_pred):
    a, b = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    with np.errstate(invalid="ignore"):
        return float(2 * (a & b).sum() / (a.sum() + b.sum()))


def _dice_from_the_lecture(y_true, y_pred):
    from utils.measure.segmentation import confusion_matrix, iou_per_class

    iou = iou_per_class(confusion_matrix(np.asarray(y_true, int), np.asarray(y_pred, int), 2))[1]
    return 1.0 if np.isnan(iou) else float(2 * iou / (1 + iou))


def _dice_is_iou(y_true, y_pred):
    a, b = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    return float((a & b).sum() / max((a | b).sum(), 1))


def _dice_no_factor(y_true, y_pred):
    a, b = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    return float((a & b).sum() / max(a.sum() + b.sum(), 1))


EXERCISES = {
    "check_unet": Exercise(
        run=unet.check_unet,
        wrong={
            "lecture-blocks-no-batch-norm": (_unet(bn="none"), r"BatchNormalization"),
            "relu-inside-conv-before-bn": (_unet(bn="conv-relu-bn"), r"ReLU comes after"),
            "bn-after-relu-layer": (_unet(bn="conv-relulayer-bn"), r"-> Activation.*own Batch"),
            "conv-keeps-its-bias": (_unet(bias=True), r"use_bias=False.*cancels a bias"),
            "default-momentum": (_unet(momentum=0.99), r"momentum=0.99.*too slow"),
            "no-relu": (_unet(act=None), r"BatchNormalization\) -> ReLU.*nonlinearity"),
            "no-softmax": (_unet(final=None), r"probabilities|softmax"),
            "no-skips": (_unet(skip=False), r"Concatenate"),
            "valid-padding": (_unet(pad="valid"), r"hint: the tensors reaching Concatenate"),
            "sigmoid-head": (_unet(final="sigmoid"), r"summing to 1.*softmax"),
            "skip-taken-after-first-conv": (
                _unet(skip_from="first-conv"),
                r"none of which goes into a MaxPooling2D.*after both blocks",
            ),
            "concatenated-after-the-blocks": (
                _unet(skip_from="after-blocks"),
                r"fed by a Conv2DTranspose and a skip.*right after the upsampling",
            ),
        },
        right={
            "skip-first-in-concat": _unet(order="skip-x"),
            "recursive": unet_recursive,
            "softmax-as-a-layer": unet_softmax_layer,
        },
    ),
    "check_iou": Exercise(
        run=unet.check_iou,
        wrong={
            "plain-mean-with-absent-as-0": (_iou_plain_mean, r"mean"),
            "absent-class-gets-0": (_iou_zero_for_absent, r"NaN"),
            "over-true-mask-only": (_iou_over_true, r"union"),
            "pixel-accuracy-as-mean": (_iou_pixel_accuracy, r"mean"),
            "calls-the-lecture-measure": (_iou_from_the_lecture, r"utils.measure.segmentation"),
            "calls-keras-iou": (_iou_keras, r"own NumPy code.*keras.metrics"),
        },
        right={"confusion-matrix": iou_confusion},
    ),
    "check_dice": Exercise(
        run=lambda fn: unet.check_dice(fn, empty_masks=True),
        wrong={
            "empty-masks-give-nan": (_dice_unguarded, r"two empty masks.*1.0"),
            "iou-not-dice": (_dice_is_iou, r"this is IoU"),
            "missing-factor-2": (_dice_no_factor, r"factor|times the expected|denominator"),
            "calls-the-lecture-measure": (_dice_from_the_lecture, r"utils.measure.segmentation"),
        },
        right={"from-iou-guarded": dice_guarded},
    ),
}
