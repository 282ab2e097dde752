"""The data that crosses between the grader and a learner's kernel, and the kernel's side.

This file is self-contained (NumPy, and Keras/TensorFlow only when a value needs them): the
grader imports it as `utils.tooling.grading_harness`, and the sandbox copies it into the
kernel's package folder as `_course_grading_harness`, where the grader's snippet calls `serve`.
Nothing the kernel does to its copy can change a verdict: the kernel only produces data, which
the grader decodes with its own copy of this file and checks in its own process.

One value is stored in a folder as `value.json` (the structure) beside `arrays.npz` (every
array, saved and loaded with `allow_pickle=False`) and `model_N.keras` files. Structure tags:

- JSON scalars (int, float, bool, str, None) stand for themselves;
- `{"$list": [...]}`, `{"$tuple": [...]}`, `{"$dict": [[key, value], ...]}` (str/int keys);
- `{"$nd": "a3"}` an ndarray (any shape, a numeric/bool dtype), `{"$np": "a4"}` a NumPy scalar,
  `{"$tf": "a5"}` a TensorFlow tensor (sent as an array, rebuilt as `tf.constant`);
- `{"$model": "model_0.keras"}` a Keras model; one of more than `MAX_WEIGHTS` parameters
  crosses as its architecture only, `{"$arch": "model_0.json"}` (fresh weights in the grader);
- `{"$history": {...}}` a `keras.callbacks.History`: its `history` dict of per-epoch metrics;
- `{"$input": {"shape": [...], "dtype": "float32"}}` a symbolic `keras.Input` (arguments only:
  the kernel builds `keras.Model(inputs, fn(inputs, ...))` and sends that model back);
- `{"$dataset": [batch, ...]}` a `tf.data.Dataset` materialised batch by batch (results only);
- `{"$dir": "dir_0"}`, `{"$file": "file_0.png"}` a folder or file the grader made (copied into
  the exchange, arguments only; the function gets the copy's path as a str);
- `{"$rng": {...}}` a NumPy Generator (PCG64 family), as its bit generator's state;
- `{"$error": {"ename": ..., "evalue": ...}}` the exception a learner's function raised.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

#: Most bytes one value may take on disk (arrays + models): anything bigger is refused.
MAX_BYTES = 256 * 2**20
#: Models with more parameters than this cross without their weights (AlexNet's 62 M would
#: take 250 MB): the checks of such models read their architecture only.
MAX_WEIGHTS = 10_000_000
#: Most batches of a returned tf.data.Dataset that are materialised.
MAX_BATCHES = 64
_ARRAY_KINDS = "biufc"  # bool, int, uint, float, complex
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "SFC64")


class ExchangeError(ValueError):
    """A value that cannot cross between the kernel and the grader (type, size, content)."""


def _is_keras_tensor(value) -> bool:
    return type(value).__name__ == "KerasTensor"


def _is_keras_model(value) -> bool:
    try:
        import keras
    except ImportError:  # pragma: no cover - the course always has Keras
        return False
    return isinstance(value, keras.Model)


def _is_tf(value, kind: str) -> bool:
    mod = type(value).__module__ or ""
    if not mod.startswith("tensorflow"):
        return False
    import tensorflow as tf

    return isinstance(value, tf.Tensor if kind == "tensor" else tf.data.Dataset)


class _Writer:
    def __init__(self, folder: Path, *, results: bool):
        self.folder, self.results = folder, results
        self.arrays: dict[str, np.ndarray] = {}
        self.n_models = self.n_dirs = 0

    def array(self, value: np.ndarray) -> str:
        value = np.asarray(value)
        if value.dtype.kind not in _ARRAY_KINDS:
            raise ExchangeError(f"an array of dtype {value.dtype} cannot be graded")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = value
        return key

    def encode(self, value, depth: int = 0):
        if depth > 20:
            raise ExchangeError("a value nested more than 20 levels deep")
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, np.ndarray):
            return {"$nd": self.array(value)}
        if isinstance(value, np.generic):
            return {"$np": self.array(np.asarray(value))}
        if isinstance(value, tuple | list):
            items = [self.encode(v, depth + 1) for v in value]
            return {"$tuple" if isinstance(value, tuple) else "$list": items}
        if isinstance(value, dict):
            if not all(isinstance(k, str | int) for k in value):
                raise ExchangeError("a dict whose keys are not all str or int")
            return {"$dict": [[k, self.encode(v, depth + 1)] for k, v in value.items()]}
        if _is_keras_tensor(value):
            if self.results:
                raise ExchangeError("a symbolic KerasTensor can only be an argument")
            return {"$input": {"shape": list(value.shape[1:]), "dtype": str(value.dtype)}}
        if _is_keras_model(value):
            stem = f"model_{self.n_models}"
            self.n_models += 1
            if value.count_params() > MAX_WEIGHTS or not value.built:
                (self.folder / f"{stem}.json").write_text(value.to_json())
                return {"$arch": f"{stem}.json"}
            try:
                value.save(self.folder / f"{stem}.keras")
            except Exception:  # a model without weights yet: its architecture
                (self.folder / f"{stem}.keras").unlink(missing_ok=True)
                (self.folder / f"{stem}.json").write_text(value.to_json())
                return {"$arch": f"{stem}.json"}
            return {"$model": f"{stem}.keras"}
        if type(value).__name__ == "History" and isinstance(getattr(value, "history", None), dict):
            return {"$history": self.encode(dict(value.history), depth + 1)}
        if _is_tf(value, "tensor"):
            return {"$tf": self.array(value.numpy())}
        if _is_tf(value, "dataset"):
            if not self.results:
                raise ExchangeError("a tf.data.Dataset can only be a result")
            batches = []
            for i, batch in enumerate(value):
                if i >= MAX_BATCHES:
                    raise ExchangeError(f"a dataset of more than {MAX_BATCHES} batches")
                batches.append(self.encode(batch, depth + 1))
            return {"$dataset": batches}
        if isinstance(value, np.random.Generator):
            state = value.bit_generator.state
            if state.get("bit_generator") not in _BIT_GENERATORS:
                raise ExchangeError(f"a {state.get('bit_generator')} random generator")
            return {"$rng": state}
        if isinstance(value, os.PathLike) and not self.results and Path(value).exists():
            path = Path(value)
            if path.is_dir():
                name = f"dir_{self.n_dirs}"
                shutil.copytree(path, self.folder / name)
                tag = "$dir"
            else:
                name = f"file_{self.n_dirs}{path.suffix}"
                shutil.copy(path, self.folder / name)
                tag = "$file"
            self.n_dirs += 1
            return {tag: name}
        raise ExchangeError(f"a value of type {type(value).__name__} cannot be graded")


def dump(value, folder: Path, *, results: bool) -> None:
    """Write `value` into the empty-or-new `folder` (see the module docstring)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    writer = _Writer(folder, results=results)
    tree = writer.encode(value)
    np.savez(folder / "arrays.npz", **writer.arrays)
    (folder / "value.json").write_text(json.dumps(tree))
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    if size > MAX_BYTES:
        raise ExchangeError(f"the value takes {size / 2**20:.0f} MB (at most {MAX_BYTES >> 20})")


