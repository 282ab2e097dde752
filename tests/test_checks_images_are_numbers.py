"""The unit 00 checks (utils.checks.images_are_numbers) accept right answers and reject typical wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from utils.checks import CheckFailed, images_are_numbers
from utils.data import load_photo

# Independent correct implementations, written differently from the lab's solutions.


def load_as_float_ok(name):
    img = load_photo(name).astype(np.float64) / 255.0
    return np.atleast_3d(img).astype(np.float32)


def split_channels_ok(image):
    return [np.squeeze(part, axis=-1) for part in np.split(image, image.shape[-1], axis=-1)]


def rgb_to_gray_ok(rgb):
    rgb = rgb.astype(np.float64) / 255.0
    return 0.2125 * rgb[..., 0] + 0.7154 * rgb[..., 1] + 0.0721 * rgb[..., 2]


def mlp_ok(height, width, channels, hidden):
    return (height * width * channels + 1) * hidden


def conv_ok(kernel_size, channels, filters):
    return kernel_size**2 * channels * filters + filters


def shift_ok(image, dy, dx):
    h, w = image.shape[:2]
    padded = np.zeros((3 * h, 3 * w) + image.shape[2:], dtype=image.dtype)
    padded[h : 2 * h, w : 2 * w] = image
    return padded[h - dy : 2 * h - dy, w - dx : 2 * w - dx]


def cosine_ok(a, b):
    a, b = a.astype(float).ravel(), b.astype(float).ravel()
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def not_written(*args):
    raise NotImplementedError()


# The checks pass correct answers.


def test_correct_answers_pass(capsys):
    images_are_numbers.check_load_as_float(load_as_float_ok)
    images_are_numbers.check_split_channels(split_channels_ok)
    images_are_numbers.check_rgb_to_gray(rgb_to_gray_ok)
    images_are_numbers.check_param_counts(mlp_ok, conv_ok)
    images_are_numbers.check_shift(shift_ok)
    images_are_numbers.check_cosine_similarity(cosine_ok)
    assert capsys.readouterr().out.count("PASSED") == 6


def test_pillow_split_is_a_real_reference():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert np.array_equal(np.asarray(Image.fromarray(img, "RGB").split()[2]), img[..., 2])


# Typical wrong answers fail, with a message that helps.


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (lambda name: np.atleast_3d(load_photo(name)).astype(np.float32), "divide the 0..255"),
        (lambda name: (load_photo(name) / np.float32(255)).astype(np.float32), "channel axis"),
        (lambda name: np.atleast_3d(load_photo(name) / 255.0), "float32"),
        (
            lambda name: np.atleast_3d(load_photo(name) / load_photo(name).max()).astype(
                np.float32
            ),
            "not by the photo's max",
        ),
        (lambda name: None, "return"),
    ],
    ids=["no-scaling", "no-channel-axis", "float64", "divides-by-max", "no-return"],
)
def test_load_as_float_rejects(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        images_are_numbers.check_load_as_float(wrong)


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (lambda x: np.split(x, x.shape[-1], axis=-1), "shape"),
        (lambda x: [x[..., c] for c in (2, 1, 0)], "channel 0 is red"),
        (lambda x: [x[..., c] for c in range(3)], "channels"),  # ignores alpha
        (lambda x: [x[i] for i in range(x.shape[0])], "channels|shape"),  # splits rows
        (lambda x: [x[..., c].astype(float) for c in range(x.shape[-1])], "dtype"),
    ],
    ids=["keeps-axis", "bgr-order", "drops-alpha", "splits-rows", "changes-dtype"],
)
def test_split_channels_rejects(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        images_are_numbers.check_split_channels(wrong)


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (lambda x: x.mean(axis=-1) / 255, "not the plain mean"),
        (lambda x: x @ np.array([0.2125, 0.7154, 0.0721]), "divide by 255"),
        (lambda x: (x / 255) @ np.array([0.299, 0.587, 0.114]), "weighted sum"),
        (lambda x: (x / 255) @ np.array([0.0721, 0.7154, 0.2125]), "weighted sum"),
        (lambda x: (x / 255) * np.array([0.2125, 0.7154, 0.0721]), "shape"),
    ],
    ids=["plain-mean", "unscaled", "bt601", "bgr-weights", "no-sum"],
)
def test_rgb_to_gray_rejects(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        images_are_numbers.check_rgb_to_gray(wrong)


def test_param_counts_reject_wrong_answers():
    with pytest.raises(CheckFailed, match="mlp_first_layer_params"):
        images_are_numbers.check_param_counts(
            lambda h, w, c, n: h * w * c * n, conv_ok
        )  # no biases
    with pytest.raises(CheckFailed, match="mlp_first_layer_params"):
        images_are_numbers.check_param_counts(
            lambda h, w, c, n: (h * w + 1) * n, conv_ok
        )  # no channels
    with pytest.raises(CheckFailed, match="an int"):
        images_are_numbers.check_param_counts(lambda h, w, c, n: float(mlp_ok(h, w, c, n)), conv_ok)
    with pytest.raises(CheckFailed, match="conv_layer_params"):
        images_are_numbers.check_param_counts(mlp_ok, lambda k, c, f: k * k * f + f)  # no channels
    with pytest.raises(CheckFailed, match="conv_layer_params"):
        images_are_numbers.check_param_counts(mlp_ok, lambda k, c, f: k * k * c * f)  # no biases


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (lambda x, dy, dx: np.roll(x, (dy, dx), axis=(0, 1)), "fill with 0"),
        (lambda x, dy, dx: shift_ok(x, -dy, -dx), "moves the content down"),
        (lambda x, dy, dx: shift_ok(x, dx, dy), "expected"),
        (lambda x, dy, dx: x[abs(dy) :, abs(dx) :], "shape"),
    ],
    ids=["wraps-around", "wrong-sign", "swapped-axes", "crops"],
)
def test_shift_rejects(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        images_are_numbers.check_shift(wrong)


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (lambda a, b: float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b))), "uint8"),
        (lambda a, b: float((a.astype(float) * b).sum()), "expected"),  # not normalised
        (lambda a, b: a.astype(float) * b / (np.linalg.norm(a) * np.linalg.norm(b)), "flatten"),
        (lambda a, b: None, "return"),
    ],
    ids=["uint8-overflow", "no-norms", "no-sum", "no-return"],
)
def test_cosine_similarity_rejects(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        images_are_numbers.check_cosine_similarity(wrong)


# An exercise not written yet gets the "where to write" message from every check.


@pytest.mark.parametrize(
    "run",
    [
        lambda: images_are_numbers.check_load_as_float(not_written),
        lambda: images_are_numbers.check_split_channels(not_written),
        lambda: images_are_numbers.check_rgb_to_gray(not_written),
        lambda: images_are_numbers.check_param_counts(not_written, not_written),
        lambda: images_are_numbers.check_param_counts(mlp_ok, not_written),
        lambda: images_are_numbers.check_shift(not_written),
        lambda: images_are_numbers.check_cosine_similarity(not_written),
    ],
    ids=["load", "split", "gray", "mlp", "conv", "shift", "cosine"],
)
def test_unwritten_exercises_say_where_to_write(run):
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        run()


def test_seeds_change_the_cases(capsys):
    images_are_numbers.check_shift(shift_ok, seed=1)
    images_are_numbers.check_load_as_float(load_as_float_ok, n_cases=8, seed=5)
    assert "PASSED" in capsys.readouterr().out
