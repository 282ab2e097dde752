"""Rehearse the `full` profile of every notebook offline: `python -m utils.tooling.rehearsal`.

What a learner runs in `full` is executed end to end, with three substitutions and nothing
else (models, widths, input sizes, batch sizes, epochs, callbacks and augmentation as written):

1. data: stand-ins of the full data sets with their real shapes, dtypes, sizes and class counts,
   in the real on-disk formats (`utils.tooling.fake_data`), so that the real readers run;
2. weights: `keras.applications` builders get `weights=None` (same architecture, untrained);
3. training: at most `--steps` steps per epoch (`utils.tooling.rehearsal_kernel`).

The substitutions live in an IPython startup file of the rehearsal's own IPYTHONDIR, so the
notebooks carry no plumbing for it. Each notebook runs in its own papermill process, `--jobs`
at a time. Printed per notebook: wall seconds, the kernel's peak RSS, images seen in the full
run's training, its training MACs, and an estimate of its time on a Colab T4 (see `T4_*`).
The run fails if a notebook raises or its peak RSS exceeds `RSS_LIMIT_MB`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from utils.tooling import nbfiles

#: Colab's free tier has about 12.7 GB of RAM; the rehearsal allows 10 GB (10 * 1024 MiB).
RSS_LIMIT_MB = 10 * 1024
#: Colab T4: 8.1 TFLOPS fp32 peak (NVIDIA's T4 datasheet) = 4.05e12 multiply-accumulates/s.
T4_PEAK_MACS = 8.1e12 / 2
#: Assumed share of that peak a Keras training loop sustains on small CNNs (an assumption,
#: not a measurement: no GPU is reachable from here).
T4_UTILISATION = 0.25
#: One training image costs about 3 forward passes: the forward pass, and a backward pass that
#: computes gradients for the inputs and for the weights (each about one forward's MACs).
TRAIN_FACTOR = 3
STARTUP = (
    "# Written by utils.tooling.rehearsal: rehearse the full profile (see rehearsal_kernel).\n"
    "from utils.tooling.rehearsal_kernel import install\n\n"
    "install()\n"
    "del install\n"
)
#: The notebooks that read the largest stand-ins (Pets): the longest and largest in memory.
FIRST = ("13_unet", "14_transfer_learning")


@dataclass
class Result:
    """One notebook's rehearsal: what it cost here, and what its full run would do."""

    notebook: str
    seconds: float
    ok: bool
    error: str
    peak_rss_mb: float
    images_trained: int | None
    train_macs: int | None
    infer_macs: int | None
    uncounted_fits: int
    weights_replaced: list[str]
    result_checks: list[str] = field(default_factory=list)

    @property
    def t4_minutes(self) -> float | None:
        """Estimated minutes of model compute on a T4 (training and inference)."""
        if self.train_macs is None and self.infer_macs is None:
            return None
        macs = (self.train_macs or 0) + (self.infer_macs or 0)
        return macs / (T4_PEAK_MACS * T4_UTILISATION) / 60


def summarise(notebook: str, seconds: float, error: str, record: dict) -> Result:
    """Turn a kernel's record (rehearsal_kernel.RECORD) into a Result."""
    images = train = infer = 0
    uncounted = 0
    any_fit = False
    for call in record.get("calls", []):
        macs = call.get("macs_per_image")
        if call["kind"] == "fit":
            any_fit = True
            images += call.get("images") or 0
            if call.get("images") is None or macs is None:
                uncounted += 1  # the images, or the MACs per image, unknown
                continue
            train += TRAIN_FACTOR * macs * call["images"]
            infer += macs * (call.get("val_images") or 0)
        elif call.get("images") and macs is not None:
            infer += macs * call["images"]
    return Result(
        notebook=notebook,
        seconds=seconds,
        ok=not error,
        error=error,
        peak_rss_mb=float(record.get("peak_rss_mb", 0.0)),
        images_trained=images if any_fit else None,
        train_macs=train if any_fit else None,
        infer_macs=infer or None,
        uncounted_fits=uncounted,
        weights_replaced=list(record.get("weights_replaced", [])),
    )


def prepare_ipython(directory: Path) -> Path:
    """An IPYTHONDIR whose kernels run the rehearsal's startup file (and do not capture fds)."""
    from utils.tooling.runner import prepare_ipythondir

    ipython = prepare_ipythondir(directory)
    startup = ipython / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-rehearsal.py").write_text(STARTUP)
    return ipython


