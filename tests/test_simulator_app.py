"""The simulator's handler: routes, validation like the real API, usage, auto resolution, streams,
faults, latency model and the request log (no sockets, no SDK: see test_providers_* for those)."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from decimal import Decimal

import httpx2
import pytest
from PIL import Image

from imagegen.core.catalog import default_catalog
from imagegen.core.grid import loads_spec
from imagegen.core.tokens import count_text_tokens
from imagegen.errors import ConfigError
from imagegen.execution.simulator import FAULT_KINDS, FaultRule, SimulatorApp, SimulatorConfig, fault_header
from imagegen.execution.simulator.app import parse_multipart

AUTH = {"authorization": "Bearer sk-test", "content-type": "application/json"}
FAST = SimulatorConfig(fixed_latency_s=0.0)


@pytest.fixture(scope="module")
def app():
    return SimulatorApp(FAST)


def post(app: SimulatorApp, path: str, body: dict, headers: dict | None = None):
    reply = app.handle("POST", path, {**AUTH, **(headers or {})}, json.dumps(body).encode())
    if reply.events is not None:
        return reply, [c for _, c in reply.events]
    return reply, json.loads(reply.body) if reply.body else None


def gen(app, headers=None, path="/v1/images/generations", **body):
    body.setdefault("model", "gpt-image-1")
    body.setdefault("prompt", "a red fox")
    return post(app, path, body, headers)


def _image(payload) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(payload["data"][0]["b64_json"])))
    img.load()
    return img


def test_gpt_image_1_1536x1024_high_png(app):
    reply, payload = gen(app, size="1536x1024", quality="high", output_format="png")
    assert reply.status == 200
    assert payload["usage"]["output_tokens"] == 6208
    text = count_text_tokens("a red fox")
    assert payload["usage"]["input_tokens_details"] == {"text_tokens": text, "image_tokens": 0}
    assert payload["usage"]["total_tokens"] == 6208 + text
    assert {k: payload[k] for k in ("quality", "size", "background", "output_format")} == \
        {"quality": "high", "size": "1536x1024", "background": "opaque", "output_format": "png"}
    img = _image(payload)
    assert (img.format, img.size) == ("PNG", (1536, 1024))
    for header in ("x-request-id", "openai-processing-ms", "x-ratelimit-limit-requests",
                   "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"):
        assert reply.headers[header]


@pytest.mark.parametrize(("quality", "size", "tokens"), [
    ("low", "1024x1024", 272), ("medium", "1024x1536", 1584), ("high", "1024x1024", 4160), ("low", "1536x1024", 400),
])
def test_usage_follows_the_token_table(app, quality, size, tokens):
    _, payload = gen(app, quality=quality, size=size, n=2)
    assert payload["usage"]["output_tokens"] == 2 * tokens and len(payload["data"]) == 2


def test_gpt_image_2_usage_from_its_formula(app):
    _, payload = gen(app, model="gpt-image-2", quality="low", size="1024x1024")
    assert payload["usage"]["output_tokens"] == 196


def test_auto_resolution(app):
    _, p = gen(app)  # everything auto
    assert (p["quality"], p["size"], p["background"]) == ("high", "1024x1024", "opaque")
    assert p["usage"]["output_tokens"] == 4160  # auto -> high, as the Replicate logs show
    _, p = gen(app, prompt="a wide landscape of mountains")
    assert p["size"] == "1536x1024"
    _, p = gen(app, prompt="縦長のポスター")
    assert p["size"] == "1024x1536"
    _, p = gen(app, prompt="a logo on a transparent background")
    assert p["background"] == "transparent" and _image(p).mode == "RGBA"
    _, p = gen(app, prompt="a logo on a transparent background", output_format="jpeg")
    assert p["background"] == "opaque"


def test_azure_auto_quality_follows_the_azure_default(app):
    reply, p = post(app, "/openai/deployments/gpt-image-1-mini/images/generations?api-version=2025-04-01-preview",
                    {"prompt": "x"}, {"api-key": "k"})
    assert reply.status == 200 and p["quality"] == "medium"


def test_transparent_png_has_alpha_and_jpeg_compression_changes_size(app):
    _, p = gen(app, background="transparent", output_format="png", quality="low")
    assert _image(p).mode == "RGBA"
    _, p30 = gen(app, output_format="jpeg", output_compression=30, quality="medium")
    _, p90 = gen(app, output_format="jpeg", output_compression=90, quality="medium")
    assert len(p90["data"][0]["b64_json"]) > 1.5 * len(p30["data"][0]["b64_json"])


@pytest.mark.parametrize(("body", "param"), [
    ({"background": "transparent", "output_format": "jpeg"}, "background"),
    ({"quality": "standard"}, "quality"),
    ({"quality": "hd"}, "quality"),
    ({"size": "512x512"}, "size"),
    ({"size": "1792x1024"}, "size"),
    ({"partial_images": 2}, "partial_images"),
    ({"stream": True, "partial_images": 4}, "partial_images"),
    ({"n": 11}, "n"),
    ({"n": "2"}, "n"),
    ({"output_compression": 50, "output_format": "png"}, "output_compression"),
    ({"output_compression": 101, "output_format": "jpeg"}, "output_compression"),
    ({"moderation": "high"}, "moderation"),
    ({"response_format": "url"}, "response_format"),
    ({"style": "vivid"}, "style"),
    ({"colour": "red"}, "colour"),
    ({"input_fidelity": "high"}, "input_fidelity"),
    ({"prompt": ""}, "prompt"),
    ({"prompt": "x" * 32_001}, "prompt"),
    ({"model": "gpt-image-2.6-flare", "background": "transparent"}, "background"),
    ({"model": "gpt-image-1", "complexity": "high"}, "complexity"),
    ({"model": "gpt-image-2", "size": "1000x1000"}, "size"),
    ({"model": "gpt-image-1", "quality": "xhigh"}, "quality"),
])
def test_invalid_combinations_answer_400_like_the_api(app, body, param):
    reply, payload = gen(app, **body)
    assert reply.status == 400
    err = payload["error"]
    assert err["param"] == param and err["type"] == "invalid_request_error" and err["message"]


def test_azure_routes_refuse_webp(app):
    reply, payload = post(app, "/openai/deployments/gpt-image-1.5/images/generations?api-version=2025-04-01-preview",
                          {"prompt": "x", "output_format": "webp"}, {"api-key": "k"})
    assert reply.status == 400 and "webp" in payload["error"]["message"]
    reply, payload = post(app, "/openai/v1/images/generations", {"model": "gpt-image-1.5", "prompt": "x",
                                                                 "output_format": "webp"})
    assert reply.status == 400
    reply, _ = gen(app, output_format="webp")  # OpenAI accepts it
    assert reply.status == 200


def test_every_catalog_model_is_served_shut_down_ones_included(app):
    catalog = default_catalog()
    for model_id in catalog.models:
        reply, payload = gen(app, model=model_id, quality="low", size="1024x1024")
        assert reply.status == 200, (model_id, payload)
    reply, _ = gen(app, model="gpt-image-1-2025-04-15", quality="low")  # dated alias
    assert reply.status == 200
    reply, payload = gen(app, model="dall-e-4")
    assert reply.status == 404 and payload["error"]["code"] == "model_not_found"


def test_streaming_events_and_usage(app):
    reply, chunks = gen(app, stream=True, partial_images=2, quality="low")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/event-stream")
    events = [(c.split(b"\n")[0].decode(), json.loads(c.split(b"data: ", 1)[1])) for c in chunks]
    assert [name for name, _ in events] == ["event: image_generation.partial_image"] * 2 + \
        ["event: image_generation.completed"]
    assert [d["partial_image_index"] for _, d in events[:2]] == [0, 1]
    done = events[-1][1]
    assert done["type"] == "image_generation.completed"
    assert done["usage"]["output_tokens"] == 272 + 2 * 100  # +100 per partial image
    assert (done["quality"], done["size"]) == ("low", "1024x1024")
    for _, d in events:
        assert base64.b64decode(d["b64_json"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_stream_events_are_produced_lazily_and_on_schedule():
    app = SimulatorApp(SimulatorConfig(fixed_latency_s=0.2))
    start = time.monotonic()
    reply = app.handle("POST", "/v1/images/generations", AUTH, json.dumps(
        {"model": "gpt-image-1", "prompt": "x", "stream": True, "partial_images": 3, "quality": "low"}).encode())
    assert reply.events is not None and reply.ready_at - start < 0.1  # headers go out at once
    times = [at - start for at, _ in reply.events]
    assert len(times) == 4
    assert times == sorted(times)
    assert times[0] == pytest.approx(0.05, abs=0.03) and times[-1] == pytest.approx(0.2, abs=0.03)


def _multipart(fields: dict, files: list[tuple[str, str, bytes, str]]):
    req = httpx2.Request("POST", "http://x/v1/images/edits", data=fields,
                         files=[(name, (fn, data, mime)) for name, fn, data, mime in files])
    return dict(req.headers), req.read()


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (10, 20, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_edit_multipart_counts_input_image_tokens(app):
    headers, body = _multipart({"model": "gpt-image-1", "prompt": "add a hat", "quality": "low",
                                "input_fidelity": "high", "n": "1"},
                               [("image[]", "a.png", _png(1024, 1024), "image/png"),
                                ("image[]", "b.png", _png(1024, 1536), "image/png")])
    reply = app.handle("POST", "/v1/images/edits", {**headers, "authorization": "Bearer k"}, body)
    assert reply.status == 200, reply.body
    usage = json.loads(reply.body)["usage"]
    # first image high fidelity: 194 + 4160; second image low: 2 tiles = 323
    assert usage["input_tokens_details"]["image_tokens"] == 194 + 4160 + 323
    rec = app.requests[-1]
    assert rec.operation == "edits" and rec.body["prompt"] == "add a hat"
    assert [(f.field, f.filename, f.dimensions) for f in rec.files] == \
        [("image[]", "a.png", (1024, 1024)), ("image[]", "b.png", (1024, 1536))]


@pytest.mark.parametrize(("fields", "files", "param"), [
    ({"model": "gpt-image-1-mini", "prompt": "x", "input_fidelity": "high"}, True, "input_fidelity"),
    ({"model": "gpt-image-1", "prompt": "x"}, False, "image"),
    ({"model": "gpt-image-1", "prompt": "x", "moderation": "low"}, True, "moderation"),
    ({"model": "gpt-image-1", "prompt": "x", "n": "many"}, True, "n"),
])
def test_edit_validation(app, fields, files, param):
    images = [("image", "a.png", _png(64, 64), "image/png")] if files else []
    headers, body = _multipart(fields, images)
    reply = app.handle("POST", "/v1/images/edits", {**headers, "authorization": "Bearer k"}, body)
    assert reply.status == 400 and json.loads(reply.body)["error"]["param"] == param


def test_edit_with_an_undecodable_image_is_refused(app):
    headers, body = _multipart({"model": "gpt-image-1", "prompt": "x"}, [("image", "a.png", b"nope", "image/png")])
    reply = app.handle("POST", "/v1/images/edits", {**headers, "authorization": "Bearer k"}, body)
    assert reply.status == 400 and json.loads(reply.body)["error"]["code"] == "invalid_image_format"


def test_parse_multipart_keeps_binary_bytes():
    data = bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
    headers, body = _multipart({"prompt": "p"}, [("image", "x.bin", data, "application/octet-stream")])
    fields, files = parse_multipart(body, headers["content-type"])
    assert fields == {"prompt": "p"} and files[0][3] == data


def test_azure_classic_route_api_version_and_deployments():
    app = SimulatorApp(SimulatorConfig(fixed_latency_s=0, deployments={"my-images": "gpt-image-1.5"}))
    path = "/openai/deployments/my-images/images/generations"
    reply, p = post(app, path + "?api-version=2025-04-01-preview", {"prompt": "x", "quality": "low"}, {"api-key": "k"})
    assert reply.status == 200 and reply.headers["apim-request-id"]
    assert app.requests[-1].deployment == "my-images" and app.requests[-1].flavour == "azure"
    reply, p = post(app, path, {"prompt": "x"}, {"api-key": "k"})
    assert reply.status == 404 and "api-version" in p["error"]["message"]
    reply, p = post(app, path + "?api-version=2024-10-21", {"prompt": "x"}, {"api-key": "k"})
    assert reply.status == 400 and "2025-04-01-preview" in p["error"]["message"]
    reply, p = post(app, "/openai/deployments/nope/images/generations?api-version=2025-04-01-preview",
                    {"prompt": "x"}, {"api-key": "k"})
    assert reply.status == 404 and p["error"]["code"] == "DeploymentNotFound"
    reply, p = post(app, "/openai/v1/images/generations", {"model": "my-images", "prompt": "x", "quality": "low"},
                    {"api-key": "k"})
    assert reply.status == 200 and app.requests[-1].flavour == "azure_v1"


def test_auth():
    app = SimulatorApp(SimulatorConfig(fixed_latency_s=0, api_key="right-key"))
    body = json.dumps({"model": "gpt-image-1", "prompt": "x", "quality": "low"}).encode()
    assert app.handle("POST", "/v1/images/generations", {}, body).status == 401
    assert app.handle("POST", "/v1/images/generations", {"authorization": "Bearer wrong"}, body).status == 401
    assert app.handle("POST", "/v1/images/generations", {"authorization": "Bearer right-key"}, body).status == 200
    assert app.handle("POST", "/openai/v1/images/generations", {"api-key": "right-key"}, body).status == 200


def test_request_log_records_path_headers_body_and_outcome(app):
    app.reset()
    gen(app, quality="low", headers={"x-custom": "1"})
    gen(app, headers=fault_header("server_error"))
    assert app.request_count == 2
    first, second = app.requests
    assert first.path == "/v1/images/generations" and first.headers["x-custom"] == "1"
    assert first.body == {"model": "gpt-image-1", "prompt": "a red fox", "quality": "low"}
    assert (first.status, first.fault) == (200, None)
    assert (second.status, second.fault) == (500, "server_error")


def test_request_counter_is_thread_safe():
    app = SimulatorApp(FAST)
    body = json.dumps({"model": "gpt-image-1", "prompt": "x", "quality": "low"}).encode()

    def worker():
        for _ in range(10):
            app.handle("POST", "/v1/images/generations", AUTH, body)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert app.request_count == 80 and all(r.status == 200 for r in app.requests)


def test_fault_rules_by_prompt_fail_n_times_then_succeed():
    app = SimulatorApp(SimulatorConfig(fixed_latency_s=0, faults=[
        {"kind": "rate_limit", "match": "FOX", "times": 2, "retry_after": 0.25},
        {"kind": "server_error", "match": "owl", "model": "gpt-image-1-mini"},
    ]))
    statuses = [gen(app, prompt="a red fox", quality="low")[0] for _ in range(3)]
    assert [r.status for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["retry-after"] == "0.25" and statuses[0].headers["retry-after-ms"] == "250"
    assert gen(app, prompt="an owl", quality="low")[0].status == 200  # other model
    assert gen(app, prompt="an owl", model="gpt-image-1-mini", quality="low")[0].status == 500
    assert gen(app, prompt="an owl", model="gpt-image-1-mini", quality="low")[0].status == 500  # always


@pytest.mark.parametrize(("header", "status", "check"), [
    ("rate_limit; retry_after=3", 429, lambda p, h: h["retry-after"] == "3"),
    ("server_error", 500, lambda p, h: p["error"]["type"] == "server_error"),
    ("server_error; status=502", 502, lambda p, h: True),
    ("unavailable", 503, lambda p, h: True),
    ("moderation; categories=violence,self-harm", 400, lambda p, h: p["error"]["code"] == "moderation_blocked"
     and p["error"]["moderation_details"] == {"moderation_stage": "input", "categories": ["violence", "self-harm"]}),
    ("moderation_output", 400, lambda p, h: p["error"]["moderation_details"]["moderation_stage"] == "output"),
    ("content_filter", 400, lambda p, h: p["error"]["code"] == "contentFilter" and "task failed" in
     p["error"]["message"]),
    ("content_filter_output", 400, lambda p, h: "Generated image was filtered" in p["error"]["message"]),
    ("content_policy_violation", 400, lambda p, h: p["error"]["inner_error"]["code"] == "ResponsibleAIPolicyViolation"),
    ("forbidden", 403, lambda p, h: p["error"]["code"] == "Forbidden"),
    ("auth", 401, lambda p, h: p["error"]["code"] == "invalid_api_key"),
    ("not_found", 404, lambda p, h: p["error"]["code"] == "model_not_found"),
    ("bad_request", 400, lambda p, h: True),
])
def test_fault_header_answers(app, header, status, check):
    reply = app.handle("POST", "/v1/images/generations", {**AUTH, "x-simulator-fault": header},
                       json.dumps({"model": "gpt-image-1", "prompt": "x", "quality": "low"}).encode())
    assert reply.status == status
    assert check(json.loads(reply.body), reply.headers)


def test_fault_actions_and_bodies(app):
    body = json.dumps({"model": "gpt-image-1", "prompt": "x", "quality": "low"}).encode()

    def handle(kind, **extra):
        return app.handle("POST", "/v1/images/generations", {**AUTH, **fault_header(kind)},
                          json.dumps({**json.loads(body), **extra}).encode())

    assert handle("hang").action == "hang" and handle("drop").action == "drop"
    with pytest.raises(ValueError):
        json.loads(handle("malformed").body)
    bad = json.loads(handle("bad_image").body)["data"][0]["b64_json"]
    with pytest.raises(ValueError):
        base64.b64decode(bad, validate=True)
    chunks = [c for _, c in handle("stream_error", stream=True).events]
    assert b"event: error" in chunks[-1] and b"server_error" in chunks[-1]
    chunks = [c for _, c in handle("stream_drop", stream=True, partial_images=1).events]
    assert chunks[-1] == b""  # the transport/server drop the connection here
    chunks = [c for _, c in handle("moderation_output", stream=True, partial_images=1).events]
    assert b"partial_image" in chunks[0] and b"moderation_blocked" in chunks[-1]


def test_unknown_fault_names_the_allowed_kinds(app):
    reply = app.handle("POST", "/v1/images/generations", {**AUTH, "x-simulator-fault": "meteor"},
                       json.dumps({"model": "gpt-image-1", "prompt": "x"}).encode())
    assert reply.status == 400 and "rate_limit" in json.loads(reply.body)["error"]["message"]
    with pytest.raises(ConfigError, match="hang"):
        FaultRule("meteor")


def test_latency_is_proportional_to_output_tokens_and_includes_render_time():
    cfg = SimulatorConfig(time_scale=0.002, tokens_per_s=100.0, overhead_s=2.0, jitter=0.0)
    app = SimulatorApp(cfg)
    for quality, tokens in (("low", 272), ("high", 6208)):
        start = time.monotonic()
        reply, _ = gen(app, quality=quality, size="1536x1024" if quality == "high" else "1024x1024")
        expected = (2.0 + tokens / 100.0) * 0.002
        assert reply.ready_at - start == pytest.approx(expected, abs=0.01)
        assert int(reply.headers["openai-processing-ms"]) == round(expected * 1000)


def test_rpm_limit_answers_429_with_a_wait():
    app = SimulatorApp(SimulatorConfig(fixed_latency_s=0, rpm_limit=2))
    statuses = [gen(app, quality="low")[0] for _ in range(3)]
    assert [r.status for r in statuses] == [200, 200, 429]
    assert 0 < float(statuses[2].headers["retry-after"]) <= 60
    assert [r.headers["x-ratelimit-remaining-requests"] for r in statuses[:2]] == ["1", "0"]


def test_unknown_route_and_health(app):
    reply = app.handle("POST", "/v1/images/variations", AUTH, b"{}")
    assert reply.status == 404 and "Invalid URL" in json.loads(reply.body)["error"]["message"]
    reply = app.handle("GET", "/", {}, b"")
    assert reply.status == 200 and json.loads(reply.body)["simulator"] is True
    reply = app.handle("POST", "/v1/images/generations", AUTH, b"{not json")
    assert reply.status == 400


def test_config_from_a_grid_spec_table():
    spec = loads_spec("""
