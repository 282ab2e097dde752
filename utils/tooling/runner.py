"""Execute notebooks in a fresh kernel, in a chosen profile."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat

from utils.course import PROFILE_ENV
from utils.tooling import nbfiles

KERNEL_CONFIG = (
    "# Written by utils.tooling.runner: let C++ log lines (TensorFlow's) go to the kernel's\n"
    "# stderr instead of the notebook, so papermill and nbval record the same outputs.\n"
    "c.IPKernelApp.capture_fd_output = False\n"
)


def prepare_ipythondir(directory: Path) -> Path:
    """Make `directory` an IPYTHONDIR whose kernels do not capture C-level output."""
    profile = Path(directory) / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG)
    return Path(directory)


@contextmanager
def kernel_environment(profile: str = "smoke"):
    """Within this block, kernels start with the course's IPYTHONDIR and `$COURSE_PROFILE`."""
    saved = {k: os.environ.get(k) for k in ("IPYTHONDIR", PROFILE_ENV)}
    with tempfile.TemporaryDirectory(prefix="course-ipython-") as tmp:
        os.environ["IPYTHONDIR"] = str(prepare_ipythondir(Path(tmp)))
        os.environ[PROFILE_ENV] = profile
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def execute(src: Path, dst: Path, *, profile: str = "smoke", timeout: int = 600) -> float:
    """Run `src` top to bottom with papermill (injecting `PROFILE`), save it to `dst`.

    Runs in `src`'s folder, as a person would. Returns the wall time in seconds; raises
    papermill's PapermillExecutionError (naming the failing cell) on an error.
    """
    import papermill

    start = time.perf_counter()
    with kernel_environment(profile):
        papermill.execute_notebook(
            str(src),
            str(dst),
            parameters={"PROFILE": profile},
            kernel_name="python3",
            cwd=str(Path(src).parent),
            progress_bar=False,
            execution_timeout=timeout,
        )
    return time.perf_counter() - start


def execute_all_cells(
    nb: nbformat.NotebookNode,
    *,
    cwd: Path,
    profile: str = "smoke",
    timeout: int = 300,
    env: dict[str, str] | None = None,
) -> tuple[nbformat.NotebookNode, float]:
    """Run every cell of `nb` even after errors (nbclient, `allow_errors`); the profile
    comes from `$COURSE_PROFILE`. `env`: variables for this kernel alone (given to it when it
    starts, so that kernels started from other threads at the same time are not affected).
    Returns the executed notebook and the wall time."""
    from nbclient import NotebookClient

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-ipython-") as tmp:
        ipython = str(prepare_ipythondir(Path(tmp)))
        kernel_env = {**os.environ, "IPYTHONDIR": ipython, PROFILE_ENV: profile, **(env or {})}
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(cwd)}},
        )
        client.execute(env=kernel_env)
    return nb, time.perf_counter() - start


def errors(nb: nbformat.NotebookNode) -> list[tuple[int, dict]]:
    """(cell index, error output) for every cell that raised."""
    return [
        (i, out)
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def refresh_solution(path: Path, *, timeout: int = 600) -> float:
    """Execute a solution in `smoke` and store it with its outputs, minus papermill's
    injected-parameters cell, so a person who re-runs it gets the `full` profile."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        seconds = execute(path, out, timeout=timeout)
        nb = nbfiles.read(out)
    nb.cells = [c for c in nb.cells if not nbfiles.has_tag(c, "injected-parameters")]
    for cell in nb.cells:  # the injected cell's absence is the only change
        cell.get("metadata", {}).pop("papermill", None)
    nbfiles.write(nbfiles.normalise(nb, keep_outputs=True), path)
    return seconds
