"""Unit 15 (your own images): typical wrong answers and correct variants."""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from mistakes import Exercise
from utils.checks import your_own_images

L = keras.layers
ENDINGS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def counts_by_walk(folder):
    """Correct, written differently: os.walk, endings compared case-insensitively."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(f"{folder} needs at least two class sub-folders, found {classes}")
    counts = {}
    for name in classes:
        counts[name] = sum(
            f.lower().endswith(ENDINGS) for _, _, files in os.walk(folder / name) for f in files
        )
        if counts[name] == 0:
            raise ValueError(f"class {name!r} has no images")
    return counts


def _counts_case_sensitive(folder):
    counts = counts_by_walk(folder)
    return {
        n: sum(f.endswith(ENDINGS) for _, _, fs in os.walk(Path(folder) / n) for f in fs)
        for n in counts
    }


def _counts_top_level_only(folder):
    counts = counts_by_walk(folder)
    return {
        n: sum(p.suffix.lower() in ENDINGS for p in (Path(folder) / n).iterdir() if p.is_file())
        for n in counts
    }


def _counts_all_files(folder):
    counts = counts_by_walk(folder)
    return {n: sum(len(fs) for _, _, fs in os.walk(Path(folder) / n)) for n in counts}


def _counts_no_errors(folder):
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {
        p.name: sum(f.lower().endswith(ENDINGS) for _, _, fs in os.walk(p) for f in fs)
        for p in sorted(folder.iterdir())
        if p.is_dir() and not p.name.startswith(".")
    }


def datasets_options(folder, image_size, batch_size, validation_split, seed):
    """Correct, written differently: subset="both" in one call."""
    train, val = keras.utils.image_dataset_from_directory(
        folder,
        image_size=image_size,
        batch_size=batch_size,
        validation_split=validation_split,
        subset="both",
        seed=seed,
    )
    return train, val, train.class_names


def _datasets(seeds=(0, 0), no_split=False, sizes=None):
    def make_datasets(folder, image_size, batch_size, validation_split, seed):
        kw = dict(image_size=sizes or image_size, batch_size=batch_size)
        if no_split:
            ds = keras.utils.image_dataset_from_directory(folder, **kw)
            return ds, ds, ds.class_names
        out = [
            keras.utils.image_dataset_from_directory(
                folder, validation_split=validation_split, subset=s, seed=seed + d, **kw
            )
            for s, d in zip(("training", "validation"), seeds, strict=True)
        ]
        return out[0], out[1], out[0].class_names

    return make_datasets


def classifier_functional(image_size, n_classes):
    """Correct, written differently: functional, augmentation in a Sequential, GAP head."""
    augment = keras.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1)])
    inputs = keras.Input((*image_size, 3))
    x = L.Rescaling(1 / 127.5, offset=-1)(augment(inputs))
    for f in (8, 16):
        x = L.MaxPooling2D()(L.Conv2D(f, 3, padding="same", activation="relu")(x))
    outputs = L.Dense(n_classes, activation="softmax")(L.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs)


def _classifier(augment=True, rescale=True, dropout=0.0, final="softmax", act="relu"):
    def build_classifier(image_size, n_classes):
        layers = [keras.Input((*image_size, 3))]
        if augment:
            layers += [L.RandomFlip("horizontal"), L.RandomZoom(0.1)]
        if rescale:
            layers.append(L.Rescaling(1 / 255))
        layers += [
            L.Conv2D(8, 3, activation=act),
            L.MaxPooling2D(),
            L.Conv2D(16, 3, activation=act),
        ]
        layers.append(L.GlobalAveragePooling2D())
        if dropout:
            layers.append(L.Dropout(dropout))
        layers.append(L.Dense(n_classes, activation=final))
        return keras.Sequential(layers)

    return build_classifier


def predict_pil(model, path, class_names, image_size):
    """Correct, written differently: PIL resize (bilinear), model called directly."""
    from PIL import Image

    photo = Image.open(path).convert("RGB").resize(image_size[::-1], Image.BILINEAR)
    probs = np.asarray(model(np.asarray(photo, np.float32)[None], training=False))[0]
    return dict(zip(class_names, map(float, probs), strict=True))


def _predict(scale=False, no_resize=False, sort=False, transpose=False):
    def predict_photo(model, path, class_names, image_size):
        photo = keras.utils.load_img(path, target_size=None if no_resize else image_size)
        x = keras.utils.img_to_array(photo)
        if scale:
            x = x / 255.0
        if transpose:
            x = x.transpose(1, 0, 2)
        p = model.predict(x[None], verbose=0)[0]
        pairs = dict(zip(class_names, map(float, p), strict=True))
        return dict(sorted(pairs.items(), key=lambda kv: -kv[1])) if sort else pairs

    return predict_photo


EXERCISES = {
    "check_folder_counts": Exercise(
        run=your_own_images.check_folder_counts,
        wrong={
            "case-sensitive-endings": (_counts_case_sensitive, r"expected|JPG|ending|case"),
            "nested-folders-missed": (_counts_top_level_only, r"expected|nested|sub"),
            "counts-every-file": (_counts_all_files, r"expected|image"),
            "no-errors-for-bad-folders": (_counts_no_errors, r"ValueError"),
        },
        right={"os-walk": counts_by_walk},
    ),
    "check_make_datasets": Exercise(
        run=your_own_images.check_make_datasets,
        wrong={
            "different-seeds": (_datasets(seeds=(0, 1)), r"seed|validation"),
            "no-split": (_datasets(no_split=True), r"validation|split|photos"),
            "fixed-size": (_datasets(sizes=(20, 20)), r"shape|size"),
        },
        right={"subset-both": datasets_options},
    ),
    "check_build_classifier": Exercise(
        run=your_own_images.check_build_classifier,
        wrong={
            "dropout-instead-of-augmentation": (
                _classifier(augment=False, dropout=0.5),
                r"Dropout.*does not augment",
            ),
            "no-rescaling": (_classifier(rescale=False), r"scale them inside the model"),
            "no-softmax": (_classifier(final=None), r"softmax|probabilities"),
            "no-relu": (_classifier(act=None), r"nonlinearity"),
        },
        right={"functional-nested-augmentation": classifier_functional},
    ),
    "check_predict_photo": Exercise(
        run=your_own_images.check_predict_photo,
        wrong={
            "scaled-twice": (_predict(scale=True), r"raw 0..255|expected"),
            "not-resized": (_predict(no_resize=True), r"resize|shape|expected|hint"),
            "sorted-by-probability": (_predict(sort=True), r"class_names order"),
            "height-width-swapped": (_predict(transpose=True), r"expected|hint"),
        },
        right={"pil-resize": predict_pil},
    ),
}
