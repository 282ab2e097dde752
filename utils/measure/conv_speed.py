"""Unit 03's benchmark: one convolution layer, three ways, one table.

The same layer, with the same float32 input and weights, is computed by
- Python loops: a loop convolution (unit 01's), one Python iteration per output value;
- im2col + GEMM: the lab's `conv2d_gemm`;
- Keras: `keras.ops.conv`, what a `Conv2D` layer calls, timed after a warm-up call.

Next to them, the machine's NumPy matrix-multiply rate (GFLOP/s of a large float32 `np.matmul`)
is a reference for a GEMM's speed here (not a ceiling: a small GEMM can beat it). For every
method the table gives the seconds, the GFLOP/s (`2 * MACs / seconds`: one multiply and one add
per MAC), the time relative to Keras (`x Keras`) and the rate divided by the matmul rate
(`rate/matmul`, 1x = as fast as the matmul). Three targets are printed with PASS/MISS (not
asserted: shared machines are noisy): im2col + GEMM reaches >= 0.40x the matmul rate, it is
within 3x of Keras, and the loops are >= 100x slower than im2col + GEMM.

The loop and im2col + GEMM code are the answers to labs 01 and 03, so they are not part of this
package: `compare(layer, conv2d_gemm, loops=...)` takes them as arguments, and a notebook passes
its own functions (it runs alone, with nothing but the installed package). The command line
that reads them from a clone's notebooks is instructor tooling: `python -m utils.tooling bench`.

Shapes: one image `x: (H, W, C)`, kernels `w: (K, K, C, F)`, biases `b: (F,)`, output
`(OH, OW, F)` with `OH = (H + 2 * padding - K) // stride + 1`; all arrays float32.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from utils.measure.errors import scaled_error

#: Functions read from the notebook.
FUNCTIONS = ("im2col", "conv2d_gemm")


#: The printed targets (not asserted).
GEMM_SHARE_OF_MATMUL = 0.40


GEMM_VS_KERAS = 3.0


LOOPS_VS_GEMM = 100.0


class LearnerCodeError(RuntimeError):
    """The notebook's functions are missing, not written yet, or give wrong results."""


def _error(got: np.ndarray, want: np.ndarray) -> float:
    """`scaled_error` (float32 rounding gives about 1e-6), or inf if the shapes differ."""
    got, want = np.asarray(got), np.asarray(want)
    return scaled_error(got, want) if got.shape == want.shape else math.inf


