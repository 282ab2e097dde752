"""`make test-colab`: the course as a Colab learner meets it, on this machine.

1. A fresh virtual environment with Python 3.12 (Colab's) holding Colab's preinstalled
   versions, read from `requirements-colab.txt` (installed with uv when it is there: it
   downloads in parallel; pip otherwise; no download cache either way).
2. The learners' release (`make release`: the package whose checks replay recorded
   references, after the drop-in scan found no answer a learner could import), its wheel
   installed the way the setup cell installs it: the setup cell's own `%pip install` line,
   with the git URL replaced by the wheel's path.
   Steps 1 and 2 run at the same time (one waits on downloads, the other on the CPU).
3. `pip freeze` before and after step 2: no preinstalled package may change version (the
   packages the course adds are listed).
4. Every lecture and solution, each copied alone into its own empty folder (no clone beside
   it; its own HOME and data folder, as if on its own Colab machine), executed with that
   environment's papermill in the smoke profile (`COURSE_PROFILE=smoke`), two at a time.

Timings of every step and every notebook are printed. Exit status 0 only if nothing changed
and every notebook ran. Nothing is kept between runs (`--keep DIR` keeps the work folder).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from utils.course import DATA_ENV, DISTRIBUTION, PROFILE_ENV
from utils.measure.records import RESULTS_ENV
from utils.tooling import labs, nbfiles, rules

#: The constraints file of Colab's versions, at the clone's root.
CONSTRAINTS = "requirements-colab.txt"
#: Colab's Python (major, minor).
PYTHON = (3, 12)
#: Environment variable naming the Python 3.12 interpreter to use.
PYTHON_ENV = "COLAB_PYTHON"
#: The folders whose notebooks run (labs are blank: `make test` checks them).
FOLDERS = ("notebooks", "solutions")
#: What the whole job may take (the CI budget; printed, not asserted).
BUDGET_SECONDS = 20 * 60


def find_python(explicit: str | None = None) -> str:
    """A Python 3.12 interpreter: `explicit`, `$COLAB_PYTHON`, `python3.12` on PATH, or a
    pyenv install. Raises SystemExit saying what to do when there is none."""
    want = f"{PYTHON[0]}.{PYTHON[1]}"
    candidates = [explicit, os.environ.get(PYTHON_ENV), shutil.which(f"python{want}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{want}*/bin/python")))
    candidates += sorted(glob.glob(f"/root/.pyenv/versions/{want}*/bin/python"))
    for path in filter(None, candidates):
        if not Path(path).exists():
            continue
        out = subprocess.run(
            [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if out.stdout.strip() == want:
            return path
    raise SystemExit(
        f"test-colab needs Python {want} (Colab's): install it (e.g. `pyenv install {want}`) "
        f"or set ${PYTHON_ENV} to its path."
    )


def read_constraints(path: Path) -> dict[str, str]:
    """{normalised name: version} of the `name==version` lines of a constraints file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                raise ValueError(f"{path}: every line must pin `name==version`, not {line!r}")
            pins[normalise_name(name)] = version.strip()
    return pins


def normalise_name(name: str) -> str:
    """PEP 503's normal form: `Scikit_Learn` -> `scikit-learn`."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def parse_freeze(text: str) -> dict[str, str]:
    """{normalised name: version} of `pip freeze` lines (`name==v` or `name @ url`)."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "==" in line:
            name, _, version = line.partition("==")
        elif " @ " in line:
            name, _, version = line.partition(" @ ")
        else:
            continue
        found[normalise_name(name)] = version.strip()
    return found


