"""Unit 16 (seeing inside a CNN): typical wrong answers and correct variants."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from mistakes import Exercise
from utils.checks import seeing_inside


def maps_one_probe_each(model, image, layer_names):
    """Correct, written differently: one probe model per layer."""
    out = {}
    for name in layer_names:
        probe = keras.Model(model.inputs, model.get_layer(name).output)
        out[name] = np.asarray(probe(image[np.newaxis]))[0]
    return out


def _maps(keep_batch=False, first_layer=False, by_index=False):
    def feature_maps(model, image, layer_names):
        names = layer_names[:1] * len(layer_names) if first_layer else layer_names
        outs = {}
        for key, name in zip(layer_names, names, strict=True):
            probe = keras.Model(model.inputs, model.get_layer(name).output)
            y = np.asarray(probe(image[None]))
            outs[key] = y if keep_batch else y[0]
        return dict(enumerate(outs.values())) if by_index else outs

    return feature_maps


def cam_numpy(model, image, class_index, layer_name):
    """Correct, written differently: GradientTape on the score, weights by np.mean."""
    probe = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.output])
    with tf.GradientTape() as tape:
        a, logits = probe(image[None])
        score = logits[:, class_index]
    g = tape.gradient(score, a).numpy()[0]
    a = a.numpy()[0]
    cam = np.clip((a * g.mean(axis=(0, 1))).sum(-1), 0, None)
    return cam / cam.max() if cam.max() > 0 else cam


def _cam(relu=True, normalise=True, weights="mean", top_class=False):
    def grad_cam(model, image, class_index, layer_name):
        probe = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.output])
        with tf.GradientTape() as tape:
            a, logits = probe(image[None])
            c = int(tf.argmax(logits[0])) if top_class else class_index
            score = logits[0, c]
        g = tape.gradient(score, a).numpy()[0]
        a = a.numpy()[0]
        w = g.mean(axis=(0, 1)) if weights == "mean" else 1.0
        cam = (a * w).sum(-1) if weights != "pixelwise" else (a * g).sum(-1)
        if relu:
            cam = np.maximum(cam, 0)
        if normalise and cam.max() > 0:
            cam = cam / cam.max()
        return cam

    return grad_cam


EXERCISES = {
    "check_feature_maps": Exercise(
        run=seeing_inside.check_feature_maps,
        wrong={
            "keeps-batch-axis": (_maps(keep_batch=True), r"shape|batch"),
            "always-the-first-layer": (_maps(first_layer=True), r"expected|shape|differ"),
            "keys-by-index": (_maps(by_index=True), r"names|keys|dict"),
        },
        right={"one-probe-per-layer": maps_one_probe_each},
    ),
    "check_grad_cam": Exercise(
        run=seeing_inside.check_grad_cam,
        wrong={
            "no-relu": (_cam(relu=False), r">= 0|negative|ReLU"),
            "not-normalised": (_cam(normalise=False), r"max|1"),
            "unweighted-sum": (_cam(weights="none"), r"expected|weight|differ"),
            "predicted-class-not-asked": (_cam(top_class=True), r"expected|class|differ"),
        },
        right={"numpy-mean-weights": cam_numpy},
    ),
}
