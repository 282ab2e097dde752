"""Checks for unit 10 (ResNet): pre-activation residual blocks (He et al., 2016, "Identity
Mappings in Deep Residual Networks") with identity and projection shortcuts, the per-layer
gradient norms of a loss, and a deep plain / residual network for the experiment.

References, all independent of the exercises' answers:
- the blocks: Keras blocks the check builds itself (`_reference_block`), compared with the
  learner's by output shape, by the layers on every path from the input to the output (found
  from the graph, so the order in which the code builds the two paths does not matter), by
  their convolutions and parameters, and by their outputs on random inputs once the learner's
  random weights are copied into the check's block (inference and training mode);
- zero_init: the branch's last kernel at 0 makes a block the identity on every input
  (negative values included: nothing follows the addition), and a projection block equal to
  its shortcut, `relu(BN(x))[:, ::s, ::s] @ W`, computed in NumPy from the block's own batch
  norm and 1x1 kernel;
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
from utils.checks.references import reference
from utils.checks.structure import activation_name, model_of, random_weights


def _layers(model, cls_name: str) -> list:
    import keras

    cls = getattr(keras.layers, cls_name)
    return [ly for ly in model.layers if isinstance(ly, cls)]


def _run(model, x, training: bool) -> np.ndarray:
    import keras

    return keras.ops.convert_to_numpy(model(x, training=training))


def keras_np(variable) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float64)


# --- pre-activation residual blocks -----------------------------------------------------------


def _kind(op) -> str:
    """A layer (or operation) of a block in the exercise's words: "BatchNormalization", "ReLU"
    (a ReLU layer, `Activation("relu")` or `keras.ops.relu`), "Conv2D 3x3" (with ", stride 2"
    or an activation when it has one), "Add" (the layer or `+`), else its class name."""
    kind = type(op).__name__
    if kind == "Conv2D":
        text = "Conv2D " + "x".join(str(k) for k in op.kernel_size)
        strides = tuple(op.strides)
        if strides != (1, 1):
            text += f", stride {strides[0]}" if len(set(strides)) == 1 else f", strides {strides}"
        act = activation_name(op)
        return text + (f", activation {act}" if act else "")
    if kind in ("ReLU", "Relu") or (kind == "Activation" and activation_name(op) == "relu"):
        return "ReLU"
    return kind


def _paths(model) -> list[list]:
    """Every path through `model` from its input to its output, as the list of the layers (or
    operations) on it in order, the InputLayer left out; sorted by their kinds."""
    from utils.measure.graph import parents

    def walk(op) -> list[list]:
        above = parents(op)
        if not above:  # the InputLayer
            return [[]]
        return [path + [op] for p in above for path in walk(p)]

    return sorted(walk(model.outputs[0]._keras_history.operation), key=_kinds)


def _kinds(path: list) -> list[str]:
    return [_kind(op) for op in path]


_BRANCH = "the branch (the path through the 3x3 convolutions)"
_SHORTCUT = "the shortcut (the other path)"


def _first_difference(mine: list[list], ref: list[list]) -> tuple[str, str] | None:
    """(expected, got) at the first place where the learner's paths differ from the check's
    in the kinds of their layers: the branch first, then the shortcut, layer by layer from x.
    It names one layer, not the whole order, so that the message does not write the block
    out; None if the kinds agree everywhere."""
    if len(mine) != len(ref):
        return f"{len(ref)} paths from x to the output (the branch and the shortcut)", str(
            len(mine)
        )
    branches = [p for p in mine if any(k.startswith("Conv2D 3x3") for k in _kinds(p))]
    if len(branches) != 1:
        return "one path through the 3x3 convolutions (the branch)", str(len(branches))
    ref_branch, ref_short = _branch_and_shortcut(ref)
    my_short = next(p for p in mine if p is not branches[0])
    for label, got, want in ((_BRANCH, branches[0], ref_branch), (_SHORTCUT, my_short, ref_short)):
        g, w = _kinds(got), _kinds(want)
        for i in range(max(len(g), len(w))):
            a, b = (g[i] if i < len(g) else None), (w[i] if i < len(w) else None)
            if a != b:
                where = f"on {label}, layer {i + 1} after x:"
                end = "nothing (the path has reached the output)"
                return f"{where} {b or end}", a or end
    return None


def _path_hint(paths: list[list], project: bool) -> str:
    """The likely cause when the learner's paths differ from the check's block's."""
    kinds = [_kinds(p) for p in paths]
    if any(not k or k[-1] != "Add" for k in kinds):
        return (
            "a pre-activation block ends with the addition: the batch norm and ReLU that would "
            "follow it belong to the next block, which applies them before its convolutions."
        )
    branch = [k for k in kinds if any(s.startswith("Conv2D 3x3") for s in k)]
    if branch and branch[0][0].startswith("Conv2D"):
        return (
            "in a pre-activation block every convolution comes after a batch norm and a ReLU, "
            "not before them (that is the lecture's basic block)."
        )
    if branch and any("stride" in s for s in [s for s in branch[0] if "3x3" in s][1:]):
        return (
            "the branch's first convolution takes the stride (as the projection does), the "
            "second one keeps stride 1."
        )
    short = [k for k in kinds if not any(s.startswith("Conv2D 3x3") for s in k)]
    if not short:
        return "Add receives the branch and the shortcut: one of its two inputs is missing."
    if not project and short and short[0] != ["Add"]:
        return "the identity shortcut adds x itself, as the block received it."
    if project and short and short[0][0].startswith("Conv2D"):
        return (
            "the projection reads the pre-activated input relu(BN(x)), the tensor the branch's "
            "first convolution reads, not x."
        )
    if project and short and "BatchNormalization" in short[0][1:]:
        return "the projection has no batch norm of its own after it."
    return "compare the order of the layers on each path with the exercise."