def changed_packages(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Lines for every package of `before` whose version changed or that disappeared."""
    lines = []
    for name, version in sorted(before.items()):
        if name not in after:
            lines.append(f"{name} {version} was removed")
        elif after[name] != version:
            lines.append(f"{name} {version} -> {after[name]}")
    return lines


def setup_cell_install(wheel: Path) -> list[str]:
    """The setup cell's `%pip install` arguments, with its git URL replaced by `wheel`.

    The cell installs `cnn-course @ git+<repository>@<tag>`; here the same requirement
    points at the wheel built from this clone (CI cannot fetch the public repository).
    """
    lines = [line.strip() for line in rules.SETUP_SOURCE.splitlines()]
    (line,) = [line for line in lines if line.startswith("%pip install")]
    args = shlex.split(line.removeprefix("%pip install"))
    specs = [a for a in args if a.startswith(f"{DISTRIBUTION} @ ")]
    if len(specs) != 1:
        raise ValueError(f"the setup cell's install line names no `{DISTRIBUTION} @ ...`: {line}")
    return [f"{DISTRIBUTION} @ {wheel.resolve().as_uri()}" if a in specs else a for a in args]


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise SystemExit(
            f"failed ({done.returncode}): {shlex.join(cmd)}\n{done.stdout[-3000:]}"
            f"{done.stderr[-3000:]}"
        )
    return done


@dataclass
class Run:
    """One notebook's execution: its path in the clone, seconds, and the error if it failed."""

    relpath: str
    seconds: float
    error: str = ""


def execute_alone(python: Path, source: Path, folder: Path, timeout: int) -> Run:
    """Copy `source` alone into the empty `folder` and run it there with papermill."""
    relpath = nbfiles.relpath(source)
    folder.mkdir(parents=True)
    notebook = folder / source.name
    if source.parent.name == "solutions":  # the hidden tests need the clone's grader
        nbfiles.write(labs.without_hidden_tests(nbfiles.read(source)), notebook)
    else:
        shutil.copyfile(source, notebook)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (DATA_ENV, RESULTS_ENV, "PYTHONPATH", "VIRTUAL_ENV", "IPYTHONDIR")
    }
    env.update(
        {
            PROFILE_ENV: "smoke",
            "HOME": str(folder / "home"),  # a machine of its own: no records of other notebooks
            "MPLCONFIGDIR": str(folder.parent / "matplotlib"),  # only matplotlib's font cache
            "PATH": f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    start = time.perf_counter()
    cmd = [str(python), "-m", "papermill", "--no-progress-bar", notebook.name, "executed.ipynb"]
    try:
        done = subprocess.run(
            cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return Run(relpath, time.perf_counter() - start, f"timed out after {timeout} s")
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = [line for line in done.stderr.splitlines() if line.strip()][-12:]
        return Run(relpath, seconds, "\n".join(tail))
    return Run(relpath, seconds)


def notebooks_to_run(names: list[str] | None = None) -> list[Path]:
    """Every lecture and solution (or those whose file name contains one of `names`)."""
    paths = [p for folder in FOLDERS for p in nbfiles.course_notebooks(folder)]
    if names:
        paths = [p for p in paths if any(n in p.name for n in names)]
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m utils.tooling.colab", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("names", nargs="*", help="run only notebooks whose name contains these")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once")
    parser.add_argument("--python", default=None, help="the Python 3.12 to build the venv with")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per notebook")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder here")
    parser.add_argument(
        "--venv",
        type=Path,
        default=None,
        help="reuse this Colab venv (made by --keep) instead of a fresh one: for trying "
        "notebooks again; the wheel is force-reinstalled into it. CI never uses it.",
    )
    args = parser.parse_args(argv)

    root = nbfiles.root()
    t_job = time.perf_counter()
    timings: list[tuple[str, float]] = []

    def timed(label: str, fn):
        print(f"--- {label} ...", flush=True)
        t0 = time.perf_counter()
        value = fn()
        timings.append((label, time.perf_counter() - t0))
        print(f"--- {label}: {timings[-1][1]:.0f} s", flush=True)
        return value

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="colab-", dir=args.keep))
    else:
        work = Path(tempfile.mkdtemp(prefix="colab-"))
    venv = args.venv.resolve() if args.venv else work / "venv"
    python = venv / "bin" / "python"
    no_cache = {**os.environ, "PIP_NO_CACHE_DIR": "1", "UV_NO_CACHE": "1"}
    try:
        interpreter = find_python(args.python)
        pins = read_constraints(root / CONSTRAINTS)
        uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")

        def install_colab() -> None:
            if uv:
                _run([uv, "venv", "-q", "--seed", "-p", interpreter, str(venv)], env=no_cache)
                cmd = [uv, "pip", "install", "-q", "--python", str(python)]
                _run(cmd + ["-r", str(root / CONSTRAINTS)], env=no_cache)
            else:
                _run([interpreter, "-m", "venv", str(venv)])
                cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
                _run(cmd + ["-r", str(root / CONSTRAINTS)], env=no_cache)

        tool = "uv" if uv else "pip"
        wheels, released = work / "wheel", work / "release"

        def make_release() -> None:
            from utils.tooling import release

            for line in release.write_release(released, names=args.names or None):
                print(f"    {line}")

        # the install waits on downloads, the release on the CPU: both at once
        with ThreadPoolExecutor(max_workers=1) as background:
            if args.venv:
                print(f"--- reusing {venv} (not a fresh environment)")
                installing = None
            else:
                label = f"Colab's packages ({len(pins)} pins of {CONSTRAINTS}, {tool})"
                installing = background.submit(timed, label, install_colab)
            timed("the learners' release (references recorded, drop-in scan)", make_release)
            if installing is not None:
                installing.result()
        before = parse_freeze(_run([str(python), "-m", "pip", "freeze"]).stdout)
        before.pop(normalise_name(DISTRIBUTION), None)
        wrong = [
            f"{n}=={v} (installed: {before.get(n)})" for n, v in pins.items() if before.get(n) != v
        ]
        if wrong:
            raise SystemExit(f"the Colab environment does not hold {CONSTRAINTS}: {wrong}")

        def build_wheel() -> Path:
            _run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
                + ["-q", "-w", str(wheels), str(released)],
                env=no_cache,
            )
            (wheel,) = wheels.glob("*.whl")
            recorded = [n for n in zipfile.ZipFile(wheel).namelist() if "/recorded/" in n]
            print(f"    the release's wheel holds {len(recorded)} tables of recorded references")
            if not recorded:
                raise SystemExit("the release's wheel holds no recorded references")
            return wheel

        wheel = timed("the release's wheel", build_wheel)
        install = setup_cell_install(wheel)
        print(f"    as the setup cell does: %pip install {shlex.join(install)}")
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        if args.venv:
            pip += ["--force-reinstall", "--no-deps"]
        timed("the setup cell's install", lambda: _run(pip + install, env=no_cache))
        after = parse_freeze(_run([str(python), "-m", "pip", "freeze"]).stdout)
        changed = changed_packages(before, after)
        added = sorted(set(after) - set(before))
        print(f"    packages the course adds: {', '.join(added) or 'none'}")
        check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True)
        print(f"    pip check: {check.stdout.strip() or check.stderr.strip()}")
        if changed:
            print("FAIL: the setup cell changed Colab's packages:\n  " + "\n  ".join(changed))
        else:
            print(f"    none of the {len(before)} preinstalled packages changed version")

        paths = notebooks_to_run(args.names)
        runs: list[Run] = []

        def run_all() -> None:
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                futures = [
                    pool.submit(
                        execute_alone,
                        python,
                        p,
                        work / "runs" / f"{p.parent.name}-{p.stem}",
                        args.timeout,
                    )
                    for p in paths
                ]
                for i, future in enumerate(as_completed(futures), 1):
                    run = future.result()
                    runs.append(run)
                    status = "ok" if not run.error else "FAILED"
                    print(
                        f"    [{i}/{len(paths)}] {run.relpath:44s} {run.seconds:6.1f} s  {status}"
                    )
                    sys.stdout.flush()

        timed(f"{len(paths)} notebooks, each alone, smoke profile, {args.jobs} at a time", run_all)
        failed = [r for r in runs if r.error]
        for r in failed:
            print(f"\nFAILED {r.relpath}:\n{r.error}")
        total = time.perf_counter() - t_job
        print(
            "\ntest-colab timings (seconds; this machine may be shared: timings are inflated then)"
        )
        for label, seconds in timings:
            print(f"  {seconds:7.1f}  {label}")
        if runs:
            slowest = max(runs, key=lambda r: r.seconds)
            print(
                f"  notebooks: sum {sum(r.seconds for r in runs):.0f} s, slowest "
                f"{slowest.relpath} {slowest.seconds:.0f} s"
            )
        print(f"  {total:7.1f}  total (budget {BUDGET_SECONDS} s)")
        ok = not changed and not failed
        print(
            f"test-colab: {len(runs) - len(failed)} passed, {len(failed)} failed"
            + ("" if not changed else f"; {len(changed)} preinstalled package(s) changed")
        )
        return 0 if ok else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
