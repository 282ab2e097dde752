"""The course's identity and layout: one place for the repository URL and the profiles."""

from __future__ import annotations

import os
from pathlib import Path

#: The public repository. Colab badges and the Colab install line are derived from it
#: (`python -m utils.tooling fmt` rewrites them; `make lint` checks them).
REPOSITORY = "https://github.com/cnn-course/cnn-course"
BRANCH = "main"

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


def pip_spec() -> str:
    """What `pip install` gets on Colab: the course package from the repository."""
    return f"cnn-course @ git+{REPOSITORY}@{BRANCH}"


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
