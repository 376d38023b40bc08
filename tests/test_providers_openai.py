"""OpenAI (and compatible) provider: the real openai SDK over loopback HTTP against the simulator.

Asserts what reaches the server (path, auth, body), what a Generation records, and how every
fault is sorted into a ProviderError kind.
"""

from __future__ import annotations

import io
import time

import openai
import pytest
from PIL import Image

from imagegen.core.request import ImageRequest
from imagegen.errors import ProviderError
from imagegen.execution.providers import make_provider
from imagegen.execution.providers.openai_api import OpenAIProvider
from imagegen.execution.providers.sdk import parse_retry_after, translate_error
from imagegen.execution.settings import load_settings
from imagegen.execution.simulator import SimulatorApp, SimulatorConfig, fault_header
from imagegen.execution.simulator.render import render
from imagegen.execution.simulator.transport import http_client

KEY = "sk-test-key-1234abcd"


@pytest.fixture
def provider(sim_http, no_dotenv):
    app, url = sim_http
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"{url}/v1", "OPENAI_ORG_ID": "org-test",
           "OPENAI_PROJECT_ID": "proj_test"}
    return make_provider(load_settings(env=env, dotenv_path=no_dotenv)), app


def req(**kw) -> ImageRequest:
    base = {"model": "gpt-image-1", "prompt": "a red fox", "provider": "compatible", "quality": "low",
            "size": "1024x1024"}
    return ImageRequest(**{**base, **kw})


def test_generate_1536x1024_high_png_exact_wire_and_result(provider):
    p, app = provider
    assert isinstance(p, OpenAIProvider) and p.name == "compatible"
    g = p.generate(req(size="1536x1024", quality="high", output_format="png"), timeout=10)
    assert app.request_count == 1
    seen = app.requests[0]
    assert (seen.method, seen.path, seen.query) == ("POST", "/v1/images/generations", {})
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.headers["openai-organization"] == "org-test" and seen.headers["openai-project"] == "proj_test"
    assert seen.headers["x-stainless-retry-count"] == "0"
    assert seen.body == {"model": "gpt-image-1", "prompt": "a red fox", "size": "1536x1024", "quality": "high",
                         "background": "auto", "output_format": "png", "n": 1, "moderation": "auto"}
    img = Image.open(io.BytesIO(g.images[0]))
    assert (img.format, img.size) == ("PNG", (1536, 1024))
    assert g.usage["output_tokens"] == 6208
    assert (g.resolved_quality, g.resolved_size, g.resolved_background, g.output_format) == \
        ("high", "1536x1024", "opaque", "png")
    # the original bytes, never re-encoded
    assert g.images[0] == render("a red fox", 1536, 1024, "high", "png", None, False)
    assert g.simulated is True  # the simulator's x-simulator header marks it even as a "compatible" endpoint
    assert g.request_id.startswith("req_") and g.processing_ms >= 1
    assert g.ratelimit["x-ratelimit-limit-requests"] and "x-ratelimit-remaining-tokens" in g.ratelimit
    assert 0 < g.final_s <= g.wall_s and g.first_partial_s is None


def test_jpeg_compression_and_transparency_through_the_sdk(provider):
    p, _ = provider
    small = p.generate(req(output_format="jpeg", output_compression=30, quality="medium"), timeout=10)
    large = p.generate(req(output_format="jpeg", output_compression=90, quality="medium"), timeout=10)
    assert small.images[0][:3] == b"\xff\xd8\xff" and len(large.images[0]) > 1.5 * len(small.images[0])
    clear = p.generate(req(background="transparent", output_format="png"), timeout=10)
    assert Image.open(io.BytesIO(clear.images[0])).mode == "RGBA" and clear.resolved_background == "transparent"


def test_streaming_records_partials_and_times(provider):
    p, app = provider
    g = p.generate(req(stream=True, partial_images=2), timeout=10)
    assert app.requests[-1].body["stream"] is True and app.requests[-1].body["partial_images"] == 2
    assert g.partial_images_received == 2
    assert g.first_partial_s is not None and 0 < g.first_partial_s <= g.final_s <= g.wall_s
    assert g.usage["output_tokens"] == 272 + 200
    assert g.images[0][:8] == b"\x89PNG\r\n\x1a\n" and g.resolved_quality == "low"


def test_edit_sends_multipart_with_the_original_files(provider):
    p, app = provider
    src = render("input photo", 1024, 1536, "low", "png")
    g = p.generate(req(operation="edit", input_images=((1024, 1536),), input_fidelity="low", prompt="add a hat"),
                   timeout=10, input_files=(src,))
    seen = app.requests[-1]
    assert seen.path == "/v1/images/edits" and seen.headers["content-type"].startswith("multipart/form-data")
    assert seen.body["prompt"] == "add a hat" and seen.body["model"] == "gpt-image-1"
    assert "moderation" not in seen.body  # edits take no moderation parameter
    assert [(f.field, f.content_type, f.size_bytes, f.dimensions) for f in seen.files] == \
        [("image", "image/png", len(src), (1024, 1536))]
    assert g.usage["input_tokens_details"]["image_tokens"] == 323
    two = p.generate(req(operation="edit", input_images=((1024, 1536), (1024, 1536))), timeout=10,
                     input_files=(src, src))
    assert [f.field for f in app.requests[-1].files] == ["image[]", "image[]"] and two.images


