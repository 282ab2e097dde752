"""Grading learners' labs with the hidden tests of the solution notebooks.

`python -m utils.tooling grade SUBMISSIONS --out OUT` (what `make grade` runs) expects one
sub-folder per learner holding that learner's labs under the lab file names
(`SUBMISSIONS/alice/05_lenet.ipynb`) and writes:

- `OUT/grades.csv`: a row per learner and lab: learner, lab, ex1..exN (points), total, max,
  status (graded / timed out / could not run / missing), seconds;
- `OUT/feedback/<learner>.md`: per lab, each exercise passed or not, the failing check's
  message, and the learner's own errors.

How a submission is graded: its code cells run in a kernel of their own (never in the
grader's process), in the smoke profile, in a scratch folder, with a time limit per cell and
per notebook and a memory limit. Then, in the same kernel, each exercise's hidden tests (from
the matching solution) run in a cell the grader appends, after re-importing the checking
modules so that edited or monkey-patched checks do not count. An exercise scores its points
when its hidden-test cell finishes without an exception, as the kernel reports it: printed
text cannot change that. A kernel that dies (crash, memory) is restarted without the cell
that killed it, so the rest of the work is still graded.
"""

from __future__ import annotations

import ast
import csv
import os
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import nbformat

from utils.tooling import labs, nbfiles, runner

STATUSES = ("graded", "timed out", "could not run", "missing")
DEFAULT_POINTS = 1
#: Code run before each exercise's hidden tests: fresh checking modules, whatever the
#: learner's notebook did to them.
RELOAD_CHECKS = (
    "import importlib as __grader_importlib, sys as __grader_sys\n"
    "for __grader_name in sorted(\n"
    "    (n for n in list(__grader_sys.modules) if n.startswith('utils.checks')),\n"
    "    key=lambda n: (n != 'utils.checks.core', n),\n"
    "):\n"
    "    __grader_importlib.reload(__grader_sys.modules[__grader_name])\n"
)


@dataclass
class Exercise:
    """One graded exercise of a lab: its hidden tests and points."""

    number: int
    title: str
    points: int
    hidden: str
    imports: str


@dataclass
class Limits:
    """Resource limits for one submission."""

    cell_seconds: int = 120
    notebook_seconds: int = 600
    memory_mb: int = 6000


@dataclass
class Outcome:
    """The grade of one learner's lab."""

    learner: str
    lab: str
    status: str
    points: list[int] = field(default_factory=list)
    maximum: int = 0
    seconds: float = 0.0
    exercises: list[tuple[str, bool, str]] = field(default_factory=list)  # title, ok, message
    learner_errors: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def total(self) -> int:
        return sum(self.points)


def exercises_of(solution: nbformat.NotebookNode) -> list[Exercise]:
    """The graded exercises of a solution: each cell holding hidden tests is one.

    Points come from the cell's metadata `points` (default 1); the title from the closest
    `## Exercise ...` heading above it; `imports` are the solution's import lines above it,
    re-run before the hidden tests so that they use the real modules.
    """
    found: list[Exercise] = []
    title = ""
    imports: list[str] = []
    for cell in solution.cells:
        if cell.cell_type == "markdown":
            heading = cell.source.splitlines()[0] if cell.source else ""
            if heading.startswith("## "):
                title = heading.removeprefix("## ").strip()
            continue
        visible, blocks = labs.strip_cell(cell.source, markdown=False)
        imports += _top_level_imports(visible)
        if blocks.hidden:
            found.append(
                Exercise(
                    number=len(found) + 1,
                    title=title or f"exercise {len(found) + 1}",
                    points=int(cell.metadata.get("points", DEFAULT_POINTS)),
                    hidden="\n".join(blocks.hidden),
                    imports="\n".join(dict.fromkeys(imports)),
                )
            )
    return found


