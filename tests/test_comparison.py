"""The architecture comparison (utils.comparison) on fake records in a temporary data dir."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.course import DATA_ENV  # noqa: E402
from utils.measure import (
    comparison,
    records,  # noqa: E402
)
from utils.plots import charts


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    plt.close("all")
    yield tmp_path
    plt.close("all")


def _record(name, **fields):
    base = {
        "model": f"{name} model",
        "params": 1000,
        "macs": 2_000_000,
        "images_per_second": 500.0,
        "accuracy": 0.5,
        "profile": "smoke",
    }
    return records.record(name, **{**base, **fields})


def test_no_records_at_all_is_not_an_error(data_dir, capsys):
    rows, missing = comparison.collect()
    assert rows == []
    assert [a.record for a in missing] == [a.record for a in comparison.ARCHITECTURES]
    comparison.print_table(rows)
    charts.plot_accuracy_vs_macs(rows)
    out = capsys.readouterr().out
    assert "nothing to compare" in out and "nothing to plot" in out
    assert plt.get_fignums() == []
    message = comparison.missing_message(missing)
    for arch in comparison.ARCHITECTURES:
        assert arch.notebook in message
    assert comparison.profiles_note(rows) == ""


def test_some_records_in_course_order_and_the_rest_missing(data_dir, capsys):
    _record("10_resnet", model="ResNet-8 (32x32)", accuracy=0.8, macs=12_500_000)
    _record("05_lenet", model="LeNet-5 (28x28)", params=61706, macs=416_520, accuracy=0.94)
    _record("13_unet", model="not an architecture of the comparison")
    rows, missing = comparison.collect()
    assert [r["record"] for r in rows] == ["05_lenet", "10_resnet"]
    assert [a.record for a in missing] == ["07_alexnet", "08_vgg", "09_googlenet", "11_densenet"]
    assert set(rows[0]) == set(comparison.ROW_KEYS)
    assert rows[0]["params"] == 61706 and rows[0]["dataset"] == "MNIST"
    assert rows[0]["imagenet_macs"] is None  # absent from the record
    comparison.print_table(rows)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 + len(rows)  # header, rule, one line per row
    assert "61.71 K" in out[2] and "416.52 K" in out[2] and "94.0%" in out[2]
    assert "ResNet-8" in out[3] and "12.50 M" in out[3] and "80.0%" in out[3]
    assert "notebooks/07_alexnet.ipynb" in comparison.missing_message(missing)


def test_plot_has_one_point_per_usable_record(data_dir):
    _record("05_lenet", accuracy=0.9)
    _record("07_alexnet", accuracy=0.6, profile="full")
    _record("08_vgg", accuracy=float("nan"))  # unusable: no accuracy
    _record("09_googlenet", macs=None)  # unusable: no MACs
    rows, _ = comparison.collect()
    assert [r["record"] for r in charts.plottable(rows)] == ["05_lenet", "07_alexnet"]
    charts.plot_accuracy_vs_macs(rows)
    (ax,) = plt.gcf().axes
    offsets = [c.get_offsets() for c in ax.collections]
    assert sum(len(o) for o in offsets) == 2
    assert ax.get_xscale() == "log"
    assert {t.get_text() for t in ax.texts} == {"LeNet (smoke)", "AlexNet (full)"}


def test_mixed_profiles_are_pointed_out(data_dir):
    _record("07_alexnet", profile="full")
    _record("08_vgg", profile="smoke")
    rows, _ = comparison.collect()
    note = comparison.profiles_note(rows)
    assert "full: 1" in note and "smoke: 1" in note and "not comparable" in note
    rows = [r for r in rows if r["profile"] == "smoke"]
    assert comparison.profiles_note(rows) == "All 1 record(s) come from the smoke profile."


def test_malformed_fields_become_missing_values(data_dir, capsys):
    records.record("11_densenet", model="DenseNet", accuracy="high", profile="smoke")
    rows, _ = comparison.collect()
    assert rows[0]["accuracy"] is None and rows[0]["macs"] is None
    comparison.print_table(rows)
    line = capsys.readouterr().out.splitlines()[2]
    assert line.split()[-4:] == ["-", "-", "-", "-"]


@pytest.fixture
def colab(tmp_path, monkeypatch):
    """A fake Colab runtime: `google.colab` loaded, Drive's mount point under tmp_path, and
    the machine's own data dir elsewhere. Yields (drive mount, local data dir)."""
    import sys
    import types

    monkeypatch.delenv(records.RESULTS_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    mount = tmp_path / "drive"
    monkeypatch.setattr(records, "DRIVE_MOUNT", mount)
    local = tmp_path / "machine"
    monkeypatch.setenv(DATA_ENV, str(local))
    return mount, local


def test_on_colab_without_drive_records_stay_local_and_say_how_to_keep_them(colab, capsys):
    mount, local = colab
    path = _record("05_lenet")
    assert path.parent == local / "results"
    printed = capsys.readouterr().out
    assert "not mounted" in printed and records.MOUNT_LINE in printed
    rows, missing = comparison.collect()
    message = comparison.missing_message(missing)
    assert [r["record"] for r in rows] == ["05_lenet"]
    assert records.MOUNT_LINE in message and "its own machine" in message


def test_on_colab_with_drive_records_from_different_machines_meet_on_drive(colab, capsys):
    mount, local = colab
    (mount / "MyDrive").mkdir(parents=True)
    _record("05_lenet")  # one Colab machine
    _record("10_resnet")  # another one: only the Drive folder is shared
    assert capsys.readouterr().out == ""  # no warning when Drive keeps the records
    drive = mount / "MyDrive" / "cnn-course" / "results"
    assert sorted(p.name for p in drive.iterdir()) == ["05_lenet.json", "10_resnet.json"]
    assert not (local / "results").exists()
    rows, missing = comparison.collect()
    assert [r["record"] for r in rows] == ["05_lenet", "10_resnet"]
    message = comparison.missing_message(missing)
    assert str(drive) in message and records.MOUNT_LINE not in message


def test_outside_colab_nothing_changes(data_dir, capsys):
    path = _record("05_lenet")
    assert path.parent == data_dir / "results"
    assert capsys.readouterr().out == ""
    assert records.storage_note() == ""
    _, missing = comparison.collect()
    assert "Drive" not in comparison.missing_message(missing)


def test_the_results_env_overrides_everything(colab, tmp_path, monkeypatch, capsys):
    mount, _ = colab
    (mount / "MyDrive").mkdir(parents=True)
    monkeypatch.setenv(records.RESULTS_ENV, str(tmp_path / "elsewhere"))
    assert _record("05_lenet").parent == tmp_path / "elsewhere"
    assert capsys.readouterr().out == ""
