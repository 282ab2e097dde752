"""Checks for unit 17 (scaling up): a random augmentation and a `tf.data` input pipeline.

Everything is checked by behaviour, never against a copy of an answer:
- `augment(image, label)`: every output must be a window of the zero-padded (and possibly
  mirrored) input, found by a NumPy search over all offsets; the label is untouched; inside a
  `tf.data` map (a traced graph) the offsets and flips must still vary from call to call.
- `build_pipeline(x, y, batch_size, training, preprocess, augment)`: the check passes its own
  `preprocess` (slow on purpose, and counting its calls) and `augment` (counting), then checks
  the element spec and batch shapes, that an epoch yields every example exactly once, the
  order (shuffled differently each epoch when training, the original order when not), that
  `preprocess` runs once per example over several epochs (cached) and `augment` once per
  example per epoch when training (never otherwise), that the maps are parallel and the last
  step is a prefetch (the dataset's graph, `utils.data.pipelines.dataset_ops`), and that it is
  faster than a naive pipeline (sequential map, no cache, no prefetch) timed here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from utils.checks.core import call, fail, passed

PAD = 4  # pixels of zeros on each side before the random crop


def _windows(image: np.ndarray, pad: int = PAD):
    """All (flip, dy, dx) -> window of the zero-padded image (flipped first if flip)."""
    h, w = image.shape[:2]
    for flip in (False, True):
        src = image[:, ::-1] if flip else image
        padded = np.pad(src, ((pad, pad), (pad, pad), (0, 0)))
        for dy in range(2 * pad + 1):
            for dx in range(2 * pad + 1):
                yield (flip, dy - pad, dx - pad), padded[dy : dy + h, dx : dx + w]


def _which_window(out: np.ndarray, image: np.ndarray):
    for key, win in _windows(image):
        if np.allclose(out, win, atol=1e-6):
            return key
    return None


def check_augment(augment: Callable, seed: int = 0, n: int = 40) -> None:
    """`augment(image, label)`: random flip + random shift of up to PAD pixels (zero fill)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(8, 13, size=2))
    image = rng.random((h, w, 3)).astype("float32") + 0.1  # no zeros: padding is visible
    label = int(rng.integers(0, 10))
    case = f"image {image.shape} float32, label {label}"
    out = call(augment, tf.constant(image), tf.constant(label, tf.int64), case=case)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise fail("augment", case, "a pair (image, label)", type(out).__name__)
    got_image, got_label = (np.asarray(o) for o in out)
    if got_image.shape != image.shape or got_image.dtype != np.float32:
        raise fail(
            "augment", case, f"float32 {image.shape}", f"{got_image.dtype} {got_image.shape}"
        )
    if int(got_label) != label:
        raise fail("augment", case, f"label {label} unchanged", int(got_label))
    # Inside tf.data the function is traced once into a graph: randomness must be TF's.
    ds = tf.data.Dataset.from_tensors((image, np.int64(label))).repeat(n).map(augment)
    keys = []
    for i, (a, b) in enumerate(ds):
        a = a.numpy()
        key = _which_window(a, image)
        if key is None:
            raise fail(
                "augment",
                f"call #{i} inside Dataset.map, {case}",
                f"the image shifted by at most {PAD} pixels (zeros fill the gap), maybe mirrored",
                "an image that is no such window",
                "pad with zeros to (H+8, W+8), take a random (H, W) crop, random left-right flip",
            )
        if int(b.numpy()) != label:
            raise fail("augment", f"call #{i} inside Dataset.map", label, int(b.numpy()))
        keys.append(key)
    flips = {k[0] for k in keys}
    shifts = {k[1:] for k in keys}
    if len(flips) < 2 or len(shifts) < 5:
        raise fail(
            "augment",
            f"{n} calls inside Dataset.map",
            f"both flip states and >= 5 different shifts (of {(2 * PAD + 1) ** 2})",
            f"flips {sorted(flips)}, {len(shifts)} different shifts",
            "use TensorFlow's random ops (tf.image.random_*); NumPy/Python randomness is "
            "frozen when tf.data traces the function",
        )
    passed(
        f"augment gives shifted and mirrored windows of the padded image, random in each of "
        f"{n} calls inside tf.data"
    )


