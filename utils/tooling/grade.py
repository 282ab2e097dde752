"""Grading learners' labs: learner code in a sandboxed kernel, verdicts in the grader.

`python -m utils.tooling grade SUBMISSIONS --out OUT` (what `make grade` runs) expects one
sub-folder per learner holding that learner's labs under the lab file names
(`SUBMISSIONS/alice/05_lenet.ipynb`) and writes:

- `OUT/grades.csv`: a row per learner and lab: learner, lab, ex1..exN (points), total, max,
  status (graded / timed out / could not run / missing), seconds, seed, sandbox;
- `OUT/feedback/<learner>.md`: per lab, each exercise passed or not, the failing check's
  message, and the learner's own errors.

How a submission is graded. Its code cells run in a kernel of their own, under bubblewrap
(`utils.tooling.sandbox`: no network, no view of the checkout, writes only in its scratch
folder, a copy of the package whose checks are stubs), in the smoke profile, with a time limit
per cell and per notebook and a memory limit. No hidden test ever runs in that kernel. Each
exercise's hidden tests (from the matching solution) run in the grader's own process, where
every learner name they read is a `grading_remote.RemoteFunction`: calling it sends the
arguments to the kernel as data, runs the learner's function there, and brings the result back
as data. The `check_*` functions and their references therefore run in a process in which no
learner code ever ran, on cases drawn from a seed chosen per run (`GRADING_SEED`; `--seed` to
reproduce it; written in grades.csv and the feedback). An exercise scores its points when its
hidden tests finish without an exception in the grader. A kernel that dies while running a
learner cell is restarted without that cell; one that dies in a grading call fails that
exercise and is restarted for the next. A watchdog that cannot read the kernel's memory stops
the lab (`could not run`): no lab runs without limits.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import io
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import nbformat

from utils.tooling import grading_remote, labs, nbfiles, sandbox

STATUSES = ("graded", "timed out", "could not run", "missing")
DEFAULT_POINTS = 1


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
    seed: int = 0
    sandbox: str = ""

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


def _error_text(out: dict) -> str:
    return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()


class _Watchdog:
    """Kills the kernel when the notebook's time or the memory limit is exceeded, or when it
    cannot read the kernel's memory (then `reason` says so and the lab cannot be graded)."""

    def __init__(self, client, limits: Limits, started: float):
        self.client, self.limits, self.started = client, limits, started
        self.reason = ""
        self.blind = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)

    @staticmethod
    def _rss_mb(pid: int) -> float:
        """Resident memory of the process and all its descendants; raises psutil errors
        except for a child that ended between listing and reading it."""
        import psutil

        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total / 2**20

    def _kill(self, process) -> None:
        try:
            os.killpg(os.getpgid(process.pid), 9)
        except OSError:
            pass
        with contextlib.suppress(Exception):
            process.kill()

    def _watch(self):
        import psutil

        waited = 0.0
        while not self._stop.wait(0.25):
            process = getattr(getattr(self.client.km, "provisioner", None), "process", None)
            if process is None:
                waited += 0.25
                if waited > 60:
                    self.reason, self.blind = "the watchdog found no kernel process to watch", True
                    return
                continue
            if process.poll() is not None:
                return  # the kernel ended: the runner notices
            try:
                if time.monotonic() - self.started > self.limits.notebook_seconds:
                    self.reason = f"the notebook ran longer than {self.limits.notebook_seconds} s"
                elif self._rss_mb(process.pid) > self.limits.memory_mb:
                    self.reason = f"it used more than {self.limits.memory_mb} MB of memory"
                else:
                    continue
            except psutil.NoSuchProcess:
                return  # the kernel ended: the runner notices
            except Exception as err:
                self.reason = f"the watchdog could not read the kernel's memory ({err!r})"
                self.blind = True
            self._kill(process)
            return


