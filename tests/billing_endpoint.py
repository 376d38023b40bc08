"""A loopback Images API endpoint of our own that counts and bills every request (not the simulator).

It shares nothing with ``imagegen`` (no catalog, no pricing code): it answers
``POST /v1/images/generations`` with a real PNG of the requested size and a ``usage`` block, and keeps
its own ledger: every request it receives, keyed by (model, prompt, quality, size), and what it billed,
from its own price list (gpt-image-1-mini list prices per 1M tokens, copied from the OpenAI pricing page:
text input $2, image output $8) and its own output-token table (the documented gpt-image-1 family
table for 1024x1024: low 272, medium 1056, high 4160; input tokens = the prompt's words, never more than
a BPE count). A request is billed when it is *received*, as a provider bills the generation even if the
client dies before the answer arrives. A request whose body never fully arrived (the client was killed
while sending it) is answered 400 and not billed: there is nothing to generate from.

    endpoint = BillingEndpoint(latency_s=0.05, bill_factor=1).start()   # endpoint.base_url -> ".../v1"
    endpoint.counts        # Counter of (model, prompt, quality, size) -> requests received
    endpoint.billed_usd    # Decimal: what it billed in total
    endpoint.stop()
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import threading
import time
from collections import Counter
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRICE_PER_M = {"text_input": Decimal("2.00"), "image_output": Decimal("8.00")}
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160}


def _png(size: str, shade: int) -> bytes:
    from PIL import Image

    w, h = (int(x) for x in size.lower().split("x"))
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (shade * 13 % 256, shade * 7 % 256, 90)).save(buf, "PNG")
    return buf.getvalue()


class BillingEndpoint:
    """The endpoint and its ledger (thread-safe)."""

    def __init__(self, latency_s: float = 0.05, bill_factor: int = 1) -> None:
        self.latency_s = latency_s
        self.bill_factor = bill_factor
        self.counts: Counter[tuple[str, str, str, str]] = Counter()
        self.billed_usd = Decimal(0)
        self.incomplete = 0   # requests whose body never fully arrived (not billed)
        self.lock = threading.Lock()
        self._pngs: dict[tuple[str, int], bytes] = {}
        self._server: ThreadingHTTPServer | None = None

    @property
    def requests(self) -> int:
        """Requests received (and billed)."""
        with self.lock:
            return sum(self.counts.values())

    def _bill(self, body: dict) -> dict:
        quality = body.get("quality") or "high"
        out = OUTPUT_TOKENS.get(quality, OUTPUT_TOKENS["high"]) * self.bill_factor
        key = (str(body.get("model")), str(body.get("prompt")), quality, str(body.get("size")))
        words = max(1, len(str(body.get("prompt")).split()))
        cost = (words * PRICE_PER_M["text_input"] + out * PRICE_PER_M["image_output"]) / 1_000_000
        with self.lock:
            self.counts[key] += 1
            self.billed_usd += cost
            n = sum(self.counts.values())
        return {"n": n, "quality": quality,
                "usage": {"input_tokens": words, "output_tokens": out, "total_tokens": words + out,
                          "input_tokens_details": {"text_tokens": words, "image_tokens": 0}}}

    def _image(self, size: str, n: int) -> bytes:
        key = (size, n % 8)
        with self.lock:
            cached = self._pngs.get(key)
        if cached is None:
            cached = _png(size, n % 8)
            with self.lock:
                self._pngs[key] = cached
        return cached

    def start(self) -> BillingEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if not self.path.endswith("/images/generations"):
                    self.send_error(404)
                    return
                try:
                    body = json.loads(raw) if len(raw) == length else None
                except ValueError:
                    body = None
                if not isinstance(body, dict) or not body.get("prompt") or not body.get("model"):
                    # A client killed while sending leaves a truncated body: nothing to generate, so a
                    # provider cannot bill it (it answers 400). Counted apart, never as a cell.
                    with endpoint.lock:
                        endpoint.incomplete += 1
                    with contextlib.suppress(OSError):  # the client is gone
                        self.send_error(400, "incomplete request body")
                    return
                billed = endpoint._bill(body)
                time.sleep(endpoint.latency_s)
                size = body.get("size") or "1024x1024"
                data = endpoint._image(size, billed["n"])
                payload = json.dumps({
                    "created": int(time.time()), "data": [{"b64_json": base64.b64encode(data).decode()}],
                    "usage": billed["usage"], "quality": billed["quality"], "size": size,
                    "output_format": "png", "background": "opaque"}).encode()
                try:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.send_header("x-request-id", f"req_billing_{billed['n']}")
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client died: it was billed anyway
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
