"""Checks for unit 10 (ResNet): residual blocks with identity and projection shortcuts, the
per-layer gradient norms of a loss, and a deep plain / residual network for the experiment.

References, all independent of the exercises' answers:
- output shapes, and parameter counts against formulas summed in the check (a 3x3 convolution
  without bias: 9 * c_in * c_out; a batch normalisation: 4 values per channel);
- behaviour: a block whose last batch normalisation starts with gamma = 0 computes
  relu(shortcut(x)): the identity on non-negative x, relu(x) on any x, and, with a projection,
  relu(BN(x[::s, ::s] @ W)) computed in NumPy from the block's own 1x1 kernel and statistics;
- gradient norms against NumPy backpropagation written in the check for small dense and
  convolutional models;
- the deep network: its depth (`utils.measure.graph.weight_depth`), its parameters, and what
  it computes when every block's kernels are zeroed and biases set to -0.1 (a residual net
  then passes its first layer's features, each block shifting them by -0.1 before its ReLU;
  a plain one passes nothing).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import CheckFailed, call, fail, passed
from utils.checks.structure import model_of


def _layers(model, cls_name: str) -> list:
    import keras

    cls = getattr(keras.layers, cls_name)
    return [ly for ly in model.layers if isinstance(ly, cls)]


def _run(model, x, training: bool) -> np.ndarray:
    import keras

    return keras.ops.convert_to_numpy(model(x, training=training))


def _check_structure(model, name, case, want_shape, want_params, convs_wanted):
    if tuple(model.output.shape[1:]) != want_shape:
        raise fail(
            name,
            case,
            f"output shape (None, {', '.join(map(str, want_shape))})",
            f"(None, {', '.join(map(str, model.output.shape[1:]))})",
        )
    convs = _layers(model, "Conv2D")
    got = sorted(
        (tuple(int(v) for v in c.kernel.shape), tuple(c.strides), c.bias is not None) for c in convs
    )
    if got != sorted(convs_wanted):
        raise fail(
            name,
            case,
            f"Conv2D (kernel shape, strides, has bias) {sorted(convs_wanted)}",
            got,
            "the convolutions have no bias (use_bias=False): the batch norm after each adds its own shift",
        )
    if model.count_params() != want_params:
        raise fail(
            name,
            case,
            f"{want_params:,} parameters (convolutions without bias, a batch norm after each)",
            f"{model.count_params():,}",
        )
    if len(_layers(model, "Add")) != 1:
        raise fail(
            name,
            case,
            "one Add layer (the shortcut joins the branch)",
            f"{len(_layers(model, 'Add'))}",
        )
    from utils.checks.structure import check_nonlinear
    from utils.measure.graph import parents

    # the branch's first convolution (3x3, fed by the block's input) is followed by a ReLU,
    # and so is the addition
    first = [c for c in convs if c.kernel_size == (3, 3) and model.layers[0] in parents(c)]
    check_nonlinear(model, first, name, case, "the branch's first 3x3 convolution (after its BN)")
    check_nonlinear(model, _layers(model, "Add"), name, case, "the addition of the two paths")


def _block_cases(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield int(rng.integers(3, 12)), int(rng.integers(3, 12)), int(rng.integers(1, 17))


def _check_zero_gamma(model, name, case):
    """With zero_init, exactly the batch norm that feeds the Add starts with gamma = 0."""
    from utils.measure.graph import parents

    add = _layers(model, "Add")[0]
    zero = [bn.name for bn in _layers(model, "BatchNormalization") if not keras_np(bn.gamma).any()]
    feeding = [p.name for p in parents(add) if p.name in zero]
    if len(zero) != 1 or len(feeding) != 1:
        raise fail(
            name,
            case,
            "gamma = 0 on one batch norm: the last one of the branch, which feeds Add",
            f"gamma = 0 on {zero or 'none'}",
        )


def check_identity_block(identity_block: Callable, seed: int = 0, n_cases: int = 4) -> None:
    """`identity_block(x, zero_init=False)`: conv3x3-BN-ReLU-conv3x3-BN (C kernels each, no
    bias), plus x, then ReLU: (N, H, W, C) -> (N, H, W, C). zero_init: the last batch norm's
    gamma starts at 0."""
    from utils.measure.graph import parents
    from utils.measure.tables import without_weights

    name = "identity_block"
    for h, w, c in _block_cases(n_cases, seed):
        case = f"x of shape (None, {h}, {w}, {c})"
        with without_weights():
            model = model_of(identity_block, (h, w, c), name=name, case=case)
        want = 2 * 9 * c * c + 2 * 4 * c
        _check_structure(model, name, case, (h, w, c), want, [((3, 3, c, c), (1, 1), False)] * 2)
        add = _layers(model, "Add")[0]
        if model.layers[0] not in parents(add):
            raise fail(
                name,
                case,
                "the block's input x is one of the two inputs of Add (identity shortcut)",
                [p.name for p in parents(add)],
            )
    rng = np.random.default_rng(seed + 1)
    h, w, c = 6, 5, int(rng.integers(3, 9))
    case = f"x of shape (None, {h}, {w}, {c}), zero_init=True"
    model = model_of(identity_block, (h, w, c), name=name, case=case, zero_init=True)
    _check_zero_gamma(model, name, case)
    x = rng.standard_normal((3, h, w, c)).astype("float32")
    x_pos = np.maximum(x, 0)
    case = f"x of shape (3, {h}, {w}, {c}), zero_init=True"
    model = model_of(identity_block, (h, w, c), name=name, case=case, zero_init=True)
    for training in (False, True):
        for inp, want, what in (
            (x_pos, x_pos, "x (x >= 0: the block is the identity)"),
            (x, x_pos, "relu(x) (the final ReLU on x < 0)"),
        ):
            got = _run(model, inp, training)
            err = float(np.abs(got - want).max())
            if err > 1e-5:
                raise fail(
                    name,
                    f"{case}, training={training}",
                    what,
                    f"a largest difference of {err:.3g}",
                    "gamma_initializer='zeros' on the LAST batch norm only; add x; then ReLU",
                )
    case = f"x of shape (3, {h}, {w}, {c}), zero_init=False"
    model = model_of(identity_block, (h, w, c), name=name, case=case)
    got = _run(model, x_pos, False)
    if got.min() < 0 or np.allclose(got, x_pos, atol=1e-3):
        raise fail(
            name,
            case,
            "a non-negative output different from x (gamma starts at 1)",
            f"min {got.min():.3f}, equal to x: {np.allclose(got, x_pos, atol=1e-3)}",
        )
    passed(
        f"identity_block: shapes, convolutions and parameters on {n_cases} cases; the identity "
        "shortcut; zero_init gives relu(x) in training and inference"
    )


def check_projection_block(projection_block: Callable, seed: int = 0, n_cases: int = 4) -> None:
    """`projection_block(x, filters, stride=2, zero_init=False)`: conv3x3 (stride) -BN-ReLU-
    conv3x3-BN, plus a shortcut conv1x1 (stride) -BN, then ReLU:
    (N, H, W, C) -> (N, ceil(H / stride), ceil(W / stride), filters). No biases."""
    from utils.measure.tables import without_weights

    name = "projection_block"
    rng = np.random.default_rng(seed)
    for h, w, c in _block_cases(n_cases, seed):
        f, s = int(rng.integers(1, 17)), int(rng.integers(1, 3))
        case = f"x of shape (None, {h}, {w}, {c}), filters={f}, stride={s}"
        with without_weights():
            model = model_of(projection_block, (h, w, c), f, name=name, case=case, stride=s)
        want_shape = (-(-h // s), -(-w // s), f)
        want = 9 * c * f + 9 * f * f + c * f + 3 * 4 * f
        convs = [
            ((3, 3, c, f), (s, s), False),
            ((3, 3, f, f), (1, 1), False),
            ((1, 1, c, f), (s, s), False),
        ]
        _check_structure(model, name, case, want_shape, want, convs)
    # behaviour: with zero_init the output is relu(BN(projection(x))), here in NumPy
    from utils.measure.graph import parents

    h, w, c, f, s = 7, 8, 5, 6, 2
    case = f"x of shape (2, {h}, {w}, {c}), filters={f}, stride={s}, zero_init=True"
    model = model_of(projection_block, (h, w, c), f, name=name, case=case, stride=s, zero_init=True)
    _check_zero_gamma(model, name, case)
    proj = [cv for cv in _layers(model, "Conv2D") if tuple(cv.kernel.shape[:2]) == (1, 1)][0]
    bns = [bn for bn in _layers(model, "BatchNormalization") if proj in parents(bn)]
    if len(bns) != 1:
        raise fail(
            name, case, "a BatchNormalization right after the 1x1 projection", f"{len(bns)} of them"
        )
    bn = bns[0]
    x = rng.standard_normal((2, h, w, c)).astype("float32")
    kernel = keras_np(proj.kernel)[0, 0]
    z = x[:, ::s, ::s, :] @ kernel
    gamma, beta, mean, var = (
        keras_np(v) for v in (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance)
    )
    want = np.maximum(gamma * (z - mean) / np.sqrt(var + bn.epsilon) + beta, 0)
    got = _run(model, x, False)
    err = float(np.abs(got - want).max())
    if err > 1e-4:
        raise fail(
            name,
            case,
            "relu(BN(x[:, ::2, ::2] @ W_proj)) at inference (NumPy), since the branch starts at 0",
            f"a largest difference of {err:.3g}",
            "gamma_initializer='zeros' on the branch's last batch norm, not on the shortcut's",
        )
    passed(
        f"projection_block: shapes, convolutions and parameters on {n_cases} cases; with zero_init "
        "the block equals its projection shortcut (NumPy)"
    )


def keras_np(variable) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float64)


# --- gradient norms ---------------------------------------------------------------------------


def _softmax_grad(logits, y):
    """d mean(cross-entropy) / d logits. logits: (N, K), y: (N,) int."""
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def _numpy_norms(model, x, y) -> list[float]:
    """NumPy backpropagation for the three small models of `_grad_models`."""
    layers = [ly for ly in model.layers if hasattr(ly, "kernel")]
    ws = [keras_np(ly.kernel) for ly in layers]
    bs = [keras_np(ly.bias) for ly in layers]
    x = x.astype(np.float64)
    if len(ws[0].shape) == 4:  # Conv2D(3x3, 'valid', relu) -> Flatten -> Dense
        kh, kw, c, f = ws[0].shape
        n, hh, ww, _ = x.shape
        oh, ow = hh - kh + 1, ww - kw + 1
        patches = np.stack(
            [x[:, i : i + oh, j : j + ow, :] for i in range(kh) for j in range(kw)], axis=3
        ).reshape(n, oh, ow, kh * kw * c)
        z = patches @ ws[0].reshape(kh * kw * c, f) + bs[0]
        a = np.maximum(z, 0).reshape(n, -1)
        g = _softmax_grad(a @ ws[1] + bs[1], y)
        g_dense = a.T @ g
        dz = (g @ ws[1].T).reshape(z.shape) * (z > 0)
        g_conv = np.einsum("nhwp,nhwf->pf", patches, dz)
        return [float(np.linalg.norm(g_conv)), float(np.linalg.norm(g_dense))]
    acts, a = [x], x
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        a = a @ w + b
        if i < len(ws) - 1:
            a = np.maximum(a, 0)
        acts.append(a)
    g, norms = _softmax_grad(a, y), []
    for i in reversed(range(len(ws))):
        norms.append(float(np.linalg.norm(acts[i].T @ g)))
        g = (g @ ws[i].T) * (acts[i] > 0) if i > 0 else None
    return norms[::-1]


def _grad_models(rng):
    import keras

    L = keras.layers
    dense1 = keras.Sequential([keras.Input((7,)), L.Dense(4)])
    dense3 = keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(9, activation="relu"),
            L.Dense(5, activation="relu"),
            L.Dense(3),
        ]
    )
    conv = keras.Sequential(
        [keras.Input((6, 5, 2)), L.Conv2D(3, 3, activation="relu"), L.Flatten(), L.Dense(4)]
    )
    for model, shape, k in ((dense1, (8, 7), 4), (dense3, (10, 6), 3), (conv, (5, 6, 5, 2), 4)):
        for ly in model.layers:
            if hasattr(ly, "bias") and ly.bias is not None:
                ly.bias.assign(rng.uniform(0, 0.5, ly.bias.shape).astype("float32"))
        yield model, rng.standard_normal(shape).astype("float32"), rng.integers(0, k, shape[0])


def check_gradient_norms(gradient_norms: Callable, seed: int = 0) -> None:
    """`gradient_norms(model, x, y)` -> the L2 norm of d loss / d kernel for every layer with a
    kernel, input side first; loss: mean sparse categorical cross-entropy of the model's logits."""
    rng = np.random.default_rng(seed)
    for model, x, y in _grad_models(rng):
        kinds = "-".join(type(ly).__name__ for ly in model.layers if hasattr(ly, "kernel"))
        case = f"a {kinds} model, x of shape {x.shape}"
        got = call(gradient_norms, model, x, y, case=case)
        if got is None:
            raise CheckFailed(
                f"`gradient_norms` returned None on the case {case}: return the list."
            )
        got = np.asarray([float(v) for v in got])
        want = np.asarray(_numpy_norms(model, x, y))
        if got.shape != want.shape:
            raise fail("gradient_norms", case, f"{len(want)} norms, one per kernel", f"{len(got)}")
        rel = np.abs(got - want) / np.maximum(want, 1e-12)
        if rel.max() > 1e-3:
            raise fail(
                "gradient_norms",
                case,
                f"{np.round(want, 5)} (NumPy backpropagation)",
                f"{np.round(got, 5)}",
                "kernels only (not biases), input side first, the MEAN loss over the batch, "
                "from_logits=True",
            )
    passed(
        "gradient_norms: equal to NumPy backpropagation on a dense, a 3-layer dense and a conv model"
    )


