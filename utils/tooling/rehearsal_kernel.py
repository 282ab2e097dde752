"""What a rehearsal kernel does before the notebook's first cell (see `utils.tooling.rehearsal`).

`install()` is called by the IPython startup file the rehearsal writes; a learner's kernel never
runs it. It changes three things and records what the full run would have cost:

- `keras.Model.fit` runs at most `$COURSE_REHEARSAL_STEPS` steps per epoch (and as many
  validation steps); `evaluate` and `predict` at most that many batches. `predict` still
  returns one row per input: the rows past the batches it ran are copies of the computed ones
  (the rehearsal's model is untrained, so its outputs carry no meaning either way), so the
  cells after it see the shapes the full run gives them. Epochs, batch sizes, callbacks and
  models are left as the notebook sets them.
- `utils.training.train_side_by_side` (unit 06's own training loop, which `fit` does not
  run) trains every model on the first `$COURSE_REHEARSAL_STEPS` mini-batches of each epoch
  and measures on as many batches of 256: same models, epochs, batch size and optimizers.
- `keras.applications.*(weights="imagenet")` builds the same architecture with `weights=None`.
- The data registry's sha256 and size of each synthesised file (`$COURSE_REHEARSAL_DATA`,
  JSON {name: [sha256, size]}) replace the real files', so `fetch` accepts the stand-ins.

After every cell it writes `$COURSE_REHEARSAL_RECORD` (JSON): the kernel's peak RSS
(`ru_maxrss`), and per call of fit / evaluate / predict the images the full run would process
and the model's forward MACs per image (`utils.measure.macs.count_macs`, None if it cannot count).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import math
import os
import resource

RECORD: dict = {"calls": [], "weights_replaced": [], "peak_rss_mb": 0.0}
_IN_FIT: list = []  # the models whose fit is running (fit calls evaluate for validation)


def _steps() -> int:
    return int(os.environ.get("COURSE_REHEARSAL_STEPS", "1"))


def _n_samples(x) -> int | None:
    """Number of samples in array-like input x (array, list/tuple/dict of arrays)."""
    if x is None:
        return None
    if isinstance(x, dict):
        x = next(iter(x.values()), None)
    elif isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        x = x[0]
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) and shape[0] is not None:
        return int(shape[0])
    return None


def _dataset_batches(x) -> tuple[int | None, int | None]:
    """(batches per pass, images per pass) of a tf.data.Dataset or a Keras PyDataset."""
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        batches = int(x.cardinality())
        if batches < 0:  # infinite or unknown
            return None, None
        first = next(iter(x.take(1)))
        batch = _n_samples(first[0] if isinstance(first, tuple) else first)
        return batches, (batches * batch if batch else None)
    if hasattr(x, "__len__") and hasattr(x, "__getitem__") and not hasattr(x, "shape"):
        batches = len(x)
        try:
            first = x[0]
            batch = _n_samples(first[0] if isinstance(first, tuple) else first)
        except Exception:  # a generator-like dataset that cannot be indexed: count batches only
            batch = None
        return batches, (batches * batch if batch else None)
    return None, None


def _plan(x, batch_size, steps_given, split: float = 0.0):
    """(full steps per pass, full images per pass) for fit/evaluate/predict's input."""
    n = _n_samples(x)
    if n is not None:
        n = n - int(n * split) if split else n
        batch = batch_size or 32
        return (steps_given or math.ceil(n / batch)), (
            n if not steps_given else min(n, steps_given * batch)
        )
    batches, images = _dataset_batches(x)
    if steps_given:
        per = images / batches if images and batches else None
        return steps_given, (int(steps_given * per) if per else None)
    return batches, images


def _keep_batch_size(p: dict) -> None:
    """Give array input its default batch size of 32 explicitly: with `steps` set and no
    batch size, Keras sizes one batch to hold the whole array (a 1,000-image batch)."""
    if p.get("batch_size") is None and _n_samples(p.get("x")) is not None:
        p["batch_size"] = 32


def _macs(model) -> int | None:
    try:
        from utils.measure.macs import count_macs

        return int(count_macs(model))
    except Exception:  # subclassed or unbuilt models: say "not counted" rather than guess
        return None


