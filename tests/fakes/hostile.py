"""A hostile fake Images API, written from the API's shape alone (it shares nothing with the simulator).

A threaded loopback HTTP server (127.0.0.1, port 0) answering ``POST /v1/images/generations`` and the
Azure route ``/openai/deployments/{dep}/images/generations``. The request's prompt picks the mode:
a prompt ``"mode:NAME ..."`` gets bad answer NAME; any other prompt gets a correct answer (a real
PNG/JPEG/WEBP of the size asked for, with sane usage). So one grid can hold good cells and bad ones.

Modes echo the key they were sent (``Authorization: Bearer …`` or ``api-key: …``) back in bodies and
headers, as a broken proxy would. ``MODES`` lists every mode with a one-line description.
"""

from __future__ import annotations

import base64
import io
import json
import re
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

DRIP_INTERVAL_S = 0.5
STALL_S = 20.0           # a stall/drip never outlives this (the server thread then gives up)
_ROUTE = re.compile(r"^(/v1|/openai/v1|/openai/deployments/[^/]+)/images/generations$")


# -- image bytes ------------------------------------------------------------------------------------

@cache
def image_bytes(size: str = "1024x1024", fmt: str = "png") -> bytes:
    """A real, complete image of ``size`` in ``fmt`` (png/jpeg/webp), small on the wire."""
    w, h = (int(v) for v in size.split("x"))
    im = Image.new("RGB", (w, h), (200, 60, 40))
    buf = io.BytesIO()
    im.save(buf, {"jpeg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG"))
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def bomb_png(side: int = 20000) -> bytes:
    """A valid 1-bit greyscale PNG of side x side pixels (tiny compressed, ~50 MB raw, 400 Mpx)."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def bad_crc_png() -> bytes:
    data = bytearray(image_bytes("1024x1024", "png"))
    data[40] ^= 0xFF  # inside the IDAT chunk
    return bytes(data)


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024"><script>alert(document.cookie)'
       b'</script><rect width="1024" height="1024" fill="red"/></svg>')


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- answers --------------------------------------------------------------------------------------

def good_body(req: dict, *, images: list[bytes] | None = None, **override) -> dict:
    """A correct Images API body for request ``req`` (override or drop fields with keywords)."""
    size = req.get("size") if req.get("size") not in (None, "auto") else "1024x1024"
    fmt = req.get("output_format") or "png"
    n = int(req.get("n") or 1)
    imgs = images if images is not None else [image_bytes(size, fmt)] * n
    body = {
        "created": 1764547200,
        "data": [{"b64_json": b64(i)} for i in imgs],
        "size": size,
        "quality": req.get("quality") if req.get("quality") not in (None, "auto") else "low",
        "background": "opaque",
        "output_format": fmt,
        "usage": {"input_tokens": 12, "output_tokens": 272 * n, "total_tokens": 12 + 272 * n,
                  "input_tokens_details": {"text_tokens": 12, "image_tokens": 0}},
    }
    for key, value in override.items():
        if value is _DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


_DROP = object()


def _usage(**fields) -> dict:
    u = {"input_tokens": 12, "output_tokens": 272, "total_tokens": 284,
         "input_tokens_details": {"text_tokens": 12, "image_tokens": 0}}
    u.update(fields)
    return u


class Answer:
    """What to send: status, headers, body bytes, and how (normally, dripping, stalling, cut short)."""

    def __init__(self, status: int = 200, body: bytes | dict | list | str = b"", headers: dict | None = None,
                 how: str = "normal") -> None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.status, self.body, self.headers, self.how = status, body, dict(headers or {}), how


def _error(status: int, message: str, *, code: str | None = None, headers: dict | None = None) -> Answer:
    return Answer(status, {"error": {"message": message, "type": "invalid_request_error", "param": None,
                                     "code": code}}, headers)


#: mode -> (description, expected "ok" for that cell, answer builder(req, key) -> Answer)
MODES: dict[str, tuple[str, bool, object]] = {}


def mode(name: str, description: str, ok: bool = False):
    def register(fn):
        MODES[name] = (description, ok, fn)
        return fn
    return register


# wrong types
mode("usage_output_str", "usage.output_tokens is a string")(
    lambda r, k: Answer(body=good_body(r, usage=_usage(output_tokens="272"))))
mode("usage_number", "usage is a number")(lambda r, k: Answer(body=good_body(r, usage=5)))
mode("usage_list", "usage is a list")(lambda r, k: Answer(body=good_body(r, usage=[272])))
mode("usage_bool", "usage.output_tokens is true")(
    lambda r, k: Answer(body=good_body(r, usage=_usage(output_tokens=True))))
mode("usage_float", "usage.output_tokens is 272.5")(
    lambda r, k: Answer(body=good_body(r, usage=_usage(output_tokens=272.5))))
mode("usage_details_str", "usage.input_tokens_details is a string")(
    lambda r, k: Answer(body=good_body(r, usage=_usage(input_tokens_details="12"))))
mode("quality_list", "quality is a list")(lambda r, k: Answer(body=good_body(r, quality=["low"])))
mode("size_object", "size is an object")(lambda r, k: Answer(body=good_body(r, size={"w": 1024, "h": 1024})))
mode("background_number", "background is a number")(lambda r, k: Answer(body=good_body(r, background=7)))
mode("format_bogus", "output_format is 'exe'")(lambda r, k: Answer(body=good_body(r, output_format="exe")))
mode("quality_mismatch", "quality resolved to 'high' for a 'low' request")(
    lambda r, k: Answer(body=good_body(r, quality="high")))
mode("size_mismatch_field", "size says 1536x1024 for a 1024x1024 request")(
    lambda r, k: Answer(body=good_body(r, size="1536x1024")))
# absurd usage
mode("usage_negative", "usage.output_tokens is -1,000,000")(
    lambda r, k: Answer(body=good_body(r, usage=_usage(output_tokens=-1_000_000))))
mode("usage_huge", "usage.output_tokens is 10**13")(
    lambda r, k: Answer(body=good_body(r, usage=_usage(output_tokens=10**13))))
mode("usage_input_huge", "usage.input_tokens is 10**13")(
    lambda r, k: Answer(body=good_body(r, usage=_usage(input_tokens=10**13))))
mode("usage_missing", "no usage at all")(lambda r, k: Answer(body=good_body(r, usage=_DROP)))
mode("usage_details_exceed", "input_tokens_details adds up to more than input_tokens")(
    lambda r, k: Answer(body=good_body(r, usage=_usage(input_tokens_details={"text_tokens": 5000,
                                                                              "image_tokens": 0}))))
mode("usage_3x", "usage bills 3x the documented tokens (plausible: accepted)", ok=True)(
    lambda r, k: Answer(body=good_body(r, usage=_usage(output_tokens=272 * 3))))
# wrong number of images
mode("data_empty", "data is []")(lambda r, k: Answer(body=good_body(r, images=[])))
mode("data_two", "data holds 2 images for n=1")(
    lambda r, k: Answer(body=good_body(r, images=[image_bytes(), image_bytes()])))
mode("data_not_list", "data is a string")(lambda r, k: Answer(body=good_body(r, data="AAAA")))
mode("b64_missing", "the image has a url, no b64_json")(
    lambda r, k: Answer(body=good_body(r, data=[{"url": "http://127.0.0.1:9/x.png"}])))
mode("b64_garbage", "b64_json is not base64")(
    lambda r, k: Answer(body=good_body(r, data=[{"b64_json": "!!not base64!!"}])))
# non-images
mode("text_image", "the image is plain text")(
    lambda r, k: Answer(body=good_body(r, images=[b"hello, this is not an image\n" * 10])))
mode("svg_script", "the image is an SVG with a <script>")(lambda r, k: Answer(body=good_body(r, images=[SVG])))
mode("html_image", "the image is an HTML page")(
    lambda r, k: Answer(body=good_body(r, images=[b"<html><body><img src=http://127.0.0.1:9/x></body></html>"])))
mode("truncated_png", "the PNG is cut in half")(
    lambda r, k: Answer(body=good_body(r, images=[image_bytes()[: len(image_bytes()) // 2]])))
mode("bad_crc_png", "a PNG chunk's CRC is wrong")(lambda r, k: Answer(body=good_body(r, images=[bad_crc_png()])))
mode("bomb", "a 20000x20000 PNG (decompression bomb)")(lambda r, k: Answer(body=good_body(r, images=[bomb_png()])))
mode("small_image", "a 256x256 image for a 1024x1024 request")(
    lambda r, k: Answer(body=good_body(r, images=[image_bytes("256x256")])))
mode("wrong_format", "a JPEG for a PNG request")(
    lambda r, k: Answer(body=good_body(r, images=[image_bytes("1024x1024", "jpeg")])))
mode("truncated_jpeg", "a JPEG cut short (JPEG request)")(
    lambda r, k: Answer(body=good_body(r, images=[image_bytes("1024x1024", "jpeg")[:-300]], output_format="jpeg")))
# bodies that are not Images API JSON
mode("not_json", "HTTP 200 with a text body")(lambda r, k: Answer(body="hello", headers={"content-type": "text/plain"}))
mode("json_array", "HTTP 200 with a JSON array")(lambda r, k: Answer(body=[1, 2, 3]))
mode("json_null", "HTTP 200 with JSON null")(lambda r, k: Answer(body="null"))
# slow and broken connections
mode("drip", "headers, then the body one byte every 0.5 s")(lambda r, k: Answer(body=good_body(r), how="drip"))
mode("drip_headers", "the status line and headers one byte every 0.5 s")(
    lambda r, k: Answer(body=good_body(r), how="drip_headers"))
mode("stall", "headers, then nothing")(lambda r, k: Answer(body=good_body(r), how="stall"))
mode("close_early", "the connection closes without an answer")(lambda r, k: Answer(how="close"))
mode("truncated_body", "Content-Length promises more than is sent, then the connection closes")(
    lambda r, k: Answer(body=good_body(r), how="truncate"))
# Retry-After
for _name, _value in (("retry_after_huge", "999999"), ("retry_after_negative", "-5"), ("retry_after_nan", "NaN"),
                      ("retry_after_inf", "inf"), ("retry_after_garbage", "soon, maybe"),
                      ("retry_after_ms_huge", None)):
    _headers = {"retry-after": _value} if _value is not None else {"retry-after-ms": "999999000"}
    mode(_name, f"HTTP 429 every time, Retry-After: {_value or 'retry-after-ms 999999000'}")(
        lambda r, k, h=_headers: _error(429, "Rate limit reached. Please retry.", code="rate_limit_exceeded",
                                        headers=h))
# echoed keys
mode("echo_key_body", "HTTP 401 whose message holds the key")(
    lambda r, k: _error(401, f"Incorrect API key provided: {k}. You can find your API key at the dashboard."))
mode("echo_bearer_body", "HTTP 400 whose message holds 'Authorization: Bearer KEY'")(
    lambda r, k: _error(400, f"Bad header. We received 'Authorization: Bearer {k}'"))
mode("echo_key_headers_error", "HTTP 500 with the key in x-request-id, x-ratelimit-* and the body")(
    lambda r, k: _error(500, f"upstream failed for key={k}", headers={"x-request-id": f"Bearer {k}",
                                                                     "x-ratelimit-limit-requests": k}))
mode("echo_key_headers_ok", "a correct answer whose headers echo the key (the cell is fine)", ok=True)(
    lambda r, k: Answer(body=good_body(r), headers={"x-request-id": k, "x-ratelimit-remaining-requests": k,
                                                    "x-ratelimit-reset": f"Bearer {k}"}))
mode("echo_key_usage", "a correct answer with the key inside usage (extra field)", ok=True)(
    lambda r, k: Answer(body=good_body(r, usage={**_usage(), "debug": f"auth={k}"})))
mode("echo_key_not_json", "HTTP 502 with a text body that holds the key")(
    lambda r, k: Answer(502, f"<html>bad gateway; upstream said api-key: {k}</html>",
                        {"content-type": "text/html"}))
# markdown / HTML in error messages
MARKDOWN = ("![x](http://127.0.0.1:9/pixel.png) :red[PAY NOW] [link](http://127.0.0.1:9/pay) "
            "<img src=http://127.0.0.1:9/i.png> **bold** :material/warning: $x^2$")
mode("markdown_error", "HTTP 400 whose message is markdown: remote image, link, red PAY NOW")(
    lambda r, k: _error(400, MARKDOWN))
mode("html_error", "HTTP 500 whose message is HTML with a script")(
    lambda r, k: _error(500, "<script>alert(1)</script><img src=http://127.0.0.1:9/x.png onerror=alert(2)>"))
mode("huge_error", "HTTP 400 with a 1 MB message")(lambda r, k: _error(400, "A" * 1_000_000))
mode("error_not_object", "HTTP 400 whose error is a string")(lambda r, k: Answer(400, {"error": "nope " * 3}))
# odd headers on a correct answer
mode("processing_ms_garbage", "a correct answer with openai-processing-ms: inf and a 100 KB x-request-id", ok=True)(
    lambda r, k: Answer(body=good_body(r), headers={"openai-processing-ms": "inf", "x-request-id": "r" * 100_000}))


# streamed answers (the request says "stream": true; Server-Sent Events as the Images API sends them)
def sse(body: dict, partials: int = 1) -> Answer:
    """A streamed answer: ``partials`` partial images, then one completed event with ``body``'s fields."""
    frames = []
    for i in range(partials):
        frames.append(("image_generation.partial_image", {"type": "image_generation.partial_image",
                                                          "b64_json": b64(image_bytes("256x256")),
                                                          "partial_image_index": i}))
    item = body["data"][0] if body.get("data") else {}
    done = {"type": "image_generation.completed", "created_at": 1764547200,
            **{k: v for k, v in body.items() if k not in ("data", "created")}, **item}
    frames.append(("image_generation.completed", done))
    text = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in frames)
    return Answer(body=text, headers={"content-type": "text/event-stream; charset=utf-8"})


