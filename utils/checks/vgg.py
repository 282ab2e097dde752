"""Checks for unit 08 (VGG): a VGG block builder, whole VGG networks, their parameter counts.

References, all independent of the exercises' answers:
- `vgg_block`: the block's behaviour on random inputs (number of Conv2D layers, 3x3 'same'
  convolutions with ReLU, one pooling that halves the size) and each convolution's parameters
  against the formula (9 * c_in + 1) * c_out;
- `build_vgg` and `vgg_params`: `keras.applications.VGG16` / `VGG19` built with
  `weights=None` (layer by layer), and the published totals of VGG11 and VGG13 (torchvision's
  `vgg11` / `vgg13` model cards; keras.applications has neither).
Models are built with `utils.measure.tables.without_weights()`: counted, never run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import CheckFailed, call, calls_to, fail, passed
from utils.checks.structure import activation_name, model_of

#: The configurations of the VGG paper (Simonyan & Zisserman 2014, table 1, A, B, D, E):
#: one (filters, number of 3x3 convolutions) pair per block; each block ends in 2x2 pooling.
VGG_CONFIGS = {
    "VGG11": [(64, 1), (128, 1), (256, 2), (512, 2), (512, 2)],
    "VGG13": [(64, 2), (128, 2), (256, 2), (512, 2), (512, 2)],
    "VGG16": [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)],
    "VGG19": [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)],
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


def _block_cases(n: int, seed: int):
    rng = np.random.default_rng(seed)
    for i in range(n):
        h, w = (2 * int(v) for v in rng.integers(2, 20, size=2))
        if i == n - 1:
            h += 1  # an odd size: pooling rounds down
        yield h, w, int(rng.integers(1, 17)), int(rng.integers(1, 33)), int(rng.integers(1, 5))


def check_vgg_block(vgg_block: Callable, seed: int = 0, n_cases: int = 6) -> None:
    """`vgg_block(x, filters, n_convs)` on symbolic inputs of random sizes: n_convs 3x3 'same'
    ReLU convolutions with (9 * c_in + 1) * c_out parameters each, then one 2x2 max pooling."""
    import keras

    from utils.measure.tables import without_weights

    for h, w, c_in, filters, n_convs in _block_cases(n_cases, seed):
        case = f"x of shape (None, {h}, {w}, {c_in}), filters={filters}, n_convs={n_convs}"
        with without_weights():
            model = model_of(vgg_block, (h, w, c_in), filters, n_convs, name="vgg_block", case=case)
        convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
        if len(convs) != n_convs:
            raise fail("vgg_block", case, f"{n_convs} Conv2D layers", f"{len(convs)}")
        c_prev = c_in
        for j, conv in enumerate(convs):
            where = f"{case}, convolution {j}"
            if tuple(conv.kernel_size) != (3, 3) or tuple(conv.strides) != (1, 1):
                raise fail(
                    "vgg_block",
                    where,
                    "3x3 kernel, stride 1",
                    f"{conv.kernel_size}, {conv.strides}",
                )
            if tuple(conv.output.shape[1:3]) != tuple(conv.input.shape[1:3]):
                raise fail(
                    "vgg_block",
                    where,
                    "the same height and width as its input (padding='same')",
                    tuple(conv.output.shape[1:3]),
                )
            act = getattr(conv.activation, "__name__", str(conv.activation))
            if act != "relu":
                raise fail("vgg_block", where, "activation relu", act)
            want = (9 * c_prev + 1) * filters
            if conv.count_params() != want:
                raise fail(
                    "vgg_block",
                    where,
                    f"(9 * {c_prev} + 1) * {filters} = {want:,} parameters",
                    f"{conv.count_params():,}",
                    "each convolution has `filters` kernels of 3x3 over all its input channels.",
                )
            c_prev = filters
        if len(pools) != 1:
            raise fail("vgg_block", case, "exactly one MaxPooling2D, at the end", len(pools))
        want_shape = (h // 2, w // 2, filters)
        if tuple(model.output.shape[1:]) != want_shape:
            raise fail(
                "vgg_block",
                case,
                f"output shape (None, {h // 2}, {w // 2}, {filters}): 2x2 pooling halves the size",
                tuple(model.output.shape),
            )
    passed(
        f"`vgg_block` stacks n_convs 3x3 ReLU convolutions and halves the size, "
        f"on {n_cases} random blocks."
    )


def _compare(name: str, case: str, model, reference) -> None:
    from utils.measure.tables import model_table

    got, want = model_table(model), model_table(reference)
    for i, (g, e) in enumerate(zip(got, want, strict=False)):
        if g != e:
            raise fail(
                name,
                f"{case}, layer {i} (keras.applications: {reference.layers[i].name})",
                e,
                g,
                "compare with the table of configurations; no Dropout, like keras.applications.",
            )
    if len(got) != len(want):
        raise fail(name, f"{case}: number of layers", len(want), len(got))

    for i, (layer, ref) in enumerate(zip(model.layers, reference.layers, strict=True)):
        have, should = activation_name(layer), activation_name(ref)
        if have != should:
            raise fail(
                name,
                f"{case}, layer {i} ({type(layer).__name__})",
                f"activation {should or 'linear'!r}",
                f"activation {have or 'linear'!r}",
                "the last layer gives probabilities; every other weighted layer is followed "
                "by a nonlinearity",
            )


def check_build_vgg(build_vgg: Callable, seed: int = 0) -> None:
    """`build_vgg(config, input_shape=(224, 224, 3), num_classes=1000)` for VGG_CONFIGS:
    VGG16 and VGG19 layer by layer against keras.applications (weights=None), VGG11 and VGG13
    against their published totals, and one smaller input / fewer classes."""
    import keras

    from utils.measure.tables import without_weights

    name = getattr(build_vgg, "__name__", "build_vgg")
    rng = np.random.default_rng(seed)
    size, classes = 32 * int(rng.integers(1, 5)), int(rng.integers(2, 20))
    cases = [("VGG16", 224, 1000), ("VGG19", 224, 1000), ("VGG16", size, classes)]
    for config, image_size, n_classes in cases:
        case = f"VGG_CONFIGS[{config!r}], input_shape=({image_size}, {image_size}, 3), num_classes={n_classes}"
        with without_weights():
            model = call(
                build_vgg,
                VGG_CONFIGS[config],
                input_shape=(image_size, image_size, 3),
                num_classes=n_classes,
                case=case,
            )
        if model is None:
            raise CheckFailed(f"`{name}` returned None on {case}: return the model.")
        if isinstance(model, keras.Sequential):
            raise CheckFailed(
                f"`{name}` must build a functional model, `keras.Model(inputs, outputs)`."
            )
        _compare(name, case, model, _keras_vgg(config, image_size, n_classes))
    for config, total in PUBLISHED_PARAMS.items():
        case = f"VGG_CONFIGS[{config!r}] (224x224, 1000 classes)"
        with without_weights():
            model = call(build_vgg, VGG_CONFIGS[config], case=case)
        convs = sum(isinstance(layer, keras.layers.Conv2D) for layer in model.layers)
        want_convs = sum(n for _, n in VGG_CONFIGS[config])
        if convs != want_convs:
            raise fail(name, case, f"{want_convs} Conv2D layers", convs)
        if model.count_params() != total:
            raise fail(name, case, f"{total:,} parameters (published)", f"{model.count_params():,}")
    passed(
        f"`{name}` builds VGG16 and VGG19 exactly like keras.applications (also at "
        f"{size}x{size} with {classes} classes) and VGG11 / VGG13 with their published counts."
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
