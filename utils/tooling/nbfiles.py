"""Reading, normalising and writing the course's notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat

from utils.course import REPO_ROOT

FOLDERS = ("notebooks", "solutions", "labs")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: Cell metadata worth keeping; everything else (papermill timings, collapsed, ...) is dropped.
KEPT_CELL_METADATA = ("tags", "points")


def root() -> Path:
    """The checkout's root (the tooling only makes sense inside a clone)."""
    if REPO_ROOT is None:
        raise RuntimeError("The course tooling runs inside a clone of the course repository.")
    return REPO_ROOT


def course_notebooks(folder: str) -> list[Path]:
    """The `.ipynb` files of `folder` (one of FOLDERS), sorted by name."""
    return sorted((root() / folder).glob("*.ipynb"))


def relpath(path: Path) -> str:
    """`path` relative to the checkout root, with forward slashes."""
    return Path(path).resolve().relative_to(root()).as_posix()


def read(path: Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4."""
    return nbformat.read(str(path), as_version=4)


def normalise(nb: nbformat.NotebookNode, *, keep_outputs: bool) -> nbformat.NotebookNode:
    """Return `nb` in the course's canonical form.

    Notebook metadata: only the kernelspec and the language name. Cell metadata: only
    KEPT_CELL_METADATA. keep_outputs=False clears outputs and execution counts (lectures and
    labs); True keeps outputs and renumbers execution counts 1, 2, 3... (solutions).
    """
    nb = nbformat.from_dict(nb)
    nb.metadata = nbformat.from_dict(
        {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    )
    count = 0
    for i, cell in enumerate(nb.cells):
        cell.metadata = nbformat.from_dict(
            {k: cell.metadata[k] for k in KEPT_CELL_METADATA if cell.metadata.get(k)}
        )
        if "id" not in cell:
            cell["id"] = f"cell-{i:03d}"
        if isinstance(cell.source, list):
            cell.source = "".join(cell.source)
        cell.source = cell.source.rstrip("\n")
        if cell.cell_type == "code":
            if keep_outputs:
                if cell.execution_count is not None or cell.outputs:
                    count += 1
                    cell.execution_count = count
                cell.outputs = coalesce_streams(cell.outputs)
                for out in cell.outputs:
                    if "execution_count" in out:
                        out["execution_count"] = cell.execution_count
            else:
                cell.outputs = []
                cell.execution_count = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            if not cell.get("attachments"):
                cell.pop("attachments", None)
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same name (stdout, stderr) into one."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            out.get("output_type") == "stream"
            and prev is not None
            and prev.get("output_type") == "stream"
            and prev.get("name") == out.get("name")
        ):
            prev["text"] = prev["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def dumps(nb: nbformat.NotebookNode) -> str:
    """The canonical text of a notebook (what gets committed)."""
    return nbformat.writes(nb) + "\n"


def write(nb: nbformat.NotebookNode, path: Path) -> bool:
    """Write `nb` to `path` if its text changed; return True when the file was written."""
    text = dumps(nb)
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def has_tag(cell, tag: str) -> bool:
    """Whether `cell` carries metadata tag `tag`."""
    return tag in cell.get("metadata", {}).get("tags", [])
