"""Speed: training throughput of a Keras model, images per second of a tf.data pipeline.

- `ThroughputCallback`: Images per second of the training batches of each epoch of `fit`.
- `measure_training_throughput`: Images/s of training steps (forward, backward, SGD update) of `model` on random data.
- `images_per_second`: Iterate `ds` (batches whose first element has a batch axis) `epochs` times.
- `print_throughput`: Print rows {"variant": ..., "images_per_second": ..., other columns} as a table.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras
import numpy as np


class ThroughputCallback(keras.callbacks.Callback):
    """Images per second of the training batches of each epoch of `fit`.

    images_per_epoch: how many training images one epoch sees (after any validation split).
    """

    def __init__(self, images_per_epoch: int):
        super().__init__()
        self.images_per_epoch = int(images_per_epoch)
        self.images_per_second: list[float] = []
        self._start = 0.0
        self._last = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self._last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._last = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = max(self._last - self._start, 1e-9)
        self.images_per_second.append(self.images_per_epoch / seconds)

    @property
    def steady(self) -> float:
        """The fastest epoch after the first (the only epoch if there is one), in images/s."""
        later = self.images_per_second[1:] or self.images_per_second
        return float(max(later)) if later else float("nan")


def measure_training_throughput(
    model, *, batch_size: int = 8, steps: int = 3, compiled: bool = True, seed: int = 0
) -> float:
    """Images/s of training steps (forward, backward, SGD update) of `model` on random data.

    model: a built Keras model with a fully known input shape (H, W, C); it is compiled here
      with SGD and a mean-squared-error loss towards zeros, which works for any output.
    compiled: True runs the steps as a compiled graph (how `fit` trains; building the graph
      is done in the warm-up step and not timed); False runs them eagerly, op by op, which
      avoids the graph-building time but adds Python overhead per layer (slower steps).
    Returns batch_size * steps / seconds of the timed steps.
    """
    shape = tuple(int(d) for d in model.input_shape[1:])
    out_shape = tuple(int(d) for d in model.output_shape[1:])
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, size=(batch_size, *shape)).astype("float32")
    y = np.zeros((batch_size, *out_shape), dtype="float32")
    model.compile(optimizer=keras.optimizers.SGD(1e-4), loss="mse", run_eagerly=not compiled)
    model.train_on_batch(x, y)  # warm-up: builds the graph and the optimizer's state
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return batch_size * steps / (time.perf_counter() - start)


def images_per_second(ds, epochs: int = 1) -> list[float]:
    """Iterate `ds` (batches whose first element has a batch axis) `epochs` times.

    Returns one images/s figure per epoch. Only the input pipeline runs: no model.
    """
    rates = []
    for _ in range(epochs):
        start, n = time.perf_counter(), 0
        for batch in ds:
            n += int(batch[0].shape[0])
        rates.append(n / max(time.perf_counter() - start, 1e-9))
    return rates


def print_throughput(rows: Sequence[dict], columns: Sequence[str] | None = None) -> None:
    """Print rows {"variant": ..., "images_per_second": ..., other columns} as a table."""
    columns = list(columns or rows[0].keys())
    width = {c: max(len(c), *(len(_fmt(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(width[c]) for c in columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c, "")).ljust(width[c]) for c in columns))


def _fmt(value) -> str:
    return f"{value:,.0f}" if isinstance(value, float) else str(value)
