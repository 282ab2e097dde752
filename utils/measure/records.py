"""Results that one notebook records and another reads (e.g. the architecture comparison).

Each record is a small JSON file named after the unit, holding what the notebook measured and
the profile it ran in. Where the records live (`results_dir()`):

- `$COURSE_RESULTS_DIR` if set;
- on Colab with Google Drive mounted at `/content/drive`: `MyDrive/cnn-course/results` on the
  learner's Drive. Each Colab notebook runs on its own machine, whose files are gone when the
  machine is recycled: only Drive keeps the records of lectures 05-10 for unit 11;
- else `<data dir>/results` (`utils.course.data_dir()`: `data/` of a clone, or the user's cache).

`storage_note()` says, on Colab without Drive, that records will not outlive the machine, with
the one line that mounts Drive; it is '' everywhere else.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from utils.course import data_dir

#: Environment variable that overrides where records are kept.
RESULTS_ENV = "COURSE_RESULTS_DIR"


#: Where Colab mounts Google Drive (`drive.mount(DRIVE_MOUNT)`), and the course's folder on it.
DRIVE_MOUNT = Path("/content/drive")


DRIVE_FOLDER = Path("MyDrive") / "cnn-course" / "results"


#: The line a learner runs on Colab to keep records across machines.
MOUNT_LINE = "from google.colab import drive; drive.mount('/content/drive')"


def on_colab() -> bool:
    """True inside a Google Colab runtime (its `google.colab` module is loaded by the kernel)."""
    return "google.colab" in sys.modules


def drive_folder() -> Path | None:
    """The course's results folder on the mounted Google Drive, or None if Drive is not mounted."""
    my_drive = DRIVE_MOUNT / DRIVE_FOLDER.parts[0]
    return DRIVE_MOUNT / DRIVE_FOLDER if my_drive.is_dir() else None


def results_dir() -> Path:
    """The folder of the records (see the module's docstring), created on first use."""
    env = os.environ.get(RESULTS_ENV)
    drive = drive_folder() if on_colab() else None
    if env:
        path = Path(env)
    elif drive is not None:
        path = drive
    else:
        path = data_dir() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def storage_note() -> str:
    """On Colab without a mounted Drive (and no $COURSE_RESULTS_DIR): why records will be lost
    and the one line that keeps them; '' elsewhere."""
    if not on_colab() or os.environ.get(RESULTS_ENV) or drive_folder() is not None:
        return ""
    return (
        "Note: Google Drive is not mounted, so this record stays on this Colab machine and is "
        "gone when the machine is recycled (each notebook runs on its own machine). To keep "
        "records for the comparison of unit 11, run this line first, in every notebook that "
        f"records or compares:\n    {MOUNT_LINE}"
    )


def record(name: str, **fields) -> Path:
    """Save the measurements `fields` (JSON-serialisable) under `name`; returns the file.

    On Colab without Drive, also prints `storage_note()`.
    """
    path = results_dir() / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"name": name, **fields}, indent=1, sort_keys=True))
    tmp.replace(path)
    note = storage_note()
    if note:
        print(note)
    return path


def load_all() -> list[dict]:
    """Every saved record, sorted by name."""
    return [json.loads(p.read_text()) for p in sorted(results_dir().glob("*.json"))]
