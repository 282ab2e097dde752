"""Checks for unit 13 (U-Net segmentation): a U-Net builder with batch-normalised blocks, IoU
and Dice.

References: the built model's own layers, graph and shapes, a parameter count derived from the
architecture's description (not from code that builds it), keras.metrics.MeanIoU and
keras.metrics.IoU for IoU, and a NumPy confusion matrix (bincount) with the identity
Dice = 2 IoU / (1 + IoU) for Dice. Nothing here contains an exercise's answer.

`iou` and `dice` must be the learner's own: a call to the lecture's measures
(utils.measure.segmentation) or to keras.metrics' IoU while they run is rejected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import (
    as_array,
    call,
    calls_to,
    expect_array,
    fail,
    passed,
    rel_error,
    rounded_alike,
)
from utils.checks.references import reference
from utils.checks.structure import ACTIVATION_LAYERS, activation_name, check_nonlinear, children
from utils.measure.graph import parents
from utils.measure.tables import unet_param_count

#: The BatchNormalization momentum the exercise asks for (the lab trains for a few hundred steps).
BN_MOMENTUM = 0.9


def _kinds(layers) -> str:
    """'ReLU', 'Conv2D + Conv2D', or 'nothing' (the model's output)."""
    return " + ".join(type(ly).__name__ for ly in layers) or "nothing (the model's output)"


def _check_conv_bn_relu(model, convs3, name: str, case: str) -> None:
    """Each 3x3 convolution: no activation, no bias, then its own BatchNormalization (with the
    exercise's momentum), then a ReLU."""
    for conv in convs3:
        after, act = children(model, conv), activation_name(conv)
        where = f"`{conv.name}` (Conv2D 3x3)"
        if act:
            raise fail(
                name,
                case,
                f"{where} without an activation, followed by BatchNormalization, then ReLU",
                f"Conv2D(activation={act!r}) -> {_kinds(after)}",
                "batch normalisation standardises the convolution's raw output: the ReLU "
                "comes after BatchNormalization, not inside the Conv2D",
            )
        if len(after) != 1 or type(after[0]).__name__ != "BatchNormalization":
            raise fail(
                name,
                case,
                f"{where} -> BatchNormalization",
                f"{where} -> {_kinds(after)}",
                "every 3x3 convolution of the U-Net is followed by its own BatchNormalization, "
                "directly (Conv -> BN -> ReLU)",
            )
        bn, relu = after[0], children(model, after[0])
        if len(relu) != 1 or type(relu[0]).__name__ not in ACTIVATION_LAYERS:
            raise fail(
                name,
                case,
                f"`{bn.name}` (BatchNormalization) -> ReLU",
                f"`{bn.name}` -> {_kinds(relu)}",
                "without a nonlinearity, stacked layers collapse into one linear map: the "
                "ReLU comes right after each BatchNormalization",
            )
        if activation_name(relu[0]) != "relu":
            raise fail(
                name,
                case,
                f"`{bn.name}` (BatchNormalization) -> ReLU",
                f"`{bn.name}` -> {type(relu[0]).__name__} ({activation_name(relu[0])})",
                "the exercise asks for ReLU",
            )
        if conv.use_bias:
            raise fail(
                name,
                case,
                f"{where} with use_bias=False",
                "a convolution with a bias",
                "BatchNormalization subtracts each channel's mean, which cancels a bias, and "
                "adds its own shift (beta): the bias is a wasted parameter",
            )
        if abs(float(bn.momentum) - BN_MOMENTUM) > 1e-9:
            raise fail(
                name,
                case,
                f"`{bn.name}` with the momentum the exercise gives",
                f"momentum={float(bn.momentum):g}",
                "the moving statistics used at inference forget their start values "
                "(mean 0, variance 1) at the rate 1 - momentum per step: the default is too "
                "slow for the few hundred steps this lab trains",
            )


def _check_skips(model, concats, name: str, case: str) -> None:
    """Each Concatenate joins a Conv2DTranspose's output with a skip: the map that a level of
    the contracting path also passes to its MaxPooling2D (the level's output)."""
    import keras

    pooled = {
        id(p)
        for ly in model.layers
        if isinstance(ly, keras.layers.MaxPooling2D)
        for p in parents(ly)
    }
    for layer in concats:
        sources = parents(layer)
        kinds = _kinds(sources)
        if not any(isinstance(p, keras.layers.Conv2DTranspose) for p in sources):
            raise fail(
                name,
                case,
                f"`{layer.name}` (Concatenate) fed by a Conv2DTranspose and a skip",
                f"`{layer.name}` fed by {kinds}",
                "on the way up, concatenate right after the upsampling Conv2DTranspose, then "
                "apply the level's two blocks to the concatenated maps",
            )
        if len(sources) != 2 or not any(id(p) in pooled for p in sources):
            raise fail(
                name,
                case,
                f"`{layer.name}` (Concatenate) fed by a Conv2DTranspose and a skip",
                f"`{layer.name}` fed by {kinds}, none of which goes into a MaxPooling2D",
                "the skip of a level is its output after both blocks: the very map that "
                "level passes to MaxPooling2D",
            )


def check_unet(unet: Callable, seed: int = 0, n_cases: int = 3):
    """Check `unet(input_shape, n_classes, base_filters, depth) -> keras.Model`, a U-Net whose
    3x3 convolutions are Conv (no bias) -> BatchNormalization -> ReLU.

    Output (N, H, W, n_classes) per-pixel probabilities, `depth` Concatenate layers whose inputs
    share their spatial size and are a Conv2DTranspose's output and a skip (a map that also
    goes into a MaxPooling2D), Conv -> BN -> ReLU after every 3x3 convolution (read from the
    model's graph), and the parameter count of `unet_param_count(..., batch_norm=True)`.
    Returns the first model built.
    """
    import keras

    name = getattr(unet, "__name__", "unet")
    rng = np.random.default_rng(seed)
    cases = [((32, 32, 3), 3, 8, 2)]
    while len(cases) < n_cases:
        depth = int(rng.integers(1, 4))
        side = int(2**depth * rng.integers(2, 5))
        cases.append(
            (
                (side, side + 2**depth, int(rng.choice([1, 3]))),
                int(rng.integers(2, 5)),
                int(rng.choice([4, 8])),
                depth,
            )
        )
    first = None
    for shape, n_classes, base, depth in cases:
        case = f"input_shape={shape}, n_classes={n_classes}, base_filters={base}, depth={depth}"
        model = call(unet, shape, n_classes, base, depth, case=case)
        if not isinstance(model, keras.Model):
            raise fail(
                name, case, "a keras.Model", type(model).__name__, "did you forget `return`?"
            )
        x = rng.uniform(0, 1, size=(2, *shape)).astype("float32")
        y = expect_array(
            keras.ops.convert_to_numpy(model(x)),
            name=name,
            case=case,
            shape=(2, shape[0], shape[1], n_classes),
            what="an output",
            shape_hint="the output keeps the input's height and width, with n_classes channels",
        )
        if rel_error(y.sum(-1), np.ones(y.shape[:-1])) > 1e-4 or y.min() < 0:
            raise fail(
                name,
                case,
                "per-pixel probabilities summing to 1",
                f"sums in [{y.sum(-1).min():.3f}, {y.sum(-1).max():.3f}]",
                "end with a 1x1 Conv2D with activation='softmax'",
            )
        concats = [layer for layer in model.layers if isinstance(layer, keras.layers.Concatenate)]
        if len(concats) != depth:
            raise fail(
                name, case, f"{depth} Concatenate layers (one skip per level)", f"{len(concats)}"
            )
        for layer in concats:
            sides = {tuple(t.shape[1:3]) for t in layer.input}
            if len(sides) != 1:
                raise fail(
                    name, case, "skip and upsampled maps of equal height and width", f"{sides}"
                )
        _check_skips(model, concats, name, case)
        convs3 = [
            ly
            for ly in model.layers
            if isinstance(ly, keras.layers.Conv2D)
            and not isinstance(ly, keras.layers.Conv2DTranspose)
            and tuple(ly.kernel_size) == (3, 3)
        ]
        _check_conv_bn_relu(model, convs3, name, case)
        check_nonlinear(model, convs3, name, case, "every 3x3 convolution of the U-Net")
        want = unet_param_count(shape[2], n_classes, base, depth, batch_norm=True)
        if model.count_params() != want:
            raise fail(
                name,
                case,
                f"{want:,} parameters",
                f"{model.count_params():,}",
                "two 3x3 'same' convs per level, each Conv -> BN -> ReLU, filters doubling per "
                "level, Conv2DTranspose(f, 2, strides=2) up, a 1x1 head",
            )
        first = first or model
    passed(
        f"{name} gives per-pixel probabilities of the input's size, {len(cases)} configurations, "
        "skips by concatenation, Conv -> BatchNormalization -> ReLU blocks and the expected "
        "parameter counts"
    )
    return first


def _random_masks(rng, n_classes):
    shape = tuple(int(s) for s in rng.integers(3, 20, size=int(rng.integers(1, 4))))
    y_true = rng.integers(0, n_classes, size=shape)
    y_pred = np.where(rng.uniform(size=shape) < 0.6, y_true, rng.integers(0, n_classes, size=shape))
    return y_true, y_pred


@reference
def _keras_iou(y_true, y_pred, n_classes):
    import keras

    mean = keras.metrics.MeanIoU(num_classes=n_classes)
    mean.update_state(y_true.ravel(), y_pred.ravel())
    per_class = []
    for class_id in range(n_classes):
        present = np.any(y_true == class_id) or np.any(y_pred == class_id)
        metric = keras.metrics.IoU(num_classes=n_classes, target_class_ids=[class_id])
        metric.update_state(y_true.ravel(), y_pred.ravel())
        per_class.append(float(metric.result()) if present else np.nan)
    return np.array(per_class), float(mean.result())


def _references() -> list:
    """What `iou` and `dice` must not call: the lecture's measures and Keras's IoU metrics."""
    import keras

    from utils.measure import segmentation

    return [
        segmentation.confusion_matrix,
        segmentation.iou_per_class,
        keras.metrics.MeanIoU.update_state,
        keras.metrics.MeanIoU.result,
        keras.metrics.IoU.result,
    ]


def _call_own(fn: Callable, name: str, what: str, *args, case: str):
    """fn(*args) through `call`; CheckFailed if it ran one of `_references()` meanwhile."""
    result, delegated = calls_to(fn, _references(), *args, case=case)
    if delegated:
        raise fail(
            name,
            case,
            f"{what} computed from the two masks by your own NumPy code",
            "a call to utils.measure.segmentation or to keras.metrics' IoU",
            "these are the lecture's tools and this check's reference: count the pixels of "
            "each class in the two masks (np.sum over boolean arrays) instead",
        )
    return result


def check_iou(iou: Callable, seed: int = 0, n_cases: int = 8) -> None:
    """Check `iou(y_true, y_pred, n_classes) -> (per_class (n_classes,), mean)`.

    y_true, y_pred: integer class ids of any equal shape. A class absent from both gets NaN and
    is left out of the mean (as keras.metrics.MeanIoU does). Reference: Keras's IoU metrics.
    """
    name = getattr(iou, "__name__", "iou")
    rng = np.random.default_rng(seed)
    cases = [(np.array([[0, 0, 1], [1, 1, 1]]), np.array([[0, 1, 1], [1, 1, 0]]), 2)]
    for _ in range(n_cases - 2):
        n = int(rng.integers(2, 6))
        cases.append((*_random_masks(rng, n), n))
    y_true, y_pred = _random_masks(rng, 2)
    cases.append((y_true, y_pred, 3))  # class 2 absent from both
    for y_true, y_pred, n in cases:
        case = f"y_true {y_true.shape}, n_classes={n}" + (
            " (a class absent from both)"
            if n == 3 and y_true.max() < 2 and y_pred.max() < 2
            else ""
        )
        result = _call_own(iou, name, "IoU", y_true.copy(), y_pred.copy(), n, case=case)
        if result is None or len(result) != 2:
            raise fail(name, case, "a pair (per_class, mean)", repr(result))
        per_class, mean = as_array(result[0], name, case).astype(float), float(result[1])
        want_pc, want_mean = _keras_iou(y_true, y_pred, n)
        if per_class.shape != (n,) or not np.array_equal(np.isnan(per_class), np.isnan(want_pc)):
            raise fail(
                name,
                case,
                f"per-class {np.round(want_pc, 4)}",
                f"{np.round(per_class, 4)}",
                "one value per class; NaN for a class in neither mask (a 0/0)",
            )
        ok = ~np.isnan(want_pc)
        if rel_error(per_class[ok], want_pc[ok]) > 1e-5:
            w_text, g_text = rounded_alike(want_pc, per_class, 4)
            raise fail(
                name,
                case,
                f"per-class {w_text}",
                f"per-class {g_text}",
                "a class's IoU compares the pixels of that class in the two masks: "
                "intersection over union, not over one mask alone",
            )
        if rel_error(mean, want_mean) > 1e-5:
            w_text, g_text = rounded_alike(want_mean, mean, 4)
            raise fail(
                name,
                case,
                f"mean {w_text}",
                f"mean {g_text}",
                "the per-class values are right: the mean is over the classes present "
                "(not NaN), each class counting once",
            )
    passed(f"{name} matches keras.metrics.IoU per class and MeanIoU on {len(cases)} cases")


def check_dice(dice: Callable, seed: int = 0, n_cases: int = 8, empty_masks: bool = False) -> None:
    """Check `dice(y_true, y_pred) -> float` on binary masks (0/1 or bool, equal shapes).

    Reference: IoU from a NumPy bincount confusion matrix and the identity Dice = 2 IoU / (1 + IoU).
    Two empty masks agree perfectly: their Dice is 1.0 (the usual convention, e.g. MONAI's
    `ignore_empty=False`), never NaN; one empty mask and one not give 0.0. `empty_masks`
    adds these two cases.
    """
    name = getattr(dice, "__name__", "dice")
    rng = np.random.default_rng(seed)
    cases = [(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0]))]
    while len(cases) < n_cases:
        y_true, y_pred = _random_masks(rng, 2)
        if y_true.any() or y_pred.any():
            cases.append((y_true, y_pred.astype(bool) if len(cases) % 2 else y_pred))
    if empty_masks:
        empty = np.zeros((4, 5), dtype=int)
        cases += [(empty, empty.copy()), (empty, np.eye(4, 5, dtype=int))]
    for y_true, y_pred in cases:
        case = f"binary masks {y_true.shape}"
        counts = np.bincount(
            2 * y_true.astype(int).ravel() + y_pred.astype(int).ravel(), minlength=4
        )
        tp, union = counts[3], counts[1] + counts[2] + counts[3]
        if union == 0:
            case, want = f"two empty masks {y_true.shape}", 1.0
        else:
            iou = tp / union
            want = 2 * iou / (1 + iou)
            case += ", one of them empty" if not (y_true.any() and y_pred.any()) else ""
        with np.errstate(all="ignore"):
            got = _call_own(dice, name, "Dice", y_true.copy(), y_pred.copy(), case=case)
            got = float(as_array(got, name, case))
        if not abs(got - want) <= 1e-6:
            w_text, g_text = rounded_alike(want, got, 4)
            hint = (
                "two empty masks agree perfectly: Dice is 1.0 by convention; guard the 0/0"
                if union == 0
                else "Dice weighs the overlap against the sizes of both masks: check the "
                "factor of the overlap and what the denominator adds up"
            )
            if union and abs(got - tp / union) < 1e-9:
                hint = "this is IoU (intersection over union), not Dice"
            raise fail(name, case, w_text, g_text, hint)
    passed(
        f"{name} agrees with 2 IoU / (1 + IoU) on {len(cases)} pairs of masks"
        + (", two empty masks giving 1.0" if empty_masks else "")
    )
