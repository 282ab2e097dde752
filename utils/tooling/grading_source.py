"""Hidden tests that read the learner's code: what an exercise may not do, judged in the grader.

Some exercises are about *how* an answer is computed, and its values cannot tell: unit 03's
grouped convolution must be one matrix product, not a Python loop; unit 04's backward passes
must be NumPy, not TensorFlow's automatic differentiation; unit 07's `count_model` must add up
the learner's own formulas, not call `utils.measure.macs`; unit 08's `vgg_params` must count
without building a Keras model. In the grader, the learner's function is a remote proxy, so a
check that watches calls in its own process (`utils.checks.core.calls_to`) sees nothing; these
read the code instead.

`read_code(fn)` follows the learner's function through every name it uses: a function the
submitted notebook defines with `def` is read as source (`RemoteFunction.source_of`: the live
function's source, accepted only if it is one of the notebook's own `def` statements, compared
as syntax trees) and followed in turn; a name imported from an installed library is recorded
with its module; any other binding (an assignment, an import from elsewhere) fails, since the
grader cannot read it. Then:

- `check_no_python_loops(fn, seed)`: no for/while, comprehension, `map`-like call or recursion;
  the lecture's loop over kernel offsets in the `im2col` it calls is allowed (unit 03);
- `check_only_modules(fn, seed, forbidden=..., why=...)`: no use of a module whose dotted name
  starts with one of `forbidden` (imported names, attribute chains on imported modules, imports
  inside the functions), and none of the built-ins that reach names dynamically (`getattr`,
  `eval`, `__import__`, ...) or of dunder attributes (`__dict__`, `__globals__`, ...).
"""

from __future__ import annotations

import ast
import builtins
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from utils.checks.core import fail, passed

#: Built-ins that reach a name chosen at run time: an answer under a module rule may not use them.
DYNAMIC_BUILTINS = frozenset(
    {
        "getattr",
        "setattr",
        "delattr",
        "eval",
        "exec",
        "compile",
        "__import__",
        "globals",
        "locals",
        "vars",
        "breakpoint",
    }
)


@dataclass
class Code:
    """One function of the learner's, read as source."""

    name: str
    where: str  # the chain of calls that reached it: `a` -> `b`
    chain: tuple[str, ...]
    tree: ast.Module
    text: str
    #: free name -> the module it comes from (names imported from libraries and built-ins)
    modules: dict[str, str]


def _plain_source_of(fn: Callable, name: str) -> tuple[str, str]:
    """RemoteFunction.source_of for a function of this process (the solution notebook's)."""
    target = fn if name == fn.__name__ else fn.__globals__.get(name, getattr(builtins, name, None))
    if target is None:
        return "unknown", f"`{name}` is not defined"
    if hasattr(builtins, name) and target is getattr(builtins, name):
        return "library", "builtins"
    module = getattr(target, "__module__", None) or getattr(target, "__name__", "")
    if inspect.isfunction(target) and module == fn.__module__ and not module.startswith("utils."):
        return "function", inspect.getsource(target)
    from utils.tooling.grading_remote import LIBRARIES

    if inspect.ismodule(target):
        module = target.__name__
    elif not inspect.isfunction(target) and not inspect.isclass(target):
        return "unknown", f"`{name}` is a value of the notebook, not a function or a module"
    if str(module).split(".")[0] in (*LIBRARIES, "builtins"):
        return "library", str(module)
    return "unknown", f"`{name}` comes from {module}"


def _source_of(fn: Callable):
    if hasattr(type(fn), "source_of"):
        return fn.source_of
    return lambda name: _plain_source_of(fn, name)


