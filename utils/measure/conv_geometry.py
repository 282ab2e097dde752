"""Which cells a convolution reads and a transposed convolution writes, along one axis.

The geometry behind units 01 and 12's grid pictures (`utils.plots.explorers`). A 2-D layer with
the same settings on both axes is the product of two axes: output cell (i, j) reads the input
cells `reads(i) x reads(j)`. tests/test_explorers.py checks every method against what Keras's
Conv2D and Conv2DTranspose compute, for random settings.

- `ConvAxis`: one axis of a convolution: input length, kernel, stride, padding, dilation.
- `TransposedAxis`: one axis of a transposed convolution, and its zero-insertion view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _span(kernel: int, dilation: int) -> int:
    """Cells covered by `kernel` taps placed `dilation` cells apart: D * (F - 1) + 1."""
    return dilation * (kernel - 1) + 1


def _positive(**values: int) -> None:
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class ConvAxis:
    """One axis of a convolution: `n` input cells, padded with `padding` zeros on each side,
    read by `kernel` taps `dilation` cells apart, moved `stride` cells at a time.

    Indices are input indices: -padding .. n + padding - 1, where those outside 0 .. n - 1 are
    the zero border.
    """

    n: int
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def __post_init__(self):
        _positive(n=self.n, kernel=self.kernel, stride=self.stride, dilation=self.dilation)
        if int(self.padding) != self.padding or self.padding < 0:
            raise ValueError(f"padding must be an integer >= 0, got {self.padding!r}")

    @property
    def span(self) -> int:
        """Cells the kernel covers, first tap to last: D * (F - 1) + 1 (F when D = 1)."""
        return _span(self.kernel, self.dilation)

    @property
    def padded(self) -> int:
        """Length of the padded input: N + 2P."""
        return self.n + 2 * self.padding

    @property
    def out_length(self) -> int:
        """Number of kernel positions that fit in the padded input (0 when none does)."""
        if self.padded < self.span:
            return 0
        return (self.padded - self.span) // self.stride + 1

    def start(self, out_index: int) -> int:
        """Input index under the kernel's first tap at output `out_index`."""
        self._check_output(out_index)
        return out_index * self.stride - self.padding

    def reads(self, out_index: int) -> np.ndarray:
        """Input indices under the kernel's taps at output `out_index` (padding included)."""
        return self.start(out_index) + self.dilation * np.arange(self.kernel)

    def _check_output(self, out_index: int) -> None:
        if not 0 <= out_index < self.out_length:
            raise IndexError(f"output index {out_index} outside 0 .. {self.out_length - 1}")


@dataclass(frozen=True)
class TransposedAxis:
    """One axis of a transposed convolution: each of the `n` input cells writes a copy of the
    `kernel` (taps `dilation` cells apart) starting `stride` cells after the previous input's,
    and `padding` cells are cropped from each end of the result.

    The same connectivity, as an ordinary convolution (stride 1, the same dilation) over a
    *zero-inserted* input: `stride - 1` zeros between neighbouring input cells and a border of
    `span - 1 - padding` zeros on each side (`border`). `padding` may not exceed
    `max_padding`: span - 1, and what leaves one output cell.
    """

    n: int
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def __post_init__(self):
        _positive(n=self.n, kernel=self.kernel, stride=self.stride, dilation=self.dilation)
        if int(self.padding) != self.padding or not 0 <= self.padding <= self.max_padding:
            raise ValueError(
                f"padding must be an integer in 0 .. {self.max_padding} (at most the kernel's "
                f"span - 1, and leaving an output cell), got {self.padding!r}"
            )

    @property
    def span(self) -> int:
        """Cells one kernel copy covers: D * (F - 1) + 1."""
        return _span(self.kernel, self.dilation)

    @property
    def max_padding(self) -> int:
        """The largest padding drawn: span - 1 (a border of no zeros), and at most what
        leaves one output cell."""
        return min(self.span - 1, ((self.n - 1) * self.stride + self.span - 1) // 2)

    @property
    def out_length(self) -> int:
        """Output cells after cropping: (n - 1) * S + span - 2P."""
        return (self.n - 1) * self.stride + self.span - 2 * self.padding

    def writes(self, in_index: int) -> np.ndarray:
        """Output indices that input cell `in_index` writes to, cropped cells left out."""
        if not 0 <= in_index < self.n:
            raise IndexError(f"input index {in_index} outside 0 .. {self.n - 1}")
        cells = in_index * self.stride - self.padding + self.dilation * np.arange(self.kernel)
        return cells[(cells >= 0) & (cells < self.out_length)]

    @property
    def border(self) -> int:
        """Zeros on each side of the zero-inserted input: span - 1 - P."""
        return self.span - 1 - self.padding

    @property
    def inserted_length(self) -> int:
        """Length of the zero-inserted, bordered input: (n - 1) * S + 1 + 2 * border."""
        return (self.n - 1) * self.stride + 1 + 2 * self.border

    def inserted_index(self, in_index: int) -> int:
        """Where input cell `in_index` sits in the zero-inserted input."""
        return self.border + in_index * self.stride
