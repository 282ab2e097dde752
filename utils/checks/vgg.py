"""Checks for unit 08 (VGG): a VGG block with batch normalisation, whole VGG networks from
torchvision-style configurations with a global-average-pooling head, the parameter counts of
the original (dense-head) VGG.

References, all independent of the exercises' answers:
- `vgg_bn_block` and `build_vgg`: Keras networks the check builds itself (`_reference_vgg`),
  compared layer by layer (kind, output shape, parameters, activation) and,
  for small random cases, output by output with the same random weights in both models;
- `vgg_params`: `keras.applications.VGG16` / `VGG19` built with `weights=None` (layer by
  layer), and the published totals of VGG11 and VGG13 (torchvision's `vgg11` / `vgg13` model
  cards; keras.applications has neither).
ImageNet-size models are built with `utils.measure.tables.without_weights()`: counted, never run.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

import numpy as np

from utils.checks.core import CheckFailed, call, calls_to, fail, passed
from utils.checks.references import reference
from utils.checks.structure import activation_name, model_of, random_weights

#: The configurations of the VGG paper (Simonyan & Zisserman 2014, table 1, A, B, D, E):
#: one (filters, number of 3x3 convolutions) pair per block; each block ends in 2x2 pooling.
VGG_CONFIGS = {
    "VGG11": [(64, 1), (128, 1), (256, 2), (512, 2), (512, 2)],
    "VGG13": [(64, 2), (128, 2), (256, 2), (512, 2), (512, 2)],
    "VGG16": [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)],
    "VGG19": [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)],
}

#: The same four configurations as torchvision's `cfgs` ("A", "B", "D", "E", i.e. VGG11, 13,
#: 16, 19): one flat list, a number for each 3x3 convolution (its filters), "M" for each 2x2
#: max pooling.
CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", *[256] * 3, "M", *[512] * 3, "M", *[512] * 3, "M"],
    "E": [64, 64, "M", 128, 128, "M", *[256] * 4, "M", *[512] * 4, "M", *[512] * 4, "M"],
}

#: Published parameter counts of the two configurations keras.applications lacks
#: (torchvision's vgg11 and vgg13, 224x224 inputs, 1000 classes).
PUBLISHED_PARAMS = {"VGG11": 132_863_336, "VGG13": 133_047_848}


def _keras_vgg(name: str, image_size: int = 224, classes: int = 1000):
    """keras.applications' VGG16 or VGG19 with random (undrawn) weights."""
    import keras

    from utils.measure.tables import without_weights

    builder = {"VGG16": keras.applications.VGG16, "VGG19": keras.applications.VGG19}[name]
    with without_weights():
        return builder(weights=None, input_shape=(image_size, image_size, 3), classes=classes)


def _kind(layer) -> str:
    """A layer's class name, with a ReLU written as `Activation("relu")` counted as `ReLU`."""
    kind = type(layer).__name__
    if kind in ("Activation", "ReLU") and activation_name(layer) == "relu":
        return "ReLU"
    return kind


def _rows(model) -> list[tuple[str, tuple, int]]:
    """(kind, output shape without batch, parameters) of each layer but the InputLayer."""
    return [
        (_kind(layer), tuple(layer.output.shape[1:]), int(layer.count_params()))
        for layer in model.layers
        if type(layer).__name__ != "InputLayer"
    ]


def _layers(model) -> list:
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def _row_hint(mine, ref) -> str:
    """What a difference between the learner's layer `mine` and the reference's `ref` suggests."""
    kinds = (_kind(mine), _kind(ref))
    if kinds == ("Conv2D", "Conv2D"):
        if mine.use_bias:
            return (
                "each convolution is followed by a batch normalisation, which shifts its output "
                "by a learnt beta: read again what the exercise says about the convolutions' bias."
            )
        if tuple(mine.kernel_size) != tuple(ref.kernel_size):
            return "each convolution has the kernel size of its entry of `kernel_sizes`."
        return "compare the convolution's filters, strides and padding with the exercise."
    if kinds == ("Dense", "Dense"):
        return "the last layer has one unit per class."
    if kinds[1] == "GlobalAveragePooling2D":
        return "global average pooling replaces Flatten and the 4096-wide dense layers."
    if kinds[1] == "MaxPooling2D" or kinds[0] == "MaxPooling2D":
        return 'one 2x2 max pooling closes each block (each "M" of the configuration).'
    return "each convolution is followed by BatchNormalization, then a ReLU, in that order."


