"""Results that one notebook records and another reads (e.g. the architecture comparison).

Each record is a small JSON file in `<data dir>/results/`, named after the unit and model,
holding what the notebook measured and the profile it ran in.
"""

from __future__ import annotations

import json
from pathlib import Path

from utils.course import data_dir


def results_dir() -> Path:
    """`<data dir>/results`, created on first use."""
    path = data_dir() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def record(name: str, **fields) -> Path:
    """Save the measurements `fields` (JSON-serialisable) under `name`; returns the file."""
    path = results_dir() / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"name": name, **fields}, indent=1, sort_keys=True))
    tmp.replace(path)
    return path


def load_all() -> list[dict]:
    """Every saved record, sorted by name."""
    return [json.loads(p.read_text()) for p in sorted(results_dir().glob("*.json"))]
