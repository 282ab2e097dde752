"""utils.measure.records round trip and utils.measure.bands.check_band."""

from __future__ import annotations

import pytest

from utils.measure import records
from utils.measure.bands import OutsideBandError, check_band


def test_record_and_load(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    records.record("08_vgg", params=10, accuracy=0.5, profile="smoke")
    records.record("07_alexnet", params=3)
    names = [r["name"] for r in records.load_all()]
    assert names == ["07_alexnet", "08_vgg"]
    assert records.load_all()[1]["accuracy"] == 0.5


def test_check_band(capsys):
    assert check_band("acc", 0.95, 0.9, profile="smoke") is None
    assert "within" in capsys.readouterr().out
    with pytest.raises(OutsideBandError, match="epochs"):
        check_band("acc", 0.5, 0.9, causes="more epochs", profile="smoke")
    assert check_band("acc", 0.5, 0.9, strict=False, causes="more epochs", profile="smoke") is None
    assert "WARNING" in capsys.readouterr().out
