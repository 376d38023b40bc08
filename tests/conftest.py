"""Shared fixtures: the Images API simulator over loopback HTTP, and clean settings inputs."""

from __future__ import annotations

import pytest

from imagegen.execution.simulator import SimulatorConfig
from imagegen.execution.simulator.server import start, stop


@pytest.fixture(scope="session")
def sim_server():
    """One loopback HTTP simulator for the session (answers after 10 ms; hangs end after 3 s).

    Azure deployments: ``my-images`` -> gpt-image-1.5, ``cheap`` -> gpt-image-1-mini.
    """
    config = SimulatorConfig(fixed_latency_s=0.01, hang_s=3.0,
                             deployments={"my-images": "gpt-image-1.5", "cheap": "gpt-image-1-mini"})
    server, url = start(0, config)
    yield server
    stop(server)


@pytest.fixture
def sim_http(sim_server):
    """``(app, base_url)`` of the session's loopback simulator, with an empty request log."""
    sim_server.app.reset()
    return sim_server.app, sim_server.base_url


@pytest.fixture
def no_dotenv(tmp_path):
    """A .env path that does not exist, so settings tests never read the checkout's .env."""
    return tmp_path / "absent.env"
