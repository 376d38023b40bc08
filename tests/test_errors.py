"""The error hierarchy: documented in one docstring, every project error in it, kinds shared."""

import ast
import importlib
import inspect
import pkgutil
import sqlite3

import pytest

import imagegen
from imagegen import errors
from imagegen.errors import ERROR_KINDS, ErrorKind, ImagegenError, LayoutError, ProviderError
from imagegen.execution.simulator.config import FAULT_KINDS, FaultRule


def _all_modules():
    for info in pkgutil.walk_packages(imagegen.__path__, "imagegen."):
        if info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


def test_every_project_error_is_defined_in_errors_and_drawn_in_its_docstring():
    defined_elsewhere = []
    for module in _all_modules():
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and module.__name__ != "imagegen.errors":
                cls = getattr(module, node.name, None)
                if isinstance(cls, type) and issubclass(cls, ImagegenError):
                    defined_elsewhere.append(f"{module.__name__}.{node.name}")
    assert defined_elsewhere == []
    subclasses = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, ImagegenError)]
    assert len(subclasses) >= 11
    for cls in subclasses:
        assert cls.__name__ in errors.__doc__, f"{cls.__name__} is missing from the hierarchy in errors.py"
        assert cls.__doc__, cls.__name__


def test_error_kinds_are_an_enum_with_the_stored_values():
    assert ERROR_KINDS == ("rate_limited", "moderation", "auth", "not_found", "bad_request", "timeout",
                           "connection", "server_error", "bad_response", "internal", "interrupted")
    assert ErrorKind.RATE_LIMITED == "rate_limited" and f"{ErrorKind.TIMEOUT}" == "timeout"
    err = ProviderError("rate_limited", "slow down")
    assert err.kind is ErrorKind.RATE_LIMITED and err.retryable
    assert not ProviderError(ErrorKind.AUTH, "no").retryable and ProviderError("bad_request", "x", status=409).retryable
    with pytest.raises(ValueError):
        ProviderError("rate_limit", "an unknown kind is a bug")
    db = sqlite3.connect(":memory:")  # the history stores the plain value
    assert db.execute("SELECT ?", (ErrorKind.MODERATION,)).fetchone() == ("moderation",)


def test_simulator_faults_use_the_providers_names():
    assert "rate_limited" in FAULT_KINDS and "rate_limit" not in FAULT_KINDS
    assert FaultRule("rate_limit").kind == "rate_limited"  # older specs keep working
    shared = {k for k in FAULT_KINDS if k in ERROR_KINDS}
    assert shared == {"rate_limited", "server_error", "moderation", "auth", "not_found", "bad_request"}


def test_layout_errors_are_still_value_errors():
    assert issubclass(LayoutError, ValueError) and issubclass(LayoutError, ImagegenError)
