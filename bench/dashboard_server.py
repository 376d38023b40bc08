"""`streamlit run dashboard.py` on a free loopback port, for the page bench and the browser tests.

    with serve_dashboard(env) as base_url:   # http://127.0.0.1:PORT, healthy
        ...

One place for the command line (headless, no file watcher, no usage stats), the free port and the
health wait, used by ``bench/bench_pages.py`` and ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ok(url: str, timeout: float = 60.0) -> None:
    """Return once ``url`` answers 200; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s")


def streamlit_command(port: int) -> list[str]:
    """The dashboard's command line on ``port`` (loopback, headless, no file watcher, no usage stats)."""
    return [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.address", "127.0.0.1",
            "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false"]


@contextmanager
def serve_dashboard(env: Mapping[str, str], *, cwd: Path = ROOT, log: IO | None = None) -> Iterator[str]:
    """Run the dashboard with ``env`` until the block ends; yields its base URL once it is healthy."""
    port = free_port()
    out = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(streamlit_command(port), cwd=cwd, env=dict(env), stdout=out,
                            stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL)
    try:
        wait_ok(f"http://127.0.0.1:{port}/_stcore/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
