"""Published figures that notebooks quote next to what they compute (never instead of it).

- `KERAS_TOP1`: ImageNet top-1 accuracy (single 224-300 px centre crop, validation set) of
  Keras's pretrained weights, from the table at https://keras.io/api/applications/ .
- `KERAS_NATIVE_RESOLUTION`: the input size each of those models was trained at.
- `PAPERS`: year, paper and the idea each architecture of the course added.
- `KERAS_EFFICIENTNET`: (width, depth, resolution) coefficients of Keras's EfficientNet-B0..B3.
- `MACS_G`: multiply-accumulates per image (billions) as the papers report them (often
  called "FLOPs" there); unit 11 and the comparison check `utils.measure.macs.count_macs` against them.
- `EFFICIENTNET_TABLE2`: ImageNet top-1, parameters and FLOPs of EfficientNet-B0 and ResNet-50
  as the EfficientNet paper's Table 2 lists them; unit 11 sets them beside its own counts.
"""

from __future__ import annotations

KERAS_TOP1 = {
    "VGG16": 0.713,
    "ResNet50": 0.749,
    "InceptionV3": 0.779,
    "MobileNet": 0.704,
    "DenseNet121": 0.750,
    "EfficientNetB0": 0.771,
    "EfficientNetB1": 0.791,
    "EfficientNetB2": 0.801,
    "EfficientNetB3": 0.816,
}


KERAS_NATIVE_RESOLUTION = {
    "VGG16": 224,
    "ResNet50": 224,
    "InceptionV3": 299,
    "MobileNet": 224,
    "DenseNet121": 224,
    "EfficientNetB0": 224,
    "EfficientNetB1": 240,
    "EfficientNetB2": 260,
    "EfficientNetB3": 300,
}


PAPERS = {
    "LeNet": (
        1998,
        "LeCun et al., Gradient-based learning applied to document recognition",
        "convolution + pooling stacks trained end to end by backpropagation",
    ),
    "AlexNet": (
        2012,
        "Krizhevsky, Sutskever, Hinton, ImageNet classification with deep CNNs",
        "a deep CNN on GPUs with ReLU and dropout wins ImageNet",
    ),
    "VGG": (
        2014,
        "Simonyan, Zisserman, Very deep convolutional networks",
        "depth from stacks of small 3x3 convolutions",
    ),
    "GoogLeNet": (
        2014,
        "Szegedy et al., Going deeper with convolutions",
        "inception modules: parallel branches, 1x1 reductions",
    ),
    "ResNet": (
        2015,
        "He et al., Deep residual learning for image recognition",
        "identity shortcuts H(x) = F(x) + x make 100+ layers trainable",
    ),
    "DenseNet": (
        2017,
        "Huang, Liu, van der Maaten, Weinberger, Densely connected CNNs",
        "every layer reads the concatenation of all earlier feature maps",
    ),
    "EfficientNet": (
        2019,
        "Tan, Le, EfficientNet: rethinking model scaling for CNNs",
        "scale depth, width and resolution together (compound scaling)",
    ),
}


MACS_G = {
    "VGG16": 15.5,  # the figure usually quoted for VGG-16 at 224x224 (see utils.measure.macs)
    "ResNet50": 3.8,  # He et al., Table 1: 3.8 x 10^9 FLOPs (multiply-adds)
    "DenseNet121": 2.9,  # Huang et al., Figure 3: about 2.9 x 10^9 FLOPs (multiply-adds)
    "MobileNet": 0.569,  # Howard et al., Table 8: 569 million mult-adds (1.0 MobileNet-224)
    "EfficientNetB0": 0.39,  # Tan & Le, Table 2: 0.39 B FLOPs
    "EfficientNetB1": 0.70,
    "EfficientNetB2": 1.0,
    "EfficientNetB3": 1.8,
}


#: (width coefficient, depth coefficient, resolution) that keras.applications.EfficientNetB0..B3
#: pass to their common builder (keras/src/applications/efficientnet.py). Unit 11 reads the
#: widths, resolutions and block counts back from built models.
KERAS_EFFICIENTNET = {
    "B0": (1.0, 1.0, 224),
    "B1": (1.0, 1.1, 240),
    "B2": (1.1, 1.2, 260),
    "B3": (1.2, 1.4, 300),
}


#: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks", ICML
#: 2019 (arXiv:1905.11946v5), Table 2 "EfficientNet Performance Results on ImageNet", its first
#: group of rows: Top-1 Acc., #Params in millions and #FLOPs in billions, which are
#: multiply-adds (B0's 0.39 against the 0.386 G MACs
#: that `count_macs` gives Keras's EfficientNetB0). The table's ResNet-50 row cites He et al.,
#: 2016; its 4.1 B is above the 3.8 G of He et al.'s own Table 1 (`MACS_G`). arXiv v1 (May 2019)
#: listed EfficientNet-B0 at 76.3% top-1; the ResNet-50 row is the same in both versions.
EFFICIENTNET_TABLE2 = {
    "EfficientNetB0": {"top1": 0.771, "params_m": 5.3, "flops_g": 0.39},
    "ResNet50": {"top1": 0.760, "params_m": 26.0, "flops_g": 4.1},
}