@reference
def _reference_block(input_shape: tuple, filters: int, stride: int, project: bool):
    """The check's own pre-activation block, as a keras.Model on inputs of `input_shape`
    (H, W, C): BN -> ReLU on x; a branch of conv3x3 (stride), BN, ReLU, conv3x3; a shortcut
    that is x itself or a 1x1 convolution (stride) of the pre-activated input; their sum. No
    biases; Keras's default settings otherwise."""
    import keras

    layers = keras.layers
    x = keras.Input(input_shape)
    pre = layers.Activation("relu")(layers.BatchNormalization(axis=-1)(x))
    branch = layers.Conv2D(filters, (3, 3), strides=stride, padding="same", use_bias=False)(pre)
    branch = layers.Activation("relu")(layers.BatchNormalization(axis=-1)(branch))
    branch = layers.Conv2D(filters, (3, 3), strides=1, padding="same", use_bias=False)(branch)
    shortcut = x
    if project:  # oneDNN: stride 2 on a 1x1 kernel; the check only runs it forward
        shortcut = layers.Conv2D(filters, (1, 1), strides=stride, use_bias=False)(pre)  # oneDNN
    return keras.Model(x, layers.Add()([branch, shortcut]))


def _same_structure(name: str, case: str, model, reference, project: bool) -> list[tuple]:
    """CheckFailed at the first difference between `model` and `reference` in output shape,
    paths, convolutions and parameters; else the (learner's layer, check's layer) pairs."""
    want_shape, got_shape = tuple(reference.output.shape[1:]), tuple(model.output.shape[1:])
    if got_shape != want_shape:
        raise fail(
            name,
            case,
            f"output shape (None, {', '.join(map(str, want_shape))})",
            f"(None, {', '.join(map(str, got_shape))})",
            "padding='same' keeps the size of a convolution's input; with a stride, it divides "
            "the size in the branch and in the shortcut alike.",
        )
    mine, ref = _paths(model), _paths(reference)
    difference = _first_difference(mine, ref)
    if difference:
        raise fail(
            name,
            f"{case}: the layers on each path from x to the output",
            *difference,
            _path_hint(mine, project),
        )
    biased = [op.name for p in mine for op in p if _kind(op).startswith("Conv2D") and op.use_bias]
    if biased:
        raise fail(
            name,
            case,
            "convolutions without bias (use_bias=False)",
            f"a bias in {sorted(set(biased))}",
            "every convolution's output reaches a batch norm before any ReLU (the branch's, or "
            "through the sum the next block's), whose beta is a learnt shift already.",
        )
    for pm, pr in zip(mine, ref, strict=True):
        for a, b in zip(pm, pr, strict=True):
            if _kind(a).startswith("Conv2D") and a.filters != b.filters:
                raise fail(
                    name,
                    f"{case}, {a.name}",
                    f"{b.filters} kernels",
                    f"{a.filters}",
                    "every convolution of the block has the block's number of output channels.",
                )
    if model.count_params() != reference.count_params():
        raise fail(
            name,
            case,
            f"{reference.count_params():,} parameters",
            f"{model.count_params():,}",
            "count one batch norm on x, shared by the branch and the shortcut, and one inside "
            "the branch (4 values per channel each), and the convolutions' kernels.",
        )
    pairs: dict[int, tuple] = {}
    for pm, pr in zip(mine, ref, strict=True):
        for a, b in zip(pm, pr, strict=True):
            if pairs.setdefault(id(a), (a, b))[1] is not b:
                raise fail(
                    name,
                    case,
                    "one pre-activation relu(BN(x)) that both paths read",
                    f"`{a.name}` where the check's block has two different layers",
                    "compute relu(BN(x)) once, and let the branch and the shortcut read it.",
                )
    return list(pairs.values())