def _kernel_manager(job: Path, use_sandbox: bool):
    """A kernel manager whose kernel runs `sandbox.kernel_argv` over unix sockets in `job`."""
    import json

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    argv, env, _ = sandbox.kernel_argv(job, use_sandbox)
    spec_dir = job / "kernels" / "grading"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": argv,
        "env": env,
        "display_name": "grading",
        "language": "python",
        "interrupt_mode": "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    ksm = KernelSpecManager(kernel_dirs=[str(job / "kernels")])
    km = AsyncKernelManager(kernel_name="grading", kernel_spec_manager=ksm, transport="ipc")
    km.ip = str(job / "ipc" / "kernel")
    km.connection_file = str(job / "ipc" / "connection.json")
    return km


def _executor(client, dog: _Watchdog):
    """execute(code, seconds) -> the execute reply's content, run in `client`'s kernel.

    Raises grading_remote.KernelGone when the kernel dies, the watchdog stops it, or it
    answers nothing in time even after an interrupt."""
    from nbclient.util import run_sync

    async def execute(code: str, seconds: float) -> dict:
        msg_id = client.kc.execute(code, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + seconds
        interrupted = False
        while True:
            if dog.reason:
                raise grading_remote.KernelGone(dog.reason)
            if time.monotonic() > deadline:
                if interrupted:
                    raise grading_remote.KernelGone("the kernel did not answer after an interrupt")
                await client.km.interrupt_kernel()
                interrupted, deadline = True, time.monotonic() + 10
            try:
                msg = await client.kc.get_shell_msg(timeout=0.5)
            except queue.Empty:
                if not await client.km.is_alive():
                    raise grading_remote.KernelGone(dog.reason or "the kernel died") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                content = dict(msg.get("content", {}))
                if interrupted and content.get("status") != "ok":
                    content.update(ename="TimeoutError", evalue=f"ran longer than {seconds} s")
                return content

    return run_sync(execute)


@dataclass
class _Attempt:
    """What one kernel's run gave: the learner cells run, verdicts, and how it ended."""

    executed: nbformat.NotebookNode | None = None
    died_in_cell: int | None = None
    verdicts: dict[int, tuple[bool, str]] = field(default_factory=dict)
    died_in_exercise: int | None = None
    reason: str = ""
    blind: bool = False


def _verdict(exercise: Exercise, remote: grading_remote.RemoteKernel, seed: int):
    """Run one exercise's hidden tests in the grader's process: (passed, message)."""
    try:
        ns = grading_remote.namespace_for(exercise.imports, exercise.hidden, remote, seed)
        code = compile(exercise.hidden, f"<hidden tests of exercise {exercise.number}>", "exec")
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, ns)
    except grading_remote.KernelGone:
        raise
    except Exception as err:
        text = str(err).strip() or type(err).__name__
        prefix = "" if isinstance(err, AssertionError) and str(err) else f"{type(err).__name__}: "
        return False, (prefix + text)[:2000]
    return True, ""


