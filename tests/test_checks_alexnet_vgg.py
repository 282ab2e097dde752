"""The checks of units 07 (AlexNet) and 08 (VGG) accept right answers and reject wrong ones."""

from __future__ import annotations

import keras
import pytest

from utils.checks import CheckFailed, alexnet, vgg
from utils.measure.macs import layer_macs
from utils.networks.lrn import LocalResponseNormalization

L = keras.layers


# --- unit 07: formulas ---------------------------------------------------------------------


def conv_params(kh, kw, c_in, c_out, groups=1):
    return kh * kw * (c_in // groups) * c_out + c_out


def dense_params(n_in, n_out):
    return (n_in + 1) * n_out


def conv_macs(kh, kw, c_in, c_out, out_h, out_w, groups=1):
    return kh * kw * (c_in // groups) * c_out * out_h * out_w


def dense_macs(n_in, n_out):
    return n_in * n_out


def test_formula_checks_accept_correct_formulas(capsys):
    alexnet.check_param_formulas(conv_params, dense_params)
    alexnet.check_mac_formulas(conv_macs, dense_macs, seed=3)
    assert capsys.readouterr().out.count("PASSED") == 2


@pytest.mark.parametrize(
    "conv, dense, match",
    [
        (lambda kh, kw, ci, co, groups=1: kh * kw * ci * co + co, dense_params, "groups"),
        (lambda kh, kw, ci, co, groups=1: kh * kw * (ci // groups) * co, dense_params, "bias"),
        (conv_params, lambda n_in, n_out: n_in * n_out, "dense_params"),
    ],
    ids=["ignores-groups", "no-bias", "dense-no-bias"],
)
def test_param_check_rejects_wrong_formulas(conv, dense, match):
    with pytest.raises(CheckFailed, match=match):
        alexnet.check_param_formulas(conv, dense)


def test_mac_check_rejects_wrong_formulas():
    def no_groups(kh, kw, c_in, c_out, out_h, out_w, groups=1):
        return kh * kw * c_in * c_out * out_h * out_w

    def with_bias(kh, kw, c_in, c_out, out_h, out_w, groups=1):
        return conv_macs(kh, kw, c_in, c_out, out_h, out_w, groups) + c_out * out_h * out_w

    with pytest.raises(CheckFailed, match="groups"):
        alexnet.check_mac_formulas(no_groups, dense_macs)
    with pytest.raises(CheckFailed, match="conv_macs"):
        alexnet.check_mac_formulas(with_bias, dense_macs)


def test_unwritten_formula_says_where_to_write():
    def conv_params(kh, kw, c_in, c_out, groups=1):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        alexnet.check_param_formulas(conv_params, dense_params)


# --- unit 07: the network and counting -----------------------------------------------------


def make_alexnet(groups=2, dropout=0.5, sequential=False, lrn_alpha=1e-4):
    layers = [
        L.Conv2D(96, 11, strides=4, activation="relu"),
        L.MaxPooling2D(3, strides=2),
        LocalResponseNormalization(alpha=lrn_alpha),
        L.Conv2D(256, 5, padding="same", groups=groups, activation="relu"),
        L.MaxPooling2D(3, strides=2),
        LocalResponseNormalization(alpha=lrn_alpha),
        L.Conv2D(384, 3, padding="same", activation="relu"),
        L.Conv2D(384, 3, padding="same", groups=groups, activation="relu"),
        L.Conv2D(256, 3, padding="same", groups=groups, activation="relu"),
        L.MaxPooling2D(3, strides=2),
        L.Flatten(),
        L.Dense(4096, activation="relu"),
        L.Dropout(dropout),
        L.Dense(4096, activation="relu"),
        L.Dropout(dropout),
        L.Dense(1000, activation="softmax"),
    ]
    if sequential:
        return keras.Sequential([keras.Input((227, 227, 3)), *layers])
    x = inp = keras.Input((227, 227, 3))
    for layer in layers:
        x = layer(x)
    return keras.Model(inp, x)


def build_alexnet():
    return make_alexnet()


def test_alexnet_check_accepts_the_paper_network(capsys):
    model = alexnet.check_alexnet(build_alexnet)
    assert model.count_params() == 60_965_224
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"groups": 1}, "layer 4"),
        ({"dropout": 0.2}, "rate"),
        ({"sequential": True}, "functional"),
        ({"lrn_alpha": 1e-3}, "LRN"),
    ],
    ids=["single-stream", "dropout", "sequential", "lrn-constants"],
)
def test_alexnet_check_rejects_wrong_networks(kwargs, match):
    def build_alexnet():
        return make_alexnet(**kwargs)

    with pytest.raises(CheckFailed, match=match):
        alexnet.check_alexnet(build_alexnet)