provider = "simulator"
model = "gpt-image-1"
prompts = ["a fox"]
[simulator]
time_scale = 0.01
tokens_per_s = 150.5
faults = [{ kind = "429", match = "fox", times = 2, retry_after = 0.5 }, { kind = "moderation_output" }]
deployments = { pics = "gpt-image-1.5" }
rpm_limit = 30
""")
    cfg = SimulatorConfig.from_dict(spec.simulator)
    assert cfg.time_scale == 0.01 and cfg.tokens_per_s == 150.5 and cfg.rpm_limit == 30
    assert cfg.faults[0] == FaultRule("rate_limit", match="fox", times=2, retry_after=0.5)
    assert cfg.faults[1].kind == "moderation" and cfg.faults[1].stage == "output"
    assert cfg.deployment_map == {"pics": "gpt-image-1.5"}
    hash(cfg)
    assert SimulatorConfig.from_dict({"fixed_latency_s": Decimal("0.5")}).fixed_latency_s == 0.5
    with pytest.raises(ConfigError, match="unknown key"):
        SimulatorConfig.from_dict({"speed": 2})
    with pytest.raises(ConfigError, match="time_scale"):
        SimulatorConfig(time_scale=-1)
    assert set(FAULT_KINDS) >= {"rate_limited", "hang", "drop", "malformed", "moderation", "content_filter",
                                "auth", "not_found", "server_error", "unavailable"}


def test_edit_stream_uses_image_edit_events_and_n_images(app):
    headers, body = _multipart({"model": "gpt-image-1", "prompt": "x", "quality": "low", "stream": "true",
                                "partial_images": "1", "n": "2"}, [("image", "a.png", _png(64, 64), "image/png")])
    reply = app.handle("POST", "/v1/images/edits", {**headers, "authorization": "Bearer k"}, body)
    names = [c.split(b"\n")[0] for _, c in reply.events]
    assert names == [b"event: image_edit.partial_image", b"event: image_edit.completed"] * 2