def _top_level_imports(source: str) -> list[str]:
    """The top-level import statements of a cell's code, each whole (even over several lines).

    Cells that are not valid Python (IPython magics, say) are read line by line instead.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [
            line
            for line in source.splitlines()
            if line.startswith(("import ", "from ")) and "__future__" not in line
        ]
    return [
        ast.get_source_segment(source, node)
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
    ]


def _grader_cell(exercise: Exercise) -> nbformat.NotebookNode:
    source = f"{RELOAD_CHECKS}{exercise.imports}\n{exercise.hidden}\n"
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["grader"] = exercise.number
    return cell


def _error_text(out: dict) -> str:
    return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()


class _Watchdog:
    """Kills the kernel when the notebook's time or the memory limit is exceeded."""

    def __init__(self, client, limits: Limits, started: float):
        self.client, self.limits, self.started = client, limits, started
        self.reason = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)

    def _rss_mb(self, pid: int) -> float:
        import psutil

        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _watch(self):
        while not self._stop.wait(0.25):
            process = getattr(getattr(self.client.km, "provisioner", None), "process", None)
            if process is None:
                continue
            try:
                if time.monotonic() - self.started > self.limits.notebook_seconds:
                    self.reason = f"the notebook ran longer than {self.limits.notebook_seconds} s"
                elif self._rss_mb(process.pid) > self.limits.memory_mb:
                    self.reason = f"it used more than {self.limits.memory_mb} MB of memory"
                else:
                    continue
                process.kill()
                return
            except Exception:  # the kernel is already gone
                return


def _run(nb: nbformat.NotebookNode, workdir: Path, limits: Limits, started: float):
    """Execute every code cell; return (executed nb, index of a cell that killed the kernel
    or None, the watchdog's reason or "")."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    client = NotebookClient(
        nb,
        timeout=limits.cell_seconds,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "CellTimeoutError",
            "evalue": f"the cell ran longer than {limits.cell_seconds} s and was interrupted",
            "traceback": [],
        },
        resources={"metadata": {"path": str(workdir)}},
    )
    with client.setup_kernel(), _Watchdog(client, limits, started) as dog:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except DeadKernelError:
                return nb, index, dog.reason
            except Exception as err:  # nbclient failures other than a dead kernel
                cell.outputs = [
                    nbformat.v4.new_output("error", ename=type(err).__name__, evalue=str(err))
                ]
            if dog.reason:
                return nb, index, dog.reason
    return nb, None, dog.reason


def grade_one(learner: str, lab_name: str, path: Path | None, limits: Limits) -> Outcome:
    """Grade one learner's lab file (None: not submitted). Never raises."""
    solution_path = nbfiles.root() / "solutions" / lab_name
    exercises = exercises_of(nbfiles.read(solution_path))
    maximum = sum(e.points for e in exercises)
    out = Outcome(learner, lab_name, "missing", [0] * len(exercises), maximum)
    if path is None:
        out.note = f"no file {lab_name} in this learner's folder"
        return out
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as err:
        out.status, out.note = "could not run", f"not a readable notebook: {err}"
        return out
    learner_cells = [c for c in nb.cells if c.cell_type in ("code", "markdown")]
    for cell in learner_cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    started = time.monotonic()
    skipped: list[int] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp, runner.kernel_environment("smoke"):
        for _attempt in range(4):
            cells = [c for i, c in enumerate(learner_cells) if i not in skipped]
            run_nb = nbformat.v4.new_notebook(cells=[nbformat.from_dict(c) for c in cells])
            run_nb.cells += [_grader_cell(e) for e in exercises]
            executed, died_at, reason = _run(run_nb, Path(tmp), limits, started)
            if died_at is None:
                break
            if "ran longer" in reason:
                out.status, out.note = "timed out", f"stopped: {reason}"
                out.seconds = time.monotonic() - started
                return out
            if died_at >= len(cells):  # a hidden-test cell crashed: grade what ran
                break
            original = [i for i in range(len(learner_cells)) if i not in skipped][died_at]
            skipped.append(original)
            why = reason or "the kernel died"
            notes.append(f"cell {original + 1} was skipped: {why} while running it")
        else:
            out.status, out.note = "could not run", "the kernel kept dying; " + "; ".join(notes)
            out.seconds = time.monotonic() - started
            return out
    out.seconds = time.monotonic() - started
    out.status, out.note = "graded", "; ".join(notes)
    by_number = {c.metadata.get("grader"): c for c in executed.cells if "grader" in c.metadata}
    for e in exercises:
        cell = by_number.get(e.number)
        errors = [o for o in (cell.outputs if cell else []) if o.get("output_type") == "error"]
        ran = cell is not None and cell.get("execution_count") is not None
        ok = ran and not errors
        message = _error_text(errors[0]) if errors else ("" if ran else "not run")
        out.points[e.number - 1] = e.points if ok else 0
        title = e.title if e.title.lower().startswith("exercise") else f"Exercise {e.number}"
        out.exercises.append((f"{title} ({e.points} pt)", ok, message))
    for cell in executed.cells:
        if cell.cell_type != "code" or "grader" in cell.metadata:
            continue
        for o in cell.outputs:
            if o.get("output_type") != "error":
                continue
            if o.get("ename") == "KeyboardInterrupt":
                message = f"ran longer than {limits.cell_seconds} s and was interrupted"
            else:
                message = f"raised {_error_text(o)[:500]}"
            first_line = next(iter(cell.source.strip().splitlines()), "")[:60]
            out.learner_errors.append(f"your cell `{first_line}` {message}")
    return out


