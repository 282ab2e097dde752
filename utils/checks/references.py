"""The checks' reference computations: marked here, recorded by the instructor, replayed in
the release.

A check compares the learner's answer with a reference: SciPy's correlation, a Keras layer,
a block the check builds itself. Some of those references have the exercise's own contract
(give them the exercise's inputs and they return its answer), so a package that contains them
hands learners an answer to import or copy. So:

- every such function of a check module is decorated with `@reference`;
- in the instructor's course, `@reference` changes nothing, except that with
  `$COURSE_RECORD_REFERENCES` set to a folder it records each call (arguments and result) there;
- the release (`make release`, `utils.tooling.references`) records the references on the
  cases the labs' own checks use, ships those results as data (`utils/checks/recorded/`), and
  replaces the body of every `@reference` function with `replayed(...)`, a lookup in that data.

A learner's self-check then runs unchanged, on its own seeded cases; on any other input a
replayed reference raises `ReferenceUnavailable`. Hidden tests run in the grader, from the
instructor's package, on cases drawn per grading run.

The lookup key (`digest`) is a hash of the call's arguments as the check makes them: arrays by
dtype, shape and bytes, Keras models and layers by class, the configuration entries that say
what they compute (`STRUCTURE_KEYS`) and weights, optimizers by configuration, functions by qualified name. Results are stored without
pickle: arrays in an `.npz`, the rest as JSON, Keras models as their JSON configuration.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: Set to a folder: every call of a `@reference` function is recorded there.
RECORD_ENV = "COURSE_RECORD_REFERENCES"
#: Where the release keeps the recorded results: <module>.npz per check module.
RECORDED = Path(__file__).with_name("recorded")


class ReferenceUnavailable(LookupError):
    """A replayed reference was asked about a case the release did not record."""


class NotRecordable(TypeError):
    """An argument or result of a reference has a type the recorder cannot store."""


# --- the key: a canonical description of the arguments --------------------------------------


def _is_keras(value: Any, *names: str) -> bool:
    return any(c.__name__ in names for c in type(value).__mro__) and type(
        value
    ).__module__.startswith(("keras", "tensorflow"))


def _without_names(config: Any) -> Any:
    """A Keras configuration without its `name` entries (generated, session-dependent)."""
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in sorted(config.items()) if k != "name"}
    if isinstance(config, list | tuple):
        return [_without_names(v) for v in config]
    return config


#: The configuration entries that say what a layer computes, named alike in the Keras versions
#: the course meets (its pinned one, Colab's). A layer's key holds these and its weights, not
#: its whole configuration: a later Keras adds entries (an initializer's `input_axes`, batch
#: norm's `renorm`) that would make Colab miss every call recorded here.
STRUCTURE_KEYS = (
    "activation", "axis", "center", "data_format", "dilation_rate", "epsilon", "filters",
    "groups", "interpolation", "kernel_size", "momentum", "negative_slope", "padding",
    "pool_size", "rate", "scale", "size", "strides", "target_shape", "units", "use_bias",
)  # fmt: skip


def _structure_keys(config: dict) -> list:
    """[[key, value], ...] of `config`'s STRUCTURE_KEYS, in that order."""
    return [[k, _without_names(config[k])] for k in STRUCTURE_KEYS if k in config]


def _canonical(value: Any) -> Any:
    """A JSON-able description of `value` that equal inputs share (see the module's doc)."""
    if value is None or isinstance(value, bool | int | str):
        return [type(value).__name__, value]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, np.generic):
        return ["np", value.dtype.str, repr(value.item())]
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        if data.dtype == object:
            raise NotRecordable("an object array")
        return ["nd", data.dtype.str, list(data.shape), hashlib.sha256(data.tobytes()).hexdigest()]
    if isinstance(value, tuple | list):
        return [type(value).__name__, [_canonical(v) for v in value]]
    if isinstance(value, dict):
        return ["dict", [[str(k), _canonical(v)] for k, v in sorted(value.items(), key=str)]]
    if _is_keras(value, "KerasTensor"):
        return ["kt", [None if d is None else int(d) for d in value.shape], str(value.dtype)]
    if _is_keras(value, "Layer"):  # models are layers too
        layers = value.layers if hasattr(value, "layers") else [value]
        return [
            "layer",
            type(value).__name__,
            [[type(ly).__name__, _structure_keys(ly.get_config()), _weights(ly)] for ly in layers],
        ]
    if _is_keras(value, "Optimizer"):
        return ["optimizer", type(value).__name__, _without_names(value.get_config())]
    if hasattr(value, "numpy") and hasattr(value, "dtype"):  # a TensorFlow tensor or variable
        return _canonical(np.asarray(value))
    if callable(value) and hasattr(value, "__qualname__"):  # a function: name and defaults
        defaults = [_canonical(d) for d in getattr(value, "__defaults__", None) or ()]
        return ["fn", getattr(value, "__module__", ""), value.__qualname__, defaults]
    raise NotRecordable(f"an argument of type {type(value).__name__}")


