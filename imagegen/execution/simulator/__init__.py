"""A local implementation of the Images API (OpenAI and Azure routes) for demos and tests.

In-process through :mod:`imagegen.execution.simulator.transport`, or over HTTP with
:mod:`imagegen.execution.simulator.server` (``python -m imagegen simulator --port N``).
"""

from __future__ import annotations

from imagegen.execution.simulator.app import FAULT_HEADER, RecordedRequest, Reply, SimulatorApp, fault_header
from imagegen.execution.simulator.config import FAULT_KINDS, FaultRule, SimulatorConfig

__all__ = ["FAULT_HEADER", "FAULT_KINDS", "FaultRule", "RecordedRequest", "Reply", "SimulatorApp",
           "SimulatorConfig", "fault_header"]
