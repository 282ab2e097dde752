"""The course's architectures side by side, from what their notebooks recorded (unit 11's end).

Each architecture lecture (05, 07-11) trains a scaled model and saves one record with
`utils.measure.records.record("<NN_unit>", model=..., params=..., macs=..., images_per_second=...,
accuracy=..., profile=..., input=...)`. This module reads whatever records exist:

- `ARCHITECTURES`       the course's architectures, in order: record name, notebook, data set
- `collect()`           (rows, missing): one row dict per recorded architecture, and the
                        architectures without a record
- `print_table(rows)`   parameters, MACs, training images/s, accuracy and profile, one line each
- `missing_message()`   which notebooks to run to fill the gaps
- `profiles_note(rows)` the profile the records come from; a warning if several
- `plot_accuracy_vs_macs(rows)`  test accuracy against MACs per image (log scale)

A row dict has the keys of `ROW_KEYS`; a value the record lacks is None. Records of other
units (not in `ARCHITECTURES`) are ignored. Nothing here trains or downloads anything.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from utils.measure import records
from utils.measure.records import load_all


class Architecture(NamedTuple):
    """One architecture of the course: its record's name, its lecture and its data set."""

    record: str  # the name passed to utils.measure.records.record, e.g. "05_lenet"
    label: str  # the architecture, e.g. "LeNet"
    notebook: str  # the lecture that records it, relative to the repository root
    dataset: str  # what its `full` profile trains on


ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture("05_lenet", "LeNet", "notebooks/05_lenet.ipynb", "MNIST"),
    Architecture("07_alexnet", "AlexNet", "notebooks/07_alexnet.ipynb", "CIFAR-10"),
    Architecture("08_vgg", "VGG", "notebooks/08_vgg.ipynb", "CIFAR-10"),
    Architecture("09_googlenet", "GoogLeNet", "notebooks/09_googlenet.ipynb", "CIFAR-10"),
    Architecture("10_resnet", "ResNet", "notebooks/10_resnet.ipynb", "CIFAR-10"),
    Architecture("11_densenet", "DenseNet", "notebooks/11_densenet_efficientnet.ipynb", "CIFAR-10"),
)


#: The keys of a row: from the architecture list, then from the record (None when absent).
ROW_KEYS = (
    "record",
    "label",
    "notebook",
    "dataset",
    "model",
    "params",
    "macs",
    "images_per_second",
    "accuracy",
    "profile",
    "input",
    "imagenet_params",
    "imagenet_macs",
)


_NUMERIC = ("params", "macs", "images_per_second", "accuracy", "imagenet_params", "imagenet_macs")


def _number(value):
    """A finite float, or None for a missing, non-numeric, NaN or infinite value."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def collect(records: list[dict] | None = None) -> tuple[list[dict], list[Architecture]]:
    """Rows for the architectures that have a record, and the architectures that have none.

    records: the records to use; None reads them all with `utils.measure.records.load_all()`.
    Rows come in the order of `ARCHITECTURES`; numeric fields are floats or None.
    """
    by_name = {r.get("name"): r for r in (load_all() if records is None else records)}
    rows, missing = [], []
    for arch in ARCHITECTURES:
        rec = by_name.get(arch.record)
        if rec is None:
            missing.append(arch)
            continue
        row = dict(zip(ROW_KEYS, (None,) * len(ROW_KEYS), strict=True))
        row.update(arch._asdict())
        for key in ("model", "profile", "input"):
            row[key] = None if rec.get(key) is None else str(rec[key])
        for key in _NUMERIC:
            row[key] = _number(rec.get(key))
        rows.append(row)
    return rows, missing


def missing_message(missing: list[Architecture]) -> str:
    """One line per missing architecture, saying which notebook records it ('' if none).

    On Colab it also says where the records are read from: each Colab notebook runs on its
    own machine, so only records kept on Google Drive reach this one (`utils.measure.records`).
    """
    if not missing:
        return ""
    lines = [f"No record yet for {len(missing)} architecture(s); run their lectures to add them:"]
    lines += [f"  {a.label:10s} run {a.notebook} (any profile)" for a in missing]
    if records.on_colab():
        drive = records.drive_folder()
        if drive is None:
            lines += [
                "On Colab each notebook runs on its own machine, and its files are gone with it:",
                "records reach this notebook only through your Google Drive. In each of those",
                "lectures and here, run this line first, then run them again and this one:",
                f"    {records.MOUNT_LINE}",
            ]
        else:
            lines.append(
                f"Records are read from your Google Drive ({drive}): run those lectures "
                "with Drive mounted (the same line as here) so that their records land there."
            )
    return "\n".join(lines)


def profiles_note(rows: list[dict]) -> str:
    """Which profile the rows come from: a warning when there are several ('' for no rows)."""
    profiles = sorted({str(r["profile"]) for r in rows})
    if not profiles:
        return ""
    if len(profiles) == 1:
        return f"All {len(rows)} record(s) come from the {profiles[0]} profile."
    counts = ", ".join(f"{p}: {sum(str(r['profile']) == p for r in rows)}" for p in profiles)
    return (
        f"Note: these records come from different profiles ({counts}); accuracies and speeds "
        "from different profiles (data, epochs, machine) are not comparable."
    )


def _fmt(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "count":
        for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
            if value >= size:
                return f"{value / size:.2f} {unit}"
        return f"{value:.0f}"
    if kind == "rate":
        return f"{value:,.0f}"
    return f"{value:.1%}"


def print_table(rows: list[dict]) -> None:
    """One line per row: architecture, model, data set and profile, parameters, MACs per image,
    training images/s, test accuracy. Missing values print as '-'."""
    if not rows:
        print("No architecture has a record yet: there is nothing to compare.")
        return
    head = (
        f"{'architecture':12s} {'model':22s} {'data (profile)':20s} {'parameters':>10s} "
        f"{'MACs/image':>10s} {'train img/s':>11s} {'accuracy':>8s}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        data = f"{r['dataset']} ({r['profile'] or '?'})"
        print(
            f"{r['label']:12s} {(r['model'] or '-')[:22]:22s} {data[:20]:20s} "
            f"{_fmt(r['params'], 'count'):>10s} {_fmt(r['macs'], 'count'):>10s} "
            f"{_fmt(r['images_per_second'], 'rate'):>11s} {_fmt(r['accuracy'], 'pct'):>8s}"
        )
