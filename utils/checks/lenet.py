"""Checks for unit 05 (LeNet): image preprocessing for a Keras CNN."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import call_for_array, compare, fail, passed


def _scaled_reference(x: np.ndarray) -> np.ndarray:
    """x: uint8 (N, 28, 28) -> float64 (N, 28, 28, 1), 0..255 mapped linearly onto 0..1."""
    return np.expand_dims(np.interp(x, [0, 255], [0.0, 1.0]), -1)


def check_preprocess(preprocess: Callable, seed: int = 3) -> None:
    """Check `preprocess(x) -> float32 (N, 28, 28, 1) in [0, 1]` for uint8 x: (N, 28, 28)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    case = "x uint8 (7, 28, 28)"
    got = call_for_array(
        preprocess,
        x.copy(),
        name="preprocess",
        case=case,
        shape=(7, 28, 28, 1),
        dtype=np.float32,
        shape_hint="Keras's Conv2D wants a channel axis, last (height, width, channels)",
    )
    lo, hi = float(got.min()), float(got.max())
    if hi > 1.0 + 1e-6 or lo < -1e-6:
        raise fail(
            "preprocess",
            case,
            "values in [0, 1]",
            f"values from {lo:.3g} to {hi:.3g}",
            "uint8 pixels run from 0 to 255",
        )
    compare(
        "preprocess",
        case,
        got,
        _scaled_reference(x),
        tol=1e-6,
        hint="each pixel keeps its place and is scaled by the same factor",
    )
    passed("`preprocess` gives float32 (N, 28, 28, 1) images scaled to [0, 1].")


#: The target summary of the lab's modern LeNet (the exercise's specification, which the
#: lab also shows as a table): (layer class, output shape, parameters).
MODERN_LENET_SUMMARY = [
    ("Conv2D", (28, 28, 32), 832),
    ("MaxPooling2D", (14, 14, 32), 0),
    ("Conv2D", (14, 14, 64), 51_264),
    ("MaxPooling2D", (7, 7, 64), 0),
    ("Flatten", (3136,), 0),
    ("Dense", (128,), 401_536),
    ("Dense", (10,), 1_290),
]
#: The nonlinearity each layer of MODERN_LENET_SUMMARY applies (None: none).
MODERN_LENET_ACTIVATIONS = ["relu", None, "relu", None, None, "relu", "softmax"]


def check_lenet(build_lenet: Callable):
    """Build the learner's modern LeNet and compare it with MODERN_LENET_SUMMARY; return it."""
    from utils.checks.structure import check_model_builder

    return check_model_builder(build_lenet, MODERN_LENET_SUMMARY, MODERN_LENET_ACTIVATIONS)


def check_trained_lenet(model, band: float) -> None:
    """Evaluate a trained modern LeNet on freshly loaded smoke test digits against `band`."""
    from utils.checks.core import CheckFailed
    from utils.checks.structure import check_model_table
    from utils.data import load_mnist

    check_model_table(
        model, MODERN_LENET_SUMMARY, name="model", activations=MODERN_LENET_ACTIVATIONS
    )
    _, (x_test, y_test) = load_mnist("smoke")
    probs = model.predict((x_test.astype(np.float32) / 255.0)[..., None], verbose=0)
    accuracy = float(np.mean(probs.argmax(axis=1) == y_test))
    if accuracy < band:
        raise CheckFailed(f"test accuracy {accuracy:.3f} is below {band}: train longer?")
    passed(f"the trained model reaches at least {band} on the 1,000 offline test digits.")