def dump_error(err: BaseException, folder: Path) -> None:
    """Write the exception a learner's function raised, as its name and message only."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    np.savez(folder / "arrays.npz")
    text = {"ename": type(err).__name__, "evalue": str(err)[:2000]}
    (folder / "value.json").write_text(json.dumps({"$error": text}))


class _Reader:
    def __init__(self, folder: Path, load_model):
        self.folder, self.load_model = folder, load_model
        with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
            self.arrays = {k: npz[k] for k in npz.files}

    def decode(self, tree):
        if tree is None or isinstance(tree, bool | int | float | str):
            return tree
        if not isinstance(tree, dict) or len(tree) != 1:
            raise ExchangeError("a malformed value")
        ((tag, body),) = tree.items()
        if tag == "$list":
            return [self.decode(v) for v in body]
        if tag == "$tuple":
            return tuple(self.decode(v) for v in body)
        if tag == "$dict":
            return {k: self.decode(v) for k, v in body}
        if tag == "$nd":
            return self.arrays[body]
        if tag == "$np":
            return self.arrays[body][()]
        if tag == "$tf":
            import tensorflow as tf

            return tf.constant(self.arrays[body])
        if tag == "$model":
            return self.load_model(self._inside(body))
        if tag == "$arch":
            return self.load_model(self._inside(body))
        if tag == "$history":
            from types import SimpleNamespace

            return SimpleNamespace(history=self.decode(body))
        if tag == "$input":
            import keras

            return keras.Input(tuple(body["shape"]), dtype=body["dtype"])
        if tag == "$dataset":
            return _as_dataset([self.decode(b) for b in body])
        if tag in ("$dir", "$file"):
            return str(self._inside(body))
        if tag == "$rng":
            if body.get("bit_generator") not in _BIT_GENERATORS:
                raise ExchangeError("an unknown random generator")
            bit_generator = getattr(np.random, body["bit_generator"])()
            bit_generator.state = body
            return np.random.Generator(bit_generator)
        if tag == "$error":
            return RemoteError(str(body.get("ename", "Error")), str(body.get("evalue", "")))
        raise ExchangeError(f"an unknown tag {tag!r}")

    def _inside(self, name: str) -> Path:
        path = (self.folder / name).resolve()
        if path.parent != self.folder.resolve():
            raise ExchangeError(f"a file name outside the exchange folder: {name!r}")
        return path


def _as_dataset(batches: list):
    """A tf.data.Dataset yielding exactly `batches` (tuples of tensors), in order."""
    import tensorflow as tf

    if not batches:
        raise ExchangeError("an empty dataset")
    ds = tf.data.Dataset.from_tensors(batches[0])
    for batch in batches[1:]:
        ds = ds.concatenate(tf.data.Dataset.from_tensors(batch))
    return ds


class RemoteError:
    """An exception raised in the kernel, as data: its class name and message."""

    def __init__(self, ename: str, evalue: str):
        self.ename, self.evalue = ename, evalue


def load(folder: Path, *, load_model, max_bytes: int = MAX_BYTES):
    """Read the value in `folder`; `load_model(path)` loads `.keras` files (the grader passes
    a checked, safe-mode loader). Refuses folders bigger than `max_bytes`."""
    folder = Path(folder)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    if any(p.is_symlink() for p in folder.rglob("*")):
        raise ExchangeError("the exchange folder holds a symbolic link")
    if size > max_bytes:
        raise ExchangeError(f"the result takes {size / 2**20:.0f} MB (at most {max_bytes >> 20})")
    tree = json.loads((folder / "value.json").read_text())
    return _Reader(folder, load_model).decode(tree)


# ---------------------------------------------------------------------------- kernel side


def _course_classes(config) -> dict:
    """The course's own layer classes (`utils.*`) a model config names, imported here."""
    import importlib

    found, stack = {}, [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            module = str(item.get("module", ""))
            if module.startswith("utils.") and "class_name" in item:
                cls = getattr(importlib.import_module(module), item["class_name"], None)
                if cls is not None:
                    found[item["class_name"]] = cls
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    return found


def _kernel_load_model(path):
    import zipfile

    import keras

    path = Path(path)
    if path.suffix == ".json":
        text = path.read_text()
        with keras.saving.custom_object_scope(_course_classes(json.loads(text))):
            return keras.models.model_from_json(text)
    with zipfile.ZipFile(path) as archive:
        custom = _course_classes(json.loads(archive.read("config.json")))
    return keras.saving.load_model(path, custom_objects=custom, safe_mode=True)


def _symbolic(fn, args, kwargs):
    """fn called on keras.Input placeholders: the model from those inputs to its output."""
    import keras

    inputs = [a for a in args if _is_keras_tensor(a)]
    out = fn(*args, **kwargs)
    if out is None or not _is_keras_tensor(out):
        return out
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], out)


