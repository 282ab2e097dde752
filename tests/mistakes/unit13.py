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
):
    """A U-Net; the defaults give the exercise's (Conv -> BN -> ReLU blocks), each argument one
    way of getting it wrong. bn: "conv-bn-relu", "none" (the lecture's blocks),
    "conv-relu-bn" (the ReLU inside the Conv2D), "conv-relulayer-bn" (BN after a ReLU layer)."""

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

        inputs = keras.Input(input_shape)
        x, skips = inputs, []
        for i in range(depth):
            x = block(x, base_filters * 2**i)
            skips.append(x)
            x = L.MaxPooling2D()(x)
        x = block(x, base_filters * 2**depth)
        for i in reversed(range(depth)):
            x = L.Conv2DTranspose(base_filters * 2**i, 2, strides=2)(x)
            if skip:
                x = L.Concatenate()([x, skips[i]] if order == "x-skip" else [skips[i], x])
            x = block(x, base_filters * 2**i)
        return keras.Model(inputs, L.Conv2D(n_classes, 1, activation=final)(x))

    return unet


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
        },
        right={"skip-first-in-concat": _unet(order="skip-x"), "recursive": unet_recursive},
    ),
    "check_iou": Exercise(
        run=unet.check_iou,
        wrong={
            "plain-mean-with-absent-as-0": (_iou_plain_mean, r"mean"),
            "absent-class-gets-0": (_iou_zero_for_absent, r"NaN"),
            "over-true-mask-only": (_iou_over_true, r"union"),
            "pixel-accuracy-as-mean": (_iou_pixel_accuracy, r"mean"),
        },
        right={"confusion-matrix": iou_confusion},
    ),
    "check_dice": Exercise(
        run=lambda fn: unet.check_dice(fn, empty_masks=True),
        wrong={
            "empty-masks-give-nan": (_dice_unguarded, r"two empty masks.*1.0"),
            "iou-not-dice": (_dice_is_iou, r"this is IoU"),
            "missing-factor-2": (_dice_no_factor, r"factor|times the expected|denominator"),
        },
        right={"from-iou-guarded": dice_guarded},
    ),
}
