"""Convolution geometry on grids: padding and stride drawn cell by cell, and two explorers
whose sliders redraw the grid (units 01 and 12).

The figures are plain functions of their settings (`conv_figure`, `transposed_figure`: arguments
-> a matplotlib Figure, no browser needed); an `Explorer` only wires ipywidgets sliders to one
of them. The cells come from `utils.measure.conv_geometry`, which tests/test_explorers.py checks
against Keras's Conv2D and Conv2DTranspose.

- `show_padding_stride`: the padded input with its zero border shaded, the kernel's successive
  positions along the first row for a stride, and the output grid with its size worked out.
- `conv_figure`: the cells one output cell of a convolution reads (Figure, for the explorer).
- `transposed_figure`: the cells one input cell of a transposed convolution writes, its
  zero-insertion view and the overlaps (Figure, for the explorer).
- `Explorer`: sliders (ipywidgets) wired to a figure function.
- `conv_explorer`, `transposed_explorer`: the two explorers as `Explorer` objects.
- `explore_convolution`, `explore_transposed`: what a lecture cell calls: the sliders in
  JupyterLab or Colab, one static figure everywhere else.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from utils.measure.conv_geometry import ConvAxis, TransposedAxis

#: Cell categories of the grids (the codes of each panel's image, which tests read back).
INPUT, ZERO, READ, READ_ZERO, OUTPUT, CHOSEN, BORDER = range(7)
_PALETTE = ListedColormap(
    [
        "#ffffff",  # INPUT: an input cell
        "#d4d4d4",  # ZERO: a zero (padding, or a zero inserted between input cells)
        "#f28e2b",  # READ: a cell the chosen output reads / the chosen input writes
        "#f9cf9f",  # READ_ZERO: a zero the chosen output reads
        "#dce7f3",  # OUTPUT: an output cell
        "#2f6da3",  # CHOSEN: the chosen cell
        "#a3a3a3",  # BORDER: a zero of the border (transposed convolution's view)
    ]
)
#: Above this many cells along a side, cells carry no text (it would not be legible).
_MAX_TEXT_CELLS = 20
_KERAS_DILATED_STRIDE = (
    "Keras refuses strides > 1 together with dilation_rate > 1 (the geometry is drawn anyway)"
)


def _draw_grid(
    ax,
    codes: np.ndarray,
    title: str = "",
    texts: dict | None = None,
    frame: int = 0,
    indices: bool = False,
) -> None:
    """Draw an (h, w) array of cell categories as coloured squares with grid lines; `texts`
    maps (row, col) to the text written in that cell. `frame` (cells) sizes the panel as if
    the grid were that large, so that panels of one figure draw cells of one size; `indices`
    numbers the rows and columns."""
    h, w = codes.shape
    ax.imshow(codes, cmap=_PALETTE, vmin=-0.5, vmax=len(_PALETTE.colors) - 0.5)
    ax.hlines(np.arange(h + 1) - 0.5, -0.5, w - 0.5, color="#7f7f7f", lw=0.6)
    ax.vlines(np.arange(w + 1) - 0.5, -0.5, h - 0.5, color="#7f7f7f", lw=0.6)
    _frame(ax, h, w, frame)
    ax.set_xticks([])
    ax.set_yticks([])
    legible = max(h, w) <= _MAX_TEXT_CELLS
    if indices and legible:  # row numbers on the left, column numbers underneath
        for r in range(h):
            ax.text(-0.7, r, str(r), ha="right", va="center", fontsize=7, color="#555555")
        for c in range(w):
            ax.text(c, h - 0.3, str(c), ha="center", va="top", fontsize=7, color="#555555")
    if legible:
        dark = {READ, CHOSEN}
        for (r, c), text in (texts or {}).items():
            colour = "white" if codes[r, c] in dark else "#333333"
            ax.text(c, r, text, ha="center", va="center", fontsize=7, color=colour)
    if title:
        ax.set_title(title, fontsize=9)


def _frame(ax, h: int, w: int, frame: int) -> None:
    """Centre an (h, w) grid in a square of `frame` cells a side, without a box around it."""
    side = max(frame, h, w)
    ax.set_xlim(-0.5 - (side - w) / 2, w - 0.5 + (side - w) / 2)
    ax.set_ylim(h - 0.5 + (side - h) / 2, -0.5 - (side - h) / 2)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _outline(ax, top: int, left: int, height: int, width: int, **style) -> None:
    """A rectangle around cells top .. top + height - 1, left .. left + width - 1."""
    style = {"fill": False, "lw": 2, "ec": "#b33c00", **style}
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, **style))


def _size_text(axis: ConvAxis) -> str:
    """The output size worked out from the numbers: the lecture's formula, with the kernel's
    span E = D(F - 1) + 1 in place of F when the kernel is dilated."""
    n, f, p, s, d = axis.n, axis.kernel, axis.padding, axis.stride, axis.dilation
    if axis.out_length == 0:
        return f"the kernel spans {axis.span} cells, the padded input N + 2P = {axis.padded}: no output"
    if d == 1:
        return f"output size (N - F + 2P) // S + 1 = ({n} - {f} + 2·{p}) // {s} + 1 = {axis.out_length}"
    return (
        f"span E = D·(F - 1) + 1 = {d}·({f} - 1) + 1 = {axis.span};  output size "
        f"(N - E + 2P) // S + 1 = ({n} - {axis.span} + 2·{p}) // {s} + 1 = {axis.out_length}"
    )


def _padded_codes(axis: ConvAxis) -> np.ndarray:
    """The padded input (N + 2P) x (N + 2P): INPUT cells inside a ZERO border."""
    codes = np.full((axis.padded, axis.padded), ZERO)
    p = axis.padding
    codes[p : p + axis.n, p : p + axis.n] = INPUT
    return codes


def _zero_texts(codes: np.ndarray) -> dict:
    zeros = (codes == ZERO) | (codes == READ_ZERO) | (codes == BORDER)
    return {(int(r), int(c)): "0" for r, c in np.argwhere(zeros)}


def _mark_reads(codes: np.ndarray, axis: ConvAxis, row: int, col: int) -> None:
    """Colour the cells output (row, col) reads, in padded coordinates."""
    rows, cols = axis.reads(row) + axis.padding, axis.reads(col) + axis.padding
    for r in rows:
        for c in cols:
            codes[r, c] = READ_ZERO if codes[r, c] == ZERO else READ


def show_padding_stride(
    n: int = 5, kernel: int = 3, padding: int = 1, stride: int = 2, positions: int = 3
) -> None:
    """The padded input (N + 2P cells a side, its zero border shaded and marked 0) with the
    kernel at its first `positions` positions along the top row, each `stride` cells after
    the previous one (dashed), and the output grid with those outputs numbered; the output
    size (N - F + 2P) // S + 1 is written out with the same numbers."""
    axis = ConvAxis(n, kernel, stride, padding)
    if axis.out_length == 0:
        raise ValueError(f"a {kernel}-wide kernel does not fit in {axis.padded} padded cells")
    shown = min(positions, axis.out_length)
    fig, axes = plt.subplots(1, shown + 1, figsize=(2.7 * (shown + 1), 3.3), layout="constrained")
    for k in range(shown):
        codes = _padded_codes(axis)
        _mark_reads(codes, axis, 0, k)
        _draw_grid(
            axes[k],
            codes,
            f"position {k + 1}: output (0, {k})",
            _zero_texts(codes),
        )
        left = axis.start(k) + padding
        _outline(axes[k], 0, left, kernel, kernel)
        if k:
            _outline(axes[k], 0, left - stride, kernel, kernel, ls="--", lw=1.2, ec="#555555")
            axes[k].annotate(
                f"S = {stride}",
                xy=(left + (kernel - 1) / 2, kernel - 0.3),
                xytext=(left - stride + (kernel - 1) / 2, kernel - 0.3),
                ha="center",
                va="top",
                fontsize=8,
                arrowprops={"arrowstyle": "->", "color": "#333333"},
            )
    out = np.full((axis.out_length, axis.out_length), OUTPUT)
    out[0, :shown] = CHOSEN
    _draw_grid(
        axes[-1],
        out,
        f"output {axis.out_length} x {axis.out_length}",
        {(0, k): str(k + 1) for k in range(shown)},
        frame=axis.padded,
        indices=True,
    )
    fig.suptitle(
        f"N = {n}, F = {kernel}, P = {padding}, S = {stride}:  {_size_text(axis)}", fontsize=10
    )


