"""The grader's parts, without grading whole labs: exercises, the data that crosses between
kernel and grader, model checks, shards, the kernel's package and its sandbox.

The slow suites (every lab graded, the attacks) are tests/test_grading_labs.py and
tests/test_grading_attacks.py (`make test-grading`)."""

from __future__ import annotations

import ast
import csv
import json
import subprocess
import zipfile

import nbformat
import numpy as np
import pytest

from utils.tooling import grade, grading_harness, grading_remote, labs, nbfiles, sandbox

SOLUTIONS = nbfiles.root() / "solutions"
LABS = nbfiles.root() / "labs"
CONV = "01_convolution.ipynb"


def test_exercises_and_points_come_from_the_solution():
    exercises = grade.exercises_of(nbfiles.read(SOLUTIONS / CONV))
    assert [e.points for e in exercises] == [4, 2, 2]
    assert all("check_" in e.hidden and "from utils.checks import" in e.imports for e in exercises)
    assert all("GRADING_SEED" in e.hidden for e in exercises)
    lab_text = (LABS / CONV).read_text()
    assert "# Graded: 4 points" in lab_text and "GRADING_SEED" not in lab_text


def test_multi_line_imports_are_re_run_whole_before_the_hidden_tests():
    cells = [
        nbformat.v4.new_code_cell("from utils.checks import (\n    call,\n    passed,\n)\nx = 1"),
        nbformat.v4.new_code_cell(
            "def f():\n    import os\n    return os\n"
            "### BEGIN HIDDEN TESTS\nassert call(f) is not None\n### END HIDDEN TESTS"
        ),
    ]
    (exercise,) = grade.exercises_of(nbformat.v4.new_notebook(cells=cells))
    compile(exercise.imports, "<imports>", "exec")  # whole statements, no dangling lines
    assert exercise.imports == "from utils.checks import (\n    call,\n    passed,\n)"


def _defined_functions(nb) -> set[str]:
    names = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        visible, _ = labs.strip_cell(cell.source, markdown=False)
        try:
            tree = ast.parse(visible)
        except SyntaxError:
            continue
        names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return names


@pytest.mark.parametrize("path", nbfiles.course_notebooks("solutions"), ids=lambda p: p.stem)
def test_hidden_tests_read_no_notebook_global(path):
    """Every name a hidden test reads from the learner's notebook is a function the lab asks
    for (called through the kernel), never a global such as `model` or `history`; and every
    hidden test uses the grading seed."""
    nb = nbfiles.read(path)
    functions = _defined_functions(nb)
    for exercise in grade.exercises_of(nb):
        ns = {}
        exec(compile(exercise.imports, "<imports>", "exec"), ns)
        learner_names = [n for n in grading_remote.free_names(exercise.hidden) if n not in ns]
        assert learner_names, f"{path.name} exercise {exercise.number} calls no learner code"
        globals_read = [n for n in learner_names if n not in functions]
        assert not globals_read, f"{path.name} ex {exercise.number} reads {globals_read}"
        assert "GRADING_SEED" in exercise.hidden


def test_values_cross_as_data_and_come_back_equal(tmp_path):
    value = (
        np.arange(12, dtype=np.float32).reshape(3, 4),
        {"a": [1, 2.5, None, "text", True], 3: np.int64(7)},
        [np.zeros((0, 2), dtype=np.uint8)],
    )
    grading_harness.dump(value, tmp_path / "v", results=True)
    back = grading_harness.load(tmp_path / "v", load_model=None)
    assert isinstance(back, tuple) and np.array_equal(back[0], value[0])
    assert back[0].dtype == np.float32 and back[1]["a"] == [1, 2.5, None, "text", True]
    assert back[1][3] == 7 and isinstance(back[1][3], np.integer)
    assert back[2][0].shape == (0, 2)


class _AlwaysEqual:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    "bad",
    [_AlwaysEqual(), np.array([_AlwaysEqual()], dtype=object), lambda x: x, {(1, 2): 3}],
    ids=["object", "object-array", "function", "tuple-key"],
)
def test_what_is_not_data_cannot_cross(tmp_path, bad):
    with pytest.raises(grading_harness.ExchangeError):
        grading_harness.dump(bad, tmp_path / "v", results=True)


def test_results_too_big_or_with_links_are_refused(tmp_path):
    grading_harness.dump(np.zeros(1000), tmp_path / "v", results=True)
    with pytest.raises(grading_harness.ExchangeError, match="MB"):
        grading_harness.load(tmp_path / "v", load_model=None, max_bytes=1000)
    (tmp_path / "v" / "link").symlink_to("/etc/passwd")
    with pytest.raises(grading_harness.ExchangeError, match="link"):
        grading_harness.load(tmp_path / "v", load_model=None)