@dataclass(frozen=True)
class ConvLayer:
    """One Conv2D layer applied to one image: (h, w, c_in) -> (out_h, out_w, c_out)."""

    h: int
    w: int
    c_in: int
    c_out: int
    k: int = 3
    stride: int = 1
    padding: int = 1

    @property
    def out_h(self) -> int:
        return (self.h + 2 * self.padding - self.k) // self.stride + 1

    @property
    def out_w(self) -> int:
        return (self.w + 2 * self.padding - self.k) // self.stride + 1

    def describe(self) -> str:
        return (
            f"{self.h}x{self.w}x{self.c_in} -> {self.k}x{self.k} conv, {self.c_out} filters, "
            f"stride {self.stride}, padding {self.padding} -> {self.out_h}x{self.out_w}x{self.c_out}"
        )

    def keras_model(self):
        """The layer as a Keras model (zero padding, then a 'valid' Conv2D), for count_macs."""
        import keras

        layers = [
            keras.Input((self.h, self.w, self.c_in)),
            keras.layers.ZeroPadding2D(self.padding),
            keras.layers.Conv2D(self.c_out, self.k, strides=self.stride),
        ]
        model = keras.Sequential(layers, name="benchmark_layer")
        return model

    def macs(self) -> int:
        """MACs for one image, by the lecture notes' formula kw*kh*kc*oc*ow*oh*b (b = 1),
        cross-checked against utils.measure.macs.count_macs of the Keras layer."""
        from utils.measure.macs import count_macs

        formula = self.k * self.k * self.c_in * self.c_out * self.out_w * self.out_h * 1
        counted = count_macs(self.keras_model())
        if counted != formula:
            raise AssertionError(f"count_macs gives {counted:,}, the formula {formula:,}")
        return formula

    def tensors(self, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Random float32 x: (h, w, c_in), w: (k, k, c_in, c_out), b: (c_out,)."""
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((self.h, self.w, self.c_in), dtype=np.float32)
        fan_in = self.k * self.k * self.c_in
        w = rng.standard_normal((self.k, self.k, self.c_in, self.c_out), dtype=np.float32)
        w /= np.float32(math.sqrt(fan_in))
        b = rng.standard_normal(self.c_out, dtype=np.float32) * np.float32(0.1)
        return x, w, b


#: `bench`: what `make bench` times (a ResNet stage-3 layer: 128 channels at 28x28), loops on
#: a quarter of its output rows. `tiny`: seconds-long, for the tests and a quick look.
SIZES = {
    "bench": {"layer": ConvLayer(28, 28, 128, 128), "loop_rows": 7, "matmul_n": 2048},
    "tiny": {
        "layer": ConvLayer(9, 8, 3, 4, k=3, stride=2, padding=1),
        "loop_rows": 2,
        "matmul_n": 128,
    },
}


def keras_conv(x, w, b, stride: int, padding: int) -> Callable[[], np.ndarray]:
    """A no-argument function computing the convolution with keras.ops.conv -> (OH, OW, F).

    The arrays are converted to tensors once, outside the timed call; the result is converted
    back to NumPy inside it, as the other methods return NumPy arrays. Stride 1 with
    `2 * padding == K - 1` uses Keras's own 'same' padding; other paddings pad explicitly.
    """
    import keras

    k = w.shape[0]
    xt = keras.ops.convert_to_tensor(x[None])
    wt = keras.ops.convert_to_tensor(w)
    bt = keras.ops.convert_to_tensor(b)
    if padding == 0:
        mode, pads = "valid", None
    elif stride == 1 and 2 * padding == k - 1 and w.shape[1] == k:
        mode, pads = "same", None
    else:
        mode, pads = "valid", [(0, 0), (padding, padding), (padding, padding), (0, 0)]

    def run() -> np.ndarray:
        inp = keras.ops.pad(xt, pads) if pads else xt
        y = keras.ops.conv(inp, wt, strides=stride, padding=mode) + bt
        return keras.ops.convert_to_numpy(y)[0]

    return run


def _human(seconds: float) -> str:
    """2.5 s, 12.3 ms or 45.6 us."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def best_time(
    fn: Callable[[], object], *, min_time: float = 0.5, min_repeats: int = 3, warmup: bool = True
) -> tuple[float, int]:
    """(best seconds, number of timed calls) of `fn()`: repeats until `min_time` seconds have
    been spent and at least `min_repeats` calls made (at most 1,000). The minimum is the
    least disturbed run, the usual choice on a shared machine."""
    if warmup:
        fn()
    times: list[float] = []
    while len(times) < min_repeats or (sum(times) < min_time and len(times) < 1000):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), len(times)


def matmul_gflops(n: int = 2048, *, min_time: float = 1.0) -> tuple[float, int]:
    """(GFLOP/s, timed calls) of NumPy's float32 (n, n) @ (n, n): 2 * n**3 operations a call."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    seconds, repeats = best_time(lambda: a @ b, min_time=min_time)
    return 2 * n**3 / seconds / 1e9, repeats


def _call_learner(fn: Callable, *args, source: str = "the notebook"):
    """fn(*args); a NotImplementedError gets a message saying what to do (same type, so that
    a blank lab fails with NotImplementedError, as the course's lab tests expect)."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise NotImplementedError(
            f"`{getattr(fn, '__name__', 'your function')}` in {source} is not written yet "
            f"(YOUR CODE HERE): write the exercises of lab 03, then run this again (the command "
            f"line reads the saved notebook: save it first)."
        ) from None


@dataclass
class Timing:
    """One method's time for the whole layer (scaled up if measured on part of it)."""

    label: str
    seconds: float
    repeats: int
    rel_error: float
    note: str = ""