def conv_figure(
    n: int = 7,
    kernel: int = 3,
    padding: int = 1,
    stride: int = 2,
    dilation: int = 1,
    row: int = 0,
    col: int = 3,
) -> Figure:
    """A convolution on an N x N input: left, the padded input with the cells output
    (row, col) reads coloured (read zeros of the border paler) and the kernel's span
    outlined; right, the output grid with that cell marked. The title works the output size
    out. Returns the Figure (not drawn by pyplot: display it)."""
    axis = ConvAxis(n, kernel, stride, padding, dilation)
    size = max(axis.out_length, 1)
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    axes = fig.subplots(1, 2)
    frame = max(axis.padded, size)
    codes = _padded_codes(axis)
    if axis.out_length:
        row, col = min(row, axis.out_length - 1), min(col, axis.out_length - 1)
        _mark_reads(codes, axis, row, col)
        top, left = axis.start(row) + padding, axis.start(col) + padding
        _outline(axes[0], top, left, axis.span, axis.span)
        title = f"padded input {axis.padded} x {axis.padded}: output ({row}, {col}) reads"
    else:
        title = f"padded input {axis.padded} x {axis.padded}"
    _draw_grid(axes[0], codes, title, _zero_texts(codes), frame)
    out = np.full((size, size), OUTPUT)
    if axis.out_length:
        out[row, col] = CHOSEN
        _draw_grid(axes[1], out, f"output {size} x {size}", frame=frame, indices=True)
    else:
        axes[1].axis("off")
        axes[1].set_title("no output", fontsize=9)
    lines = [
        f"N = {n}, F = {kernel}, P = {padding}, S = {stride}, D = {dilation}",
        _size_text(axis),
    ]
    if stride > 1 and dilation > 1:
        lines.append(_KERAS_DILATED_STRIDE)
    fig.suptitle("\n".join(lines), fontsize=10)
    return fig


