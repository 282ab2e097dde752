"""Tests of utils.checks.unet: right answers pass, typical wrong ones fail."""

import keras
import numpy as np
import pytest

from utils.checks.core import CheckFailed
from utils.checks.unet import check_dice, check_iou, check_unet
from utils.measure.tables import unet_param_count


def _block(x, f, bn=True, momentum=0.9, bias=False):
    """Two 3x3 convs: Conv (no bias) -> BN -> ReLU each, or the lecture's Conv(relu) if not bn."""
    for _ in range(2):
        if bn:
            x = keras.layers.Conv2D(f, 3, padding="same", use_bias=bias)(x)
            x = keras.layers.BatchNormalization(momentum=momentum)(x)
            x = keras.layers.ReLU()(x)
        else:
            x = keras.layers.Conv2D(f, 3, padding="same", activation="relu")(x)
    return x


def good_unet(
    input_shape,
    n_classes,
    base_filters,
    depth,
    *,
    concat=True,
    up="transpose",
    head="softmax",
    **block,
):
    inputs = keras.Input(input_shape)
    x, skips = inputs, []
    for i in range(depth):
        x = _block(x, base_filters * 2**i, **block)
        skips.append(x)
        x = keras.layers.MaxPooling2D()(x)
    x = _block(x, base_filters * 2**depth, **block)
    for i in reversed(range(depth)):
        if up == "transpose":
            x = keras.layers.Conv2DTranspose(base_filters * 2**i, 2, strides=2)(x)
        else:
            x = keras.layers.UpSampling2D()(x)
        x = (
            keras.layers.Concatenate()([x, skips[i]])
            if concat
            else keras.layers.Add()([x, skips[i]])
        )
        x = _block(x, base_filters * 2**i, **block)
    return keras.Model(inputs, keras.layers.Conv2D(n_classes, 1, activation=head)(x))


def good_iou(y_true, y_pred, n_classes):
    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    out = []
    for c in range(n_classes):
        union = np.sum((y_true == c) | (y_pred == c))
        out.append(np.sum((y_true == c) & (y_pred == c)) / union if union else np.nan)
    return np.array(out), float(np.nanmean(out))


def good_dice(y_true, y_pred):
    a, b = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    return 2 * np.sum(a & b) / (a.sum() + b.sum())


@pytest.mark.parametrize("bn", [False, True])
def test_param_formula_matches_a_built_model(bn):
    for args in [((32, 32, 3), 3, 8, 2), ((16, 24, 1), 2, 4, 3)]:
        (h, w, c), n_classes, base, depth = args
        model = good_unet(*args, bn=bn)
        assert model.count_params() == unet_param_count(c, n_classes, base, depth, batch_norm=bn)


def test_correct_answers_pass(capsys):
    check_unet(good_unet, seed=1)
    check_iou(good_iou, seed=1)
    check_dice(good_dice, seed=1)
    assert capsys.readouterr().out.count("PASSED") == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"concat": False},
        {"up": "upsampling"},
        {"head": None},
        {"bn": False},  # the lecture's blocks
        {"bias": True},
        {"momentum": 0.99},
    ],
)
def test_wrong_unets_fail(kwargs):
    with pytest.raises(CheckFailed):
        check_unet(lambda *a: good_unet(*a, **kwargs))


def test_unet_without_return_fails():
    with pytest.raises(CheckFailed):
        check_unet(lambda *a: None)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda t, p, n: (
            good_iou(t, p, n)[0],
            float(np.nanmean(np.nan_to_num(good_iou(t, p, n)[0]))),
        ),  # absent = 0
        lambda t, p, n: (np.nan_to_num(good_iou(t, p, n)[0]), good_iou(t, p, n)[1]),  # no NaN
        lambda t, p, n: (
            np.array([np.sum((t == c) & (p == c)) / max(np.sum(t == c), 1) for c in range(n)]),
            0.5,
        ),  # recall, not IoU
    ],
)
def test_wrong_ious_fail(wrong):
    with pytest.raises(CheckFailed):
        check_iou(wrong)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda t, p: good_iou(np.asarray(t, int), np.asarray(p, int), 2)[0][1],  # IoU, not Dice
        lambda t, p: np.mean(np.asarray(t, bool) == np.asarray(p, bool)),  # pixel accuracy
    ],
)
def test_wrong_dice_fail(wrong):
    with pytest.raises(CheckFailed):
        check_dice(wrong)


def test_stubs_say_where_to_write():
    def stub(*args):
        raise NotImplementedError()

    for check in (check_unet, check_iou, check_dice):
        with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
            check(stub)
