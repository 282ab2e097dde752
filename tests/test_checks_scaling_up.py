"""The unit 17 checks (augmentation of (image, mask) pairs, tf.data pipeline of pairs) accept
correct answers, reject typical wrong ones with CheckFailed, and say where to write code."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from utils.checks import CheckFailed, scaling_up

AUTOTUNE = tf.data.AUTOTUNE
CROP = scaling_up.CROP


def augment_ok(image, mask):
    """Correct: the same random flip and (H - 8, W - 8) crop of image and mask, stacked."""
    h, w, c = image.shape
    both = tf.concat([image, tf.cast(mask[..., None], tf.float32)], axis=-1)
    both = tf.image.random_crop(tf.image.random_flip_left_right(both), (h - CROP, w - CROP, c + 1))
    return both[..., :c], tf.cast(both[..., c], mask.dtype)


def augment_numpy_random(image, mask):
    """Wrong: NumPy randomness is drawn once when tf.data traces the function."""
    dy, dx = np.random.default_rng().integers(0, CROP + 1, size=2)
    h, w = image.shape[0] - CROP, image.shape[1] - CROP
    return image[dy : dy + h, dx : dx + w], mask[dy : dy + h, dx : dx + w]


def augment_two_crops(image, mask):
    """Wrong: image and mask cropped by two independent random draws."""
    h, w, c = image.shape
    image = tf.image.random_crop(image, (h - CROP, w - CROP, c))
    return image, tf.image.random_crop(mask, (h - CROP, w - CROP))


def augment_nearest_resize(image, mask):
    """Wrong: zooms both (the mask by nearest neighbour) instead of cropping."""
    size = (image.shape[0] - CROP, image.shape[1] - CROP)
    mask = tf.image.resize(mask[..., None], size, method="nearest")[..., 0]
    return tf.image.resize(image, size), mask


def augment_float_mask(image, mask):
    """Wrong: the mask comes back as float32."""
    image, mask = augment_ok(image, mask)
    return image, tf.cast(mask, tf.float32)


def pipeline_ok(x, m, batch_size, training, preprocess, augment):
    """Correct: parallel decode, cache, shuffle each epoch, parallel augment, batch, prefetch."""
    ds = tf.data.Dataset.from_tensor_slices((x, m)).map(preprocess, num_parallel_calls=AUTOTUNE)
    ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x)).map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_no_cache(x, m, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, m)).map(preprocess, num_parallel_calls=AUTOTUNE)
    if training:
        ds = ds.shuffle(len(x)).map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_cache_after_shuffle(x, m, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, m)).map(preprocess, num_parallel_calls=AUTOTUNE)
    if training:
        ds = ds.shuffle(len(x))
    ds = ds.cache()
    if training:
        ds = ds.map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_sequential(x, m, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, m)).map(preprocess).cache()
    if training:
        ds = ds.shuffle(len(x)).map(augment)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_no_prefetch(x, m, batch_size, training, preprocess, augment):
    return pipeline_ok(x, m, batch_size, training, preprocess, augment)._input_dataset


def pipeline_augments_eval(x, m, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, m)).map(preprocess, num_parallel_calls=AUTOTUNE)
    ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x))
    ds = ds.map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size).prefetch(AUTOTUNE)


def pipeline_drop_remainder(x, m, batch_size, training, preprocess, augment):
    ds = tf.data.Dataset.from_tensor_slices((x, m)).map(preprocess, num_parallel_calls=AUTOTUNE)
    ds = ds.cache()
    if training:
        ds = ds.shuffle(len(x)).map(augment, num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def pipeline_masks_shuffled_apart(x, m, batch_size, training, preprocess, augment):
    """Wrong: the masks shuffled in a dataset of their own, zipped back to the images."""
    images = tf.data.Dataset.from_tensor_slices(x)
    masks = tf.data.Dataset.from_tensor_slices(m).shuffle(len(m))
    ds = tf.data.Dataset.zip((images, masks)).map(preprocess, num_parallel_calls=AUTOTUNE)
    return ds.cache().batch(batch_size).prefetch(AUTOTUNE)


def test_correct_answers_pass(capsys):
    scaling_up.check_augment_pair(augment_ok, seed=1)
    scaling_up.check_build_pipeline(pipeline_ok, seed=1)
    assert capsys.readouterr().out.count("PASSED") == 2


def test_the_synthetic_mask_follows_the_image():
    """The masks are a function of the pixels, so a shifted mask disagrees with its image."""
    image, mask, _ = scaling_up.augment_case(3)
    assert np.array_equal(scaling_up.pixel_classes(image), mask)
    assert len(np.unique(mask)) == 6
    shifted = scaling_up.pixel_classes(image[1:]) != mask[:-1]
    assert shifted.mean() > 0.5


@pytest.mark.parametrize(
    "fn", [augment_numpy_random, augment_two_crops, augment_nearest_resize, augment_float_mask]
)
def test_wrong_augment_fails(fn):
    with pytest.raises(CheckFailed):
        scaling_up.check_augment_pair(fn)


@pytest.mark.parametrize(
    "fn",
    [
        pipeline_no_cache,
        pipeline_cache_after_shuffle,
        pipeline_sequential,
        pipeline_no_prefetch,
        pipeline_augments_eval,
        pipeline_drop_remainder,
        pipeline_masks_shuffled_apart,
    ],
)
def test_wrong_pipeline_fails(fn):
    with pytest.raises(CheckFailed):
        scaling_up.check_build_pipeline(fn, timed=False)


def test_stub_says_where_to_write():
    def build_pipeline(x, m, batch_size, training, preprocess, augment):
        raise NotImplementedError()

    def augment_pair(image, mask):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        scaling_up.check_build_pipeline(build_pipeline)
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        scaling_up.check_augment_pair(augment_pair)


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
