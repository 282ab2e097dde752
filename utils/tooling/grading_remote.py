"""The grader's side of a learner's kernel: learner functions as remote proxies.

`RemoteKernel.call(name, args, kwargs)` writes the arguments into the job's exchange folder,
runs one harness snippet in the learner's kernel (which calls the learner's function there and
writes its result), checks the execute reply, and returns the result decoded in the grader's
process. `RemoteFunction` wraps that as a callable named like the learner's function, so the
unchanged `check_*` functions of `utils.checks` run in the grader against it, with their
references computed in the grader.

What the grader accepts back is data only (see `grading_harness`): Keras models are loaded with
`safe_mode=True` after their `config.json` is checked to name only `keras.*` and `utils.*`
classes; the exceptions a learner's function raised come back as a name and a message.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import shutil
import sys
import time
import zipfile
from pathlib import Path

from utils.tooling import grading_harness as harness

#: Most uncompressed bytes of a `.keras` archive the grader opens.
MAX_MODEL_BYTES = 256 * 2**20


class KernelGone(RuntimeError):
    """The learner's kernel died or stopped answering while a grading call ran."""


def _classes_in(config) -> list[tuple[str, str]]:
    """Every (module, class_name) a Keras config names, at any depth."""
    found = []
    if isinstance(config, dict):
        if "class_name" in config and "module" in config:
            found.append((str(config.get("module")), str(config["class_name"])))
        for value in config.values():
            found += _classes_in(value)
    elif isinstance(config, list):
        for value in config:
            found += _classes_in(value)
    return found


def load_checked_model(path: Path):
    """Load a learner's `.keras` file in the grader: refuse archives that are too big or whose
    config names a class outside `keras.*` / `utils.*`; load with `safe_mode=True`."""
    import keras

    path = Path(path)
    if path.suffix == ".json":  # an architecture without weights (harness.MAX_WEIGHTS)
        if path.stat().st_size > MAX_MODEL_BYTES:
            raise harness.ExchangeError("the model architecture is too big to grade")
        config = json.loads(path.read_text())
    else:
        with zipfile.ZipFile(path) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_MODEL_BYTES:
                raise harness.ExchangeError("the model archive is too big to grade")
            config = json.loads(archive.read("config.json"))
    custom = {}
    for module, name in _classes_in(config):
        if module == "keras" or module.startswith("keras."):
            continue
        if not module.startswith("utils.") or module.startswith(("utils.tooling", "utils.checks")):
            raise harness.ExchangeError(
                f"the model uses the class {module}.{name}: only Keras layers and the course's "
                "own layers (utils.*) can be graded"
            )
        cls = getattr(importlib.import_module(module), name, None)
        if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
            raise harness.ExchangeError(f"{module}.{name} is not a layer of the course")
        custom[name] = cls
    if path.suffix == ".json":
        with keras.saving.custom_object_scope(custom):
            return keras.models.model_from_json(path.read_text())
    return keras.saving.load_model(path, custom_objects=custom, safe_mode=True, compile=True)


def _reconnect(model, args):
    """A model the kernel built from keras.Input placeholders, applied to the grader's own
    symbolic inputs: its output tensor, so `keras.Model(inp, out)` shows the learner's layers."""
    import keras

    inputs = [a for a in args if type(a).__name__ == "KerasTensor"]
    # new layers (from their configs) whose first graph starts at the grader's inputs, as the
    # checks read `layer.input`; then the kernel's weights
    clone = keras.models.clone_model(model, input_tensors=inputs if len(inputs) > 1 else inputs[0])
    clone.set_weights(model.get_weights())
    return clone.output


def _sync_model(target, returned) -> None:
    """Copy `trainable` flags and weights of a model the learner's function changed onto the
    grader's model it was given (same architecture, layer by layer)."""
    pairs = zip(target._flatten_layers(), returned._flatten_layers(), strict=False)
    for mine, theirs in pairs:
        mine.trainable = theirs.trainable
    try:
        target.set_weights(returned.get_weights())
    except AttributeError:  # a model built without weights (utils.measure.tables.without_weights)
        if any(getattr(v, "_value", 1) is not None for v in target.weights):
            raise
    config = returned.get_compile_config() if getattr(returned, "compiled", False) else None
    if config:  # compiled (again) by the learner's function: the same optimizer, loss, metrics
        target.compile_from_config(config)


def _sync(given, back) -> None:
    """Apply to the grader's argument what the learner's function did to its copy."""
    import numpy as np

    if back is None or given is None:
        return
    if hasattr(given, "set_weights") and hasattr(back, "get_weights"):
        _sync_model(given, back)
    elif isinstance(given, np.random.Generator) and isinstance(back, np.random.Generator):
        given.bit_generator.state = back.bit_generator.state
    elif isinstance(given, np.ndarray) and isinstance(back, np.ndarray):
        if given.shape == back.shape and given.flags.writeable:
            given[...] = back.astype(given.dtype, copy=False)


