"""One source for code a lecture derives and the package reuses (d2l's `#@save` pattern).

A lecture writes a function where it teaches it; the package holds the same function for the
labs and the checks. The lecture is the source, and the package's copy is generated:

- **The marker.** A lecture cell (in `notebooks/`) whose *first line* is

      # @save: utils/networks/shallow_cnn.py

  saves every top-level function it defines (`def` statements at column 0; the cell's other
  statements, its tests and prints, stay in the lecture) into that module. One marker per
  cell, so a cell that defines two functions saves both; the path is relative to the
  repository's root.
- **The generated section.** In the module, the saved functions of one lecture sit between

      # BEGIN EXPORTED FROM notebooks/04_backprop_from_scratch.ipynb
      ...
      # END EXPORTED

  in the lecture's order, each under a comment naming the cell it came from. Everything
  outside the section is the module's own, written by hand (its docstring, imports,
  constants, and the functions the lecture does not write). Several lectures can save into
  one module, each into its own section.
- **`python -m utils.tooling export`** rewrites every section from the lectures' marked
  cells, copying each definition's text (comments included), and creates a missing section
  at the end of its module.
- **`make lint`** (`export_problems`, called by `rules.lint_all`) fails when a section and
  its lecture disagree: the two are compared function by function after parsing and
  `ast.unparse`, so comments and layout do not count, and names, arguments, docstrings and
  code do.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from utils.tooling import nbfiles

#: The first line of a cell whose functions are saved; group 1 is the target module's path.
MARKER = re.compile(r"^#\s*@save:\s*(\S+)\s*$")
#: Anything that looks like a marker, to catch one that is not on a cell's first line.
LOOSE_MARKER = re.compile(r"^\s*#\s*@save\b", re.M)
BEGIN = "# BEGIN EXPORTED FROM "
END = "# END EXPORTED"
#: Where the lectures are, relative to the repository's root.
LECTURES = "notebooks"
COMMAND = "python -m utils.tooling export"


@dataclass(frozen=True)
class Saved:
    """One saved function: where it is in the lecture and its text."""

    name: str
    source: str  # the definition's text in the cell, decorators and comments inside included
    notebook: str  # the lecture, relative to the root: notebooks/04_backprop_from_scratch.ipynb
    cell: str  # the cell's id
    heading: str  # the Markdown heading the cell is under ("" if none)

    @property
    def normalised(self) -> str:
        return normalise(self.source)


def normalise(source: str) -> str:
    """`source` (one or more statements) parsed and printed back by `ast.unparse`."""
    return ast.unparse(ast.parse(source))


def _code(source: str) -> str:
    """A cell's source with IPython's `%magic` and `!shell` lines blanked (lines keep numbers)."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def _heading(markdown: str) -> str:
    """The last heading of a Markdown cell ("" if it has none)."""
    found = re.findall(r"^#+\s+(.+?)\s*$", markdown, re.M)
    return found[-1] if found else ""


def lecture_saves(path: Path, root: Path) -> tuple[dict[str, list[Saved]], list[str]]:
    """The functions a lecture saves, by target module path, in the lecture's order, and the
    problems of its markers (`path: problem` lines)."""
    rel = path.relative_to(root).as_posix()
    nb = nbfiles.read(path)
    saves: dict[str, list[Saved]] = {}
    problems: list[str] = []
    heading = ""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            heading = _heading(cell.source) or heading
            continue
        if cell.cell_type != "code":
            continue
        first, _, rest = cell.source.partition("\n")
        match = MARKER.match(first)
        if not match:
            if LOOSE_MARKER.search(cell.source):
                problems.append(
                    f"{rel}: cell {i}: a `# @save: <module path>` marker must be the cell's first "
                    "line, with the module's path"
                )
            continue
        if LOOSE_MARKER.search(rest):
            problems.append(f"{rel}: cell {i}: one `# @save` marker per cell")
        target = match.group(1)
        if not target.endswith(".py") or not (root / target).is_file():
            problems.append(f"{rel}: cell {i}: `# @save: {target}`: no such module")
            continue
        code = _code(cell.source)
        try:
            tree = ast.parse(code)
        except SyntaxError as err:
            problems.append(f"{rel}: cell {i}: marked cell does not parse: {err.msg}")
            continue
        lines = code.splitlines()
        functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if not functions:
            problems.append(f"{rel}: cell {i}: marked `# @save` but defines no function")
        for node in functions:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            source = "\n".join(lines[start - 1 : node.end_lineno])
            cell_id = cell.get("id", f"cell-{i:03d}")
            saves.setdefault(target, []).append(Saved(node.name, source, rel, cell_id, heading))
    for target, saved in saves.items():
        names = [s.name for s in saved]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{rel}: `{name}` is saved into {target} by more than one cell")
    return saves, problems