def _jobs_for(submissions: Path) -> tuple[list[tuple[str, str, Path | None]], list[Outcome]]:
    """(learner, lab, path) for every expected lab of every learner, and the outcomes of
    files that match no lab (so that every input file appears in the grades)."""
    lab_names = [p.name for p in nbfiles.course_notebooks("solutions")]
    jobs, strays = [], []
    learners = sorted(p for p in Path(submissions).iterdir() if p.is_dir())
    for folder in learners:
        for name in lab_names:
            path = folder / name
            jobs.append((folder.name, name, path if path.exists() else None))
        for extra in sorted(folder.glob("*.ipynb")):
            if extra.name not in lab_names:
                strays.append(
                    Outcome(
                        folder.name,
                        extra.name,
                        "could not run",
                        note=f"no lab is named {extra.name}; rename it to one of: "
                        + ", ".join(lab_names),
                    )
                )
    return jobs, strays


def _grade_job(job) -> Outcome:
    learner, lab_name, path, limits = job
    try:
        return grade_one(learner, lab_name, path, limits)
    except Exception as err:  # the batch goes on, and the file is reported
        return Outcome(learner, lab_name, "could not run", note=f"grader error: {err!r}")


def grade_folder(
    submissions: Path, out_dir: Path, *, jobs: int | None = None, limits: Limits | None = None
) -> list[Outcome]:
    """Grade every learner's labs in parallel; write grades.csv and feedback; return outcomes."""
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not submissions.is_dir():
        raise SystemExit(f"{submissions} is not a folder of learners' sub-folders")
    limits = limits or Limits()
    work, outcomes = _jobs_for(submissions)
    if not work and not outcomes:
        raise SystemExit(f"{submissions} has no learner sub-folders")
    jobs = jobs or max(1, min(os.cpu_count() or 1, 4))
    total = len(work)
    print(f"grading {total} lab(s) of {len({w[0] for w in work})} learner(s), {jobs} at a time")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        done = 0
        for outcome in pool.map(_grade_job, [(*w, limits) for w in work]):
            done += 1
            print(
                f"[{done}/{total}] {outcome.learner}/{outcome.lab}: {outcome.status}, "
                f"{outcome.total}/{outcome.maximum}",
                flush=True,
            )
            outcomes.append(outcome)
    outcomes.sort(key=lambda o: (o.learner, o.lab))
    write_csv(outcomes, out_dir / "grades.csv")
    write_feedback(outcomes, out_dir / "feedback")
    print(f"wrote {out_dir / 'grades.csv'} and {out_dir / 'feedback'}/")
    return outcomes


def write_csv(outcomes: list[Outcome], path: Path) -> None:
    """grades.csv: learner, lab, ex1..exN, total, max, status, seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = max((len(o.points) for o in outcomes), default=0)
    header = ["learner", "lab", *[f"ex{i + 1}" for i in range(width)]]
    header += ["total", "max", "status", "seconds"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for o in outcomes:
            points = [str(p) for p in o.points] + [""] * (width - len(o.points))
            writer.writerow(
                [o.learner, o.lab, *points, o.total, o.maximum, o.status, f"{o.seconds:.1f}"]
            )


def write_feedback(outcomes: list[Outcome], folder: Path) -> None:
    """One Markdown file per learner: every lab, every exercise, messages and errors."""
    folder.mkdir(parents=True, exist_ok=True)
    learners = sorted({o.learner for o in outcomes})
    for learner in learners:
        lines = [f"# Feedback for {learner}", ""]
        for o in (o for o in outcomes if o.learner == learner):
            lines += [f"## {o.lab}: {o.total}/{o.maximum} ({o.status})", ""]
            if o.note:
                lines += [f"Note: {o.note}", ""]
            for title, ok, message in o.exercises:
                mark = "passed" if ok else "not passed"
                lines.append(f"- {title}: **{mark}**" + (f"\n  - {message}" if message else ""))
            if o.learner_errors:
                lines += ["", "Errors raised by your own cells:"]
                lines += [f"- {e}" for e in o.learner_errors]
            lines.append("")
        (folder / f"{learner}.md").write_text("\n".join(lines))