def _same_function(name, case, model, reference, pairs, rng) -> None:
    """The learner's block with random weights and the check's with the same weights (and the
    same batch-norm epsilon) give the same outputs on random inputs, in both modes."""
    import keras

    random_weights(model, rng)
    for mine, ref in pairs:
        if getattr(mine, "weights", None):  # a layer with weights, not `+` or an activation
            ref.set_weights(mine.get_weights())
            if isinstance(ref, keras.layers.BatchNormalization):
                ref.epsilon = mine.epsilon
    x = rng.normal(size=(2, *model.inputs[0].shape[1:])).astype("float32")
    for training in (False, True):
        got = keras.ops.convert_to_numpy(model(x, training=training))
        want = keras.ops.convert_to_numpy(reference(x, training=training))
        if not np.allclose(got, want, rtol=1e-4, atol=1e-4):
            raise fail(
                name,
                f"{case}, training={training}, the same random weights in your block and the "
                "check's",
                "the same outputs",
                f"outputs that differ by up to {float(np.abs(got - want).max()):.3g}",
                "your layers match the check's in kind, order and size, so look at their "
                "settings (padding, dilation, the batch norms' axis, the ReLUs' arguments) and "
                "at the tensor each of them reads.",
            )


def _block_cases(n: int, seed: int, project: bool):
    """(h, w, c, filters, stride): small random blocks, strides 1 and 2 for a projection."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        h, w, c = (int(v) for v in rng.integers(3, 12, size=3))
        f, s = (int(rng.integers(1, 17)), int(rng.integers(1, 3))) if project else (c, 1)
        yield h, w, c, f, s


def _check_block(block, name, project, seed, n_cases) -> None:
    """Structure and function of the learner's block against the check's, on random cases."""

    rng = np.random.default_rng(seed + 1000)
    for h, w, c, f, s in _block_cases(n_cases, seed, project):
        args, kwargs = ((f,), {"stride": s}) if project else ((), {})
        case = f"x of shape (None, {h}, {w}, {c})" + (
            f", filters={f}, stride={s}" if project else ""
        )
        model = model_of(block, (h, w, c), *args, name=name, case=case, **kwargs)
        reference = _reference_block((h, w, c), f, s, project)
        pairs = _same_structure(name, case, model, reference, project)
        _same_function(name, case, model, reference, pairs, rng)


def _zero_kernels(name, case, model, reference, project, zero_init: bool) -> list[list]:
    """CheckFailed unless exactly the branch's last kernel is 0 (zero_init) or none is (after
    the structure's checks); else the learner's paths."""
    _same_structure(name, case, model, reference, project)
    paths = _paths(model)
    branch, _ = _branch_and_shortcut(paths)
    convs = [ly for ly in model.layers if _kind(ly).startswith("Conv2D")]
    zero = [cv.name for cv in convs if not keras_np(cv.kernel).any()]
    want = [branch[-2].name] if zero_init else []
    if zero != want:
        gammas = [
            bn.name for bn in _layers(model, "BatchNormalization") if not keras_np(bn.gamma).any()
        ]
        if zero_init and gammas:
            hint = (
                "a batch norm with gamma = 0 followed by a ReLU outputs 0 where the ReLU's "
                "gradient is 0: the weights of the branch would get no gradient and never learn. "
                "A pre-activation branch ends with a convolution: that one starts at 0."
            )
        elif zero_init and zero:
            hint = (
                "a zero kernel early in the branch hands the rest of it only zeros, and no "
                "gradient reaches the kernels: the branch would never learn. Only the last "
                "convolution, the one whose output Add receives, starts at 0."
            )
        elif zero_init:
            hint = "zero_init=True starts the branch's last convolution's kernel at 0."
        else:
            hint = "zero_init=False keeps Keras's default random initialiser on every kernel."
        raise fail(
            name,
            f"{case}, zero_init={zero_init}",
            f"zero kernels: {want or 'none'} (the branch's last convolution)"
            if zero_init
            else "no zero kernel",
            f"zero kernels: {zero or 'none'}",
            hint,
        )
    return paths


def _branch_and_shortcut(paths: list[list]) -> tuple[list, list]:
    """The path through the 3x3 convolutions and the other one."""
    branch = next(p for p in paths if any(_kind(op).startswith("Conv2D 3x3") for op in p))
    return branch, next(p for p in paths if p is not branch)


def check_preact_identity_block(
    preact_identity_block: Callable, seed: int = 0, n_cases: int = 4
) -> None:
    """`preact_identity_block(x, zero_init=False)`: BN -> ReLU -> conv3x3 -> BN -> ReLU ->
    conv3x3 (C kernels each, no bias), plus x: (N, H, W, C) -> (N, H, W, C). zero_init: the
    last convolution's kernel starts at 0."""

    name = "preact_identity_block"
    _check_block(preact_identity_block, name, False, seed, n_cases)
    rng = np.random.default_rng(seed + 1)
    h, w, c = 6, 5, int(rng.integers(3, 9))
    reference = _reference_block((h, w, c), c, 1, False)
    case = f"x of shape (3, {h}, {w}, {c})"
    for zero_init in (False, True):
        model = model_of(
            preact_identity_block, (h, w, c), name=name, case=case, zero_init=zero_init
        )
        _zero_kernels(name, case, model, reference, False, zero_init)
    x = rng.standard_normal((3, h, w, c)).astype("float32")
    for training in (False, True):
        err = float(np.abs(_run(model, x, training) - x).max())
        if err > 1e-6:
            raise fail(
                name,
                f"{case} (negative values too), zero_init=True, training={training}",
                "x itself: the branch adds 0",
                f"a largest difference of {err:.3g}",
                "nothing follows the addition in a pre-activation block.",
            )
    passed(
        f"{name}: layer order, shapes, parameters, and the outputs of the check's own block with "
        f"the same weights, on {n_cases} cases; with zero_init the identity on every x"
    )


