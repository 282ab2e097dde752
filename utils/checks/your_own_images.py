"""Checks for unit 15 (your own images): counting a folder, datasets from it, a classifier, a
prediction.

Every check builds small folders of PNG files in a temporary folder. References: the files
counted with os.walk, `keras.utils.image_dataset_from_directory` itself (the split it makes
for a seed), `keras.utils.load_img` + `model.predict`, and behaviour (shapes, probabilities).
Nothing here contains an exercise's answer.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from utils.checks.core import CheckFailed, call, expect_array, fail, passed
from utils.checks.structure import check_nonlinear


@contextlib.contextmanager
def _quiet():
    """Hide Keras's file-count prints and TensorFlow's retracing warnings of the check's own work
    (every case builds a new model or folder); the logger level is restored afterwards."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def _write_id_folder(root: Path, rng: np.random.Generator) -> dict[int, str]:
    """Class sub-folders of constant-colour PNGs of mixed sizes; the red value is a unique id
    (it survives resizing), so every loaded image can be traced to its file. Returns id -> class."""
    from PIL import Image

    names = list(
        rng.choice(["zebra", "apple", "mango", "cars", "Bikes", "dogs"], size=3, replace=False)
    )
    owner, next_id = {}, 1
    for k, name in enumerate(names):
        (root / name).mkdir(parents=True)
        for _ in range(int(rng.integers(5, 12))):
            h, w = (int(v) for v in rng.integers(12, 40, size=2))
            pixels = np.empty((h, w, 3), np.uint8)
            pixels[...] = (next_id * 3, 40 * k + 20, 128)
            Image.fromarray(pixels).save(root / name / f"img_{next_id}.png")
            owner[next_id * 3] = name
            next_id += 1
        (root / name / "notes.txt").write_text("not an image")
    return owner


def _ids_and_labels(dataset, case, image_size, batch_size):
    """Walk a dataset of (images (b, h, w, 3), labels (b,)) batches -> (ids, labels)."""
    ids, labels = [], []
    for batch in dataset:
        if not isinstance(batch, tuple | list) or len(batch) != 2:
            raise CheckFailed(
                f"on the case {case} the datasets must yield (images, labels) batches"
            )
        x, y = (np.asarray(v) for v in batch)
        if x.ndim != 4 or x.shape[1:] != (*image_size, 3) or x.shape[0] > batch_size:
            raise fail(
                "make_datasets",
                case,
                f"image batches (<= {batch_size}, {image_size[0]}, {image_size[1]}, 3)",
                x.shape,
            )
        expect_array(y, name="make_datasets", case=case, shape=(x.shape[0],), what="integer labels")
        ids += [int(round(v)) for v in x[:, 0, 0, 0]]
        labels += [int(v) for v in y]
    return ids, labels