def called_names(tree: ast.AST) -> list[str]:
    """Root names of every call in `tree`: `f` of f(x), `np` of np.pad(x)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            while isinstance(func, ast.Attribute | ast.Call | ast.Subscript):
                func = func.value if not isinstance(func, ast.Call) else func.func
            if isinstance(func, ast.Name):
                names.append(func.id)
    return list(dict.fromkeys(names))


def read_code(fn: Callable, *, every_name: bool = False) -> Iterator[Code]:
    """Each function of the learner's that `fn` reaches, read as source (see the module's doc).

    every_name: follow every free name, not only the called ones (a module rule must also see
    a function passed as a value); a name the grader cannot read then fails wherever it is."""
    from utils.tooling.grading_remote import free_names

    top = getattr(fn, "__name__", "your function")
    source_of = _source_of(fn)
    todo, read = [(top, (top,))], set()
    while todo:
        name, chain = todo.pop()
        if name in read:
            continue
        read.add(name)
        where = " -> ".join(f"`{n}`" for n in chain)
        kind, text = source_of(name)
        if kind != "function":
            raise fail(top, where, "code the grader can read", text)
        tree = ast.parse(text)
        free = list(free_names(text))
        followed = free if every_name else [n for n in called_names(tree) if n in free]
        modules = {}
        for other in followed:
            if other in chain:
                raise fail(top, where, "no recursion", f"`{other}` calls itself")
            other_kind, detail = source_of(other)
            if other_kind == "function":
                todo.append((other, (*chain, other)))
            elif other_kind == "library":
                modules[other] = detail
            else:
                raise fail(top, f"{where} uses `{other}`", "code the grader can read", detail)
        yield Code(name, where, chain, tree, text, modules)


# --- unit 03: no Python loops --------------------------------------------------------------------

#: Syntax that runs Python code once per element: what "no Python loops" forbids.
LOOP_SYNTAX = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
#: Functions that call a Python function once per element.
LOOP_CALLS = {
    "map",
    "filter",
    "reduce",
    "starmap",
    "vectorize",
    "frompyfunc",
    "apply_along_axis",
    "apply_over_axes",
    "fromfunction",
    "piecewise",
    "map_fn",
    "vectorized_map",
    "while_loop",
}


def _kernel_offset_loops(tree: ast.AST) -> set[int]:
    """ids of the `for` loops of an `im2col(x, kh, kw, stride, padding)` that run over its
    kernel offsets, as the lecture's does: `for di in range(<kh, kw and numbers>)`, at most two
    nested; such a loop runs KH * KW times, however many output positions there are."""
    (fn,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)][:1] or [None]
    params = [a.arg for a in fn.args.args] if fn is not None else []
    sizes = set(params[1:3])

    def over_offsets(node) -> bool:
        it = node.iter
        if not (isinstance(it, ast.Call) and getattr(it.func, "id", None) == "range"):
            return False
        names = {n.id for a in it.args for n in ast.walk(a) if isinstance(n, ast.Name)}
        bad = [
            n
            for a in it.args
            for n in ast.walk(a)
            if not isinstance(n, ast.expr | ast.expr_context | ast.operator | ast.unaryop)
        ]
        return bool(it.args) and not it.keywords and names <= sizes and not bad

    found = set()
    for outer in ast.walk(tree):
        if isinstance(outer, ast.For) and over_offsets(outer):
            inner = [n for n in ast.walk(outer) if isinstance(n, LOOP_SYNTAX) and n is not outer]
            if all(isinstance(n, ast.For) and over_offsets(n) for n in inner) and not any(
                isinstance(m, LOOP_SYNTAX) and m is not n for n in inner for m in ast.walk(n)
            ):
                found |= {id(outer), *(id(n) for n in inner)}
    return found


def check_no_python_loops(fn: Callable, seed: int) -> None:
    """Unit 03, exercise 2: `fn` and every function of the notebook it calls hold no loop: no
    for/while, no comprehension or generator, no map/np.vectorize/apply_along_axis-like call,
    no recursion; the one exception is the lecture's loop over the kernel offsets in the
    `im2col` it calls (`_kernel_offset_loops`). The values are checked apart
    (`check_conv2d_gemm`); `seed` is unused (the source does not depend on cases)."""
    del seed
    top = getattr(fn, "__name__", "conv2d_gemm")
    n = 0
    for code in read_code(fn):
        n += 1
        offsets = (
            _kernel_offset_loops(code.tree) if code.name == "im2col" and code.name != top else set()
        )
        loops = [
            type(node).__name__
            for node in ast.walk(code.tree)
            if isinstance(node, LOOP_SYNTAX) and id(node) not in offsets
        ]
        calls = [
            node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            for node in ast.walk(code.tree)
            if isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) in LOOP_CALLS
        ]
        if loops or calls:
            raise fail(
                top,
                f"the source of {code.where}",
                "no Python loop: one matrix product does the work",
                ", ".join(loops + [f"{c}(...)" for c in calls]),
                "a loop over output positions (or any element-wise Python loop) is what the "
                "exercise replaces with im2col and one matmul",
            )
    passed(f"`{top}` and the functions it calls ({n}) hold no Python loop (read here)")


# --- units 04, 07, 08: modules an answer may not use ----------------------------------------------


def _dotted(node: ast.AST) -> tuple[str, list[str]] | None:
    """(root name, attributes) of an attribute chain `a.b.c`, None for anything else."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return (node.id, attrs[::-1]) if isinstance(node, ast.Name) else None


