"""Line plots: curves side by side in panels (a measure against a parameter, a function and
its derivative). Like `utils.plots`, each function draws one new figure and returns None."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_panels(
    x: Sequence[float] | np.ndarray,
    panels: Mapping[str, Mapping[str, Sequence[float] | np.ndarray]],
    *,
    xlabel: str = "",
    ylabels: Sequence[str] | None = None,
    dashed: Collection[str] = (),
    markers: bool = False,
    title: str = "",
    size: float = 3.6,
):
    """One panel per entry of `panels`, side by side, sharing the x values.

    x: (N,) values on the horizontal axis.
    panels: {panel title: {curve label: (N,) values}}.
    ylabels: one vertical-axis label per panel (optional).
    dashed: curve labels drawn dashed (e.g. a closed form laid over a computed curve).
    markers: draw a marker at each point (for a few measured points rather than a function).
    """
    x = np.asarray(x)
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(size * n + 0.6, size * 0.85), squeeze=False)
    for k, (ax, (panel, curves)) in enumerate(zip(axes.flat, panels.items(), strict=True)):
        for label, y in curves.items():
            style = "--" if label in dashed else "-"
            ax.plot(x, np.asarray(y), style, marker="o" if markers else None, ms=4, label=label)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(xlabel)
        if ylabels is not None:
            ax.set_ylabel(ylabels[k])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
