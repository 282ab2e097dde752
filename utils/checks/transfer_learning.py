"""Checks for unit 14 (transfer learning): preprocessing, a frozen backbone, fine-tuning.

References: keras.applications.<family>.preprocess_input; the trainable flags and weight counts
Keras reports; and behaviour: one real training step, after which the weights and the
BatchNormalization moving statistics that must not move are compared with copies taken before.
Backbones are the course's small CNN (utils.networks.backbones.course_backbone) or a second small
network built here. Nothing here contains an exercise's answer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import CheckFailed, as_array, call, fail, passed

FAMILIES = ("mobilenet_v2", "resnet50", "efficientnet")


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
    model.fit(x, y, epochs=1, batch_size=len(x), verbose=0, shuffle=False)


def _data(rng, input_shape, n_classes, n=16):
    # Shifted, scaled inputs: BatchNorm statistics would move a lot if they could.
    x = (3.0 + 2.0 * rng.standard_normal((n, *input_shape))).astype(np.float32)
    return x, rng.integers(0, n_classes, n)


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
    """Check `build(backbone, n_classes) -> keras.Model`: frozen backbone, trainable head.

    After the call: `backbone.trainable` is False, no backbone weight is trainable, the
    trainable parameters are exactly the head's (> 0), the output is (N, n_classes)
    probabilities, and one training step changes the head but no backbone weight and no
    BatchNormalization moving statistic.
    """
    name = getattr(build, "__name__", "build")
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        shape = (16, 16, int(rng.integers(1, 4)))
        n_classes = int(rng.integers(2, 7))
        backbone = _backbone(k % 2, shape)
        case = f"{backbone.name} on {shape}, n_classes={n_classes}"
        x, y = _data(rng, shape, n_classes)
        model = call(build, backbone, n_classes, case=case)
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
    passed(f"`{name}` freezes the backbone and trains only the head ({n_cases} backbones)")


def check_fine_tuning(prepare: Callable, build: Callable, n_cases: int = 2, seed: int = 0) -> None:
    """Check `prepare(model, backbone, n_top, learning_rate)` on models made by your `build`.

    Afterwards: among `backbone.layers[-n_top:]` every layer with weights except
    BatchNormalization is trainable, all the layers before are frozen, every BatchNormalization
    layer is frozen; the model is compiled again with an optimizer at `learning_rate`; and one
    training step changes those top layers and the head, but no lower weight, no BatchNorm
    gamma/beta and no moving mean/variance.
    """
    import keras

    name = getattr(prepare, "__name__", "prepare")
    rng = np.random.default_rng(seed)
    for k in range(n_cases):
        shape = (16, 16, int(rng.integers(1, 4)))
        n_classes = int(rng.integers(2, 6))
        backbone = _backbone(k % 2, shape)
        n_layers = len(backbone.layers)
        n_top = int(rng.integers(3, n_layers - 2))
        lr = float(rng.choice([1e-4, 3e-4, 1e-3]))
        case = f"{backbone.name} ({n_layers} layers) on {shape}, n_top={n_top}, learning_rate={lr}"
        x, y = _data(rng, shape, n_classes)
        model = call(build, backbone, n_classes, case=f"build for {case}")
        result = call(prepare, model, backbone, n_top, lr, case=case)
        model = result if isinstance(result, keras.Model) else model
        for index, layer in enumerate(backbone.layers):
            if not layer.weights:
                continue
            is_bn = isinstance(layer, keras.layers.BatchNormalization)
            want = (index >= n_layers - n_top) and not is_bn
            if layer.trainable != want:
                why = (
                    "BatchNormalization layers stay frozen (inference mode)"
                    if is_bn
                    else "only the last n_top layers of backbone.layers are trained"
                    if not want
                    else "the last n_top layers of backbone.layers are trained"
                )
                raise fail(
                    name,
                    case,
                    f"layer {index} `{layer.name}` trainable={want}",
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
        top = backbone.layers[n_layers - n_top :]
        low = list(backbone.layers[: n_layers - n_top]) + _bn_layers(backbone)
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
                "runs in inference mode; lower layers must stay frozen",
            )
        if not _changed(top_before, top):
            raise fail(
                name,
                case,
                "the top layers change in a training step",
                "unchanged",
                "set backbone.trainable = True first, then freeze what must stay frozen",
            )
    passed(
        f"`{name}` unfreezes the top layers, keeps BatchNorm frozen and recompiles "
        f"({n_cases} cases)"
    )