def rebind(model, others: list):
    """`model` with every layer that is a copy of one of the models `others` (the same name)
    replaced by that very object: when a model and the backbone inside it cross separately,
    a function that changes the backbone must change the one inside the model (unit 14)."""
    import keras

    names = {o.name: o for o in others if o is not model and _is_keras_model(o)}
    if not any(ly.name in names and ly is not names[ly.name] for ly in model.layers):
        return model
    return keras.models.clone_model(
        model, clone_function=lambda layer: names.get(layer.name, layer)
    )


def _dataset_map(fn, element: tuple, repeat: int) -> list:
    """Every output of `Dataset.from_tensors(element).repeat(repeat).map(fn)`, as arrays:
    how a function meant for tf.data is run (traced once into a graph) for the grader."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensors(tuple(element)).repeat(repeat).map(fn)
    return [tuple(np.asarray(t) for t in out) for out in ds]


def run_pipeline(build, args: tuple, delay: float, epochs: int, keep: bool) -> dict:
    """Unit 17's `build_pipeline(x, y, batch_size, training, preprocess=, augment=)` with
    counting preprocess/augment functions (the preprocess sleeps `delay` s per image), then
    `epochs` epochs iterated. Returns what the grader checks: the type, element spec and
    serialized graph of the dataset, how often each function ran, and (keep=True) every
    epoch's (images, labels, batch sizes)."""
    import time

    import tensorflow as tf

    counts = {"pre": 0, "aug": 0}

    def preprocess(image, label):
        def work(img):
            counts["pre"] += 1
            time.sleep(delay)
            return img

        out = tf.py_function(work, [image], tf.uint8)
        out.set_shape(image.shape)
        return tf.cast(out, tf.float32) / 255.0, label

    def augment(image, label):
        def work(img):
            counts["aug"] += 1
            return img

        out = tf.py_function(work, [image], tf.float32)
        out.set_shape(image.shape)
        return out, label

    ds = build(*args, preprocess=preprocess, augment=augment)
    if not isinstance(ds, tf.data.Dataset):
        return {"type": type(ds).__name__}
    spec = ds.element_spec
    parts = spec if isinstance(spec, tuple) else (spec,)
    described = [
        [getattr(getattr(p, "dtype", None), "name", str(p)), getattr(p, "shape", None)]
        for p in parts
    ]
    described = [[d, None if s is None else list(s.as_list())] for d, s in described]
    graph = tf.raw_ops.DatasetToGraphV2(input_dataset=ds._variant_tensor).numpy()
    epochs_seen = []
    for _ in range(epochs):
        images, labels, sizes = [], [], []
        for a, b in ds:
            if keep:
                images.append(np.asarray(a))
                labels.append(np.asarray(b))
            sizes.append(int(np.shape(b)[0]))
        if keep:
            epochs_seen.append((np.concatenate(images), np.concatenate(labels), sizes))
    return {
        "type": "Dataset",
        "spec": described,
        "is_tuple": isinstance(spec, tuple),
        "graph": np.frombuffer(graph, dtype=np.uint8).copy(),
        "epochs": epochs_seen,
        "pre": counts["pre"],
        "aug": counts["aug"],
    }


