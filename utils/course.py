"""The course's identity and layout: one place for the repository URL and the profiles."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

#: The public repository. Colab badges and the Colab install line are derived from it
#: (`python -m utils.tooling fmt` rewrites them; `make lint` checks them).
REPOSITORY = "https://github.com/cnn-course/cnn-course"
BRANCH = "main"
#: The course package's name for pip, and its version (the same as pyproject.toml's).
DISTRIBUTION = "cnn-course"
VERSION = "0.1.0"
#: What the Colab setup cell installs: this git tag of REPOSITORY, the release the notebooks
#: were written for, never the moving BRANCH. To release: set VERSION here and in
#: pyproject.toml, run `make fmt` (it writes the tag into every setup cell), commit, and tag
#: that commit `v<VERSION>` on the public repository.
COURSE_REF = f"v{VERSION}"

#: `full`: real data sets and epochs (a Colab GPU). `smoke`: offline data, <= 60 s on 2 CPU cores.
PROFILES = ("full", "smoke")

#: Environment variable that overrides a notebook's `PROFILE` (used by nbval in `make test`).
PROFILE_ENV = "COURSE_PROFILE"

#: Environment variable that overrides where downloads are cached.
DATA_ENV = "COURSE_DATA_DIR"

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout's root when `utils` is used from a clone (editable install), else None.
REPO_ROOT: Path | None = (
    PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "pyproject.toml").exists() else None
)


def colab_url(relpath: str) -> str:
    """The "Open in Colab" link of a notebook at `relpath` (e.g. `notebooks/01_convolution.ipynb`)."""
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/{relpath}"


def badge_markdown(relpath: str) -> str:
    """The Markdown of the Colab badge for the notebook at `relpath`."""
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({colab_url(relpath)})"
    )


def pip_spec(ref: str = COURSE_REF) -> str:
    """What `pip install` gets on Colab: the course package at `ref` of the repository."""
    return f"{DISTRIBUTION} @ git+{REPOSITORY}@{ref}"


def installed_package_dir() -> Path | None:
    """Where pip installed the course's `utils` package (resolved), or None when the
    `cnn-course` distribution is not installed. For an editable install (`pip install -e`),
    the clone's `utils/`."""
    from importlib import metadata

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    info = json.loads(dist.read_text("direct_url.json") or "{}")
    if info.get("dir_info", {}).get("editable"):
        return (Path(unquote(urlparse(info["url"]).path)) / "utils").resolve()
    return Path(str(dist.locate_file("utils"))).resolve()


def installed_ref() -> str | None:
    """The git revision pip installed the package from (`@v0.1.0` of a git URL), else None."""
    from importlib import metadata

    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    return json.loads(text or "{}").get("vcs_info", {}).get("requested_revision")


def check_package(ref: str = COURSE_REF) -> None:
    """What the setup cell calls: `import utils` must be the installed course package.

    Raises ImportError, saying what to do, when another `utils` (a folder or file in the
    working folder, or a copy) hides the installed one. Prints a note when the package was
    installed from another git revision than `ref` (a runtime reused by another notebook).
    """
    expected = installed_package_dir()
    if expected is not None and expected != PACKAGE_DIR:
        raise ImportError(
            f"`import utils` finds {PACKAGE_DIR}, not the course's package installed at "
            f"{expected}. Rename or remove that other `utils` (a folder or utils.py in "
            f"{Path.cwd()}, or an entry of sys.path), then restart the runtime (Colab: Runtime > "
            "Restart session) and run the notebook again from the top."
        )
    got = installed_ref()
    if got is not None and got != ref:
        print(
            f"Note: the course package here was installed from {got}, this notebook was "
            f"written for {ref}. To match it, run `%pip install --force-reinstall --no-deps "
            f'"{pip_spec(ref)}"`, then restart the runtime.'
        )


def data_dir() -> Path:
    """Where downloaded data sets are cached.

    `$COURSE_DATA_DIR` if set; else `data/` of the clone; else `~/.cache/cnn-course`.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env)
    elif REPO_ROOT is not None:
        path = REPO_ROOT / "data"
    else:
        path = Path.home() / ".cache" / "cnn-course"
    path.mkdir(parents=True, exist_ok=True)
    return path