def _attempt(cells, exercises, job: Path, limits: Limits, started: float, seed: int, sandboxed):
    """Run the learner's `cells` in a fresh kernel, then grade `exercises` through it."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.from_dict(c) for c in cells])
    client = NotebookClient(
        nb,
        km=_kernel_manager(job, sandboxed),
        timeout=limits.cell_seconds,
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "CellTimeoutError",
            "evalue": f"the cell ran longer than {limits.cell_seconds} s and was interrupted",
            "traceback": [],
        },
        resources={"metadata": {"path": str(job / "work")}},
    )
    result = _Attempt(executed=nb)
    try:
        _run_and_grade(client, nb, exercises, job, limits, started, seed, result)
    finally:  # a kernel manager passed in is not shut down by nbclient: stop it here
        _stop_kernel(client.km)
    return result


def _stop_kernel(km) -> None:
    """Shut the kernel down now and make sure its process (bwrap and all) is gone."""
    from nbclient.util import run_sync

    process = getattr(getattr(km, "provisioner", None), "process", None)
    with contextlib.suppress(Exception):
        run_sync(km.shutdown_kernel)(now=True)
    if process is not None and process.poll() is None:
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(Exception):
            process.wait(timeout=10)


def _run_and_grade(client, nb, exercises, job, limits, started, seed, result) -> None:
    from nbclient.exceptions import DeadKernelError

    with client.setup_kernel(), _Watchdog(client, limits, started) as dog:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except DeadKernelError:
                result.died_in_cell = index
                break
            except Exception as err:  # nbclient failures other than a dead kernel
                cell.outputs = [
                    nbformat.v4.new_output("error", ename=type(err).__name__, evalue=str(err))
                ]
            if dog.reason:
                result.died_in_cell = index
                break
        if result.died_in_cell is None:
            remote = grading_remote.RemoteKernel(
                _executor(client, dog),
                job / "exchange",
                limits.cell_seconds,
                learner_code=[c.source for c in nb.cells if c.cell_type == "code"],
            )
            for exercise in exercises:
                try:
                    result.verdicts[exercise.number] = _verdict(exercise, remote, seed)
                except grading_remote.KernelGone as gone:
                    result.verdicts[exercise.number] = (
                        False,
                        f"the kernel stopped while the grader ran your code: {gone}",
                    )
                    result.died_in_exercise = exercise.number
                    break
        result.reason, result.blind = dog.reason, dog.blind


def grade_one(
    learner: str,
    lab_name: str,
    path: Path | None,
    limits: Limits,
    seed: int = 0,
    use_sandbox: bool | None = None,
) -> Outcome:
    """Grade one learner's lab file (None: not submitted). Never raises."""
    solution_path = nbfiles.root() / "solutions" / lab_name
    exercises = exercises_of(nbfiles.read(solution_path))
    maximum = sum(e.points for e in exercises)
    sandboxed = sandbox.bwrap_works() if use_sandbox is None else use_sandbox
    out = Outcome(learner, lab_name, "missing", [0] * len(exercises), maximum, seed=seed)
    out.sandbox = sandbox.SANDBOX_BWRAP if sandboxed else sandbox.SANDBOX_NONE
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
    verdicts: dict[int, tuple[bool, str]] = {}
    executed = None
    pending = list(exercises)
    for _attempt_number in range(4 + len(exercises)):
        with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
            job = Path(tmp)
            sandbox.prepare_job(job)
            kept = [i for i in range(len(learner_cells)) if i not in skipped]
            run = _attempt(
                [learner_cells[i] for i in kept], pending, job, limits, started, seed, sandboxed
            )
        if executed is None or run.died_in_cell is None:
            executed = run.executed
        if run.blind:
            out.status, out.note = "could not run", f"stopped: {run.reason}"
            out.seconds = time.monotonic() - started
            return out
        if "ran longer" in run.reason:
            out.status, out.note = "timed out", f"stopped: {run.reason}"
            out.seconds = time.monotonic() - started
            return out
        if run.died_in_cell is not None:
            original = kept[run.died_in_cell]
            skipped.append(original)
            why = run.reason or "the kernel died"
            notes.append(f"cell {original + 1} was skipped: {why} while running it")
            if len(skipped) > 3:
                out.status, out.note = "could not run", "the kernel kept dying; " + "; ".join(notes)
                out.seconds = time.monotonic() - started
                return out
            continue
        verdicts.update(run.verdicts)
        pending = [e for e in pending if e.number not in verdicts]
        if run.died_in_exercise is not None:
            notes.append(f"the kernel stopped in exercise {run.died_in_exercise}: {run.reason}")
        if not pending:
            break
    out.seconds = time.monotonic() - started
    out.status, out.note = "graded", "; ".join(n.rstrip(": ") for n in notes)
    for e in exercises:
        ok, message = verdicts.get(e.number, (False, "not run"))
        out.points[e.number - 1] = e.points if ok else 0
        title = e.title if e.title.lower().startswith("exercise") else f"Exercise {e.number}"
        out.exercises.append((f"{title} ({e.points} pt)", ok, message))
    for cell in executed.cells if executed is not None else []:
        if cell.cell_type != "code":
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