def traced(fn, args, kwargs) -> dict:
    """fn(*args, **kwargs) under a line tracer: its result and the number of Python lines run
    outside the standard library, the installed packages and this file (the learner's code),
    for checks that count them (unit 03's "no loop over output positions")."""
    import sys
    import sysconfig

    skip = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame, event, arg):
        file = frame.f_code.co_filename
        if file.startswith(skip) or file.startswith("<frozen") or file == __file__:
            return None
        return local

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = fn(*args, **kwargs)
    finally:
        sys.settrace(previous)
    return {"result": result, "lines": count}


def _syncable(value) -> bool:
    """Arguments a function may change in place, sent back after the call: models (their
    trainable flags, weights), arrays (so that "do not change the input" is checked),
    random generators (their state advanced)."""
    return (
        _is_keras_model(value)
        or isinstance(value, np.random.Generator)
        or (isinstance(value, np.ndarray) and value.dtype.kind in _ARRAY_KINDS)
    )


def serve(namespace: dict, call_dir: str) -> None:
    """Call `namespace[name]` on the arguments in `call_dir/args`; write the result (or the
    exception it raised) to `call_dir/result`, and the arguments it may have changed
    (`_syncable`) as they are after the call to `call_dir/synced`."""
    call_dir = Path(call_dir)
    spec = json.loads((call_dir / "call.json").read_text())
    args, kwargs = load(call_dir / "args", load_model=_kernel_load_model)
    models = [a for a in args if _is_keras_model(a)]
    args = tuple(rebind(a, models) if _is_keras_model(a) else a for a in args)
    fn = namespace.get(spec["name"])
    if fn is None:
        dump_error(NameError(f"name '{spec['name']}' is not defined"), call_dir / "result")
        return
    try:
        if spec.get("mode") == "dataset_map":
            result = _dataset_map(fn, args, int(spec["repeat"]))
        elif spec.get("mode") == "traced":
            result = traced(fn, args, kwargs)
        elif spec.get("mode") == "pipeline":
            result = run_pipeline(
                fn, args, float(spec["delay"]), int(spec["epochs"]), bool(spec["keep"])
            )
        elif any(_is_keras_tensor(a) for a in args):
            result = _symbolic(fn, args, kwargs)
        else:
            result = fn(*args, **kwargs)
    except BaseException as err:  # the learner's exception is data for the grader
        dump_error(err, call_dir / "result")
        return
    try:
        dump(result, call_dir / "result", results=True)
        changed = [a if _syncable(a) else None for a in args]
        dump(changed, call_dir / "synced", results=True)
    except Exception as err:
        dump_error(err, call_dir / "result")