def transposed_figure(
    n: int = 4,
    kernel: int = 3,
    stride: int = 2,
    padding: int = 0,
    dilation: int = 1,
    row: int = 1,
    col: int = 1,
) -> Figure:
    """A transposed convolution of an N x N input, four panels: the input with cell
    (row, col) chosen; the zero-insertion view (S - 1 zeros between input cells, a border of
    E - 1 - P zeros, E the kernel's span); the output cells that input cell writes to; and how
    many input cells write each output cell (uneven counts are the checkerboard). Padding P
    crops P cells from each end of the output. Returns the Figure (display it)."""
    axis = TransposedAxis(n, kernel, stride, padding, dilation)
    row, col = min(row, n - 1), min(col, n - 1)
    size, ins = axis.out_length, axis.inserted_length
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    axes = fig.subplots(1, 4)
    frame = max(ins, size)

    source = np.full((n, n), OUTPUT)
    source[row, col] = CHOSEN
    _draw_grid(axes[0], source, f"input {n} x {n}: cell ({row}, {col})", frame=frame, indices=True)

    inserted = np.full((ins, ins), BORDER)
    inner = slice(axis.border, ins - axis.border)
    inserted[inner, inner] = ZERO
    at = axis.inserted_index(np.arange(n))
    inserted[np.ix_(at, at)] = OUTPUT
    inserted[axis.inserted_index(row), axis.inserted_index(col)] = CHOSEN
    _draw_grid(
        axes[1],
        inserted,
        f"zero insertion: {stride - 1} between cells, border {axis.border}",
        _zero_texts(inserted),
        frame,
    )

    written = np.full((size, size), INPUT)
    written[np.ix_(axis.writes(row), axis.writes(col))] = READ
    _draw_grid(axes[2], written, f"output {size} x {size}: what ({row}, {col}) writes", frame=frame)

    per_axis = np.zeros(size, dtype=int)  # how many input cells write each output cell
    for i in range(n):
        per_axis[axis.writes(i)] += 1
    overlaps = np.outer(per_axis, per_axis)
    axes[3].imshow(overlaps, cmap="viridis", vmin=0, vmax=max(int(overlaps.max()), 1))
    _frame(axes[3], size, size, frame)
    axes[3].set_xticks([])
    axes[3].set_yticks([])
    axes[3].set_title("input cells writing each output cell", fontsize=9)
    if size <= _MAX_TEXT_CELLS:
        for (r, c), v in np.ndenumerate(overlaps):
            colour = "black" if v > overlaps.max() / 2 else "white"
            axes[3].text(c, r, str(v), ha="center", va="center", fontsize=7, color=colour)

    lines = [
        f"transposed convolution: N = {n}, F = {kernel}, S = {stride}, P = {padding}, "
        f"D = {dilation};  output (N - 1)·S + E - 2P = ({n} - 1)·{stride} + {axis.span} "
        f"- 2·{padding} = {size}  (E = D·(F - 1) + 1 = {axis.span})",
    ]
    if stride > 1 and dilation > 1:
        lines.append(_KERAS_DILATED_STRIDE)
    fig.suptitle("\n".join(lines), fontsize=10)
    return fig


