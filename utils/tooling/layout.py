"""The package's import rule, checked by `make lint` (`layout_problems()`).

Each module of `utils` has a role, given by the first name under `utils`:

    start (course, notebook, lazy_index) <- measure <- data <- networks <- training <- checks <- tooling
                                measure <- plots

A module may import its own role and the roles to its left (`ALLOWED`): `utils.checks` never
imports plotting or tooling, plotting imports only measure, nothing but tooling imports tooling, and lectures (`notebooks/`)
import neither checks nor tooling. Imports under `if TYPE_CHECKING:` (annotations only) are not
counted. Labs and solutions may import checks; only a solution's hidden tests import tooling
(they are removed from the labs and run in the grader).
"""

from __future__ import annotations

import ast
from pathlib import Path

from utils.tooling import labs, nbfiles

#: role -> the other roles its modules may import
ALLOWED = {
    "start": set(),
    "data": {"start", "measure"},
    "networks": {"start", "measure", "data"},
    "training": {"start", "measure", "data", "networks"},
    "measure": {"start"},
    "plots": {"start", "measure"},
    "checks": {"start", "data", "networks", "training", "measure"},
    "tooling": {"start", "data", "networks", "training", "measure", "plots", "checks"},
}
ROLES = {"course": "start", "notebook": "start", "lazy_index": "start"}


def role_of(module: str) -> str | None:
    """'utils.measure.macs' -> 'measure'; 'utils' itself -> None."""
    parts = module.split(".")
    if parts[0] != "utils" or len(parts) < 2:
        return None
    return ROLES.get(parts[1], parts[1])


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every `utils` import in `source`, but those under TYPE_CHECKING."""
    tree = ast.parse(source)
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "utils":
                found += [(node.lineno, f"utils.{a.name}") for a in node.names]
            elif node.module.startswith("utils."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("utils.")]
    return found


def package_problems(root: Path) -> list[str]:
    """Imports of `utils/**.py` that break the rule, as `path:line: problem` lines."""
    problems = []
    for path in sorted((root / "utils").rglob("*.py")):
        rel = path.relative_to(root)
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        own = role_of(module)
        if own is None:
            continue
        if own not in ALLOWED:
            problems.append(f"{rel}: `utils.{module.split('.')[1]}` has no role in ALLOWED")
            continue
        for line, target in imported_modules(path.read_text(encoding="utf-8")):
            other = role_of(target)
            if other is None or other == own or other in ALLOWED[own]:
                continue
            problems.append(f"{rel}:{line}: a {own} module imports {target} ({other})")
    return problems


def notebook_problems() -> list[str]:
    """Lectures importing checks or tooling; labs or solutions importing tooling outside
    hidden tests."""
    problems = []
    for folder in nbfiles.FOLDERS:
        banned = {"checks", "tooling"} if folder == "notebooks" else {"tooling"}
        for path in nbfiles.course_notebooks(folder):
            nb = labs.without_hidden_tests(nbfiles.read(path))
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                source = "\n".join(
                    "pass" if line.lstrip().startswith(("%", "!")) else line
                    for line in cell.source.splitlines()
                )
                try:
                    imports = imported_modules(source)
                except SyntaxError:
                    continue  # the notebook lint reports cells that do not parse
                for _, target in imports:
                    if role_of(target) in banned:
                        problems.append(
                            f"{nbfiles.relpath(path)}: cell {i} imports {target}, which "
                            f"{'a lecture' if folder == 'notebooks' else 'a lab'} must not"
                        )
    return problems


def layout_problems() -> list[str]:
    """Every break of the import rule in the package and the notebooks."""
    return package_problems(nbfiles.root()) + notebook_problems()
