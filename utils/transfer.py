"""Unit 14 (transfer learning): the two tasks, the backbones, BatchNorm statistics, a plot.

- `load_transfer_task(profile)`: the task a backbone is transferred to.
  full:  Oxford-IIIT Pets, 37 breeds, 160x160 RGB (utils.data.pet_breeds), 80/20 split.
  smoke: generated shapes (utils.data.shapes) of the classes 5-9 (h-stripes ... frame, labels
         0-4) with only `per_class` labelled images per class; the source task the course
         pretrains on is the classes 0-4 (disc ... plus), with all their labels. No network.
- `pretrained_backbone(profile, task)`: EfficientNetB0 with ImageNet weights (full), or the
  course's small CNN pretrained here on the source task (smoke).
- `fresh_backbone(profile, input_shape)`: the same architecture with random weights.
- `batchnorm_statistics(model)`: every BatchNormalization moving mean and variance, copied.
- `plot_runs(histories)`: validation curves of several runs on one plot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The keras.applications family whose `preprocess_input` each profile's backbone expects.
#: The course's smoke backbone is pretrained on inputs scaled like MobileNetV2's: [-1, 1].
FAMILY = {"full": "efficientnet", "smoke": "mobilenet_v2"}


@dataclass
class TransferTask:
    """x: uint8 images (N, H, W, C); y: int class ids. `source` is None when it is ImageNet."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    source: tuple[np.ndarray, np.ndarray] | None = None


def _few_per_class(y: np.ndarray, per_class: int, rng) -> np.ndarray:
    """Indices of `per_class` random examples of each class in y, shuffled."""
    picked = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    return rng.permutation(np.concatenate(picked))


def load_transfer_task(
    profile: str, *, per_class: int = 10, size: int = 160, n_smoke: int = 4000, seed: int = 0
) -> TransferTask:
    """The target task (and, in smoke, the source task). See the module docstring."""
    rng = np.random.default_rng(seed)
    if profile == "smoke":
        from utils.data.shapes import SHAPE_CLASSES, make_shapes

        x, y, _ = make_shapes(n_smoke, seed=seed)
        y = y.astype(np.int64)
        source, target = y < 5, y >= 5
        xt, yt = x[target], y[target] - 5
        few = _few_per_class(yt, per_class, rng)
        rest = np.setdiff1d(np.arange(len(yt)), few)
        return TransferTask(
            xt[few],
            yt[few],
            xt[rest],
            yt[rest],
            list(SHAPE_CLASSES[5:]),
            source=(x[source], y[source]),
        )
    if profile != "full":
        raise ValueError(f"profile must be 'full' or 'smoke', not {profile!r}")
    from utils.data.pet_breeds import load_pet_breeds

    x, y, breeds = load_pet_breeds(size=size)
    order = rng.permutation(len(x))
    n_test = len(x) // 5
    test, train = order[:n_test], order[n_test:]
    return TransferTask(x[train], y[train], x[test], y[test], breeds)


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


def plot_runs(histories: dict, *, metric: str = "val_accuracy", title: str = ""):
    """One curve per run: `histories` maps a run's name to a History (or its dict), or to a
    list of them trained one after the other (feature extraction, then fine-tuning)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name, runs in histories.items():
        runs = runs if isinstance(runs, list | tuple) else [runs]
        values = [v for h in runs for v in getattr(h, "history", h)[metric]]
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=name)
        if len(runs) > 1:
            ax.axvline(len(getattr(runs[0], "history", runs[0])[metric]) + 0.5, color="0.7", ls=":")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    plt.show()
