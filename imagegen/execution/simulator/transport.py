"""In-process transport: the openai SDK talks to :class:`SimulatorApp` with no socket.

It behaves like the network would: a response that takes longer than the request's read
timeout raises ``httpx2.ReadTimeout`` after that timeout, a ``hang`` fault does the same, a
``drop`` raises ``httpx2.RemoteProtocolError``, and streamed bodies are produced lazily, so the
time to the first partial image is real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx2

from imagegen.execution.simulator.app import Reply, SimulatorApp


def _read_timeout(request: httpx2.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read")
    return float(value) if value is not None else None


def _wait_until(at: float, request: httpx2.Request, timeout: float | None) -> None:
    """Sleep until ``at``; raise ReadTimeout after ``timeout`` s if that comes first (as a socket would)."""
    wait = at - time.monotonic()
    if timeout is not None and wait > timeout:
        time.sleep(timeout)
        raise httpx2.ReadTimeout(f"simulator: no data within the read timeout of {timeout:g} s", request=request)
    if wait > 0:
        time.sleep(wait)


def _stream(reply: Reply, request: httpx2.Request, timeout: float | None) -> Iterator[bytes]:
    assert reply.events is not None
    for at, chunk in reply.events:
        _wait_until(at, request, timeout)
        if not chunk:  # the simulator's "stream_drop": the peer goes away mid-body
            raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body",
                                             request=request)
        yield chunk


def make_handler(app: SimulatorApp):
    """An ``httpx2.MockTransport`` handler that drives ``app``."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = request.read()
        target = request.url.raw_path.decode("ascii")
        reply = app.handle(request.method, target, dict(request.headers), body)
        timeout = _read_timeout(request)
        if reply.action == "hang":
            wait = timeout if timeout is not None else reply.hang_s
            app.closing.wait(wait)
            raise httpx2.ReadTimeout(f"simulator: no answer within the read timeout of {wait:g} s", request=request)
        if reply.action == "drop":
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        _wait_until(reply.ready_at, request, timeout)
        if reply.events is not None:
            return httpx2.Response(reply.status, headers=reply.headers, content=_stream(reply, request, timeout))
        return httpx2.Response(reply.status, headers=reply.headers, content=reply.body)

    return handler


class SimulatorTransport(httpx2.MockTransport):
    """``httpx2.MockTransport`` bound to a :class:`SimulatorApp` (exposed as ``.app``)."""

    def __init__(self, app: SimulatorApp) -> None:
        super().__init__(make_handler(app))
        self.app = app


def http_client(app: SimulatorApp, **kwargs) -> httpx2.Client:
    """An ``httpx2.Client`` that reaches ``app`` in-process (pass it as the SDK's ``http_client``)."""
    return httpx2.Client(transport=SimulatorTransport(app), **kwargs)
