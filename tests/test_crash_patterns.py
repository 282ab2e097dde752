"""No convolution in the course has a stride larger than its kernel, unless a comment says why
it is safe.

TensorFlow's oneDNN CPU path corrupts the heap on the input gradient of such a convolution
(measured on the AMD EPYC machines the course is tested on, TensorFlow 2.19-2.21: a 1x1 kernel
with stride 2 crashes the kernel process with 1 to 15 input channels, from 16x16 maps up; 16, 32
and 64 channels passed, even under glibc's checking allocator). A learner loses the kernel and
every variable with it, so the pattern is found statically, in every code cell of every
notebook and in every module of the package, before any CPU meets it.

A line that must keep the pattern carries a comment with the word `oneDNN` that says why it is
safe (no gradient reaches the layer's input, or its input channels are a multiple of 16), and
README's troubleshooting section tells a learner what to do if a kernel dies anyway.
"""

from __future__ import annotations

import ast

import pytest

from utils.tooling import nbfiles

ROOT = nbfiles.root()
CONV_LAYERS = {"Conv1D", "Conv2D", "Conv3D", "SeparableConv2D", "DepthwiseConv2D"}
ALLOW = "onednn"  # a comment with this word, on one of the call's lines, explains it


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _ints(node: ast.expr | None) -> list[int] | None:
    """The integer(s) of a literal `3` or `(1, 2)`, else None (not known without running)."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    values = list(value) if isinstance(value, tuple | list) else [value]
    return values if all(isinstance(v, int) for v in values) else None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def risky_convolutions(source: str) -> list[tuple[int, str]]:
    """(line, reason) for each convolution layer in `source` whose stride may exceed its kernel.

    Literal kernel and strides: flagged when a stride is larger than the kernel on that axis.
    A literal 1x1 kernel with strides computed at run time: flagged too (it exceeds whenever
    the stride is 2 or more). Calls whose lines carry an `oneDNN` comment are allowed.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: nothing to parse here
        return []
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _name(node.func) in CONV_LAYERS):
            continue
        if _name(node.func) == "DepthwiseConv2D":
            kernel, strides = _argument(node, 0, "kernel_size"), _argument(node, 1, "strides")
        else:
            kernel, strides = _argument(node, 1, "kernel_size"), _argument(node, 2, "strides")
        if strides is None:
            continue  # stride 1
        k, s = _ints(kernel), _ints(strides)
        if k is not None and s is not None:
            k, s = (k * 2 if len(k) == 1 else k), (s * 2 if len(s) == 1 else s)
            risky = any(si > ki for ki, si in zip(k, s, strict=False))
        else:
            risky = k is not None and max(k) == 1
        text = "\n".join(lines[node.lineno - 1 : node.end_lineno]).lower()
        if risky and ALLOW not in text:
            found.append((node.lineno, ast.get_source_segment(source, node) or ""))
    return found


def _sources():
    for folder in nbfiles.FOLDERS:
        for path in nbfiles.course_notebooks(folder):
            for i, cell in enumerate(nbfiles.read(path).cells):
                if cell.cell_type == "code":
                    yield f"{nbfiles.relpath(path)} cell {i}", cell.source
    for path in sorted((ROOT / "utils").rglob("*.py")):
        yield nbfiles.relpath(path), path.read_text(encoding="utf-8")


def test_no_convolution_has_a_stride_larger_than_its_kernel():
    problems = [
        f"{where} line {line}: {code.splitlines()[0][:90]}"
        for where, source in _sources()
        for line, code in risky_convolutions(source)
    ]
    assert not problems, (
        "a convolution whose stride exceeds its kernel: its input gradient crashes TensorFlow's "
        "oneDNN CPU path. Use a kernel at least as large as the stride, or say in a comment "
        "with the word `oneDNN` why it is safe:\n" + "\n".join(problems)
    )


@pytest.mark.parametrize(
    "code, flagged",
    [
        ("L.Conv2D(1, 1, strides=2)", True),
        ("keras.layers.Conv2D(8, (1, 1), strides=(2, 2), use_bias=False)", True),
        ("L.Conv2D(2, 3, strides=4, activation='relu')", True),
        ("L.Conv2D(f, 1, strides=stride)", True),
        ("L.Conv2D(f, 1, strides=stride)  # oneDNN: 16n input channels", False),
        ("L.Conv2D(1, 2, strides=2)", False),
        ("L.Conv2D(16, 3, strides=2, padding='same')", False),
        ("L.Conv2D(16, k, strides=s)", False),  # nothing known: not flagged
        ("L.Conv2D(16, 1)", False),
        ("L.DepthwiseConv2D(1, 2)", True),
    ],
)
def test_the_scan_flags_what_it_should(code, flagged):
    assert bool(risky_convolutions(code)) == flagged