class Explorer:
    """Integer sliders (ipywidgets) wired to a figure function: moving a slider redraws.

    `widget` is what a notebook displays; `sliders` maps each argument of `draw` to its
    IntSlider; `figure` is the Figure last drawn; `readout` an HTML line under the sliders.
    `specs` maps each argument to (value, min, max, label); `bounds(settings)` returns the
    upper bounds that depend on the other settings (a slider whose bound falls below its
    minimum is disabled). Only what ipywidgets 7.7 (Colab's) and 8.1 both have is used:
    IntSlider, HTML, Output, HBox, VBox, `observe` and `add_class`.
    """

    def __init__(
        self,
        draw: Callable[..., Figure],
        specs: dict[str, tuple[int, int, int, str]],
        bounds: Callable[[dict], dict[str, int]],
        describe: Callable[[dict], str],
    ):
        import ipywidgets as widgets

        self._draw, self._bounds, self._describe = draw, bounds, describe
        self._busy = False
        self.figure: Figure | None = None
        self.sliders = {
            name: widgets.IntSlider(
                value=value,
                min=lo,
                max=hi,
                description=label,
                continuous_update=False,
                style={"description_width": "initial"},
            )
            for name, (value, lo, hi, label) in specs.items()
        }
        self.readout = widgets.HTML()
        self.output = widgets.Output()
        names = list(self.sliders)
        half = (len(names) + 1) // 2
        rows = [
            widgets.HBox([self.sliders[k] for k in names[:half]]),
            widgets.HBox([self.sliders[k] for k in names[half:]]),
        ]
        self.widget = widgets.VBox([*rows, self.readout, self.output])
        self.widget.add_class("course-explorer")
        self._fit_bounds()
        for slider in self.sliders.values():
            slider.observe(self._changed, names="value")
        self.redraw()

    def settings(self) -> dict[str, int]:
        """The sliders' current values, by argument name."""
        return {name: int(s.value) for name, s in self.sliders.items()}

    def _fit_bounds(self) -> None:
        for name, hi in self._bounds(self.settings()).items():
            slider = self.sliders[name]
            slider.disabled = hi < slider.min
            slider.max = max(hi, slider.min)  # lowers the value too when it is above

    def _changed(self, change) -> None:
        if self._busy:  # a bound being fitted moved a value: one redraw at the end
            return
        self._busy = True
        try:
            self._fit_bounds()
        finally:
            self._busy = False
        self.redraw()

    def redraw(self) -> None:
        """Draw the figure for the current settings into the output area."""
        from IPython.display import clear_output, display

        settings = self.settings()
        try:
            self.figure = self._draw(**settings)
            self.readout.value = self._describe(settings)
        except ValueError as err:  # a setting the geometry refuses: say why, keep going
            self.readout.value = f"<b>{err}</b>"
            return
        with self.output:
            clear_output(wait=True)
            display(_png(self.figure))


def _conv_bounds(s: dict) -> dict[str, int]:
    last = ConvAxis(s["n"], s["kernel"], s["stride"], s["padding"], s["dilation"]).out_length - 1
    return {"row": last, "col": last}


def _conv_describe(s: dict) -> str:
    axis = ConvAxis(s["n"], s["kernel"], s["stride"], s["padding"], s["dilation"])
    text = _size_text(axis)
    if s["stride"] > 1 and s["dilation"] > 1:
        text += f"<br>{_KERAS_DILATED_STRIDE}"
    return text