@dataclass
class Comparison:
    """What `compare` measured. `timings` keys: 'keras', 'gemm', 'loops'."""

    layer: ConvLayer
    macs: int
    matmul_n: int
    matmul_gflops: float
    timings: dict[str, Timing] = field(default_factory=dict)
    #: seconds of im2col alone (the copy that prepares the GEMM), if it was timed
    im2col_seconds: float | None = None
    #: the 1-minute load average after the measurements (None where the OS has none)
    load: float | None = None

    def gflops(self, key: str) -> float:
        return 2 * self.macs / self.timings[key].seconds / 1e9

    def times_keras(self, key: str) -> float:
        return self.timings[key].seconds / self.timings["keras"].seconds

    def targets(self) -> list[tuple[bool, str]]:
        """(met, description with the measured value) for each printed target."""
        share = self.gflops("gemm") / self.matmul_gflops
        vs_keras = self.times_keras("gemm")
        loops = self.timings["loops"].seconds / self.timings["gemm"].seconds
        return [
            (
                share >= GEMM_SHARE_OF_MATMUL,
                f"im2col + GEMM >= {GEMM_SHARE_OF_MATMUL:.2g}x the NumPy matmul rate: {share:.3g}x",
            ),
            (
                vs_keras <= GEMM_VS_KERAS,
                f"im2col + GEMM within {GEMM_VS_KERAS:.0f}x of Keras Conv2D: {vs_keras:.1f}x Keras's time",
            ),
            (
                loops >= LOOPS_VS_GEMM,
                f"Python loops >= {LOOPS_VS_GEMM:.0f}x slower than im2col + GEMM: {loops:,.0f}x",
            ),
        ]


def compare(
    layer: ConvLayer,
    conv2d_gemm: Callable,
    *,
    loops: Callable,
    loop_rows: int | None = None,
    matmul_n: int = 2048,
    min_time: float = 0.5,
    seed: int = 0,
    im2col: Callable | None = None,
    source: str = "the notebook",
    out: TextIO | None = sys.stdout,
) -> Comparison:
    """Time `layer` by `loops(x, w, b, stride, padding)`, by `conv2d_gemm(x, w, b, stride,
    padding)` and by Keras. Both functions map x: (H, W, C), w: (K, K, C, F), b: (F,) to
    (OH, OW, F); the notebook calling this passes its own (they are labs' answers).

    `loop_rows`: time the loops on the first `loop_rows` output rows only (all columns and
    filters) and scale the time by `out_h / loop_rows` (None: all rows). The loops' cost per
    output row is the same for every row, so the scaling is exact up to timing noise.
    `im2col(x, kh, kw, stride, padding)`, if given, is also timed alone (the copy part of
    im2col + GEMM). `out`: where the progress lines go (None: silent). Raises NotImplementedError
    if `conv2d_gemm` is not written yet, LearnerCodeError if it disagrees with Keras.
    """
    rows = layer.out_h if loop_rows is None else max(1, min(loop_rows, layer.out_h))

    def step(i: int, text: str) -> None:
        if out is not None:
            print(f"[{i}/5] {text} ...", end=" ", file=out, flush=True)

    def done(text: str) -> None:
        if out is not None:
            print(text, file=out, flush=True)

    x, w, b = layer.tensors(seed)
    macs = layer.macs()

    step(1, f"NumPy matmul rate, float32 {matmul_n}x{matmul_n} @ {matmul_n}x{matmul_n}")
    rate, n = matmul_gflops(matmul_n, min_time=2 * min_time)
    done(f"{rate:.1f} GFLOP/s (best of {n})")
    result = Comparison(layer, macs, matmul_n, rate)

    step(2, "Keras conv (keras.ops.conv), warm-up then timing")
    run_keras = keras_conv(x, w, b, layer.stride, layer.padding)
    reference = run_keras()
    seconds, n = best_time(run_keras, min_time=min_time, warmup=False)
    result.timings["keras"] = Timing("Keras Conv2D", seconds, n, 0.0)
    done(f"{_human(seconds)} (best of {n})")

    step(3, f"im2col + GEMM from {source}, checked against Keras")
    got = _call_learner(conv2d_gemm, x, w, b, layer.stride, layer.padding, source=source)
    err = _error(got, reference)
    if not err < 1e-3:
        shape = getattr(got, "shape", type(got).__name__)
        raise LearnerCodeError(
            f"`conv2d_gemm` in {source} disagrees with Keras on {layer.describe()}: "
            f"output {shape} vs {reference.shape}, relative error {err:.1e}; run the lab's checks."
        )
    done(f"relative error {err:.0e}")

    step(4, "im2col + GEMM, timing" + (" (and im2col alone)" if im2col else ""))
    args = (x, w, b, layer.stride, layer.padding)
    seconds, n = best_time(lambda: conv2d_gemm(*args), min_time=min_time, warmup=False)
    dtype = np.asarray(got).dtype
    note = "" if dtype == np.float32 else f"returns {dtype}, not float32"
    result.timings["gemm"] = Timing("im2col + GEMM", seconds, n, err, note)
    if im2col is not None:
        col_args = (x, layer.k, layer.k, layer.stride, layer.padding)
        _call_learner(im2col, *col_args, source=source)
        result.im2col_seconds, _ = best_time(lambda: im2col(*col_args), min_time=min_time / 2)
    done(f"{_human(seconds)} (best of {n})")

    step(5, f"Python loops on {rows} of {layer.out_h} output rows, once")
    top = (rows - 1) * layer.stride + layer.k  # input rows (after padding) the loops need
    padded = np.pad(x, [(layer.padding, layer.padding)] * 2 + [(0, 0)])
    slab = padded[:top]
    start = time.perf_counter()
    part = _call_learner(loops, slab, w, b, layer.stride, 0, source=source)
    seconds = (time.perf_counter() - start) * layer.out_h / rows
    note = (
        ""
        if rows == layer.out_h
        else (
            f"timed on output rows 0-{rows - 1} of {layer.out_h} (all columns and filters), "
            f"time scaled x{layer.out_h / rows:g}"
        )
    )
    loop_err = _error(part, reference[:rows])
    if not loop_err < 1e-3:
        raise LearnerCodeError(
            f"`{getattr(loops, '__name__', 'loops')}` from {source} disagrees with Keras on the "
            f"first {rows} output rows: relative error {loop_err:.1e}; run lab 01's checks."
        )
    result.timings["loops"] = Timing("Python loops", seconds, 1, loop_err, note)
    result.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    done(f"{_human(seconds)} for the whole layer" + (" (scaled)" if note else ""))
    return result