def modules_used(code: Code) -> list[tuple[str, str]]:
    """(dotted module path, how it is used) of everything `code` reaches through modules:
    imported names, attribute chains on them, and imports inside the function."""
    used = []
    for node in ast.walk(code.tree):
        if isinstance(node, ast.Import):
            used += [(a.name, f"import {a.name}") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            used += [(f"{base}.{a.name}", f"from {base} import {a.name}") for a in node.names]
        elif isinstance(node, ast.Attribute) and not isinstance(
            getattr(node, "parent", None), ast.Attribute
        ):
            chain = _dotted(node)
            if chain and chain[0] in code.modules:
                path = ".".join([code.modules[chain[0]], *chain[1]])
                used.append((path, ".".join([chain[0], *chain[1]])))
    used += [(module, name) for name, module in code.modules.items()]
    return used


def check_only_modules(fn: Callable, seed: int, *, forbidden: tuple[str, ...], why: str) -> None:
    """`fn`, and every function of the notebook it reaches, uses no module whose dotted name
    starts with one of `forbidden` (e.g. "tensorflow", "utils.measure"), no built-in that looks
    names up at run time (`DYNAMIC_BUILTINS`) and no dunder attribute. `why`: what the exercise
    asks instead, for the message. `seed` is unused (the source does not depend on cases)."""
    del seed
    top = getattr(fn, "__name__", "your function")
    n = 0
    for code in read_code(fn, every_name=True):
        n += 1
        for node in ast.walk(code.tree):  # parents, so that only whole chains are read
            for child in ast.iter_child_nodes(node):
                child.parent = node
        dynamic = sorted(
            {
                node.id
                for node in ast.walk(code.tree)
                if isinstance(node, ast.Name) and node.id in DYNAMIC_BUILTINS
            }
            | {
                node.attr
                for node in ast.walk(code.tree)
                if isinstance(node, ast.Attribute) and node.attr.startswith("__")
            }
        )
        if dynamic:
            raise fail(
                top,
                f"the source of {code.where}",
                "names the grader can read where they are written",
                ", ".join(dynamic),
                "the grader reads this exercise's code: call functions by their names",
            )
        for module, how in modules_used(code):
            hit = next(
                (
                    f
                    for f in (*forbidden, *ALWAYS_FORBIDDEN)
                    if module == f or module.startswith(f + ".")
                ),
                None,
            )
            if hit:
                raise fail(top, f"the source of {code.where}", why, f"`{how}` ({hit})")
    passed(f"`{top}` and the functions it reaches ({n}) use none of {', '.join(forbidden)}")


#: The module rules of the exercises that have one: name -> (forbidden modules, what instead).
RULES = {
    "numpy only": (
        ("tensorflow", "keras", "jax", "torch"),
        "the gradient computed in NumPy: automatic differentiation is what this unit does by hand",
    ),
    "own formulas": (
        ("utils.measure",),
        "the counts added up from your own formulas (utils.measure is the check's reference)",
    ),
    "no model": (("keras", "tensorflow"), "a formula that builds no Keras model or layer"),
    "own measure": (
        ("utils.measure", "keras", "tensorflow"),
        "the measure computed from the masks in NumPy (Keras's IoU and utils.measure are "
        "the check's references)",
    ),
    "by hand": (
        ("keras", "tensorflow", "utils.networks"),
        "the preprocessing written in NumPy (keras.applications is the check's reference)",
    ),
}
#: Modules that choose what to import at run time: no rule could follow them.
ALWAYS_FORBIDDEN = ("importlib",)


def _rule_check(rule: str, doc: str) -> Callable[[Callable, int], None]:
    """The hidden tests' check for RULES[rule]: `check(fn, seed)` (see `check_only_modules`)."""

    def check(fn: Callable, seed: int) -> None:
        forbidden, why = RULES[rule]
        check_only_modules(fn, seed, forbidden=forbidden, why=why)

    check.__doc__ = doc
    return check


check_numpy_only = _rule_check(
    "numpy only", "Unit 04: the backward passes and the network's gradient in NumPy."
)
check_own_formulas = _rule_check(
    "own formulas", "Unit 07, exercise 4: `count_model` adds up the learner's formulas."
)
check_own_measure = _rule_check(
    "own measure", "Unit 13, exercises 2 and 3: IoU and Dice from the masks, in NumPy."
)
check_by_hand = _rule_check(
    "by hand", "Unit 14, exercise 1: `preprocess` in NumPy, without keras.applications."
)
check_builds_nothing = _rule_check(
    "no model", "Unit 08, exercise 3: `vgg_params` counts from the configuration alone."
)
