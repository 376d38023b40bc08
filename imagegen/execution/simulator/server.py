"""The simulator over real HTTP on 127.0.0.1, for other processes (Playwright, manual runs).

``start(port=0)`` serves in a daemon thread and returns ``(server, base_url)``; stop it with
``stop(server)``. ``serve_forever(port)`` blocks (``python -m imagegen simulator``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from imagegen.execution.simulator.app import SimulatorApp
from imagegen.execution.simulator.config import SimulatorConfig


class SimulatorServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that owns a :class:`SimulatorApp` (``server.app``)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SimulatorApp) -> None:
        self.app = app
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address) -> None:
        """Clients that give up (timeouts, fault tests) are normal here; anything else is reported."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stall)
    server: SimulatorServer

    def log_message(self, format: str, *args) -> None:  # keep test output and terminals quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _sleep_until(self, at: float) -> bool:
        """Wait until ``at``; False when the server is shutting down."""
        wait = at - time.monotonic()
        return not (wait > 0 and self.server.app.closing.wait(wait))

    def _serve(self, method: str) -> None:
        try:
            self._answer(method)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client gave up (e.g. its timeout); nothing to answer

    def _answer(self, method: str) -> None:
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = app.handle(method, self.path, dict(self.headers.items()), body)
        if reply.action == "hang":
            app.closing.wait(reply.hang_s)
            self._drop()
            return
        if reply.action == "drop" or not self._sleep_until(reply.ready_at):
            self._drop()
            return
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.events is None:
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.flush()
        for at, chunk in reply.events:
            if not self._sleep_until(at) or not chunk:
                self._drop()
                return
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Close the socket without (the rest of) a response."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def start(port: int = 0, config: SimulatorConfig | Mapping | None = None, *, app: SimulatorApp | None = None,
          host: str = "127.0.0.1") -> tuple[SimulatorServer, str]:
    """Serve the simulator on ``host:port`` (0 = a free port) in a daemon thread -> (server, base_url)."""
    server = SimulatorServer((host, port), app or SimulatorApp(config))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="imagegen-simulator",
                     daemon=True).start()
    return server, server.base_url


def stop(server: SimulatorServer) -> None:
    """Stop serving, release hung requests and close the socket."""
    server.app.closing.set()
    server.shutdown()
    server.server_close()


def serve_forever(port: int = 8765, config: SimulatorConfig | Mapping | None = None, host: str = "127.0.0.1") -> None:
    """Serve in the foreground until interrupted."""
    server = SimulatorServer((host, port), SimulatorApp(config))
    try:
        server.serve_forever()
    finally:
        server.app.closing.set()
        server.server_close()