#: Exceptions a learner's function may raise that the checks expect by type (a ValueError
#: for a bad argument, say): re-raised as that type, with the learner's message.
BUILTIN_ERRORS = {
    cls.__name__: cls
    for cls in (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        FileNotFoundError,
        NotADirectoryError,
        ZeroDivisionError,
        ArithmeticError,
        OverflowError,
        FloatingPointError,
        NotImplementedError,
    )
}


def _as_exception(name: str, error: harness.RemoteError) -> Exception:
    cls = BUILTIN_ERRORS.get(error.ename)
    if cls is not None:
        return cls(error.evalue)
    return RuntimeError(f"`{name}` raised {error.ename}: {error.evalue}")


def _dirs_of(value):
    """Absolute paths of existing folders and files (as the checks pass them, `str`) made into
    Paths, so that they are copied into the exchange folder the kernel sees."""
    if isinstance(value, str) and value.startswith("/") and Path(value).exists():
        return Path(value)
    if isinstance(value, tuple | list):
        return type(value)(_dirs_of(v) for v in value)
    if isinstance(value, dict):
        return {k: _dirs_of(v) for k, v in value.items()}
    return value


class RemoteKernel:
    """Calls into one learner's kernel through `execute(code, timeout) -> reply content`."""

    def __init__(self, execute, exchange: Path, call_seconds: float, learner_code=()):
        self.execute, self.exchange, self.call_seconds = execute, Path(exchange), call_seconds
        self.calls = 0
        self.last_seconds = 0.0
        #: The submitted notebook's code cells, as the grader read them from the file.
        self.bindings = notebook_bindings(list(learner_code))
        self.rebinding = rebinding_constructs(list(learner_code))

    def call(self, name: str, args: tuple, kwargs: dict, **mode):
        """The learner's `name(*args, **kwargs)`, run in the kernel, decoded here. `mode`:
        `mode="dataset_map", repeat=n` maps the function over `args` repeated n times in a
        tf.data pipeline there (see `grading_harness._dataset_map`)."""
        self.calls += 1
        folder = self.exchange / f"call_{self.calls:04d}"
        folder.mkdir(parents=True)
        (folder / "call.json").write_text(json.dumps({"name": name, **mode}))
        harness.dump(
            (_dirs_of(tuple(args)), _dirs_of(dict(kwargs))), folder / "args", results=False
        )
        code = (
            "import _course_grading_harness as __grading_h\n"
            f"__grading_h.serve(globals(), {str(folder)!r})\n"
        )
        started = time.perf_counter()
        reply = self.execute(code, self.call_seconds)
        self.last_seconds = time.perf_counter() - started
        if reply.get("status") != "ok":
            raise RuntimeError(
                f"`{name}` could not be run by the grader ({reply.get('ename', 'no reply')}: "
                f"{reply.get('evalue', '')})"
            )
        if not (folder / "result" / "value.json").exists():
            raise RuntimeError(f"`{name}` gave no result to the grader")
        result = harness.load(folder / "result", load_model=load_checked_model)
        synced = (
            harness.load(folder / "synced", load_model=load_checked_model)
            if (folder / "synced" / "value.json").exists()
            else None
        )
        shutil.rmtree(folder, ignore_errors=True)  # decoded: the values are in memory
        if isinstance(result, harness.RemoteError):
            raise _as_exception(name, result)
        for given, back in zip(args, synced or [], strict=False):
            _sync(given, back)
        if any(type(a).__name__ == "KerasTensor" for a in args) and hasattr(result, "layers"):
            return _reconnect(result, args)
        if harness._is_keras_model(result):
            return harness.rebind(result, [a for a in args if harness._is_keras_model(a)])
        return result


