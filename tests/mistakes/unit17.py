"""Unit 17 (scaling up): typical wrong answers and correct variants."""

from __future__ import annotations

import tensorflow as tf

from mistakes import Exercise
from utils.checks import scaling_up

PAD = 4


def augment_pad_crop(image, label):
    """Correct, written differently: resize_with_crop_or_pad then a random crop, then the flip."""
    h, w, c = image.shape
    big = tf.image.resize_with_crop_or_pad(image, h + 2 * PAD, w + 2 * PAD)
    image = tf.image.random_crop(big, (h, w, c))
    return tf.image.random_flip_left_right(image), label


def _augment(flip=True, shift=True, up_down=False, resize=False, edge=False):
    def augment(image, label):
        shape = image.shape
        if flip:
            image = (tf.image.random_flip_up_down if up_down else tf.image.random_flip_left_right)(
                image
            )
        if shift:
            mode = "SYMMETRIC" if edge else "CONSTANT"
            image = tf.pad(image, [[PAD, PAD], [PAD, PAD], [0, 0]], mode=mode)
            image = tf.image.random_crop(image, shape)
        if resize:
            image = tf.image.resize(image, (shape[0] + 2, shape[1] + 2))
        return image, label

    return augment


def pipeline_steps(x, y, batch_size, training, preprocess, augment):
    """Correct, written differently: options named, the training-only steps in a list."""
    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(preprocess, tf.data.AUTOTUNE).cache()
    steps = [lambda d: d.shuffle(len(x)), lambda d: d.map(augment, tf.data.AUTOTUNE)]
    for step in steps if training else []:
        ds = step(ds)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _pipeline(
    shuffle=True, cache_after_augment=False, augment_eval=False, batch=True, shuffle_eval=False
):
    def build_pipeline(x, y, batch_size, training, preprocess, augment):
        par = tf.data.AUTOTUNE
        ds = tf.data.Dataset.from_tensor_slices((x, y)).map(preprocess, num_parallel_calls=par)
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
    "check_augment": Exercise(
        run=scaling_up.check_augment,
        wrong={
            "no-flip": (_augment(flip=False), r"flip"),
            "no-shift": (_augment(shift=False), r"shift"),
            "flips-up-down": (_augment(up_down=True), r"flip|left|horizontal|expected"),
            "changes-the-size": (_augment(resize=True), r"expected: float32 \(12, 11, 3\)"),
            "reflects-instead-of-zeros": (_augment(edge=True), r"zero|pad|fill"),
        },
        right={"crop-or-pad": augment_pad_crop},
    ),
    "check_build_pipeline": Exercise(
        run=lambda fn: scaling_up.check_build_pipeline(fn, timed=False),
        wrong={
            "no-shuffle": (_pipeline(shuffle=False), r"shuffl|order"),
            "augment-cached": (_pipeline(cache_after_augment=True), r"augment|cache|epoch"),
            "augments-evaluation-data": (_pipeline(augment_eval=True), r"augment|training=False"),
            "not-batched": (_pipeline(batch=False), r"batch|TensorSpec|shape"),
            "shuffles-evaluation-data": (_pipeline(shuffle_eval=True), r"order|shuffl"),
        },
        right={"steps-in-a-list": pipeline_steps},
    ),
}
