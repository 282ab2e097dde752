"""utils.measure.receptive_fields: the gradient measurement against the formula
r_out = r_in + (k - 1) * j_in, j_out = j_in * stride (stride-1 stacks, strides, pooling)."""

import keras
import numpy as np
import pytest

from utils.measure.receptive_fields import (
    gradient_extent,
    gradient_map,
    layer_receptive_field,
    measured_receptive_field,
    ones_conv,
    receptive_field,
    unit_gradient,
    unit_receptive_field,
)

L = keras.layers


@pytest.mark.parametrize(
    ("kernels", "want"),
    [([3], (3, 3)), ([3, 3], (5, 5)), ([3, 3, 3], (7, 7)), ([7], (7, 7)), ([(1, 3)], (1, 3)),
     ([(1, 3), (3, 1)], (3, 3)), ([1, 3, 1], (3, 3)), ([5, 3], (7, 7))],
)  # fmt: skip
def test_receptive_field_matches_the_formula(kernels, want):
    assert receptive_field([ones_conv(k) for k in kernels]) == want


def test_gradient_map_of_one_all_ones_kernel_is_flat_inside_the_window():
    grad = gradient_map([ones_conv(7)], size=15)
    assert grad.shape == (15, 15)
    np.testing.assert_allclose(grad[4:11, 4:11], 1.0)
    assert grad.sum() == pytest.approx(49.0)


def test_a_stack_weighs_the_centre_more_than_the_corner():
    grad = gradient_map([ones_conv(3) for _ in range(3)])
    assert grad[7, 7] > grad[4, 4] > 0


def test_gradient_extent_is_the_bounding_box_of_the_nonzero_entries():
    grad = np.zeros((9, 9, 2))
    grad[2, 3, 0] = -1.0  # a negative entry counts: its magnitude is used
    grad[6, 4, 1] = 0.5
    assert gradient_extent(grad) == (5, 2)
    assert gradient_extent(grad[..., 0]) == (1, 1)
    assert gradient_extent(np.zeros((4, 4))) == (0, 0)


# (name, layers after the input, receptive field of the last layer by the formula)
STACKS = [
    ("3x3 convs", [L.Conv2D(2, 3, activation="relu"), L.Conv2D(2, 3, activation="relu")], 5),
    ("stride 2", [L.Conv2D(2, 3, strides=2, activation="relu"), L.Conv2D(2, 3)], 7),
    ("max pool", [L.Conv2D(2, 3, activation="relu"), L.MaxPooling2D(2), L.Conv2D(2, 3)], 8),
    (
        "stride, pool, conv",
        [
            L.Conv2D(3, 5, strides=2, activation="relu"),
            L.MaxPooling2D(3, strides=2),
            L.Conv2D(2, 3),
        ],
        17,
    ),
    ("average pool", [L.AveragePooling2D(2), L.Conv2D(2, 3, padding="same"), L.Conv2D(2, 3)], 10),
]


@pytest.mark.parametrize(("layers", "want"), [s[1:] for s in STACKS], ids=[s[0] for s in STACKS])
def test_the_formula_and_the_measurement_agree(layers, want):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((41, 41, 2)), *layers])
    last = model.layers[-1].name
    assert layer_receptive_field(model, last) == want
    assert measured_receptive_field(model, last, n=16) == want


def test_the_formula_names_a_missing_layer():
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(1, 3, name="c")])
    with pytest.raises(KeyError, match="nope"):
        layer_receptive_field(model, "nope")


def test_a_layer_list_and_the_same_model_give_the_same_gradient():
    keras.utils.set_random_seed(0)
    layers = [L.Conv2D(3, 3, padding="same", activation="relu"), L.Conv2D(2, 3, padding="same")]
    model = keras.Sequential([keras.Input((9, 9, 1)), *layers])
    x = np.random.default_rng(0).random((2, 9, 9, 1))
    np.testing.assert_allclose(unit_gradient(layers, x), unit_gradient(model, x))
    assert unit_gradient(model, x).shape == (2, 9, 9, 1)


def test_channel_groups_and_units_have_their_own_fields():
    inp = keras.Input((11, 11, 2))
    branches = [L.Conv2D(2, 1)(inp), L.Conv2D(3, 3, padding="same")(inp)]
    model = keras.Model(inp, L.Concatenate()(branches))
    x = np.random.default_rng(1).random((1, 11, 11, 2))
    assert unit_receptive_field(model, x, channels=slice(0, 2)) == (1, 1)
    assert unit_receptive_field(model, x, channels=slice(2, 5)) == (3, 3)
    assert unit_receptive_field(model, x, channels=4) == (3, 3)
    assert unit_receptive_field(model, x) == (3, 3)
    # the corner unit's window is cut by the 'same' border
    assert unit_receptive_field(model, x, channels=slice(2, 5), position=(0, 0)) == (2, 2)