def check_make_datasets(make_datasets: Callable, seed: int = 0, n_cases: int = 2) -> None:
    """make_datasets(folder, image_size, batch_size, validation_split, seed) -> (train, val,
    class_names), checked on folders of traceable PNGs against os.walk and Keras's own split."""
    import keras

    rng = np.random.default_rng(seed)
    for i in range(n_cases):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "photos"
            owner = _write_id_folder(root, rng)
            image_size = tuple(int(v) for v in rng.integers(8, 24, size=2))
            batch_size, split, split_seed = (
                int(rng.integers(3, 9)),
                float(rng.choice([0.2, 0.3])),
                int(rng.integers(100)),
            )
            case = f"#{i} (classes {sorted(os.listdir(root))}, image_size={image_size}, batch_size={batch_size}, validation_split={split}, seed={split_seed})"
            out = call(
                make_datasets, str(root), image_size, batch_size, split, split_seed, case=case
            )
            if not isinstance(out, tuple | list) or len(out) != 3:
                raise fail(
                    "make_datasets", case, "a tuple (train, val, class_names)", type(out).__name__
                )
            train, val, class_names = out
            expected_names = sorted(next(os.walk(root))[1])
            if list(class_names) != expected_names:
                raise fail(
                    "make_datasets",
                    case,
                    expected_names,
                    list(class_names),
                    "class names are the sub-folders, sorted",
                )
            train_ids, train_labels = _ids_and_labels(train, case, image_size, batch_size)
            val_ids, val_labels = _ids_and_labels(val, case, image_size, batch_size)
            if set(train_ids) & set(val_ids):
                raise fail(
                    "make_datasets",
                    case,
                    "no photo in both train and val",
                    f"{len(set(train_ids) & set(val_ids))} shared",
                )
            n_files = sum(
                len([f for f in files if f.endswith(".png")]) for _, _, files in os.walk(root)
            )
            if len(train_ids) + len(val_ids) != n_files:
                raise fail(
                    "make_datasets",
                    case,
                    f"{n_files} images in train + val (os.walk)",
                    len(train_ids) + len(val_ids),
                )
            for ident, label in zip(train_ids + val_ids, train_labels + val_labels, strict=True):
                if expected_names[label] != owner.get(ident):
                    raise fail(
                        "make_datasets",
                        case,
                        f"label of a photo of {owner.get(ident)!r}",
                        f"{label} ({expected_names[label]!r})",
                    )
            with _quiet():
                ref_val = keras.utils.image_dataset_from_directory(
                    root,
                    validation_split=split,
                    subset="validation",
                    seed=split_seed,
                    image_size=image_size,
                    batch_size=batch_size,
                    verbose=False,
                )
            ref_ids, _ = _ids_and_labels(ref_val, "reference", image_size, batch_size)
            if sorted(val_ids) != sorted(ref_ids):
                raise fail(
                    "make_datasets",
                    case,
                    f"the {len(ref_ids)} validation photos Keras picks for this seed",
                    f"{len(val_ids)} photos, {len(set(val_ids) ^ set(ref_ids))} different",
                    "use validation_split, subset and the same seed for both subsets",
                )
    passed(
        f"make_datasets: class names, labels, batch shapes and the train/val split on {n_cases} folders"
    )


def check_build_classifier(build_classifier: Callable, seed: int = 0) -> None:
    """build_classifier(image_size, n_classes) -> a keras Model taking raw 0..255 RGB images
    (N, h, w, 3) to (N, n_classes) probabilities, random (augmentation) only when training."""
    import keras

    rng = np.random.default_rng(seed)
    for i, (image_size, n) in enumerate([((32, 32), 3), ((48, 40), int(rng.integers(2, 7)))]):
        case = f"#{i} (image_size={image_size}, n_classes={n})"
        model = call(build_classifier, image_size, n, case=case)
        if not isinstance(model, keras.Model):
            raise fail("build_classifier", case, "a keras Model", type(model).__name__)
        x = rng.integers(0, 256, size=(4, *image_size, 3)).astype("float32")
        p = expect_array(
            model(x, training=False),
            name="build_classifier",
            case=case,
            shape=(4, n),
            what="outputs",
        )
        if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1, atol=1e-4):
            raise fail(
                "build_classifier",
                case,
                "probabilities (>= 0, rows sum to 1)",
                p.sum(axis=1),
                "end with softmax",
            )
        if not np.allclose(p, np.asarray(model(x, training=False)), atol=1e-6):
            raise fail(
                "build_classifier", case, "the same output twice at inference", "different outputs"
            )
        stage = _input_stage(model)
        # a random flip may leave a batch unchanged by chance: five tries
        still = np.asarray(_run_stage(stage, x, training=False))
        if all(
            np.allclose(still, np.asarray(_run_stage(stage, x, training=True)), atol=1e-6)
            for _ in range(5)
        ):
            raise fail(
                "build_classifier",
                case,
                "images changed at random, while training, before the first convolution",
                "the same images with training=True",
                "randomness elsewhere (Dropout) does not augment the images: the random "
                "layers belong in front of the first convolution",
            )
        white = np.full((1, *image_size, 3), 255.0, "float32")
        top = float(np.abs(np.asarray(_run_stage(stage, white, training=False))).max())
        if not 0.5 <= top <= 1.0 + 1e-3:
            raise fail(
                "build_classifier",
                case,
                "a white image (255) reaching the first convolution as a value of at most 1",
                f"{top:.4g}",
                "the model takes raw 0..255 pixels: scale them inside the model, "
                "before the first convolution",
            )
        convs = [ly for ly in model.layers if isinstance(ly, keras.layers.Conv2D)]
        check_nonlinear(model, convs, "build_classifier", case, "every convolution")
    passed(
        "build_classifier: shapes, probabilities, images augmented only while training and "
        "scaled inside the model, a ReLU after every convolution"
    )