class _Counter:
    def __init__(self):
        self.n = 0


def _counting_preprocess(counter: _Counter, delay: float):
    """(uint8 image, label) -> (float32 image / 255, label), counting calls, sleeping `delay`."""
    import tensorflow as tf

    def work(image):
        counter.n += 1
        time.sleep(delay)  # stands for decoding a file: slow, and it releases the GIL
        return image

    def preprocess(image, label):
        out = tf.py_function(work, [image], tf.uint8)
        out.set_shape(image.shape)
        return tf.cast(out, tf.float32) / 255.0, label

    return preprocess


def _counting_augment(counter: _Counter):
    import tensorflow as tf

    def work(image):
        counter.n += 1
        return image

    def augment(image, label):
        out = tf.py_function(work, [image], tf.float32)
        out.set_shape(image.shape)
        return out, label

    return augment


def _epoch(ds):
    images, labels, sizes = [], [], []
    for a, b in ds:
        images.append(np.asarray(a))
        labels.append(np.asarray(b))
        sizes.append(int(np.asarray(b).shape[0]))
    return np.concatenate(images), np.concatenate(labels), sizes


def _naive(x, y, batch_size, preprocess):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).map(preprocess).batch(batch_size)


def _seconds(ds, epochs):
    start = time.perf_counter()
    for _ in range(epochs):
        for _batch in ds:
            pass
    return time.perf_counter() - start