def test_a_learner_exception_crosses_as_its_name_and_message(tmp_path):
    grading_harness.dump_error(ValueError("bad shape"), tmp_path / "v")
    back = grading_harness.load(tmp_path / "v", load_model=None)
    assert isinstance(back, grading_harness.RemoteError)
    assert (back.ename, back.evalue) == ("ValueError", "bad shape")


def _fake_keras_file(path, module, class_name):
    config = {"module": module, "class_name": class_name, "config": {}, "registered_name": None}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", "{}")


@pytest.mark.parametrize(
    ("module", "name"),
    [("__main__", "Evil"), ("builtins", "eval"), ("utils.tooling.grade", "Outcome"), ("os", "x")],
)
def test_a_model_naming_classes_outside_keras_and_the_course_is_refused(tmp_path, module, name):
    path = tmp_path / "m.keras"
    _fake_keras_file(path, module, name)
    with pytest.raises(grading_harness.ExchangeError, match=module):
        grading_remote.load_checked_model(path)


def test_a_keras_model_crosses_and_loads_in_safe_mode(tmp_path):
    import keras

    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(3)(inp))
    grading_harness.dump([model], tmp_path / "v", results=True)
    (back,) = grading_harness.load(tmp_path / "v", load_model=grading_remote.load_checked_model)
    x = np.ones((2, 4), np.float32)
    assert np.allclose(back.predict(x, verbose=0), model.predict(x, verbose=0))
    lam = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp))
    grading_harness.dump(lam, tmp_path / "w", results=True)
    with pytest.raises(ValueError, match="(?i)lambda|safe"):
        grading_harness.load(tmp_path / "w", load_model=grading_remote.load_checked_model)


def test_free_names_are_what_a_hidden_test_reads_from_outside():
    src = "import numpy as np\nx = f(np.ones(2), seed=GRADING_SEED + 1)\nassert [g(i) for i in x]"
    assert sorted(grading_remote.free_names(src)) == ["GRADING_SEED", "f", "g"]


def test_shards_cover_every_learner_once(tmp_path):
    for name in ("ann", "bob", "cy", "dee", "eve"):
        (tmp_path / name).mkdir()
    seen = []
    for i in (1, 2, 3):
        jobs, _ = grade._jobs_for(tmp_path, (i, 3))
        seen += sorted({learner for learner, _, _ in jobs})
    assert sorted(seen) == ["ann", "bob", "cy", "dee", "eve"]
    with pytest.raises(SystemExit):
        grade.parse_shard("4/3")


def test_shard_outputs_merge_into_one_grades_csv(tmp_path):
    outcomes = [
        grade.Outcome("ann", CONV, "graded", [4, 2, 2], 8, seed=5, sandbox="bubblewrap"),
        grade.Outcome("bob", CONV, "graded", [0, 2, 0], 8, seed=5, sandbox="bubblewrap"),
    ]
    grade.write_csv(outcomes[:1], tmp_path / "grades-shard-1-of-2.csv")
    with pytest.raises(SystemExit, match="complete"):
        grade.merge_shards(tmp_path)
    grade.write_csv(outcomes[1:], tmp_path / "grades-shard-2-of-2.csv")
    rows = list(csv.DictReader(open(grade.merge_shards(tmp_path))))
    assert [(r["learner"], r["total"], r["seed"]) for r in rows] == [
        ("ann", "8", "5"),
        ("bob", "2", "5"),
    ]


def test_the_kernels_package_has_no_checks_references_or_tooling(tmp_path):
    sandbox.prepare_job(tmp_path)
    pkg = tmp_path / "pkg"
    assert not (pkg / "utils" / "tooling").exists()
    text = "\n".join(p.read_text() for p in pkg.rglob("*.py"))
    assert "def autodiff_loss_and_grads" not in text
    for stub in (pkg / "utils" / "checks").glob("*.py"):  # no function but the stubs
        tree = ast.parse(stub.read_text())
        defs = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert defs <= {"__getattr__", "check", "call", "passed", "rel_error"}, stub.name
    stub = (pkg / "utils" / "checks" / "convolution.py").read_text()
    assert "import scipy" not in stub and "def check" in stub
    real = (nbfiles.root() / "utils" / "checks" / "pooling_activations.py").read_text()
    assert (
        "EXAMPLE_4X4" in real
        and "EXAMPLE_4X4 = np.array("
        in (pkg / "utils" / "checks" / "pooling_activations.py").read_text()
    )


needs_bwrap = pytest.mark.skipif(not sandbox.bwrap_works(), reason="bubblewrap cannot run here")


def _in_sandbox(tmp_path, code: str) -> subprocess.CompletedProcess:
    import sys

    sandbox.prepare_job(tmp_path)
    argv = [*sandbox.bwrap_argv(tmp_path), "--", sys.executable, "-c", code]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


