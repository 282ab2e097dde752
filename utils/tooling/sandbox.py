"""The learner's kernel in a sandbox: bubblewrap, a package with no answers, a scratch folder.

`prepare_job(job)` lays out one grading job's folder:

- `job/pkg/`: the course package as the learner's kernel sees it: a copy of `utils/` without
  `utils/tooling`, with `utils/checks` replaced by stubs (every `check_*` prints that the grader
  checks this and returns None, or, where a lab uses its value (`STUB_RETURNS`), what the real
  check returns, made from the learner's function alone; `call(fn, ...)` only calls; the
  modules' plain constants are kept), without the
  autodiff reference of `utils.networks.shallow_cnn`, plus the kernel's half of the exchange
  (`_course_grading_harness.py`);
- `job/work/`: the kernel's working folder and `$HOME`, the only place it may write, with
  `job/exchange/` (arguments and results of grading calls) and `job/ipc/` (the kernel's unix
  sockets: jupyter_client's `transport="ipc"`, so the kernel needs no network at all).

`kernel_argv(job)` is the command that starts the kernel: under bubblewrap (`bwrap`, a Debian
package) when it can run here, with no network (`--unshare-all`), its own PID namespace, a
read-only view of only the Python installation and `job/pkg`, and `--die-with-parent`; the
checkout (`solutions/`, other learners' files, `utils/tooling`) is not mounted. Where
bubblewrap cannot run, the kernel runs unsandboxed (`SANDBOX_NONE`) and the grader says so
loudly in its console, grades.csv and feedback.
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from utils.course import PROFILE_ENV

SANDBOX_BWRAP = "bubblewrap"
SANDBOX_NONE = "NONE (bubblewrap unavailable: the learner's kernel was not isolated)"
KERNEL_CONFIG = "c.IPKernelApp.capture_fd_output = False\n"
#: Functions removed from the kernel's copy of a course module: drop-in answers to an exercise.
REFERENCES_REMOVED = {"networks/shallow_cnn.py": ("autodiff_loss_and_grads", "_tape_step")}

CHECKS_INIT = '''"""Checks are run by the grader, not in this kernel (grading copy of utils.checks)."""


class CheckFailed(AssertionError):
    pass


def call(fn, *args, case="", **kwargs):
    return fn(*args, **kwargs)


def passed(message):
    print(f"PASSED: {message}")


def rel_error(x, y):
    import numpy as np

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


__all__ = ["CheckFailed", "call", "passed", "rel_error"]
'''

#: Checks whose return value a lab uses (`model = lenet.check_lenet(build_lenet)`): their stub
#: returns what the real check returns, computed from the learner's own function only:
#: "built": `build()`; "built_without_weights": the same under
#: `utils.measure.tables.without_weights` (as the real check builds AlexNet); "fitted": the
#: `utils.training.Run` of `build()` fitted with the recipe the lab passes (`check_gap_closed`).
#: tests/test_grading.py finds every such use in the labs and asks for it here.
STUB_RETURNS = {
    "lenet": {"check_lenet": "built"},
    "alexnet": {"check_alexnet": "built_without_weights"},
    "training_cnns_well": {"check_gap_closed": "fitted"},
}

CHECK_STUB = '''"""Grading copy of utils.checks.{name}: the grader runs the checks in its own process."""
import numpy as np  # noqa: F401  (constants below may be arrays)

{constants}

_RETURNS = {returns!r}


def __getattr__(attr):
    if attr.startswith("check_"):
        returns = _RETURNS.get(attr)

        def check(*args, **kwargs):
            print(f"{{attr}}: while grading, the grader checks this exercise itself")
            if returns == "built":
                return args[0]()
            if returns == "built_without_weights":
                from utils.measure.tables import without_weights

                with without_weights():
                    return args[0]()
            if returns == "fitted":  # (build, baseline, train, val, *, epochs, batch_size, lr)
                import keras

                from utils.training import fit_and_measure

                build, _, train, val = args[:4]
                return fit_and_measure(
                    build(),
                    train,
                    val,
                    epochs=kwargs["epochs"],
                    batch_size=kwargs["batch_size"],
                    optimizer=keras.optimizers.Adam(learning_rate=kwargs["learning_rate"]),
                    name=getattr(build, "__name__", "build"),
                    verbose=False,
                )
            return None

        check.__name__ = attr
        return check
    raise AttributeError(f"utils.checks.{name}.{{attr}} is not available while grading")
'''


def _literal(value) -> str | None:
    """Python source for a plain constant, or None if it is not one."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return f"np.array({value.tolist()!r}, dtype={str(value.dtype)!r})"
    try:
        text = repr(value)
        if ast.literal_eval(text) == value:
            return text
    except (ValueError, SyntaxError, TypeError):
        pass
    return None


def _check_stub(module_name: str) -> str:
    module = importlib.import_module(f"utils.checks.{module_name}")
    lines = []
    for attr, value in vars(module).items():
        if attr.startswith("_") or not attr.isupper() or callable(value):
            continue
        text = _literal(value)
        if text is not None:
            lines.append(f"{attr} = {text}")
    returns = STUB_RETURNS.get(module_name, {})
    return CHECK_STUB.format(name=module_name, constants="\n".join(lines), returns=returns)