def check_build_pipeline(
    build_pipeline: Callable,
    seed: int = 0,
    n: int = 90,
    batch_size: int = 16,
    delay: float = 0.01,
    timed: bool = True,
) -> None:
    """Behaviour of `build_pipeline(x, y, batch_size, training, preprocess=, augment=)`."""
    import tensorflow as tf

    from utils.data.pipelines import dataset_ops

    rng = np.random.default_rng(seed)
    h = int(rng.integers(6, 10))
    x = rng.integers(0, 256, size=(n, h, h, 3), dtype=np.uint8)
    y = np.arange(n, dtype=np.int64)  # the label is the example's id
    expected_sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])

    orders = {}
    for training in (True, False):
        pre, aug = _Counter(), _Counter()
        case = (
            f"x uint8 {x.shape}, y = ids 0..{n - 1}, batch_size={batch_size}, training={training}"
        )
        ds = call(
            build_pipeline,
            x,
            y,
            batch_size,
            training,
            preprocess=_counting_preprocess(pre, 0.0),
            augment=_counting_augment(aug),
            case=case,
        )
        if not isinstance(ds, tf.data.Dataset):
            raise fail("build_pipeline", case, "a tf.data.Dataset", type(ds).__name__)
        spec = ds.element_spec
        want = f"(TensorSpec((None, {h}, {h}, 3), float32), TensorSpec((None,), int64))"
        ok = (
            isinstance(spec, tuple)
            and len(spec) == 2
            and spec[0].dtype == tf.float32
            and tuple(spec[0].shape.as_list()) == (None, h, h, 3)
            and spec[1].dtype == tf.int64
            and tuple(spec[1].shape.as_list()) == (None,)
        )
        if not ok:
            raise fail(
                "build_pipeline",
                case,
                f"element_spec {want}",
                spec,
                "batch after the maps, and keep the last partial batch (no drop_remainder)",
            )
        epochs = [_epoch(ds) for _ in range(3)]
        for e, (images, labels, sizes) in enumerate(epochs):
            if sizes != expected_sizes:
                raise fail("build_pipeline", f"{case}, epoch {e}", expected_sizes, sizes)
            if sorted(labels.tolist()) != list(range(n)):
                missing = sorted(set(range(n)) - set(labels.tolist()))
                raise fail(
                    "build_pipeline",
                    f"{case}, epoch {e}",
                    "every example exactly once per epoch",
                    f"{len(labels)} examples, missing ids {missing[:8]}",
                    "shuffle with a buffer of the whole data set, and no repeat()",
                )
            if not np.allclose(images * 255.0, x[labels], atol=1e-3):
                raise fail(
                    "build_pipeline",
                    f"{case}, epoch {e}",
                    "each image still paired with its label, scaled by preprocess",
                    "images that do not match their labels",
                    "map preprocess over (image, label) pairs; shuffle images and labels together",
                )
        orders[training] = [tuple(labels.tolist()) for _, labels, _ in epochs]
        if pre.n != n:
            raise fail(
                "build_pipeline",
                case,
                f"preprocess called {n} times over 3 epochs (once per example: cached)",
                f"{pre.n} calls",
                "map preprocess BEFORE .cache(); random augmentation goes AFTER it",
            )
        want_aug = 3 * n if training else 0
        if aug.n != want_aug:
            raise fail(
                "build_pipeline",
                case,
                f"augment called {want_aug} times over 3 epochs",
                f"{aug.n} calls",
                "augment every example every epoch when training (after the cache), never "
                "when not training",
            )
        ops = dataset_ops(ds)
        if "MapDataset" in ops or "ParallelMapDatasetV2" not in ops:
            raise fail(
                "build_pipeline",
                case,
                "every map parallel (ParallelMapDatasetV2 in the dataset graph)",
                ops,
                "map(..., num_parallel_calls=tf.data.AUTOTUNE)",
            )
        if "CacheDatasetV2" not in ops and "CacheDataset" not in ops:
            raise fail("build_pipeline", case, "a cache step in the graph", ops)
        if not ops or not ops[-1].startswith("Prefetch"):
            raise fail(
                "build_pipeline",
                case,
                "prefetch as the last step",
                ops,
                "end with .prefetch(tf.data.AUTOTUNE): the next batch is prepared while the "
                "model trains on this one",
            )

    original = tuple(range(n))
    train_orders, eval_orders = orders[True], orders[False]
    if len(set(train_orders)) < 3 or original in train_orders:
        raise fail(
            "build_pipeline",
            "training=True, 3 epochs",
            "a different shuffled order in each epoch",
            f"{len(set(train_orders))} different orders",
            "shuffle AFTER the cache (a cached shuffle repeats one order); reshuffle each epoch",
        )
    if set(eval_orders) != {original}:
        raise fail(
            "build_pipeline",
            "training=False, 3 epochs",
            "the original order in every epoch (no shuffling for evaluation)",
            f"first ids {eval_orders[0][:8]}",
        )

    speed = ""
    if timed:
        # Timing on a shared machine is noisy: the better of two attempts counts.
        ratios = []
        for _attempt in range(2):
            pre, aug = _Counter(), _Counter()
            slow = _counting_preprocess(pre, delay)
            naive = _seconds(_naive(x[:60], y[:60], batch_size, slow), 3)
            ds = call(
                build_pipeline,
                x[:60],
                y[:60],
                batch_size,
                True,
                preprocess=slow,
                augment=_counting_augment(aug),
                case="timed",
            )
            fast = _seconds(ds, 3)
            ratios.append(naive / max(fast, 1e-9))
            if ratios[-1] >= 1.5:
                break
        if max(ratios) < 1.5:
            raise fail(
                "build_pipeline",
                f"3 epochs of 60 images with a preprocess that takes {delay * 1e3:.0f} ms each",
                "at least 1.5x faster than a sequential, uncached pipeline",
                f"{max(ratios):.2f}x (best of two attempts)",
            )
        speed = "; at least 1.5x faster than a naive pipeline over 3 epochs"
    passed(
        "build_pipeline: spec, batches, each example once per epoch, shuffling, cache, "
        f"parallel maps and prefetch{speed}"
    )
