"""Drop-in answers: functions of a learner's package that could be handed in as an exercise.

A learner who writes `conv2d = some_module.some_function` gets the points of an exercise if
any function the learner can import computes its answer. This scan looks for such functions
the way a learner would, by trying them, instead of by reading names:

1. Each solution is executed (smoke profile, its hidden tests removed) with a probe cell after
   every graded cell. The probe runs that exercise's hidden tests (the grader's own code, with
   a fixed `GRADING_SEED`) once with the solution's functions, recording the first calls each
   answer function receives and what it returns.
2. Every function and class of the package (`candidates(kind)`) whose signature accepts those
   calls is called on the recorded arguments, under a time limit and with its output hidden.
   One whose results resemble the solution's (`similar`) is a suspect.
3. A suspect is put in place of the answer and the whole hidden test is run: if it passes, the
   function is a drop-in answer for that exercise.

`kind` says which package: "kernel" is what the grading kernel imports (`utils` without
`utils.tooling`, with stub checks and without `sandbox.REFERENCES_REMOVED`); "release" is the
package of `make release` (the same, with the release's `utils.checks`, see
`utils.tooling.references`).

Each exercise scans the functions defined since the previous graded cell (an earlier
exercise's function that its hidden tests also call is scanned in that earlier exercise).
Candidates run offline, under a time limit that a retry loop cannot swallow.

`python -m utils.tooling.dropins [--kind kernel|release] [names]` prints what it finds;
`make release` (and so `make test-colab`, a CI step) writes nothing when it finds one;
tests/test_dropins.py tests the scan's machinery.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import importlib
import importlib.util
import inspect
import io
import json
import os
import re
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import nbformat

from utils.tooling import grading_remote, labs, nbfiles, runner, sandbox

#: Calls recorded per answer function, and compared with each candidate.
RECORDED_CALLS = 3
#: Seconds a candidate may take on one recorded call (one that takes longer is dropped and
#: named in the report as slow), and a full hidden test with a suspect.
CALL_SECONDS = 8
HIDDEN_SECONDS = 300
#: A candidate slower than this on the recorded calls is named in the report.
SLOW_SECONDS = 4
#: The grading seed the scan uses (any seed: the hidden tests pass for every seed).
SEED = 7919
KINDS = ("kernel", "release")
#: Functions of the release that do an exercise's work on purpose -> why grades still hold.
KNOWN_IN_RELEASE = {
    "utils.networks.shallow_cnn:autodiff_loss_and_grads": (
        "lecture 04 trains with it before the lab; the grading kernel does not have it "
        "(sandbox.REFERENCES_REMOVED) and the grader reads unit 04's code "
        "(grading_source.check_numpy_only)"
    ),
}
#: Also accepted: "course", the instructor's package as it is (checks and their references).


# --- which functions a learner can import -------------------------------------------------


def _modules(package: Path, kind: str) -> list[str]:
    """Dotted names of the package's modules a learner's kernel can import, for `kind`."""
    names = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1 and parts[1] == "tooling":
            continue
        if kind == "kernel" and len(parts) > 1 and parts[1] == "checks":
            continue  # the grading kernel's checks are stubs (sandbox.CHECK_STUB)
        names.append(".".join(parts))
    return names


def _removed(kind: str) -> set[str]:
    """`module:name` of the functions the package of `kind` does not have."""
    gone = {
        f"utils.{rel.removesuffix('.py').replace('/', '.')}:{name}"
        for rel, names in sandbox.REFERENCES_REMOVED.items()
        for name in names
    }
    return gone if kind == "kernel" else set()


def candidates(kind: str) -> list[str]:
    """`module:qualname` of every top-level function and class the package of `kind` defines
    (private ones included: a learner can import those too)."""
    package = Path(importlib.import_module("utils").__file__).parent
    gone = _removed(kind)
    found = []
    for module in _modules(package, kind):
        source = Path(importlib.util.find_spec(module).origin).read_text()
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                name = f"{module}:{node.name}"
                if name not in gone:
                    found.append(name)
    return found


def resolve(name: str, kind: str = "kernel", recorded: str = "") -> Callable:
    """The object `module:qualname` names; for "release", as the release has it, its check
    modules' references replayed from the calls recorded in `recorded`."""
    module, attr = name.split(":")
    if kind == "release":
        from utils.tooling import references

        return references.release_function(module, attr, Path(recorded))
    return getattr(importlib.import_module(module), attr)


# --- comparing a candidate's results with the solution's ------------------------------------


