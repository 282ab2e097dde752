"""Learners who write code to get points: each way of cheating earns nothing.

Threat model: the learner controls every line of their notebook and runs any Python in their
kernel. Every attack below starts from the blank lab (or a wrong answer) and adds cells; the
grade of each attacked exercise must stay 0, and no file of the course tree may change.
Slow (every submission runs in its own sandboxed kernel): `make test-grading`.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import nbformat
import pytest

from utils.tooling import grade, nbfiles, sandbox

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.bwrap_works(), reason="bubblewrap cannot run here"),
]

ROOT = nbfiles.root()
CONV, BACKPROP, TRICKS, LENET = (
    "01_convolution.ipynb",
    "04_backprop_from_scratch.ipynb",
    "06_training_cnns_well.ipynb",
    "05_lenet.ipynb",
)
LIMITS = grade.Limits(cell_seconds=150, notebook_seconds=500, memory_mb=4000)
#: A wrong conv2d_loops (all zeros): what the attacks try to get points for.
WRONG_CONV = (
    "import numpy as np\n"
    "def conv2d_loops(x, w, b, stride=1, pad=0):\n"
    "    n = (x.shape[0] - w.shape[0] + 2 * pad) // stride + 1\n"
    "    m = (x.shape[1] - w.shape[1] + 2 * pad) // stride + 1\n"
    "    return np.zeros((n, m, w.shape[3]))\n"
)
#: A right conv2d_gemm (its values pass) that loops in Python over the output positions.
LOOPY_GEMM = (
    "import numpy as np\n"
    "def conv2d_gemm(x, w, b, stride=1, pad=0):\n"
    "    x = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))\n"
    "    kh, kw, _, f = w.shape\n"
    "    oh, ow = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1\n"
    "    out = np.zeros((oh, ow, f), dtype=np.result_type(x, w))\n"
    "    for i in range(oh):\n"
    "        for j in range(ow):\n"
    "            win = x[i * stride : i * stride + kh, j * stride : j * stride + kw]\n"
    "            out[i, j] = np.tensordot(win, w, axes=3) + b\n"
    "    return out"
)
SOLUTION_PATH = str(ROOT / "solutions" / CONV)
CHECKS_PATH = str(ROOT / "utils" / "checks" / "convolution.py")

#: learner -> (lab, cells appended to the blank lab, the exercises that must earn nothing)
ATTACKS = {
    # 1. the old grader's "fresh re-import" replaced, then the checks patched
    "reload": (
        CONV,
        [
            WRONG_CONV,
            "import importlib\nimportlib.reload = lambda module: module\n"
            "import utils.checks.convolution as c\n"
            "c.check_conv2d = c.check_output_size = c.check_param_counts = lambda *a, **k: None",
        ],
        (1, 2, 3),
    ),
    # 2. an import hook that serves a fake checking module
    "meta-path": (
        CONV,
        [
            WRONG_CONV,
            "import sys, types, importlib.abc, importlib.util\n"
            "class Fake(importlib.abc.MetaPathFinder, importlib.abc.Loader):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name.startswith('utils.checks.'):\n"
            "            return importlib.util.spec_from_loader(name, self)\n"
            "    def create_module(self, spec):\n"
            "        m = types.ModuleType(spec.name)\n"
            "        m.__getattr__ = lambda attr: (lambda *a, **k: None)\n"
            "        return m\n"
            "    def exec_module(self, module):\n"
            "        pass\n"
            "for n in [n for n in sys.modules if n.startswith('utils.checks.')]:\n"
            "    del sys.modules[n]\n"
            "sys.meta_path.insert(0, Fake())",
        ],
        (1, 2, 3),
    ),
    # 3. the checks edited on disk, the kernel's copy and the checkout's
    "edit-checks": (
        CONV,
        [
            WRONG_CONV,
            "import utils.checks.convolution as c\n"
            f"for path in [c.__file__, {CHECKS_PATH!r}]:\n"
            "    try:\n"
            "        open(path, 'w').write('def __getattr__(n):\\n    return lambda *a, **k: None\\n')\n"
            "    except OSError as err:\n"
            "        print('could not write', path, err)",
        ],
        (1, 2, 3),
    ),
    # 4. a .pth file in site-packages that patches every later Python
    "pth-file": (
        CONV,
        [
            WRONG_CONV,
            "import site, sysconfig\n"
            "for folder in {sysconfig.get_paths()['purelib'], *site.getsitepackages()}:\n"
            "    try:\n"
            "        open(folder + '/zzz_cheat.pth', 'w').write(\n"
            "            'import numpy; numpy.allclose = lambda *a, **k: True\\n')\n"
            "    except OSError as err:\n"
            "        print('refused', err)",
        ],
        (1,),
    ),
    # 5. NumPy/SciPy functions the references use, monkey-patched in the kernel
    "monkeypatch": (
        CONV,
        [
            WRONG_CONV,
            "import numpy, scipy.signal\n"
            "numpy.allclose = numpy.array_equal = lambda *a, **k: True\n"
            "numpy.max = lambda *a, **k: 0.0\n"
            "scipy.signal.correlate = lambda a, b, *r, **k: numpy.zeros(1)",
        ],
        (1,),
    ),
    # 6. IPython's hooks: errors swallowed, grader cells rewritten
    "ipython-hooks": (
        CONV,
        [
            WRONG_CONV,
            "ip = get_ipython()\n"
            "ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
            "ip.input_transformers_cleanup.append(\n"
            "    lambda lines: [l for l in lines if 'check' not in l and 'serve' not in l])",
        ],
        (1, 2, 3),
    ),
    # 7. the solution and its hidden tests read from the checkout, then run
    "read-solutions": (
        CONV,
        [
            "import json\n"
            f"nb = json.load(open({SOLUTION_PATH!r}))\n"
            "for cell in nb['cells']:\n"
            "    if cell['cell_type'] == 'code' and 'def ' in ''.join(cell['source']):\n"
            "        exec(''.join(cell['source']))"
        ],
        (1, 2, 3),
    ),
    # 8. files of the course tree rewritten (the hidden tests the next learners get)
    "rewrite-tree": (
        CONV,
        [
            WRONG_CONV,
            "import os\n"
            f"for path in [{SOLUTION_PATH!r}, {str(ROOT / 'labs' / CONV)!r}]:\n"
            "    try:\n"
            "        open(path, 'a').write('tampered')\n"
            "    except OSError as err:\n"
            "        print('refused', err)",
        ],
        (1,),
    ),
    # 9. PASSED printed, and a check's output faked
    "print-passed": (
        CONV,
        [
            WRONG_CONV,
            "print('PASSED: `conv2d_loops` matches scipy.signal.correlate on 30 cases')\n"
            "def check_conv2d(*a, **k):\n    print('PASSED')",
        ],
        (1, 2, 3),
    ),
    # 10. the globals the old hidden tests read, faked (unit 06 exercise 5)
    "fake-globals": (
        TRICKS,
        [
            "from types import SimpleNamespace\n"
            "regularised = SimpleNamespace(gap=0.0, val_acc=1.0)\n"
            "baseline = SimpleNamespace(gap=1.0, val_acc=1.0)\n"
            "history = SimpleNamespace(history={'val_accuracy': [1.0]})"
        ],
        (5,),
    ),
    # 11. drop-in references the checks used to expose, delegated to
    "delegate-references": (
        BACKPROP,
        [
            "from utils import shallow_cnn\nloss_and_grads = shallow_cnn.autodiff_loss_and_grads\n",
            "import utils.checks.convolution as c\nconv_backward = c._reference_conv2d",
        ],
        (3, 4, 5),
    ),
    # 12. the network: answers fetched from outside
    "network": (
        CONV,
        [
            "import urllib.request, numpy as np\n"
            "def conv2d_loops(x, w, b, stride=1, pad=0):\n"
            "    data = urllib.request.urlopen('https://pypi.org/simple/', timeout=5).read()\n"
            "    return np.frombuffer(data, dtype=np.uint8)"
        ],
        (1,),
    ),
    # 13. the kernel killed, or the grader's process signalled
    "kill": (
        CONV,
        [
            "import os, signal\n"
            "def conv2d_loops(x, w, b, stride=1, pad=0):\n"
            "    for pid in (os.getppid(), 1):\n"
            "        try:\n"
            "            os.kill(pid, signal.SIGKILL)\n"
            "        except OSError:\n"
            "            pass\n"
            "    os._exit(0)\n"
            "def output_size(n, f, p, s):\n"
            "    os._exit(1)"
        ],
        (1, 2),
    ),
    # 14. a result that claims to equal anything
    "always-equal": (
        CONV,
        [
            "import numpy as np\n"
            "class Anything(np.ndarray):\n"
            "    def __eq__(self, other):\n"
            "        return True\n"
            "def conv2d_loops(x, w, b, stride=1, pad=0):\n"
            "    return np.zeros(1).view(Anything)\n"
            "class Yes(int):\n"
            "    def __eq__(self, other):\n"
            "        return True\n"
            "def output_size(n, f, p, s):\n"
            "    return Yes(0)"
        ],
        (1, 2),
    ),
    # 15. a model whose layers run the learner's code in the grader (a Lambda, a custom class)
    "malicious-model": (
        LENET,
        [
            "import keras\n"
            "class Evil(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        open('/tmp/pwned', 'w').write('x')\n"
            "        return x\n"
            "def build_lenet():\n"
            "    inp = keras.Input((28, 28, 1))\n"
            "    x = keras.layers.Lambda(lambda t: t * 1)(Evil()(inp))\n"
            "    x = keras.layers.Flatten()(x)\n"
            "    return keras.Model(inp, keras.layers.Dense(10, activation='softmax')(x))"
        ],
        (2, 3),
    ),
    # 16. loops where the exercise asks for one matrix product: the grader reads the source
    "loops-not-vectorised": ("03_conv_as_gemm.ipynb", [LOOPY_GEMM], (2,)),
    # 17. the same loops, with the kernel's measurement faked: the harness's line count set to
    # 0, and inspect.getsource made to show a loop-free function the notebook does not hold
    "fake-loop-measurement": (
        "03_conv_as_gemm.ipynb",
        [
            LOOPY_GEMM,
            "import inspect, _course_grading_harness as h\n"
            "h.traced = lambda fn, args, kwargs: {'result': fn(*args, **kwargs), 'lines': 0}\n"
            "real = inspect.getsource\n"
            "inspect.getsource = lambda obj: (\n"
            "    'def conv2d_gemm(x, w, b, stride, padding):\\n    return x @ w\\n'\n"
            "    if getattr(obj, '__name__', '') == 'conv2d_gemm' else real(obj))",
        ],
        (2,),
    ),
    # 18. the loops hidden in a helper that claims to be NumPy's, and a line count faked
    "loops-in-a-library-helper": (
        "03_conv_as_gemm.ipynb",
        [
            LOOPY_GEMM.replace("def conv2d_gemm", "def helper"),
            "helper.__module__ = 'numpy'\n"
            "loop_free = helper\n"
            "def conv2d_gemm(x, w, b, stride=1, pad=0):\n"
            "    return loop_free(x, w, b, stride, pad)\n"
            "import _course_grading_harness as h\n"
            "h.traced = lambda fn, args, kwargs: {'result': fn(*args, **kwargs), 'lines': 0}",
        ],
        (2,),
    ),
    # 19. an exercise done by the reference its check compares with (unit 07's count_model)
    "count-with-the-reference": (
        "07_alexnet.ipynb",
        [
            "from utils.measure import count_macs\n"
            "def count_model(model):\n"
            "    return model.count_params(), count_macs(model)"
        ],
        (4,),
    ),
    # 20. a model built to count what the exercise asks for by formula (unit 08's vgg_params)
    "build-to-count": (
        "08_vgg.ipynb",
        [
            "import keras\n"
            "def vgg_params(config, image_size=224, num_classes=1000):\n"
            "    stack = [keras.Input((image_size, image_size, 3))]\n"
            "    for filters, n in config:\n"
            "        stack += [keras.layers.Conv2D(filters, 3, padding='same') for _ in range(n)]\n"
            "        stack.append(keras.layers.MaxPooling2D())\n"
            "    stack += [keras.layers.Flatten(), keras.layers.Dense(4096)]\n"
            "    stack += [keras.layers.Dense(4096), keras.layers.Dense(num_classes)]\n"
            "    return keras.Sequential(stack).count_params()"
        ],
        (3,),
    ),
    # 21. TensorFlow's automatic differentiation in place of the backward passes (unit 04)
    "autodiff-instead-of-backprop": (
        BACKPROP,
        [
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "from utils.networks import shallow_cnn\n"
            "def loss_and_grads(params, x, y):\n"
            "    dtype = np.asarray(params['w1']).dtype\n"
            "    t = {k: tf.Variable(np.asarray(v, dtype=dtype)) for k, v in params.items()}\n"
            "    with tf.GradientTape() as tape:\n"
            "        scores = shallow_cnn.tf_scores(t, tf.constant(np.asarray(x, dtype=dtype)))\n"
            "        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(\n"
            "            tf.constant(np.asarray(y)), scores))\n"
            "    grads = tape.gradient(loss, t)\n"
            "    return float(loss), {k: v.numpy() for k, v in grads.items()}"
        ],
        (4, 5),
    ),
}


#: Files the attacks try to write (compared before and after; other files of the tree may be
#: edited by whoever works in the checkout meanwhile).
TARGETS = [
    ROOT / "solutions" / CONV,
    ROOT / "labs" / CONV,
    ROOT / "utils" / "checks" / "convolution.py",
]


def _digests() -> dict:
    import site
    import sysconfig

    folders = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    found = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in TARGETS}
    found["pth files"] = sorted(str(p) for f in folders for p in Path(f).glob("zzz_cheat*"))
    found["/tmp/pwned"] = Path("/tmp/pwned").exists()
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    subs = tmp_path_factory.mktemp("attackers")
    for learner, (lab, cells, _) in ATTACKS.items():
        nb = nbfiles.read(ROOT / "labs" / lab)
        nb.cells += [nbformat.v4.new_code_cell(code) for code in cells]
        (subs / learner).mkdir()
        nbformat.write(nb, str(subs / learner / lab))
    before = _digests()
    out = tmp_path_factory.mktemp("out")
    grade.grade_folder(subs, out, jobs=2, limits=LIMITS)
    rows = {
        (r["learner"], r["lab"]): r
        for r in csv.DictReader(open(out / "grades.csv"))
        if r["status"] != "missing"
    }
    return rows, before, out


@pytest.mark.parametrize("learner", sorted(ATTACKS))
def test_the_attack_earns_nothing(attacked, learner):
    rows, _, out = attacked
    lab, _, targets = ATTACKS[learner]
    row = rows[(learner, lab)]
    assert row["status"] in ("graded", "could not run", "timed out")
    got = {n: row[f"ex{n}"] for n in targets}
    feedback = (out / "feedback" / f"{learner}.md").read_text()
    assert all(v == "0" for v in got.values()), f"{learner} earned {got}:\n{feedback[:3000]}"
    assert row["sandbox"] == sandbox.SANDBOX_BWRAP


def test_no_attack_changed_the_course_tree_or_the_installation(attacked):
    _, before, _ = attacked
    after = _digests()
    assert after == before
    assert after["pth files"] == [] and after["/tmp/pwned"] is False


def test_at_least_ten_classes_of_cheating_are_tried():
    assert len(ATTACKS) >= 10
