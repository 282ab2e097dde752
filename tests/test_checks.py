"""The lab checks accept right answers and reject typical wrong ones, with useful messages."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from utils.checks import CheckFailed, convolution, lenet, models, rel_error


def conv2d_windows(x, w, b, stride, padding):
    """An independent implementation (sliding windows + einsum) to feed the check."""
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[:2], axis=(0, 1))
    win = win[::stride, ::stride]  # (OH, OW, C, KH, KW)
    return np.einsum("ijcab,abcf->ijf", win, w) + b


def test_conv2d_check_accepts_a_correct_implementation(capsys):
    convolution.check_conv2d(conv2d_windows)
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (lambda x, w, b, s, p: conv2d_windows(x, w[::-1, ::-1], b, s, p), "expected"),
        (lambda x, w, b, s, p: conv2d_windows(x, w, b, 1, p), "shape"),
        (lambda x, w, b, s, p: conv2d_windows(x, w, 0 * b, s, p), "expected"),
        (lambda x, w, b, s, p: conv2d_windows(x, w, b, s, 0), "shape"),
        (lambda x, w, b, s, p: None, "return"),
    ],
    ids=["flipped-kernel", "ignores-stride", "ignores-bias", "ignores-padding", "no-return"],
)
def test_conv2d_check_rejects_wrong_answers(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        convolution.check_conv2d(wrong)


def test_an_unwritten_exercise_says_where_to_write():
    def conv2d_loops(x, w, b, stride, padding):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        convolution.check_conv2d(conv2d_loops)


def test_an_error_in_learner_code_names_the_case():
    def broken(x, w, b, stride, padding):
        return x[100]

    with pytest.raises(IndexError) as err:
        convolution.check_conv2d(broken)
    assert any("stride=" in note for note in err.value.__notes__)


def test_output_size_check():
    convolution.check_output_size(lambda n, f, p, s: math.floor((n + 2 * p - f) / s) + 1)
    with pytest.raises(CheckFailed):
        convolution.check_output_size(lambda n, f, p, s: math.ceil((n + 2 * p - f) / s) + 1)
    with pytest.raises(CheckFailed, match="int"):
        convolution.check_output_size(lambda n, f, p, s: (n + 2 * p - f) / s + 1)


def test_param_count_check():
    def conv(kh, kw, c_in, c_out):
        return kh * kw * c_in * c_out + c_out

    def dense(n_in, n_out):
        return n_in * n_out + n_out

    convolution.check_param_counts(conv, dense)
    with pytest.raises(CheckFailed, match="conv_params"):
        convolution.check_param_counts(lambda kh, kw, ci, co: kh * kw * ci * co, dense)
    with pytest.raises(CheckFailed, match="dense_params"):
        convolution.check_param_counts(conv, lambda n_in, n_out: n_in * n_out)


def test_preprocess_check():
    lenet.check_preprocess(lambda x: (x / np.float32(255))[..., None].astype("float32"))
    with pytest.raises(CheckFailed, match="channel"):
        lenet.check_preprocess(lambda x: (x / 255).astype("float32"))
    with pytest.raises(CheckFailed, match="float32"):
        lenet.check_preprocess(lambda x: (x / 255)[..., None])
    with pytest.raises(CheckFailed, match="255"):
        lenet.check_preprocess(lambda x: x[..., None].astype("float32"))


def _tiny(filters):
    return keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(filters, 3), keras.layers.Flatten()]
    )


def test_model_table_check():
    target = models.model_table(_tiny(4))
    assert target == [("Conv2D", (6, 6, 4), 40), ("Flatten", (144,), 0)]
    models.check_model_table(_tiny(4), target)
    with pytest.raises(CheckFailed, match="layer 0"):
        models.check_model_table(_tiny(5), target)
    with pytest.raises(CheckFailed, match="None"):
        models.check_model_table(None, target)


def test_rel_error_is_symmetric_and_zero_for_equal_arrays():
    a = np.arange(5.0)
    assert rel_error(a, a) == 0.0
    assert rel_error(a, a + 1) == rel_error(a + 1, a) > 0