def _without(source: str, names: tuple[str, ...]) -> str:
    """`source` with the top-level functions `names` removed."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in sorted(tree.body, key=lambda n: -n.lineno):
        if isinstance(node, ast.FunctionDef) and node.name in names:
            start = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
            del lines[start : node.end_lineno]
    return "".join(lines)


@functools.cache
def _package_files() -> dict[str, str]:
    """Relative path -> text of every file of the kernel's package (built once per process)."""
    real = Path(importlib.import_module("utils").__file__).parent
    files: dict[str, str] = {}
    for path in sorted(real.rglob("*")):
        rel = path.relative_to(real)
        if (
            not path.is_file()
            or "__pycache__" in rel.parts
            or rel.parts[0] in ("tooling", "checks")
        ):
            continue
        if path.suffix not in (".py", ".json", ".txt", ".csv", ".md"):
            continue
        text = path.read_text()
        if rel.as_posix() in REFERENCES_REMOVED:
            text = _without(text, REFERENCES_REMOVED[rel.as_posix()])
        files[f"utils/{rel.as_posix()}"] = text
    files["utils/checks/__init__.py"] = CHECKS_INIT
    for module in sorted((real / "checks").glob("*.py")):
        if module.stem not in ("__init__", "core"):
            files[f"utils/checks/{module.name}"] = _check_stub(module.stem)
    files["utils/checks/core.py"] = CHECKS_INIT
    harness = Path(__file__).with_name("grading_harness.py")
    files["_course_grading_harness.py"] = harness.read_text()
    return files


def prepare_job(job: Path) -> None:
    """Create `job/pkg`, `job/work`, `job/exchange`, `job/ipc`, `job/ipython`."""
    for rel, text in _package_files().items():
        target = job / "pkg" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for sub in ("work", "exchange", "ipc"):
        (job / sub).mkdir(parents=True, exist_ok=True)
    profile = job / "ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG)


def _course_dist_info() -> Path | None:
    """The installed `cnn-course` distribution's .dist-info folder, if there is one."""
    from importlib import metadata

    from utils.course import DISTRIBUTION

    try:
        path = getattr(metadata.distribution(DISTRIBUTION), "_path", None)
    except metadata.PackageNotFoundError:
        return None
    return Path(path) if path is not None and Path(path).is_dir() else None


def _fake_dist_info(job: Path, real: Path) -> Path:
    """A copy of the course's .dist-info whose editable location is `job/pkg`: in the kernel,
    `utils.course.check_package` (the setup cell) then finds the package it imports."""
    fake = job / "dist-info"
    fake.mkdir(exist_ok=True)
    for item in real.iterdir():
        if item.is_file() and item.name not in ("direct_url.json", "RECORD"):
            shutil.copy(item, fake / item.name)
    url = {"url": (job / "pkg").as_uri(), "dir_info": {"editable": True}}
    (fake / "direct_url.json").write_text(json.dumps(url))
    return fake


def _env(job: Path) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(job / "work"),
        "PYTHONPATH": str(job / "pkg"),
        "IPYTHONDIR": str(job / "ipython"),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(job / "work" / ".matplotlib"),
        "KERAS_HOME": str(job / "work" / ".keras"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        PROFILE_ENV: "smoke",
    }


def _python_roots() -> list[str]:
    """The folders the kernel's Python needs: the venv and the installation it points at."""
    roots = {str(Path(sys.prefix).resolve()), str(Path(sys.base_prefix).resolve()), sys.prefix}
    return sorted(roots)


def bwrap_argv(job: Path) -> list[str]:
    """bubblewrap's options for a kernel that sees only Python, its package and `job`."""
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    for path in ("/usr", "/bin", "/lib", "/lib64", "/sbin", "/etc"):
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    # an empty /tmp first: Python and its packages may live under /tmp (a clone there), and
    # are bound on top of it below
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in _python_roots():
        argv += ["--ro-bind", path, path]
    real = _course_dist_info()
    if real is not None:
        argv += ["--ro-bind", str(_fake_dist_info(job, real)), str(real)]
    argv += ["--bind", str(job), str(job), "--ro-bind", str(job / "pkg"), str(job / "pkg")]
    argv += ["--chdir", str(job / "work")]
    for key, value in _env(job).items():
        argv += ["--setenv", key, value]
    return argv


@functools.cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and can make its namespaces on this machine."""
    if shutil.which("bwrap") is None:
        return False
    probe = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def kernel_argv(job: Path, sandbox: bool) -> tuple[list[str], dict[str, str], str]:
    """(argv, env, sandbox description) that start the learner's kernel for `job`."""
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    # the kernel's own console output (TensorFlow's log lines) goes to job/kernel.log
    log = ["/bin/sh", "-c", f'exec "$0" "$@" >>"{job / "kernel.log"}" 2>&1']
    if sandbox:
        return [*log, *bwrap_argv(job), "--", *kernel], {}, SANDBOX_BWRAP
    return [*log, *kernel], _env(job), SANDBOX_NONE