def parse_shard(text: str | None) -> tuple[int, int]:
    """`"i/n"` (1 <= i <= n) -> (i, n); None or "" -> (1, 1), every learner."""
    if not text:
        return 1, 1
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise SystemExit(f"SHARD must look like 2/8 (shard 2 of 8), not {text!r}") from None
    if not 1 <= i <= n:
        raise SystemExit(f"SHARD {text}: the shard number must be between 1 and {max(n, 1)}")
    return i, n


def _jobs_for(
    submissions: Path, shard: tuple[int, int] = (1, 1)
) -> tuple[list[tuple[str, str, Path | None]], list[Outcome]]:
    """(learner, lab, path) for every expected lab of every learner of the shard, and the
    outcomes of files that match no lab (so that every input file appears in the grades).

    Shard i of n holds the learners at positions i-1, i-1+n, ... of the sorted folder names:
    the same on every machine, and every learner in exactly one shard."""
    lab_names = [p.name for p in nbfiles.course_notebooks("solutions")]
    jobs, strays = [], []
    learners = sorted(p for p in Path(submissions).iterdir() if p.is_dir())
    index, count = shard
    for folder in learners[index - 1 :: count]:
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
    learner, lab_name, path, limits, seed, use_sandbox = job
    try:
        return grade_one(learner, lab_name, path, limits, seed, use_sandbox)
    except Exception as err:  # the batch goes on, and the file is reported
        return Outcome(learner, lab_name, "could not run", note=f"grader error: {err!r}", seed=seed)


def new_seed() -> int:
    """A fresh grading seed, from `secrets`: below 100,000, as the checks derive seeds from
    it (`seed * 100 + i`) that NumPy and Keras need below 2**32."""
    return secrets.randbelow(100_000)


def grade_folder(
    submissions: Path,
    out_dir: Path,
    *,
    jobs: int | None = None,
    limits: Limits | None = None,
    seed: int | None = None,
    shard: tuple[int, int] = (1, 1),
    use_sandbox: bool | None = None,
) -> list[Outcome]:
    """Grade every learner's labs (of one shard) in parallel; write grades.csv (or, for a shard
    of several, grades-shard-i-of-n.csv) and feedback; return the outcomes."""
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not submissions.is_dir():
        raise SystemExit(f"{submissions} is not a folder of learners' sub-folders")
    limits = limits or Limits()
    seed = new_seed() if seed is None else int(seed)
    if use_sandbox is None:
        use_sandbox = sandbox.bwrap_works()
    if not use_sandbox:
        print(
            "WARNING: bubblewrap cannot run here: learners' kernels run WITHOUT a sandbox "
            "(they can read and write this machine's files and reach the network). "
            "Install it (apt-get install bubblewrap) before grading for credit.",
            file=sys.stderr,
            flush=True,
        )
    work, outcomes = _jobs_for(submissions, shard)
    if not work and not outcomes:
        raise SystemExit(
            f"{submissions} has no learner sub-folders (in shard {shard[0]}/{shard[1]})"
        )
    jobs = jobs or max(1, min(os.cpu_count() or 1, 4))
    total = len(work)
    print(
        f"grading {total} lab(s) of {len({w[0] for w in work})} learner(s), {jobs} at a time, "
        f"seed {seed}, sandbox: {sandbox.SANDBOX_BWRAP if use_sandbox else sandbox.SANDBOX_NONE}"
    )
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        done = 0
        futures = [pool.submit(_grade_job, (*w, limits, seed, use_sandbox)) for w in work]
        for future in as_completed(futures):
            outcome = future.result()
            done += 1
            print(
                f"[{done}/{total}] {outcome.learner}/{outcome.lab}: {outcome.status}, "
                f"{outcome.total}/{outcome.maximum} ({outcome.seconds:.0f} s)",
                flush=True,
            )
            outcomes.append(outcome)
    outcomes.sort(key=lambda o: (o.learner, o.lab))
    name = "grades.csv" if shard == (1, 1) else f"grades-shard-{shard[0]}-of-{shard[1]}.csv"
    write_csv(outcomes, out_dir / name)
    write_feedback(outcomes, out_dir / "feedback")
    print(f"wrote {out_dir / name} and {out_dir / 'feedback'}/")
    return outcomes