class RemoteFunction:
    """A learner's function as the checks see it: calling it runs it in the learner's kernel."""

    def __init__(self, kernel: RemoteKernel, name: str):
        self._kernel, self.__name__, self.__qualname__ = kernel, name, name

    def __call__(self, *args, **kwargs):
        tracer = sys.gettrace()
        if tracer is None:
            return self._kernel.call(self.__name__, args, kwargs)
        # A check is counting the Python lines the learner's code runs (sys.settrace): the
        # grader's own machinery is not traced, the function runs traced in the kernel, and
        # as many lines as it ran there are replayed here, under the check's tracer.
        sys.settrace(None)
        try:
            out = self._kernel.call(self.__name__, args, kwargs, mode="traced")
        finally:
            sys.settrace(tracer)
        _replay_lines(int(out["lines"]))
        return out["result"]

    def map_in_dataset(self, element: tuple, repeat: int) -> list:
        """The function's outputs inside `tf.data` (traced once, as a pipeline runs it)."""
        return self._kernel.call(
            self.__name__, tuple(element), {}, mode="dataset_map", repeat=int(repeat)
        )

    def run_pipeline(self, args: tuple, delay: float, epochs: int, keep: bool) -> dict:
        """Unit 17's pipeline built and iterated in the kernel (`grading_harness.run_pipeline`)."""
        mode = {"mode": "pipeline", "delay": delay, "epochs": epochs, "keep": keep}
        return self._kernel.call(self.__name__, tuple(args), {}, **mode)

    def source_of(self, name: str) -> tuple[str, str]:
        """What the learner's `name` is, for a check that reads code (units 03, 04, 07, 08),
        read by the grader from the submitted file, never asked of the kernel: ("function",
        the source of every `def name` statement of the notebook); ("library", module) when
        the notebook imports it from an installed package, or it is a builtin; ("unknown",
        why) otherwise (an assignment, a module of the learner's own, a notebook that may
        change code at run time)."""
        return resolve_name(self._kernel.bindings, name, self._kernel.rebinding)

    def __getattr__(self, attr):
        raise AttributeError(
            f"the grader only calls `{self.__name__}`; it reads no attribute of it ({attr})"
        )

    def __repr__(self) -> str:
        return f"<learner function {self.__name__}>"