def _same_structure(name: str, case: str, model, reference) -> None:
    """CheckFailed at the first layer of `model` that differs from `reference` in kind, output
    shape, parameters or activation (Conv2D linear, the last Dense softmax)."""
    got, want = _rows(model), _rows(reference)
    mine, refs = _layers(model), _layers(reference)
    for i, (g, e) in enumerate(zip(got, want, strict=False)):
        if g != e:
            raise fail(name, f"{case}, layer {i}", e, g, _row_hint(mine[i], refs[i]))
    if len(got) != len(want):
        raise fail(
            name,
            f"{case}: number of layers (the InputLayer not counted)",
            len(want),
            len(got),
            "one Conv2D, BatchNormalization and ReLU per convolution, one MaxPooling2D per block",
        )
    for i, (layer, ref) in enumerate(zip(mine, refs, strict=True)):
        have, should = activation_name(layer), activation_name(ref)
        if have != should:
            raise fail(
                name,
                f"{case}, layer {i} ({type(layer).__name__})",
                f"activation {should or 'linear'!r}",
                f"activation {have or 'linear'!r}",
                "the ReLU comes after the batch normalisation, as a layer of its own"
                if type(layer).__name__ == "Conv2D"
                else "the last layer gives class probabilities",
            )


def _same_function(name: str, case: str, model, reference, rng: np.random.Generator) -> None:
    """`model` with random weights and `reference` with the same weights (and the same
    BatchNormalization epsilon) give the same outputs, in inference mode, on random inputs."""
    import keras

    random_weights(model, rng, shift=0.1)
    weighted = [ly for ly in _layers(model) if ly.weights]
    for mine, ref in zip(weighted, [ly for ly in _layers(reference) if ly.weights], strict=True):
        ref.set_weights(mine.get_weights())
        if isinstance(ref, keras.layers.BatchNormalization):
            ref.epsilon = mine.epsilon
    x = rng.normal(size=(2, *model.inputs[0].shape[1:])).astype("float32")
    got = keras.ops.convert_to_numpy(model(x, training=False))
    want = keras.ops.convert_to_numpy(reference(x, training=False))
    if not np.allclose(got, want, rtol=1e-4, atol=1e-5):
        raise fail(
            name,
            f"{case}, the same random weights in your model and in the check's",
            "the same outputs",
            f"outputs that differ by up to {float(np.abs(got - want).max()):.3g}",
            "the layers match in kind and size, so look at their settings and at what "
            "each layer is applied to.",
        )


@reference
def _reference_vgg(cfg, input_shape, num_classes: int | None, kernel_sizes=None):
    """The check's own network for a flat configuration: per kernel size, convolution ->
    normalisation -> ReLU, pooling at each "M"; then GAP and softmax. With num_classes None:
    one block only, of cfg[0] filters and the given kernel sizes (the block check's reference)."""
    import keras

    layers = keras.layers

    def block(x, filters, sizes):
        for k in sizes:
            x = layers.Conv2D(filters, (k, k), strides=1, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(axis=-1)(x)
            x = layers.ReLU()(x)
        return layers.MaxPooling2D(pool_size=2, strides=2)(x)

    inputs = keras.Input(input_shape)
    if num_classes is None:
        return keras.Model(inputs, block(inputs, cfg[0], kernel_sizes))
    x, run = inputs, []
    for v in cfg:
        if v != "M":
            run.append(v)
            continue
        x = block(x, run[0], [3] * len(run))
        run = []
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))