FIXED_COLUMNS = ("total", "max", "status", "seconds", "seed", "sandbox")


def write_csv(outcomes: list[Outcome], path: Path) -> None:
    """grades.csv: learner, lab, ex1..exN, total, max, status, seconds, seed, sandbox."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = max((len(o.points) for o in outcomes), default=0)
    header = ["learner", "lab", *[f"ex{i + 1}" for i in range(width)], *FIXED_COLUMNS]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for o in outcomes:
            points = [str(p) for p in o.points] + [""] * (width - len(o.points))
            writer.writerow(
                [
                    o.learner,
                    o.lab,
                    *points,
                    o.total,
                    o.maximum,
                    o.status,
                    f"{o.seconds:.1f}",
                    o.seed,
                    o.sandbox,
                ]
            )


def merge_shards(out_dir: Path) -> Path:
    """Merge every `grades-shard-*.csv` of `out_dir` into `out_dir/grades.csv`.

    Refuses shards that grade one learner twice or that do not form one complete set
    (1..n of the same n), so that a missing shard is noticed, not silently dropped."""
    out_dir = Path(out_dir)
    parts = sorted(out_dir.glob("grades-shard-*-of-*.csv"))
    if not parts:
        raise SystemExit(f"no grades-shard-*-of-*.csv in {out_dir}: run the shards first")
    found = {
        tuple(int(v) for v in p.stem.removeprefix("grades-shard-").split("-of-")) for p in parts
    }
    counts = {n for _, n in found}
    if len(counts) != 1 or {i for i, _ in found} != set(range(1, next(iter(counts)) + 1)):
        raise SystemExit(f"the shards in {out_dir} are not one complete set: {sorted(found)}")
    rows, seen = [], set()
    for part in parts:
        with open(part, newline="") as f:
            for row in csv.DictReader(f):
                key = (row["learner"], row["lab"])
                if key in seen:
                    raise SystemExit(f"{key} is graded in two shards")
                seen.add(key)
                rows.append(row)
    width = max(
        (int(k[2:]) for r in rows for k in r if k.startswith("ex") and r[k] != ""), default=0
    )
    header = ["learner", "lab", *[f"ex{i + 1}" for i in range(width)], *FIXED_COLUMNS]
    rows.sort(key=lambda r: (r["learner"], r["lab"]))
    target = out_dir / "grades.csv"
    with open(target, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore", restval="")
        writer.writeheader()
        writer.writerows(rows)
    print(f"merged {len(parts)} shard(s), {len(rows)} row(s) into {target}")
    return target


def write_feedback(outcomes: list[Outcome], folder: Path) -> None:
    """One Markdown file per learner: every lab, every exercise, messages and errors."""
    folder.mkdir(parents=True, exist_ok=True)
    learners = sorted({o.learner for o in outcomes})
    for learner in learners:
        lines = [f"# Feedback for {learner}", ""]
        for o in (o for o in outcomes if o.learner == learner):
            lines += [f"## {o.lab}: {o.total}/{o.maximum} ({o.status})", ""]
            lines += [f"Grading seed: {o.seed}; sandbox: {o.sandbox or 'not started'}", ""]
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
