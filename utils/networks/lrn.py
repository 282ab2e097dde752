"""AlexNet's local response normalisation (LRN) as a Keras layer (Keras has none).

Krizhevsky, Sutskever and Hinton (2012), section 3.3: each activation is divided by the
energy of its neighbours across channels at the same pixel,

    b[..., i] = a[..., i] / (k + alpha * sum_{j = i - n/2}^{i + n/2} a[..., j] ** 2) ** beta

with the paper's n = 5 (`depth_radius` = 2), k = 2, alpha = 1e-4, beta = 0.75. Unit 07 builds
this layer step by step; the lab of unit 07 uses it from here.
"""

from __future__ import annotations

import keras


class LocalResponseNormalization(keras.layers.Layer):
    """LRN across channels. Input and output: (N, H, W, C) float; no weights.

    depth_radius: n/2, the number of neighbouring channels on each side (AlexNet: 2).
    bias, alpha, beta: k, alpha and beta of the formula (AlexNet: 2, 1e-4, 0.75).
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, x):
        import tensorflow as tf

        return tf.nn.local_response_normalization(
            x, depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha, beta=self.beta
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "depth_radius": self.depth_radius,
            "bias": self.bias,
            "alpha": self.alpha,
            "beta": self.beta,
        }
