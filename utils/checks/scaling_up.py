"""Checks for unit 17 (scaling up): a random augmentation of (image, mask) pairs and a `tf.data`
input pipeline for them, as segmentation needs (unit 13).

Everything is checked by behaviour, never against a copy of an answer:
- `augment_pair(image, mask)`: the synthetic mask is a function of the image's pixels
  (`pixel_classes`), so the output mask must equal that function of the output image, pixel by
  pixel: a flip or a crop applied to one tensor only, or drawn twice, is seen. The image must
  be a window of `(H - CROP, W - CROP)` of the (possibly mirrored) input, found by a NumPy
  search over all offsets; the mask keeps its integer dtype and only its own class ids (never
  interpolated); inside a `tf.data` map (a traced graph) the offsets and flips must still vary
  from call to call.
- `build_pipeline(x, m, batch_size, training, preprocess, augment)`: the check passes its own
  `preprocess` (slow on purpose, counting its calls, scaling the image only) and `augment`
  (counting), then checks the element spec and batch shapes (the mask's dtype kept), that an
  epoch yields every pair exactly once with each mask still beside its image, the order
  (shuffled differently each epoch when training, the original order when not), that
  `preprocess` runs once per example over several epochs (cached) and `augment` once per
  example per epoch when training (never otherwise), that the maps are parallel and the last
  step is a prefetch (the dataset's graph, `utils.data.pipelines.dataset_ops`), and that it is
  faster than a naive pipeline (sequential map, no cache, no prefetch) timed here.
The grader's versions (`utils.tooling.grading_tasks`) draw the same cases and judge with the
same functions (`augment_case`, `judge_augment`, `pipeline_case`, `judge_pipeline`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from utils.checks.core import call, fail, passed

CROP = 8  # pixels cropped away along each axis: a random (H - 8, W - 8) window


def pixel_classes(image: np.ndarray) -> np.ndarray:
    """float (..., H, W, 3) in [0, 1] -> int (..., H, W) class ids 0..5 that depend on each
    pixel's red and green values: the synthetic masks, so that a mask can be recomputed from
    the image it must stay aligned with."""
    image = np.asarray(image)
    return np.minimum(image[..., 0] * 3, 2).astype(np.int64) + 3 * (image[..., 1] >= 0.5)


def _windows(array: np.ndarray, crop: int = CROP):
    """All (flip, dy, dx) -> window of (H - crop, W - crop) of `array` (mirrored first if flip)."""
    h, w = array.shape[:2]
    for flip in (False, True):
        src = array[:, ::-1] if flip else array
        for dy in range(crop + 1):
            for dx in range(crop + 1):
                yield (flip, dy, dx), src[dy : dy + h - crop, dx : dx + w - crop]


def _which_window(out: np.ndarray, array: np.ndarray, exact: bool = False):
    for key, win in _windows(array):
        if out.shape == win.shape and (
            np.array_equal(out, win) if exact else np.allclose(out, win, atol=1e-6)
        ):
            return key
    return None


def _describe(key) -> str:
    flip, dy, dx = key
    return f"{'mirrored, ' if flip else ''}window at row {dy}, column {dx}"


def augment_case(seed: int):
    """A seeded case: float32 image (H, W, 3), its mask `pixel_classes(image)` as uint8 or
    int32 (H, W), and the case's description."""
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(14, 19, size=2))
    image = rng.random((h, w, 3)).astype("float32")
    dtype = np.uint8 if rng.integers(2) else np.int32
    mask = pixel_classes(image).astype(dtype)
    return image, mask, f"image float32 {image.shape}, mask {np.dtype(dtype).name} {mask.shape}"


