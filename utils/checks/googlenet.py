"""Checks for unit 09 (GoogLeNet): the naive inception module, the module with 1x1 reductions,
and the module whose 5x5 convolution is factorised into two 3x3 (Inception v2/v3).

References, all independent of the exercises' answers:
- output shapes, and parameter counts against the formula `(k * k * c_in + 1) * c_out` per
  convolution, summed in the check;
- behaviour measured with `tf.GradientTape`: the receptive field of each group of output
  channels (1x1 branch: 1 pixel, 3x3 branch: 3x3, 5x5 branch and its two-3x3 factorisation:
  5x5, pooling branch: within 3x3), which also fixes the order of the concatenation; ReLU
  outputs are never negative;
- the naive module's pooling branch against a NumPy 3x3 max filter with 'same' borders;
- the factorised module's output against the check's own Keras module given the same weights.
Modules are built on small symbolic inputs; only small ones are run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import CheckFailed, call, fail, passed
from utils.checks.references import reference
from utils.checks.structure import check_nonlinear
from utils.measure.receptive_fields import unit_receptive_field

#: GoogLeNet's nine inception modules (Szegedy et al. 2014, table 1): #1x1, #3x3 reduce, #3x3,
#: #5x5 reduce, #5x5, pool proj; and the (side, channels) of the input each module receives
#: at 224x224 (the channels are the previous module's output, or 192 after the stem).
GOOGLENET_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
GOOGLENET_INPUTS = {
    "3a": (28, 192),
    "3b": (28, 256),
    "4a": (14, 480),
    "4b": (14, 512),
    "4c": (14, 512),
    "4d": (14, 512),
    "4e": (14, 528),
    "5a": (7, 832),
    "5b": (7, 832),
}
#: The "ops" column of the paper's table 1 for each module (multiply-adds, i.e. MACs).
GOOGLENET_PAPER_MACS = {
    "3a": 128e6,
    "3b": 304e6,
    "4a": 73e6,
    "4b": 88e6,
    "4c": 100e6,
    "4d": 119e6,
    "4e": 170e6,
    "5a": 54e6,
    "5b": 71e6,
}


def _build(fn: Callable, name: str, shape: tuple, args: tuple, case: str):
    """keras.Model(Input(shape), fn(input, *args)), with the learner's errors reported."""
    import keras

    inp = keras.Input(shape)
    out = call(fn, inp, *args, case=case)
    if out is None:
        raise CheckFailed(f"`{name}` returned None on the case {case}: return the output tensor.")
    return keras.Model(inp, out)


def _convs(model) -> list:
    import keras

    return [ly for ly in model.layers if isinstance(ly, keras.layers.Conv2D)]


@reference
def _numpy_max3x3(x: np.ndarray) -> np.ndarray:
    """3x3 max filter, stride 1, borders padded with -inf. x: (N, H, W, C) -> same shape."""
    n, h, w, c = x.shape
    padded = np.full((n, h + 2, w + 2, c), -np.inf)
    padded[:, 1:-1, 1:-1] = x
    windows = [padded[:, i : i + h, j : j + w] for i in range(3) for j in range(3)]
    return np.max(windows, axis=0)


