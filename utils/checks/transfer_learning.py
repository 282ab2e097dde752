"""Checks for unit 14 (transfer learning): preprocessing, a frozen backbone with an MLP head,
fine-tuning by blocks, and the from-scratch baseline of exercise 4 (`train_from_scratch`).

References: keras.applications.<family>.preprocess_input; the trainable flags and weight counts
Keras reports; and behaviour: one real training step, after which the weights and the
BatchNormalization moving statistics that must not move are compared with copies taken before.
Backbones are the course's small CNN (utils.networks.backbones.course_backbone) or small networks
built here, some with layers named by block as keras.applications' are; the head's outputs
computed in NumPy from the backbone's features and the learner's Dense weights.
`_keras_preprocess` (keras.applications' preprocessing, exercise 1's contract) is an
`@reference`: the release holds only its results on the check's own images.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import CheckFailed, as_array, call, fail, passed
from utils.checks.references import reference

FAMILIES = ("mobilenet_v2", "resnet50", "efficientnet")


@reference
def _keras_preprocess(x: np.ndarray, family: str) -> np.ndarray:
    from utils.networks.backbones import preprocess_input

    return preprocess_input(x, family)


def _matches(got: np.ndarray, x: np.ndarray) -> str:
    """Which known preprocessing `got` looks like, for the hint."""
    candidates = {f"{f}'s": _keras_preprocess(x, f) for f in FAMILIES}
    candidates["x / 255 (the [0, 1] scaling)"] = x.astype(np.float32) / 255.0
    for name, value in candidates.items():
        if value.shape == got.shape and np.allclose(got, value, atol=1e-3):
            return f"your output equals {name} preprocessing"
    return f"your output ranges over [{got.min():.3g}, {got.max():.3g}]"


def check_preprocessing(preprocess: Callable, n_cases: int = 6, seed: int = 0) -> None:
    """Check `preprocess(x, family) -> array` against keras.applications.<family>.preprocess_input.

    x: uint8 RGB images (N, H, W, 3); family: one of FAMILIES. The input must not be changed.
    """
    name = getattr(preprocess, "__name__", "preprocess")
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        family = FAMILIES[k % len(FAMILIES)]
        shape = (int(rng.integers(1, 4)), int(rng.integers(2, 9)), int(rng.integers(2, 9)), 3)
        x = rng.integers(0, 256, size=shape, dtype=np.uint8)
        original = x.copy()
        case = f"family={family!r}, x uint8 {shape}"
        got = as_array(call(preprocess, x, family, case=case), name, case)
        if not np.array_equal(x, original):
            raise fail(
                name,
                case,
                "x unchanged",
                "x was modified in place",
                "work on a float copy: np.asarray(x, dtype=np.float32) and new arrays",
            )
        want = _keras_preprocess(x, family)
        if got.shape != want.shape or not np.allclose(got, want, atol=1e-3):
            raise fail(
                name,
                case,
                f"keras.applications.{family}.preprocess_input: "
                f"range [{want.min():.4g}, {want.max():.4g}]",
                _matches(got, x),
                "mobilenet_v2: [-1, 1]; resnet50: RGB->BGR then subtract the ImageNet "
                "channel means (caffe style); efficientnet: nothing (the model rescales)",
            )
    passed(
        f"`{name}` matches keras.applications' preprocess_input for {', '.join(FAMILIES)} "
        f"on {n_cases} random images"
    )


def _other_backbone(input_shape):
    """A second small backbone (Conv-BN-ReLU, a depthwise block), so checks see two designs."""
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="stem_conv")(inputs)
    x = keras.layers.BatchNormalization(momentum=0.5, name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="dw_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.5, name="dw_bn")(x)
    x = keras.layers.Conv2D(16, 1, name="pw_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.5, name="pw_bn")(x)
    x = keras.layers.ReLU(name="pw_relu")(x)
    return keras.Model(inputs, x, name="other_backbone")


def _backbone(kind: int, input_shape):
    from utils.networks.backbones import course_backbone

    return course_backbone(input_shape) if kind == 0 else _other_backbone(input_shape)


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def _bn_layers(backbone):
    import keras

    return [
        layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]


def _snapshot(layers) -> dict:
    return {
        (layer.name, i): np.array(w.numpy())
        for layer in layers
        for i, w in enumerate(layer.weights)
    }


def _changed(before: dict, layers) -> list[str]:
    now = _snapshot(layers)
    return sorted(
        {name for (name, i), w in before.items() if not np.array_equal(w, now[(name, i)])}
    )


def _one_step(model, x, y, learning_rate=None):
    """One optimizer step on (x, y); compiles only if the model is not compiled."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # checks build several small models: retracing warnings are expected
    try:
        _fit_once(model, x, y, learning_rate)
    finally:
        logger.setLevel(level)