def similar(got, want) -> bool:
    """Whether `got` could be the same answer as `want` (loose: the hidden test decides)."""
    import numpy as np

    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, bool | int | float | np.number) and not isinstance(want, bool):
        try:
            return abs(float(got) - float(want)) <= 1e-6 * max(1.0, abs(float(want)))
        except (TypeError, ValueError):
            return False
    if isinstance(want, str | bool):
        return got == want
    if isinstance(want, tuple | list):
        return (
            isinstance(got, tuple | list)
            and len(got) == len(want)
            and all(similar(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and set(got) == set(want)
            and all(similar(got[k], want[k]) for k in want)
        )
    keras_like = type(want).__module__.split(".")[0] in ("keras", "tensorflow")
    if hasattr(want, "count_params") and hasattr(want, "output_shape"):  # a Keras model
        try:
            return got.count_params() == want.count_params() and tuple(got.output_shape) == tuple(
                want.output_shape
            )
        except Exception:
            return False
    try:
        w = np.asarray(want)
        if w.dtype == object:
            raise TypeError
    except Exception:
        return keras_like and type(got) is type(want) or type(got) is type(want)
    try:
        g = np.asarray(got)
        return g.shape == w.shape and bool(
            np.allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-3, atol=1e-5)
        )
    except Exception:
        return False


# --- the probe, run in the solution's kernel after a graded cell ----------------------------


class _Timeout(BaseException):
    """A candidate ran past its time limit (BaseException: a candidate's `except Exception`
    must not swallow it)."""


@contextlib.contextmanager
def _limit(seconds: int):
    """Raise `_Timeout` after `seconds`, and again every second after that, so that a
    candidate which catches the first one (a retry loop) is still stopped."""

    def stop(*_):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def _offline():
    """No network for candidates: a data loader called with "full" must fail at once, not
    wait on a download (the kernel's own ZeroMQ sockets are not Python sockets)."""
    import socket

    def refuse(*_args, **_kwargs):
        raise OSError("the drop-in scan runs offline")

    saved = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
    socket.socket.connect = socket.socket.connect_ex = refuse
    socket.getaddrinfo = refuse
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = saved


@contextlib.contextmanager
def _quiet():
    """No output from candidates, no figures left open."""
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")


def _run_hidden(hidden: str, imports: str, functions: dict, seconds: int) -> str:
    """Run hidden tests with `functions` as the learner's names; "" if they pass, else why."""
    ns: dict = {"__name__": "__dropin_scan__", "GRADING_SEED": SEED}
    try:
        with _quiet(), _limit(seconds):
            exec(compile(imports, "<solution imports>", "exec"), ns)
            ns.update(functions)
            exec(compile(hidden, "<hidden tests>", "exec"), ns)
    except _Timeout:
        return "timed out"
    except BaseException as err:  # a candidate may raise anything, SystemExit included
        return f"{type(err).__name__}: {str(err)[:200]}"
    return ""


def _copy(value):
    """A deep copy of recorded arguments, or the arguments themselves where they cannot be
    copied (Keras models)."""
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


@contextlib.contextmanager
def _recording(functions: dict[str, Callable], calls: dict[str, list]):
    """Record the first calls of `functions` (arguments as (args, kwargs), and the result)
    without wrapping them: a hidden test that reads an answer's source still reads the
    notebook's own function. sys.setprofile sees each call's frame at entry and at return."""
    codes = {fn.__code__: name for name, fn in functions.items() if hasattr(fn, "__code__")}
    pending: dict[int, tuple] = {}

    def arguments(name, frame):
        sig = inspect.signature(functions[name])
        args, kwargs = [], {}
        for p in sig.parameters.values():
            value = frame.f_locals.get(p.name)
            if p.kind is p.VAR_POSITIONAL:
                args += list(value or ())
            elif p.kind is p.VAR_KEYWORD:
                kwargs.update(value or {})
            elif p.kind is p.KEYWORD_ONLY:
                kwargs[p.name] = value
            else:
                args.append(value)
        return tuple(args), kwargs

    def profile(frame, event, arg):
        name = codes.get(frame.f_code)
        if name is None or len(calls[name]) >= RECORDED_CALLS:
            return
        if event == "call":
            pending[id(frame)] = _copy(arguments(name, frame))
        elif event == "return" and id(frame) in pending:
            args, kwargs = pending.pop(id(frame))
            calls[name].append((args, kwargs, arg))

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _accepts(fn: Callable, args: tuple, kwargs: dict) -> bool:
    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return False
    return True


def _resembles(fn: Callable, calls: list) -> bool:
    """Whether `fn` returns results similar to the solution's on the recorded calls."""
    for args, kwargs, want in calls:
        a, k = _copy((args, kwargs))
        try:
            with _quiet(), _limit(CALL_SECONDS):
                got = fn(*a, **k)
        except BaseException:
            return False
        if not similar(got, want):
            return False
    return True


@contextlib.contextmanager
def _not_recording():
    """The probe's calls (hidden tests, candidates) are not what the release records."""
    from utils.checks.references import RECORD_ENV

    saved = os.environ.pop(RECORD_ENV, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[RECORD_ENV] = saved


def probe(
    hidden: str,
    imports: str,
    ns: dict,
    *,
    label: str,
    kinds: list[str],
    out: str,
    recorded: str,
    defined: list[str],
) -> None:
    """Look for drop-ins for one graded exercise (called by the probe cell in the kernel);
    `defined`: the names the cells since the previous graded cell define."""
    with _not_recording(), _offline():
        _probe(
            hidden,
            imports,
            ns,
            label=label,
            kinds=kinds,
            out=out,
            recorded=recorded,
            defined=set(defined),
        )


def _probe(hidden, imports, ns, *, label, kinds, out, recorded, defined) -> None:
    used = [
        n
        for n in grading_remote.free_names(hidden)
        if callable(ns.get(n)) and getattr(ns[n], "__module__", "") == "__main__"
    ]
    # the functions this exercise asks for; an earlier exercise's function that its hidden
    # tests also call is scanned in that exercise, where its points are
    answers = [n for n in used if n in defined]
    report = {
        "exercise": label,
        "answers": answers,
        "tried": 0,
        "suspects": [],
        "found": [],
        "known": [],
    }
    calls = {a: [] for a in used}
    functions = {a: ns[a] for a in used}
    with _recording(functions, calls):
        report["solution"] = _run_hidden(hidden, imports, functions, HIDDEN_SECONDS) or "passed"
    report["unrecorded"] = [a for a in answers if not calls[a]]
    names = {kind: set(candidates(kind)) for kind in kinds}
    for answer in answers if report["solution"] == "passed" else []:
        if not calls[answer]:
            continue
        for name in sorted(set().union(*names.values())):
            for kind in [k for k in kinds if name in names[k]]:
                try:
                    fn = resolve(name, kind, recorded)
                except Exception:
                    continue
                args, kwargs, _ = calls[answer][0]
                if not callable(fn) or not _accepts(fn, args, kwargs):
                    continue
                report["tried"] += 1
                t0 = time.perf_counter()
                resembles = _resembles(fn, calls[answer])
                spent = time.perf_counter() - t0
                if spent > SLOW_SECONDS:
                    report.setdefault("slow", []).append(f"{name} ({kind}): {spent:.0f} s")
                if not resembles:
                    continue
                report["suspects"].append(f"{answer} <- {name} ({kind})")
                others = {a: ns[a] for a in used}
                why = _run_hidden(hidden, imports, {**others, answer: fn}, HIDDEN_SECONDS)
                if not why:
                    known = kind == "release" and name in KNOWN_IN_RELEASE
                    report["known" if known else "found"].append(f"{answer} <- {name} ({kind})")
    with open(out, "a") as f:
        f.write(json.dumps(report) + "\n")


#: Before each graded cell: Keras's global random state moved on, so that a reference whose
#: recorded inputs depended on it (weights a check left to Keras's initialisers) would not be
#: found again by a learner's run, and `make test-colab` (the solutions, run from the release)
#: fails on it instead of a learner.
SHIFT_CELL = "import keras as _keras\n_keras.random.normal((7,))\ndel _keras"

PROBE_CELL = """\
from utils.tooling import dropins as _dropins
_dropins.probe(
    {hidden!r},
    {imports!r},
    globals(),
    label={label!r},
    kinds={kinds!r},
    out={out!r},
    recorded={recorded!r},
    defined={defined!r},
)
"""


def defined_names(source: str) -> set[str]:
    """Names of the functions and classes a code cell defines at its top level."""
    try:
        body = ast.parse(source).body
    except SyntaxError:  # a cell with IPython magics
        return set(re.findall(r"^(?:def|class)\s+(\w+)", source, re.M))
    return {n.name for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef)}


def probed_notebook(solution: nbformat.NotebookNode, name: str, kinds, out: Path, recorded: Path):
    """The solution without hidden tests; before each graded cell a `SHIFT_CELL`, after it a
    probe cell."""
    from utils.tooling.grade import exercises_of

    exercises = iter(exercises_of(solution))
    nb = labs.without_hidden_tests(solution)
    cells = []
    defined: set[str] = set()
    for original, cell in zip(solution.cells, nb.cells, strict=True):
        graded = cell.cell_type == "code" and labs.BEGIN_HIDDEN in original.source
        if cell.cell_type == "code":
            defined |= defined_names(cell.source)
        if graded:
            cells.append(nbformat.v4.new_code_cell(SHIFT_CELL))
        cells.append(cell)
        if graded:
            ex = next(exercises)
            source = PROBE_CELL.format(
                hidden=ex.hidden,
                imports=ex.imports,
                label=f"{name} exercise {ex.number}",
                kinds=list(kinds),
                out=str(out),
                recorded=str(recorded),
                defined=sorted(defined),
            )
            cells.append(nbformat.v4.new_code_cell(source))
            defined = set()
    nb.cells = cells
    for cell in nb.cells:
        cell.outputs = [] if cell.cell_type == "code" else cell.get("outputs")
    return nb


def scan(
    name: str, recorded: Path, kinds=KINDS, timeout: int = 600, env: dict | None = None
) -> list[dict]:
    """Execute solutions/<name> with probes, its references recorded into `recorded` (the
    calls of the lab's own checks, what the release replays); one report per graded exercise."""
    from utils.checks.references import RECORD_ENV

    path = nbfiles.root() / "solutions" / name
    with tempfile.TemporaryDirectory(prefix="dropins-") as tmp:
        out = Path(tmp) / "reports.jsonl"
        nb = probed_notebook(nbfiles.read(path), path.stem, kinds, out, recorded)
        kernel_env = {**(env or {}), RECORD_ENV: str(recorded), "TF_CPP_MIN_LOG_LEVEL": "3"}
        start = time.perf_counter()
        try:
            nb, seconds = runner.execute_all_cells(
                nb, cwd=Path(tmp), timeout=timeout, env=kernel_env
            )
            errors = [(cell, err.get("ename")) for cell, err in runner.errors(nb)]
        except Exception as err:  # a cell past `timeout`, a kernel that died
            seconds = time.perf_counter() - start
            errors = [("?", f"{type(err).__name__}: {str(err)[:200]}")]
        reports = (
            [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        )
    if errors:
        cell, why = errors[0]
        reports.append({"exercise": f"{path.stem}: cell {cell} raised {why}"})
    print(f"  {path.stem}: {len(reports)} exercise(s) scanned in {seconds:.0f} s", flush=True)
    return reports


def scan_all(names: list[str], recorded: Path, kinds=KINDS, jobs: int = 2) -> list[dict]:
    """Scan several solutions, `jobs` at a time (see `scan`)."""
    from utils.course import DATA_ENV
    from utils.measure.records import RESULTS_ENV

    with tempfile.TemporaryDirectory(prefix="dropins-data-") as scratch:
        # candidates called with anything may write records or data: into this folder
        env = {DATA_ENV: scratch, RESULTS_ENV: scratch}
        # one process per kernel client: jupyter_client's ZeroMQ sockets driven from several
        # threads of one process can abort it (libzmq's "pfd.revents & POLLIN" assertion)
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            runs = [pool.submit(scan, n, recorded, kinds, env=env) for n in names]
            return [r for run in runs for r in run.result()]


def found(reports: list[dict]) -> list[str]:
    """The problems in `reports`: drop-ins, and exercises the scan could not run."""
    problems = []
    for r in reports:
        if "answers" not in r:
            problems.append(f"could not scan: {r['exercise']}")
            continue
        if r["solution"] != "passed":
            problems.append(
                f"{r['exercise']}: the solution fails its hidden tests ({r['solution']})"
            )
        problems += [f"{r['exercise']}: drop-in answer {f}" for f in r["found"]]
        problems += [
            f"{r['exercise']}: no call of `{a}` was seen, so nothing was tried in its place"
            for a in r.get("unrecorded", [])
        ]
    return problems


def summary(reports: list[dict]) -> list[str]:
    """One line per exercise: its answer functions, candidates tried, suspects, drop-ins."""
    lines = []
    for r in reports:
        if "answers" in r:
            answers = ", ".join(r["answers"]) or "(no learner function)"
            lines.append(
                f"{r['exercise']}: {answers}; {r['tried']} tried, {len(r['suspects'])} "
                f"suspect(s), {len(r['found'])} drop-in(s)"
            )
            lines += [f"  known, on purpose: {k}" for k in r.get("known", [])]
            lines += [f"  slow candidate: {k}" for k in r.get("slow", [])]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.tooling.dropins", description=__doc__)
    parser.add_argument("names", nargs="*", help="e.g. 01_convolution (default: every lab)")
    parser.add_argument("--kind", choices=(*KINDS, "course"), action="append", help="default: both")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    names = [f"{n.removesuffix('.ipynb')}.ipynb" for n in args.names] or [
        p.name for p in nbfiles.course_notebooks("solutions")
    ]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="recorded-") as recorded:
        reports = scan_all(names, Path(recorded), args.kind or list(KINDS), args.jobs)
    print("\n".join(summary(reports)))
    problems = found(reports)
    print("\n".join(problems))
    print(f"{len(reports)} exercises scanned in {time.perf_counter() - start:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
