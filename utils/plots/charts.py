"""Bar and scatter charts of measured figures: per layer, per model, per pipeline.

- `plot_grouped_bars`: Grouped bars: one group per name in `groups`, one bar per series in each group.
- `plot_gaps`: Bars of the generalisation gap per run, next to train and validation accuracy.
- `plot_throughput`: Horizontal bars of rows' "images_per_second", labelled by "variant".
- `plottable`: The rows that have both a positive MAC count and an accuracy.
- `plot_accuracy_vs_macs`: Test accuracy against MACs per image (log x), one marker per architecture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:  # annotations only
    from utils.training import Run


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


def plot_gaps(runs: Sequence[Run], baseline: Run | None = None, *, title: str = "") -> None:
    """Bars of the generalisation gap per run, next to train and validation accuracy.

    The baseline's gap is drawn as a dashed line across the gap panel.
    """
    names = [r.name for r in runs]
    pos = np.arange(len(runs))
    fig, (ax_gap, ax_acc) = plt.subplots(1, 2, figsize=(12, 3.8))
    colours = ["tab:gray" if r is baseline else "tab:blue" for r in runs]
    ax_gap.bar(pos, [r.gap for r in runs], color=colours)
    if baseline is not None:
        ax_gap.axhline(baseline.gap, ls="--", color="tab:red", lw=1, label="baseline gap")
        ax_gap.legend(fontsize=8)
    ax_gap.set_ylabel("train acc - val acc")
    ax_gap.set_title("generalisation gap (lower is better)")
    width = 0.4
    ax_acc.bar(pos - width / 2, [r.train_acc for r in runs], width, label="train")
    ax_acc.bar(pos + width / 2, [r.val_acc for r in runs], width, label="validation")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.05)
    ax_acc.set_title("accuracy, measured in inference mode")
    ax_acc.legend(fontsize=8)
    for ax in (ax_gap, ax_acc):
        ax.set_xticks(pos)
        ax.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()


def plot_throughput(rows: Sequence[dict], *, title: str = "training throughput") -> None:
    """Horizontal bars of rows' "images_per_second", labelled by "variant"."""
    names = [r["variant"] for r in rows]
    values = [r["images_per_second"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.2))
    ax.barh(names[::-1], values[::-1], color="tab:blue")
    for i, v in enumerate(values[::-1]):
        ax.text(v, i, f" {v:,.0f}", va="center", fontsize=9)
    ax.set_xlabel("images / s (this machine)")
    ax.set_title(title)
    ax.set_xlim(0, max(values) * 1.2)
    fig.tight_layout()


def plottable(rows: list[dict]) -> list[dict]:
    """The rows that have both a positive MAC count and an accuracy."""
    return [r for r in rows if r["macs"] and r["macs"] > 0 and r["accuracy"] is not None]


def plot_accuracy_vs_macs(rows: list[dict], *, title: str = "") -> None:
    """Test accuracy against MACs per image (log x), one marker per architecture.

    Filled circles: CIFAR-10-style data; squares: MNIST (a different, easier task). The label
    of each point names the architecture and the profile it ran in. Rows without MACs or an
    accuracy are left out; with nothing to plot, a message is printed instead of an empty plot.
    """
    points = plottable(rows)
    if not points:
        print("No record with both MACs and an accuracy: nothing to plot yet.")
        return
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for dataset, marker in (("CIFAR-10", "o"), ("MNIST", "s")):
        pts = [r for r in points if r["dataset"] == dataset]
        if pts:
            ax.scatter(
                [r["macs"] for r in pts],
                [r["accuracy"] for r in pts],
                marker=marker,
                s=60,
                label=dataset,
            )
    others = [r for r in points if r["dataset"] not in ("CIFAR-10", "MNIST")]
    if others:
        ax.scatter([r["macs"] for r in others], [r["accuracy"] for r in others], marker="^")
    for r in points:
        ax.annotate(
            f"{r['label']} ({r['profile'] or '?'})",
            (r["macs"], r["accuracy"]),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=9,
        )
    ax.set_xscale("log")
    ax.set(
        xlabel="MACs per image (log scale)",
        ylabel="test accuracy",
        title=title or "The course's architectures: accuracy against cost",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    fig.tight_layout()
