"""The unit 15 checks pass correct code, fail typical wrong answers, and guide blank stubs."""

from __future__ import annotations

import keras
import pytest

from utils.checks import your_own_images
from utils.checks.core import CheckFailed


def good_make_datasets(folder, image_size, batch_size, validation_split, seed):
    train, val = keras.utils.image_dataset_from_directory(
        folder,
        validation_split=validation_split,
        subset="both",
        seed=seed,
        image_size=image_size,
        batch_size=batch_size,
        verbose=False,
    )
    return train, val, train.class_names


def no_split_seed(folder, image_size, batch_size, validation_split, seed):
    kw = dict(
        validation_split=validation_split,
        image_size=image_size,
        batch_size=batch_size,
        verbose=False,
    )
    train = keras.utils.image_dataset_from_directory(folder, subset="training", seed=seed, **kw)
    val = keras.utils.image_dataset_from_directory(folder, subset="validation", seed=seed + 1, **kw)
    return train, val, train.class_names


def unsorted_names(folder, image_size, batch_size, validation_split, seed):
    import os

    train, val, _ = good_make_datasets(folder, image_size, batch_size, validation_split, seed)
    return train, val, sorted(os.listdir(folder), reverse=True)


def good_classifier(image_size, n_classes):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((*image_size, 3)),
            layers.RandomFlip("horizontal"),
            layers.Rescaling(1 / 255),
            layers.Conv2D(4, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(n_classes, activation="softmax"),
        ]
    )


def good_predict(model, path, class_names, image_size):
    x = keras.utils.img_to_array(keras.utils.load_img(path, target_size=image_size))
    p = model.predict(x[None], verbose=0)[0]
    return {name: float(v) for name, v in zip(class_names, p, strict=True)}


def divides_by_255(model, path, class_names, image_size):
    x = keras.utils.img_to_array(keras.utils.load_img(path, target_size=image_size)) / 255
    p = model.predict(x[None], verbose=0)[0]
    return {name: float(v) for name, v in zip(class_names, p, strict=True)}


def sorted_by_probability(model, path, class_names, image_size):
    out = good_predict(model, path, class_names, image_size)
    return dict(zip(class_names, sorted(out.values()), strict=True))


def stub(*args):
    raise NotImplementedError()


def test_correct_answers_pass(capsys):
    your_own_images.check_make_datasets(good_make_datasets)
    your_own_images.check_build_classifier(good_classifier)
    your_own_images.check_predict_photo(good_predict)
    assert capsys.readouterr().out.count("PASSED") == 3


@pytest.mark.parametrize("wrong", [no_split_seed, unsorted_names])
def test_wrong_datasets_fail(wrong):
    with pytest.raises(CheckFailed):
        your_own_images.check_make_datasets(wrong)


def _classifier(image_size, n_classes, rescale=True, softmax=True, augment=True):
    layers = keras.layers
    return keras.Sequential(
        [keras.Input((*image_size, 3))]
        + ([layers.RandomFlip("horizontal")] if augment else [])
        + ([layers.Rescaling(1 / 255)] if rescale else [])
        + [
            layers.Conv2D(4, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(n_classes, activation="softmax" if softmax else None),
        ]
    )


@pytest.mark.parametrize("missing", ["augment", "softmax", "rescale"])
def test_wrong_classifiers_fail(missing):
    def wrong(image_size, n_classes):
        keras.utils.set_random_seed(3)
        return _classifier(image_size, n_classes, **{missing: False})

    with pytest.raises(CheckFailed):
        your_own_images.check_build_classifier(wrong)


@pytest.mark.parametrize("wrong", [divides_by_255, sorted_by_probability])
def test_wrong_predictions_fail(wrong):
    with pytest.raises(CheckFailed):
        your_own_images.check_predict_photo(wrong)


@pytest.mark.parametrize(
    "check",
    [
        your_own_images.check_make_datasets,
        your_own_images.check_build_classifier,
        your_own_images.check_predict_photo,
    ],
)
def test_stub_gets_the_message(check):
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        check(stub)


def good_counts(folder):
    import os

    if not os.path.isdir(folder):
        raise ValueError(f"no folder {folder}")
    classes = sorted(
        d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)) and d[0] != "."
    )
    if len(classes) < 2:
        raise ValueError(f"need two classes, found {classes}")
    ends = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
    out = {}
    for name in classes:
        walk = os.walk(os.path.join(folder, name))
        out[name] = sum(f.lower().endswith(ends) for _, _, files in walk for f in files)
        if out[name] == 0:
            raise ValueError(f"class {name} has no images")
    return out


def counts_every_file(folder):
    import os

    good_counts(folder)
    return {
        d: sum(len(f) for _, _, f in os.walk(os.path.join(folder, d))) for d in good_counts(folder)
    }


def keeps_hidden_folders(folder):
    import os

    out = good_counts(folder)
    for d in os.listdir(folder):
        if d.startswith("."):
            out[d] = 1
    return dict(sorted(out.items()))


def accepts_one_class(folder):
    try:
        return good_counts(folder)
    except ValueError as error:
        if "need two" in str(error):
            return {}
        raise


def lets_os_error_through(folder):
    import os

    os.listdir(folder)
    return good_counts(folder)


def test_folder_counts(capsys):
    your_own_images.check_folder_counts(good_counts)
    your_own_images.check_folder_counts(good_counts, seed=5, n_cases=3)
    assert capsys.readouterr().out.count("PASSED") == 2
    for wrong in (
        counts_every_file,
        keeps_hidden_folders,
        accepts_one_class,
        lets_os_error_through,
    ):
        with pytest.raises(CheckFailed):
            your_own_images.check_folder_counts(wrong)
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        your_own_images.check_folder_counts(stub)
