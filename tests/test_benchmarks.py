"""The benchmark of unit 03 (`make bench`) on a tiny layer: its parts, not its timings."""

from __future__ import annotations

import io
import math

import nbformat
import numpy as np
import pytest

from utils.checks.convolution import _reference_conv2d, conv2d_cases
from utils.measure import conv_speed
from utils.tooling import bench as bench_main
from utils.tooling import nbfiles

SOLUTION = nbfiles.root() / bench_main.DEFAULT_NOTEBOOK
LOOPS_SOLUTION = nbfiles.root() / bench_main.LOOPS_NOTEBOOK
TINY = conv_speed.SIZES["tiny"]["layer"]


def _notebook(tmp_path, *sources, name="lab.ipynb"):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


GEMM_BY_SCIPY = """
import numpy as np
from scipy.signal import correlate

def im2col(x, kh, kw, stride, padding):
    return np.zeros((1, 1), x.dtype)

def conv2d_gemm(x, w, b, stride, padding):
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    maps = [correlate(xp, w[..., f], mode="valid")[..., 0] for f in range(w.shape[-1])]
    return (np.stack(maps, -1)[::stride, ::stride] + b).astype(x.dtype)
"""


def _loops():
    return bench_main.load_functions(LOOPS_SOLUTION, ("conv2d_loops",))["conv2d_loops"]


def test_the_loop_convolution_of_unit_01_matches_scipy():
    loops = _loops()
    for x, w, b, stride, pad in conv2d_cases(12, seed=5):
        got = loops(x, w, b, stride, pad)
        np.testing.assert_allclose(got, _reference_conv2d(x, w, b, stride, pad), atol=1e-12)


def test_the_layer_counts_its_macs_and_makes_float32_tensors():
    assert TINY.macs() == 3 * 3 * 3 * 4 * TINY.out_w * TINY.out_h
    assert (TINY.out_h, TINY.out_w) == (5, 4)
    x, w, b = TINY.tensors()
    assert x.shape == (9, 8, 3) and w.shape == (3, 3, 3, 4) and b.shape == (4,)
    assert {a.dtype for a in (x, w, b)} == {np.dtype("float32")}


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), (2, 2)])
def test_keras_reference_handles_every_padding(stride, padding):
    x, w, b = conv_speed.ConvLayer(7, 6, 2, 3, k=3, stride=stride, padding=padding).tensors()
    got = conv_speed.keras_conv(x, w, b, stride, padding)()
    want = _reference_conv2d(x.astype(float), w.astype(float), b, stride, padding)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_solution_notebook_is_loaded_without_running_its_checks():
    fns = bench_main.load_functions(SOLUTION)
    assert set(fns) == {"im2col", "conv2d_gemm"}
    x, w, b = TINY.tensors()
    got = fns["conv2d_gemm"](x, w, b, TINY.stride, TINY.padding)
    np.testing.assert_allclose(got, _reference_conv2d(x, w, b, 2, 1), atol=1e-5)
    assert got.dtype == np.float32


def test_only_imports_and_definitions_are_executed(tmp_path):
    path = _notebook(
        tmp_path,
        'import sys\nif "google.colab" in sys.modules:\n    %pip install -q nothing',
        "raise RuntimeError('a check cell must not run')",
        "!echo shell lines are skipped",
        GEMM_BY_SCIPY,
    )
    fns = bench_main.load_functions(path)
    assert fns["im2col"].__name__ == "im2col"


def test_missing_and_unparsable_notebooks_are_reported(tmp_path):
    with pytest.raises(conv_speed.LearnerCodeError, match="no notebook"):
        bench_main.load_functions(tmp_path / "nowhere.ipynb")
    path = _notebook(tmp_path, "def im2col(x):\n    return x", "def conv2d_gemm(:\n")
    with pytest.raises(conv_speed.LearnerCodeError, match="defines no conv2d_gemm.*cell 1"):
        bench_main.load_functions(path)


def test_compare_on_a_tiny_layer():
    out = io.StringIO()
    fns = bench_main.load_functions(SOLUTION)
    result = conv_speed.compare(
        TINY,
        fns["conv2d_gemm"],
        loops=_loops(),
        im2col=fns["im2col"],
        loop_rows=2,
        matmul_n=64,
        min_time=0.0,
        out=out,
    )
    progress = out.getvalue().splitlines()
    assert [line[:5] for line in progress] == [f"[{i}/5]" for i in range(1, 6)]
    assert set(result.timings) == {"keras", "gemm", "loops"}
    for t in result.timings.values():
        assert t.seconds > 0 and t.rel_error < 1e-5
    assert "rows 0-1 of 5" in result.timings["loops"].note
    assert result.im2col_seconds > 0 and result.matmul_gflops > 0
    assert math.isclose(
        result.gflops("gemm"), 2 * TINY.macs() / result.timings["gemm"].seconds / 1e9
    )
    targets = result.targets()
    assert len(targets) == 3 and all(isinstance(ok, bool) for ok, _ in targets)
    table = conv_speed.format_table(result)
    for word in ("Keras Conv2D", "im2col + GEMM", "Python loops*", "NumPy matmul", "Targets"):
        assert word in table
    assert table.count("PASS") + table.count("MISS") == 3


def test_a_wrong_gemm_is_refused(tmp_path):
    wrong = GEMM_BY_SCIPY.replace("+ b)", "- b)")
    fns = bench_main.load_functions(_notebook(tmp_path, wrong))
    with pytest.raises(conv_speed.LearnerCodeError, match="disagrees with Keras"):
        conv_speed.compare(
            TINY, fns["conv2d_gemm"], loops=_loops(), matmul_n=32, min_time=0.0, out=None
        )


def _functions_of(source: str) -> dict:
    namespace: dict = {}
    exec(source, namespace)
    return namespace


def test_compare_reads_no_notebook_and_refuses_wrong_loops(tmp_path, monkeypatch):
    """compare uses only the functions it is given, as in a notebook opened alone on Colab:
    from an empty folder, with every way of reading a notebook disabled."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bench_main, "load_functions", None)
    monkeypatch.setattr(bench_main, "_default_notebook", None)
    gemm = _functions_of(GEMM_BY_SCIPY)["conv2d_gemm"]

    def loops(x, w, b, stride, padding):
        return _reference_conv2d(x, w, b, stride, padding)

    result = conv_speed.compare(TINY, gemm, loops=loops, matmul_n=32, min_time=0.0, out=None)
    assert result.timings["loops"].rel_error < 1e-5 and result.timings["gemm"].rel_error < 1e-5

    def wrong_loops(x, w, b, stride, padding):
        return _reference_conv2d(x, w, b, stride, padding) + 1.0

    with pytest.raises(conv_speed.LearnerCodeError, match="wrong_loops.*disagrees with Keras"):
        conv_speed.compare(TINY, gemm, loops=wrong_loops, matmul_n=32, min_time=0.0, out=None)


def test_command_line_on_the_solution_and_on_a_blank_lab(tmp_path, capsys):
    assert bench_main.main(["--size", "tiny"]) == 0
    printed = capsys.readouterr().out
    assert "MACs = kw*kh*kc*oc*ow*oh*b = 3*3*3*4*4*5*1 = 2,160" in printed
    assert "Targets (printed, not asserted)" in printed
    blank = _notebook(
        tmp_path,
        "def im2col(x, kh, kw, stride, padding):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        "def conv2d_gemm(x, w, b, stride, padding):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    )
    assert bench_main.main(["--size", "tiny", "--notebook", str(blank)]) == 1
    assert "not written yet" in capsys.readouterr().err
