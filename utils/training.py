"""Training several models on one recipe and measuring their generalisation (unit 06); the
architecture lectures' (07-11) fit -> evaluate -> band -> record plumbing.

- `standardise`: Per-image standardisation: uint8 or float (N, H, W, C) -> float32 (N, H, W, C).
- `Run`: What one training run measured.
- `train_side_by_side`: Train several Keras classifiers on the same mini-batches, in one loop; measure each.
- `fit_and_measure`: Train one model with `train_side_by_side` and return its Run (see there).
- `print_gap_table`: One row per run: train and validation accuracy, gap, and the gap's change vs `baseline`.
- `LectureRun`: What `train_and_record` measured for one architecture lecture.
- `train_and_record`: An architecture lecture's training plumbing: fit with a throughput callback, evaluate, check the band, record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def standardise(x: np.ndarray) -> np.ndarray:
    """Per-image standardisation: uint8 or float (N, H, W, C) -> float32 (N, H, W, C).

    Each image has its own mean subtracted and is divided by its own standard deviation (over
    all pixels and channels), like `tf.image.per_image_standardization`. Colour and brightness
    differences between photos stop mattering, and training starts faster.
    """
    images = np.asarray(x, np.float32)
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    floor = 1.0 / np.sqrt(images[0].size)  # as tf.image.per_image_standardization
    std = np.maximum(images.std(axis=(1, 2, 3), keepdims=True), floor)
    return ((images - mean) / std).astype(np.float32)


@dataclass
class Run:
    """What one training run measured.

    history: Keras's per-epoch logs ({"loss": [...], "accuracy": [...], maybe "val_..."}).
    train_acc, val_acc: accuracies measured after training with `model.evaluate`, i.e. in
    inference mode (dropout off, augmentation off, batch norm using its moving statistics).
    seconds: wall time of the training (shared by the models trained side by side with it).
    model: the trained keras.Model (None when a Run is made by hand).
    """

    name: str
    history: dict = field(repr=False)
    train_acc: float
    val_acc: float
    seconds: float
    model: object = field(default=None, repr=False, compare=False)

    @property
    def gap(self) -> float:
        """The generalisation gap: train accuracy - validation accuracy."""
        return self.train_acc - self.val_acc


@contextmanager
def _quiet_retracing():
    """Silence TensorFlow's "triggered tf.function retracing" warning within the block.

    Each `train_side_by_side` call compiles new step functions for its own models, which TF
    counts as retracing one function (same source code) and warns about after five calls.
    """
    logger = logging.getLogger("tensorflow")
    saved = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(saved)


def _optimizers_for(optimizer, names):
    """One optimizer per model. optimizer: a name ("adam"), an instance (one model only), a
    zero-argument callable returning a fresh optimizer, or a mapping {model name: optimizer}."""
    import keras

    if isinstance(optimizer, Mapping):
        missing = [n for n in names if n not in optimizer]
        if missing:
            raise ValueError(f"no optimizer given for {missing}")
        chosen = [optimizer[n] for n in names]
    elif isinstance(optimizer, str):
        chosen = [keras.optimizers.get(optimizer) for _ in names]
    elif isinstance(optimizer, keras.optimizers.Optimizer):
        if len(names) > 1:
            raise ValueError("one optimizer instance cannot train several models: pass a callable")
        chosen = [optimizer]
    elif callable(optimizer):
        chosen = [optimizer() for _ in names]
    else:
        raise TypeError(
            f"optimizer must be a name, an optimizer, a callable or a dict: {optimizer!r}"
        )
    if len({id(o) for o in chosen}) < len(chosen):
        raise ValueError("each model needs its own optimizer instance (they keep per-weight state)")
    return chosen


def train_side_by_side(
    models: Mapping,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int,
    batch_size: int,
    optimizer="adam",
    curves: bool = False,
    seed: int = 0,
    verbose: bool = True,
    progress: bool | None = None,
) -> dict[str, Run]:
    """Train several Keras classifiers on the same mini-batches, in one loop; measure each.

    models: {name: keras.Model} taking x (N, H, W, C) float32 to softmax probabilities
    (N, classes); train, val: (x (N, H, W, C) float32, y (N,) int). optimizer: see
    `_optimizers_for` (a name, an instance for a single model, a callable giving a fresh one per
    model, or {name: optimizer}). Every epoch visits the training set in one random order (from
    `seed`), the same for every model, in mini-batches of `batch_size`; each model takes one
    step of its own optimizer per mini-batch on mean cross-entropy + its weight penalties
    (`model.losses`, as Keras's `fit` does). The models share no weights and each has its own
    optimizer, so training them together gives the same result as training each alone with
    these mini-batches; doing it in one compiled step costs one trace instead of one per model.

    Returns {name: Run}. Run.history holds per-epoch "loss" and "accuracy" (running averages
    over the epoch's mini-batches, in training mode, as `fit` reports them) and, if
    curves=True, "val_loss" and "val_accuracy" (inference mode, after each epoch).
    train_acc and val_acc are measured after training, in inference mode.
    progress: show a progress bar over the epochs; None: only for long runs (over 200,000
    image-epochs in all, e.g. the `full` profile), so that quick runs print nothing extra.
    """
    import keras
    import tensorflow as tf
    from tqdm.auto import tqdm

    names = list(models)
    nets = [models[n] for n in names]
    opts = _optimizers_for(optimizer, names)
    for net, opt in zip(nets, opts, strict=True):
        opt.build(net.trainable_variables)
    x, y = np.asarray(train[0], np.float32), np.asarray(train[1], np.int32)
    xv, yv = np.asarray(val[0], np.float32), np.asarray(val[1], np.int32)
    if progress is None:
        progress = epochs * len(x) * len(nets) > 200_000
    spec = (tf.TensorSpec((None, *x.shape[1:]), tf.float32), tf.TensorSpec((None,), tf.int32))

    def penalty(net):
        return tf.add_n(net.losses) if net.losses else tf.constant(0.0)

    def correct(labels, probs):
        return tf.reduce_sum(
            tf.cast(tf.equal(tf.argmax(probs, -1, output_type=tf.int32), labels), tf.float32)
        )

    @tf.function(input_signature=spec)
    def train_step(xb, yb):
        losses, hits = [], []
        for net, opt in zip(nets, opts, strict=True):
            with tf.GradientTape() as tape:
                probs = net(xb, training=True)
                ce = keras.losses.sparse_categorical_crossentropy(yb, probs)
                loss = tf.reduce_mean(ce) + penalty(net)
            grads = tape.gradient(loss, net.trainable_variables)
            opt.apply_gradients(zip(grads, net.trainable_variables, strict=True))
            losses.append(loss)
            hits.append(correct(yb, probs))
        return tf.stack(losses), tf.stack(hits)

    def eval_step(xb, yb):
        # Eager on purpose: it runs a few times only, and compiling it would cost more.
        sums, hits = [], []
        for net in nets:
            probs = net(xb, training=False)
            sums.append(tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(yb, probs)))
            hits.append(correct(yb, probs))
        return tf.stack(sums), tf.stack(hits)

    def evaluate(xs, ys):
        """(mean loss incl. penalties, accuracy) per model, in inference mode."""
        sums, hits = np.zeros(len(nets)), np.zeros(len(nets))
        for i in range(0, len(xs), 256):
            s, h = eval_step(xs[i : i + 256], ys[i : i + 256])
            sums, hits = sums + s.numpy(), hits + h.numpy()
        penalties = np.array([float(penalty(net)) for net in nets])
        return sums / len(xs) + penalties, hits / len(xs)

    with _quiet_retracing():
        history = {n: {"loss": [], "accuracy": []} for n in names}
        rng = np.random.default_rng(seed)
        start = time.perf_counter()
        bar = tqdm(range(epochs), desc="epochs", disable=not progress, leave=False)
        for _ in bar:
            order = rng.permutation(len(x))
            loss_sum, hit_sum = np.zeros(len(nets)), np.zeros(len(nets))
            for i in range(0, len(x), batch_size):
                idx = order[i : i + batch_size]
                loss, hits = train_step(x[idx], y[idx])
                loss_sum, hit_sum = loss_sum + loss.numpy() * len(idx), hit_sum + hits.numpy()
            if curves:
                val_loss, val_acc = evaluate(xv, yv)
            for k, n in enumerate(names):
                history[n]["loss"].append(float(loss_sum[k] / len(x)))
                history[n]["accuracy"].append(float(hit_sum[k] / len(x)))
                if curves:
                    history[n].setdefault("val_loss", []).append(float(val_loss[k]))
                    history[n].setdefault("val_accuracy", []).append(float(val_acc[k]))
        bar.close()
        _, train_acc = evaluate(x, y)
        _, val_acc = evaluate(xv, yv)
    seconds = time.perf_counter() - start
    runs = {
        n: Run(n, history[n], float(train_acc[k]), float(val_acc[k]), seconds, models[n])
        for k, n in enumerate(names)
    }
    if verbose:
        for run in runs.values():
            print(
                f"{run.name:22s} train {run.train_acc:.3f}  val {run.val_acc:.3f}  gap {run.gap:+.3f}"
            )
        print(f"({len(nets)} model(s), {epochs} epochs: {seconds:.1f} s (measured))")
    return runs


def fit_and_measure(
    model,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int,
    batch_size: int,
    optimizer="adam",
    name: str = "",
    curves: bool = False,
    seed: int = 0,
    verbose: bool = True,
) -> Run:
    """Train one model with `train_side_by_side` and return its Run (see there).

    model: a keras.Model, x (N, H, W, C) float32 -> softmax probabilities (N, classes).
    optimizer: a name or a fresh keras.optimizers instance. Prints one line unless
    verbose=False.
    """
    name = name or model.name
    runs = train_side_by_side(
        {name: model},
        train,
        val,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        curves=curves,
        seed=seed,
        verbose=verbose,
    )
    return runs[name]


def print_gap_table(runs: Sequence[Run], baseline: Run | None = None) -> None:
    """One row per run: train and validation accuracy, gap, and the gap's change vs `baseline`."""
    width = max([22, *(len(r.name) for r in runs)])
    header = f"{'model':{width}s} {'train acc':>9s} {'val acc':>8s} {'gap':>7s}"
    print(header + (f" {'vs baseline':>11s}" if baseline else ""))
    for r in runs:
        row = f"{r.name:{width}s} {r.train_acc:9.3f} {r.val_acc:8.3f} {r.gap:+7.3f}"
        if baseline:
            row += f" {r.gap - baseline.gap:+11.3f}"
        print(row)


@dataclass
class LectureRun:
    """What `train_and_record` measured for one architecture lecture.

    history: the `keras.callbacks.History` of `model.fit` (plot it with `plots.plot_history`).
    test_accuracy: accuracy on the test images (the `accuracy` metric `train_and_record` read).
    images_per_second: training speed, the fastest epoch after the first
      (`ThroughputCallback.steady`).
    scores: every metric `model.evaluate` returned on the test images, by name.
    path: the record file written (`utils.measure.record`).
    """

    history: object = field(repr=False)
    test_accuracy: float
    images_per_second: float
    scores: dict = field(repr=False)
    path: Path


def _per_output(model, y: np.ndarray):
    """The labels `y` (N,) for each output of `model`: {name: y} for a dict of outputs, else y."""
    outputs = getattr(model, "output", None)
    return {head: y for head in outputs} if isinstance(outputs, dict) else y


def train_and_record(
    model,
    test: tuple[np.ndarray, np.ndarray],
    *,
    unit: str,
    name: str,
    band: float,
    causes: str,
    train: tuple[np.ndarray, np.ndarray] | None = None,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    history=None,
    throughput=None,
    accuracy: str = "accuracy",
    band_name: str = "",
    **fields,
) -> LectureRun:
    """An architecture lecture's training plumbing: fit, evaluate, check the band, record.

    model: a compiled Keras classifier, images (N, H, W, C) -> probabilities (N, classes), or
      a dict of such outputs (each gets the same labels, e.g. GoogLeNet's auxiliary heads).
    test, train, val: (x (N, H, W, C), y (N,) int).
    Either train, val, epochs and batch_size: then `model.fit` runs here (verbose=2), timed by
    a `utils.measure.ThroughputCallback`, and the training speed is printed; or history and
    throughput: the `History` of a `model.fit` the notebook ran itself with that callback.
    Then `model.evaluate` on `test` (inference mode); for several outputs each one's
    accuracy is printed. `accuracy` names the metric checked (e.g. "main_accuracy"), with
    `utils.measure.check_band` against [band, 1], under `band_name` (default
    f"{name} test accuracy") and with `causes`. Last, `utils.measure.record(unit, ...)` saves
    model=name, the `fields` given (params, macs, profile, ...), the test accuracy and the
    images per second, and "recorded in <file>" is printed.
    Returns a LectureRun.
    """
    from utils.measure import ThroughputCallback, check_band, record

    if history is None:
        if train is None or val is None or epochs is None or batch_size is None:
            raise ValueError("give train, val, epochs and batch_size, or history and throughput")
        throughput = ThroughputCallback(len(train[0]))
        history = model.fit(
            train[0],
            _per_output(model, train[1]),
            validation_data=(val[0], _per_output(model, val[1])),
            epochs=epochs,
            batch_size=batch_size,
            callbacks=[throughput],
            verbose=2,
        )
        print(f"training speed: {throughput.steady:,.0f} images/s (fastest epoch after the first)")
    elif throughput is None:
        raise ValueError("a model fitted in the notebook needs its ThroughputCallback too")
    targets = _per_output(model, test[1])
    scores = model.evaluate(test[0], targets, verbose=0, return_dict=True)
    if isinstance(targets, dict):
        for head in targets:
            print(f"{head:5s} head test accuracy: {scores[f'{head}_accuracy']:.3f}")
    test_acc = float(scores[accuracy])
    check_band(band_name or f"{name} test accuracy", test_acc, band, causes=causes)
    path = record(
        unit,
        model=name,
        **fields,
        accuracy=test_acc,
        images_per_second=float(throughput.steady),
    )
    print("recorded in", path.name)
    return LectureRun(history, test_acc, float(throughput.steady), scores, path)