def count_model(model):
    params = macs = 0
    for layer in model.layers:
        if isinstance(layer, L.Conv2D):
            kh, kw = layer.kernel_size
            c_in = layer.input.shape[-1]
            _, oh, ow, c_out = layer.output.shape
            params += conv_params(kh, kw, c_in, c_out, layer.groups)
            macs += conv_macs(kh, kw, c_in, c_out, oh, ow, layer.groups)
        elif isinstance(layer, L.Dense):
            params += dense_params(layer.input.shape[-1], layer.units)
            macs += dense_macs(layer.input.shape[-1], layer.units)
    return params, macs


def test_count_check_accepts_a_correct_counter_and_rejects_wrong_ones(capsys):
    alexnet.check_count_model(count_model, seed=1)
    assert "PASSED" in capsys.readouterr().out

    def conv_only(model):
        p, m = count_model(model)
        dense = sum(layer_macs(x) for x in model.layers if isinstance(x, L.Dense))
        return p, m - dense

    def ignores_groups(model):
        p, m = count_model(model)
        extra = sum(layer_macs(x) * (x.groups - 1) for x in model.layers if isinstance(x, L.Conv2D))
        return p, m + extra

    with pytest.raises(CheckFailed, match="MACs"):
        alexnet.check_count_model(conv_only)
    with pytest.raises(CheckFailed, match="MACs"):
        alexnet.check_count_model(ignores_groups, seed=2)
    with pytest.raises(CheckFailed, match="pair"):
        alexnet.check_count_model(lambda model: model.count_params())


# --- unit 08: VGG --------------------------------------------------------------------------


def vgg_bn_block(x, filters, kernel_sizes):
    for k in kernel_sizes:
        x = L.Conv2D(filters, k, padding="same", use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization()(x))
    return L.MaxPooling2D(2)(x)


def build_vgg(cfg, input_shape=(224, 224, 3), num_classes=1000, head=None):
    x = inp = keras.Input(input_shape)
    for v in cfg:
        if v == "M":
            x = L.MaxPooling2D(2)(x)
        else:
            x = L.Conv2D(v, 3, padding="same", use_bias=False)(x)
            x = L.ReLU()(L.BatchNormalization()(x))
    x = (head or L.GlobalAveragePooling2D())(x)
    return keras.Model(inp, L.Dense(num_classes, activation="softmax")(x))