#: Errors that say a result is off (an accuracy under its band, a loss that did not fall):
#: expected when training is cut to a few steps on synthetic data, so they are listed, not fatal.
RESULT_ERRORS = ("AssertionError", "CheckFailed", "OutsideBandError")
RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
src, out, cwd, timeout = sys.argv[1:5]
nb = nbformat.read(src, as_version=4)
client = NotebookClient(nb, timeout=int(timeout), kernel_name="python3", allow_errors=True,
                        resources={"metadata": {"path": cwd}})
try:
    client.execute()
finally:
    nbformat.write(nb, out)
"""


def assigned_names(source: str) -> set[str]:
    """The names a cell's top-level statements assign (`x = ...`, `a, b = ...`)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if target is not None:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _missing_name(err: dict) -> str:
    """'x' of NameError's "name 'x' is not defined"."""
    parts = str(err.get("evalue", "")).split("'")
    return parts[1] if len(parts) > 2 else ""


def run_one(src: Path, work: Path, env: dict, *, timeout: int) -> Result:
    """Rehearse one notebook in its own process, every cell even after an error (nbclient's
    `allow_errors`); the executed copy goes to `work`."""
    from utils.tooling.runner import errors

    name = f"{src.parent.name}/{src.name}"
    stem = f"{src.parent.name}__{src.stem}"
    record_path = work / f"{stem}.json"
    record_path.unlink(missing_ok=True)
    out = work / f"{stem}.ipynb"
    env = dict(env, COURSE_REHEARSAL_RECORD=str(record_path))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(src), str(out), str(src.parent), str(timeout)],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    fatal, results = [], []
    if proc.returncode:
        (work / f"{stem}.stderr").write_text(proc.stderr)
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        fatal.append(" | ".join(lines[-2:])[-300:] or f"exit code {proc.returncode}")
    if out.exists():
        executed = nbfiles.read(out)
        unbound: set[str] = set()  # names a cell would have bound, had its result check passed
        for i, err in errors(executed):
            text = f"cell {i}: {err.get('ename')}: {str(err.get('evalue', ''))[:200]}"
            if err.get("ename") in RESULT_ERRORS:
                results.append(text)
                unbound |= assigned_names(executed.cells[i].source)
            elif err.get("ename") == "NameError" and _missing_name(err) in unbound:
                results.append(f"{text} (bound by a cell whose result check was missed)")
            else:
                fatal.append(text)
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    result = summarise(name, seconds, "; ".join(fatal), record)
    result.result_checks = results
    return result


