"""Stage the site's sources in `build/site-src/` and run Sphinx on them into `build/site/`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat

from utils.tooling import nbfiles
from utils.tooling.site import executed, pages

HERE = Path(__file__).resolve().parent
STAGING = Path("build") / "site-src"
OUTPUT = Path("build") / "site"
#: Files of this folder that the pages load (see conf.py).
STATIC = ("course.css", "course-mode.js", "favicon.svg")


def units(root: Path) -> list[pages.Unit]:
    """The course's units in order, from `notebooks/` and `labs/` (which must match)."""
    lectures = nbfiles.course_notebooks("notebooks")
    found = []
    for lecture in lectures:
        lab = root / "labs" / lecture.name
        if not lab.exists():
            raise FileNotFoundError(f"labs/{lecture.name} is missing: run `make labs`")
        found.append(
            pages.Unit(
                number=lecture.name.split("_", 1)[0],
                name=lecture.name,
                lecture_title=pages.title_of(nbfiles.read(lecture)),
                lab_title=pages.title_of(nbfiles.read(lab)),
            )
        )
    return found


def _write_nb(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def stage(root: Path) -> Path:
    """Write every source of the site into `root/STAGING` (emptied first); return it."""
    src = root / STAGING
    if src.exists():
        shutil.rmtree(src)
    (src / "_static").mkdir(parents=True)
    shutil.copy(HERE / "conf.py", src / "conf.py")
    for asset in STATIC:
        shutil.copy(HERE / asset, src / "_static" / asset)

    all_units = units(root)
    runs = executed.find_or_run([root / "notebooks" / u.name for u in all_units], root)
    by_name = {r.name: r for r in runs}
    downloads = src / "_extra" / "downloads"
    for u in all_units:
        run = by_name[u.name]
        page = pages.lecture_page(
            nbfiles.read(run.path), u.name, run.profile, run.seconds, run.origin
        )
        _write_nb(page, src / "lectures" / u.name)
        _write_nb(
            pages.lab_page(nbfiles.read(root / "labs" / u.name), u.name), src / "labs" / u.name
        )
        for folder in ("notebooks", "labs"):
            (downloads / folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(root / folder / u.name, downloads / folder / u.name)
    with zipfile.ZipFile(downloads / pages.ZIP_NAME, "w", zipfile.ZIP_DEFLATED) as zf:
        for u in all_units:
            for folder in ("notebooks", "labs"):
                zf.write(root / folder / u.name, f"cnn-course/{folder}/{u.name}")

    readme = (root / "README.md").read_text()
    (src / "index.md").write_text(pages.home_page(readme, all_units))
    (src / "syllabus.md").write_text(pages.syllabus_page(all_units))
    timings = executed.read_timings(root / executed.TEST_RUNS)
    runs_table = {r.name: (r.profile, r.seconds, r.origin) for r in runs}
    (src / "runtimes.md").write_text(pages.runtimes_page(all_units, runs_table, timings))
    return src


def build(root: Path | None = None) -> Path:
    """Stage the sources and build the HTML site; return the output folder.

    Raises RuntimeError when Sphinx reports an error or a warning (a broken cross-reference,
    an unreadable notebook), with Sphinx's own messages above it.
    """
    root = root or nbfiles.root()
    start = time.perf_counter()
    src = stage(root)
    staged = time.perf_counter()
    out = root / OUTPUT
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-E"]
    cmd += ["-d", str(root / "build" / "site-doctrees"), str(src), str(out)]
    print("running sphinx ...", flush=True)
    result = subprocess.run(cmd, cwd=root)
    if result.returncode != 0:
        raise RuntimeError(
            f"Sphinx failed (exit {result.returncode}); its messages are above. The staged "
            f"sources are in {src.relative_to(root)}."
        )
    done = time.perf_counter()
    print(
        f"site: {out.relative_to(root)}/index.html (staging {staged - start:.1f} s, "
        f"sphinx {done - staged:.1f} s). Preview: python -m http.server -d {OUTPUT}"
    )
    return out