def _receptive_fields(model, groups: list[int], c_in: int, rng) -> list[tuple[int, int]]:
    """Receptive field (height, width) of each consecutive group of output channels at the
    centre pixel of an 11x11 input, measured by the gradient with every ReLU kept active
    (kernels small, biases +1)."""
    for conv in _convs(model):
        conv.kernel.assign(0.1 * rng.standard_normal(conv.kernel.shape).astype("float32"))
        if conv.bias is not None:
            conv.bias.assign(np.ones(conv.bias.shape, "float32"))
    x = rng.standard_normal((1, 11, 11, c_in)).astype("float32")
    bounds = np.cumsum([0, *groups])
    return [
        unit_receptive_field(model, x, channels=slice(int(lo), int(hi)), position=(5, 5))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def _module_cases(n: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        h, w = (int(v) for v in rng.integers(5, 16, size=2))
        yield h, w, int(rng.integers(2, 13)), [int(v) for v in rng.integers(2, 9, size=6)]


_FACTORISED_KERNELS_HINT = (
    "the 5x5 convolution is gone: its branch is a 1x1 reduction and two 3x3 convolutions; "
    "count the kernels of each against the exercise (which of the two 3x3 has f5?)"
)


def _module_layers(kind: str, c: int, widths) -> list[tuple[int, int, int]]:
    """(kernel, c_in, c_out) of each convolution of a module of `kind` ("naive", "reduced" or
    "factorised") on C = c input channels, widths = (f1, f3r, f3, f5r, f5, pool_proj)."""
    f1, f3r, f3, f5r, f5, pp = widths
    if kind == "naive":
        return [(1, c, f1), (3, c, f3), (5, c, f5)]
    big = [(5, f5r, f5)] if kind == "reduced" else [(3, f5r, f5r), (3, f5r, f5)]
    return [(1, c, f1), (1, c, f3r), (3, f3r, f3), (1, c, f5r), *big, (1, c, pp)]


def _check_module(fn, name, kind, seed, n_cases):
    import keras

    from utils.measure.tables import without_weights

    naive = kind == "naive"
    for h, w, c, (f1, f3r, f3, f5r, f5, pp) in _module_cases(n_cases, seed):
        args = (f1, f3, f5) if naive else (f1, f3r, f3, f5r, f5, pp)
        case = f"x of shape (None, {h}, {w}, {c}), {name}(x, {', '.join(map(str, args))})"
        with without_weights():
            model = _build(fn, name, (h, w, c), args, case)
        channels = f1 + f3 + f5 + (c if naive else pp)
        if tuple(model.output.shape[1:]) != (h, w, channels):
            how = (
                "f1 + f3 + f5 + C (the pooled input keeps its C channels)"
                if naive
                else "f1 + f3 + f5 + pool_proj"
            )
            raise fail(
                name,
                case,
                f"output shape (None, {h}, {w}, {channels}): {how}",
                f"(None, {', '.join(map(str, model.output.shape[1:]))})",
                "every branch keeps H and W (stride 1, padding='same'); concatenate on the channel axis",
            )
        layers = _module_layers(kind, c, (f1, f3r, f3, f5r, f5, pp))
        want_kernels = sorted((k, k, ci, co) for k, ci, co in layers)
        got_kernels = sorted(tuple(int(v) for v in cv.kernel.shape) for cv in _convs(model))
        if got_kernels != want_kernels:
            raise fail(
                name,
                case,
                f"Conv2D kernels (kh, kw, c_in, c_out) {want_kernels}",
                f"{got_kernels}",
                _FACTORISED_KERNELS_HINT if kind == "factorised" else "",
            )
        want_params = sum((k * k * ci + 1) * co for k, ci, co in layers)
        if model.count_params() != want_params:
            raise fail(
                name,
                case,
                f"{want_params:,} parameters (convolutions with biases, nothing else)",
                f"{model.count_params():,}",
            )
        check_nonlinear(model, _convs(model), name, case, "every convolution of the module")
        pools = [ly for ly in model.layers if isinstance(ly, keras.layers.MaxPooling2D)]
        if (
            len(pools) != 1
            or tuple(pools[0].pool_size) != (3, 3)
            or tuple(pools[0].strides) != (1, 1)
        ):
            raise fail(
                name,
                case,
                "one MaxPooling2D(3, strides=1, padding='same')",
                [(tuple(p.pool_size), tuple(p.strides)) for p in pools],
            )

    # behaviour on small inputs, with weights
    rng = np.random.default_rng(seed + 1)
    c = int(rng.integers(3, 7))
    f1, f3r, f3, f5r, f5, pp = (int(v) for v in rng.integers(3, 8, size=6))
    args = (f1, f3, f5) if naive else (f1, f3r, f3, f5r, f5, pp)
    case = f"x of shape (1, 11, 11, {c}), {name}(x, {', '.join(map(str, args))})"
    model = _build(fn, name, (11, 11, c), args, case)
    pool_width = c if naive else pp
    fields = _receptive_fields(model, [f1, f3, f5, pool_width], c, rng)
    want = [(1, 1), (3, 3), (5, 5)]
    branches = ("1x1", "3x3", "two-3x3" if kind == "factorised" else "5x5")
    for branch, got, exp in zip(branches, fields[:3], want, strict=True):
        if got != exp:
            hint = "concatenate the branches in the order 1x1, 3x3, 5x5, pooling"
            if kind == "factorised":
                hint = (
                    "concatenate the branches in the order 1x1, 3x3, two 3x3, pooling; "
                    "the second 3x3 convolution takes the first one's output"
                )
            raise fail(
                name,
                case,
                f"the {branch} branch's channels see a {exp[0]}x{exp[1]} patch of the input",
                f"they see {got[0]}x{got[1]}",
                hint,
            )
    if not (1 <= fields[3][0] <= 3 and 1 <= fields[3][1] <= 3):
        raise fail(
            name,
            case,
            "the pooling branch's channels (last) see at most a 3x3 patch",
            f"they see {fields[3][0]}x{fields[3][1]}",
            "the pooling branch comes last",
        )
    for conv in _convs(model):
        if conv.bias is not None:
            conv.bias.assign(np.zeros(conv.bias.shape, "float32"))
    x = rng.standard_normal((2, 11, 11, c)).astype("float32")
    y = keras.ops.convert_to_numpy(model(x, training=False))
    n_conv = f1 + f3 + f5 + (0 if naive else pp)
    if y[..., :n_conv].min() < 0:
        raise fail(
            name,
            case,
            "convolution outputs >= 0 (every convolution is followed by a ReLU)",
            f"a smallest value of {y[..., :n_conv].min():.3f}",
        )
    if naive:
        want_pool = _numpy_max3x3(x)
        err = float(np.abs(y[..., n_conv:] - want_pool).max())
        if err > 1e-5:
            raise fail(
                name,
                case,
                "the last C channels = 3x3 max pooling of x (NumPy reference)",
                f"a largest difference of {err:.3g}",
            )
    return n_cases


def check_naive_inception(naive_inception: Callable, seed: int = 0, n_cases: int = 4) -> None:
    """`naive_inception(x, f1, f3, f5)`: 1x1, 3x3 and 5x5 'same' ReLU convolutions and a 3x3
    max pooling (stride 1) of x, concatenated in that order: (N, H, W, C) -> (N, H, W, f1+f3+f5+C)."""
    n = _check_module(naive_inception, "naive_inception", "naive", seed, n_cases)
    passed(
        f"naive_inception: shapes, kernels and parameters on {n} random cases; receptive fields, "
        "ReLUs and the pooling branch (NumPy) on one run"
    )


def check_inception_module(inception_module: Callable, seed: int = 0, n_cases: int = 4) -> None:
    """`inception_module(x, f1, f3r, f3, f5r, f5, pool_proj)`: GoogLeNet's module with 1x1
    reductions: (N, H, W, C) -> (N, H, W, f1 + f3 + f5 + pool_proj)."""
    n = _check_module(inception_module, "inception_module", "reduced", seed, n_cases)
    passed(
        f"inception_module: shapes, kernels and parameters on {n} random cases; receptive fields "
        "and ReLUs on one run"
    )


@reference
def _reference_factorised(shape: tuple, widths) -> object:
    """The check's own factorised module: keras.Model (N, H, W, C) -> (N, H, W, f1+f3+f5+pp)."""
    import keras

    L = keras.layers
    f1, f3r, f3, f5r, f5, pp = widths

    def conv(t, f, k):
        return L.Conv2D(f, k, padding="same", activation="relu")(t)

    inp = keras.Input(shape)
    b5 = conv(conv(conv(inp, f5r, 1), f5r, 3), f5, 3)
    pool = L.MaxPooling2D(3, strides=1, padding="same")(inp)
    out = [conv(inp, f1, 1), conv(conv(inp, f3r, 1), f3, 3), b5, conv(pool, pp, 1)]
    return keras.Model(inp, L.Concatenate()(out))


def check_factorised_inception(
    factorised_inception: Callable, seed: int = 0, n_cases: int = 4
) -> None:
    """`factorised_inception(x, f1, f3r, f3, f5r, f5, pool_proj)`: the module with 1x1
    reductions whose 5x5 convolution is replaced by two 3x3 ReLU convolutions (f5r, then f5
    kernels): (N, H, W, C) -> (N, H, W, f1 + f3 + f5 + pool_proj).

    Structure and measured receptive fields as for the other modules; then the learner's
    weights are copied, kernel shape by kernel shape (all distinct on that case), into the
    check's own Keras module, and both outputs are compared on random inputs."""
    import keras

    name = "factorised_inception"
    n = _check_module(factorised_inception, name, "factorised", seed, n_cases)

    rng = np.random.default_rng(seed + 2)
    c, *widths = (int(v) for v in rng.choice(np.arange(2, 12), size=7, replace=False))
    case = f"x of shape (2, 9, 9, {c}), {name}(x, {', '.join(map(str, widths))})"
    model = _build(factorised_inception, name, (9, 9, c), tuple(widths), case)
    reference = _reference_factorised((9, 9, c), widths)
    by_shape = {tuple(int(v) for v in cv.kernel.shape): cv for cv in _convs(model)}
    want_kernels = sorted(tuple(int(v) for v in ref.kernel.shape) for ref in _convs(reference))
    if sorted(by_shape) != want_kernels:
        raise fail(
            name,
            case,
            f"Conv2D kernels (kh, kw, c_in, c_out) {want_kernels}",
            sorted(by_shape),
            _FACTORISED_KERNELS_HINT,
        )
    for ref in _convs(reference):
        mine = by_shape[tuple(int(v) for v in ref.kernel.shape)]
        kernel = 0.3 * rng.standard_normal(ref.kernel.shape).astype("float32")
        bias = 0.1 * rng.standard_normal(ref.bias.shape).astype("float32")
        mine.set_weights([kernel, bias])
        ref.set_weights([kernel, bias])
    x = rng.standard_normal((2, 9, 9, c)).astype("float32")
    got = keras.ops.convert_to_numpy(model(x, training=False))
    want = keras.ops.convert_to_numpy(reference(x, training=False))
    bounds = np.cumsum([0, widths[0], widths[2], widths[4], widths[5]])
    for branch, lo, hi in zip(
        ("1x1", "3x3", "two-3x3", "pooling"), bounds[:-1], bounds[1:], strict=True
    ):
        err = float(np.abs(got[..., lo:hi] - want[..., lo:hi]).max())
        if err > 1e-4:
            raise fail(
                name,
                case,
                f"the {branch} branch's channels equal those of the check's own Keras module "
                "with your weights",
                f"a largest difference of {err:.3g}",
                "follow the layer order of each branch in the exercise: which input does each "
                "layer take, and does the pooling come before or after the 1x1 projection?",
            )
    passed(
        f"factorised_inception: shapes, kernels and parameters on {n} random cases; receptive "
        "fields and ReLUs on one run; outputs equal to a Keras reference with the same weights"
    )
