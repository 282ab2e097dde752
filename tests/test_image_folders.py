"""utils.data.image_folders: the demo folder builder and the folder inspector, on folders made here."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from utils.data.image_folders import (
    DEMO_CLASSES,
    FolderProblem,
    build_demo_folder,
    inspect_image_folder,
)


def _png(path, size=(10, 12)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((size[1], size[0], 3), np.uint8)).save(path)


def test_demo_folder_layout_and_counts(tmp_path):
    demo = build_demo_folder(tmp_path / "demo", per_class=3, seed=1)
    report = inspect_image_folder(demo.images, verbose=False)
    assert report.class_names == sorted(DEMO_CLASSES)
    assert report.counts == {name: 3 for name in DEMO_CLASSES}
    assert report.mixed_sizes
    assert len(demo.new_photos) == len(DEMO_CLASSES) and all(p.exists() for p in demo.new_photos)
    assert {p.suffix for p in demo.images.rglob("*.*")} == {".jpg", ".png"}
    # the same arguments reuse the complete folder without writing; others rebuild it
    first = demo.images / "cat" / "cat_000.jpg"
    stamp = first.stat().st_mtime_ns
    assert build_demo_folder(tmp_path / "demo", per_class=3, seed=1) == demo
    assert first.stat().st_mtime_ns == stamp
    (demo.images / "dog").mkdir()
    (demo.images / "cat" / "cat_001.png").unlink()
    build_demo_folder(tmp_path / "demo", per_class=3, seed=1)
    assert inspect_image_folder(demo.images, verbose=False).counts["cat"] == 3
    assert not (demo.images / "dog").exists()
    build_demo_folder(tmp_path / "demo", per_class=2, seed=1)
    assert inspect_image_folder(demo.images, verbose=False).counts["cat"] == 2


def test_demo_never_overwrites_a_learners_folder(tmp_path):
    _png(tmp_path / "mine" / "cats" / "1.png")
    with pytest.raises(FolderProblem, match="did not write"):
        build_demo_folder(tmp_path / "mine", per_class=1)
    assert (tmp_path / "mine" / "cats" / "1.png").exists()


def test_inspector_messages(tmp_path, capsys):
    with pytest.raises(FolderProblem, match="does not exist"):
        inspect_image_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FolderProblem, match="no sub-folders"):
        inspect_image_folder(tmp_path / "empty")
    _png(tmp_path / "one" / "cats" / "1.png")
    with pytest.raises(FolderProblem, match="single class"):
        inspect_image_folder(tmp_path / "one")
    _png(tmp_path / "two" / "cats" / "1.png")
    (tmp_path / "two" / "dogs").mkdir()
    with pytest.raises(FolderProblem, match="hold no images"):
        inspect_image_folder(tmp_path / "two")
    _png(tmp_path / "two" / "dogs" / "2.png", size=(20, 8))
    (tmp_path / "two" / "dogs" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(FolderProblem, match="broken.jpg"):
        inspect_image_folder(tmp_path / "two")
    (tmp_path / "two" / "dogs" / "broken.jpg").unlink()
    (tmp_path / "two" / "dogs" / "._2.png").write_bytes(b"macOS metadata")  # Keras reads it too
    with pytest.raises(FolderProblem, match="._2.png"):
        inspect_image_folder(tmp_path / "two")
    (tmp_path / "two" / "dogs" / "._2.png").unlink()
    (tmp_path / "two" / "dogs" / "notes.txt").write_text("x")
    report = inspect_image_folder(tmp_path / "two")
    assert report.counts == {"cats": 1, "dogs": 1} and report.mixed_sizes
    out = capsys.readouterr().out
    assert "mixed sizes" in out and "skipped" in out


def test_inspector_agrees_with_keras(tmp_path):
    import keras

    for name, n in (("b_dogs", 2), ("a_cats", 3)):
        for i in range(n):
            _png(tmp_path / name / f"{i}.png", size=(8 + i, 9))
    (tmp_path / "a_cats" / "sub").mkdir()
    _png(tmp_path / "a_cats" / "sub" / "deep.jpg")
    (tmp_path / "b_dogs" / "notes.txt").write_text("skipped")
    (tmp_path / ".hidden_class").mkdir()
    report = inspect_image_folder(tmp_path, verbose=False)
    ds = keras.utils.image_dataset_from_directory(tmp_path, image_size=(8, 8), verbose=False)
    assert report.class_names == ds.class_names
    assert sum(report.counts.values()) == len(ds.file_paths)
