"""The grader's code-reading hidden tests (utils.tooling.grading_source), on functions of this
module: they accept the solutions' way and reject the ways around an exercise that its values
cannot tell apart (units 04, 07, 08; unit 03's loops are tested with the grader in
tests/test_grading.py)."""

from __future__ import annotations

import numpy as np
import pytest

from utils import measure
from utils.checks import CheckFailed
from utils.measure import count_macs
from utils.measure import macs as macs_module
from utils.tooling.grading_source import check_only_modules

NO_MEASURE = {"forbidden": ("utils.measure",), "why": "your own formulas"}
NO_KERAS = {"forbidden": ("keras", "tensorflow"), "why": "a formula, no model"}
NUMPY_ONLY = {"forbidden": ("tensorflow", "keras", "jax", "torch"), "why": "NumPy only"}
#: A value the notebook binds by assignment: the grader cannot read where it comes from.
ALIAS = count_macs


def conv_count(layer):
    kh, kw = layer.kernel_size
    return kh * kw * layer.input.shape[-1] * layer.filters


def count_model(model):
    """The solution's way: the learner's own formulas, through a helper of the notebook."""
    return sum(conv_count(ly) for ly in model.layers if hasattr(ly, "kernel_size"))


def count_by_reference(model):
    return 0, count_macs(model)


def count_by_attribute(model):
    return 0, measure.count_macs(model)


def count_by_submodule(model):
    return 0, macs_module.count_macs(model)


def count_by_inner_import(model):
    from utils.measure.macs import count_macs as c

    return 0, c(model)


def count_by_getattr(model):
    return 0, getattr(measure, "count_" + "macs")(model)


def count_by_alias(model):
    return 0, ALIAS(model)


def _helper_that_delegates(model):
    return measure.count_macs(model)


def count_through_a_helper(model):
    return 0, _helper_that_delegates(model)


def count_by_value(model):
    """The reference passed as a value, never called by name."""
    return 0, sum(map(measure.macs.count_macs, [model]))


def vgg_params(config, image_size=224, num_classes=1000):
    total, c_in = 0, 3
    for filters, n_convs in config:
        for _ in range(n_convs):
            total += (9 * c_in + 1) * filters
            c_in = filters
    flat = (image_size // 32) ** 2 * c_in
    return total + (flat + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * num_classes


def vgg_params_by_building(config, image_size=224, num_classes=1000):
    import keras

    return keras.applications.VGG16(weights=None).count_params()


def softmax_numpy(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return float(-np.log(p[np.arange(len(y)), y]).mean()), p


def softmax_by_tape(scores, y):
    import tensorflow as tf

    s = tf.constant(scores)
    with tf.GradientTape() as tape:
        tape.watch(s)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, s))
    return float(loss), tape.gradient(loss, s).numpy()


@pytest.mark.parametrize(
    "fn, rule",
    [(count_model, NO_MEASURE), (vgg_params, NO_KERAS), (softmax_numpy, NUMPY_ONLY)],
    ids=["count_model", "vgg_params", "softmax"],
)
def test_the_solutions_way_passes(fn, rule, capsys):
    check_only_modules(fn, 0, **rule)
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, rule, shown",
    [
        (count_by_reference, NO_MEASURE, "count_macs"),
        (count_by_attribute, NO_MEASURE, "measure.count_macs"),
        (count_by_submodule, NO_MEASURE, "macs_module.count_macs"),
        (count_by_inner_import, NO_MEASURE, "from utils.measure.macs import count_macs"),
        (count_by_getattr, NO_MEASURE, "getattr"),
        (count_by_alias, NO_MEASURE, "ALIAS"),
        (count_through_a_helper, NO_MEASURE, "_helper_that_delegates"),
        (count_by_value, NO_MEASURE, "measure.macs.count_macs"),
        (vgg_params_by_building, NO_KERAS, "import keras"),
        (softmax_by_tape, NUMPY_ONLY, "import tensorflow"),
    ],
)
def test_a_way_around_the_exercise_fails_naming_it(fn, rule, shown):
    with pytest.raises(CheckFailed) as err:
        check_only_modules(fn, 0, **rule)
    assert shown in str(err.value), str(err.value)


class _Submitted:
    """A learner's function as the grader holds it: a name, and the submitted cells (the
    grader reads code from these, never from the kernel)."""

    def __init__(self, name: str, cells: list[str]):
        from utils.tooling import grading_remote

        self.__name__ = name
        self._bindings = grading_remote.notebook_bindings(cells)
        self._rebinding = grading_remote.rebinding_constructs(cells)

    def source_of(self, name: str):
        from utils.tooling.grading_remote import resolve_name

        return resolve_name(self._bindings, name, self._rebinding)