def _input_stage(model) -> list:
    """The layers in front of the model's first layer with weights (augmentation, rescaling),
    in order; the model is read as a chain (a Sequential, or a functional model built as one)."""
    stage = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        if layer.weights and not isinstance(getattr(layer, "layers", None), list):
            break
        if getattr(layer, "layers", None) and any(
            sub.weights and type(sub).__name__ != "InputLayer" for sub in layer.layers
        ):
            break
        stage.append(layer)
    return stage


def _run_stage(stage: list, x, training: bool):
    """x: (N, h, w, 3) through the layers of `_input_stage` -> what the first weights see."""
    for layer in stage:
        x = layer(x, training=training)
    return x


def _random_model(image_size, n, rng):
    """A fixed random CNN taking 0..255 images (N, h, w, 3) -> (N, n) peaked probabilities."""
    import keras

    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((*image_size, 3)),
            layers.Rescaling(1 / 255),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(n, activation="softmax"),
        ]
    )
    model.set_weights(
        [
            rng.standard_normal(w.shape).astype("float32") * s
            for w, s in zip(model.get_weights(), (1, 0.5, 6, 0.5), strict=True)
        ]
    )
    return model


def check_predict_photo(predict_photo: Callable, seed: int = 0, n_cases: int = 3) -> None:
    """predict_photo(model, path, class_names, image_size) -> {class: probability}, against
    keras.utils.load_img(path, target_size) + model.predict on the same photo."""
    import keras
    from PIL import Image

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n_cases):
            n = int(rng.integers(2, 6))
            names = [f"class_{chr(97 + k)}" for k in range(n)]
            image_size = tuple(int(v) for v in rng.integers(16, 33, size=2))
            model = _random_model(image_size, n, rng)
            scale = 1 if i == 0 else float(rng.uniform(1.3, 2.0))  # case 0: already the right size
            h, w = int(image_size[0] * scale), int(image_size[1] * scale)
            yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
            phases = rng.uniform(0, 6, size=3)
            pixels = np.stack([127 + 120 * np.sin(3 * xx + 2 * yy + p) for p in phases], axis=-1)
            if i == 0:
                pixels = rng.integers(0, 256, size=(h, w, 3))
            path = Path(tmp) / f"photo_{i}.png"
            Image.fromarray(pixels.astype(np.uint8)).save(path)
            case = f"#{i} ({path.name} of {w}x{h} pixels, image_size={image_size}, class_names={names})"
            with _quiet():
                got = call(predict_photo, model, str(path), names, image_size, case=case)
            if not isinstance(got, dict):
                raise fail(
                    "predict_photo", case, "a dict class name -> probability", type(got).__name__
                )
            if list(got) != names:
                raise fail(
                    "predict_photo",
                    case,
                    names,
                    list(got),
                    "one key per class, in class_names order",
                )
            probs = np.array([float(v) for v in got.values()])
            array = keras.utils.img_to_array(
                keras.utils.load_img(path, target_size=image_size, interpolation="bilinear")
            )
            with _quiet():
                expected = model.predict(array[None], verbose=0)[0]
            tol = 1e-4 if i == 0 else 0.05  # resizing methods differ slightly between libraries
            if abs(probs.sum() - 1) > 1e-4 or np.max(np.abs(probs - expected)) > tol:
                raise fail(
                    "predict_photo",
                    case,
                    np.round(expected, 4).tolist(),
                    np.round(probs, 4).tolist(),
                    "resize to image_size, add a batch axis, pass raw 0..255 pixels (the model rescales)",
                )
    passed(f"predict_photo: probabilities agree with model.predict on {n_cases} photos")


