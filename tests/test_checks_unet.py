"""Tests of utils.checks.unet (right answers pass, typical wrong ones fail), of the lecture's
measures in utils.measure.segmentation, and of what lecture 13 and lab 13 share."""

import ast
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from utils.checks.core import CheckFailed
from utils.checks.unet import check_dice, check_iou, check_unet
from utils.measure.bands import OutsideBandError
from utils.measure.segmentation import (
    check_iou_bands,
    confusion_matrix,
    iou_per_class,
    mean_over_present,
    per_image_iou,
    pooled_iou,
)
from utils.measure.tables import unet_param_count

ROOT = Path(__file__).resolve().parents[1]


def _block(x, f, bn=True, momentum=0.9, bias=False, relu=True):
    """Two 3x3 convs: Conv (no bias) -> BN -> ReLU each, or the lecture's Conv(relu) if not bn."""
    for _ in range(2):
        if bn:
            x = keras.layers.Conv2D(f, 3, padding="same", use_bias=bias)(x)
            x = keras.layers.BatchNormalization(momentum=momentum)(x)
            x = keras.layers.ReLU()(x) if relu else x
        else:
            x = keras.layers.Conv2D(f, 3, padding="same", activation="relu" if relu else None)(x)
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
    skip_from="level",
    **block,
):
    """skip_from: "level" (the level's output, right), "input" (the level's input), "pooled"
    (after pooling: caught by the sizes), "after-blocks" (concatenated after the way up's
    blocks)."""
    inputs = keras.Input(input_shape)
    x, skips = inputs, []
    for i in range(depth):
        level_input = x
        x = _block(x, base_filters * 2**i, **block)
        skips.append(level_input if skip_from == "input" else x)
        x = keras.layers.MaxPooling2D()(x)
        if skip_from == "pooled":
            skips[-1] = x
    x = _block(x, base_filters * 2**depth, **block)
    for i in reversed(range(depth)):
        if up == "transpose":
            x = keras.layers.Conv2DTranspose(base_filters * 2**i, 2, strides=2)(x)
        else:
            x = keras.layers.UpSampling2D()(x)
        if skip_from == "after-blocks":
            x = _block(x, base_filters * 2**i, **block)
        x = (
            keras.layers.Concatenate()([x, skips[i]])
            if concat
            else keras.layers.Add()([x, skips[i]])
        )
        if skip_from != "after-blocks":
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
    if not (a.any() or b.any()):
        return 1.0
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
        {"head": "sigmoid"},  # a wrong output activation
        {"bn": False},  # the lecture's blocks: no BatchNormalization where the lab asks for it
        {"relu": False},  # missing activations
        {"bn": False, "relu": False},
        {"bias": True},
        {"momentum": 0.99},
        {"skip_from": "input"},  # skip concatenated in the wrong place
        {"skip_from": "pooled"},
        {"skip_from": "after-blocks"},
    ],
)
def test_wrong_unets_fail(kwargs):
    """The typical broken U-Nets fail the structure check (the band is a second line: the
    report of issue 16 lists which broken networks a smoke training would also reject)."""
    with pytest.raises(Exception) as err:  # noqa: PT011 - which kind is asserted below
        check_unet(lambda *a: good_unet(*a, **kwargs))
    # rejected by the check, or by Keras (sizes that cannot meet) with the course's hint
    notes = getattr(err.value, "__notes__", [])
    assert isinstance(err.value, CheckFailed) or any(n.startswith("hint:") for n in notes)


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


def test_dice_of_two_empty_masks_is_one():
    """Lab 13 specifies Dice 1.0 for two empty masks: the check accepts it and rejects NaN or
    0.0 there, and the check's own empty cases run only with `empty_masks=True`."""
    empty = np.zeros((3, 4), int)
    assert good_dice(empty, empty) == 1.0
    check_dice(good_dice, empty_masks=True)

    def nan_when_empty(t, p):
        a, b = np.asarray(t, bool), np.asarray(p, bool)
        with np.errstate(invalid="ignore"):
            return float(2 * np.sum(a & b) / (a.sum() + b.sum()))

    def zero_when_empty(t, p):
        value = nan_when_empty(t, p)
        return 0.0 if np.isnan(value) else value

    for wrong in (nan_when_empty, zero_when_empty):
        check_dice(wrong)  # the plain check has no empty pair
        with pytest.raises(CheckFailed, match="two empty masks"):
            check_dice(wrong, empty_masks=True)


def test_answers_that_call_the_references_fail():
    """The lecture's measures and keras.metrics are this check's references, not answers."""

    def delegated_iou(t, p, n):
        return pooled_iou(t, p, n)

    def delegated_dice(t, p):
        iou = iou_per_class(confusion_matrix(np.asarray(t, int), np.asarray(p, int), 2))[1]
        return 1.0 if np.isnan(iou) else 2 * iou / (1 + iou)

    def keras_iou(t, p, n):
        metric = keras.metrics.MeanIoU(num_classes=n)
        metric.update_state(np.ravel(t), np.ravel(p))
        return good_iou(t, p, n)[0], float(metric.result())

    for check, fn in (
        (check_iou, delegated_iou),
        (check_dice, delegated_dice),
        (check_iou, keras_iou),
    ):
        with pytest.raises(CheckFailed, match="own NumPy code"):
            check(fn)


# --- utils.measure.segmentation: the lecture's measures ----------------------------------------