def conv_explorer(
    n: int = 7,
    kernel: int = 3,
    padding: int = 1,
    stride: int = 2,
    dilation: int = 1,
    row: int = 0,
    col: int = 3,
) -> Explorer:
    """Sliders for input size N, kernel F, padding P, stride S, dilation D and the output
    cell (row, col), redrawing `conv_figure` (needs ipywidgets)."""
    specs = {
        "n": (n, 3, 10, "input N"),
        "kernel": (kernel, 1, 5, "kernel F"),
        "padding": (padding, 0, 3, "padding P"),
        "stride": (stride, 1, 4, "stride S"),
        "dilation": (dilation, 1, 3, "dilation D"),
        "row": (row, 0, 15, "output row"),
        "col": (col, 0, 15, "output column"),
    }
    return Explorer(conv_figure, specs, _conv_bounds, _conv_describe)


def _transposed_bounds(s: dict) -> dict[str, int]:
    most = TransposedAxis(s["n"], s["kernel"], s["stride"], 0, s["dilation"]).max_padding
    return {"padding": most, "row": s["n"] - 1, "col": s["n"] - 1}


def _transposed_describe(s: dict) -> str:
    axis = TransposedAxis(s["n"], s["kernel"], s["stride"], s["padding"], s["dilation"])
    text = (
        f"output (N - 1)·S + E - 2P = ({axis.n} - 1)·{axis.stride} + {axis.span} "
        f"- 2·{axis.padding} = {axis.out_length}"
    )
    if s["stride"] > 1 and s["dilation"] > 1:
        text += f"<br>{_KERAS_DILATED_STRIDE}"
    return text


def transposed_explorer(
    n: int = 4,
    kernel: int = 3,
    stride: int = 2,
    padding: int = 0,
    dilation: int = 1,
    row: int = 1,
    col: int = 1,
) -> Explorer:
    """Sliders for input size N, kernel F, stride S, padding P (cropped), dilation D and the
    input cell (row, col), redrawing `transposed_figure` (needs ipywidgets)."""
    specs = {
        "n": (n, 2, 6, "input N"),
        "kernel": (kernel, 1, 5, "kernel F"),
        "stride": (stride, 1, 4, "stride S"),
        "padding": (padding, 0, 12, "padding P"),
        "dilation": (dilation, 1, 3, "dilation D"),
        "row": (row, 0, 5, "input row"),
        "col": (col, 0, 5, "input column"),
    }
    return Explorer(transposed_figure, specs, _transposed_bounds, _transposed_describe)


def _png(fig: Figure):
    """The figure as a PNG image to display: the same in every frontend and backend (a bare
    Figure shows as an image only once matplotlib's inline backend is set up)."""
    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return Image(data=buffer.getvalue(), format="png")


def _person_at_the_frontend() -> bool:
    """True when a person's frontend runs this cell. JupyterLab, Notebook and Colab send each
    cell with `allow_stdin` true (their users can answer `input()`); papermill and nbclient
    (so the tests and the website build) and nbval send it false, and outside a kernel (a
    script, pytest) there is no frontend at all."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    kernel = getattr(get_ipython(), "kernel", None)
    return bool(getattr(kernel, "_allow_stdin", False))


def _explore(
    build: Callable[..., Explorer],
    draw: Callable[..., Figure],
    settings: dict,
    interactive: bool | None,
) -> None:
    from IPython.display import display

    if interactive is None:
        interactive = _person_at_the_frontend()
    if interactive:
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            print(
                "No sliders: ipywidgets is not installed (`%pip install ipywidgets`, then "
                "restart the kernel). The figure for the settings in this cell:"
            )
        else:
            display(build(**settings).widget)
            return
    else:
        print(
            "Run in JupyterLab or Colab, this cell shows sliders; run by a tool (tests, the "
            "website), it draws the figure for the settings in the cell:"
        )
    display(_png(draw(**settings)))


def explore_convolution(interactive: bool | None = None, **settings: int) -> None:
    """The convolution explorer (`conv_explorer`) in JupyterLab or Colab; the static
    `conv_figure` for `settings` when ipywidgets is missing or no person runs the cell
    (papermill, nbval, the website build). `interactive` forces either."""
    _explore(conv_explorer, conv_figure, settings, interactive)


def explore_transposed(interactive: bool | None = None, **settings: int) -> None:
    """The transposed-convolution explorer (`transposed_explorer`) in JupyterLab or Colab;
    the static `transposed_figure` for `settings` otherwise (see `explore_convolution`)."""
    _explore(transposed_explorer, transposed_figure, settings, interactive)
