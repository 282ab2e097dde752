"""Plots for the units on deep architectures (09 GoogLeNet, 10 ResNet): quantities per layer
on a log scale (gradient norms down a deep network) and grouped bars (costs of variants).

Like `utils.plots`, each function draws one new figure and returns None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_per_layer(
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    ylabel: str = "gradient norm",
    xlabel: str | Sequence[str] = "layer (1 = next to the input)",
    title: str = "",
    sharey: bool = True,
    size: float = 4.2,
    first: int | Sequence[int] = 1,
):
    """One panel per entry: {panel title: {curve label: (L,) positive values, layer 1 first}}.

    The vertical axis is logarithmic, so that a quantity shrinking by a constant factor per
    layer (a vanishing gradient) is a straight line; with `sharey` the panels share it, for
    comparison. xlabel: one label for all panels, or one per panel. first: the number of the
    first layer on the horizontal axis (1 by default, 0 for blocks counted from 0), one for
    all panels or one per panel.
    """
    n = len(panels)
    xlabels = [xlabel] * n if isinstance(xlabel, str) else list(xlabel)
    firsts = [first] * n if isinstance(first, int) else list(first)
    fig, axes = plt.subplots(
        1, n, figsize=(size * n + 0.6, size * 0.8), squeeze=False, sharey=sharey
    )
    for ax, xl, start, (panel, curves) in zip(
        axes.flat, xlabels, firsts, panels.items(), strict=True
    ):
        for label, values in curves.items():
            values = np.asarray(values, dtype=float)
            ax.plot(np.arange(start, start + len(values)), values, "o-", ms=3, label=label)
        ax.set_yscale("log")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(xl)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes.flat[0].set_ylabel(ylabel)
    if title:
        fig.suptitle(title)
    fig.tight_layout()


def plot_grouped_bars(
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "",
    title: str = "",
    log: bool = False,
    annotate: bool = False,
):
    """Grouped bars: one group per name in `groups`, one bar per series in each group.

    series: {series label: (G,) values, one per group}. annotate: write each value on its bar.
    """
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.8 * len(groups) * len(series) + 1.5), 3.6))
    for k, (label, values) in enumerate(series.items()):
        bars = ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=label)
        if annotate:
            ax.bar_label(bars, fmt="%.3g", fontsize=7)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
