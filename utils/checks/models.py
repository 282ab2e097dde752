"""Checks on whole Keras models: layer-by-layer comparison with a target summary."""

from __future__ import annotations

from collections.abc import Callable

from utils.checks.core import CheckFailed, call, fail, passed


def model_table(model) -> list[tuple[str, tuple, int]]:
    """(layer class, output shape without batch, parameters) for each layer of a built model."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:])
        rows.append((type(layer).__name__, shape, int(layer.count_params())))
    return rows


def check_model_table(model, expected: list[tuple[str, tuple, int]], name: str = "model") -> None:
    """Compare a Keras model layer by layer with a target summary: (class, shape, params)."""
    if model is None:
        raise CheckFailed(f"`{name}` is None: did you forget to `return` the model?")
    got = model_table(model)
    for i, (g, e) in enumerate(zip(got, expected, strict=False)):
        if g != e:
            raise fail(name, f"layer {i}", e, g, "compare kernel size, filters, padding, pooling.")
    if len(got) != len(expected):
        raise fail(name, "number of layers", len(expected), len(got))
    total = sum(p for *_, p in expected)
    passed(f"`{name}` has the {len(expected)} layers of the target summary ({total:,} parameters).")


def check_model_builder(build: Callable, expected: list[tuple[str, tuple, int]]):
    """Call the learner's `build()` and compare the model with a target summary; return it."""
    name = getattr(build, "__name__", "build")
    model = call(build, case="no arguments")
    check_model_table(model, expected, name=name)
    return model