GEMM = "import numpy as np\ndef conv2d_gemm(x, w):\n    return x @ w\n"
LOOPY = "def conv2d_gemm(x, w):\n    return sum(a * b for a, b in zip(x, w))\n"


def test_the_grader_reads_every_def_of_the_name_from_the_file(capsys):
    """A notebook that defines the function twice is read twice: a loop in either fails
    (which one runs is not asked of the kernel, which could answer anything)."""
    from utils.tooling.grading_source import check_no_python_loops

    check_no_python_loops(_Submitted("conv2d_gemm", [GEMM]), 0)
    assert "PASSED" in capsys.readouterr().out
    for cells in ([GEMM, LOOPY], [LOOPY, GEMM]):
        with pytest.raises(CheckFailed, match="GeneratorExp"):
            check_no_python_loops(_Submitted("conv2d_gemm", cells), 0)


@pytest.mark.parametrize(
    "cell, shown",
    [
        ("exec('def conv2d_gemm(x, w): return [a for a in x]')", "exec(...)"),
        ("def other(x, w):\n    return x\nconv2d_gemm.__code__ = other.__code__", ".__code__"),
        ("import sys\nsys.modules['numpy'].matmul = lambda a, b: a", ".modules"),
        ("import importlib\nimportlib.reload(np)", "import importlib"),
        ("globals()['conv2d_gemm'] = lambda x, w: x", "globals(...)"),
    ],
    ids=["exec", "code-swap", "sys-modules", "importlib", "globals"],
)
def test_a_notebook_that_may_change_code_at_run_time_has_no_readable_function(cell, shown):
    from utils.tooling.grading_source import check_no_python_loops

    with pytest.raises(CheckFailed) as err:
        check_no_python_loops(_Submitted("conv2d_gemm", [GEMM, cell]), 0)
    assert shown in str(err.value) and "change code while it runs" in str(err.value)


def test_reading_a_global_or_asking_for_a_module_is_not_rewriting_code(capsys):
    """The course's own cells: the setup cell asks whether Colab is loaded, a solution's hidden
    tests read their seed with `globals().get`."""
    from utils.tooling.grading_source import check_no_python_loops

    cells = [
        "import sys\nif 'google.colab' in sys.modules:\n    pass",
        "SEED = globals().get('GRADING_SEED', 0)",
        GEMM,
    ]
    check_no_python_loops(_Submitted("conv2d_gemm", cells), 0)
    assert "PASSED" in capsys.readouterr().out


def test_a_module_alias_is_followed():
    """`L = keras.layers` reads as keras.layers; `mm = measure.macs` as utils.measure.macs."""
    from utils.tooling.grading_source import check_own_formulas

    honest = "import keras\nL = keras.layers\ndef count_model(model):\n    return L.Dense\n"
    check_own_formulas(_Submitted("count_model", [honest]), 0)
    sneaky = (
        "from utils import measure\nmm = measure.macs\n"
        "def count_model(model):\n    return 0, mm.count_macs(model)\n"
    )
    with pytest.raises(CheckFailed, match="mm.count_macs"):
        check_own_formulas(_Submitted("count_model", [sneaky]), 0)


def _rules_in_hidden_tests():
    """(solution, answer name, rule) for each `grading_source.check_*(name, ...)` line of the
    solutions' hidden tests."""
    import re

    from utils.tooling import labs, nbfiles

    found = []
    for path in nbfiles.course_notebooks("solutions"):
        for cell in nbfiles.read(path).cells:
            if cell.cell_type != "code":
                continue
            hidden = "\n".join(labs.strip_cell(cell.source, markdown=False)[1].hidden)
            for rule, name in re.findall(r"grading_source\.(check_\w+)\((\w+)", hidden):
                found.append(pytest.param(path, name, rule, id=f"{path.stem}-{name}-{rule}"))
    return found


@pytest.mark.parametrize("path, name, rule", _rules_in_hidden_tests())
def test_each_solution_passes_its_code_reading_rules_as_the_grader_reads_them(path, name, rule):
    """The grader reads the submitted file: the solution, read the same way, must pass."""
    from utils.tooling import grading_source, nbfiles

    cells = [c.source for c in nbfiles.read(path).cells if c.cell_type == "code"]
    getattr(grading_source, rule)(_Submitted(name, cells), 0)
