"""The learner-facing course: `make release OUT=dir [RELEASE_REPO=owner/name]`.

The instructor's repository (this one, private) holds solutions with hidden tests, the grader
and the tests; the public release repository holds only what learners need, as nbgrader's
source/release split does. `write_release(out, repo)` writes into a new or empty folder:

- `notebooks/` (lectures) and `labs/` (generated from the solutions, no answer, no hidden test);
- `utils/` without `utils/tooling` (lab builder, grader, release) and without caches;
- `pyproject.toml`, `requirements.txt`, `requirements.in`, `environment.yml` as they are;
- `README.md` for learners (`LEARNER_README`);
- every link to the instructor repository (Colab badges, the Colab install line,
  `utils.course.REPOSITORY`) rewritten to `https://github.com/<repo>`.

- `utils/checks` without references: every `@reference` function (a check's reference that
  could stand in for an answer) replays results recorded on the labs' own check cases,
  shipped as data in `utils/checks/recorded/` (`utils.tooling.references`).

The recording is the drop-in scan (`utils.tooling.dropins`): every solution runs once, its
checks' references recorded, and after each graded cell every function of the learners'
package (as released, and as the grading kernel has it) is tried in place of the answer on the
grader's own cases; the mistake catalogue is run too (the hints' references). Then every file
written is scanned for the distinctive lines of the solutions' solution and hidden-test blocks
(`secret_lines`). A drop-in answer, a failed recording or a leaked line removes the folder and
raises: nothing half-made is left for learners.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from utils.course import REPOSITORY
from utils.tooling import labs, nbfiles

#: Lines shorter than this may match by coincidence ("return out"); longer ones are telling.
TOP_FILES = ("pyproject.toml", "requirements.txt", "requirements.in", "environment.yml", "LICENSE")
TEXT_SUFFIXES = (".py", ".ipynb", ".md", ".toml", ".txt", ".in", ".yml", ".cfg", ".json", "")

LEARNER_README = """# Convolutional Neural Networks with Keras 3 and TensorFlow

Eighteen units, each a lecture (`notebooks/NN_name.ipynb`) and a lab (`labs/NN_name.ipynb`)
with the helper package `utils` (data loaders with offline fallbacks, plots, and the checks
your lab calls).

## Open a notebook

- **In Google Colab**: click the "Open in Colab" badge at the top of any notebook. Its first
  code cell installs the course's package; TensorFlow and Keras are already there.
- **On your machine** (Python 3.11+): clone this repository, then

  ```
  python -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/pip install -e .
  .venv/bin/jupyter lab
  ```

Every notebook has a `PROFILE` in its parameters cell: `"full"` (the real data set, real
epochs, meant for a GPU) or `"smoke"` (small offline data, about a minute on a laptop CPU).

## Labs

Write your code where a cell says `# YOUR CODE HERE` (remove the `raise NotImplementedError()`
under it), then run the check cell below it: it prints `PASSED` or the first case your code
gets wrong, with what was expected. A cell marked `# Graded: N points` is also graded by
hidden tests, on new random cases, when you hand your lab in: a check that passes for the
right reason passes those too. Hand in the lab notebooks under their own file names.
"""


def secret_lines() -> set[str]:
    """Distinctive solution and hidden-test lines of every solution notebook, minus the lines
    the course shows anyway (outside the solutions' blocks, or in a lecture)."""
    solutions = [nbfiles.read(p) for p in nbfiles.course_notebooks("solutions")]
    lectures = [nbfiles.read(p) for p in nbfiles.course_notebooks("notebooks")]
    return set(labs.secret_lines(solutions, lectures))


def leaks(folder: Path) -> list[str]:
    """`path: line` for every secret line found in a file under `folder`."""
    secret = secret_lines()
    found = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(folder)}: {s}" for s in secret if s in text]
    return found


def _owner_repo(url: str) -> str:
    return url.removeprefix("https://github.com/")


def _copy_package(src: Path, dst: Path) -> None:
    def ignore(folder, names):
        skip = {n for n in names if n in ("__pycache__", ".pytest_cache") or n.endswith(".pyc")}
        if Path(folder).resolve() == src.resolve():
            skip |= {"tooling"}
        return skip

    shutil.copytree(src, dst, ignore=ignore)


