"""Segmentation measures (unit 13): confusion matrix, IoU per class, pooled or per image, bands.

One rule for every mean over classes: a class absent from both the prediction and the truth has
no IoU (its intersection and union are both 0, a 0/0); it gets NaN and is left out of the mean.
That is what `keras.metrics.MeanIoU` does (it divides by the number of classes whose union is
not empty). A class absent from the truth but predicted somewhere has IoU 0 and counts.

Two ways to average over a data set, which give different numbers:
- pooled: one confusion matrix over every pixel of every image, then IoU per class; what
  `keras.metrics.MeanIoU` gives after `update_state` on all batches, and what unit 13's bands use;
- per image: IoU per class in each image, each image's mean over its present classes, then the
  mean over images; every image weighs the same, however large its objects.

- `confusion_matrix`: (n_classes, n_classes) pixel counts, rows true class, columns predicted.
- `iou_per_class`: IoU of each class from a confusion matrix; NaN for a class in neither mask.
- `mean_over_present`: The mean of the per-class values that are not NaN.
- `pooled_iou`: (per-class IoU, mean IoU) from one confusion matrix over all pixels.
- `per_image_iou`: (per-image per-class IoU (N, n_classes), the mean over images of each image's mean IoU).
- `check_iou_bands`: Print each class's IoU and the mean against their bands; fail or warn as check_band does.
"""

from __future__ import annotations

import warnings

import numpy as np


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) pixel counts, rows true class, columns predicted.

    y_true, y_pred: integer class ids in [0, n_classes), arrays of any equal shape (one mask or
    a stack of them: every pixel counts once).
    """
    t = np.asarray(y_true).astype(np.int64).ravel()
    p = np.asarray(y_pred).astype(np.int64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"masks of different sizes: {np.shape(y_true)} and {np.shape(y_pred)}")
    counts = np.bincount(n_classes * t + p, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def iou_per_class(confusion: np.ndarray) -> np.ndarray:
    """IoU of each class from a confusion matrix; NaN for a class in neither mask.

    intersection = the diagonal; union = true pixels of the class (its row) + predicted pixels
    of the class (its column) - the intersection, counted twice.
    """
    cm = np.asarray(confusion, dtype=np.float64)
    inter = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - inter
    out = np.full(len(cm), np.nan)
    present = union > 0
    out[present] = inter[present] / union[present]
    return out


def mean_over_present(values) -> float:
    """The mean of the per-class values that are not NaN (NaN if there are none)."""
    values = np.asarray(values, dtype=np.float64)
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else float("nan")


def pooled_iou(y_true, y_pred, n_classes: int) -> tuple[np.ndarray, float]:
    """(per-class IoU, mean IoU) from one confusion matrix over all pixels.

    y_true, y_pred: integer masks of any equal shape, e.g. (N, H, W) for a data set.
    """
    per_class = iou_per_class(confusion_matrix(y_true, y_pred, n_classes))
    return per_class, mean_over_present(per_class)


def per_image_iou(y_true, y_pred, n_classes: int) -> tuple[np.ndarray, float]:
    """(per-image per-class IoU (N, n_classes), the mean over images of each image's mean IoU).

    y_true, y_pred: integer masks (N, H, W). NaN in the table marks a class absent from both
    masks of that image; each image's mean leaves it out.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    table = np.stack(
        [
            iou_per_class(confusion_matrix(t, p, n_classes))
            for t, p in zip(y_true, y_pred, strict=True)
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an image with no class at all: NaN
        per_image = np.nanmean(table, axis=1)
    return table, mean_over_present(per_image)


def check_iou_bands(
    per_class,
    mean: float,
    lows: dict[str, float],
    class_names,
    *,
    causes: str = "",
    measured: bool = False,
    profile: str | None = None,
) -> None:
    """Print each class's IoU and the mean against their bands; fail or warn as check_band does.

    lows: the lower end of each band, by class name and "mean" (every class and the mean need
    one). In `smoke` a value outside its band raises OutsideBandError after every value has been
    printed; in `full` a band not `measured` on the real data is an estimate and only warns.
    """
    from utils.measure.bands import DEFAULT_CAUSES, OutsideBandError, check_band

    missing = [k for k in (*class_names, "mean") if k not in lows]
    if missing:
        raise ValueError(f"no band for {missing}")
    values = {
        **dict(zip(class_names, np.asarray(per_class, dtype=float), strict=True)),
        "mean": mean,
    }
    failed = []
    for key, value in values.items():
        label = "mean IoU" if key == "mean" else f"IoU {key}"
        try:
            check_band(
                label, float(value), lows[key], causes=causes, measured=measured, profile=profile
            )
        except OutsideBandError:
            failed.append(f"{label} = {float(value):.4f} < {lows[key]}")
    if failed:
        raise OutsideBandError(
            f"outside the expected band: {'; '.join(failed)}. {causes or DEFAULT_CAUSES}"
        )