@needs_bwrap
def test_the_sandbox_hides_the_checkout_and_allows_writes_only_in_its_folder(tmp_path):
    root = nbfiles.root()
    code = (
        "import os, sys, pathlib\n"
        f"print('solutions', os.path.exists({str(root / 'solutions')!r}))\n"
        f"print('tooling', os.path.exists({str(root / 'utils' / 'tooling')!r}))\n"
        "import utils, utils.checks.convolution as c\n"
        "print('utils', utils.__file__)\n"
        "print('reference', hasattr(c, '_reference_conv2d'))\n"
        "for target in [utils.__file__, sys.prefix + '/x.pth', '/usr/x']:\n"
        "    try:\n"
        "        open(target, 'a').write('x')\n"
        "        print('wrote', target)\n"
        "    except OSError:\n"
        "        print('refused', target)\n"
        "pathlib.Path('scratch.txt').write_text('ok')\n"
        "print('scratch ok')\n"
    )
    run = _in_sandbox(tmp_path, code)
    out = run.stdout
    assert "solutions False" in out and "tooling False" in out, run.stderr[-2000:]
    assert f"utils {tmp_path / 'pkg'}" in out and "reference False" in out
    assert "wrote" not in out and out.count("refused") == 3 and "scratch ok" in out


@needs_bwrap
def test_the_sandbox_has_no_network(tmp_path):
    code = (
        "import socket\n"
        "s = socket.socket()\n"
        "s.settimeout(5)\n"
        "try:\n"
        "    s.connect(('pypi.org', 443))\n"
        "    print('connected')\n"
        "except OSError as err:\n"
        "    print('no network', type(err).__name__)\n"
    )
    run = _in_sandbox(tmp_path, code)
    assert "no network" in run.stdout and "connected" not in run.stdout, run.stderr[-2000:]


@pytest.mark.parametrize(
    "reply",
    [{"status": "error", "ename": "X", "evalue": "y"}, {"status": "aborted"}, {}],
    ids=["error", "aborted", "empty"],
)
def test_a_grading_call_whose_execute_reply_is_not_ok_fails(tmp_path, reply):
    remote = grading_remote.RemoteKernel(lambda code, seconds: reply, tmp_path, 5)
    with pytest.raises(RuntimeError, match="could not be run"):
        remote.call("conv2d_loops", (np.ones(2),), {})


def test_a_reply_without_a_result_fails(tmp_path):
    remote = grading_remote.RemoteKernel(lambda code, seconds: {"status": "ok"}, tmp_path, 5)
    with pytest.raises(RuntimeError, match="no result"):
        remote.call("f", (), {})


def _check_values_labs_use() -> set[tuple[str, str]]:
    """(module, check) for every `name = module.check_x(...)` in a lab's code cells."""
    found = set()
    for path in nbfiles.course_notebooks("labs"):
        for cell in nbfiles.read(path).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr)
                    and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Attribute)
                    and isinstance(node.value.func.value, ast.Name)
                    and node.value.func.attr.startswith("check_")
                ):
                    found.add((node.value.func.value.id, node.value.func.attr))
    return found


def test_every_check_value_a_lab_uses_is_returned_by_its_stub():
    used = _check_values_labs_use()
    assert ("lenet", "check_lenet") in used  # the scan finds the uses
    missing = [(m, c) for m, c in sorted(used) if c not in sandbox.STUB_RETURNS.get(m, {})]
    assert not missing, f"labs use the value of {missing}, whose grading stubs return None"


def test_the_stubs_return_the_learners_own_results(tmp_path):
    """In the kernel's package, the stubs a lab uses the value of return the learner's model
    (built, or fitted with the lab's recipe); the others return None."""
    import os
    import sys

    sandbox.prepare_job(tmp_path)
    code = (
        "import numpy as np, keras\n"
        "from utils.checks import alexnet, lenet, training_cnns_well, convolution\n"
        "def build():\n"
        "    inp = keras.Input((4, 4, 1))\n"
        "    out = keras.layers.Dense(3, activation='softmax')(keras.layers.Flatten()(inp))\n"
        "    return keras.Model(inp, out)\n"
        "print('lenet', type(lenet.check_lenet(build)).__name__)\n"
        "print('alexnet', type(alexnet.check_alexnet(build)).__name__)\n"
        "rng = np.random.default_rng(0)\n"
        "data = (rng.random((8, 4, 4, 1)).astype('float32'), np.arange(8) % 3)\n"
        "run = training_cnns_well.check_gap_closed(\n"
        "    build, None, data, data, learning_rate=1e-3, epochs=1, batch_size=4)\n"
        "print('gap', type(run).__name__, -1 <= run.gap <= 1)\n"
        "print('other', convolution.check_conv2d(lambda *a: 0))\n"
    )
    env = {**sandbox._env(tmp_path), "PATH": os.environ["PATH"]}
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path / "work",
    )
    out = run.stdout
    assert "lenet Functional" in out and "alexnet Functional" in out, run.stderr[-3000:]
    assert "gap Run True" in out and "other None" in out, run.stderr[-3000:]
