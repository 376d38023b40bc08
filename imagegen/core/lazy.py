"""Heavy third-party modules, imported on first use instead of at import time.

``pd = lazy_module("pandas")`` gives an object whose first attribute access imports pandas;
a module that needs pandas only in some functions then costs nothing to import (the CLI's
``runs`` and ``run`` never pay for pandas this way).
"""

from __future__ import annotations

import importlib
from types import ModuleType


class _LazyModule:
    """Stands in for a module until an attribute is read; then imports it (once) and delegates."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str):
    """A stand-in for ``import name`` that imports on first attribute access."""
    return _LazyModule(name)
