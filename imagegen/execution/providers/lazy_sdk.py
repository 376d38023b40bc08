"""Load the openai SDK's type namespaces on use: the first request leaves ~0.2 s sooner.

``import openai`` runs ``openai/types/__init__.py``, which imports every type the SDK has (about 400
modules: responses, evals, graders, chat, ... building ~650 pydantic classes), although an image
request needs a few dozen of them. That is ~0.2 s of the ~0.45 s the SDK takes to import
(bench/bench_startup.py).

:func:`install` registers an import finder for the packages under ``openai.types`` whose
``__init__`` only re-exports names from its own submodules (``from .x import Y as Y``): such a
package is created with its normal ``__path__`` and a module ``__getattr__`` that imports the
submodule behind a name on first access, so ``openai.types.ImagesResponse``,
``from openai.types import ImagesResponse`` and ``import openai.types.image`` give the very objects
an eager import gives (tests/test_lazy_sdk.py compares every name). A package whose ``__init__``
does anything else loads as usual, and so does everything once ``openai`` is already imported.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

PREFIX = "openai.types"


def reexports(source: str) -> dict[str, tuple[str | None, str]] | None:
    """``{exported name: (submodule or None, name in it)}`` when ``source`` only re-exports from its own
    submodules (``from __future__`` aside); None when it does anything else (then it loads eagerly)."""
    names: dict[str, tuple[str | None, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__" and node.level == 0:
            continue
        if not isinstance(node, ast.ImportFrom) or node.level != 1 or any(a.name == "*" for a in node.names):
            return None
        for alias in node.names:
            names[alias.asname or alias.name] = (node.module, alias.name)
    return names


class _LazyPackageLoader(importlib.abc.Loader):
    def __init__(self, names: dict[str, tuple[str | None, str]]) -> None:
        self.names = names

    def create_module(self, spec):  # the default module object
        return None

    def exec_module(self, module: ModuleType) -> None:
        names, package = self.names, module.__name__

        def __getattr__(name: str):
            if name in names:
                submodule, attr = names[name]
                if submodule is None:  # `from . import x`
                    value = importlib.import_module(f"{package}.{attr}")
                else:
                    value = getattr(importlib.import_module(f"{package}.{submodule}"), attr)
            elif not name.startswith("__"):  # a submodule, as an eager import leaves it on the package
                try:
                    value = importlib.import_module(f"{package}.{name}")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{package}.{name}":
                        raise
                    raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
            else:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            setattr(module, name, value)
            return value

        def __dir__() -> list[str]:
            return sorted(set(module.__dict__) | set(names))

        module.__getattr__ = __getattr__
        module.__dir__ = __dir__


class _LazyTypesFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != PREFIX and not fullname.startswith(PREFIX + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.submodule_search_locations or not spec.origin:
            return None  # a plain module: the normal finders load it
        try:
            with open(spec.origin, encoding="utf-8") as f:
                names = reexports(f.read())
        except (OSError, SyntaxError, UnicodeDecodeError):
            return None
        if names is None:
            return None
        spec.loader = _LazyPackageLoader(names)
        return spec


def install() -> bool:
    """Register the finder (once) unless the SDK is already imported; True when it is in place."""
    if any(isinstance(f, _LazyTypesFinder) for f in sys.meta_path):
        return True
    if "openai" in sys.modules:
        return False
    sys.meta_path.insert(0, _LazyTypesFinder())
    return True