def judge_pair(i, out, image: np.ndarray, mask: np.ndarray, case: str):
    """One output of `augment_pair` judged: its (flip, dy, dx), or CheckFailed."""
    name = "augment_pair"
    where = case if i is None else f"call #{i} inside Dataset.map, {case}"
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise fail(name, where, "a pair (image, mask)", type(out).__name__)
    got_image, got_mask = (np.asarray(o) for o in out)
    h, w = image.shape[0] - CROP, image.shape[1] - CROP
    if got_image.shape != (h, w, 3) or got_image.dtype != np.float32:
        raise fail(
            name,
            where,
            f"image float32 {(h, w, 3)}",
            f"{got_image.dtype} {got_image.shape}",
            f"a window of (H - {CROP}, W - {CROP}) pixels: no padding, no resizing",
        )
    if got_mask.shape != (h, w) or got_mask.dtype != mask.dtype:
        raise fail(
            name,
            where,
            f"mask {mask.dtype} {(h, w)} (the input mask's dtype)",
            f"{got_mask.dtype} {got_mask.shape}",
            "a mask holds class ids: keep it 2-D and in its own integer dtype",
        )
    ids = set(np.unique(mask).tolist())
    if not set(np.unique(got_mask).tolist()) <= ids:
        raise fail(
            name,
            where,
            f"only the input mask's class ids {sorted(ids)}",
            f"values {np.unique(got_mask)[:8].tolist()}",
            "never interpolate a mask (no resizing, no blending of neighbouring ids)",
        )
    key = _which_window(got_image, image)
    if key is None:
        raise fail(
            name,
            where,
            f"a window of (H - {CROP}, W - {CROP}) pixels of the image, maybe mirrored left-right",
            "an image that is no such window",
            "crop at a random offset, flip left-right at random; nothing else changes the pixels",
        )
    if not np.array_equal(got_mask, pixel_classes(got_image)):
        mask_key = _which_window(got_mask, mask, exact=True)
        got = f"image: {_describe(key)}; mask: " + (
            _describe(mask_key) if mask_key else "no window of the mask"
        )
        raise fail(
            name,
            where,
            "the mask cropped and flipped exactly as the image (aligned pixel for pixel)",
            got,
            "draw the flip and the crop offset once for the pair, not once per tensor",
        )
    return key


def check_variety(keys: list, n: int, name: str = "augment_pair") -> None:
    flips, offsets = {k[0] for k in keys}, {k[1:] for k in keys}
    if len(flips) < 2 or len(offsets) < 5:
        raise fail(
            name,
            f"{n} calls inside Dataset.map",
            f"both flip states and >= 5 different offsets (of {(CROP + 1) ** 2})",
            f"flips {sorted(flips)}, {len(offsets)} different offsets",
            "use TensorFlow's random ops; NumPy/Python randomness is frozen when tf.data "
            "traces the function",
        )


def check_augment_pair(augment_pair: Callable, seed: int = 0, n: int = 40) -> None:
    """`augment_pair(image, mask)`: one random left-right flip and one random (H - 8, W - 8)
    crop, the same for the image and its mask; the mask's dtype and class ids kept."""
    import tensorflow as tf

    image, mask, case = augment_case(seed)
    out = call(augment_pair, tf.constant(image), tf.constant(mask), case=case)
    judge_pair(None, out, image, mask, case)
    # Inside tf.data the function is traced once into a graph: randomness must be TF's.
    ds = tf.data.Dataset.from_tensors((image, mask)).repeat(n).map(augment_pair)
    keys = [judge_pair(i, out, image, mask, case) for i, out in enumerate(ds)]
    check_variety(keys, n)
    passed(
        f"augment_pair crops and mirrors image and mask alike, the mask's ids and dtype kept, "
        f"random in each of {n} calls inside tf.data"
    )


class _Counter:
    def __init__(self):
        self.n = 0


def _counting_preprocess(counter: _Counter, delay: float):
    """(uint8 image, mask) -> (float32 image / 255, the mask untouched), counting calls,
    sleeping `delay` s per image."""
    import tensorflow as tf

    def work(image):
        counter.n += 1
        time.sleep(delay)  # stands for decoding a file: slow, and it releases the GIL
        return image

    def preprocess(image, mask):
        out = tf.py_function(work, [image], tf.uint8)
        out.set_shape(image.shape)
        return tf.cast(out, tf.float32) / 255.0, mask

    return preprocess


def _counting_augment(counter: _Counter):
    import tensorflow as tf

    def work(image):
        counter.n += 1
        return image

    def augment(image, mask):
        out = tf.py_function(work, [image], tf.float32)
        out.set_shape(image.shape)
        return out, mask

    return augment


def _epoch(ds):
    """One epoch of (images, masks) batches -> (images, masks, batch sizes)."""
    images, masks, sizes = [], [], []
    for a, b in ds:
        images.append(np.asarray(a))
        masks.append(np.asarray(b))
        sizes.append(int(np.shape(b)[0]))
    return np.concatenate(images), np.concatenate(masks), sizes


