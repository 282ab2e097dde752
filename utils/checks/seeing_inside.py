"""Checks for unit 16 (seeing inside a CNN): feature maps of named layers and Grad-CAM.

References: a multi-output `keras.Model` built here (feature maps), and a Grad-CAM computed
with its own `tf.GradientTape` path and an explicit einsum over channels (Grad-CAM), on small
random models. Both are `@reference`s: the release holds only their results on the check's
own random models (utils.checks.references).

Contracts checked:
- `feature_maps(model, image, layer_names)`: image (H, W, C) -> {name: array (H', W', C')}.
- `grad_cam(model, image, class_index, layer_name)`: image (H, W, C) -> heatmap (H', W') of the
  layer's spatial size, non-negative, max 1 (all zeros if no location has positive evidence).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import as_array, call, call_for_array, expect_array, fail, passed
from utils.checks.references import reference
from utils.checks.structure import random_weights


def random_model(seed: int, size: int = 12, channels: int = 3, classes: int = 4):
    """A small random functional CNN with layers named conv_a, conv_b, conv_c, logits."""
    import keras

    keras.utils.set_random_seed(seed)
    x = inp = keras.Input((size, size, channels))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(x)
    x = keras.layers.MaxPooling2D(2, name="pool_a")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_b")(x)
    x = keras.layers.Conv2D(5, 3, padding="valid", activation="relu", name="conv_c")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(classes, name="logits")(x)
    model = keras.Model(inp, out)
    # weights from NumPy's seeded generator: the same on every machine and Keras version, so
    # that the release's recorded references find this model again (utils.checks.references)
    random_weights(model, np.random.default_rng(seed))
    return model


@reference
def _reference_maps(model, image, names):
    import keras

    probe = keras.Model(model.inputs[0], [model.get_layer(n).output for n in names])
    outs = probe(image[None].astype("float32"), training=False)
    if len(names) == 1:
        outs = [outs]
    return {n: keras.ops.convert_to_numpy(o)[0] for n, o in zip(names, outs, strict=True)}


@reference
def _reference_cam(model, image, class_index, layer_name):
    """Grad-CAM via einsum: sum_k (1/(H'W') sum_ij dy/dA_ijk) A_k, ReLU, divided by its max."""
    import keras
    import tensorflow as tf

    probe = keras.Model(model.inputs[0], [model.get_layer(layer_name).output, model.outputs[0]])
    x = tf.constant(image[None].astype("float32"))
    with tf.GradientTape() as tape:
        feats, logits = probe(x, training=False)
        score = tf.reduce_sum(logits * tf.one_hot([class_index], logits.shape[-1]))
    grads = tape.gradient(score, feats).numpy()[0].astype(np.float64)
    a = feats.numpy()[0].astype(np.float64)
    h, w = a.shape[:2]
    weights = np.einsum("ijk->k", grads) / (h * w)
    cam = np.maximum(np.einsum("ijk,k->ij", a, weights), 0.0)
    top = cam.max()
    return cam / top if top > 1e-12 else cam


def check_feature_maps(feature_maps: Callable, seed: int = 0, n: int = 3) -> None:
    """`feature_maps` returns {name: (H', W', C')} equal to a multi-output Keras model's."""
    rng = np.random.default_rng(seed)
    all_names = ["conv_a", "pool_a", "conv_b", "conv_c"]
    for i in range(n):
        size = int(rng.integers(10, 15))
        model = random_model(seed * 100 + i, size=size)
        image = rng.random((size, size, 3)).astype("float32")
        k = int(rng.integers(1, len(all_names) + 1))
        names = [all_names[j] for j in sorted(rng.choice(len(all_names), k, replace=False))]
        case = f"#{i}: image {image.shape}, layer_names={names}"
        got = call(feature_maps, model, image, names, case=case)
        if got is None:
            as_array(got, "feature_maps", case)
        if not isinstance(got, dict) or sorted(got) != sorted(names):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            raise fail("feature_maps", case, f"a dict with keys {sorted(names)}", keys)
        ref = _reference_maps(model, image, names)
        for name in names:
            g = expect_array(
                got[name],
                name="feature_maps",
                case=case + f" layer {name!r}",
                shape=ref[name].shape,
                shape_hint="one image in, so drop the batch axis: (H', W', C')",
            )
            if not np.allclose(g, ref[name], atol=1e-4, rtol=1e-4):
                err = float(np.max(np.abs(g - ref[name])))
                raise fail(
                    "feature_maps",
                    case + f" layer {name!r}",
                    "the layer's output",
                    f"max |diff| {err:.3g}",
                )
    passed(f"feature_maps matches a multi-output keras.Model on {n} random models")


def check_grad_cam(grad_cam: Callable, seed: int = 0, n: int = 4) -> None:
    """`grad_cam` equals an independent Grad-CAM: shape (H', W'), >= 0, max 1, same values."""
    rng = np.random.default_rng(seed)
    checked = 0
    for i in range(n):
        size = int(rng.integers(10, 15))
        model = random_model(seed * 100 + 50 + i, size=size)
        image = rng.random((size, size, 3)).astype("float32")
        layer = ["conv_a", "conv_b", "conv_c"][i % 3]
        cls = int(rng.integers(0, 4))
        case = f"#{i}: image {image.shape}, class_index={cls}, layer_name={layer!r}"
        ref = _reference_cam(model, image, cls, layer)
        got = call_for_array(
            grad_cam,
            model,
            image,
            cls,
            layer,
            name="grad_cam",
            case=case,
            shape=ref.shape,
            shape_hint="the heatmap has the layer's spatial size (H', W'): sum the channels away",
        )
        if np.nanmin(got) < -1e-6 or np.isnan(got).any():
            raise fail("grad_cam", case, "values >= 0 (ReLU)", f"min {np.nanmin(got):.3g}")
        if ref.max() > 0 and abs(float(got.max()) - 1.0) > 1e-4:
            raise fail("grad_cam", case, "max 1 (divide by the max)", f"max {float(got.max()):.4g}")
        if not np.allclose(got, ref, atol=1e-3):
            err = float(np.max(np.abs(got - ref)))
            raise fail(
                "grad_cam",
                case,
                np.round(ref, 3),
                np.round(got, 3),
                f"max |diff| {err:.3g}; weights are the spatial MEAN of d(class logit)/d(feature map)",
            )
        checked += int(ref.max() > 0)
    passed(
        f"grad_cam matches an independent Grad-CAM on {n} random models ({checked} non-zero maps)"
    )
