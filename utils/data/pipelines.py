"""Stored images and a naive Python-generator input pipeline to measure tf.data against (unit 17).

- `encode_png`: uint8 (N, H, W, C) -> object array (N,) of PNG-encoded bytes (lossless).
- `naive_decode`: PNG bytes -> float32 (H, W, C) in [0, 1], with Pillow, in Python.
- `naive_augment`: (H, W, C) -> (H, W, C): random left-right flip and shift by up to `pad` pixels, NumPy.
- `naive_dataset`: A `tf.data.Dataset` fed by a Python generator, one image at a time, no parallelism.
- `dataset_ops`: Op names of the datasets in `ds`'s graph, in graph order (the source comes first).
"""

from __future__ import annotations

import io

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