def _weights(layer) -> list:
    return [_canonical(np.asarray(w)) for w in layer.get_weights()]


def arguments(fn: Callable, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by parameter name, defaults filled in (as `locals()` at entry)."""
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def digest(name: str, args: dict[str, Any]) -> str:
    """The lookup key of a call of reference `name` (`module:qualname`) with `args`."""
    text = json.dumps([name, _canonical(args)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- results as data --------------------------------------------------------------------------


def encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """`value` as JSON, its arrays put into `arrays` (named by insertion order)."""
    if value is None or isinstance(value, bool | int | float | str):
        return {"v": value}
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise NotRecordable("an object array")
        key = str(len(arrays))
        arrays[key] = value
        return {"a": key}
    if isinstance(value, tuple | list):
        return {"t" if isinstance(value, tuple) else "l": [encode(v, arrays) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"d": {k: encode(v, arrays) for k, v in value.items()}}
    if _is_keras(value, "Model"):
        return {"model": value.to_json()}
    if hasattr(value, "numpy") and hasattr(value, "dtype"):
        return encode(np.asarray(value), arrays)
    raise NotRecordable(f"a result of type {type(value).__name__}")


def _dropped(config: Any, keys: set[str]) -> Any:
    if isinstance(config, dict):
        return {k: _dropped(v, keys) for k, v in config.items() if k not in keys}
    if isinstance(config, list):
        return [_dropped(v, keys) for v in config]
    return config


def model_from_json(text: str):
    """A model saved by `to_json` in this Keras or a later one: entries the running Keras
    rejects as unknown keyword arguments (a later version's additions, such as an
    initializer's `input_axes` or batch norm's `renorm`) are dropped, one error at a time."""
    import re

    import keras

    config, dropped = json.loads(text), set()
    while True:
        try:
            return keras.models.model_from_json(json.dumps(config))
        except (TypeError, ValueError) as err:
            message = str(err)
            unknown = set(re.findall(r"unexpected keyword argument '(\w+)'", message))
            for listed in re.findall(
                r"Unrecognized keyword arguments passed to \w+: (\{[^}]*\})", message
            ):
                unknown |= set(re.findall(r"'(\w+)':", listed))
            if not unknown or unknown <= dropped:
                raise
            dropped |= unknown
            config = _dropped(config, dropped)


def decode(obj: Any, arrays) -> Any:
    """The value `encode` described."""
    if "v" in obj:
        return obj["v"]
    if "a" in obj:
        value = np.asarray(arrays[obj["a"]])
        return value[()] if value.ndim == 0 else value
    if "t" in obj:
        return tuple(decode(v, arrays) for v in obj["t"])
    if "l" in obj:
        return [decode(v, arrays) for v in obj["l"]]
    if "d" in obj:
        return {k: decode(v, arrays) for k, v in obj["d"].items()}
    if "model" in obj:
        return model_from_json(obj["model"])
    raise ValueError(f"not a recorded value: {obj!r:.80}")


def _equal(a: Any, b: Any) -> bool:
    """Whether two decoded results are the same (models by configuration, names left out)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return False
        if a.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):  # rounding apart (threads, SIMD)
        return math.isclose(a, b, rel_tol=1e-12) or a == b
    return a == b


