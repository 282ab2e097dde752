"""Input-pipeline plumbing for unit 17 (scaling up): stored images, a naive Python-generator
pipeline to measure against, a look at what a `tf.data` pipeline contains, throughput timing
and its table and bar plot.

- `encode_png(x)`  uint8 images (N, H, W, C) -> (N,) PNG byte strings, like files on disk
- `naive_dataset(encoded, labels, batch_size, seed)`  a Python generator that decodes (Pillow)
  and augments (NumPy) one image at a time, wrapped by `Dataset.from_generator`
- `dataset_ops(ds)`  the names of the dataset ops in a `tf.data.Dataset`'s graph, source first
- `images_per_second(ds, epochs)`  iterate the dataset, one images/s figure per epoch
- `print_throughput(rows)`, `plot_throughput(rows)`  a table and a bar chart of
  {"variant": str, "images_per_second": float, ...} rows

The fast `tf.data` pipeline itself is written in the notebooks: it is the lab's exercise.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def encode_png(x: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, C) -> object array (N,) of PNG-encoded bytes (lossless)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(np.asarray(x, dtype=np.uint8)).map(tf.io.encode_png)
    return np.array([b.numpy() for b in ds], dtype=object)


def naive_decode(png: bytes) -> np.ndarray:
    """PNG bytes -> float32 (H, W, C) in [0, 1], with Pillow, in Python."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)), dtype=np.float32) / 255.0


def naive_augment(image: np.ndarray, rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    """(H, W, C) -> (H, W, C): random left-right flip and shift by up to `pad` pixels, NumPy."""
    if rng.random() < 0.5:
        image = image[:, ::-1]
    h, w = image.shape[:2]
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)))
    dy, dx = rng.integers(0, 2 * pad + 1, size=2)
    return padded[dy : dy + h, dx : dx + w]


def naive_dataset(encoded: np.ndarray, labels: np.ndarray, batch_size: int, seed: int = 0):
    """A `tf.data.Dataset` fed by a Python generator, one image at a time, no parallelism.

    Each epoch: a shuffled order, then for each image `naive_decode` (Pillow) and
    `naive_augment` (NumPy) in Python, then `Dataset.batch`. Nothing is cached or prefetched,
    so the model waits while Python prepares every batch: what a first, straightforward
    training loop does. Elements: (float32 (B, H, W, C), int64 (B,)).
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    shape = naive_decode(encoded[0]).shape

    def generate():
        for i in rng.permutation(len(encoded)):
            yield naive_augment(naive_decode(encoded[i]), rng), np.int64(labels[i])

    signature = (tf.TensorSpec(shape, tf.float32), tf.TensorSpec((), tf.int64))
    ds = tf.data.Dataset.from_generator(generate, output_signature=signature)
    # A generator's length is unknown to tf.data; stating it lets Keras count the steps.
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(encoded)))
    return ds.batch(batch_size)


def dataset_ops(ds) -> list[str]:
    """Op names of the datasets in `ds`'s graph, in graph order (the source comes first).

    E.g. ['TensorSliceDataset', 'ParallelMapDatasetV2', 'CacheDatasetV2', 'BatchDatasetV2',
    'PrefetchDataset']. Ops inside mapped functions are not listed.
    """
    import tensorflow as tf
    from tensorflow.core.framework import graph_pb2

    graph = graph_pb2.GraphDef()
    serialized = tf.raw_ops.DatasetToGraphV2(input_dataset=ds._variant_tensor)
    graph.ParseFromString(serialized.numpy())
    return [node.op for node in graph.node if "Dataset" in node.op]


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


def plot_throughput(rows: Sequence[dict], *, title: str = "training throughput") -> None:
    """Horizontal bars of rows' "images_per_second", labelled by "variant"."""
    names = [r["variant"] for r in rows]
    values = [r["images_per_second"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.2))
    ax.barh(names[::-1], values[::-1], color="tab:blue")
    for i, v in enumerate(values[::-1]):
        ax.text(v, i, f" {v:,.0f}", va="center", fontsize=9)
    ax.set_xlabel("images / s (this machine)")
    ax.set_title(title)
    ax.set_xlim(0, max(values) * 1.2)
    fig.tight_layout()