def _rows(result, n: int):
    """Repeat the rows of predict's output(s) until there are n."""
    import numpy as np

    if isinstance(result, dict):
        return {k: _rows(v, n) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return type(result)(_rows(v, n) for v in result)
    result = np.asarray(result)
    if len(result) >= n:
        return result[:n]
    return np.resize(result, (n, *result.shape[1:]))


def _patch_model() -> None:
    import keras

    fit, evaluate, predict = keras.Model.fit, keras.Model.evaluate, keras.Model.predict
    fit_sig, eval_sig, pred_sig = (inspect.signature(f) for f in (fit, evaluate, predict))

    @functools.wraps(fit)
    def rehearsed_fit(self, *args, **kwargs):
        a = fit_sig.bind(self, *args, **kwargs)
        a.apply_defaults()
        p = a.arguments
        steps, images = _plan(p["x"], p["batch_size"], p["steps_per_epoch"], p["validation_split"])
        val_images = None
        if p["validation_data"] is not None:
            vd = p["validation_data"]
            vx = vd[0] if isinstance(vd, (tuple, list)) else vd
            _, val_images = _plan(
                vx, p["validation_batch_size"] or p["batch_size"], p["validation_steps"]
            )
            p["validation_steps"] = min(p["validation_steps"] or _steps(), _steps())
        elif p["validation_split"]:
            n = _n_samples(p["x"])
            val_images = int(n * p["validation_split"]) if n else None
            p["validation_steps"] = _steps()
        if steps:
            p["steps_per_epoch"] = min(steps, _steps())
        _keep_batch_size(p)
        _IN_FIT.append(self)  # fit validates through evaluate: counted here, not there
        try:
            history = fit(*a.args, **a.kwargs)
        finally:
            _IN_FIT.pop()
        epochs = int(p["epochs"]) - int(p["initial_epoch"])
        RECORD["calls"].append(
            {
                "kind": "fit",
                "model": self.name,
                "epochs": epochs,
                "images": images * epochs if images else None,
                "val_images": val_images * epochs if val_images else None,
                "macs_per_image": _macs(self),
            }
        )
        return history

    @functools.wraps(evaluate)
    def rehearsed_evaluate(self, *args, **kwargs):
        a = eval_sig.bind(self, *args, **kwargs)
        a.apply_defaults()
        p = a.arguments
        steps, images = _plan(p["x"], p["batch_size"], p["steps"])
        if steps:
            p["steps"] = min(steps, _steps())
        _keep_batch_size(p)
        result = evaluate(*a.args, **a.kwargs)
        if _IN_FIT:
            return result
        RECORD["calls"].append(
            {
                "kind": "evaluate",
                "model": self.name,
                "images": images,
                "macs_per_image": _macs(self),
            }
        )
        return result

    @functools.wraps(predict)
    def rehearsed_predict(self, *args, **kwargs):
        a = pred_sig.bind(self, *args, **kwargs)
        a.apply_defaults()
        p = a.arguments
        steps, images = _plan(p["x"], p["batch_size"], p["steps"])
        n = _n_samples(p["x"])
        capped = bool(steps and n is not None and steps > _steps())
        if capped:
            p["steps"] = _steps()
        _keep_batch_size(p)
        result = predict(*a.args, **a.kwargs)
        RECORD["calls"].append(
            {"kind": "predict", "model": self.name, "images": images, "macs_per_image": _macs(self)}
        )
        return _rows(result, n) if capped else result

    keras.Model.fit = rehearsed_fit
    keras.Model.evaluate = rehearsed_evaluate
    keras.Model.predict = rehearsed_predict


def _patch_applications() -> None:
    import keras

    modules = [keras.applications] + [
        getattr(keras.applications, name)
        for name in dir(keras.applications)
        if inspect.ismodule(getattr(keras.applications, name))
    ]
    for module in modules:
        for name in dir(module):
            builder = getattr(module, name)
            if not (inspect.isfunction(builder) and name[:1].isupper()):
                continue
            try:
                if "weights" not in inspect.signature(builder).parameters:
                    continue
            except (TypeError, ValueError):
                continue

            def untrained(*args, _builder=builder, _name=name, **kwargs):
                if isinstance(kwargs.get("weights"), str) or (
                    "weights" not in kwargs
                    and inspect.signature(_builder).parameters["weights"].default is not None
                ):
                    RECORD["weights_replaced"].append(
                        f"{_name}({kwargs.get('weights', 'imagenet')!r})"
                    )
                    kwargs["weights"] = None
                return _builder(*args, **kwargs)

            setattr(module, name, functools.wraps(builder)(untrained))


def _patch_registry() -> None:
    from utils.data import registry

    for name, (sha256, size) in json.loads(os.environ.get("COURSE_REHEARSAL_DATA", "{}")).items():
        registry.REGISTRY[name] = dataclasses.replace(
            registry.REGISTRY[name], sha256=sha256, size=size
        )


def _patch_training() -> None:
    from utils import training

    original = training.train_side_by_side

    @functools.wraps(original)
    def rehearsed_side_by_side(models, train, val, *, epochs, batch_size, **kwargs):
        n, n_val = len(train[0]), len(val[0])
        keep, keep_val = min(n, _steps() * batch_size), min(n_val, _steps() * 256)
        for name, model in dict(models).items():
            RECORD["calls"].append(
                {
                    "kind": "fit",
                    "model": f"{name} (train_side_by_side)",
                    "epochs": int(epochs),
                    "images": int(epochs) * n,
                    "val_images": int(epochs) * n_val if kwargs.get("curves") else None,
                    "macs_per_image": _macs(model),
                }
            )
        return original(
            models,
            (train[0][:keep], train[1][:keep]),
            (val[0][:keep_val], val[1][:keep_val]),
            epochs=epochs,
            batch_size=batch_size,
            **kwargs,
        )

    training.train_side_by_side = rehearsed_side_by_side


def write_record(result=None) -> None:
    """Write RECORD, with the peak RSS so far, to `$COURSE_REHEARSAL_RECORD`.

    result: IPython's ExecutionResult of the cell just run; the cells that raised the peak are
    kept in RECORD["peak_by_cell"] as [execution count, peak MiB] (where the memory goes).
    """
    path = os.environ.get("COURSE_REHEARSAL_RECORD")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    if result is not None and peak > RECORD["peak_rss_mb"] + 256:
        RECORD.setdefault("peak_by_cell", []).append([result.execution_count, round(peak)])
    RECORD["peak_rss_mb"] = peak
    if path:
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            json.dump(RECORD, f)
        os.replace(tmp, path)


def install(ip=None) -> None:
    """Patch Keras and the data registry, and write the record after every cell."""
    _patch_registry()
    _patch_model()
    _patch_training()
    _patch_applications()
    if ip is None:
        from IPython import get_ipython

        ip = get_ipython()
    if ip is not None:
        ip.events.register("post_run_cell", write_record)
    write_record()
