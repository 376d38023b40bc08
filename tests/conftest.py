"""Shared fixtures: the Images API simulator over loopback HTTP, clean settings inputs, the pinned date.

``IMAGEGEN_TEST_CLOCK=+400d`` (days from now), ``=2028-01-01`` or an ISO date-time (UTC) moves the wall clock of the whole
session there with time-machine, still ticking: CI runs the suite a second time that way to prove no
result depends on the day the tests run (every date that matters is pinned).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta

import pytest

from imagegen.execution.simulator import SimulatorConfig
from imagegen.execution.simulator.server import start, stop
from tests.clock import TODAY

CLOCK_ENV = "IMAGEGEN_TEST_CLOCK"


def _clock_target(raw: str) -> datetime:
    """``+400d`` (that many days from now), an ISO date (noon UTC) or an ISO date-time (UTC unless given)."""
    text = raw.strip()
    if text.startswith("+") and text.endswith("d") and text[1:-1].isdigit():
        return datetime.now(UTC) + timedelta(days=int(text[1:-1]))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise pytest.UsageError(f"{CLOCK_ENV}={raw!r} is not +Nd, an ISO date or an ISO date-time. "
                                "Fix: use e.g. +400d, 2028-01-01 or 2028-01-01T23:30:00+00:00.") from None
    if len(raw.strip()) == 10:
        moment = datetime.combine(moment.date(), time(12, 0))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def travel(raw: str):
    """``(traveller, target)``: a ticking time-machine traveller to ``raw``'s moment (not started).

    The process's time zone is kept: time-machine is given a POSIX timestamp, because for a UTC datetime it
    also sets TZ=UTC, which would hide local-time bugs (``TZ=Asia/Tokyo`` before 09:00 ran in UTC).
    """
    import time_machine

    target = _clock_target(raw)
    return time_machine.travel(target.timestamp(), tick=True), target


def pytest_configure(config):
    raw = os.environ.get(CLOCK_ENV, "").strip()
    if raw:
        traveller, target = travel(raw)
        traveller.start()
        config.stash[_TRAVELLER] = (traveller, target)


def pytest_unconfigure(config):
    found = config.stash.get(_TRAVELLER, None)
    if found is not None:
        found[0].stop()


def pytest_report_header(config):
    found = config.stash.get(_TRAVELLER, None)
    if found is not None:
        return (f"wall clock moved to {found[1].isoformat()} ({CLOCK_ENV}); now {datetime.now(UTC).isoformat()}, "
                f"local {datetime.now().astimezone().isoformat()}")
    return None


_TRAVELLER = pytest.StashKey[tuple]()


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    """Every entry point a test drives (CLI main, page setup, CLI subprocesses) works on TODAY, never the clock.

    A test about another date sets IMAGEGEN_TODAY itself (or passes the date to the function).
    """
    monkeypatch.setenv("IMAGEGEN_TODAY", TODAY.isoformat())
    return TODAY


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


@pytest.fixture(autouse=True)
def _registered_secrets_per_test():
    """Each test starts with the secrets registered before it, and leaves none behind.

    The registry is process-wide by design (a key loaded once is redacted everywhere after); across tests
    that leaks: a test that swaps key and URL registers "https://api.openai.com/v1" as a key, and a later
    test's page then shows the default URL as [REDACTED].
    """
    from imagegen import redaction

    with redaction._lock:
        saved = set(redaction._secrets)
    yield
    with redaction._lock:
        redaction._secrets.clear()
        redaction._secrets.update(saved)
