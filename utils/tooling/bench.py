"""`python -m utils.tooling bench [--notebook PATH] [--size bench|tiny]`: unit 03's convolution
benchmark on a clone's notebooks (`make bench`). `--help` lists the options.

The loop and im2col + GEMM code are the answers to labs 01 and 03, so the package holds only the
timing (`utils.measure.conv_speed.compare`, which takes the functions as arguments). This
instructor command reads them from notebooks: `load_functions(path)` parses a notebook's code
cells and executes only their imports and top-level `def`/`class` statements (nothing else runs:
no checks, no training). It takes `im2col` and `conv2d_gemm` from
`solutions/03_conv_as_gemm.ipynb` (or `--notebook labs/03_conv_as_gemm.ipynb`: your own, saved
first) and `conv2d_loops` from `solutions/01_convolution.ipynb` (or `--loops-notebook`).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from utils.measure.conv_speed import (
    FUNCTIONS,
    SIZES,
    ConvLayer,
    LearnerCodeError,
    _machine,
    compare,
    format_table,
)

#: The notebook whose `im2col` / `conv2d_gemm` are timed unless `--notebook` says otherwise.
DEFAULT_NOTEBOOK = Path("solutions") / "03_conv_as_gemm.ipynb"

#: The notebook whose loop convolution (lab 01's answer) is timed.
LOOPS_NOTEBOOK = Path("solutions") / "01_convolution.ipynb"

_MAGIC = re.compile(r"^(\s*)[%!].*$", re.M)

_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)


def load_functions(path: str | Path, names: tuple[str, ...] = FUNCTIONS) -> dict[str, Callable]:
    """The functions `names` defined in the code cells of the notebook at `path`.

    Only the cells' imports and top-level `def` / `class` statements are executed (IPython
    `%magic` and `!shell` lines are skipped), in a fresh namespace. Raises LearnerCodeError if
    the file is missing, a cell does not parse, or a function is not defined.
    """
    path = Path(path)
    if not path.is_file():
        raise LearnerCodeError(
            f"no notebook at {path}: pass the path of yours (`--notebook "
            f"labs/03_conv_as_gemm.ipynb`, `--loops-notebook labs/01_convolution.ipynb`)"
        )
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    body: list[ast.stmt] = []
    problems = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            tree = ast.parse(_MAGIC.sub(r"\1pass", source))
        except SyntaxError as err:
            problems.append(f"cell {i}: {err.msg} (line {err.lineno})")
            continue
        body += [node for node in tree.body if isinstance(node, _KEEP)]
    namespace: dict = {"__name__": f"notebook_{path.stem}"}
    try:
        exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)
    except Exception as err:
        raise LearnerCodeError(
            f"running the imports and definitions of {path} failed: {err!r}"
        ) from err
    missing = [n for n in names if not callable(namespace.get(n))]
    if missing:
        hint = f" (cells that do not parse: {'; '.join(problems)})" if problems else ""
        raise LearnerCodeError(f"{path} defines no {', '.join(missing)}{hint}")
    return {n: namespace[n] for n in names}


def _default_notebook(relpath: Path) -> Path:
    """`relpath` in the clone this package runs from (else in the current folder): the
    command line is instructor tooling, run in a clone; notebooks never call it."""
    from utils.course import REPO_ROOT

    return (REPO_ROOT or Path.cwd()) / relpath


def main(argv: list[str] | None = None) -> int:
    """Command line: print the benchmark's table. Exit status 1 if the notebook's code is
    missing or wrong (a MISS does not change the status)."""
    parser = argparse.ArgumentParser(
        prog="python -m utils.tooling bench",
        description="Unit 03: a convolution by Python loops, by im2col + GEMM and by Keras.",
    )
    parser.add_argument(
        "--notebook",
        type=Path,
        default=None,
        help=f"notebook defining im2col and conv2d_gemm (default: {DEFAULT_NOTEBOOK})",
    )
    parser.add_argument(
        "--loops-notebook",
        type=Path,
        default=None,
        help=f"notebook defining conv2d_loops (default: {LOOPS_NOTEBOOK})",
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="bench", help="layer size")
    parser.add_argument(
        "--loop-rows", type=int, default=None, help="output rows the loops are timed on"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    size = SIZES[args.size]
    layer: ConvLayer = size["layer"]
    notebook = args.notebook or _default_notebook(DEFAULT_NOTEBOOK)
    loops_notebook = args.loops_notebook or _default_notebook(LOOPS_NOTEBOOK)
    print(f"Convolution benchmark (unit 03), size '{args.size}': {layer.describe()}")
    macs = layer.macs()
    print(
        f"MACs = kw*kh*kc*oc*ow*oh*b = {layer.k}*{layer.k}*{layer.c_in}*{layer.c_out}"
        f"*{layer.out_w}*{layer.out_h}*1 = {macs:,} (utils.measure.macs.count_macs agrees)"
    )
    print(f"im2col + GEMM: `conv2d_gemm` of {notebook}")
    print(f"Python loops: `conv2d_loops` of {loops_notebook}")
    print(_machine())
    print(flush=True)
    try:
        functions = load_functions(notebook)
        loops = load_functions(loops_notebook, ("conv2d_loops",))["conv2d_loops"]
        result = compare(
            layer,
            functions["conv2d_gemm"],
            loops=loops,
            im2col=functions["im2col"],
            loop_rows=args.loop_rows or size["loop_rows"],
            matmul_n=size["matmul_n"],
            min_time=0.5 if args.size == "bench" else 0.0,
            seed=args.seed,
            source=str(notebook),
        )
    except (LearnerCodeError, NotImplementedError) as err:
        print(f"\nCannot run the benchmark: {err}", file=sys.stderr)
        return 1
    print()
    print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
