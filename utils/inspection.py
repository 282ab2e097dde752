"""Helpers for unit 16 (seeing inside a CNN): a small inspectable CNN, filter and heatmap plots,
receptive fields, and the measures the unit uses to test what it sees.

- `small_cnn(...)`  three conv blocks (conv -> batch norm -> ReLU), global average pooling and a
  logits layer, with fixed layer names (conv1, relu1, pool1, ..., relu3, gap, logits)
- `show_filters(kernels, titles)`  first-layer kernels (kh, kw, 3, n) as small RGB tiles
- `neighbour_correlation(kernel)`  correlation of horizontally / vertically adjacent weights
- `receptive_field(model, layer_name)`  the formula's receptive field, from the layers' configs
- `measured_receptive_field(model, layer_name)`  the same, measured with input gradients
- `upsample(maps, size)`  (N, h, w) heatmaps -> (N, size, size), bilinear
- `heat_inside(heat, masks)`  fraction of each heatmap's mass that lies inside its mask
- `show_heatmaps(images, rows, ...)`  images with heatmaps over them, one row per heatmap set

Everything here is plumbing for the notebooks; none of it computes Grad-CAM.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def small_cnn(
    input_shape=(32, 32, 3), classes: int = 10, widths=(16, 32, 48), first_kernel: int = 5
):
    """A Sequential CNN whose layers have stable names: conv1/bn1/relu1/pool1, conv2/.../pool2,
    conv3/bn3/relu3, gap, logits. Output: logits (N, classes), no softmax.

    The first kernel is 5x5 so that its learned filters are big enough to look at; relu3 keeps
    a (H/4, W/4) grid, the layer Grad-CAM draws on. Batch norm uses momentum 0.9 so that its
    running statistics settle within the few hundred steps of a short run.
    """
    import keras

    L = keras.layers
    layers = [keras.Input(input_shape)]
    for i, width in enumerate(widths, start=1):
        k = first_kernel if i == 1 else 3
        layers += [
            L.Conv2D(width, k, padding="same", use_bias=False, name=f"conv{i}"),
            L.BatchNormalization(momentum=0.9, name=f"bn{i}"),
            L.ReLU(name=f"relu{i}"),
        ]
        if i < len(widths):
            layers.append(L.MaxPooling2D(2, name=f"pool{i}"))
    layers += [L.GlobalAveragePooling2D(name="gap"), L.Dense(classes, name="logits")]
    return keras.Sequential(layers, name="small_cnn")


def show_filters(kernels, titles, *, n: int = 16, size: float = 0.9):
    """One row per kernel tensor (kh, kw, 3, channels): its first `n` filters as RGB tiles.

    Each filter is scaled on its own to [0, 1] around 0.5 (grey = 0), so the sign pattern
    shows: a bright/dark pair is an edge, a coloured blob a colour detector.
    """
    fig, axes = plt.subplots(
        len(kernels), n, figsize=(size * n, size * len(kernels) + 0.4), squeeze=False
    )
    for r, (kernel, title) in enumerate(zip(kernels, titles, strict=True)):
        kernel = np.asarray(kernel)
        for c in range(n):
            w = kernel[..., c]
            lim = float(np.abs(w).max()) or 1.0
            axes[r, c].imshow(np.clip(0.5 + 0.5 * w / lim, 0, 1), interpolation="nearest")
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
    fig.tight_layout()


def neighbour_correlation(kernel) -> float:
    """Pearson correlation between spatially adjacent weights of a (kh, kw, cin, cout) kernel.

    Pairs: every weight with its right neighbour and with its lower neighbour (same input and
    output channel). Independent random initial weights give about 0; smooth, edge- or
    blob-like filters give a clearly positive value.
    """
    w = np.asarray(kernel, dtype=np.float64)
    a = np.concatenate([w[:, :-1].ravel(), w[:-1, :].ravel()])
    b = np.concatenate([w[:, 1:].ravel(), w[1:, :].ravel()])
    return float(np.corrcoef(a, b)[0, 1])


def receptive_field(model, layer_name: str) -> int:
    """Receptive field (pixels, one side) of one unit of `layer_name`, from layer configs.

    r_out = r_in + (k - 1) * j_in and j_out = j_in * stride, where j is the distance in input
    pixels between neighbouring units; layers without a kernel leave both unchanged.
    """
    r, j = 1, 1
    for layer in model.layers:
        cfg = layer.get_config()
        k = cfg.get("kernel_size", cfg.get("pool_size"))
        if k is not None:
            s = cfg.get("strides") or k
            k, s = int(np.ravel(k)[0]), int(np.ravel(s)[0])
            r, j = r + (k - 1) * j, j * s
        if layer.name == layer_name:
            return r
    raise KeyError(f"no layer named {layer_name!r}")


def measured_receptive_field(model, layer_name: str, n: int = 8, seed: int = 0) -> int:
    """Width (pixels) of the input region that can change the centre unit of `layer_name`.

    The gradient of that unit (summed over channels) with respect to the input is non-zero only
    inside its receptive field. ReLU and max pooling block the gradient at some pixels for a
    given input, so the union over `n` random inputs is taken.
    """
    import keras
    import tensorflow as tf

    probe = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    shape = tuple(int(d) for d in model.input_shape[1:])
    x = tf.constant(np.random.default_rng(seed).random((n, *shape)), dtype="float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = probe(x, training=False)
        h, w = out.shape[1] // 2, out.shape[2] // 2
        centre = tf.reduce_sum(out[:, h, w, :])
    grad = np.abs(tape.gradient(centre, x).numpy()).sum(axis=(0, 3))
    rows, cols = np.nonzero(grad.sum(axis=1))[0], np.nonzero(grad.sum(axis=0))[0]
    return int(max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1))


def upsample(maps, size: int) -> np.ndarray:
    """Heatmaps (N, h, w) -> (N, size, size), bilinear (to lay a coarse map over its image)."""
    import tensorflow as tf

    maps = np.asarray(maps, dtype="float32")
    return tf.image.resize(maps[..., None], (size, size)).numpy()[..., 0]


def heat_inside(heat, masks) -> np.ndarray:
    """Per image: sum(heat * mask) / sum(heat). heat (N, H, W) >= 0, masks (N, H, W) 0/1.

    A heatmap spread evenly over the image scores the mask's area fraction; one that sits on
    the object scores more. An all-zero heatmap scores 0.
    """
    heat = np.asarray(heat, dtype=np.float64)
    masks = np.asarray(masks, dtype=np.float64)
    total = heat.sum(axis=(1, 2))
    return np.where(total > 0, (heat * masks).sum(axis=(1, 2)) / np.maximum(total, 1e-12), 0.0)


def show_heatmaps(images, rows, *, titles=None, size: float = 1.7, alpha: float = 0.5):
    """First row: the images (N, H, W, 3) in [0, 1] or uint8. Then one row per entry of `rows`,
    a dict {row label: heatmaps (N, H, W) in [0, 1]}, drawn in the `jet` colour map over the
    image. titles: optional N column titles.
    """
    images = [
        np.asarray(i, dtype=np.float64) / (255.0 if np.asarray(i).max() > 1 else 1.0)
        for i in images
    ]
    n = len(images)
    fig, axes = plt.subplots(
        1 + len(rows), n, figsize=(size * n, size * (1 + len(rows)) + 0.3), squeeze=False
    )
    for c, img in enumerate(images):
        axes[0, c].imshow(img)
        if titles is not None:
            axes[0, c].set_title(str(titles[c]), fontsize=8)
    for r, (label, heat) in enumerate(rows.items(), start=1):
        for c, img in enumerate(images):
            axes[r, c].imshow(img)
            axes[r, c].imshow(np.asarray(heat[c]), cmap="jet", alpha=alpha, vmin=0, vmax=1)
        axes[r, 0].set_ylabel(label, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
