"""The release's checks without references: record them, ship the results, replay them.

`utils.checks.references` explains the idea. This is the instructor's half:

- recording: the drop-in scan (`utils.tooling.dropins`) runs every solution (smoke, hidden tests
  removed: what a learner's finished lab runs) with `$COURSE_RECORD_REFERENCES=folder`, so that
  every `@reference` call of the labs' own checks is recorded; `record_catalogue(folder)` runs
  the mistake catalogue (tests/mistakes: the hints' references on typical wrong answers) so;
- `write_tables(folder, out)`: merges the recorded calls into `out/<module>.npz`, one per
  check module (no pickle: JSON text and arrays);
- `release_source(text, module)`: a check module's source with the body of every `@reference`
  function replaced by `replayed(...)`, what `make release` ships;
- `release_function(module, name, folder)`: a function as the release has it, its references
  replayed from the calls recorded so far (the drop-in scan's view of the release).
"""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from utils.checks.references import RECORD_ENV
from utils.tooling import nbfiles


def _is_reference(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "reference") or (
        isinstance(target, ast.Attribute) and target.attr == "reference"
    )


def reference_functions(source: str) -> list[str]:
    """Names of the top-level functions of a module's source decorated with `@reference`."""
    return [
        node.name
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and any(map(_is_reference, node.decorator_list))
    ]


def release_source(source: str, module: str) -> str:
    """`source` with each `@reference` function's body replaced by a lookup of its recorded
    results; its signature, decorator and docstring are kept. `module`: e.g. utils.checks.vgg."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    replaced = False
    for node in sorted(tree.body, key=lambda n: -n.lineno):
        if not isinstance(node, ast.FunctionDef) or not any(
            map(_is_reference, node.decorator_list)
        ):
            continue
        first = node.body[0]
        has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
        head_end = first.end_lineno if has_doc else first.lineno - 1
        indent = " " * first.col_offset
        call = (
            f"{indent}# the release holds this reference's results on the check's own cases\n"
            f"{indent}return replayed({module + ':' + node.name!r}, locals())\n"
        )
        lines = lines[:head_end] + [call] + lines[node.end_lineno :]
        replaced = True
    text = "".join(lines)
    if replaced:
        text += "\n\nfrom utils.checks.references import replayed  # noqa: E402\n"
    return text


# --- recording ----------------------------------------------------------------------------------


def record_catalogue(folder: Path, jobs: int = 2) -> str:
    """Record the references the hints use on typical wrong answers (tests/mistakes), by
    running the mistake catalogue with recording on; "" if it passed, else its output."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            str(jobs),
            "tests/test_checks_mistakes.py",
        ],
        cwd=nbfiles.root(),
        capture_output=True,
        text=True,
        env={**os.environ, RECORD_ENV: str(folder)},
    )
    return "" if run.returncode == 0 else "the mistake catalogue failed:\n" + run.stdout[-3000:]


def write_tables(folder: Path, out: Path) -> dict[str, int]:
    """Merge the calls recorded in `folder` into `out/<module>.npz`; module -> calls."""
    conflicts = sorted(Path(folder).glob("*/*.conflict-*.npz"))
    if conflicts:
        names = sorted({json.loads(str(np.load(c)["__json__"]))["name"] for c in conflicts})
        raise ValueError(
            "references that gave different results for the same arguments (their results "
            f"cannot be replayed; make their inputs the check's own): {names}"
        )
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for module_dir in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
        entries: dict[str, np.ndarray] = {}
        for call in sorted(module_dir.glob("[!.]*.npz")):
            with np.load(call, allow_pickle=False) as data:
                for part in data.files:
                    entries[f"{call.stem}/{part}"] = data[part]
        module = module_dir.name.removeprefix("utils.checks.")
        np.savez_compressed(out / f"{module}.npz", **entries)
        counts[module] = sum(1 for e in entries if e.endswith("/__json__"))
    return counts


# --- the release as the drop-in scan sees it ------------------------------------------------------


def recorded_result(folder: Path, name: str, args: dict):
    """What the release's `replayed` would return, read from the calls recorded so far in
    `folder` (the drop-in scan's view of a release still being recorded)."""
    from utils.checks.references import ReferenceUnavailable, decode, digest, read_call

    path = Path(folder) / name.split(":")[0] / f"{digest(name, args)}.npz"
    if not path.exists():
        raise ReferenceUnavailable(f"not recorded: {name}")
    return decode(*read_call(path))


@functools.cache
def _release_namespace(module: str, folder: str) -> dict:
    """The namespace of check module `module` as the release ships it (`release_source`),
    its references replayed from the calls recorded in `folder`."""
    import importlib.util

    path = Path(importlib.util.find_spec(module).origin)
    ns: dict = {"__name__": module, "__file__": str(path)}
    exec(compile(release_source(path.read_text(), module), str(path), "exec"), ns)
    ns["replayed"] = lambda name, args: recorded_result(Path(folder), name, args)
    return ns


def release_function(module: str, name: str, folder: Path):
    """`module:name` as the learners' release has it, references replayed from `folder`."""
    import importlib

    if module.startswith("utils.checks.") and module != "utils.checks.references":
        return _release_namespace(module, str(folder))[name]
    return getattr(importlib.import_module(module), name)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m utils.tooling.references", description=__doc__)
    parser.add_argument("folder", help="recorded calls (from the drop-in scan and the catalogue)")
    parser.add_argument("tables", help="where the merged tables go")
    args = parser.parse_args(argv)
    print(json.dumps(write_tables(Path(args.folder), Path(args.tables)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
