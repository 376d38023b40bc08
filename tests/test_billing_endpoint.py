"""The test billing endpoint bills what it received in full, and nothing else."""

import json
import socket
from decimal import Decimal

import httpx2 as httpx

from tests.billing_endpoint import BillingEndpoint


def test_a_complete_request_is_billed_once():
    endpoint = BillingEndpoint(latency_s=0).start()
    try:
        body = {"model": "gpt-image-1-mini", "prompt": "a red fox", "quality": "low", "size": "1024x1024"}
        r = httpx.post(f"{endpoint.base_url}/images/generations", json=body, timeout=10)
        assert r.status_code == 200
        assert endpoint.requests == 1 and endpoint.incomplete == 0
        # 3 words at $2/1M + 272 image tokens at $8/1M
        assert endpoint.billed_usd == Decimal(3 * 2 + 272 * 8) / 1_000_000
    finally:
        endpoint.stop()


def test_a_body_cut_off_by_a_killed_client_is_not_billed():
    # kill -9 while the SDK writes the body: the headers promise more bytes than ever arrive.
    endpoint = BillingEndpoint(latency_s=0).start()
    try:
        host, port = endpoint.base_url.split("//")[1].split("/")[0].split(":")
        payload = json.dumps({"model": "gpt-image-1-mini", "prompt": "a red fox"}).encode()
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
                      b"content-length: %d\r\n\r\n" % len(payload) + payload[:10])
            s.shutdown(socket.SHUT_WR)
            s.recv(1024)
        assert endpoint.requests == 0 and endpoint.billed_usd == 0
        assert endpoint.incomplete == 1
    finally:
        endpoint.stop()
