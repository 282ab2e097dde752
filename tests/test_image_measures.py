"""utils.measure.images.detail against hand-computed values and the blur/sharpen ordering."""

import numpy as np
from scipy import ndimage

from utils.measure.images import detail


def test_detail_by_hand():
    img = np.array([[0, 2, 2], [1, 1, 4]])  # differences 2, 0, 0, 3
    assert detail(img) == 5 / 4


def test_detail_of_a_flat_image_is_zero_and_uint8_does_not_wrap():
    assert detail(np.full((4, 5, 3), 7, np.uint8)) == 0.0
    assert detail(np.array([[200, 10]], np.uint8)) == 190.0


def test_blur_lowers_and_sharpening_raises_detail():
    img = np.random.default_rng(0).random((32, 32))
    blurred = ndimage.uniform_filter(img, 5)
    sharpened = img + (img - blurred)
    assert detail(blurred) < detail(img) < detail(sharpened)
