"""The drop-in scan's own machinery (the scan itself runs every solution: `make release`)."""

from __future__ import annotations

import ast
import socket
import time

import pytest

from utils.tooling import dropins, nbfiles

ROOT = nbfiles.root()


def test_defined_names_reads_defs_and_classes_even_beside_magics():
    assert dropins.defined_names("def f(x):\n    return x\nclass C: pass\ny = 1") == {"f", "C"}
    assert dropins.defined_names("%matplotlib inline\ndef g():\n    pass") == {"g"}


def test_candidates_are_offline():
    with dropins._offline(), pytest.raises(OSError, match="offline"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    # and the network is back afterwards (the connection is refused, not blocked by the scan)
    with pytest.raises(OSError) as err:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert "offline" not in str(err.value)


def test_a_candidate_that_swallows_the_first_timeout_is_still_stopped():
    def retries_once():
        try:
            time.sleep(30)
        except dropins._Timeout:
            time.sleep(30)

    started = time.perf_counter()
    with pytest.raises(dropins._Timeout), dropins._limit(1):
        retries_once()
    assert time.perf_counter() - started < 10


def _probe_calls(name: str) -> list[dict]:
    nb = dropins.probed_notebook(
        nbfiles.read(ROOT / "solutions" / name), name, ["kernel"], "out", "recorded"
    )
    calls = []
    for cell in nb.cells:
        if cell.source.startswith("from utils.tooling import dropins"):
            call = ast.parse(cell.source).body[1].value
            calls.append({k.arg: ast.literal_eval(k.value) for k in call.keywords})
    return calls


def test_each_exercise_scans_the_functions_defined_since_the_previous_graded_cell():
    calls = _probe_calls("14_transfer_learning.ipynb")
    assert [c["label"].split()[-1] for c in calls] == ["1", "2", "3", "4"]
    assert "preprocess" in calls[0]["defined"]
    assert "build_transfer_model" in calls[1]["defined"]
    assert "prepare_fine_tuning" in calls[2]["defined"]
    # exercise 4 runs the experiment with exercises 1-3's functions: they are scanned there
    assert not {"preprocess", "build_transfer_model", "prepare_fine_tuning"} & set(
        calls[3]["defined"]
    )