def collect(root: Path | None = None) -> tuple[dict[tuple[str, str], list[Saved]], list[str]]:
    """Every lecture's saved functions, by (target module, lecture), and the markers' problems."""
    root = Path(root) if root is not None else nbfiles.root()
    found: dict[tuple[str, str], list[Saved]] = {}
    problems: list[str] = []
    for path in sorted((root / LECTURES).glob("*.ipynb")):
        saves, bad = lecture_saves(path, root)
        problems += bad
        for target, saved in saves.items():
            found[(target, path.relative_to(root).as_posix())] = saved
    return found, problems


def render(notebook: str, saved: list[Saved]) -> str:
    """The generated section of `notebook`'s saved functions, BEGIN and END lines included."""
    parts = [
        f"{BEGIN}{notebook}\n"
        f"# Generated by `{COMMAND}` from the lecture's cells marked `# @save`:\n"
        "# edit the functions there, then run the command (`make lint` compares the two).\n"
    ]
    for s in saved:
        where = f' ("{s.heading}")' if s.heading else ""
        parts.append(f"\n\n# From cell {s.cell}{where}.\n{s.source.rstrip()}\n")
    parts.append(f"\n\n{END}\n")
    return "".join(parts)


def sections(text: str) -> dict[str, tuple[int, int]]:
    """The generated sections of a module's text: {lecture: (index of the BEGIN line, index of
    the END line)}, line indices of `text.splitlines()`. Raises ValueError if unbalanced."""
    found: dict[str, tuple[int, int]] = {}
    current: tuple[str, int] | None = None
    for i, line in enumerate(text.splitlines()):
        if line.startswith(BEGIN):
            if current is not None:
                raise ValueError(f"line {i + 1}: a BEGIN EXPORTED inside another section")
            current = (line[len(BEGIN) :].strip(), i)
        elif line.strip() == END:
            if current is None:
                raise ValueError(f"line {i + 1}: END EXPORTED without its BEGIN")
            if current[0] in found:
                raise ValueError(f"two sections exported from {current[0]}")
            found[current[0]] = (current[1], i)
            current = None
    if current is not None:
        raise ValueError(f"the section exported from {current[0]} has no END EXPORTED line")
    return found