def read_call(path: Path) -> tuple[Any, dict[str, np.ndarray]]:
    """(encoded value, arrays) of one recorded call's file."""
    with np.load(path, allow_pickle=False) as data:
        obj = json.loads(str(data["__json__"]))["value"]
        arrays = {k.removeprefix("a"): data[k] for k in data.files if k != "__json__"}
    return obj, arrays


def _recorded_value(path: Path) -> Any:
    return _comparable(*read_call(path))


def _model_structure(text: str) -> Any:
    """A model's JSON configuration with its generated names out of the way: every layer name
    (also where the graph refers to it) replaced by the layer's position, `name` keys dropped."""
    config = json.loads(text)
    layers = config.get("config", {}).get("layers", [])
    index = {
        layer.get("name", layer.get("config", {}).get("name")): i for i, layer in enumerate(layers)
    }
    index.pop(None, None)

    def renamed(value):
        if isinstance(value, dict):
            return {k: renamed(v) for k, v in value.items() if k != "name"}
        if isinstance(value, list):
            return [renamed(v) for v in value]
        return f"#{index[value]}" if isinstance(value, str) and value in index else value

    return renamed(config)


def _comparable(obj: Any, arrays) -> Any:
    """A recorded value decoded for comparison (a model as its structure, names aside)."""
    if "model" in obj:
        return _model_structure(obj["model"])
    for tag in ("t", "l"):
        if tag in obj:
            return [_comparable(v, arrays) for v in obj[tag]]
    if "d" in obj:
        return {k: _comparable(v, arrays) for k, v in obj["d"].items()}
    return decode(obj, arrays)


def _record(folder: str, name: str, key: str, result: Any) -> None:
    """Write one call's result as `<folder>/<module>/<key>.npz` (a JSON string and arrays);
    a different result for a key already recorded goes to `<key>.conflict-<pid>.npz`."""
    arrays: dict[str, np.ndarray] = {}
    text = json.dumps({"name": name, "value": encode(result, arrays)})
    target = Path(folder) / name.split(":")[0]
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f".{key}.{os.getpid()}.npz"
    np.savez(tmp, __json__=np.array(text), **{f"a{k}": v for k, v in arrays.items()})
    final = target / f"{key}.npz"
    if final.exists() and not _equal(_recorded_value(tmp), _recorded_value(final)):
        final = target / f"{key}.conflict-{os.getpid()}.npz"
    tmp.replace(final)


def reference(fn: Callable) -> Callable:
    """Mark `fn` as a check's reference computation (see the module's doc)."""
    name = f"{fn.__module__}:{fn.__qualname__}"

    @functools.wraps(fn)
    def recorded(*args, **kwargs):
        result = fn(*args, **kwargs)
        folder = os.environ.get(RECORD_ENV)
        if folder:
            _record(folder, name, digest(name, arguments(fn, args, kwargs)), result)
        return result

    recorded.__course_reference__ = name
    return recorded


# --- the release's side -------------------------------------------------------------------------


@functools.cache
def _table(module: str) -> dict[str, tuple[str, Any]]:
    """key -> (JSON text, arrays) of the recorded results of one check module."""
    path = RECORDED / f"{module}.npz"
    if not path.exists():
        return {}
    table: dict[str, tuple[str, Any]] = {}
    with np.load(path, allow_pickle=False) as data:
        for entry in data.files:
            key, _, part = entry.partition("/")
            text, arrays = table.get(key, ("", {}))
            if part == "__json__":
                text = str(data[entry])
            else:
                arrays[part.removeprefix("a")] = data[entry]
            table[key] = (text, arrays)
    return table


def replayed(name: str, args: dict[str, Any]) -> Any:
    """The recorded result of reference `name` (`module:qualname`) called with `args`."""
    module = name.split(":")[0].rsplit(".", 1)[-1]
    try:
        key = digest(name, args)
    except NotRecordable:
        key = ""
    found = _table(module).get(key)
    if found is None:
        raise ReferenceUnavailable(
            f"this self-check's reference `{name.split(':')[1]}` was recorded only for the "
            "check's own cases, and this call is not one of them. If a lab's check cell raised "
            "this, the course's release is incomplete: please report it."
        )
    text, arrays = found
    return decode(json.loads(text)["value"], arrays)