# --- the deep network -------------------------------------------------------------------------


def check_deep_net(deep_net: Callable, seed: int = 0) -> None:
    """`deep_net(n_blocks, residual, size=16, channels=16, classes=10)`: a 3x3 ReLU conv
    ("stem"), n_blocks blocks of conv3x3-ReLU-conv3x3 (+ x if residual) then ReLU, global
    average pooling, Dense(classes) logits. (size, size, 3) -> (classes,). No batch norm."""
    import keras

    from utils.measure.graph import weight_depth

    rng = np.random.default_rng(seed)
    cases = [
        (
            int(rng.integers(1, 5)),
            r,
            int(rng.integers(6, 12)),
            int(rng.integers(2, 9)),
            int(rng.integers(2, 7)),
        )
        for r in (False, True)
    ]
    for n, residual, size, ch, classes in cases:
        case = f"deep_net({n}, residual={residual}, size={size}, channels={ch}, classes={classes})"
        model = call(deep_net, n, residual, size=size, channels=ch, classes=classes, case=case)
        if model is None:
            raise CheckFailed(f"`deep_net` returned None on the case {case}: return the model.")
        if tuple(model.input.shape[1:]) != (size, size, 3) or tuple(model.output.shape[1:]) != (
            classes,
        ):
            raise fail(
                "deep_net",
                case,
                f"input (None, {size}, {size}, 3), output (None, {classes})",
                f"input {tuple(model.input.shape)}, output {tuple(model.output.shape)}",
            )
        want = (27 + 1) * ch + n * 2 * (9 * ch + 1) * ch + (ch + 1) * classes
        if model.count_params() != want:
            raise fail("deep_net", case, f"{want:,} parameters", f"{model.count_params():,}")
        if weight_depth(model) != 2 * n + 2:
            raise fail(
                "deep_net",
                case,
                f"{2 * n + 2} layers with weights on the longest path",
                f"{weight_depth(model)}",
            )
        adds = len(_layers(model, "Add"))
        if adds != (n if residual else 0):
            raise fail("deep_net", case, f"{n if residual else 0} Add layers", f"{adds}")
        from utils.checks.structure import check_nonlinear, children

        feeding_add = [
            c
            for c in _layers(model, "Conv2D")
            if any(type(k).__name__ == "Add" for k in children(model, c))
        ]
        inner = [c for c in _layers(model, "Conv2D") if c not in feeding_add]
        check_nonlinear(model, inner, "deep_net", case, "every convolution not feeding Add")
        # every block's kernels zeroed and biases set to -0.1: each block's branch outputs -0.1
        # everywhere; plain -> relu(-0.1) = 0 passes nothing; residual -> h = relu(h - 0.1)
        convs = _layers(model, "Conv2D")
        stem, dense = convs[0], _layers(model, "Dense")[-1]
        for cv in convs[1:]:
            cv.kernel.assign(np.zeros(cv.kernel.shape, "float32"))
            cv.bias.assign(np.full(cv.bias.shape, -0.1, "float32"))
        x = rng.standard_normal((2, size, size, 3)).astype("float32")
        h = np.maximum(keras.ops.convert_to_numpy(stem(x)), 0)
        for _ in range(n):
            h = np.maximum(h - 0.1, 0)
        if residual:
            want_out = h.mean(axis=(1, 2)) @ keras_np(dense.kernel) + keras_np(dense.bias)
        else:
            want_out = np.broadcast_to(keras_np(dense.bias), (2, classes))
        got = keras.ops.convert_to_numpy(model(x, training=False))
        if np.abs(got - want_out).max() > 1e-4:
            what = (
                "the shortcuts carry the stem's features: each block gives relu(x - 0.1)"
                if residual
                else "the dense bias alone: nothing gets through a plain net"
            )
            raise fail(
                "deep_net",
                f"{case}, every block's kernels set to 0 and biases to -0.1",
                what,
                f"a largest difference of {np.abs(got - want_out).max():.3g}",
                "logits: no softmax on the last Dense; a ReLU after the stem; in a block, "
                "add x to the second convolution's output, then ReLU",
            )
    passed(
        "deep_net: shapes, parameters, depth and shortcuts, and its output with zeroed blocks, "
        "for a plain and a residual net"
    )
