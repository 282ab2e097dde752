"""Plotting: each function draws one new figure and returns None.

Every name below can be imported from here (`from utils.plots import X`) or used as
`utils.plots.X`; it lives in the submodule named beside it, which is loaded when first used.
Submodules marked (module only) are imported as modules: `from utils.plots import <module>`.

- `images`: images on a grid: photos, kernels on photos, feature maps, filters, heatmaps
- `pixels`: images as numbers: annotated pixel grids, channels, im2col's patches
- `masks`: segmentation masks in colour and over their images
- `curves`: curves: training histories, measures against a parameter, derivatives
- `charts`: bar and scatter charts of measured figures
- `explorers`: padding and stride on grids, the sliders of units 01 and 12 (module only)
"""

from __future__ import annotations

from utils.lazy_index import module_getattr

#: Each public name -> the submodule that defines it (tests/test_package_layout.py keeps it complete).
_HOMES = {
    "plot_prediction": "images",
    "show_demos": "images",
    "show_feature_maps": "images",
    "show_filters": "images",
    "show_heatmaps": "images",
    "show_images": "images",
    "show_kernel_on_photo": "images",
    "CHANNEL_CMAPS": "pixels",
    "COLOURS": "pixels",
    "show_annotated": "pixels",
    "show_channels": "pixels",
    "show_im2col": "pixels",
    "show_matrix": "pixels",
    "show_patch": "pixels",
    "show_row": "pixels",
    "CLASS_COLOURS": "masks",
    "colorize": "masks",
    "overlay": "masks",
    "show_overlays": "masks",
    "plot_fit_curves": "curves",
    "plot_history": "curves",
    "plot_loss_curves": "curves",
    "plot_panels": "curves",
    "plot_runs": "curves",
    "plot_accuracy_vs_macs": "charts",
    "plot_gaps": "charts",
    "plot_grouped_bars": "charts",
    "plot_throughput": "charts",
    "plottable": "charts",
}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = module_getattr(__name__, _HOMES)
