"""A total deadline per attempt: connect, headers and body, even against a server that drips bytes.

httpx's timeouts bound each socket operation, not the whole request: a server that sends one byte
every 0.5 s never trips a 10 s read timeout, and holds the cell (and a concurrency slot) forever.
Here every socket operation of the attempt is bounded by what is left of the attempt's deadline
(a context variable set around the SDK call, so nothing extra goes over the wire), and an
operation that starts after the deadline fails at once with a timeout. The SDK maps that to
``openai.APITimeoutError`` like any other timeout.

Use :func:`deadline_http_client` for the SDK's ``http_client`` and :func:`attempt_deadline` around
each call. A caller-supplied client (tests' ``httpx2.MockTransport``) has no sockets to bound.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore2
import httpx2
import openai

_deadline: ContextVar[float | None] = ContextVar("imagegen_attempt_deadline", default=None)


@contextmanager
def attempt_deadline(seconds: float | None) -> Iterator[None]:
    """Every socket operation inside the block ends by ``seconds`` from now (None: no deadline)."""
    token = _deadline.set(None if seconds is None else time.monotonic() + max(0.0, float(seconds)))
    try:
        yield
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the attempt's total deadline (timeout_s) passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore2.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _bounded(timeout, httpcore2.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore2.NetworkBackend):
    """A network backend whose every connect/read/write respects the current attempt's deadline."""

    def __init__(self, inner: httpcore2.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore2.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore2.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _bounded(timeout, httpcore2.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable | None = None) -> httpcore2.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _bounded(timeout, httpcore2.ConnectTimeout),
                                                               socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineHttpxClient(openai.DefaultHttpxClient):  # type: ignore[misc, valid-type]
    """The SDK's default client, closed when dropped like the SDK's own (no sockets left open)."""

    def __del__(self) -> None:
        try:
            if not self.is_closed:
                self.close()
        except Exception:  # noqa: S110 - interpreter shutdown; nothing to report to
            pass


def deadline_http_client() -> httpx2.Client:
    """An ``httpx2.Client`` as the openai SDK builds by default, whose sockets obey :func:`attempt_deadline`."""
    client = DeadlineHttpxClient()
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):  # pragma: no cover - httpx2 internals moved
        raise RuntimeError("httpx2's transport has no connection pool to bound; update deadline.py")
    pool._network_backend = DeadlineBackend(pool._network_backend)
    return client
