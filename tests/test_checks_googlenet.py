"""The checks of unit 09 (GoogLeNet) accept right answers and reject typical wrong ones."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from utils.checks import CheckFailed, googlenet

L = keras.layers


def conv(x, filters, kernel):
    return L.Conv2D(filters, kernel, padding="same", activation="relu")(x)


def naive(x, f1, f3, f5):
    pool = L.MaxPooling2D(3, strides=1, padding="same")(x)
    return L.Concatenate()([conv(x, f1, 1), conv(x, f3, 3), conv(x, f5, 5), pool])


def module(x, f1, f3r, f3, f5r, f5, pool_proj):
    b3 = conv(conv(x, f3r, 1), f3, 3)
    b5 = conv(conv(x, f5r, 1), f5, 5)
    bp = conv(L.MaxPooling2D(3, strides=1, padding="same")(x), pool_proj, 1)
    return L.Concatenate()([conv(x, f1, 1), b3, b5, bp])


def factorised(x, f1, f3r, f3, f5r, f5, pool_proj):
    b3 = conv(conv(x, f3r, 1), f3, 3)
    b5 = conv(conv(conv(x, f5r, 1), f5r, 3), f5, 3)
    bp = conv(L.MaxPooling2D(3, strides=1, padding="same")(x), pool_proj, 1)
    return L.Concatenate()([conv(x, f1, 1), b3, b5, bp])


def test_correct_answers_pass(capsys):
    googlenet.check_naive_inception(naive)
    googlenet.check_inception_module(module, seed=3)
    googlenet.check_factorised_inception(factorised, seed=5)
    assert capsys.readouterr().out.count("PASSED") == 3


def naive_wrong_order(x, f1, f3, f5):
    pool = L.MaxPooling2D(3, strides=1, padding="same")(x)
    return L.Concatenate()([conv(x, f3, 3), conv(x, f1, 1), conv(x, f5, 5), pool])


def naive_no_relu(x, f1, f3, f5):
    pool = L.MaxPooling2D(3, strides=1, padding="same")(x)
    branches = [L.Conv2D(f, k, padding="same")(x) for f, k in ((f1, 1), (f3, 3), (f5, 5))]
    return L.Concatenate()([*branches, pool])


def naive_avg_pool(x, f1, f3, f5):
    pool = L.AveragePooling2D(3, strides=1, padding="same")(x)
    return L.Concatenate()([conv(x, f1, 1), conv(x, f3, 3), conv(x, f5, 5), pool])


def naive_dilated(x, f1, f3, f5):  # same kernels and parameters, but the 3x3 sees 5x5
    pool = L.MaxPooling2D(3, strides=1, padding="same")(x)
    b3 = L.Conv2D(f3, 3, padding="same", dilation_rate=2, activation="relu")(x)
    return L.Concatenate()([conv(x, f1, 1), b3, conv(x, f5, 5), pool])


@pytest.mark.parametrize("fn", [naive_wrong_order, naive_no_relu, naive_avg_pool, naive_dilated])
def test_naive_check_rejects(fn):
    with pytest.raises(CheckFailed):
        googlenet.check_naive_inception(fn)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (naive_wrong_order, "the 1x1 branch's channels see a 1x1 patch.*they see 3x3"),
        (naive_dilated, "the 3x3 branch's channels see a 3x3 patch.*they see 5x5"),
    ],
)
def test_the_measured_receptive_fields_reject(fn, message):
    with pytest.raises(CheckFailed, match=f"(?s){message}"):
        googlenet.check_naive_inception(fn)


def test_each_channel_group_of_a_right_module_has_its_branch_field():
    inp = keras.Input((11, 11, 3))
    model = keras.Model(inp, module(inp, 2, 3, 4, 2, 5, 3))
    fields = googlenet._receptive_fields(model, [2, 4, 5, 3], 3, np.random.default_rng(0))
    assert fields[:3] == [(1, 1), (3, 3), (5, 5)]
    assert 1 <= min(fields[3]) and max(fields[3]) <= 3  # max pooling: within 3x3


def module_no_pool_proj(x, f1, f3r, f3, f5r, f5, pool_proj):
    b3 = conv(conv(x, f3r, 1), f3, 3)
    b5 = conv(conv(x, f5r, 1), f5, 5)
    return L.Concatenate()(
        [conv(x, f1, 1), b3, b5, L.MaxPooling2D(3, strides=1, padding="same")(x)]
    )


def module_reduce_after(x, f1, f3r, f3, f5r, f5, pool_proj):  # 1x1 after the big kernel
    b3 = conv(conv(x, f3, 3), f3r, 1)
    b5 = conv(conv(x, f5, 5), f5r, 1)
    bp = conv(L.MaxPooling2D(3, strides=1, padding="same")(x), pool_proj, 1)
    return L.Concatenate()([conv(x, f1, 1), b3, b5, bp])


def module_swapped_branches(x, f1, f3r, f3, f5r, f5, pool_proj):  # 5x5 before 3x3
    b3 = conv(conv(x, f3r, 1), f5, 3)
    b5 = conv(conv(x, f5r, 1), f3, 5)
    bp = conv(L.MaxPooling2D(3, strides=1, padding="same")(x), pool_proj, 1)
    return L.Concatenate()([conv(x, f1, 1), b5, b3, bp])


@pytest.mark.parametrize("fn", [module_no_pool_proj, module_reduce_after, module_swapped_branches])
def test_module_check_rejects(fn):
    with pytest.raises(CheckFailed):
        googlenet.check_inception_module(fn)


def factorised_kept_5x5(x, f1, f3r, f3, f5r, f5, pool_proj):  # exercise 2's module
    return module(x, f1, f3r, f3, f5r, f5, pool_proj)


def factorised_in_parallel(x, f1, f3r, f3, f5r, f5, pool_proj):  # two 3x3 side by side
    r = conv(x, f5r, 1)
    b5 = L.Add()([conv(r, f5, 3), conv(conv(r, f5r, 1), f5, 3)])
    bp = conv(L.MaxPooling2D(3, strides=1, padding="same")(x), pool_proj, 1)
    return L.Concatenate()([conv(x, f1, 1), conv(conv(x, f3r, 1), f3, 3), b5, bp])


def factorised_pool_after_projection(x, f1, f3r, f3, f5r, f5, pool_proj):
    b5 = conv(conv(conv(x, f5r, 1), f5r, 3), f5, 3)
    bp = L.MaxPooling2D(3, strides=1, padding="same")(conv(x, pool_proj, 1))
    return L.Concatenate()([conv(x, f1, 1), conv(conv(x, f3r, 1), f3, 3), b5, bp])


def factorised_second_on_reduction(x, f1, f3r, f3, f5r, f5, pool_proj):
    """The second 3x3 reads the reduction, not the first 3x3: its receptive field is 3x3."""
    r = conv(x, f5r, 1)
    b5 = L.Concatenate()([conv(r, f5r, 3), conv(r, f5, 3)])[..., f5r:]
    bp = conv(L.MaxPooling2D(3, strides=1, padding="same")(x), pool_proj, 1)
    return L.Concatenate()([conv(x, f1, 1), conv(conv(x, f3r, 1), f3, 3), b5, bp])


@pytest.mark.parametrize(
    "fn", [factorised_kept_5x5, factorised_in_parallel, factorised_pool_after_projection]
)
def test_factorised_check_rejects(fn):
    with pytest.raises(CheckFailed):
        googlenet.check_factorised_inception(fn)


def test_the_factorised_branch_must_see_5x5():
    with pytest.raises(CheckFailed, match="(?s)two-3x3 branch's channels see a 5x5 patch"):
        googlenet.check_factorised_inception(factorised_second_on_reduction)


def test_the_reference_comparison_names_the_branch():
    with pytest.raises(CheckFailed, match="the pooling branch's channels equal"):
        googlenet.check_factorised_inception(factorised_pool_after_projection)


def test_stub_says_where_to_write():
    def inception_module(x, f1, f3r, f3, f5r, f5, pool_proj):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        googlenet.check_inception_module(inception_module)