def _fit_once(model, x, y, learning_rate):
    import keras

    if learning_rate is not None or getattr(model, "optimizer", None) is None:
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate or 0.1),
            loss="sparse_categorical_crossentropy",
        )
    model.run_eagerly = True  # one step on 16 images: tracing a graph would take longer
    model.fit(x, y, epochs=1, batch_size=len(x), verbose=0, shuffle=False)


def _data(rng, input_shape, n_classes, n=16):
    # Shifted, scaled inputs: BatchNorm statistics would move a lot if they could.
    x = (3.0 + 2.0 * rng.standard_normal((n, *input_shape))).astype(np.float32)
    return x, rng.integers(0, n_classes, n)


def _block_of(layer_name: str) -> str:
    """A layer's block: its name up to the first `_` (`block6a_expand_conv` -> `block6a`)."""
    return layer_name.split("_")[0]


def _block_backbone(rng, input_shape, style: int):
    """A small backbone whose layers are named by block, as keras.applications' are:
    `stem_*`, then 3 to 5 blocks of 3 to 6 layers (Conv/BN/ReLU, some depthwise, some with a
    residual `_add`), then `top_*`. style 0 names blocks like EfficientNet (`block1a`,
    `block1b`, `block2a`), style 1 like `stage1`, `stage2`. Returns (backbone, block names)."""
    import keras

    def conv_bn_relu(x, prefix, filters, depthwise=False):
        if depthwise:
            x = keras.layers.DepthwiseConv2D(3, padding="same", name=f"{prefix}_dwconv")(x)
        else:
            x = keras.layers.Conv2D(filters, 1, name=f"{prefix}_conv")(x)
        x = keras.layers.BatchNormalization(momentum=0.5, name=f"{prefix}_bn")(x)
        return keras.layers.ReLU(name=f"{prefix}_relu")(x)

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="stem_conv")(inputs)
    x = keras.layers.BatchNormalization(momentum=0.5, name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_activation")(x)
    names = ["stem"]
    for i in range(int(rng.integers(3, 6))):
        name = f"block{i // 2 + 1}{'ab'[i % 2]}" if style == 0 else f"stage{i + 1}"
        names.append(name)
        y = x
        if rng.random() < 0.5:
            y = conv_bn_relu(y, f"{name}_dw", 0, depthwise=True)
        y = conv_bn_relu(y, name, 8)
        if rng.random() < 0.5:
            x = keras.layers.Add(name=f"{name}_add")([x, y])
        else:
            x = y
    x = keras.layers.Conv2D(16, 1, name="top_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.5, name="top_bn")(x)
    x = keras.layers.ReLU(name="top_activation")(x)
    names.append("top")
    return keras.Model(inputs, x, name=f"block_backbone_{style}"), names


def _head_layers(model, backbone) -> list:
    """The layers of `model` after its input, other than `backbone`, nested models flattened."""
    import keras

    out = []
    for layer in model.layers:
        if layer is backbone or isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            out += _head_layers(layer, backbone)
        else:
            out.append(layer)
    return out


#: The head's layers, in order, as exercise 2 lists them (activation layers aside).
HEAD = ("GlobalAveragePooling2D", "Dropout", "Dense", "Dropout", "Dense")
_ACTIVATIONS = ("Activation", "ReLU", "Softmax")


def _head_outputs(features: np.ndarray, first: list, last: list) -> np.ndarray:
    """The exercise's head in NumPy: features (N, H, W, C) averaged over H and W, Dense(ReLU)
    with first = [kernel, bias], Dense(softmax) with last = [kernel, bias] -> (N, classes)
    probabilities; dropout does nothing at inference."""
    pooled = features.astype(np.float64).mean(axis=(1, 2))
    hidden = np.maximum(pooled @ first[0] + first[1], 0.0)
    logits = hidden @ last[0] + last[1]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _check_head(name, model, backbone, hidden, n_classes, dropout, x, case):
    import keras

    head = _head_layers(model, backbone)
    kinds = [type(layer).__name__ for layer in head if type(layer).__name__ not in _ACTIVATIONS]
    if tuple(kinds) != HEAD:
        raise fail(
            name,
            case,
            f"after the backbone: {', '.join(HEAD)} (activation layers aside)",
            ", ".join(kinds) or "no layer",
            "the head is the exercise's list of layers, in its order",
        )
    for layer in head:
        if isinstance(layer, keras.layers.Dropout) and not np.isclose(layer.rate, dropout):
            raise fail(name, case, f"Dropout rate {dropout} (your `dropout`)", f"rate {layer.rate}")
    units = [layer.units for layer in head if isinstance(layer, keras.layers.Dense)]
    if units != [hidden, n_classes]:
        raise fail(
            name,
            case,
            f"Dense units {[hidden, n_classes]} (your `hidden`, then n_classes)",
            f"{units}",
        )
    dense = [layer for layer in head if isinstance(layer, keras.layers.Dense)]
    features = np.asarray(backbone(x[:4], training=False))
    want = _head_outputs(features, dense[0].get_weights(), dense[1].get_weights())
    got = np.asarray(model(x[:4], training=False))
    if not np.allclose(got, want, atol=1e-5):
        raise fail(
            name,
            case,
            "the outputs of the exercise's head (computed here in NumPy with your weights)",
            f"outputs differing by up to {float(np.abs(got - want).max()):.3g}",
            "the hidden Dense layer has a ReLU, the last a softmax; each layer takes the "
            "previous one's output",
        )
    stochastic = np.asarray(model(x[:4], training=True))
    if dropout > 0 and np.allclose(stochastic, got):
        raise fail(
            name, case, "dropout active in training mode", "identical outputs in training mode"
        )


def _check_built(name, model, backbone, n_classes, x, case):
    import keras

    if not isinstance(model, keras.Model):
        raise CheckFailed(f"`{name}` must return a keras.Model (case {case}), got {type(model)}")
    if not any(layer is backbone for layer in model.layers):
        raise fail(
            name,
            case,
            "the backbone you were given, as one layer of the model",
            "it is not among model.layers",
            "call the given backbone on the model's input; do not build a new one",
        )
    probs = np.asarray(model(x[:4], training=False))
    if probs.shape != (4, n_classes) or not np.allclose(probs.sum(-1), 1, atol=1e-4):
        raise fail(
            name,
            case,
            f"(4, {n_classes}) probabilities summing to 1",
            f"shape {probs.shape}, sums {np.round(probs.sum(-1), 3)}",
            "end with Dense(n_classes, activation='softmax')",
        )


def check_transfer_model(build: Callable, n_cases: int = 2, seed: int = 0) -> None:
    """Check `build(backbone, n_classes, hidden=64, dropout=0.2) -> keras.Model`.

    The model: the frozen backbone (called with training=False), GlobalAveragePooling2D,
    Dropout(dropout), Dense(hidden, relu), Dropout(dropout), Dense(n_classes, softmax);
    (N, H, W, C) -> (N, n_classes) probabilities. Compared with that model built here (the
    learner's Dense weights copied). After the call `backbone.trainable` is False, the trainable
    parameters are exactly the head's, and one training step changes the head but no backbone
    weight and no BatchNormalization moving statistic. Case 0 uses the default hidden and
    dropout; the others draw them.
    """
    name = getattr(build, "__name__", "build")
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        shape = (16, 16, int(rng.integers(1, 4)))
        n_classes = int(rng.integers(2, 7))
        backbone = _backbone(k % 2, shape)
        x, y = _data(rng, shape, n_classes)
        if k == 0:
            hidden, dropout = 64, 0.2
            case = f"{backbone.name} on {shape}, n_classes={n_classes}, default hidden, dropout"
            model = call(build, backbone, n_classes, case=case)
        else:
            hidden, dropout = int(rng.integers(3, 40)), float(rng.choice([0.1, 0.3, 0.5]))
            case = (
                f"{backbone.name} on {shape}, n_classes={n_classes}, hidden={hidden}, "
                f"dropout={dropout}"
            )
            model = call(build, backbone, n_classes, hidden=hidden, dropout=dropout, case=case)
        _check_built(name, model, backbone, n_classes, x, case)
        trainable_in_backbone = [w.path for w in backbone.trainable_weights]
        if backbone.trainable or trainable_in_backbone:
            raise fail(
                name,
                case,
                "backbone.trainable == False, no trainable backbone weight",
                f"backbone.trainable == {backbone.trainable}, trainable: "
                f"{trainable_in_backbone[:3]}",
                "freeze the backbone: set its `trainable` attribute to False",
            )
        _check_head(name, model, backbone, hidden, n_classes, dropout, x, case)
        head = _count(model.weights) - _count(backbone.weights)
        got = _count(model.trainable_weights)
        if got != head or head == 0:
            raise fail(name, case, f"{head:,} trainable parameters (the head's)", f"{got:,}")
        before = _snapshot(backbone.layers)
        head_layers = [layer for layer in model.layers if layer is not backbone and layer.weights]
        head_before = _snapshot(head_layers)
        _one_step(model, x, y, learning_rate=0.1)
        moved = _changed(before, backbone.layers)
        if moved:
            raise fail(
                name,
                case,
                "no backbone weight or BatchNorm statistic changes in training",
                f"changed: {moved}",
                "freeze the backbone: set its `trainable` attribute to False",
            )
        if not _changed(head_before, head_layers):
            raise fail(name, case, "the head's weights change in a training step", "unchanged")
    passed(
        f"`{name}` freezes the backbone and trains only its MLP head with dropout ({n_cases} cases)"
    )


def check_fine_tuning(prepare: Callable, build: Callable, n_cases: int = 2, seed: int = 0) -> None:
    """Check `prepare(model, backbone, n_top, learning_rate)` on models made by your `build`.

    A layer's block is its name up to the first `_` (`_block_of`); the backbone's blocks are
    the distinct blocks of `backbone.layers`, in order. Afterwards: every layer with weights of
    the last `n_top` blocks is trainable except BatchNormalization, every other layer is
    frozen, every BatchNormalization layer is frozen; the model is compiled again with an
    optimizer at `learning_rate`; and one training step changes those blocks and the head, but
    no lower weight, no BatchNorm gamma/beta and no moving mean/variance. The backbones are
    built here, their layers named by block as keras.applications' are.
    """
    import keras

    name = getattr(prepare, "__name__", "prepare")
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        shape = (16, 16, int(rng.integers(1, 4)))
        n_classes = int(rng.integers(2, 6))
        backbone, blocks = _block_backbone(rng, shape, k % 2)
        n_top = int(rng.integers(2, len(blocks) - 1))
        top_blocks = set(blocks[-n_top:])
        lr = float(rng.choice([1e-4, 3e-4, 1e-3]))
        case = f"{backbone.name} (blocks {blocks}) on {shape}, n_top={n_top}, learning_rate={lr}"
        x, y = _data(rng, shape, n_classes)
        model = call(build, backbone, n_classes, case=f"build for {case}")
        result = call(prepare, model, backbone, n_top, lr, case=case)
        model = result if isinstance(result, keras.Model) else model
        for layer in backbone.layers:
            if not layer.weights:
                continue
            norm_layer = isinstance(layer, keras.layers.BatchNormalization)
            in_top = _block_of(layer.name) in top_blocks
            want = in_top and not norm_layer
            if layer.trainable != want:
                why = (
                    "BatchNormalization layers stay frozen (inference mode)"
                    if norm_layer
                    else "only the layers of the last n_top blocks are trained"
                    if not want
                    else "every layer with weights of the last n_top blocks is trained: "
                    "n_top counts blocks, not layers"
                )
                raise fail(
                    name,
                    case,
                    f"layer `{layer.name}` (block `{_block_of(layer.name)}`) trainable={want}",
                    f"trainable={layer.trainable}",
                    why,
                )
        optimizer = getattr(model, "optimizer", None)
        got_lr = None if optimizer is None else float(np.asarray(optimizer.learning_rate))
        if got_lr is None or not np.isclose(got_lr, lr, rtol=1e-4):
            raise fail(
                name,
                case,
                f"the model compiled again with learning_rate={lr}",
                f"optimizer learning rate {got_lr}",
                "call model.compile(...) after changing trainable flags",
            )
        top = [layer for layer in backbone.layers if _block_of(layer.name) in top_blocks]
        low = [layer for layer in backbone.layers if _block_of(layer.name) not in top_blocks]
        low += _bn_layers(backbone)
        low_before, top_before = _snapshot(low), _snapshot(top)
        _one_step(model, x, y)
        moved = _changed(low_before, low)
        if moved:
            raise fail(
                name,
                case,
                "frozen weights and BatchNorm statistics unchanged after a step",
                f"changed: {moved}",
                "BatchNormalization must stay frozen (layer.trainable = False) so that it "
                "runs in inference mode; lower blocks must stay frozen",
            )
        if not _changed(top_before, top):
            raise fail(
                name,
                case,
                "the top blocks change in a training step",
                "unchanged",
                "set backbone.trainable = True first, then freeze what must stay frozen",
            )
    passed(
        f"`{name}` unfreezes the top blocks, keeps BatchNorm frozen and recompiles "
        f"({n_cases} cases)"
    )


def train_from_scratch(
    build: Callable, profile: str, train: tuple, test: tuple, n_classes: int, recipe: dict
) -> float:
    """Exercise 4's baseline: the test accuracy of `build(fresh_backbone(profile, ...),
    n_classes)` (the transfer model's architecture, random weights), everything trainable,
    trained with the transfer model's recipe: Adam(recipe["fe_lr"]), the sparse categorical
    cross-entropy, recipe["fe_epochs"] + recipe["ft_epochs"] epochs of batches of
    recipe["batch_size"]. train, test: (x float32 (N, H, W, 3) preprocessed, y int (N,)).
    """
    import keras

    from utils.networks import fresh_backbone

    (x_train, y_train), (x_test, y_test) = train, test
    backbone = fresh_backbone(profile, x_train.shape[1:])
    model = call(build, backbone, n_classes, case="a fresh backbone (the baseline)")
    backbone.trainable = True
    model.compile(
        optimizer=keras.optimizers.Adam(recipe["fe_lr"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        epochs=recipe["fe_epochs"] + recipe["ft_epochs"],
        batch_size=recipe["batch_size"],
        verbose=0,
    )
    return float(model.evaluate(x_test, y_test, verbose=0)[1])
