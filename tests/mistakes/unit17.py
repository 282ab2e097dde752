"""Unit 17 (scaling up): typical wrong answers and correct variants."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from mistakes import Exercise
from utils.checks import scaling_up

CROP = 8


def augment_stateless(image, mask):
    """Correct, written differently: stateless random ops, one seed drawn for both tensors."""
    h, w = image.shape[0], image.shape[1]
    seed = tf.random.uniform((2,), 0, 2**31 - 1, dtype=tf.int32)
    image = tf.image.stateless_random_flip_left_right(image, seed)
    mask = tf.image.stateless_random_flip_left_right(mask[..., None], seed)[..., 0]
    size = (h - CROP, w - CROP)
    image = tf.image.stateless_random_crop(image, (*size, image.shape[-1]), seed)
    return image, tf.image.stateless_random_crop(mask, size, seed)


def augment_offsets(image, mask):
    """Correct, written differently: the flip and the offsets drawn as numbers, then sliced."""
    h, w = image.shape[0] - CROP, image.shape[1] - CROP
    dy, dx = tf.unstack(tf.random.uniform((2,), 0, CROP + 1, dtype=tf.int32))
    flip = tf.random.uniform(()) < 0.5
    image = tf.where(flip, tf.reverse(image, [1]), image)
    mask = tf.where(flip, tf.reverse(mask, [1]), mask)
    return image[dy : dy + h, dx : dx + w], mask[dy : dy + h, dx : dx + w]


def _augment(
    separately=False,
    flip_image_only=False,
    mask_as_float=False,
    mask_int32=False,
    pad=False,
    resize=False,
    up_down=False,
):
    def augment_pair(image, mask):
        h, w, c = image.shape
        size = (h - CROP, w - CROP)
        if separately:  # two independent draws: two different windows
            image = tf.image.random_crop(tf.image.random_flip_left_right(image), (*size, c))
            mask = tf.image.random_flip_left_right(mask[..., None])
            return image, tf.image.random_crop(mask, (*size, 1))[..., 0]
        if resize:  # a zoom: the mask's ids interpolated, then rounded back
            image = tf.image.resize(image, size)
            mask = tf.image.resize(tf.cast(mask[..., None], tf.float32), size)[..., 0]
            return image, tf.cast(tf.round(mask), tf.uint8)
        both = tf.concat([image, tf.cast(mask[..., None], image.dtype)], axis=-1)
        flip = tf.image.random_flip_up_down if up_down else tf.image.random_flip_left_right
        if flip_image_only:
            both = tf.concat([flip(both[..., :c]), both[..., c:]], axis=-1)
        else:
            both = flip(both)
        if pad:  # the lecture's shift: pad, then crop back to (H, W)
            both = tf.pad(both, [[4, 4], [4, 4], [0, 0]])
            both = tf.image.random_crop(both, (h, w, c + 1))
        else:
            both = tf.image.random_crop(both, (*size, c + 1))
        if mask_as_float:
            return both[..., :c], both[..., c]
        return both[..., :c], tf.cast(both[..., c], tf.int32 if mask_int32 else mask.dtype)

    return augment_pair


def augment_numpy_random(image, mask):
    """Wrong: NumPy randomness is drawn once, when tf.data traces the function."""
    dy, dx = np.random.default_rng().integers(0, CROP + 1, size=2)
    h, w = image.shape[0] - CROP, image.shape[1] - CROP
    return image[dy : dy + h, dx : dx + w], mask[dy : dy + h, dx : dx + w]


def pipeline_steps(x, m, batch_size, training, preprocess, augment):
    """Correct, written differently: options named, the training-only steps in a list."""
    ds = tf.data.Dataset.from_tensor_slices((x, m)).map(preprocess, tf.data.AUTOTUNE).cache()
    steps = [lambda d: d.shuffle(len(x)), lambda d: d.map(augment, tf.data.AUTOTUNE)]
    for step in steps if training else []:
        ds = step(ds)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def pipeline_zipped(x, m, batch_size, training, preprocess, augment):
    """Wrong: images and masks shuffled as two datasets, then zipped: pairs torn apart."""
    par = tf.data.AUTOTUNE
    images = tf.data.Dataset.from_tensor_slices(x)
    masks = tf.data.Dataset.from_tensor_slices(m)
    if training:
        images, masks = images.shuffle(len(x)), masks.shuffle(len(x))
    ds = tf.data.Dataset.zip((images, masks)).map(preprocess, num_parallel_calls=par).cache()
    if training:
        ds = ds.shuffle(len(x)).map(augment, num_parallel_calls=par)
    return ds.batch(batch_size).prefetch(par)


def _pipeline(
    shuffle=True,
    cache_after_augment=False,
    augment_eval=False,
    batch=True,
    shuffle_eval=False,
    float_masks=False,
):
    def build_pipeline(x, m, batch_size, training, preprocess, augment):
        par = tf.data.AUTOTUNE
        ds = tf.data.Dataset.from_tensor_slices((x, m)).map(preprocess, num_parallel_calls=par)
        if float_masks:  # "scale" the masks too
            ds = ds.map(lambda i, k: (i, tf.cast(k, tf.float32) / 255.0), num_parallel_calls=par)
        if cache_after_augment and training:
            ds = ds.map(augment, num_parallel_calls=par).cache()
        else:
            ds = ds.cache()
        if (training and shuffle) or shuffle_eval:
            ds = ds.shuffle(len(x))
        if (training and not cache_after_augment) or augment_eval:
            ds = ds.map(augment, num_parallel_calls=par)
        if batch:
            ds = ds.batch(batch_size)
        return ds.prefetch(tf.data.AUTOTUNE)

    return build_pipeline


EXERCISES = {
    "check_augment_pair": Exercise(
        run=scaling_up.check_augment_pair,
        wrong={
            "draws-image-and-mask-separately": (
                _augment(separately=True),
                r"aligned pixel for pixel.*once for the pair",
            ),
            "flips-the-image-only": (
                _augment(flip_image_only=True),
                r"mirrored.*once for the pair",
            ),
            "mask-left-as-float": (_augment(mask_as_float=True), r"mask uint8.*float32.*dtype"),
            "mask-cast-to-int32": (_augment(mask_int32=True), r"mask uint8.*int32"),
            "pads-like-the-lecture": (_augment(pad=True), r"float32 \(10, 9, 3\).*no padding"),
            "resizes-instead-of-cropping": (_augment(resize=True), r"no such window|resiz"),
            "flips-up-down": (_augment(up_down=True), r"no such window.*left-right"),
            "numpy-randomness": (augment_numpy_random, r"offsets.*TensorFlow's random ops"),
        },
        right={"stateless-shared-seed": augment_stateless, "offsets-and-slices": augment_offsets},
    ),
    "check_build_pipeline": Exercise(
        run=lambda fn: scaling_up.check_build_pipeline(fn, timed=False),
        wrong={
            "no-shuffle": (_pipeline(shuffle=False), r"shuffl|order"),
            "augment-cached": (_pipeline(cache_after_augment=True), r"augment|cache|epoch"),
            "augments-evaluation-data": (_pipeline(augment_eval=True), r"augment|training=False"),
            "not-batched": (_pipeline(batch=False), r"batch|TensorSpec|shape"),
            "shuffles-evaluation-data": (_pipeline(shuffle_eval=True), r"order|shuffl"),
            "scales-the-masks": (_pipeline(float_masks=True), r"uint8.*float32.*mask's dtype"),
            "shuffles-images-and-masks-apart": (pipeline_zipped, r"its own image.*together"),
        },
        right={"steps-in-a-list": pipeline_steps},
    ),
}
