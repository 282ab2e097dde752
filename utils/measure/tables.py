"""Reports on Keras architectures, for the units that rebuild published networks (07 onwards).

- `without_weights()`  build big models (VGG16: 138M parameters) to count them, without
                       spending seconds drawing random initial weights
- `layer_report`       each layer's output shape, parameters and MACs, and the totals
- `compare_layers`     two models side by side, layer by layer (shape and parameters)
- `human`              1_234_567 -> "1.23 M"
"""

from __future__ import annotations

import contextlib

import keras

from utils.measure.macs import macs_table


@contextlib.contextmanager
def without_weights():
    """Build Keras models in this block with every layer built but no initial weights drawn.

    Shapes, `count_params()` and MACs (utils.measure.macs) are all known, because they depend only on
    the weights' shapes; the random numbers are not drawn. Use it for ImageNet-size models that
    a notebook only counts and compares. (Running such a model draws its weights first, slowly.)
    Uses `keras.StatelessScope(initialize_variables=False)`; on a Keras without that option the
    models are built normally.
    """
    try:
        scope = keras.StatelessScope(initialize_variables=False)
    except TypeError:  # an older Keras: build normally, just slower
        yield
        return
    with scope:
        yield
    # Forget the deferred initialisations, so that a later `StatelessScope` (Keras opens one
    # whenever it infers shapes) does not draw these weights after all.
    from keras.src.backend.common import global_state

    global_state.set_global_attribute("uninitialized_variables", [])


def human(n: float, digits: int = 2) -> str:
    """A count in thousands (K), millions (M) or billions (G): 138_357_544 -> '138.36 M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.{digits}f} {unit}"
    return str(int(n))


def layer_report(model, *, skip=("InputLayer",)) -> tuple[int, int]:
    """Print one line per layer: name, class, output shape, parameters, MACs (batch of 1).

    Layers whose class is in `skip` are left out of the table (they have no parameters or
    MACs). Returns (total parameters, total MACs) of the whole model.
    """
    rows = [r for r in macs_table(model) if r[1] not in skip]
    print(f"{'layer':14s} {'class':28s} {'output shape':>16s} {'parameters':>12s} {'MACs':>15s}")
    for name, cls, shape, params, macs in rows:
        print(f"{name[:14]:14s} {cls[:28]:28s} {str(shape):>16s} {params:>12,} {macs:>15,}")
    total_params = int(model.count_params())
    total_macs = sum(r[4] for r in macs_table(model))
    print(f"{'total':14s} {'':28s} {'':>16s} {total_params:>12,} {total_macs:>15,}")
    return total_params, total_macs


def compare_layers(model, reference, *, labels=("ours", "reference"), show: bool = True) -> int:
    """Print `model` and `reference` side by side, layer by layer; return the mismatches.

    Two layers match when their class, output shape (batch excluded) and parameter count are
    equal. Layer names may differ. Extra layers on either side count as mismatches.
    show=False prints only the mismatching layers and the final count.
    """
    if show:
        print(
            f"{labels[0]:16s} {labels[1]:16s} {'class':14s} {'output shape':>16s} {'parameters':>12s}"
        )
    bad = 0
    n = max(len(model.layers), len(reference.layers))
    for i in range(n):
        a = model.layers[i] if i < len(model.layers) else None
        b = reference.layers[i] if i < len(reference.layers) else None
        row_a = _row(a)
        row_b = _row(b)
        same = row_a == row_b and a is not None
        bad += not same
        cls, shape, params = row_a if a is not None else row_b
        if same and not show:
            continue
        print(
            f"{(a.name if a else '-')[:16]:16s} {(b.name if b else '-')[:16]:16s} "
            f"{cls[:14]:14s} {str(shape):>16s} {params:>12,}" + ("" if same else "   <- DIFFERENT")
        )
    print(f"{bad} mismatching layers out of {n}")
    return bad


def _row(layer):
    if layer is None:
        return None
    return (type(layer).__name__, tuple(layer.output.shape[1:]), int(layer.count_params()))


def model_table(model) -> list[tuple[str, tuple, int]]:
    """(layer class, output shape without batch, parameters) for each layer of a built model
    (a functional model lists its InputLayer first, a Sequential model does not)."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:])
        rows.append((type(layer).__name__, shape, int(layer.count_params())))
    return rows


def unet_param_count(
    channels: int, n_classes: int, base_filters: int, depth: int, batch_norm: bool = False
) -> int:
    """Parameters of the lab's U-Net: two 3x3 convs (bias) per level, 2x2 stride-2 transposed
    convs, concatenation, a 1x1 softmax conv. f_i = base_filters * 2**i.

    batch_norm: each 3x3 conv has no bias and is followed by a BatchNormalization, whose four
    vectors of its filters' length (gamma, beta and the two moving statistics, which
    `count_params` counts too) replace the bias; transposed convs and the head keep theirs."""

    def conv(k, cin, cout):
        return k * k * cin * cout + cout

    def conv3(cin, cout):
        return 9 * cin * cout + 4 * cout if batch_norm else conv(3, cin, cout)

    f = [base_filters * 2**i for i in range(depth + 1)]
    total, cin = 0, channels
    for i in range(depth + 1):  # contracting path and bottleneck
        total += conv3(cin, f[i]) + conv3(f[i], f[i])
        cin = f[i]
    for i in range(depth):  # expanding path
        total += conv(2, f[i + 1], f[i]) + conv3(2 * f[i], f[i]) + conv3(f[i], f[i])
    return total + conv(1, f[0], n_classes)