def _fmt_big(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return str(n)


def table(results: list[Result]) -> str:
    """The printed table: one row per notebook."""
    head = (
        f"{'notebook':42s} {'s here':>7s} {'peak RSS':>9s} {'images trained':>15s}"
        f" {'train MACs':>11s} {'T4 min':>7s}  status"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        t4 = "-" if r.t4_minutes is None else f"{r.t4_minutes:.1f}"
        images = "-" if r.images_trained is None else f"{r.images_trained:,}"
        status = "ok" if r.ok else f"FAILED: {r.error}"
        if r.ok and r.peak_rss_mb > RSS_LIMIT_MB:
            status = f"OVER {RSS_LIMIT_MB} MB"
        if r.ok and r.result_checks:
            status += f" ({len(r.result_checks)} result check(s) missed)"
        if r.uncounted_fits:
            status += f" ({r.uncounted_fits} fit(s) not counted)"
        rows.append(
            f"{r.notebook:42s} {r.seconds:7.0f} {r.peak_rss_mb / 1024:7.2f} GB {images:>15s}"
            f" {_fmt_big(r.train_macs):>11s} {t4:>7s}  {status}"
        )
    return "\n".join(rows)


def rehearse(
    paths: list[Path],
    *,
    work: Path,
    steps: int = 1,
    jobs: int = 2,
    timeout: int = 900,
    reuse_data: bool = False,
) -> list[Result]:
    """Synthesise the data (unless `reuse_data` and present), rehearse `paths`, return results."""
    from utils.data.download import sha256_of
    from utils.data.registry import get
    from utils.tooling import fake_data

    work = Path(work).resolve()  # the kernels run in the notebooks' folders
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    t0 = time.perf_counter()
    names = ("mnist", "cifar10", "pets-images", "pets-annotations")
    if reuse_data and all((data / get(n).filename).exists() for n in names):
        files = {n: (data / get(n).filename, sha256_of(data / get(n).filename)) for n in names}
        files = {n: (p, s, p.stat().st_size) for n, (p, s) in files.items()}
        print(f"data: reused {data} ({time.perf_counter() - t0:.0f} s to checksum)")
    else:
        files = fake_data.synthesise(data)
        print(f"data: synthesised in {time.perf_counter() - t0:.0f} s (shared machine: inflated)")
    env = dict(
        os.environ,
        IPYTHONDIR=str(prepare_ipython(work / "ipython")),
        COURSE_PROFILE="full",
        COURSE_DATA_DIR=str(data),
        COURSE_REHEARSAL_STEPS=str(steps),
        COURSE_REHEARSAL_DATA=json.dumps({n: [s, size] for n, (_, s, size) in files.items()}),
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    heavy = [p for p in paths if p.stem in FIRST]
    light = [p for p in paths if p.stem not in FIRST]
    paths = []
    while heavy or light:  # one heavy notebook, then three light ones: heavies rarely overlap
        paths += heavy[:1] + light[:3]
        heavy, light = heavy[1:], light[3:]
    from tqdm.auto import tqdm

    results: list[Result] = []
    with (
        ThreadPoolExecutor(max_workers=jobs) as pool,
        tqdm(total=len(paths), desc="Rehearsing", unit="nb") as bar,
    ):
        for result in pool.map(lambda p: run_one(p, work, env, timeout=timeout), paths):
            results.append(result)
            bar.write(
                f"{result.notebook}: {result.seconds:.0f} s, {result.peak_rss_mb:.0f} MB, {'ok' if result.ok else 'FAILED'}"
            )
            bar.update(1)
    results.sort(key=lambda r: r.notebook)
    (work / "README-table.md").write_text(markdown(results) + "\n")
    (work / "summary.json").write_text(
        json.dumps([dict(r.__dict__, t4_minutes=r.t4_minutes) for r in results], indent=1)
    )
    return results


def report(results: list[Result]) -> str:
    """The table, the assumptions behind its figures, and the result checks that were missed."""
    lines = [
        table(results),
        f"T4 min: model compute only, at {T4_UTILISATION:.0%} of the T4's fp32 peak (8.1 TFLOPS);"
        f" training MACs = {TRAIN_FACTOR} x forward MACs x images seen (epochs as written: early"
        " stopping may end sooner). GPU memory: unmeasured (no GPU here); peak RSS is the"
        " kernel's host memory with the full-size arrays loaded.",
    ]
    missed = [(r.notebook, c) for r in results for c in r.result_checks]
    if missed:
        lines.append(
            "Result checks missed (expected: training is cut to a few steps per epoch, on"
            " synthetic data; on the real data the full run trains in full):"
        )
        lines += [f"  {notebook} {check}" for notebook, check in missed]
    return "\n".join(lines)


#: Above this many estimated T4 minutes a notebook says a GPU is needed: the same work on a
#: laptop CPU takes tens of times longer (the assumption: a CPU sustains 1/20 to 1/50 of it).
GPU_NEEDED_T4_MINUTES = 0.5


def gpu_needed(r: Result) -> bool:
    """Whether the full run's model compute calls for a GPU (see GPU_NEEDED_T4_MINUTES)."""
    return (r.t4_minutes or 0.0) > GPU_NEEDED_T4_MINUTES


def markdown(results: list[Result]) -> str:
    """The README's table: one row per notebook."""
    rows = [
        "| notebook | images seen in training | training MACs | T4 estimate | GPU | peak RAM (rehearsal) |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for r in results:
        t4 = "-" if r.t4_minutes is None else f"{max(r.t4_minutes, 0.1):.1f} min"
        images = "-" if r.images_trained is None else f"{r.images_trained:,}"
        macs = _fmt_big(r.train_macs).replace(" ", "\u202f")
        if r.uncounted_fits:  # a dataset of unknown length, a model of unknown input size
            images = images if r.images_trained else "not counted"
            macs, t4 = "not counted", "-"
        gpu = "needed" if gpu_needed(r) else "not needed"
        rows.append(
            f"| `{r.notebook}` | {images} | {macs} | {t4} | {gpu} | {r.peak_rss_mb / 1024:.1f} GB |"
        )
    return "\n".join(rows)


INTRO = "**Full profile (the default):**"
#: Lectures whose training is not through `fit` or `train_side_by_side` (not counted).
NUMPY_TRAINING = {"04_backprop_from_scratch": "the network trains in NumPy on the CPU"}


def _minutes(t4: float) -> str:
    if t4 < 0.75:
        return "under a minute"
    if t4 < 1.5:
        return "about a minute"
    return f"about {round(t4)} minutes"


def intro_sentence(r: Result) -> str:
    """A lecture's line saying what its full profile costs, from its rehearsal."""
    ram = f"about {r.peak_rss_mb / 1024:.1f} GB of RAM"
    stem = Path(r.notebook).stem
    if stem in NUMPY_TRAINING:
        return f"{INTRO} no GPU needed ({NUMPY_TRAINING[stem]}); {ram}."
    if r.images_trained is None or r.t4_minutes is None:
        return f"{INTRO} no training, no GPU needed; {ram}."
    gpu = (
        "a GPU needed (Colab: Runtime > Change runtime type > T4 GPU)"
        if gpu_needed(r)
        else "no GPU needed"
    )
    return (
        f"{INTRO} {gpu}; training is estimated at {_minutes(r.t4_minutes)} on a Colab T4"
        f" ({r.images_trained:,} training images, {T4_UTILISATION:.0%} of the T4's peak assumed,"
        f' data loading not included); {ram}. The README\'s "What the full profile costs" says'
        " how this is estimated."
    )


def write_intros(results: list[Result]) -> list[str]:
    """Put each lecture's `intro_sentence` in its first cell (replacing an older one, else
    after the Colab badge); return the lectures rewritten."""
    written = []
    for r in results:
        if not r.notebook.startswith("notebooks/") or not r.ok:
            continue
        path = nbfiles.root() / r.notebook
        nb = nbfiles.read(path)
        lines = nb.cells[0].source.split("\n")
        line = intro_sentence(r)
        old = [i for i, text in enumerate(lines) if text.startswith(INTRO)]
        if old:
            lines[old[0]] = line
        else:
            badge = next(i for i, text in enumerate(lines) if "colab-badge" in text)
            lines[badge + 1 : badge + 1] = ["", line]
        nb.cells[0].source = "\n".join(lines)
        if nbfiles.write(nb, path):
            written.append(r.notebook)
    return written


def default_paths() -> list[Path]:
    """The 18 lectures and the 18 solutions (a lab is its solution with the answers removed)."""
    return nbfiles.course_notebooks("notebooks") + nbfiles.course_notebooks("solutions")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.tooling.rehearsal", description=__doc__)
    parser.add_argument("names", nargs="*", help="e.g. 05_lenet (default: every notebook)")
    parser.add_argument("--steps", type=int, default=1, help="training steps per epoch")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks at a time")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("--work", default=str(nbfiles.root() / ".runs" / "rehearsal"))
    parser.add_argument("--reuse-data", action="store_true", help="keep stand-ins already made")
    parser.add_argument(
        "--write-intros",
        action="store_true",
        help="only rewrite each lecture's cost line from the records in WORK (the last rehearsal)",
    )
    args = parser.parse_args(argv)
    if args.write_intros:
        results = []
        for record in sorted(Path(args.work).glob("notebooks__*.json")):
            name = record.stem.replace("__", "/", 1) + ".ipynb"
            results.append(summarise(name, 0.0, "", json.loads(record.read_text())))
        for rel in write_intros(results):
            print(f"rewrote the cost line of {rel}")
        return 0
    paths = default_paths()
    if args.names:
        wanted = {n.removesuffix(".ipynb") for n in args.names}
        paths = [p for p in paths if p.stem in wanted or f"{p.parent.name}/{p.stem}" in wanted]
        if not paths:
            print(f"no notebook named {sorted(wanted)}")
            return 2
    t0 = time.perf_counter()
    results = rehearse(
        paths,
        work=Path(args.work),
        steps=args.steps,
        jobs=args.jobs,
        timeout=args.timeout,
        reuse_data=args.reuse_data,
    )
    print(report(results))
    print(
        f"rehearsal: {len(results)} notebooks in {time.perf_counter() - t0:.0f} s (shared machine: inflated)"
    )
    bad = [r for r in results if not r.ok or r.peak_rss_mb > RSS_LIMIT_MB]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