def check_preact_projection_block(
    preact_projection_block: Callable, seed: int = 0, n_cases: int = 4
) -> None:
    """`preact_projection_block(x, filters, stride=2, zero_init=False)`: BN -> ReLU on x,
    then a branch conv3x3 (stride) -> BN -> ReLU -> conv3x3 and a shortcut conv1x1 (stride)
    of that pre-activated input, added: (N, H, W, C) -> (N, ceil(H / stride),
    ceil(W / stride), filters). No biases; zero_init: the branch's last kernel starts at 0."""

    name = "preact_projection_block"
    _check_block(preact_projection_block, name, True, seed, n_cases)
    rng = np.random.default_rng(seed + 2)
    h, w, c, f, s = 7, 8, int(rng.integers(3, 9)), int(rng.integers(3, 9)), 2
    reference = _reference_block((h, w, c), f, s, True)
    case = f"x of shape (2, {h}, {w}, {c}), filters={f}, stride={s}"
    for zero_init in (False, True):
        model = model_of(
            preact_projection_block,
            (h, w, c),
            f,
            name=name,
            case=case,
            stride=s,
            zero_init=zero_init,
        )
        paths = _zero_kernels(name, case, model, reference, True, zero_init)
    # with zero_init the block is its shortcut: relu(BN(x)) on every s-th pixel, times W
    bn, _, conv, _ = _branch_and_shortcut(paths)[1]
    gamma, beta, mean, var = (
        keras_np(v) for v in (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance)
    )
    kernel = keras_np(conv.kernel)[0, 0]
    x = rng.standard_normal((2, h, w, c)).astype("float32")
    for training in (False, True):  # inference first: training updates the moving statistics
        m, v = (x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))) if training else (mean, var)
        pre = np.maximum(gamma * (x - m) / np.sqrt(v + bn.epsilon) + beta, 0)
        want = pre[:, ::s, ::s, :] @ kernel
        err = float(np.abs(_run(model, x, training) - want).max())
        if err > 1e-4:
            raise fail(
                name,
                f"{case}, zero_init=True, training={training}",
                "the shortcut alone, relu(BN(x))[:, ::2, ::2] @ W (NumPy, from your block's "
                "first batch norm and 1x1 kernel W)",
                f"a largest difference of {err:.3g}",
                "with the last kernel at 0 the branch adds 0, and nothing follows the addition.",
            )
    passed(
        f"{name}: layer order, shapes, parameters, and the outputs of the check's own block with "
        f"the same weights, on {n_cases} cases; with zero_init the block equals its projection "
        "of relu(BN(x)) (NumPy)"
    )


# --- gradient norms ---------------------------------------------------------------------------


def _softmax_grad(logits, y):
    """d mean(cross-entropy) / d logits. logits: (N, K), y: (N,) int."""
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


@reference
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
        for ly in model.layers:  # NumPy's seeded weights: the same models on every machine
            if hasattr(ly, "kernel"):
                fan_in = int(np.prod(ly.kernel.shape[:-1]))
                scale = np.sqrt(2.0 / fan_in)
                ly.kernel.assign((scale * rng.standard_normal(ly.kernel.shape)).astype("float32"))
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