def test_confusion_matrix_and_iou_on_the_lecture_example():
    t = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1]])
    p = np.array([[0, 1, 1, 1], [0, 0, 1, 1], [1, 1, 1, 0]])
    cm = confusion_matrix(t, p, 3)
    np.testing.assert_array_equal(cm, [[3, 1, 0], [1, 7, 0], [0, 0, 0]])
    per = iou_per_class(cm)
    np.testing.assert_allclose(per[:2], [3 / 5, 7 / 9])
    assert np.isnan(per[2])  # absent from both: no IoU
    assert mean_over_present(per) == pytest.approx((3 / 5 + 7 / 9) / 2)


def test_absent_class_rule_matches_keras_mean_iou():
    """Absent from both: excluded from the mean; absent from the truth but predicted: IoU 0,
    counted. keras.metrics.MeanIoU is the independent reference."""
    rng = np.random.default_rng(3)
    for trial in range(20):
        n = int(rng.integers(3, 6))
        t = rng.integers(0, n - 1, size=(4, 6, 6))  # class n-1 never true
        p = np.where(rng.uniform(size=t.shape) < 0.7, t, rng.integers(0, n, size=t.shape))
        if trial % 2:
            p[p == n - 1] = 0  # ... and, every other trial, never predicted either
        per, mean = pooled_iou(t, p, n)
        metric = keras.metrics.MeanIoU(num_classes=n)
        metric.update_state(t.ravel(), p.ravel())
        assert mean == pytest.approx(float(metric.result()), abs=1e-6)
        assert np.isnan(per[n - 1]) == bool(trial % 2)
        if not trial % 2 and (p == n - 1).any():
            assert per[n - 1] == 0.0


def test_pooled_and_per_image_iou_differ_as_defined():
    """Image 0: a large object found exactly; image 1: a small object missed entirely.
    Pooled IoU weighs pixels (the large object dominates), per-image IoU weighs images."""
    t = np.zeros((2, 10, 10), int)
    t[0, :, :5] = 1  # 50 object pixels
    t[1, 0, 0] = 1  # 1 object pixel
    p = t.copy()
    p[1, 0, 0] = 0  # missed
    per, mean = pooled_iou(t, p, 2)
    np.testing.assert_allclose(per, [149 / 150, 50 / 51])
    table, per_image_mean = per_image_iou(t, p, 2)
    np.testing.assert_allclose(table, [[1.0, 1.0], [99 / 100, 0.0]])
    assert per_image_mean == pytest.approx((1.0 + 99 / 200) / 2)
    assert per_image_mean < mean


def test_per_image_iou_leaves_out_a_class_absent_from_both_in_that_image():
    t = np.array([[[0, 0], [1, 1]], [[0, 0], [0, 0]]])
    table, mean = per_image_iou(t, t.copy(), 2)
    assert np.isnan(table[1, 1]) and mean == 1.0


def test_iou_bands_check_every_class_and_fail_in_smoke_only(capsys):
    names = ("shape", "background", "border")
    lows = {"shape": 0.6, "background": 0.6, "border": 0.6, "mean": 0.5}
    check_iou_bands([0.9, 0.95, 0.8], 0.88, lows, names, profile="smoke")
    # a good mean hides one failed class: the smoke run must stop, after printing every value
    with pytest.raises(OutsideBandError, match="IoU shape"):
        check_iou_bands([0.02, 0.95, 0.9], 0.62, lows, names, profile="smoke")
    out = capsys.readouterr().out
    assert out.count("IoU shape") == 2 and "IoU border: 0.9000" in out and "mean IoU" in out
    # full: the bands are estimates; outside warns, never raises
    check_iou_bands([0.02, 0.95, 0.9], 0.62, lows, names, profile="full")
    assert "WARNING" in capsys.readouterr().out
    with pytest.raises(ValueError, match="no band"):
        check_iou_bands([0.9, 0.9, 0.9], 0.9, {"shape": 0.5}, names, profile="smoke")


# --- lecture 13 and lab 13 ---------------------------------------------------------------------


def _cells(path: str) -> list[str]:
    cells = json.loads((ROOT / path).read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _parameters(path: str) -> dict:
    cell = next(c for c in _cells(path) if c.startswith('PROFILE = "full"'))
    names: dict = {}
    exec(cell, names)  # noqa: S102 - the course's own parameters cell
    return names


def test_lecture_and_lab_train_with_one_recipe():
    """Same data, depth, epochs, batch size and learning rate in both profiles; bands for
    every class and the mean."""
    lecture, lab = _parameters("notebooks/13_unet.ipynb"), _parameters("solutions/13_unet.ipynb")
    assert lecture["SIZES"] == lab["SIZES"]
    assert lecture["LEARNING_RATE"] == lab["LEARNING_RATE"]
    for params in (lecture, lab):
        assert params["BANDS"]["smoke"].keys() == {"shape", "background", "border", "mean"}
        assert params["BANDS"]["full"].keys() == {"pet", "background", "border", "mean"}


@pytest.mark.parametrize("path", ["notebooks/13_unet.ipynb", "solutions/13_unet.ipynb"])
def test_the_seed_is_set_right_before_the_trained_model_is_built(path):
    """Whatever ran before (the lab's checks build models too), the trained network draws the
    same weights: `keras.utils.set_random_seed(SEED)` comes right before its first layer."""
    cell = next(c for c in _cells(path) if "set_random_seed(SEED)" in c)
    body = ast.parse(cell).body
    first = next(i for i, s in enumerate(body) if "set_random_seed" in ast.unparse(s))
    builds = [
        i
        for i, s in enumerate(body)
        if "keras.Input(" in ast.unparse(s) or "call(unet" in ast.unparse(s)
    ]
    assert builds and min(i for i in builds if i > first) - first <= 2


def test_stubs_say_where_to_write():
    def stub(*args):
        raise NotImplementedError()

    for check in (check_unet, check_iou, check_dice):
        with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
            check(stub)
