"""The full-profile rehearsal: stand-in data read by the real readers, the kernel's patches,
check_band's profiles, and (only under `make rehearse`) the rehearsal of every notebook."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from utils.data.cifar10 import read_cifar10_archive
from utils.data.pet_breeds import is_cat, read_pet_breeds
from utils.data.pets import read_pets
from utils.measure.bands import OutsideBandError, check_band
from utils.tooling import fake_data, rehearsal


def test_mnist_stand_in_has_keras_layout(tmp_path):
    path = fake_data.write_mnist(tmp_path)
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == ["x_test", "x_train", "y_test", "y_train"]
        assert f["x_train"].shape == (60_000, 28, 28) and f["x_train"].dtype == np.uint8
        assert f["x_test"].shape == (10_000, 28, 28)
        assert f["y_train"].dtype == np.uint8 and set(np.unique(f["y_train"])) == set(range(10))
        assert f["x_train"].std() > 10  # not a blank image set
        assert 0.6 < (f["x_train"] == 0).mean() < 0.95  # ink on a black background, as MNIST


def test_cifar10_stand_in_read_by_the_real_reader(tmp_path):
    (x_train, y_train), (x_test, y_test) = read_cifar10_archive(fake_data.write_cifar10(tmp_path))
    assert x_train.shape == (50_000, 32, 32, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (10_000, 32, 32, 3) and y_test.dtype == np.uint8
    assert Counter(y_train.tolist()) == {c: 5000 for c in range(10)}
    assert Counter(y_test.tolist()) == {c: 1000 for c in range(10)}
    # channel-first rows were transposed back: the three channels differ
    assert not np.array_equal(x_train[..., 0], x_train[..., 1])


def test_pet_names_cover_37_breeds_like_the_real_set():
    names = fake_data.pet_names()
    assert len(names) == 7_390 == len(set(names))
    breeds = Counter(n.rsplit("_", 1)[0] for n in names)
    assert len(breeds) == 37 and min(breeds.values()) >= 199
    assert sum(is_cat(b) for b in breeds) == 12
    assert "Abyssinian_1" in names and "yorkshire_terrier_199" in names


def test_pets_stand_in_read_by_both_real_readers(tmp_path):
    images, annotations = fake_data.write_pets(tmp_path, n=74, workers=1, progress=False)
    x, masks, names = read_pets(images, annotations, size=64, progress=False)
    assert x.shape == (74, 64, 64, 3) and masks.shape == (74, 64, 64)
    assert set(np.unique(masks)) == {0, 1, 2}  # pet, background, border
    assert names == sorted(fake_data.pet_names(74))
    x, y, breeds = read_pet_breeds(images, size=32, progress=False)
    assert x.shape == (74, 32, 32, 3) and len(breeds) == 37
    assert Counter(y.tolist()) == {b: 2 for b in range(37)}


def test_check_band_smoke_fails_full_estimate_warns(capsys):
    with pytest.raises(OutsideBandError, match="epochs"):
        check_band("acc", 0.5, 0.9, profile="smoke")
    assert check_band("acc", 0.5, 0.9, profile="full") is None
    out = capsys.readouterr().out
    assert "estimate" in out and "WARNING" in out and "Usual causes" in out
    with pytest.raises(OutsideBandError):  # a band measured on the real data still fails
        check_band("acc", 0.5, 0.9, profile="full", measured=True)
    check_band("acc", 0.95, 0.9, profile="full")
    assert "within" in capsys.readouterr().out


def test_kernel_patches_cap_steps_and_record_the_full_cost(monkeypatch, tmp_path):
    import keras

    from utils.measure.macs import count_macs
    from utils.tooling import rehearsal_kernel

    monkeypatch.setenv("COURSE_REHEARSAL_STEPS", "2")
    monkeypatch.setenv("COURSE_REHEARSAL_RECORD", str(tmp_path / "record.json"))
    saved = {k: getattr(keras.Model, k) for k in ("fit", "evaluate", "predict")}
    builder = keras.applications.MobileNetV2
    monkeypatch.setattr(rehearsal_kernel, "RECORD", {"calls": [], "weights_replaced": []})
    try:
        rehearsal_kernel._patch_model()
        rehearsal_kernel._patch_applications()
        model = keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                keras.layers.Conv2D(4, 3),
                keras.layers.Flatten(),
                keras.layers.Dense(3),
            ]
        )
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        x, y = np.zeros((640, 8, 8, 1), "float32"), np.zeros(640, "int32")
        history = model.fit(x, y, batch_size=32, epochs=3, validation_split=0.25, verbose=0)
        assert len(history.history["loss"]) == 3
        assert model.optimizer.iterations.numpy() == 3 * 2  # 2 steps per epoch, not 15
        assert model.predict(x, batch_size=32, verbose=0).shape == (640, 3)  # rows kept
        backbone = keras.applications.MobileNetV2(include_top=False, input_shape=(32, 32, 3))
        assert backbone.count_params() > 0  # built without downloading weights
    finally:
        for k, v in saved.items():
            setattr(keras.Model, k, v)
        keras.applications.MobileNetV2 = builder
    fit = rehearsal_kernel.RECORD["calls"][0]
    assert fit["images"] == 480 * 3 and fit["val_images"] == 160 * 3
    assert fit["macs_per_image"] == count_macs(model)
    assert rehearsal_kernel.RECORD["weights_replaced"] == ["MobileNetV2('imagenet')"]
    result = rehearsal.summarise("x", 1.0, "", {"calls": rehearsal_kernel.RECORD["calls"]})
    assert result.images_trained == 1440
    assert result.train_macs == 3 * count_macs(model) * 1440


def test_side_by_side_training_is_cut_and_counted_in_full(monkeypatch, tmp_path):
    """Unit 06's own loop (not `fit`) trains on the first steps' mini-batches only, and the
    record counts what the full run trains: epochs x the whole training set, per model."""
    import keras

    from utils import training
    from utils.measure.macs import count_macs
    from utils.tooling import rehearsal_kernel

    monkeypatch.setenv("COURSE_REHEARSAL_STEPS", "2")
    monkeypatch.setattr(rehearsal_kernel, "RECORD", {"calls": [], "weights_replaced": []})
    original, seen = training.train_side_by_side, []

    def spy(models, train, val, **kwargs):
        seen.append((len(train[0]), len(val[0])))
        return original(models, train, val, **kwargs)

    monkeypatch.setattr(training, "train_side_by_side", spy)
    rehearsal_kernel._patch_training()

    def net():
        return keras.Sequential(
            [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3, "softmax")]
        )

    models = {"a": net(), "b": net()}
    x, y = np.zeros((1000, 4, 4, 1), "float32"), np.zeros(1000, "int32")
    training.fit_and_measure(  # calls the module's train_side_by_side: patched too
        models["a"], (x, y), (x[:600], y[:600]), epochs=3, batch_size=50, verbose=False
    )
    runs = training.train_side_by_side(models, (x, y), (x[:600], y[:600]), epochs=3, batch_size=50)
    assert set(runs) == {"a", "b"} and len(runs["b"].history["loss"]) == 3  # epochs as written
    assert seen == [(100, 512), (100, 512)]  # 2 mini-batches of 50; 2 batches of 256 to measure
    calls = rehearsal_kernel.RECORD["calls"]
    assert [c["images"] for c in calls] == [3000, 3000, 3000]
    assert calls[1]["macs_per_image"] == count_macs(models["a"])
    result = rehearsal.summarise("x", 1.0, "", {"calls": calls})
    assert result.images_trained == 9000


def test_a_name_left_unbound_by_a_missed_result_check_is_not_a_failure(tmp_path):
    """A cell whose check misses (expected on rehearsal data) leaves its name unbound; the
    NameError of a later cell using it is listed with the misses. Any other error fails."""
    import nbformat

    assert rehearsal.assigned_names("a, b = f()\nc: int = 1\nd += 1\nprint(e)") == {
        "a",
        "b",
        "c",
        "d",
    }
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("def check():\n    raise AssertionError('below its band')"),
        nbformat.v4.new_code_cell("run = check()"),
        nbformat.v4.new_code_cell("print(run)"),
        nbformat.v4.new_code_cell("print(typo)"),
    ]
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    work = tmp_path / "work"
    work.mkdir()
    result = rehearsal.run_one(src, work, dict(os.environ), timeout=60)
    assert [r.split(":")[0] for r in result.result_checks] == ["cell 1", "cell 2"]
    assert "cell 3: NameError" in result.error and "typo" in result.error


def test_the_lecture_cost_line_follows_the_rehearsal():
    """The line each lecture's introduction gives is computed from its rehearsal's figures."""

    def result(name, images, train_macs, rss_mb):
        return rehearsal.Result(name, 1.0, True, "", rss_mb, images, train_macs, None, 0, [])

    gpu = rehearsal.intro_sentence(result("notebooks/08_vgg.ipynb", 1_800_000, 825e12, 1740))
    assert "a GPU needed" in gpu and "about 14 minutes" in gpu and "1,800,000" in gpu
    assert "about 1.7 GB of RAM" in gpu
    small = rehearsal.intro_sentence(result("notebooks/05_lenet.ipynb", 648_000, 8e11, 900))
    assert small.startswith(rehearsal.INTRO + " no GPU needed;") and "under a minute" in small
    none = rehearsal.intro_sentence(result("notebooks/00_x.ipynb", None, None, 700))
    assert none == rehearsal.INTRO + " no training, no GPU needed; about 0.7 GB of RAM."
    numpy = rehearsal.intro_sentence(
        result("notebooks/04_backprop_from_scratch.ipynb", None, None, 1100)
    )
    assert "NumPy on the CPU" in numpy


@pytest.mark.rehearsal
@pytest.mark.skipif(not os.environ.get("COURSE_REHEARSE"), reason="runs under `make rehearse`")
def test_every_notebook_rehearses_within_memory():
    """The full profile of every lecture and solution runs, within 10 GB of RAM (Colab: ~12.7 GB)."""
    work = Path(
        os.environ.get("COURSE_REHEARSAL_WORK", rehearsal.nbfiles.root() / ".runs" / "rehearsal")
    )
    results = rehearsal.rehearse(rehearsal.default_paths(), work=work, jobs=2)
    print()
    print(rehearsal.report(results))
    assert len(results) == 36
    failed = [f"{r.notebook}: {r.error}" for r in results if not r.ok]
    assert not failed, "\n".join(failed)
    heavy = [
        f"{r.notebook}: {r.peak_rss_mb:.0f} MB"
        for r in results
        if r.peak_rss_mb > rehearsal.RSS_LIMIT_MB
    ]
    assert not heavy, "over 10 GB: " + ", ".join(heavy)
    assert all(r.peak_rss_mb > 100 for r in results)  # the record was written by every kernel
