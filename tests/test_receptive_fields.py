"""utils.measure.receptive_fields against the formula r = 1 + sum(k - 1) for stride-1 stacks."""

import numpy as np
import pytest

from utils.measure.receptive_fields import gradient_map, ones_conv, receptive_field


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
