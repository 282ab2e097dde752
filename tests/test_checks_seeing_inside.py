"""The unit 16 checks (feature maps, Grad-CAM) accept correct answers, reject typical wrong
ones with CheckFailed, and say where to write code."""

from __future__ import annotations

import numpy as np
import pytest

from utils.checks import CheckFailed, seeing_inside


def feature_maps_ok(model, image, layer_names):
    """Correct: one forward pass through the layers, keeping the named outputs."""
    import keras

    x = keras.ops.convert_to_tensor(image[None])
    out = {}
    for layer in model.layers[1:]:
        x = layer(x)
        if layer.name in layer_names:
            out[layer.name] = keras.ops.convert_to_numpy(x)[0]
    return out


def feature_maps_batched(model, image, layer_names):
    """Wrong: keeps the batch axis."""
    return {k: v[None] for k, v in feature_maps_ok(model, image, layer_names).items()}


def _cam(model, image, class_index, layer_name, pool="mean", relu=True, norm=True):
    import keras
    import tensorflow as tf

    probe = keras.Model(model.inputs[0], [model.get_layer(layer_name).output, model.outputs[0]])
    with tf.GradientTape() as tape:
        a, logits = probe(image[None])
        y = logits[0, class_index]
    g = tape.gradient(y, a)[0]
    w = tf.reduce_mean(g, axis=(0, 1)) if pool == "mean" else tf.reduce_max(g, axis=(0, 1))
    cam = tf.reduce_sum(a[0] * w, axis=-1).numpy()
    if relu:
        cam = np.maximum(cam, 0)
    if norm and cam.max() > 0:
        cam = cam / cam.max()
    return cam


def grad_cam_ok(model, image, class_index, layer_name):
    return _cam(model, image, class_index, layer_name)


def grad_cam_no_relu(model, image, class_index, layer_name):
    return _cam(model, image, class_index, layer_name, relu=False)


def grad_cam_no_norm(model, image, class_index, layer_name):
    return _cam(model, image, class_index, layer_name, norm=False)


def grad_cam_max_pool(model, image, class_index, layer_name):
    return _cam(model, image, class_index, layer_name, pool="max")


def grad_cam_wrong_class(model, image, class_index, layer_name):
    return _cam(model, image, (class_index + 1) % 4, layer_name)


def test_correct_answers_pass(capsys):
    seeing_inside.check_feature_maps(feature_maps_ok, seed=1)
    seeing_inside.check_grad_cam(grad_cam_ok, seed=1, n=6)
    assert capsys.readouterr().out.count("PASSED") == 2


@pytest.mark.parametrize(
    "fn", [grad_cam_no_relu, grad_cam_no_norm, grad_cam_max_pool, grad_cam_wrong_class]
)
def test_wrong_grad_cam_fails(fn):
    with pytest.raises(CheckFailed):
        seeing_inside.check_grad_cam(fn, seed=0, n=6)


def test_wrong_feature_maps_fail():
    with pytest.raises(CheckFailed):
        seeing_inside.check_feature_maps(feature_maps_batched)
    with pytest.raises(CheckFailed):
        seeing_inside.check_feature_maps(lambda m, i, names: None)


def test_stub_says_where_to_write():
    def grad_cam(model, image, class_index, layer_name):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        seeing_inside.check_grad_cam(grad_cam)


def test_inspection_helpers():
    """The unit 16 plumbing: receptive field formula = gradient measurement; heat measures."""
    from utils.measure import images, receptive_fields
    from utils.networks.inspectable import small_cnn

    model = small_cnn((16, 16, 3), 4, (4, 4, 4))
    for name, expected in [("relu1", 5), ("pool1", 6), ("relu2", 10), ("relu3", 20)]:
        assert receptive_fields.layer_receptive_field(model, name) == expected
    assert receptive_fields.measured_receptive_field(model, "relu2") == 10
    masks = np.zeros((2, 8, 8))
    masks[:, :2] = 1
    even = images.heat_inside(np.ones((2, 8, 8)), masks)
    assert np.allclose(even, 0.25)
    assert images.heat_inside(np.zeros((1, 8, 8)), masks[:1])[0] == 0.0
    assert np.allclose(images.heat_inside(masks, masks), 1.0)
    noise = np.random.default_rng(0).normal(size=(5, 5, 3, 32))
    assert abs(images.neighbour_correlation(noise)) < 0.1
    smooth = np.ones((5, 5, 3, 32)) * noise[:1, :1]  # constant inside each filter
    smooth += np.linspace(0, 1, 5)[:, None, None, None]
    assert images.neighbour_correlation(smooth) > 0.5
    assert images.upsample(np.ones((3, 4, 4)), 8).shape == (3, 8, 8)