def _without_references(package: Path) -> int:
    """Rewrite the check modules of `package` so that their `@reference`s replay; returns how
    many references were replaced."""
    from utils.tooling import references

    count = 0
    for path in sorted((package / "checks").glob("*.py")):
        text = path.read_text()
        names = references.reference_functions(text)
        if names:
            path.write_text(references.release_source(text, f"utils.checks.{path.stem}"))
            count += len(names)
    return count


def record_and_scan(
    recorded: Path, jobs: int = 2, names: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """Run every solution (or those named, e.g. "03_conv_as_gemm") with the drop-in scan,
    recording the references into `recorded`, then the mistake catalogue; (summary lines,
    problems)."""
    from utils.tooling import dropins, references

    names = [
        p.name
        for p in nbfiles.course_notebooks("solutions")
        if names is None or any(n in p.name for n in names)
    ]
    print(f"recording references and scanning for drop-in answers: {len(names)} solutions")
    reports = dropins.scan_all(names, recorded, jobs=jobs)
    problems = dropins.found(reports)
    catalogue = references.record_catalogue(recorded, jobs)
    problems += [catalogue] if catalogue else []
    return dropins.summary(reports), problems


def write_release(
    out: Path, *, repo: str = "", recorded: Path | None = None, names: list[str] | None = None
) -> list[str]:
    """Write the learner-facing course into `out` (new or empty); return what it did.

    repo: `owner/name` of the public repository (badges, the Colab install line); default:
    the course's own `utils.course.REPOSITORY`. recorded: a folder of recorded references to
    use instead of recording and scanning now (`record_and_scan`; tests pass their own).
    names: record only these units' solutions (a partial release, for trying a few notebooks:
    the other labs' checks find no recorded references)."""
    import tempfile

    from utils.tooling import references

    root, out = nbfiles.root(), Path(out)
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty: give a new folder (nothing is overwritten)")
    if repo and (repo.count("/") != 1 or " " in repo):
        raise SystemExit(f"RELEASE_REPO must look like owner/name, not {repo!r}")
    target_url = f"https://github.com/{repo}" if repo else REPOSITORY
    out.mkdir(parents=True, exist_ok=True)
    for folder in ("notebooks", "labs"):
        (out / folder).mkdir()
        for path in nbfiles.course_notebooks(folder):
            shutil.copy(path, out / folder / path.name)
    _copy_package(root / "utils", out / "utils")
    replaced = _without_references(out / "utils")
    for name in TOP_FILES:
        if (root / name).exists():
            shutil.copy(root / name, out / name)
    (out / "README.md").write_text(LEARNER_README)
    rewritten = 0
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            text = path.read_text(encoding="utf-8")
            new = text.replace(REPOSITORY, target_url).replace(
                f"colab.research.google.com/github/{_owner_repo(REPOSITORY)}/",
                f"colab.research.google.com/github/{_owner_repo(target_url)}/",
            )
            if new != text:
                path.write_text(new, encoding="utf-8")
                rewritten += 1
    found = leaks(out)  # before the long recording: a leak is found in seconds
    if found:
        shutil.rmtree(out)
        raise SystemExit("the release would contain answers; nothing written:\n" + "\n".join(found))
    scan_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="recorded-") as tmp:
        if recorded is None:
            recorded = Path(tmp)
            scan_lines, problems = record_and_scan(recorded, names=names)
            if names:
                scan_lines.append(f"PARTIAL release: references recorded for {names} only")
            if problems:
                shutil.rmtree(out)
                raise SystemExit(
                    "the release would let learners import an answer, or could not be "
                    "recorded; nothing written:\n" + "\n".join(problems)
                )
        counts = references.write_tables(recorded, out / "utils" / "checks" / "recorded")
    n_files = sum(1 for p in out.rglob("*") if p.is_file())
    return [
        *scan_lines,
        f"wrote {n_files} files to {out} (links to {target_url}, rewritten in {rewritten} files)",
        f"utils.checks: {replaced} references replaced by {sum(counts.values())} recorded results",
        "scanned: no drop-in answer in the package, no solution or hidden-test line anywhere",
    ]
