"""Backbones for transfer learning (unit 14): the course's small CNN, keras.applications, BatchNorm statistics.

- `course_backbone`: The course's small backbone: 3 x (Conv 3x3 -> BatchNorm -> ReLU), two max-pools.
- `preprocess_input`: keras.applications.<family>.preprocess_input on a float32 copy of x (never in place).
- `pretrained_backbone`: A backbone that has learned something elsewhere: (backbone, source-task history or None).
- `fresh_backbone`: The same architecture as `pretrained_backbone`, with random weights (from scratch).
- `batchnorm_statistics`: Copies of every BatchNormalization moving_mean and moving_variance inside `model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only
    from utils.data.transfer_task import TransferTask

#: The keras.applications family whose `preprocess_input` each profile's backbone expects.
#: The course's smoke backbone is pretrained on inputs scaled like MobileNetV2's: [-1, 1].
FAMILY = {"full": "efficientnet", "smoke": "mobilenet_v2"}


def course_backbone(input_shape=(32, 32, 3), name: str = "course_backbone"):
    """The course's small backbone: 3 x (Conv 3x3 -> BatchNorm -> ReLU), two max-pools.

    (N, H, W, C) -> feature maps (N, H/4, W/4, 64); about 24k parameters for 32x32x3.
    """
    import keras

    x = image = keras.Input(shape=input_shape)
    for i, filters in enumerate((16, 32, 64)):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn{i}")(x)
        x = keras.layers.ReLU(name=f"relu{i}")(x)
        if i < 2:
            x = keras.layers.MaxPooling2D(name=f"pool{i}")(x)
    return keras.Model(image, x, name=name)


def preprocess_input(x, family: str):
    """keras.applications.<family>.preprocess_input on a float32 copy of x (never in place)."""
    import importlib

    module = importlib.import_module(f"keras.applications.{family}")
    return np.asarray(module.preprocess_input(np.array(x, dtype=np.float32)))


def pretrained_backbone(
    profile: str, task: TransferTask, *, epochs: int = 3, batch_size: int = 64, seed: int = 0
):
    """A backbone that has learned something elsewhere: (backbone, source-task history or None).

    full:  keras.applications.EfficientNetB0(include_top=False, weights="imagenet"); Keras
           downloads the weight file once and checks its hash.
    smoke: `course_backbone` with a 5-way head, trained `epochs` epochs on the source task
           (shapes 0-4) with MobileNetV2-style inputs in [-1, 1]; the head is then dropped.
    """
    import keras

    if profile == "full":
        backbone = keras.applications.EfficientNetB0(
            include_top=False, weights="imagenet", input_shape=task.x_train.shape[1:]
        )
        return backbone, None
    keras.utils.set_random_seed(seed)
    x, y = task.source
    backbone = course_backbone(x.shape[1:])
    inputs = keras.Input(x.shape[1:])
    features = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(features))
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        preprocess_input(x, FAMILY[profile]),
        y,
        epochs=epochs,
        batch_size=64,
        validation_split=0.1,
        verbose=0,
    )
    return backbone, history


def fresh_backbone(profile: str, input_shape):
    """The same architecture as `pretrained_backbone`, with random weights (from scratch)."""
    import keras

    if profile == "full":
        return keras.applications.EfficientNetB0(
            include_top=False, weights=None, input_shape=input_shape
        )
    return course_backbone(input_shape, name="scratch_backbone")


def batchnorm_statistics(model) -> list[np.ndarray]:
    """Copies of every BatchNormalization moving_mean and moving_variance inside `model`."""
    import keras

    stats = []
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            stats += [np.array(layer.moving_mean.numpy()), np.array(layer.moving_variance.numpy())]
    return stats


def _all_layers(model):
    """Every layer of model, descending into nested models."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