def format_table(result: Comparison) -> str:
    """The table and the targets, as printed by `make bench`."""
    head = f"{'method':<16}{'seconds':>10}{'GFLOP/s':>10}{'x Keras':>10}{'rate/matmul':>13}"
    lines = [head + "  max rel. error vs Keras"]
    notes = []
    for key in ("keras", "gemm", "loops"):
        t = result.timings[key]
        mark = ""
        if t.note:
            notes.append(t.note)
            mark = "*" * len(notes)
        share = result.gflops(key) / result.matmul_gflops
        error = "(reference)" if key == "keras" else f"{t.rel_error:.0e}"
        lines.append(
            f"{t.label + mark:<16}{t.seconds:>10.3g}{result.gflops(key):>10.3g}"
            f"{result.times_keras(key):>10.3g}{f'{share:.3g}x':>13}  {error}"
        )
    n = result.matmul_n
    lines.append(
        f"{'NumPy matmul':<16}{'':>10}{result.matmul_gflops:>10.3g}{'':>10}{'1x':>13}"
        f"  ({n}x{n} @ {n}x{n} float32: the reference rate)"
    )
    lines += [f"{'*' * (i + 1)} {note}" for i, note in enumerate(notes)]
    if result.im2col_seconds is not None:
        gemm = result.timings["gemm"].seconds
        lines.append(
            f"im2col alone (the copy before the GEMM): {result.im2col_seconds:.3g} s, "
            f"{result.im2col_seconds / gemm:.0%} of im2col + GEMM's time."
        )
    lines.append("GFLOP/s = 2 * MACs / seconds; 'x Keras' = seconds / Keras's seconds.")
    lines.append(
        "rate/matmul = GFLOP/s / the NumPy matmul's GFLOP/s: a reference measured here, not a "
        "ceiling (above 1x: faster than that matmul)."
    )
    cores = os.cpu_count() or 1
    if result.load is not None and result.load > cores:
        lines.append(
            f"Note: the machine was busy (load average {result.load:.1f} on {cores} cores): "
            "timings are noisy; run again when it is idle."
        )
    lines.append("")
    lines.append("Targets (printed, not asserted):")
    lines += [f"  {'PASS' if ok else 'MISS'}  {text}" for ok, text in result.targets()]
    return "\n".join(lines)


def _machine() -> str:
    import keras
    import tensorflow as tf

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # older NumPy: no dict mode
        blas = "BLAS"
    try:  # how many threads NumPy's BLAS uses (threadpoolctl comes with scikit-learn)
        from threadpoolctl import threadpool_info

        threads = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        blas += f", {threads} threads"
    except Exception:
        pass
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    return (
        f"{os.cpu_count()} CPU cores | NumPy {np.__version__} ({blas}) | "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__} on {device}"
    )
