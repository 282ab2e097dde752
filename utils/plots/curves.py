"""Curves: training histories, measures against a parameter or per layer, functions and derivatives.

- `plot_history`: Training curves, train vs validation, one panel per metric.
- `plot_panels`: One panel per entry of `panels`, side by side: {panel title: {curve label: values}}.
- `plot_runs`: One curve per run: `histories` maps a run's name to a History (or its dict), or to a
- `plot_loss_curves`: Several curves on one plot. curves: {label: (E,) values, one per epoch}.
- `plot_fit_curves`: Train vs validation curves: one row per run, one column per metric.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import ScalarFormatter

if TYPE_CHECKING:  # annotations only
    from utils.training import Run


def plot_history(history, *, metrics: Sequence[str] = ("loss", "accuracy"), title: str = ""):
    """Training curves, train vs validation, one panel per metric.

    history: a `keras.callbacks.History` or its `.history` dict ({"loss": [...], "val_loss": [...]}).
    """
    logs = getattr(history, "history", history)
    metrics = [m for m in metrics if m in logs]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.4), squeeze=False)
    for ax, m in zip(axes.flat, metrics, strict=True):
        epochs = np.arange(1, len(logs[m]) + 1)
        ax.plot(epochs, logs[m], "o-", label="train")
        if f"val_{m}" in logs:
            ax.plot(epochs, logs[f"val_{m}"], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(m)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()


def plot_panels(
    panels: Mapping[str, Mapping[str, Sequence[float] | np.ndarray]],
    *,
    x: Sequence[float] | np.ndarray | None = None,
    first: int | Sequence[int] = 1,
    xlabel: str | Sequence[str] = "",
    ylabel: str | Sequence[str] = "",
    log: bool = False,
    sharey: bool = False,
    dashed: Collection[str] = (),
    markers: bool = False,
    marker_size: float = 4,
    title: str = "",
    size: float = 3.6,
    aspect: float = 0.85,
):
    """One panel per entry of `panels`, side by side: {panel title: {curve label: values}}.

    x: (N,) values on the horizontal axis, shared by every curve (each curve then has N
    values); None: a curve of L values is drawn at first, first + 1, ..., first + L - 1
    (layers counted from 1, or blocks from 0), with `first` one int for all panels or one
    per panel. xlabel: one label for all panels, or one per panel. ylabel: one label, on
    the first panel, or one per panel. log: a logarithmic vertical axis (values must be
    positive), so that a quantity shrinking by a constant factor per layer is a straight
    line; sharey: the panels share the vertical axis, for comparison. dashed: curve labels
    drawn dashed (e.g. a closed form laid over a computed curve). markers: draw a marker of
    `marker_size` points at each value (for a few measured points rather than a function).
    Each panel is `size` wide and `size * aspect` high (inches).
    """
    n = len(panels)
    xlabels = [xlabel] * n if isinstance(xlabel, str) else list(xlabel)
    ylabels = [ylabel] + [""] * (n - 1) if isinstance(ylabel, str) else list(ylabel)
    firsts = [first] * n if isinstance(first, int) else list(first)
    fig, axes = plt.subplots(
        1, n, figsize=(size * n + 0.6, size * aspect), squeeze=False, sharey=sharey
    )
    for ax, xl, yl, start, (panel, curves) in zip(
        axes.flat, xlabels, ylabels, firsts, panels.items(), strict=True
    ):
        for label, values in curves.items():
            values = np.asarray(values, dtype=float)
            xs = np.arange(start, start + len(values)) if x is None else np.asarray(x)
            style = "--" if label in dashed else "-"
            marker = "o" if markers else None
            ax.plot(xs, values, style, marker=marker, ms=marker_size, label=label)
        if log:
            ax.set_yscale("log")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()


def plot_runs(histories: dict, *, metric: str = "val_accuracy", title: str = ""):
    """One curve per run: `histories` maps a run's name to a History (or its dict), or to a
    list of them trained one after the other (feature extraction, then fine-tuning)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name, runs in histories.items():
        runs = runs if isinstance(runs, list | tuple) else [runs]
        values = [v for h in runs for v in getattr(h, "history", h)[metric]]
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=name)
        if len(runs) > 1:
            ax.axvline(len(getattr(runs[0], "history", runs[0])[metric]) + 0.5, color="0.7", ls=":")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    plt.show()


def plot_loss_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "epoch",
    ylabel: str = "training loss",
    log: bool = True,
    title: str = "",
) -> None:
    """Several curves on one plot. curves: {label: (E,) values, one per epoch}."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, "o-", ms=3, label=label)
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()


def plot_fit_curves(runs: Sequence[Run], *, metrics: Sequence[str] = ("accuracy", "loss")) -> None:
    """Train vs validation curves: one row per run, one column per metric.

    Each run must have been trained with curves=True (its history holds "val_<metric>").
    The epoch with the best validation accuracy is marked with a dotted vertical line.
    """
    fig, axes = plt.subplots(
        len(runs), len(metrics), figsize=(5 * len(metrics), 3.0 * len(runs)), squeeze=False
    )
    for row, run in zip(axes, runs, strict=True):
        logs = run.history
        epochs = np.arange(1, len(logs["loss"]) + 1)
        best = int(np.argmax(logs["val_accuracy"])) + 1 if "val_accuracy" in logs else None
        for ax, m in zip(row, metrics, strict=True):
            ax.plot(epochs, logs[m], "o-", ms=3, label="train")
            ax.plot(epochs, logs[f"val_{m}"], "s--", ms=3, label="validation")
            if best is not None:
                ax.axvline(best, ls=":", color="gray", lw=1)
            ax.set_title(f"{run.name}: {m}", fontsize=10)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
