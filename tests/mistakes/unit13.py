"""Unit 13 (U-Net): typical wrong answers and correct variants."""

from __future__ import annotations

import keras
import numpy as np

from mistakes import Exercise
from utils.checks import unet

L = keras.layers


def _unet(act="relu", final="softmax", skip=True, bn=False, order="x-skip", pad="same"):
    def unet(input_shape, n_classes, base_filters, depth):
        def block(x, f):
            for _ in range(2):
                x = L.Conv2D(f, 3, padding=pad, activation=None if bn else act)(x)
                if bn:
                    x = L.Activation(act)(L.BatchNormalization()(x))
            return x

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
            "no-relu": (_unet(act="linear"), r"nonlinearity"),
            "no-softmax": (_unet(final=None), r"probabilities|softmax"),
            "no-skips": (_unet(skip=False), r"Concatenate"),
            "batch-norm-added": (_unet(bn=True), r"parameters|BatchNormalization"),
            "valid-padding": (_unet(pad="valid"), r"hint: the tensors reaching Concatenate"),
        },
        right={"skip-first-in-concat": _unet(order="skip-x")},
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
