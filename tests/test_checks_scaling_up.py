"""The unit 17 checks (augmentation, tf.data pipeline) accept correct answers, reject typical
wrong ones with CheckFailed, and say where to write code."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from utils.checks import CheckFailed, scaling_up

AUTOTUNE = tf.data.AUTOTUNE


def augment_ok(image, label):
    """Correct: mirror at random, then shift by up to 4 pixels with zero fill."""
    h, w = image.shape[0], image.shape[1]
    image = tf.image.random_flip_left_right(image)
    image = tf.pad(image, [[4, 4], [4, 4], [0, 0]])
    return tf.image.random_crop(image, (h, w, image.shape[-1])), label


def augment_numpy_random(image, label):
    """Wrong: NumPy randomness is drawn once when tf.data traces the function."""
    dy, dx = np.random.default_rng().integers(0, 9, size=2)
    h, w = image.shape[0], image.shape[1]
    padded = tf.pad(image, [[4, 4], [4, 4], [0, 0]])
    return padded[dy : dy + h, dx : dx + w], label


def augment_resize(image, label):
    """Wrong: zooms instead of shifting."""
    h, w = image.shape[0], image.shape[1]
    return tf.image.resize(tf.image.random_flip_left_right(image), (h + 2, w + 2))[:h, :w], label


def augment_drops_label(image, label):
    return augment_ok(image, label)[0], label + 1


def pipeline_ok(x, y, batch_size, training, preprocess, augment):
    """Correct: parallel decode, cache, shuffle each epoch, parallel augment, batch, prefetch."""
    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(preprocess, num_parallel_calls=AUTOTUNE)
    ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x)).map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_no_cache(x, y, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(preprocess, num_parallel_calls=AUTOTUNE)
    if training:
        ds = ds.shuffle(len(x)).map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_cache_after_shuffle(x, y, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(preprocess, num_parallel_calls=AUTOTUNE)
    if training:
        ds = ds.shuffle(len(x))
    ds = ds.cache()
    if training:
        ds = ds.map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_sequential(x, y, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(preprocess).cache()
    if training:
        ds = ds.shuffle(len(x)).map(augment)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_no_prefetch(x, y, batch_size, training, preprocess, augment):
    return pipeline_ok(x, y, batch_size, training, preprocess, augment)._input_dataset


def pipeline_augments_eval(x, y, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(preprocess, num_parallel_calls=AUTOTUNE)
    ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x))
    ds = ds.map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_drop_remainder(x, y, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(preprocess, num_parallel_calls=AUTOTUNE)
    ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x)).map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def test_correct_answers_pass(capsys):
    scaling_up.check_augment(augment_ok, seed=1)
    scaling_up.check_build_pipeline(pipeline_ok, seed=1)
    assert capsys.readouterr().out.count("PASSED") == 2


@pytest.mark.parametrize("fn", [augment_numpy_random, augment_resize, augment_drops_label])
def test_wrong_augment_fails(fn):
    with pytest.raises(CheckFailed):
        scaling_up.check_augment(fn)


@pytest.mark.parametrize(
    "fn",
    [
        pipeline_no_cache,
        pipeline_cache_after_shuffle,
        pipeline_sequential,
        pipeline_no_prefetch,
        pipeline_augments_eval,
        pipeline_drop_remainder,
    ],
)
def test_wrong_pipeline_fails(fn):
    with pytest.raises(CheckFailed):
        scaling_up.check_build_pipeline(fn, timed=False)


def test_stub_says_where_to_write():
    def build_pipeline(x, y, batch_size, training, preprocess, augment):
        raise NotImplementedError()

    def augment(image, label):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        scaling_up.check_build_pipeline(build_pipeline)
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        scaling_up.check_augment(augment)


def test_pipeline_helpers():
    """The unit 17 plumbing: PNG round trip, the naive generator's epochs, the dataset graph."""
    from utils.data import pipelines
    from utils.measure import speed

    x = np.random.default_rng(0).integers(0, 256, size=(10, 6, 6, 3), dtype=np.uint8)
    png = pipelines.encode_png(x)
    assert png.shape == (10,)
    assert np.allclose(pipelines.naive_decode(png[3]) * 255, x[3])
    ds = pipelines.naive_dataset(png, np.arange(10), batch_size=4, seed=0)
    assert int(ds.cardinality()) == 3  # 4 + 4 + 2, known to Keras
    first, second = ([int(v) for _, b in ds for v in b.numpy()] for _ in range(2))
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    images = np.concatenate([a.numpy() for a, _ in ds])
    assert images.shape == (10, 6, 6, 3) and images.dtype == np.float32
    fast = tf.data.Dataset.range(5).map(lambda v: v, num_parallel_calls=AUTOTUNE)
    ops = pipelines.dataset_ops(fast.cache().batch(2).prefetch(AUTOTUNE))
    assert ops[-1] == "PrefetchDataset" and "ParallelMapDatasetV2" in ops
    assert "CacheDatasetV2" in ops
    rates = speed.images_per_second(ds, epochs=2)
    assert len(rates) == 2 and min(rates) > 0


def test_application_demos_beat_their_references():
    from utils.data import application_demos

    results = application_demos.demos(size=128)  # the size the lecture uses
    assert set(results) >= {"inpainting", "colouring", "super-resolution", "style transfer"}
    for name, demo in results.items():
        assert demo.beats_reference, name
