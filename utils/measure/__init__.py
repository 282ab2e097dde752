"""Measuring: what the course counts and times, and the published figures it compares with.

Every name below can be imported from here (`from utils.measure import X`) or used as
`utils.measure.X`; it lives in the submodule named beside it, which is loaded when first used.
Submodules marked (module only) are imported as modules: `from utils.measure import <module>`.

- `macs`: multiply-accumulates per layer and per model
- `tables`: per-layer reports of shapes, parameters and MACs; building without weights
- `graph`: a functional model's graph: parents of a layer, weight depth
- `receptive_fields`: receptive fields, from configurations and measured with gradients
- `speed`: training throughput of a model, images per second of a pipeline
- `published`: figures from the papers and from keras.applications
- `images`: measures of images and maps (detail, PSNR, weight smoothness, heat in a mask)
- `gradients`: numeric gradients and a CS231n-style gradient-check report
- `errors`: relative errors of a result against its reference
- `records`: one record per architecture lecture, kept locally or on Google Drive
- `comparison`: the course's architectures side by side, from their records (module only)
- `bands`: a measured figure against its expected band
- `conv_speed`: unit 03's benchmark: loops vs im2col + GEMM vs Keras (module only)
- `conv_geometry`: cells a convolution reads, a transposed convolution writes (module only)
- `segmentation`: unit 13's IoU: confusion matrix, per class, pooled or per image, per-class bands (module only)
"""

from __future__ import annotations

from utils.lazy_index import module_getattr

#: Each public name -> the submodule that defines it (tests/test_package_layout.py keeps it complete).
_HOMES = {
    "count_macs": "macs",
    "layer_macs": "macs",
    "macs_table": "macs",
    "compare_layers": "tables",
    "human": "tables",
    "layer_report": "tables",
    "model_table": "tables",
    "unet_param_count": "tables",
    "without_weights": "tables",
    "parents": "graph",
    "weight_depth": "graph",
    "gradient_extent": "receptive_fields",
    "gradient_map": "receptive_fields",
    "layer_receptive_field": "receptive_fields",
    "measured_receptive_field": "receptive_fields",
    "ones_conv": "receptive_fields",
    "receptive_field": "receptive_fields",
    "unit_gradient": "receptive_fields",
    "unit_receptive_field": "receptive_fields",
    "ThroughputCallback": "speed",
    "images_per_second": "speed",
    "measure_training_throughput": "speed",
    "print_throughput": "speed",
    "EFFICIENTNET_TABLE2": "published",
    "KERAS_EFFICIENTNET": "published",
    "KERAS_NATIVE_RESOLUTION": "published",
    "KERAS_TOP1": "published",
    "MACS_G": "published",
    "PAPERS": "published",
    "detail": "images",
    "heat_inside": "images",
    "neighbour_correlation": "images",
    "psnr": "images",
    "upsample": "images",
    "GRADIENT_TOLERANCE": "gradients",
    "gradient_report": "gradients",
    "numeric_gradient": "gradients",
    "norm_relative_error": "errors",
    "rel_error": "errors",
    "scaled_error": "errors",
    "DRIVE_FOLDER": "records",
    "DRIVE_MOUNT": "records",
    "MOUNT_LINE": "records",
    "RESULTS_ENV": "records",
    "drive_folder": "records",
    "load_all": "records",
    "on_colab": "records",
    "record": "records",
    "results_dir": "records",
    "storage_note": "records",
    "DEFAULT_CAUSES": "bands",
    "OutsideBandError": "bands",
    "active_profile": "bands",
    "check_band": "bands",
}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = module_getattr(__name__, _HOMES)
