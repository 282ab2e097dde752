"""The graph of a Keras functional model: who feeds whom, and how deep a network really is.

Papers count depth in layers with weights along the longest path from input to output
(GoogLeNet: "22 layers deep when counting only layers with parameters, or 27 if we also count
pooling"; ResNet-50: 49 convolutions and one dense layer). `weight_depth` counts the same way
on a built Keras model, branches and shortcuts included; `parents` lists the layers that feed
a layer, which the lab checks use to find, e.g., the two inputs of a residual addition.

These functions read each layer's first call (`layer._inbound_nodes[0]`), i.e. the graph the
model was built from; a layer called twice is followed through its first call only.
"""

from __future__ import annotations

from collections.abc import Callable


def parents(layer) -> list:
    """The layers (operations) whose outputs are the inputs of `layer`'s first call, in order."""
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return []
    return [t._keras_history.operation for t in nodes[0].input_tensors]


def weight_depth(model, counts: Callable | tuple = ()) -> int:
    """Length of the longest input-to-output path, counting only the layers that `counts`.

    counts: a predicate `layer -> bool`, or a tuple of layer classes; the default counts the
    layers with a kernel (Conv2D, Dense and their relatives), as papers do.
    The graph is walked in `model.layers` order, which Keras keeps topological.
    """
    if isinstance(counts, tuple):
        classes = counts

        def counts(layer):  # noqa: F811 - the tuple becomes a predicate
            if classes:
                return isinstance(layer, classes)
            return any(w.path.endswith("kernel") for w in layer.weights)

    depth: dict[int, int] = {}
    for layer in model.layers:
        above = [depth.get(id(p), 0) for p in parents(layer)]
        depth[id(layer)] = max(above, default=0) + int(bool(counts(layer)))
    return max(depth[id(t._keras_history.operation)] for t in model.outputs)