def _write_counting_folder(root: Path, rng: np.random.Generator) -> None:
    """2-4 class sub-folders holding .png/.JPG files (some in a nested folder), a text file, and
    a hidden `.ipynb_checkpoints` folder with a photo in it (not a class)."""
    from PIL import Image

    pixels = np.zeros((6, 5, 3), np.uint8)
    names = rng.choice(
        ["owls", "Bees", "ants", "yaks", "emus"], size=int(rng.integers(2, 5)), replace=False
    )
    for name in names:
        for j in range(int(rng.integers(1, 6))):
            where = root / name / ("more" if j % 3 == 2 else "")
            where.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(where / f"p{j}.png")
        if rng.random() < 0.6:
            Image.fromarray(pixels).save(root / name / "upper.JPG", format="JPEG")
        (root / name / "readme.txt").write_text("not an image")
    (root / ".ipynb_checkpoints").mkdir()
    Image.fromarray(pixels).save(root / ".ipynb_checkpoints" / "copy.png")


def _expect_value_error(folder_counts, path, case, must_name=""):
    try:
        out = call(folder_counts, str(path), case=case)
    except ValueError as error:
        if must_name and must_name not in str(error):
            raise fail(
                "folder_counts", case, f"a ValueError naming {must_name!r}", repr(str(error))
            ) from None
        return
    except NotImplementedError:
        raise
    except Exception as error:
        raise fail(
            "folder_counts",
            case,
            "a ValueError that says what is wrong",
            f"{type(error).__name__}: {error}",
            "raise ValueError(...) yourself, with a message that says what to do",
        ) from None
    raise fail(
        "folder_counts", case, "a ValueError that says what is wrong", f"no error, returned {out!r}"
    )


def check_folder_counts(folder_counts: Callable, seed: int = 0, n_cases: int = 2) -> None:
    """folder_counts(folder) -> {class: number of image files}, checked against the files
    keras.utils.image_dataset_from_directory finds (its file_paths); bad folders must raise
    ValueError (missing, no sub-folders, one class, a class without images: named)."""
    import keras
    from PIL import Image

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n_cases):
            root = Path(tmp) / f"good_{i}"
            _write_counting_folder(root, rng)
            case = f"#{i} (a folder with classes {sorted(p.name for p in root.iterdir())})"
            got = call(folder_counts, str(root), case=case)
            with _quiet():
                ref = keras.utils.image_dataset_from_directory(
                    root, batch_size=None, image_size=(4, 4), verbose=False
                )
            expected = {name: 0 for name in ref.class_names}
            for file in ref.file_paths:
                expected[Path(file).relative_to(root).parts[0]] += 1
            if not isinstance(got, dict) or list(got) != list(expected) or dict(got) != expected:
                raise fail(
                    "folder_counts",
                    case,
                    expected,
                    got,
                    "classes sorted, image endings in any case, nested folders, no hidden folders",
                )
        lone = Path(tmp) / "lonely"
        (lone / "cats").mkdir(parents=True)
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(lone / "cats" / "a.png")
        holey = Path(tmp) / "holey"
        _write_counting_folder(holey, rng)
        empty_class = sorted(p.name for p in holey.iterdir() if not p.name.startswith("."))[-1]
        for file in (holey / empty_class).rglob("*.*"):
            if file.suffix.lower() != ".txt":
                file.unlink()
        (Path(tmp) / "bare").mkdir()
        _expect_value_error(folder_counts, Path(tmp) / "nowhere", "a folder that does not exist")
        _expect_value_error(folder_counts, Path(tmp) / "bare", "a folder without sub-folders")
        _expect_value_error(folder_counts, lone, "a folder with one class, cats")
        _expect_value_error(
            folder_counts, holey, f"a folder whose class {empty_class!r} has no images", empty_class
        )
    passed(
        f"folder_counts: counts agree with Keras on {n_cases} folders; 4 bad folders raise ValueError"
    )