def _functions(source: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, normalised text) of each top-level function of `source`, and the other top-level
    statements it holds (normalised)."""
    tree = ast.parse(source)
    functions, others = [], []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append((node.name, ast.unparse(node)))
        else:
            others.append(ast.unparse(node).splitlines()[0])
    return functions, others


def _first_difference(want: str, have: str) -> str:
    """The first line only `want` has and the first line only `have` has, quoted."""
    diff = list(difflib.unified_diff(want.splitlines(), have.splitlines(), lineterm="", n=0))
    removed = next((d[1:].strip() for d in diff if d[:1] == "-" and not d.startswith("---")), None)
    added = next((d[1:].strip() for d in diff if d[:1] == "+" and not d.startswith("+++")), None)
    return f"{removed!r} vs {added!r}"


def export_problems(root: Path | None = None) -> list[str]:
    """Where the package's generated sections and the lectures' marked functions disagree, as
    `path: problem` lines (what `make lint` reports)."""
    root = Path(root) if root is not None else nbfiles.root()
    found, problems = collect(root)
    modules = {target for target, _ in found}
    for path in sorted((root / "utils").rglob("*.py")):
        if re.search(f"^{re.escape(BEGIN)}", path.read_text(encoding="utf-8"), re.M):
            modules.add(path.relative_to(root).as_posix())
    fix = f"run `{COMMAND}`"
    for module in sorted(modules):
        text = (root / module).read_text(encoding="utf-8")
        try:
            bounds = sections(text)
        except ValueError as err:
            problems.append(f"{module}: generated section: {err}")
            continue
        lines = text.splitlines()
        wanted = {nb for target, nb in found if target == module}
        for notebook in sorted(set(bounds) - wanted):
            problems.append(
                f"{module}: has a section exported from {notebook}, which saves nothing here: "
                f"mark its cells `# @save: {module}` or delete the section"
            )
        for notebook in sorted(wanted):
            saved = found[(module, notebook)]
            if notebook not in bounds:
                problems.append(f"{module}: no section exported from {notebook}: {fix}")
                continue
            begin, end = bounds[notebook]
            try:
                have, others = _functions("\n".join(lines[begin + 1 : end]))
            except SyntaxError as err:
                problems.append(f"{module}: the section from {notebook} does not parse: {err.msg}")
                continue
            for statement in others:
                problems.append(
                    f"{module}: the section from {notebook} holds {statement!r}, which no marked "
                    "cell defines: move it out of the section"
                )
            have_by_name = dict(have)
            want_names = [s.name for s in saved]
            for s in saved:
                if s.name not in have_by_name:
                    problems.append(
                        f"{module}: `{s.name}` (saved by {notebook}, cell {s.cell}) is missing "
                        f"from the generated section: {fix}"
                    )
                elif have_by_name[s.name] != s.normalised:
                    first = _first_difference(s.normalised, have_by_name[s.name])
                    problems.append(
                        f"{module}: `{s.name}` differs from {notebook}, cell {s.cell} (lecture vs "
                        f"package: {first}): edit the lecture if the change is wanted, then {fix}"
                    )
            for name, _ in have:
                if name not in want_names:
                    problems.append(
                        f"{module}: `{name}` is in the section from {notebook} but no cell marked "
                        f"`# @save: {module}` defines it: {fix}"
                    )
            have_names = [n for n, _ in have]
            if sorted(have_names) == sorted(want_names) and have_names != want_names:
                problems.append(f"{module}: the section from {notebook} is out of order: {fix}")
    return problems


def export_all(root: Path | None = None) -> list[str]:
    """Rewrite every generated section from the lectures' marked cells (a missing section is
    appended to its module). Returns `path: what` lines for the modules written; raises
    ValueError if a marker or a module's sections are malformed."""
    root = Path(root) if root is not None else nbfiles.root()
    found, problems = collect(root)
    if problems:
        raise ValueError("cannot export:\n" + "\n".join(problems))
    written = []
    for module in sorted({target for target, _ in found}):
        path = root / module
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        bounds = sections(text)
        notebooks = sorted(nb for target, nb in found if target == module)
        # Replace from the last section up, so that earlier line indices stay valid.
        for notebook in sorted(set(notebooks) & set(bounds), key=lambda nb: -bounds[nb][0]):
            begin, end = bounds[notebook]
            lines[begin : end + 1] = [render(notebook, found[(module, notebook)])]
        new = "".join(lines)
        for notebook in notebooks:
            if notebook not in bounds:
                new = new.rstrip("\n") + "\n\n\n" + render(notebook, found[(module, notebook)])
        if new != text:
            path.write_text(new, encoding="utf-8")
            names = ", ".join(s.name for nb in notebooks for s in found[(module, nb)])
            written.append(f"{module}: exported {names} from {', '.join(notebooks)}")
    return written
