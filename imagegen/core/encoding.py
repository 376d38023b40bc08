"""The o200k_base text encoding, loaded once, offline, and only when text is first counted.

Counting needs only bpe-openai's Rust binding (~0.06 s to build the encoding). Importing the
``bpe_openai`` package itself costs ~0.6 s more, because its ``__init__`` parses every encoding
it ships to build a tiktoken-style registry; so the binding is loaded on its own, and the package
is the fallback when that is not possible.

The build holds the GIL (measured: a thread spinning meanwhile gets 0.011 s of CPU in the 0.089 s
it takes), so loading it in a background thread gains nothing: it was measured slower to a run's
first request (2026-12-01, quiet machine, 12 paired runs: 0.418 s with it, 0.398 s without).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_loaded: Any = None


def encoding() -> Any:
    """o200k_base (``.encode(text) -> token ids``), loaded on the first call.

    Thread-safe: a second caller waits for the first load (Streamlit reruns count from several
    threads).
    """
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded = _load()
    return _loaded


def _load() -> Any:
    try:
        return _bpe_binding().tokenizer_for_encoding("o200k_base")
    except (ImportError, OSError, AttributeError):  # pragma: no cover - a different bpe-openai build
        import bpe_openai

        return bpe_openai.get_encoding("o200k_base")


def _bpe_binding() -> Any:
    """``bpe_openai._bindings`` without running the package's ``__init__`` (see the module docstring)."""
    name = "bpe_openai._bindings"
    if name in sys.modules:
        return sys.modules[name]
    package = importlib.util.find_spec("bpe_openai")
    if package is None or not package.submodule_search_locations:
        raise ImportError("bpe-openai is not installed. Fix: pip install -r requirements.txt")
    for folder in package.submodule_search_locations:
        for path in sorted(Path(folder).glob("_bindings*.so")) + sorted(Path(folder).glob("_bindings*.pyd")):
            loader = importlib.machinery.ExtensionFileLoader(name, str(path))
            spec = importlib.util.spec_from_file_location(name, str(path), loader=loader)
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
            sys.modules[name] = module  # the package's own import finds the same module later
            return module
    raise ImportError(f"no bpe-openai binding in {package.submodule_search_locations}")