def _replay_lines(n: int) -> None:
    """Run `n` traced lines, give or take one (a check's line tracer counts them as the
    learner's): the loop runs 2 lines per turn plus its last test."""
    for _ in range(max(0, (n - 1) // 2)):
        pass


#: Top-level packages whose functions a learner's code may call without the grader reading
#: them (installed, read-only in the sandbox; `utils` is the kernel's copy of the course).
LIBRARIES = (
    "numpy",
    "scipy",
    "math",
    "keras",
    "tensorflow",
    "utils",
    "functools",
    "itertools",
    "operator",
)


def _parsed_cell(source: str):
    """A code cell as Python (IPython magics turned into calls), None if it is not valid."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:
        pass
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _top_level(tree: ast.AST):
    """The nodes of a module's own scope: function and class bodies are not entered (their
    `global` statements are, as they bind names of the module)."""
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop(0)
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            yield from (n for n in ast.walk(node) if isinstance(n, ast.Global))
            stack += (
                [*getattr(node, "decorator_list", []), *getattr(node.args, "defaults", [])]
                if hasattr(node, "args")
                else list(getattr(node, "decorator_list", []))
            )
            continue
        stack += list(ast.iter_child_nodes(node))


def notebook_bindings(cells: list[str]) -> dict[str, list[tuple[str, str]]]:
    """name -> how the notebook's top-level code binds it, in order: ("def", the function's
    source, unparsed from the file), ("import", the module's or imported name's dotted path),
    or ("other", "") (any other binding, `global` statements in functions included). A name
    assigned an attribute chain of an imported module (`L = keras.layers`) counts as imported."""
    found: dict[str, list[tuple[str, str]]] = {}

    def alias_of(value) -> str:
        """The dotted path of `keras.layers` in `L = keras.layers`, when its root is a name
        the notebook imported (and only imported) so far; "" otherwise."""
        parts = []
        while isinstance(value, ast.Attribute):
            parts.append(value.attr)
            value = value.value
        ways = found.get(value.id, []) if isinstance(value, ast.Name) else []
        if not ways or {kind for kind, _ in ways} != {"import"} or len(ways) != 1:
            return ""
        return ".".join([ways[0][1], *parts[::-1]])

    for source in cells:
        tree = _parsed_cell(source)
        aliased: set[int] = set()
        for node in [] if tree is None else _top_level(tree):
            if id(node) in aliased:
                continue
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and alias_of(node.value)
            ):  # a module given a short name: `L = keras.layers`
                found.setdefault(node.targets[0].id, []).append(("import", alias_of(node.value)))
                aliased.add(id(node.targets[0]))
            elif isinstance(node, ast.FunctionDef):
                found.setdefault(node.name, []).append(("def", ast.unparse(node)))
            elif isinstance(node, ast.AsyncFunctionDef | ast.ClassDef):
                found.setdefault(node.name, []).append(("other", ""))
            elif isinstance(node, ast.Global):
                for name in node.names:
                    found.setdefault(name, []).append(("other", ""))
            elif isinstance(node, ast.Import):
                for a in node.names:
                    module = a.name if a.asname else a.name.split(".")[0]
                    found.setdefault((a.asname or a.name).split(".")[0], []).append(
                        ("import", module)
                    )
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:  # the imported name's dotted path: utils.measure.count_macs
                    module = ("." * node.level) + (node.module or "") + f".{a.name}"
                    found.setdefault(a.asname or a.name, []).append(("import", module))
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                found.setdefault(node.id, []).append(("other", ""))
    return found


#: Built-in calls that define or rebind code at run time, out of the grader's sight.
REBINDING_CALLS = frozenset(
    {"exec", "eval", "compile", "__import__", "setattr", "delattr", "globals", "vars", "locals"}
)
#: Modules whose use lets a notebook change code at run time.
REBINDING_MODULES = frozenset({"importlib", "ctypes", "gc", "types", "inspect", "builtins"})


def rebinding_constructs(cells: list[str]) -> list[str]:
    """Where the notebook may change its code at run time, out of sight of a grader that
    reads its `def` statements: exec/eval-like calls, assignments to dunder attributes
    (`f.__code__ = ...`), `sys.modules`, and modules made for it (`REBINDING_MODULES`)."""
    found = []
    for i, source in enumerate(cells):
        tree = _parsed_cell(source)
        parents = {}
        for node in [] if tree is None else ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in [] if tree is None else ast.walk(tree):
            what = ""
            parent = parents.get(node)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in REBINDING_CALLS:
                # reading one name (`globals().get("SEED", 0)`) changes nothing
                reads = isinstance(parent, ast.Attribute) and parent.attr == "get"
                what = "" if reads else f"{node.func.id}(...)"
            elif (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("__")
                and not isinstance(node.ctx, ast.Load)
            ):
                what = f"an assignment to .{node.attr}"
            elif isinstance(node, ast.Attribute) and node.attr == "modules":
                # asking whether a module is loaded (`"google.colab" in sys.modules`) is fine
                asks = isinstance(parent, ast.Compare) and node in parent.comparators
                what = "" if asks else ".modules"
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                if isinstance(node, ast.ImportFrom):
                    names.append(node.module or "")
                hit = [n for n in names if n.split(".")[0] in REBINDING_MODULES]
                what = f"import {hit[0]}" if hit else ""
            if what:
                found.append(f"code cell {i + 1}: {what}")
    return found


def resolve_name(bindings: dict, name: str, rebinding: list[str] = ()) -> tuple[str, str]:
    """See RemoteFunction.source_of: the grader's reading of `name` in the submitted file.

    A function comes back as the source of every `def name` statement of the notebook (the
    rules apply to each: which one runs is not asked of the kernel, which could lie); a
    notebook that may change code at run time (`rebinding_constructs`) has no readable
    functions."""
    ways = bindings.get(name, [])
    if not ways:
        if hasattr(builtins, name):
            return "library", "builtins"
        return "unknown", f"`{name}` is not defined in your notebook"
    if {kind for kind, _ in ways} == {"import"}:
        modules = {m for _, m in ways}
        if all(m.split(".")[0] in LIBRARIES for m in modules):
            return "library", sorted(modules)[0]
        return "unknown", f"`{name}` comes from {sorted(modules)}, which the grader cannot read"
    if {kind for kind, _ in ways} != {"def"}:
        return "unknown", f"`{name}` is bound by something other than `def` in your notebook"
    if rebinding:
        return "unknown", (
            "the grader reads this exercise's code, and your notebook may change code while it "
            f"runs ({'; '.join(rebinding[:3])}): remove that"
        )
    return "function", "\n\n\n".join(source for _, source in ways)


def free_names(source: str) -> list[str]:
    """Names that `source` reads but neither assigns, imports nor gets from builtins."""
    tree = ast.parse(source)
    bound, read = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read.append(node.id) if isinstance(node.ctx, ast.Load) else bound.add(node.id))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.Lambda | ast.comprehension):
            for arg in ast.walk(node.args if hasattr(node, "args") else node.target):
                if isinstance(arg, ast.arg):
                    bound.add(arg.arg)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node not in tree.body:  # defined inside the function (its own name stays free)
                bound.add(node.name)
    return [n for n in dict.fromkeys(read) if n not in bound and not hasattr(builtins, n)]


def namespace_for(imports: str, hidden: str, kernel: RemoteKernel, seed: int) -> dict:
    """The globals an exercise's hidden tests run in, in the grader: the solution's imports,
    `GRADING_SEED`, and every other name they read as a RemoteFunction of the learner's."""
    ns: dict = {"__name__": "__grading__", "GRADING_SEED": seed}
    exec(compile(imports, "<solution imports>", "exec"), ns)
    for name in free_names(hidden):
        if name not in ns:
            ns[name] = RemoteFunction(kernel, name)
    return ns
