"""Requests-per-minute limiting: a small token bucket, and the ideal schedule it allows.

``TokenBucket(rpm, burst)`` hands out *start times*: ``reserve()`` takes a token (the balance may go
negative, which is a queue of callers) and returns how long the caller must wait before sending.
With ``burst=1`` requests are spaced evenly ``60 / rpm`` seconds apart, which also keeps inside
Azure's 10-second sub-windows. The clock is injectable so tests are exact and instant.

``ideal_wall_s`` is the lower bound a perfect runner could reach for ``n`` requests of a fixed
latency under a concurrency cap and the same bucket; the tests and ``bench/bench_runner.py``
measure the runner against it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucket:
    """A thread-safe token bucket measured in requests per minute."""

    def __init__(self, rpm: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rpm <= 0:
            raise ValueError(f"rpm={rpm!r} must be positive")
        if burst < 1:
            raise ValueError(f"burst={burst!r} must be at least 1")
        self.rpm = float(rpm)
        self.burst = int(burst)
        self.interval = 60.0 / self.rpm
        self._clock = clock
        self._tokens = float(self.burst)
        self._updated = clock()
        self._paused_until = float("-inf")
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) / self.interval)
            self._updated = now

    def reserve(self) -> float:
        """Take the next token; return the seconds to wait before using it (0 when free now)."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            wait = -self._tokens * self.interval if self._tokens < 0 else 0.0
            return max(wait, self._paused_until - now, 0.0)

    def defer(self, seconds: float) -> None:
        """Hold every later start for ``seconds`` (a server's Retry-After applies to the whole quota)."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._paused_until = max(self._paused_until, now + max(0.0, seconds))
            self._tokens = min(self._tokens, 0.0)  # no burst right after the pause

    def acquire(self, cancel: threading.Event | None = None) -> bool:
        """Block until a token may be used; False when ``cancel`` was set while waiting."""
        wait = self.reserve()
        if wait <= 0:
            return not (cancel is not None and cancel.is_set())
        if cancel is None:
            time.sleep(wait)
            return True
        return not cancel.wait(wait)


def ideal_wall_s(n: int, latency_s: float, concurrency: int, rpm: float | None = None, burst: int = 1) -> float:
    """Shortest possible wall time for ``n`` requests of ``latency_s`` each.

    Request ``i`` (0-based) cannot start before its token exists, ``max(0, i - burst + 1) * 60 / rpm``
    seconds in, nor before request ``i - concurrency`` has finished. With equal latencies this greedy
    schedule is optimal, so it is a true lower bound; without an rpm it is ``ceil(n / c) * latency``.
    """
    if n <= 0:
        return 0.0
    if rpm is None:
        return math.ceil(n / concurrency) * latency_s
    interval = 60.0 / rpm
    ends: list[float] = []
    for i in range(n):
        start = max(0, i - burst + 1) * interval
        if i >= concurrency:
            start = max(start, ends[i - concurrency])
        ends.append(start + latency_s)
    return max(ends)