FAULTS = [
    # (header, stream, kind, status, extra check)
    ("rate_limit; retry_after=2.5", False, "rate_limited", 429, lambda e: e.retry_after == 2.5),
    ("server_error", False, "server_error", 500, None),
    ("unavailable", False, "server_error", 503, None),
    ("hang", False, "timeout", None, None),
    ("hang", True, "timeout", None, None),
    ("drop", False, "connection", None, None),
    ("stream_drop", True, "connection", None, None),
    ("malformed", False, "bad_response", 200, None),
    ("malformed", True, "bad_response", None, None),
    ("bad_image", False, "bad_response", 200, None),
    ("moderation; categories=violence", False, "moderation", 400,
     lambda e: (e.stage, e.categories, e.code) == ("input", ("violence",), "moderation_blocked")),
    ("moderation_output; categories=sexual", False, "moderation", 400,
     lambda e: (e.stage, e.categories) == ("output", ("sexual",))),
    ("moderation_output", True, "moderation", None, lambda e: e.stage == "output"),
    ("content_filter", False, "moderation", 400, lambda e: (e.stage, e.code) == ("input", "contentFilter")),
    ("content_filter_output", False, "moderation", 400, lambda e: e.stage == "output"),
    ("content_policy_violation; categories=hate", False, "moderation", 400, lambda e: e.categories == ("hate",)),
    ("forbidden", False, "moderation", 403, lambda e: e.code == "Forbidden"),
    ("auth", False, "auth", 401, lambda e: "OPENAI_API_KEY" in e.message),
    ("not_found", False, "not_found", 404, None),
    ("bad_request", False, "bad_request", 400, None),
    ("stream_error", True, "server_error", None, None),
]


@pytest.mark.parametrize(("header", "stream", "kind", "status", "check"), FAULTS,
                         ids=[f"{f[0].split(';')[0]}{'-stream' if f[1] else ''}" for f in FAULTS])
def test_every_fault_kind_becomes_a_provider_error(provider, header, stream, kind, status, check):
    p, app = provider
    r = req(stream=stream, partial_images=1 if stream else 0)
    start = time.perf_counter()
    with pytest.raises(ProviderError) as info:
        p.generate(r, timeout=0.4, extra_headers=fault_header(*header.split(";", 1)[:1],
                                                               **_params(header)))
    err = info.value
    assert err.kind == kind and err.status == status
    assert app.request_count == 1  # the SDK's retries are off: one attempt reached the server
    if status is not None:  # an HTTP error answered by the simulator is marked simulated, even via "compatible"
        assert err.simulated
    assert err.message and "simulator" in err.message or "endpoint" in err.message
    if check is not None:
        assert check(err), err
    assert err.retryable == (kind in ("rate_limited", "timeout", "connection", "server_error"))
    if kind == "timeout":
        assert 0.35 < time.perf_counter() - start < 2.0


def _params(header: str) -> dict:
    out = {}
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        out[key] = value
    return out


def test_wrong_key_is_an_auth_error_naming_the_variable():
    app = SimulatorApp(SimulatorConfig(fixed_latency_s=0, api_key="the-right-key"))
    p = OpenAIProvider("sk-wrong-key-0000", base_url="http://sim.invalid/v1", http_client=http_client(app))
    with pytest.raises(ProviderError) as info:
        p.generate(req(), timeout=5)
    assert info.value.kind == "auth" and "OPENAI_API_KEY" in info.value.message
    assert "sk-wrong-key-0000" not in info.value.message
    assert app.requests[0].headers["authorization"] == "Bearer sk-wrong-key-0000"


def test_connection_refused_is_a_connection_error():
    p = OpenAIProvider("sk-x", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ProviderError) as info:
        p.generate(req(), timeout=2)
    assert info.value.kind == "connection" and info.value.retryable


def test_names_and_default_endpoint():
    assert OpenAIProvider("sk-x").name == "openai" and OpenAIProvider("sk-x").base_url == "https://api.openai.com/v1"
    assert OpenAIProvider("sk-x", base_url="http://localhost:1234/v1").name == "compatible"
    assert OpenAIProvider("sk-x").client.max_retries == 0


def test_parse_retry_after():
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def _status_error(status: int, body: dict, headers: dict | None = None) -> openai.APIStatusError:
    import httpx2

    request = httpx2.Request("POST", "http://x/v1/images/generations")
    response = httpx2.Response(status, json=body, headers=headers or {}, request=request)
    client = openai.OpenAI(api_key="k", base_url="http://x/v1")
    return client._make_status_error_from_response(response)


@pytest.mark.parametrize(("status", "body", "kind", "retryable"), [
    (408, {"error": {"message": "timeout"}}, "timeout", True),
    (409, {"error": {"message": "conflict"}}, "server_error", True),
    (422, {"error": {"message": "bad"}}, "bad_request", False),
    (403, {"error": {"message": "no access", "code": "permission_denied"}}, "auth", False),
    (400, {"error": {"message": "filtered", "code": "content_filter"}}, "moderation", False),
    (502, {"error": {"message": "bad gateway"}}, "server_error", True),
])
def test_status_translation(status, body, kind, retryable):
    err = translate_error(_status_error(status, body, {"x-request-id": "req_1"}), where="test")
    assert (err.kind, err.status, err.retryable, err.request_id) == (kind, status, retryable, "req_1")
    assert any(word in err.message for word in ("Fix", "retry", "Check", "Rephrase"))


def test_close_closes_the_clients_connections():
    from imagegen.execution.providers.openai_api import OpenAIProvider

    provider = OpenAIProvider("test-key-not-real", base_url="http://127.0.0.1:9/v1")
    assert not provider.client.is_closed()
    provider.close()
    provider.close()  # idempotent
    assert provider.client.is_closed()