def _block_cases(n: int, seed: int):
    """(h, w, c_in, filters, kernel_sizes): sizes even but the last (pooling rounds down), the
    kernel sizes 1s and 3s with at least one 3; the last case is configuration C's (3, 3, 1)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        h, w = (2 * int(v) for v in rng.integers(2, 10, size=2))
        kernels = tuple(int(k) for k in rng.choice([1, 3], size=int(rng.integers(1, 5))))
        if 3 not in kernels:
            kernels = (3, *kernels[1:])
        if i == n - 1:
            h, kernels = h + 1, (3, 3, 1)
        yield h, w, int(rng.integers(1, 9)), int(rng.integers(1, 17)), kernels


def check_vgg_bn_block(vgg_bn_block: Callable, seed: int = 0, n_cases: int = 6) -> None:
    """`vgg_bn_block(x, filters, kernel_sizes)` on symbolic inputs of random sizes against the
    check's own block (per kernel size: Conv2D without bias, BatchNormalization, ReLU; then 2x2
    max pooling): layer by layer, then with the same random weights, output by output."""

    name = getattr(vgg_bn_block, "__name__", "vgg_bn_block")
    rng = np.random.default_rng(seed + 1000)
    for h, w, c_in, filters, kernels in _block_cases(n_cases, seed):
        case = f"x of shape (None, {h}, {w}, {c_in}), filters={filters}, kernel_sizes={kernels}"
        model = model_of(vgg_bn_block, (h, w, c_in), filters, kernels, name=name, case=case)
        reference = _reference_vgg([filters], (h, w, c_in), None, kernels)
        _same_structure(name, case, model, reference)
        _same_function(name, case, model, reference, rng)
    passed(
        f"`{name}` stacks convolution, batch normalisation and ReLU per kernel size and halves "
        f"the size, like the check's own block, on {n_cases} random blocks."
    )


def _random_cfg(rng: np.random.Generator) -> list:
    """A small flat configuration: 2 to 4 blocks of 1 to 3 equal numbers, each closed by "M"."""
    cfg = []
    for _ in range(int(rng.integers(2, 5))):
        cfg += [int(rng.integers(2, 13))] * int(rng.integers(1, 4)) + ["M"]
    return cfg


def check_build_vgg(build_vgg: Callable, seed: int = 0, n_random: int = 3) -> None:
    """`build_vgg(cfg, input_shape=(224, 224, 3), num_classes=1000)` for a flat configuration
    (numbers: 3x3 convolutions, "M": 2x2 max pooling) against the check's own network (blocks
    with batch normalisation, global average pooling, one softmax layer): CFGS A, B, D and E
    at 224x224 layer by layer (counted, not run), and `n_random` small random configurations
    also output by output with the same random weights."""
    import keras

    from utils.measure.tables import without_weights

    name = getattr(build_vgg, "__name__", "build_vgg")
    rng = np.random.default_rng(seed)
    cases = [(key, cfg, (224, 224, 3), 1000) for key, cfg in CFGS.items()]
    for i in range(n_random):
        cfg = _random_cfg(rng)
        side = 2 ** cfg.count("M") * int(rng.integers(1, 4))
        shape = (side, side + 2 ** cfg.count("M"), int(rng.integers(1, 4)))
        cases.append((f"random {i + 1}", cfg, shape, int(rng.integers(2, 11))))
    for label, cfg, shape, classes in cases:
        case = f"cfg={cfg} ({label}), input_shape={shape}, num_classes={classes}"
        full = shape[0] == 224
        with without_weights() if full else nullcontext():
            try:
                model = call(
                    build_vgg, list(cfg), input_shape=shape, num_classes=classes, case=case
                )
            except ValueError as err:
                if "zero or negative" not in str(err):
                    raise
                raise fail(
                    name,
                    case,
                    f'{cfg.count("M")} poolings, one per "M"',
                    "a layer whose output would have no pixels left",
                    'a 2x2 max pooling comes only at each "M", closing a block of convolutions.',
                ) from None
            if model is None:
                raise CheckFailed(f"`{name}` returned None on {case}: return the model.")
            if isinstance(model, keras.Sequential):
                raise CheckFailed(
                    f"`{name}` must build a functional model, `keras.Model(inputs, outputs)`."
                )
            if not isinstance(model, keras.Model):
                raise fail(name, case, "a keras.Model", type(model).__name__)
            reference = _reference_vgg(cfg, shape, classes)
        if len(model.inputs) != 1 or tuple(model.inputs[0].shape[1:]) != tuple(shape):
            raise fail(
                name, case, f"a model for inputs of shape {shape}", [i.shape for i in model.inputs]
            )
        _same_structure(name, case, model, reference)
        if not full:
            _same_function(name, case, model, reference, rng)
    passed(
        f"`{name}` builds configurations A, B, D and E with batch normalisation and a global "
        f"average pooling head like the check's own networks, and {n_random} random ones "
        "output by output."
    )


def check_vgg_params(vgg_params: Callable, seed: int = 0) -> None:
    """`vgg_params(config, image_size=224, num_classes=1000)` (a formula, no model) against
    keras.applications VGG16 / VGG19 at random sizes and class counts, and VGG11 / VGG13's
    published totals. Building a model (any Keras layer) to count is rejected."""
    import keras

    rng = np.random.default_rng(seed)
    cases = [("VGG16", 224, 1000), ("VGG19", 224, 1000)]
    cases += [
        (
            str(rng.choice(["VGG16", "VGG19"])),
            32 * int(rng.integers(1, 9)),
            int(rng.integers(2, 1001)),
        )
        for _ in range(3)
    ]
    for config, size, classes in cases:
        case = f"VGG_CONFIGS[{config!r}], image_size={size}, num_classes={classes}"
        got, built = calls_to(
            vgg_params,
            [keras.layers.Layer.__init__],
            VGG_CONFIGS[config],
            image_size=size,
            num_classes=classes,
            case=case,
        )
        if built:
            raise fail(
                "vgg_params",
                case,
                "a count from the configuration alone, nothing built",
                f"{built} Keras layers built",
                "the exercise is the arithmetic: count each layer's weights and biases from "
                "the configuration, without building the network",
            )
        want = _keras_vgg(config, size, classes).count_params()
        if got != want:
            hint = (
                "the convolutions are right if VGG16 at 224 is: what does the first dense "
                "layer see after five poolings of this image size?"
            )
            raise fail("vgg_params", case, f"{want:,} (keras.applications)", got, hint)
    for config, total in PUBLISHED_PARAMS.items():
        case = f"VGG_CONFIGS[{config!r}], image_size=224, num_classes=1000"
        got = call(vgg_params, VGG_CONFIGS[config], case=case)
        if got != total:
            raise fail("vgg_params", case, f"{total:,} (published)", got)
    passed(
        f"`vgg_params` matches keras.applications and the published totals on {len(cases) + 2} cases."
    )