def vgg_params(config, image_size=224, num_classes=1000):
    total, c_in = 0, 3
    for filters, n_convs in config:
        for _ in range(n_convs):
            total += (9 * c_in + 1) * filters
            c_in = filters
    flat = (image_size // 32) ** 2 * c_in
    return total + (flat + 1) * 4096 + 4097 * 4096 + 4097 * num_classes


def test_vgg_checks_accept_correct_answers(capsys):
    vgg.check_vgg_bn_block(vgg_bn_block)
    vgg.check_vgg_bn_block(vgg_bn_block, seed=5, n_cases=10)
    vgg.check_build_vgg(build_vgg)
    vgg.check_vgg_params(vgg_params, seed=4)
    assert capsys.readouterr().out.count("PASSED") == 4


def test_the_flat_configurations_are_the_paired_ones():
    for (key, cfg), pairs in zip(vgg.CFGS.items(), vgg.VGG_CONFIGS.values(), strict=True):
        assert cfg == [v for f, n in pairs for v in [f] * n + ["M"]], key


@pytest.mark.parametrize("key, builder", [("D", "VGG16"), ("E", "VGG19")])
def test_the_reference_network_is_keras_applications_with_bn_and_a_gap_head(key, builder):
    """The check's own network = keras.applications' convolutional base (include_top=False),
    each convolution's bias replaced by a batch normalisation (4 numbers per channel), then
    global average pooling and one 1000-way dense layer."""
    from utils.measure.tables import without_weights

    with without_weights():
        ours = vgg._reference_vgg(vgg.CFGS[key], (224, 224, 3), 1000)
        base = getattr(keras.applications, builder)(
            weights=None, include_top=False, input_shape=(224, 224, 3)
        )
    convs = [ly for ly in base.layers if isinstance(ly, L.Conv2D)]
    ours_convs = [ly for ly in ours.layers if isinstance(ly, L.Conv2D)]
    assert [c.filters for c in ours_convs] == [c.filters for c in convs]
    assert [tuple(c.output.shape) for c in ours_convs] == [tuple(c.output.shape) for c in convs]
    biases = sum(c.filters for c in convs)
    assert ours.count_params() == base.count_params() - biases + 4 * biases + 513 * 1000


@pytest.mark.parametrize(
    "block, match",
    [
        (lambda x, f, ks: L.MaxPooling2D(2)(L.Conv2D(f, 3, padding="same")(x)), "layer"),
        (
            lambda x, f, ks: vgg_bn_block(L.Conv2D(f, 3, padding="same", use_bias=False)(x), f, ks),
            "BatchNormalization",
        ),
        (
            lambda x, f, ks: L.MaxPooling2D(2)(
                keras.Sequential(
                    [L.Conv2D(f, k, use_bias=False) for k in ks] + [L.BatchNormalization()]
                )(x)
            ),
            "expected",
        ),
        (lambda x, f, ks: vgg_bn_block(x, f, ks[::-1]), "kernel_sizes"),
        (
            lambda x, f, ks: L.AveragePooling2D(2)(L.ReLU()(L.BatchNormalization()(x))),
            "layer",
        ),
    ],
    ids=["no-bn-no-loop", "extra-conv", "nested-sequential", "kernels-reversed", "avg-pool"],
)
def test_vgg_bn_block_check_rejects_wrong_blocks(block, match):
    with pytest.raises(CheckFailed, match=match):
        vgg.check_vgg_bn_block(block)


def test_the_block_check_compares_outputs_not_only_layers():
    """A block whose layers match but whose ReLU is applied to the convolution's output (the
    normalisation left dangling) passes the layer table and fails on the outputs."""

    def dangling_bn(x, filters, kernel_sizes):
        for k in kernel_sizes:
            y = L.Conv2D(filters, k, padding="same", use_bias=False)(x)
            bn = L.BatchNormalization()
            x = L.ReLU()(y + 0 * bn(y))
        return L.MaxPooling2D(2)(x)

    with pytest.raises(CheckFailed, match="outputs|layer"):
        vgg.check_vgg_bn_block(dangling_bn)


def test_build_vgg_check_rejects_wrong_networks():
    def with_dropout(cfg, input_shape=(224, 224, 3), num_classes=1000):
        model = build_vgg(cfg, input_shape, num_classes)
        x = L.Dropout(0.5)(model.layers[-2].output)
        return keras.Model(model.inputs, model.layers[-1](x))

    def ignores_classes(cfg, input_shape=(224, 224, 3), num_classes=1000):
        return build_vgg(cfg, input_shape, 1000)

    def fixed_input(cfg, input_shape=(224, 224, 3), num_classes=1000):
        return build_vgg(cfg, (224, 224, 3), num_classes)

    def flatten_head(cfg, input_shape=(224, 224, 3), num_classes=1000):
        return build_vgg(cfg, input_shape, num_classes, head=L.Flatten())

    def sequential(cfg, input_shape=(224, 224, 3), num_classes=1000):
        return keras.Sequential(build_vgg(cfg, input_shape, num_classes).layers)

    for wrong, match in [
        (with_dropout, "layer"),
        (ignores_classes, "one unit per class"),
        (fixed_input, "inputs of shape"),
        (flatten_head, "global average pooling"),
        (sequential, "functional"),
    ]:
        with pytest.raises(CheckFailed, match=match):
            vgg.check_build_vgg(wrong)


def test_vgg_params_check_rejects_wrong_formulas():
    def no_bias(config, image_size=224, num_classes=1000):
        return vgg_params(config, image_size, num_classes) - sum(f * n for f, n in config)

    def fixed_size(config, image_size=224, num_classes=1000):
        return vgg_params(config, 224, num_classes)

    for wrong in (no_bias, fixed_size):
        with pytest.raises(CheckFailed, match="vgg_params"):
            vgg.check_vgg_params(wrong)


def test_unwritten_block_says_where_to_write():
    def vgg_bn_block(x, filters, kernel_sizes):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        vgg.check_vgg_bn_block(vgg_bn_block)
