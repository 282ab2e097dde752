"""The index behind `utils.plots`, `utils.measure` and `utils.networks` (PEP 562).

`module_getattr(package, homes)` returns the `__getattr__` and `__dir__` of a package whose
public names live in its submodules: `homes` maps each name to the submodule defining it, which
is imported the first time the name is used (so `from utils import measure` loads nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def module_getattr(package: str, homes: dict[str, str]) -> tuple[Callable, Callable]:
    """(__getattr__, __dir__) for the package named `package` with the index `homes`."""
    namespace = import_module(package).__dict__

    def __getattr__(name: str):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{homes[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*homes, *namespace})

    return __getattr__, __dir__