def _naive(x, m, batch_size, preprocess):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, m)).map(preprocess).batch(batch_size)


def _seconds(ds, epochs):
    start = time.perf_counter()
    for _ in range(epochs):
        for _batch in ds:
            pass
    return time.perf_counter() - start


def pipeline_case(seed: int, n: int):
    """A seeded case: x uint8 (n, h, h, 3), distinct images, and their masks
    m = pixel_classes(x / 255) as uint8 (n, h, h)."""
    rng = np.random.default_rng(seed)
    h = int(rng.integers(6, 10))
    x = rng.integers(0, 256, size=(n, h, h, 3), dtype=np.uint8)
    x[:, 0, 0, :2] = np.stack([np.arange(n) % 256, np.arange(n) // 256], axis=1)  # distinct
    m = pixel_classes(x / 255.0).astype(np.uint8)
    return x, m


def _ids(images: np.ndarray, x: np.ndarray) -> list:
    """The index in x of each (float32, scaled) output image, None when it is none of them."""
    index = {img.tobytes(): i for i, img in enumerate(x)}
    pixels = np.clip(np.round(images * 255.0), 0, 255).astype(np.uint8)
    ids = [index.get(p.tobytes()) for p in pixels]
    return [
        i if i is not None and np.allclose(images[k] * 255.0, x[i], atol=1e-3) else None
        for k, i in enumerate(ids)
    ]


def judge_spec(name: str, case: str, spec, h: int, hint: bool = True) -> None:
    """spec: [[dtype name, shape list], [dtype name, shape list]] of the batched pairs."""
    want = [["float32", [None, h, h, 3]], ["uint8", [None, h, h]]]
    if spec != want:
        raise fail(
            name,
            case,
            f"element_spec (images, masks) {want}",
            spec,
            "batch after the maps, keep the last partial batch (no drop_remainder), and leave "
            "the mask's dtype alone (preprocess scales the image only)"
            if hint
            else "",
        )


def judge_epochs(name: str, case: str, epochs: list, x, m, batch_size: int) -> list:
    """Every epoch's (images, masks, sizes) judged; returns each epoch's order of ids."""
    n = len(x)
    expected_sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    orders = []
    for e, (images, masks, sizes) in enumerate(epochs):
        if list(sizes) != expected_sizes:
            raise fail(name, f"{case}, epoch {e}", expected_sizes, list(sizes))
        ids = _ids(images, x)
        if None in ids:
            raise fail(
                name,
                f"{case}, epoch {e}",
                "each image as stored, scaled by preprocess (x / 255)",
                f"{ids.count(None)} images that are none of the inputs",
                "map preprocess over the (image, mask) pairs once, and nothing else on the "
                "images when augment is the identity",
            )
        if sorted(ids) != list(range(n)):
            missing = sorted(set(range(n)) - set(ids))
            raise fail(
                name,
                f"{case}, epoch {e}",
                "every pair exactly once per epoch",
                f"{len(ids)} pairs, missing ids {missing[:8]}",
                "shuffle with a buffer of the whole data set, and no repeat()",
            )
        if not np.array_equal(masks, m[ids]):
            raise fail(
                name,
                f"{case}, epoch {e}",
                "each mask beside its own image",
                "masks that belong to other images",
                "shuffle the (image, mask) pairs together, from one Dataset of pairs",
            )
        orders.append(tuple(ids))
    return orders


def judge_counts(name: str, case: str, pre: int, aug: int, n: int, training: bool) -> None:
    if pre != n:
        raise fail(
            name,
            case,
            f"preprocess called {n} times over 3 epochs (once per example: cached)",
            f"{pre} calls",
            "map preprocess BEFORE .cache(); random augmentation goes AFTER it",
        )
    want_aug = 3 * n if training else 0
    if aug != want_aug:
        raise fail(
            name,
            case,
            f"augment called {want_aug} times over 3 epochs",
            f"{aug} calls",
            "augment every example every epoch when training (after the cache), never when "
            "not training",
        )


def judge_ops(name: str, case: str, ops: list) -> None:
    if "MapDataset" in ops or "ParallelMapDatasetV2" not in ops:
        raise fail(
            name,
            case,
            "every map parallel (ParallelMapDatasetV2 in the dataset graph)",
            ops,
            "map(..., num_parallel_calls=tf.data.AUTOTUNE)",
        )
    if "CacheDatasetV2" not in ops and "CacheDataset" not in ops:
        raise fail(name, case, "a cache step in the graph", ops)
    if not ops or not ops[-1].startswith("Prefetch"):
        raise fail(
            name,
            case,
            "prefetch as the last step",
            ops,
            "end with .prefetch(tf.data.AUTOTUNE): the next batch is prepared while the "
            "model trains on this one",
        )


def judge_orders(name: str, orders: dict, n: int) -> None:
    original = tuple(range(n))
    train_orders, eval_orders = orders[True], orders[False]
    if len(set(train_orders)) < 3 or original in train_orders:
        raise fail(
            name,
            "training=True, 3 epochs",
            "a different shuffled order in each epoch",
            f"{len(set(train_orders))} different orders",
            "shuffle AFTER the cache (a cached shuffle repeats one order); reshuffle each epoch",
        )
    if set(eval_orders) != {original}:
        raise fail(
            name,
            "training=False, 3 epochs",
            "the original order in every epoch (no shuffling for evaluation)",
            f"first ids {eval_orders[0][:8]}",
        )


def spec_of(ds) -> list:
    """A dataset's element spec as [[dtype name, shape list], ...], one item per component."""
    spec = ds.element_spec
    parts = spec if isinstance(spec, tuple) else (spec,)
    out = []
    for p in parts:
        shape = getattr(p, "shape", None)
        dtype = getattr(getattr(p, "dtype", None), "name", str(p))
        out.append([dtype, None if shape is None else list(shape.as_list())])
    return out


def check_build_pipeline(
    build_pipeline: Callable,
    seed: int = 0,
    n: int = 90,
    batch_size: int = 16,
    delay: float = 0.01,
    timed: bool = True,
) -> None:
    """Behaviour of `build_pipeline(x, m, batch_size, training, preprocess=, augment=)`."""
    import tensorflow as tf

    from utils.data.pipelines import dataset_ops

    name = "build_pipeline"
    x, m = pipeline_case(seed, n)
    h = x.shape[1]
    orders = {}
    for training in (True, False):
        pre, aug = _Counter(), _Counter()
        case = f"x uint8 {x.shape}, m uint8 {m.shape}, batch_size={batch_size}, training={training}"
        ds = call(
            build_pipeline,
            x,
            m,
            batch_size,
            training,
            preprocess=_counting_preprocess(pre, 0.0),
            augment=_counting_augment(aug),
            case=case,
        )
        if not isinstance(ds, tf.data.Dataset):
            raise fail(name, case, "a tf.data.Dataset", type(ds).__name__)
        judge_spec(name, case, spec_of(ds), h)
        orders[training] = judge_epochs(
            name, case, [_epoch(ds) for _ in range(3)], x, m, batch_size
        )
        judge_counts(name, case, pre.n, aug.n, n, training)
        judge_ops(name, case, dataset_ops(ds))
    judge_orders(name, orders, n)

    speed = ""
    if timed:
        # Timing on a shared machine is noisy: the better of two attempts counts.
        ratios = []
        for _attempt in range(2):
            slow = _counting_preprocess(_Counter(), delay)
            naive = _seconds(_naive(x[:60], m[:60], batch_size, slow), 3)
            ds = call(
                build_pipeline,
                x[:60],
                m[:60],
                batch_size,
                True,
                preprocess=slow,
                augment=_counting_augment(_Counter()),
                case="timed",
            )
            fast = _seconds(ds, 3)
            ratios.append(naive / max(fast, 1e-9))
            if ratios[-1] >= 1.5:
                break
        if max(ratios) < 1.5:
            raise fail(
                name,
                f"3 epochs of 60 pairs with a preprocess that takes {delay * 1e3:.0f} ms each",
                "at least 1.5x faster than a sequential, uncached pipeline",
                f"{max(ratios):.2f}x (best of two attempts)",
            )
        speed = "; at least 1.5x faster than a naive pipeline over 3 epochs"
    passed(
        "build_pipeline: (image, mask) batches, each pair once per epoch and aligned, shuffling, "
        f"cache, parallel maps and prefetch{speed}"
    )
