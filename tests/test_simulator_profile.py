"""The simulator's own profile: equal to the catalog where facts are documented or measured, its own
assumptions where the catalog is uncertain, a deterministic content spread, acceptance and latency."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal

import pytest

from imagegen.core.catalog import load_catalog
from imagegen.core.pricing import Usage, cost_of
from imagegen.core.tokens import token_figure
from imagegen.execution.simulator import SimulatorApp
from imagegen.execution.simulator.profile import (
    PROFILE_PATH,
    default_profile,
    image_tokens,
    load_profile,
    modelled_latency_s,
    spread_factor,
)

CATALOG = load_catalog()
PROFILE = default_profile()
AUTH = {"authorization": "Bearer test-key-not-real", "content-type": "application/json"}


def gen(app: SimulatorApp, **body):
    body = {"model": "gpt-image-1", "prompt": "a red fox", **body}
    reply = app.handle("POST", "/v1/images/generations", AUTH, json.dumps(body).encode())
    return reply, json.loads(reply.body) if reply.body else None


@pytest.fixture
def app():
    return SimulatorApp({"fixed_latency_s": 0.0, "jitter": 0.0})


def _sizes(model) -> list[str]:
    return list(model.size_values())


def test_every_catalog_model_has_a_usage_rule():
    assert set(PROFILE.usage) == set(CATALOG.models)


def test_profile_equals_the_catalog_where_the_catalog_is_documented_or_measured():
    checked = 0
    for mid, model in CATALOG.models.items():
        tm = CATALOG.token_model(model)
        sim = PROFILE.usage_for(mid)
        for quality in model.qualities:
            for size in _sizes(model):
                fig = token_figure(tm, quality, size)
                if fig.status in ("documented", "measured") and sim.spread.get(quality, 0) == 0:
                    assert token_figure(sim.token_model, quality, size).tokens == fig.tokens, (mid, quality, size)
                    checked += 1
    assert checked >= 30  # the gpt-image-1 table, gpt-image-2's cell, the 2.5 measurements


def test_profile_makes_its_own_assumption_where_the_catalog_assumes():
    for mid in ("gpt-image-2.5-flare", "gpt-image-2.5-sunburst"):
        for quality in ("medium", "xhigh"):
            catalog = token_figure(CATALOG.token_model(CATALOG.model(mid)), quality, "1024x1024")
            simulated = token_figure(PROFILE.usage_for(mid).token_model, quality, "1024x1024")
            assert catalog.status == "assumed" and simulated.tokens != catalog.tokens
            assert catalog.low <= simulated.tokens <= catalog.high  # inside the catalog's range


def test_measured_cells_are_exact_and_assumed_ones_spread_deterministically_per_prompt():
    prompts = [f"prompt {i}" for i in range(20)]
    high = {image_tokens(PROFILE, "gpt-image-2.5-flare", "high", "1024x1024", p) for p in prompts}
    assert high == {1756}
    medium = [image_tokens(PROFILE, "gpt-image-2.5-flare", "medium", "1024x1024", p) for p in prompts]
    assert len(set(medium)) > 5  # content-dependent
    assert medium == [image_tokens(PROFILE, "gpt-image-2.5-flare", "medium", "1024x1024", p) for p in prompts]
    base = token_figure(PROFILE.usage_for("gpt-image-2.5-flare").token_model, "medium", "1024x1024").tokens
    assert all(abs(t - base) <= 0.15 * base + 1 for t in medium)


def test_spread_factor_bounds():
    values = [spread_factor(f"p{i}", 0.2) for i in range(200)]
    assert all(0.8 <= v <= 1.2 for v in values) and min(values) < 0.9 and max(values) > 1.1
    assert spread_factor("anything", 0.0) == 1.0


def test_latency_per_model_reproduces_the_third_party_max_figures():
    assert modelled_latency_s(PROFILE, "gpt-image-2.5-flare", 7024) == pytest.approx(46.0, abs=0.1)
    assert modelled_latency_s(PROFILE, "gpt-image-2.5-sunburst", 7024) == pytest.approx(80.6, abs=0.1)
    assert modelled_latency_s(PROFILE, "gpt-image-1", 1330) == pytest.approx(12.0)  # the default prior
    # a config rate overrides every model
    assert modelled_latency_s(PROFILE, "gpt-image-2.5-sunburst", 100, tokens_per_s=100.0, overhead_s=0.0) == 1.0


def test_simulator_bills_from_the_profile_not_the_catalog(app):
    _, body = gen(app, model="gpt-image-2.5-flare", quality="max", size="1024x1024")
    assert body["usage"]["output_tokens"] == 7024
    _, body = gen(app, model="gpt-image-2.5-flare", quality="medium", size="1024x1024", prompt="a red fox")
    catalog_point = token_figure(CATALOG.token_model(CATALOG.model("gpt-image-2.5-flare")), "medium", "1024x1024")
    assert body["usage"]["output_tokens"] == image_tokens(PROFILE, "gpt-image-2.5-flare", "medium", "1024x1024",
                                                          "a red fox")
    assert body["usage"]["output_tokens"] != catalog_point.tokens


def test_simulator_follows_an_edited_profile(tmp_path):
    path = tmp_path / "profile.toml"
    shutil.copy(PROFILE_PATH, path)
    text = path.read_text(encoding="utf-8").replace('high = { "1024x1024" = 4160,', 'high = { "1024x1024" = 5000,')
    path.write_text(text, encoding="utf-8")
    edited = SimulatorApp({"fixed_latency_s": 0.0}, profile=load_profile(path))
    _, body = gen(edited, quality="high", size="1024x1024")
    assert body["usage"]["output_tokens"] == 5000


def test_partial_images_bill_each_streamed_partial(app):
    body = {"model": "gpt-image-2", "prompt": "a fox", "quality": "low", "size": "1024x1024", "n": 2,
            "stream": True, "partial_images": 2}
    reply = app.handle("POST", "/v1/images/generations", AUTH, json.dumps(body).encode())
    events = [c for _, c in reply.events]
    partials = [e for e in events if b"partial_image" in e.split(b"\n")[0]]
    completed = json.loads(events[-1].split(b"data: ", 1)[1])
    assert len(partials) == 4 and completed["usage"]["output_tokens"] == 2 * 196 + 4 * 100


@pytest.mark.parametrize("model", ["gpt-image-1.5", "chatgpt-image-latest"])
def test_text_output_details_are_sent_and_priced_at_the_text_output_rate(app, model):
    _, body = gen(app, model=model, quality="medium", size="1024x1024")
    usage = body["usage"]
    details = usage["output_tokens_details"]
    assert details["text_tokens"] == PROFILE.text_output[model] > 0
    assert details["image_tokens"] == 1056 and usage["output_tokens"] == 1056 + details["text_tokens"]
    price = CATALOG.price_for(model, "openai", date(2026, 11, 30))
    cost = cost_of(Usage.from_api(usage), price)
    assert cost.text_output == Decimal(details["text_tokens"]) * price.text_output / Decimal(1_000_000)
    assert cost.image_output == Decimal(1056) * price.image_output / Decimal(1_000_000)


def test_models_without_text_output_send_no_details(app):
    _, body = gen(app, model="gpt-image-2", quality="low", size="1024x1024")
    assert "output_tokens_details" not in body["usage"]


def test_edit_input_on_2_x_bills_the_measured_1024_tokens(app):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1024, 1024), "white").save(buf, "PNG")
    boundary = "xyz"
    parts = []
    for k, v in {"model": "gpt-image-2", "prompt": "make it blue", "quality": "low", "size": "1024x1024"}.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
                 'Content-Type: image/png\r\n\r\n'.encode() + buf.getvalue() + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {**AUTH, "content-type": f"multipart/form-data; boundary={boundary}"}
    reply = app.handle("POST", "/v1/images/edits", headers, body)
    usage = json.loads(reply.body)["usage"]
    assert usage["input_tokens_details"]["image_tokens"] == 1024  # not 4,354 (tiles + surcharge)


def test_transparent_accepted_on_2_5_and_gpt_image_2(app):
    for model in ("gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-2"):
        reply, body = gen(app, model=model, background="transparent", output_format="png", quality="low",
                          size="1024x1024")
        assert reply.status == 200 and body["background"] == "transparent", model


def test_complexity_accepted_on_2_6_and_slower_when_higher():
    app = SimulatorApp({"jitter": 0.0})
    fast = SimulatorApp({"fixed_latency_s": 0.0})
    for c in ("low", "medium", "high"):
        reply, body = gen(fast, model="gpt-image-2.6-flare", quality="high", size="1024x1024", complexity=c)
        assert reply.status == 200 and body["usage"]["output_tokens"] == 1756  # no extra charge
    assert app.modelled_latency_s("gpt-image-2.6-flare", 1756, "low") < app.modelled_latency_s(
        "gpt-image-2.6-flare", 1756, "high")


def test_complexity_refused_on_models_without_it(app):
    reply, body = gen(app, model="gpt-image-2", complexity="low")
    assert reply.status == 400 and body["error"]["param"] == "complexity"


def test_gif_and_svg_are_refused_without_access_and_served_with_it(app):
    reply, body = gen(app, model="gpt-image-2.6-flare", output_format="gif", quality="low", size="1024x1024")
    assert reply.status == 400 and body["error"]["code"] == "preview_access_required"
    granted = SimulatorApp({"fixed_latency_s": 0.0, "access": ["gif", "svg"]})
    import base64

    reply, body = gen(granted, model="gpt-image-2.6-flare", output_format="gif", frame_count=3, quality="low",
                      size="1024x1024")
    assert reply.status == 200 and base64.b64decode(body["data"][0]["b64_json"])[:6] == b"GIF89a"
    reply, body = gen(granted, model="gpt-image-2.6-flare", output_format="svg", quality="low", size="1024x1024")
    assert reply.status == 200 and base64.b64decode(body["data"][0]["b64_json"]).startswith(b"<svg ")


def test_2_6_refuses_custom_sizes_and_2_accepts_them(app):
    reply, _ = gen(app, model="gpt-image-2.6-flare", size="2048x1152", quality="low")
    assert reply.status == 400
    reply, body = gen(app, model="gpt-image-2", size="2048x1152", quality="low")
    assert reply.status == 200 and body["size"] == "2048x1152"


def test_a_broken_profile_names_the_file_and_fix(tmp_path):
    path = tmp_path / "profile.toml"
    path.write_text('[latency.default]\ntokens_per_s = 1\n', encoding="utf-8")
    from imagegen.errors import CatalogError

    with pytest.raises(CatalogError, match="profile.toml"):
        load_profile(path)


def test_a_measured_cell_is_billed_exactly_even_where_its_quality_spreads():
    """2.6 low spreads (no published figure at most sizes), but its measured 1536x1024 cell (664) is exact."""
    prompts = [f"prompt {i}" for i in range(20)]
    assert PROFILE.usage_for("gpt-image-2.6-flare").spread["low"] > 0
    assert {image_tokens(PROFILE, "gpt-image-2.6-flare", "low", "1536x1024", p) for p in prompts} == {664}
    assert len({image_tokens(PROFILE, "gpt-image-2.6-flare", "low", "1024x1024", p) for p in prompts}) > 5
