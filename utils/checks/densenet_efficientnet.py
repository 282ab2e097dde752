"""Checks for unit 11 (DenseNet and EfficientNet): a dense block with an optional bottleneck, a
transition layer that pools before it convolves, and the compound-scaling calculator.

References, none of which is an exercise's answer:
- dense block: the shape and `count_params()` of the Keras model the learner's function builds,
  against the parameter count of the layer the lab specifies (with a bottleneck of any width, or
  none); the convolutions it holds (kernel sizes, filters); the channel counts that each layer's
  first convolution really receives (dense connectivity); and numerically, the input channels
  coming out of the block unchanged.
- transition layer: shape and parameters as above; the size of the maps the 1x1 convolution
  reads (the pooled ones) and its MACs; and its output against a NumPy computation in the
  paper's order (batch norm with random statistics written into the learner's own layer, ReLU,
  a 1x1 convolution with the learner's own kernel, then 2x2 averaging), which pooling first
  must reproduce, the two linear steps commuting.
- compound scaling: properties (phi = 0 gives the base network; scaling by phi1 then phi2 is
  scaling by phi1 + phi2; each constant acts on its own dimension; the MACs factor
  depth * width**2 * resolution**2) and the coefficients of Keras's EfficientNet-B2 and -B3.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from utils.checks.core import CheckFailed, call, fail, passed
from utils.checks.references import reference
from utils.checks.structure import activation_name, check_nonlinear, model_of
from utils.measure.published import KERAS_EFFICIENTNET

#: The paper's constants (Tan & Le, 2019): depth alpha, width beta, resolution gamma.
PAPER_CONSTANTS = (1.2, 1.1, 1.15)
#: A case that leaves `bottleneck` at the function's default (4, DenseNet-B's width).
DEFAULT = "default"


def dense_layer_params(c_in: int, growth_rate: int, bottleneck: int | None = 4) -> int:
    """Parameters of one dense layer fed c_in channels. With a bottleneck b (DenseNet-B):
    BN(c_in) -> ReLU -> 1x1 conv to b*k -> BN(b*k) -> ReLU -> 3x3 conv to k; with None
    (DenseNet): BN(c_in) -> ReLU -> 3x3 conv to k. Convolutions without biases; a
    BatchNormalization layer holds 4 numbers per channel (gamma, beta, moving mean and variance).
    """
    k = growth_rate
    if bottleneck is None:
        return 4 * c_in + 3 * 3 * c_in * k
    b = bottleneck * k
    return 4 * c_in + c_in * b + 4 * b + 3 * 3 * b * k


def _layers_of(model, cls_name: str) -> list:
    return [layer for layer in model.layers if type(layer).__name__ == cls_name]


def dense_block_cases(n: int, seed: int) -> list[tuple[int, int, int, int, int, object]]:
    """(height, width, c_in, n_layers, growth_rate, bottleneck) cases, small enough to build
    quickly; bottleneck is DEFAULT (the argument left out), None (no bottleneck) or an int."""
    rng = np.random.default_rng(seed)
    cases = [(6, 6, 3, 2, 4, DEFAULT), (5, 7, 6, 3, 5, None), (4, 6, 5, 2, 3, 2)]
    choices = [DEFAULT, None, 1, 2, 3, 4]
    while len(cases) < n:
        h, w = (int(v) for v in rng.integers(3, 9, size=2))
        cases.append(
            (
                h,
                w,
                int(rng.integers(1, 17)),
                int(rng.integers(1, 5)),
                int(rng.integers(1, 13)),
                choices[int(rng.integers(len(choices)))],
            )
        )
    return cases[:n]


def _build_block(dense_block, name, case, shape, n_layers, k, bottleneck):
    kwargs = {} if bottleneck == DEFAULT else {"bottleneck": bottleneck}
    try:
        return model_of(dense_block, shape, n_layers, k, name=name, case=case, **kwargs)
    except TypeError as err:
        if "bottleneck" not in str(err):
            raise
        raise fail(
            name,
            case,
            "dense_block(x, n_layers, growth_rate, bottleneck=...) to accept `bottleneck`",
            f"TypeError: {err}",
            "the exercise's signature has a fourth argument, `bottleneck`, with a default of 4.",
        ) from None


def check_dense_block(dense_block: Callable, n_cases: int = 4, seed: int = 0) -> None:
    """Check `dense_block(x, n_layers, growth_rate, bottleneck=4) -> tensor` (functional API,
    channels last).

    x: a Keras tensor (batch, H, W, C). Each of the n_layers layers is, with an int bottleneck b,
    BN -> ReLU -> 1x1 conv (b * growth_rate filters) -> BN -> ReLU -> 3x3 'same' conv
    (growth_rate filters) (DenseNet-B); with bottleneck=None, BN -> ReLU -> 3x3 'same' conv
    (DenseNet). No biases; each layer's output is concatenated after everything before it:
    output channels C + n_layers * growth_rate, the input's C channels first and unchanged.
    """
    import keras

    name = getattr(dense_block, "__name__", "dense_block")
    rng = np.random.default_rng(seed + 100)
    for h, w, c_in, n_layers, k, bottleneck in dense_block_cases(n_cases, seed):
        b = 4 if bottleneck == DEFAULT else bottleneck
        case = f"input (batch, {h}, {w}, {c_in}), n_layers={n_layers}, growth_rate={k}, " + (
            "bottleneck left at its default" if bottleneck == DEFAULT else f"bottleneck={b}"
        )
        model = _build_block(dense_block, name, case, (h, w, c_in), n_layers, k, bottleneck)
        bns = _layers_of(model, "BatchNormalization")
        check_nonlinear(model, bns, name, case, "every batch normalisation (BN -> ReLU -> conv)")
        want_shape = (h, w, c_in + n_layers * k)
        got_shape = tuple(model.output.shape[1:])
        if got_shape != want_shape:
            raise fail(
                name,
                case,
                f"output shape {want_shape}",
                f"output shape {got_shape}",
                "every layer adds growth_rate channels to the input's channels; 'same' padding.",
            )
        convs = _layers_of(model, "Conv2D")
        pointwise = [lay for lay in convs if tuple(lay.kernel_size) == (1, 1)]
        spatial = [lay for lay in convs if tuple(lay.kernel_size) == (3, 3)]
        if b is None and pointwise:
            raise fail(
                name,
                case,
                "no 1x1 convolution (bottleneck=None: each layer is BN -> ReLU -> 3x3 conv)",
                f"{len(pointwise)} 1x1 convolution(s)",
                "the bottleneck is optional: build it only when `bottleneck` is not None.",
            )
        if b is not None and len(pointwise) != n_layers:
            raise fail(
                name,
                case,
                f"{n_layers} 1x1 bottleneck convolution(s), one per layer",
                f"{len(pointwise)}",
                "with an int `bottleneck` (and by default), every layer starts with "
                "BN -> ReLU -> 1x1 conv.",
            )
        if b is not None and any(lay.filters != b * k for lay in pointwise):
            raise fail(
                name,
                case,
                f"1x1 convolutions with bottleneck * growth_rate = {b * k} filters",
                f"filters {[lay.filters for lay in pointwise]}",
                "the bottleneck's width is a multiple of the growth rate, not a fixed number.",
            )
        if len(spatial) != n_layers or any(lay.filters != k for lay in spatial):
            raise fail(
                name,
                case,
                f"{n_layers} 3x3 convolution(s) with growth_rate = {k} filters each",
                f"3x3 filters {[lay.filters for lay in spatial]}",
                "each layer ends with one 3x3 'same' convolution that makes its k new channels.",
            )
        # Dense connectivity: layer j's first convolution sees c_in + j * k channels.
        first = pointwise if b is not None else spatial
        sees = [int(layer.input.shape[-1]) for layer in first]
        want_sees = [c_in + j * k for j in range(n_layers)]
        if sees != want_sees:
            raise fail(
                name,
                case,
                f"the layers' first convolutions fed {want_sees} channels",
                f"fed {sees}",
                "layer j must read the concatenation of the block input and ALL earlier "
                "layers' outputs (concatenate after each layer, then feed the result on).",
            )
        want_params = sum(dense_layer_params(c, k, b) for c in want_sees)
        if model.count_params() != want_params:
            raise fail(
                name,
                case,
                f"{want_params:,} parameters",
                f"{model.count_params():,}",
                "one BatchNormalization before each convolution, and convolutions with "
                "use_bias=False (batch norm follows, a bias would be redundant).",
            )
        x = rng.standard_normal((2, h, w, c_in)).astype("float32")
        y = keras.ops.convert_to_numpy(model(x, training=False))
        if not np.allclose(y[..., :c_in], x, rtol=0, atol=1e-6):
            moved = any(
                np.allclose(y[..., s : s + c_in], x, atol=1e-6)
                for s in range(y.shape[-1] - c_in + 1)
            )
            raise fail(
                name,
                case,
                "the input in the first C output channels, unchanged",
                "found elsewhere in the output" if moved else "not in the output",
                "concatenate as [x, new_features]: the block passes its input through as is.",
            )
    passed(
        f"`{name}` gives C + n_layers*growth_rate channels, the layer parameters with and "
        f"without a bottleneck, dense connectivity and an unchanged input on {n_cases} cases."
    )


@reference
def _numpy_transition(x, bn, kernel):
    """NumPy transition in the paper's order: x (N, H, W, C); bn = (gamma, beta, mean, var,
    eps); kernel (1, 1, C, C') -> (N, H // 2, W // 2, C'): BN, ReLU, 1x1 conv, 2x2 average."""
    gamma, beta, mean, var, eps = bn
    z = np.maximum(gamma * (x - mean) / np.sqrt(var + eps) + beta, 0.0)
    z = z @ kernel[0, 0]
    n, h, w, c = z.shape
    z = z[:, : h // 2 * 2, : w // 2 * 2]
    return z.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def check_transition_layer(transition_layer: Callable, n_cases: int = 4, seed: int = 1) -> None:
    """Check `transition_layer(x, compression=0.5) -> tensor`: BN -> ReLU -> 2x2 average
    pooling with stride 2 -> 1x1 conv to floor(compression * C) channels without bias.

    x: a Keras tensor (batch, H, W, C) -> (batch, H // 2, W // 2, floor(compression * C)).
    """
    import keras

    from utils.measure.macs import layer_macs

    name = getattr(transition_layer, "__name__", "transition_layer")
    rng = np.random.default_rng(seed)
    cases = [(8, 8, 16, None), (6, 10, 7, 0.5), (7, 9, 12, 0.75)]
    while len(cases) < n_cases:
        h, w = (int(v) for v in rng.integers(4, 11, size=2))
        cases.append((h, w, int(rng.integers(4, 33)), float(rng.choice([0.25, 0.5, 0.75, 1.0]))))
    for h, w, c, theta in cases[:n_cases]:
        kwargs = {} if theta is None else {"compression": theta}
        theta_used = 0.5 if theta is None else theta
        case = f"input (batch, {h}, {w}, {c}), " + (
            "compression left at its default" if theta is None else f"compression={theta}"
        )
        model = model_of(transition_layer, (h, w, c), name=name, case=case, **kwargs)
        if not any(activation_name(layer) for layer in model.layers):
            # (a ReLU in the wrong place is caught by the numbers below, with its own hint)
            bns = _layers_of(model, "BatchNormalization")
            check_nonlinear(model, bns, name, case, "the batch normalisation (BN -> ReLU -> ...)")
        c_out = math.floor(theta_used * c)
        want_shape = (h // 2, w // 2, c_out)
        got_shape = tuple(model.output.shape[1:])
        if got_shape != want_shape:
            raise fail(
                name,
                case,
                f"output shape {want_shape}",
                f"output shape {got_shape}",
                "floor(compression * C) filters (default compression 0.5), and one 2x2 "
                "average pooling with stride 2 (H and W rounded down when odd).",
            )
        want_params = 4 * c + c * c_out
        if model.count_params() != want_params:
            raise fail(
                name,
                case,
                f"{want_params:,} parameters",
                f"{model.count_params():,}",
                "one BatchNormalization on the input and one 1x1 Conv2D with use_bias=False.",
            )
        bns, convs = _layers_of(model, "BatchNormalization"), _layers_of(model, "Conv2D")
        if len(bns) != 1 or len(convs) != 1:
            raise fail(
                name, case, "1 BatchNormalization and 1 Conv2D", f"{len(bns)} and {len(convs)}"
            )
        conv = convs[0]
        read = tuple(conv.input.shape[1:3])
        if read != (h // 2, w // 2):
            want_macs = (h // 2) * (w // 2) * c * c_out
            raise fail(
                name,
                case,
                f"a 1x1 convolution reading the pooled {h // 2}x{w // 2} maps: {want_macs:,} MACs",
                f"it reads {read[0]}x{read[1]} maps: {layer_macs(conv):,} MACs",
                "this exercise's transition pools before it convolves (after the ReLU): the "
                "same numbers for a quarter of the convolution's cost.",
            )
        bn = bns[0]
        stats = [
            rng.uniform(0.5, 1.5, c),
            rng.normal(0, 0.5, c),
            rng.normal(0, 0.5, c),
            rng.uniform(0.5, 2.0, c),
        ]
        bn.set_weights([s.astype("float32") for s in stats])
        # the check's own kernel (the learner's is random): the reference's inputs are the
        # check's alone, so that the release can record its results (utils.checks.references)
        kernel = (0.3 * rng.standard_normal((1, 1, c, c_out))).astype("float32")
        conv.set_weights([kernel])
        x = rng.standard_normal((2, h, w, c)).astype("float32")
        want = _numpy_transition(x, (*stats, bn.epsilon), kernel)
        got = keras.ops.convert_to_numpy(model(x, training=False))
        err = float(np.abs(got - want).max() / max(1e-8, np.abs(want).max()))
        if err > 1e-4:
            raise fail(
                name,
                case,
                np.round(want[0, 0, 0, :4], 4),
                np.round(got[0, 0, 0, :4], 4),
                f"relative error {err:.1e}; averaging commutes with the linear 1x1 convolution, "
                "not with the ReLU, and a maximum is not an average: which pooling, where?",
            )
    passed(
        f"`{name}` compresses channels to floor(compression * C), halves H and W, convolves "
        f"the pooled maps (a quarter of the MACs) and matches a NumPy BN -> ReLU -> 1x1 conv -> "
        f"average pool on {n_cases} cases."
    )


def _scaled(fn, name, phi, consts, base, case):
    out = call(fn, phi, *consts, *base, case=case)
    if out is None:
        raise CheckFailed(f"`{name}` returned None on the case {case}: did you forget `return`?")
    try:
        depth, width, resolution = out
    except (TypeError, ValueError):
        raise fail(name, case, "a tuple (depth, width, resolution)", repr(out)) from None
    if not isinstance(resolution, (int, np.integer)):
        raise fail(
            name,
            case,
            "an int resolution (a whole number of pixels)",
            repr(resolution),
            "round the scaled resolution to the nearest pixel: int(round(...)).",
        )
    return float(depth), float(width), int(resolution)


def check_compound_scaling(compound_scaling: Callable, n_cases: int = 8, seed: int = 2) -> None:
    """Check `compound_scaling(phi, alpha, beta, gamma, base_depth, base_width, base_resolution)
    -> (depth, width, resolution)`: depth and width as floats, resolution an int (pixels)."""
    name = getattr(compound_scaling, "__name__", "compound_scaling")
    rng = np.random.default_rng(seed)

    def close(a, b, rel=1e-9):
        return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)

    for i in range(n_cases):
        consts = tuple(float(v) for v in rng.uniform(1.02, 1.5, size=3))
        base = (
            float(rng.uniform(0.5, 3.0)),
            float(rng.uniform(0.5, 3.0)),
            int(rng.integers(100, 400)),
        )
        if i == 0:
            consts, base = PAPER_CONSTANTS, (1.0, 1.0, 224)
        tag = f"alpha, beta, gamma = {tuple(round(c, 3) for c in consts)}, base = {base}"
        got0 = _scaled(compound_scaling, name, 0, consts, base, f"phi=0, {tag}")
        if not (close(got0[0], base[0]) and close(got0[1], base[1]) and got0[2] == base[2]):
            raise fail(name, f"phi=0, {tag}", base, got0, "phi = 0 is the base network itself.")
        p1, p2 = (float(v) for v in np.round(rng.uniform(0.25, 3.0, size=2), 2))
        whole = _scaled(compound_scaling, name, p1 + p2, consts, base, f"phi={p1 + p2}, {tag}")
        first = _scaled(compound_scaling, name, p1, consts, base, f"phi={p1}, {tag}")
        then = _scaled(compound_scaling, name, p2, consts, first, f"phi={p2}, base={first}")
        slack = 1 + consts[2] ** p2  # the intermediate resolution was rounded
        if not (
            close(whole[0], then[0])
            and close(whole[1], then[1])
            and abs(whole[2] - then[2]) <= slack
        ):
            raise fail(
                name,
                f"phi={p1 + p2} vs phi={p1} then phi={p2} ({tag})",
                f"the same network both ways: {then}",
                whole,
                "scaling is exponential in phi: one step of phi multiplies depth by alpha, width "
                "by beta, resolution by gamma.",
            )
        # Each constant scales its own dimension only.
        for j, dim in enumerate(("depth", "width", "resolution")):
            bumped = list(consts)
            bumped[j] *= 1.1
            moved = _scaled(compound_scaling, name, 2.0, tuple(bumped), base, f"phi=2, {tag}")
            ref = _scaled(compound_scaling, name, 2.0, consts, base, f"phi=2, {tag}")
            changed = [not close(a, b, 1e-6) for a, b in zip(moved, ref, strict=True)]
            changed[2] = abs(moved[2] - ref[2]) > 1
            want_changed = [k == j for k in range(3)]
            if changed != want_changed:
                const_name = ("alpha", "beta", "gamma")[j]
                raise fail(
                    name,
                    f"phi=2, {tag}, {const_name} raised by 10%",
                    f"only {dim} changes",
                    "changed: "
                    + ", ".join(
                        d
                        for d, c in zip(("depth", "width", "resolution"), changed, strict=True)
                        if c
                    ),
                    "alpha scales depth, beta width, gamma resolution.",
                )
        # Cost: MACs grow by depth * width^2 * resolution^2 = (alpha * beta^2 * gamma^2)^phi.
        d, w, r = _scaled(compound_scaling, name, 2.0, consts, base, f"phi=2, {tag}")
        factor = (d / base[0]) * (w / base[1]) ** 2 * (r / base[2]) ** 2
        want = (consts[0] * consts[1] ** 2 * consts[2] ** 2) ** 2
        if abs(factor / want - 1) > 4 / base[2]:
            raise fail(name, f"phi=2, {tag}", f"MACs factor {want:.4f}", f"{factor:.4f}")
    # Keras's EfficientNet-B2 and B3 sit near phi = 1 and phi = 2 of the paper's constants.
    for phi, model in ((1, "B2"), (2, "B3")):
        width, depth, res = KERAS_EFFICIENTNET[model]
        d, w, r = _scaled(
            compound_scaling, name, phi, PAPER_CONSTANTS, (1.0, 1.0, 224), f"phi={phi}"
        )
        if not (
            math.isclose(d, depth, rel_tol=0.05)
            and math.isclose(w, width, rel_tol=0.05)
            and math.isclose(r, res, rel_tol=0.05)
        ):
            raise fail(
                name,
                f"phi={phi}, paper constants, EfficientNet-B0 base (1.0, 1.0, 224)",
                f"close (5%) to Keras's EfficientNet-{model}: depth {depth}, width {width}, "
                f"resolution {res}",
                (round(d, 3), round(w, 3), r),
            )
    passed(
        f"`{name}` keeps phi=0 at the base, composes (phi1 then phi2 = phi1 + phi2), scales each "
        f"dimension by its own constant on {n_cases} cases, and lands near Keras's EfficientNet-B2/B3."
    )
