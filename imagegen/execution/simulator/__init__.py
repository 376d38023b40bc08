"""A local implementation of the Images API (OpenAI and Azure routes) for demos and tests.

In-process through :mod:`imagegen.execution.simulator.transport`, or over HTTP with
:mod:`imagegen.execution.simulator.server` (``python -m imagegen simulator --port N``).
"""

from __future__ import annotations

from importlib import import_module

from imagegen.execution.simulator.config import FAULT_ALIASES, FAULT_KINDS, FaultRule, SimulatorConfig

_APP_NAMES = ("FAULT_HEADER", "RecordedRequest", "Reply", "SimulatorApp", "fault_header")


def __getattr__(name: str):
    # The app (numpy, Pillow for the rendered images) loads on first use: the CLI and the pages
    # import this package for its config, and a run on a real provider never needs the app.
    if name in _APP_NAMES:
        value = getattr(import_module("imagegen.execution.simulator.app"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["FAULT_ALIASES", "FAULT_HEADER", "FAULT_KINDS", "FaultRule", "RecordedRequest", "Reply", "SimulatorApp",
           "SimulatorConfig", "fault_header"]
