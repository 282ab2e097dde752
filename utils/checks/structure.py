"""Checks on whole Keras models: wrapping a learner's block in a model (`model_of`),
layer-by-layer comparison with a target summary, and the nonlinearities a model applies (an
activation forgotten leaves a model that still has the right shapes and parameters, and
collapses stacked layers into one linear map)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import CheckFailed, call, fail, passed
from utils.measure.tables import model_table

#: Layers that only pass values through, unchanged in kind (normalisation, regularisation,
#: reshaping): a search for the nonlinearity after a layer looks through them.
PASS_THROUGH = ("BatchNormalization", "Dropout", "SpatialDropout2D", "Flatten", "Reshape")


#: Layers whose only job is a nonlinearity.
ACTIVATION_LAYERS = ("Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax")


def model_of(block: Callable, input_shape: tuple, *args, name: str = "", case: str = "", **kwargs):
    """keras.Model(x, block(x, *args, **kwargs)) for x = keras.Input(input_shape) (no batch
    axis), the learner's `block` run through `call`; CheckFailed if it returns None or anything
    else than a tensor. `name` defaults to the block's `__name__`."""
    import keras

    name = name or getattr(block, "__name__", "your function")
    inp = keras.Input(input_shape)
    out = call(block, inp, *args, case=case, **kwargs)
    if out is None:
        raise CheckFailed(
            f"`{name}` returned None on the case {case}: did you forget `return`? "
            "Return the output tensor."
        )
    if not isinstance(out, keras.KerasTensor):
        raise fail(
            name,
            case,
            "the output tensor of the layers you applied (a KerasTensor)",
            type(out).__name__,
            "build with the functional API: `y = keras.layers.Something(...)(x)`; return y.",
        )
    return keras.Model(inp, out)


def activation_name(layer) -> str | None:
    """The nonlinearity `layer` applies ("relu", "softmax", ...), or None (also for "linear")."""
    kind = type(layer).__name__
    if kind in ACTIVATION_LAYERS[1:]:
        return kind.lower()
    fn = getattr(layer, "activation", None)
    if fn is None:
        return None
    name = getattr(fn, "__name__", str(fn))
    return None if name == "linear" else name


def children(model, layer) -> list:
    """The layers of `model` that take `layer`'s output as an input (first calls only)."""
    from utils.measure.graph import parents

    return [ly for ly in model.layers if any(p is layer for p in parents(ly))]


def nonlinear_after(model, layer) -> bool:
    """Whether `layer`'s output passes a nonlinearity (its own activation, or an activation
    layer reached through PASS_THROUGH layers only) on every path before anything else."""
    if activation_name(layer):
        return True
    kids = children(model, layer)
    if not kids:
        return False
    for kid in kids:
        kind = type(kid).__name__
        if kind in PASS_THROUGH:
            if not nonlinear_after(model, kid):
                return False
        elif kind not in ACTIVATION_LAYERS or not activation_name(kid):
            return False
    return True


def check_nonlinear(model, layers: list, name: str, case: str, what: str) -> None:
    """CheckFailed naming the first of `layers` whose output reaches no nonlinearity."""
    for layer in layers:
        if not nonlinear_after(model, layer):
            raise fail(
                name,
                case,
                f"{what}: a nonlinearity after `{layer.name}` ({type(layer).__name__})",
                "no activation after it (activation='linear', the default)",
                "without a nonlinearity, stacked layers collapse into one linear map: "
                "is an `activation=` missing?",
            )


def check_model_table(
    model,
    expected: list[tuple[str, tuple, int]],
    name: str = "model",
    activations: list[str | None] | None = None,
) -> None:
    """Compare a Keras model layer by layer with a target summary: (class, shape, params), and,
    if given, with the activation each layer applies (`activation_name`, None for none)."""
    if model is None:
        raise CheckFailed(f"`{name}` is None: did you forget to `return` the model?")
    got, layers = model_table(model), list(model.layers)
    if not expected or expected[0][0] != "InputLayer":  # a Sequential or a functional model
        keep = [i for i, layer in enumerate(layers) if type(layer).__name__ != "InputLayer"]
        got, layers = [got[i] for i in keep], [layers[i] for i in keep]
    for i, (g, e) in enumerate(zip(got, expected, strict=False)):
        if g != e:
            raise fail(name, f"layer {i}", e, g, "compare kernel size, filters, padding, pooling.")
    if len(got) != len(expected):
        raise fail(name, "number of layers", len(expected), len(got))
    if activations is not None:
        for i, (layer, want) in enumerate(zip(layers, activations, strict=True)):
            have = activation_name(layer)
            if have != want:
                last = i == len(activations) - 1
                raise fail(
                    name,
                    f"layer {i} ({type(layer).__name__})",
                    f"activation {want!r}",
                    f"activation {have or 'linear'!r}",
                    "the last layer turns scores into the probabilities the loss expects"
                    if last
                    else "without a nonlinearity between them, stacked layers collapse into "
                    "one linear map",
                )
    total = sum(p for *_, p in expected)
    passed(f"`{name}` has the {len(expected)} layers of the target summary ({total:,} parameters).")


def check_model_builder(
    build: Callable,
    expected: list[tuple[str, tuple, int]],
    activations: list[str | None] | None = None,
):
    """Call the learner's `build()` and compare the model with a target summary; return it."""
    name = getattr(build, "__name__", "build")
    model = call(build, case="no arguments")
    check_model_table(model, expected, name=name, activations=activations)
    return model


def random_weights(model, rng: np.random.Generator, shift: float = 0.3) -> None:
    """Draw every weight of `model` anew: He-scaled kernels, batch-norm statistics far from
    the identity (gamma and moving variance in [0.5, 1.5], beta and moving mean ~ N(0, shift)),
    small biases ~ N(0, 0.1). A check copies these weights into its own model to compare."""
    import keras

    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization) and len(weights) == 4:
            c = weights[0].shape
            weights = [
                rng.uniform(0.5, 1.5, c),
                rng.normal(0, shift, c),
                rng.normal(0, shift, c),
                rng.uniform(0.5, 1.5, c),
            ]
        else:
            weights = [
                rng.normal(0, np.sqrt(2 / np.prod(w.shape[:-1])), w.shape)
                if w.ndim > 1
                else rng.normal(0, 0.1, w.shape)
                for w in weights
            ]
        layer.set_weights([w.astype("float32") for w in weights])
