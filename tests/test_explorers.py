"""The grid pictures of units 01 and 12 (utils.plots.explorers) and the geometry they draw
(utils.measure.conv_geometry), checked against what Keras computes.

- The geometry: for random settings (dilation included), the input cells each output cell of
  a Keras Conv2D reads, and the output cells each input cell of a Keras Conv2DTranspose writes,
  are measured by feeding one-hot inputs (all-ones kernels, so nothing cancels), and compared
  with `ConvAxis.reads` and `TransposedAxis.writes`. Keras refuses strides > 1 together with
  dilation_rate > 1; for those settings the layer gets the dilated kernel written out (zeros
  between the taps), which is what dilation means.
- The figures: the cells each panel colours are read back from the panel's image and compared
  with the geometry; the sliders redraw (ipywidgets, no browser); the lecture cell shows a
  static figure when no person runs it.
- In a browser (marker `site`, run by `make site-check`): JupyterLab opens lecture 01, runs the
  explorer cell, a slider moves and the figure changes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import keras
import matplotlib
import numpy as np
import pytest

from utils.measure.conv_geometry import ConvAxis, TransposedAxis
from utils.plots import explorers
from utils.tooling.nbfiles import root

matplotlib.use("Agg")
L = keras.layers


def _settings(seed: int, count: int, transposed: bool = False):
    """`count` random (n, kernel, stride, padding, dilation) with at least one output cell,
    stride > 1 with dilation > 1 included."""
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < count:
        n, k, s, d = (int(v) for v in rng.integers([2, 1, 1, 1], [9, 5, 4, 4]))
        most = TransposedAxis(n, k, s, 0, d).max_padding if transposed else 3
        p = int(rng.integers(0, most + 1))
        if transposed or ConvAxis(n, k, s, p, d).out_length > 0:
            found.append((n, k, s, p, d))
    return found


def _kernel(layer_cls, axis, **kwargs):
    """A one-filter layer with an all-ones kernel of the axis's settings; with strides > 1
    and dilation > 1 (refused by Keras) the dilated kernel written out instead."""
    if axis.stride > 1 and axis.dilation > 1:
        layer = layer_cls(1, axis.span, strides=axis.stride, use_bias=False, **kwargs)
        taps = np.zeros((axis.span, axis.span, 1, 1), dtype="float32")
        taps[:: axis.dilation, :: axis.dilation] = 1.0
        return layer, taps
    layer = layer_cls(
        1, axis.kernel, strides=axis.stride, dilation_rate=axis.dilation, use_bias=False, **kwargs
    )
    return layer, np.ones((axis.kernel, axis.kernel, 1, 1), dtype="float32")


def _one_hots(n: int) -> np.ndarray:
    """All n * n one-hot images, (n * n, n, n, 1)."""
    return np.eye(n * n, dtype="float32").reshape(n * n, n, n, 1)


def keras_conv_reads(axis: ConvAxis) -> np.ndarray:
    """Measured: M[r, c, i, j] is True when output (i, j) of ZeroPadding2D(P) + Conv2D
    depends on input (r, c)."""
    conv, taps = _kernel(L.Conv2D, axis)
    model = keras.Sequential(
        [keras.Input((axis.n, axis.n, 1)), L.ZeroPadding2D(axis.padding), conv]
    )
    conv.set_weights([taps])
    y = keras.ops.convert_to_numpy(model(_one_hots(axis.n)))[..., 0]
    return y.reshape(axis.n, axis.n, *y.shape[1:]) != 0


def geometry_reads(axis: ConvAxis) -> np.ndarray:
    """The same array from `ConvAxis.reads`."""
    m = np.zeros((axis.n, axis.n, axis.out_length, axis.out_length), dtype=bool)
    for i in range(axis.out_length):
        for j in range(axis.out_length):
            rows = [r for r in axis.reads(i) if 0 <= r < axis.n]
            cols = [c for c in axis.reads(j) if 0 <= c < axis.n]
            m[np.ix_(rows, cols, [i], [j])] = True
    return m


def keras_transposed_writes(axis: TransposedAxis) -> np.ndarray:
    """Measured: M[r, c, i, j] is True when input (r, c) of a Conv2DTranspose ('valid')
    changes output (i, j), after cropping P cells from each end. Keras's 'valid' output has
    max(S - E, 0) more cells at the end than (N - 1) * S + E; nothing writes them."""
    layer, taps = _kernel(L.Conv2DTranspose, axis, padding="valid")
    layer.build((None, axis.n, axis.n, 1))
    layer.set_weights([taps])
    y = keras.ops.convert_to_numpy(layer(_one_hots(axis.n)))[..., 0]
    full = (axis.n - 1) * axis.stride + axis.span
    assert y.shape[1] == full + max(axis.stride - axis.span, 0)
    assert not y[:, full:].any() and not y[:, :, full:].any()
    p = axis.padding
    y = y[:, p : full - p, p : full - p]
    return y.reshape(axis.n, axis.n, *y.shape[1:]) != 0


def geometry_writes(axis: TransposedAxis) -> np.ndarray:
    m = np.zeros((axis.n, axis.n, axis.out_length, axis.out_length), dtype=bool)
    for r in range(axis.n):
        for c in range(axis.n):
            m[np.ix_([r], [c], axis.writes(r), axis.writes(c))] = True
    return m


# --- the geometry against Keras ---------------------------------------------------------------


@pytest.mark.parametrize("setting", _settings(seed=1, count=40))
def test_the_cells_a_convolution_reads_are_those_keras_reads(setting):
    axis = ConvAxis(*setting)
    measured = keras_conv_reads(axis)
    assert measured.shape[2:] == (axis.out_length, axis.out_length)
    np.testing.assert_array_equal(measured, geometry_reads(axis))


def test_random_settings_cover_dilation_stride_padding_and_their_mixtures():
    settings = _settings(seed=1, count=40) + _settings(seed=2, count=30, transposed=True)
    assert any(s > 1 and d > 1 for _, _, s, _, d in settings)
    assert any(s == 1 and d > 1 for _, _, s, _, d in settings)
    assert any(p > 0 and s > 1 for _, _, s, p, _ in settings)
    assert any(ConvAxis(*x).out_length == 1 for x in _settings(seed=1, count=40))


def _safe_on_onednn(setting) -> bool:
    """Conv2DTranspose runs TensorFlow's convolution input gradient, which crashes oneDNN on
    some CPUs when the stride exceeds the kernel (docs/conventions): leave those out here;
    `test_a_transposed_convolution_is_the_transpose_of_a_convolution` covers them."""
    n, k, s, p, d = setting
    return s <= d * (k - 1) + 1


@pytest.mark.parametrize(
    "setting", [s for s in _settings(seed=2, count=40, transposed=True) if _safe_on_onednn(s)]
)
def test_the_cells_a_transposed_convolution_writes_are_those_keras_writes(setting):
    axis = TransposedAxis(*setting)
    np.testing.assert_array_equal(keras_transposed_writes(axis), geometry_writes(axis))


@pytest.mark.parametrize("setting", _settings(seed=3, count=30, transposed=True))
def test_a_transposed_convolution_is_the_transpose_of_a_convolution(setting):
    """Input i of the transposed convolution writes exactly the cells that output i of the
    convolution with the same settings (on the transposed output's length) reads: C^T."""
    axis = TransposedAxis(*setting)
    conv = ConvAxis(axis.out_length, axis.kernel, axis.stride, axis.padding, axis.dilation)
    assert conv.out_length == axis.n
    measured = keras_conv_reads(conv)  # [out cell of C^T, ..., in cell of C^T, ...]
    np.testing.assert_array_equal(measured.transpose(2, 3, 0, 1), geometry_writes(axis))


@pytest.mark.parametrize(
    "setting", [s for s in _settings(seed=4, count=20, transposed=True) if _safe_on_onednn(s)]
)
def test_the_zero_insertion_view_computes_what_conv2d_transpose_computes(setting):
    """The explorer's middle panel: the input spread S cells apart (`inserted_index`) in a
    border of zeros (`inserted_length`), convolved with stride 1, the same dilation and the
    kernel flipped, gives Keras's Conv2DTranspose output cropped by P."""
    axis = TransposedAxis(*setting)
    rng = np.random.default_rng(sum(setting))
    x = rng.standard_normal((1, axis.n, axis.n, 1)).astype("float32")
    w = rng.standard_normal((axis.kernel, axis.kernel, 1, 1)).astype("float32")
    if axis.stride > 1 and axis.dilation > 1:  # refused by Keras: the kernel written out
        transposed = L.Conv2DTranspose(1, axis.span, strides=axis.stride, use_bias=False)
        wide = np.zeros((axis.span, axis.span, 1, 1), dtype="float32")
        wide[:: axis.dilation, :: axis.dilation] = w
    else:
        transposed = L.Conv2DTranspose(
            1, axis.kernel, strides=axis.stride, dilation_rate=axis.dilation, use_bias=False
        )
        wide = w
    transposed.build(x.shape)
    transposed.set_weights([wide])
    full = (axis.n - 1) * axis.stride + axis.span
    p = axis.padding
    want = keras.ops.convert_to_numpy(transposed(x))[0, p : full - p, p : full - p, 0]

    spread = np.zeros((1, axis.inserted_length, axis.inserted_length, 1), dtype="float32")
    at = axis.inserted_index(np.arange(axis.n))
    spread[0, at[:, None], at[None, :], 0] = x[0, :, :, 0]
    conv = L.Conv2D(1, axis.kernel, dilation_rate=axis.dilation, use_bias=False)
    conv.build(spread.shape)
    conv.set_weights([w[::-1, ::-1]])
    got = keras.ops.convert_to_numpy(conv(spread))[0, :, :, 0]
    assert got.shape == (axis.out_length, axis.out_length)
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_keras_valid_appends_cells_when_the_kernel_is_narrower_than_the_stride():
    """Lecture 12's remark on `padding="valid"`, from Keras's own output shapes (no
    convolution is run: see `_safe_on_onednn`)."""
    for n, k, s, d in [(3, 1, 3, 1), (4, 2, 3, 1), (2, 1, 2, 1), (3, 3, 2, 1), (3, 2, 1, 3)]:
        axis = TransposedAxis(n, k, s, 0, d)
        layer = L.Conv2DTranspose(1, k, strides=s, dilation_rate=d, padding="valid")
        size = layer.compute_output_shape((1, n, n, 1))[1]
        assert size == axis.out_length + max(s - axis.span, 0)


def test_keras_refuses_stride_with_dilation_as_the_figures_say():
    for layer in (L.Conv2D, L.Conv2DTranspose):
        with pytest.raises(ValueError, match="dilation_rate"):
            layer(1, 3, strides=2, dilation_rate=2)
    assert "Keras refuses strides > 1 together with dilation_rate > 1" in (
        explorers._KERAS_DILATED_STRIDE
    )


def test_the_output_size_is_the_lectures_formula_without_dilation():
    for n, f, p, s in [(7, 3, 1, 1), (7, 3, 0, 2), (227, 11, 0, 4), (28, 5, 0, 2), (5, 3, 1, 2)]:
        assert ConvAxis(n, f, s, p).out_length == (n - f + 2 * p) // s + 1


def test_the_geometry_refuses_settings_it_cannot_draw():
    with pytest.raises(ValueError, match="stride"):
        ConvAxis(5, 3, stride=0)
    with pytest.raises(ValueError, match="padding"):
        ConvAxis(5, 3, padding=-1)
    with pytest.raises(ValueError, match="padding must be an integer in 0 .. 2"):
        TransposedAxis(3, 3, stride=2, padding=3)
    with pytest.raises(ValueError, match="padding must be an integer in 0 .. 1"):
        TransposedAxis(1, 3, stride=1, padding=2)  # (1 - 1) * 1 + 3 - 2 * 2 < 1
    assert TransposedAxis(1, 3, stride=1, padding=1).out_length == 1
    assert ConvAxis(3, 3, dilation=2).out_length == 0
    with pytest.raises(IndexError):
        ConvAxis(5, 3).reads(3)
    with pytest.raises(IndexError):
        TransposedAxis(3, 3).writes(3)


# --- the figures draw the geometry ------------------------------------------------------------


def _codes(ax) -> np.ndarray:
    """The cell categories a panel drew (its image's array)."""
    return np.asarray(ax.images[0].get_array())


def _cells(mask: np.ndarray) -> list[tuple[int, int]]:
    return [(int(r), int(c)) for r, c in np.argwhere(mask)]


@pytest.mark.parametrize("setting", _settings(seed=5, count=12))
def test_conv_figure_colours_the_cells_the_output_cell_reads(setting):
    n, k, s, p, d = setting
    axis = ConvAxis(n, k, s, p, d)
    row, col = axis.out_length - 1, axis.out_length // 2
    fig = explorers.conv_figure(n, k, p, s, d, row, col)
    padded, out = _codes(fig.axes[0]), _codes(fig.axes[1])
    read = np.isin(padded, [explorers.READ, explorers.READ_ZERO])
    want = np.zeros_like(read)
    want[np.ix_(axis.reads(row) + p, axis.reads(col) + p)] = True
    np.testing.assert_array_equal(read, want)
    border = np.ones((axis.padded, axis.padded), dtype=bool)
    border[p : p + n, p : p + n] = False
    np.testing.assert_array_equal(np.isin(padded, [explorers.ZERO, explorers.READ_ZERO]), border)
    assert out.shape == (axis.out_length,) * 2
    assert _cells(out == explorers.CHOSEN) == [(row, col)]
    title = fig.get_suptitle()
    assert f"// {s} + 1 = {axis.out_length}" in title
    assert ("Keras refuses" in title) == (s > 1 and d > 1)


def test_conv_figure_says_when_the_kernel_does_not_fit():
    fig = explorers.conv_figure(n=3, kernel=5, padding=0, stride=1, dilation=1)
    assert "no output" in fig.get_suptitle()
    assert not (_codes(fig.axes[0]) == explorers.READ).any()


@pytest.mark.parametrize("setting", _settings(seed=6, count=12, transposed=True))
def test_transposed_figure_colours_what_one_input_cell_writes_and_counts_overlaps(setting):
    n, k, s, p, d = setting
    axis = TransposedAxis(n, k, s, p, d)
    row, col = n - 1, n // 2
    fig = explorers.transposed_figure(n, k, s, p, d, row, col)
    source, inserted, written = (_codes(a) for a in fig.axes[:3])
    assert _cells(source == explorers.CHOSEN) == [(row, col)]
    np.testing.assert_array_equal(written == explorers.READ, geometry_writes(axis)[row, col])
    # the zero-insertion view: n x n input cells, S - 1 zeros between, the border around
    cells = np.isin(inserted, [explorers.OUTPUT, explorers.CHOSEN])
    assert cells.sum() == n * n and inserted.shape == (axis.inserted_length,) * 2
    at = axis.inserted_index(np.arange(n))
    assert cells[np.ix_(at, at)].all()
    b = axis.border
    assert (inserted[:b] == explorers.BORDER).all() and (inserted[:, :b] == explorers.BORDER).all()
    # the overlaps are how many inputs write each output cell, as the connectivity says
    np.testing.assert_array_equal(_codes(fig.axes[3]), geometry_writes(axis).sum(axis=(0, 1)))


def test_the_checkerboard_shows_in_the_overlaps_of_kernel_3_stride_2():
    """The lecture's claim (unit 12, section 5) seen in the explorer's last panel: a 3x3
    kernel with stride 2 overlaps unevenly inside, 4x4 with stride 2 evenly."""

    def inner(kernel):
        counts = _codes(explorers.transposed_figure(6, kernel, 2, 0, 1).axes[3])
        return counts[kernel:-kernel, kernel:-kernel]

    assert np.ptp(inner(3)) > 0
    assert np.ptp(inner(4)) == 0


def test_show_padding_stride_draws_the_positions_and_the_output_size():
    import matplotlib.pyplot as plt

    explorers.show_padding_stride(n=5, kernel=3, padding=1, stride=2, positions=3)
    fig = plt.gcf()
    try:
        assert len(fig.axes) == 4
        axis = ConvAxis(5, 3, 2, 1)
        for k, ax in enumerate(fig.axes[:3]):
            read = np.isin(_codes(ax), [explorers.READ, explorers.READ_ZERO])
            assert set(np.nonzero(read.any(axis=0))[0]) == set(axis.reads(k) + 1)
            assert set(np.nonzero(read.any(axis=1))[0]) == {0, 1, 2}
            assert (_codes(ax)[0] != explorers.INPUT).all()  # the top row is zero border
        assert _codes(fig.axes[3]).shape == (3, 3)
        assert "(5 - 3 + 2·1) // 2 + 1 = 3" in fig.get_suptitle()
    finally:
        plt.close(fig)


# --- the sliders ------------------------------------------------------------------------------


def test_moving_a_slider_redraws_the_figure():
    pytest.importorskip("ipywidgets")
    e = explorers.conv_explorer(n=7, kernel=3, padding=1, stride=2, dilation=1, row=0, col=3)
    first = e.figure
    assert _codes(first.axes[1]).shape == (4, 4) and "= 4" in e.readout.value
    e.sliders["stride"].value = 1
    assert e.figure is not first
    assert _codes(e.figure.axes[1]).shape == (7, 7) and "= 7" in e.readout.value
    assert e.sliders["row"].max == 6 and e.sliders["col"].max == 6


def test_the_output_cell_sliders_follow_the_output_size():
    pytest.importorskip("ipywidgets")
    e = explorers.conv_explorer(n=7, kernel=3, padding=1, stride=1, dilation=1, row=6, col=6)
    e.sliders["stride"].value = 4  # (7 - 3 + 2) // 4 + 1 = 2 outputs
    assert e.sliders["row"].max == 1 and e.sliders["row"].value == 1
    assert _cells(_codes(e.figure.axes[1]) == explorers.CHOSEN) == [(1, 1)]
    e.sliders["padding"].value = 0
    e.sliders["stride"].value = 1
    e.sliders["kernel"].value = 5
    e.sliders["dilation"].value = 3  # spans 13 cells of 7: no output
    assert e.sliders["row"].disabled and "no output" in e.readout.value


def test_the_transposed_explorer_bounds_padding_by_the_kernels_span():
    pytest.importorskip("ipywidgets")
    e = explorers.transposed_explorer(n=4, kernel=3, stride=2, padding=2, dilation=1)
    assert e.sliders["padding"].max == 2
    e.sliders["kernel"].value = 2
    assert e.sliders["padding"].max == 1 and e.sliders["padding"].value == 1
    e.sliders["n"].value = 2
    assert e.sliders["row"].max == 1
    assert _codes(e.figure.axes[0]).shape == (2, 2)


def _displayed(monkeypatch, call):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    call()
    return shown


def _drawn(monkeypatch, name: str) -> list:
    """Record the figures `explorers.<name>` draws."""
    figures, draw = [], getattr(explorers, name)
    monkeypatch.setattr(explorers, name, lambda **kw: figures.append(draw(**kw)) or figures[-1])
    return figures


def _is_png(obj) -> bool:
    from IPython.display import Image

    return isinstance(obj, Image) and obj.data.startswith(b"\x89PNG")


def test_without_a_person_the_cell_shows_one_static_figure(monkeypatch, capsys):
    assert not explorers._person_at_the_frontend()  # pytest: no kernel
    figures = _drawn(monkeypatch, "conv_figure")
    shown = _displayed(monkeypatch, lambda: explorers.explore_convolution(stride=1))
    assert len(shown) == 1 and _is_png(shown[0])
    assert len(figures) == 1 and "= 7" in figures[0].get_suptitle()
    assert "sliders" in capsys.readouterr().out
    shown = _displayed(monkeypatch, explorers.explore_transposed)
    assert len(shown) == 1 and _is_png(shown[0])


def test_without_ipywidgets_the_cell_shows_one_static_figure(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` fails
    shown = _displayed(monkeypatch, lambda: explorers.explore_convolution(interactive=True))
    assert len(shown) == 1 and _is_png(shown[0])
    assert "ipywidgets is not installed" in capsys.readouterr().out


def test_a_person_at_the_frontend_gets_the_sliders(monkeypatch):
    widgets = pytest.importorskip("ipywidgets")
    import IPython

    class Kernel:
        _allow_stdin = True  # what JupyterLab and Colab send with every cell

    class Shell:
        kernel = Kernel()

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert explorers._person_at_the_frontend()
    shown = _displayed(monkeypatch, explorers.explore_transposed)
    assert isinstance(shown[-1], widgets.VBox)
    Kernel._allow_stdin = False  # papermill, nbclient, nbval
    assert not explorers._person_at_the_frontend()


@pytest.mark.notebook
def test_a_notebook_run_by_nbclient_stores_the_static_figure(tmp_path):
    """What papermill and the website build see: an image output and no widget."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from utils.plots import explorers\nexplorers.explore_convolution(stride=1)"
        )
    ]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    kinds = [set(o.get("data", {})) for o in nb.cells[0].outputs]
    assert any("image/png" in k for k in kinds)
    assert not any("application/vnd.jupyter.widget-view+json" in k for k in kinds)


# --- in a browser: JupyterLab, lecture 01, a slider ---------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1400,1000",
]
LECTURE = "01_convolution.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _explorer_cell(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if "explorers.explore_convolution(" in c.source)


@pytest.mark.site
def test_in_jupyterlab_a_slider_redraws_the_explorer(tmp_path):
    """JupyterLab (started as tests/test_lab_server.py starts it, on a copy of lecture 01 in
    a folder of its own so nothing is saved into the course) runs the setup, parameters and
    imports cells and the explorer cell; the sliders appear; moving the stride slider one
    step changes the readout and the figure."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are needed: run `make browser`.")
    import nbformat
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    work = tmp_path / "lab"
    work.mkdir()
    shutil.copy(root() / "notebooks" / LECTURE, work / LECTURE)
    nb = nbformat.read(work / LECTURE, as_version=4)
    cell = _explorer_cell(nb)
    start = next(i for i, c in enumerate(nb.cells) if "PROFILE = start(" in c.source)
    to_run = [1, 2, start, cell]  # setup, parameters, imports, the explorer

    port, token = _free_port(), "course-test"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--notebook-dir={work}",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    profile = tempfile.mkdtemp(prefix="explorer-chromium-")
    driver = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api?token={token}", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_script_timeout(60)
        driver.get(f"http://127.0.0.1:{port}/lab/tree/{LECTURE}?token={token}")

        def until(js: str, timeout: float, what: str, *args):
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                value = driver.execute_script(js, *args)
                if value:
                    return value
                time.sleep(0.3)
            pytest.fail(f"JupyterLab: {what} (waited {timeout:.0f} s)", pytrace=False)

        panel = "window.jupyterapp && jupyterapp.shell.currentWidget"
        until(
            f"const w = {panel}; return w && w.sessionContext && w.context.isReady "
            "&& w.sessionContext.session && w.sessionContext.session.kernel "
            "&& w.sessionContext.session.kernel.status === 'idle';",
            45,
            "lecture 01 did not open with an idle kernel",
        )
        for index in to_run:  # select a cell, run it, wait for the kernel to finish it
            driver.execute_script(
                f"const w = {panel}; w.content.activeCellIndex = arguments[0];"
                "return jupyterapp.commands.execute('notebook:run-cell');",
                index,
            )
            until(
                f"const c = {panel}.content.widgets[arguments[0]];"
                "return c.model.executionCount !== null && "
                f"{panel}.sessionContext.session.kernel.status === 'idle';",
                60,
                f"cell {index} did not finish",
                index,
            )
        errors = driver.execute_script(
            f"return [...{panel}.node.querySelectorAll('.jp-RenderedText[data-mime-type="
            '"application/vnd.jupyter.stderr"]\')].map(e => e.innerText);'
        )
        assert not any("Error" in e for e in errors), errors
        explorer = f"{panel}.node.querySelector('.course-explorer')"
        until(f"const e = {explorer}; return e && e.querySelector('.widget-output img');", 30,
              "the explorer's sliders and figure did not render")  # fmt: skip
        state = (
            f"const e = {explorer}; return [e.querySelector('.widget-output img').src, "
            "e.querySelector('.widget-html-content').innerText];"
        )
        before_img, before_text = driver.execute_script(state)
        assert "= 4" in before_text  # N = 7, F = 3, P = 1, S = 2
        sliders = driver.find_elements(By.CSS_SELECTOR, ".course-explorer .widget-slider")
        labels = [s.find_element(By.CSS_SELECTOR, "label").text for s in sliders]
        stride = sliders[labels.index("stride S")]
        handle = stride.find_element(By.CSS_SELECTOR, ".noUi-handle, .ui-slider-handle")
        handle.click()
        handle.send_keys(Keys.ARROW_LEFT)  # stride 2 -> 1
        after = until(
            f"const e = {explorer}; const t = e.querySelector('.widget-html-content').innerText;"
            "const i = e.querySelector('.widget-output img');"
            "return i && i.src !== arguments[1] && t !== arguments[0] ? [i.src, t] : null;",
            30,
            "moving the stride slider did not change both the readout and the figure",
            before_text,
            before_img,
        )
        assert "= 7" in after[1], after[1]  # (7 - 3 + 2·1) // 1 + 1
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(profile, ignore_errors=True)