mode("stream_good", "a correct streamed answer (the cell is fine)", ok=True)(lambda r, k: sse(good_body(r)))
mode("stream_usage_negative", "streamed: usage.output_tokens is -5")(
    lambda r, k: sse(good_body(r, usage=_usage(output_tokens=-5))))
mode("stream_usage_missing", "streamed: no usage in the completed event")(
    lambda r, k: sse(good_body(r, usage=_DROP)))
mode("stream_svg", "streamed: the final image is an SVG with a <script>")(
    lambda r, k: sse(good_body(r, images=[SVG])))
mode("stream_bomb", "streamed: the final image is a 20000x20000 PNG")(
    lambda r, k: sse(good_body(r, images=[bomb_png()])))
mode("stream_no_completed", "streamed: partial images, then the stream ends")(
    lambda r, k: Answer(body="event: image_generation.partial_image\ndata: {\"type\": "
                             "\"image_generation.partial_image\", \"b64_json\": \"AAAA\"}\n\n",
                        headers={"content-type": "text/event-stream"}))


# -- the server -----------------------------------------------------------------------------------

class HostileServer(ThreadingHTTPServer):
    """``server.base_url``; ``server.counts`` counts requests per mode ('good' for the others)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request, client_address) -> None:
        pass  # clients that give up mid-drip are the point of this server


def mode_of(prompt: object) -> str:
    """The mode a prompt asks for ("good" unless it starts with ``mode:NAME``)."""
    if isinstance(prompt, str) and prompt.startswith("mode:"):
        return prompt[5:].split()[0]
    return "good"


class _Handler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not _ROUTE.match(path):
            self._send(_error(404, f"no route {path}"))
            return
        try:
            req = json.loads(raw)
        except ValueError:
            req = {}
        key = self.headers.get("api-key") or (self.headers.get("authorization") or "").removeprefix("Bearer ")
        name = mode_of(req.get("prompt"))
        with self.server.lock:
            self.server.counts[name] += 1
        if name == "good":
            answer = sse(good_body(req)) if req.get("stream") else Answer(body=good_body(req))
        elif name in MODES:
            answer = MODES[name][2](req, key)
        else:
            answer = _error(400, f"unknown hostile mode {name!r}")
        self._send(answer)

    def _head(self, answer: Answer, length: int | None) -> bytes:
        lines = [f"HTTP/1.1 {answer.status} X"]
        headers = {"content-type": "application/json", **answer.headers}
        if length is not None:
            headers["content-length"] = str(length)
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _drip(self, data: bytes) -> None:
        end = time.monotonic() + STALL_S
        for i in range(len(data)):
            if time.monotonic() > end or self.server.stopping.is_set():
                break
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()
            time.sleep(DRIP_INTERVAL_S)
        self.close_connection = True

    def _send(self, answer: Answer) -> None:
        how, body = answer.how, answer.body
        if how == "close":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if how == "drip_headers":
            self._drip(self._head(answer, len(body)) + body)
            return
        self.wfile.write(self._head(answer, len(body)))
        self.wfile.flush()
        if how == "drip":
            self._drip(body)
        elif how == "stall":
            self.server.stopping.wait(STALL_S)
            self.close_connection = True
        elif how == "truncate":
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        else:
            self.wfile.write(body)
            self.wfile.flush()


def start() -> HostileServer:
    """Serve in a daemon thread; ``stop(server)`` ends it (and every drip and stall)."""
    server = HostileServer()
    bomb_png()  # built once before serving: an answer must not wait for it (the client's deadline is short)
    image_bytes()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                     name="hostile-server").start()
    return server


def stop(server: HostileServer) -> None:
    server.stopping.set()
    server.shutdown()
    server.server_close()
