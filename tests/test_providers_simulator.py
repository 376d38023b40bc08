"""The simulator as a provider: the default with no key, in-process timing/faults, flavours, loopback."""

from __future__ import annotations

import threading
import time

import pytest

from imagegen.core.request import ImageRequest
from imagegen.errors import ProviderError
from imagegen.execution.providers import SimulatorProvider, make_provider, make_simulator_provider
from imagegen.execution.settings import load_settings
from imagegen.execution.simulator import SimulatorConfig, fault_header


def req(**kw) -> ImageRequest:
    base = {"model": "gpt-image-1", "prompt": "a red fox", "quality": "low", "size": "1024x1024"}
    return ImageRequest(**{**base, **kw})


def test_no_key_anywhere_gives_the_in_process_simulator_and_it_says_so(no_dotenv):
    settings = load_settings(env={}, secrets={}, dotenv_path=no_dotenv)
    provider = make_provider(settings, simulator=SimulatorConfig(fixed_latency_s=0))
    assert isinstance(provider, SimulatorProvider)
    assert (provider.name, provider.simulated) == ("simulator", True)
    assert provider.describe() == {"provider": "simulator", "simulated": True, "flavour": "openai",
                                   "endpoint": "in-process simulator"}
    assert settings.describe()["simulated"] and "simulator" in settings.describe()["note"]
    g = provider.generate(req(size="1536x1024", quality="high"), timeout=10)
    assert g.simulated and g.usage["output_tokens"] == 6208
    assert provider.app.request_count == 1 and provider.app.requests[0].path == "/v1/images/generations"


def test_make_provider_accepts_a_plain_dict_config(no_dotenv):
    provider = make_provider(load_settings(env={}, dotenv_path=no_dotenv), simulator={"fixed_latency_s": 0.0})
    assert provider.config.fixed_latency_s == 0.0


@pytest.mark.parametrize(("flavour", "path", "query"), [
    ("openai", "/v1/images/generations", {}),
    ("azure", "/openai/deployments/gpt-image-1/images/generations", {"api-version": "2025-04-01-preview"}),
    ("azure_v1", "/openai/v1/images/generations", {}),
])
def test_flavours_reach_their_routes(flavour, path, query):
    p = make_simulator_provider({"fixed_latency_s": 0}, flavour)
    g = p.generate(req(), timeout=5)
    seen = p.app.requests[-1]
    assert (seen.path, seen.query) == (path, query) and g.simulated


def test_azure_flavour_sends_a_mapped_deployment():
    p = make_simulator_provider({"fixed_latency_s": 0, "deployments": {"pics": "gpt-image-1.5"}}, "azure")
    p.generate(req(model="gpt-image-1.5", deployment="pics", provider="azure"), timeout=5)
    assert p.app.requests[-1].path == "/openai/deployments/pics/images/generations"


def test_in_process_hang_times_out_after_the_request_timeout():
    p = make_simulator_provider({"fixed_latency_s": 0}, extra_headers=fault_header("hang"))
    start = time.perf_counter()
    with pytest.raises(ProviderError) as info:
        p.generate(req(), timeout=0.2)
    assert info.value.kind == "timeout" and 0.18 < time.perf_counter() - start < 1.0


def test_in_process_slow_answer_past_the_timeout_is_a_timeout():
    p = make_simulator_provider({"fixed_latency_s": 5.0})
    start = time.perf_counter()
    with pytest.raises(ProviderError) as info:
        p.generate(req(), timeout=0.2)
    assert info.value.kind == "timeout" and time.perf_counter() - start < 1.0


@pytest.mark.parametrize(("fault", "stream", "kind"), [
    ("drop", False, "connection"), ("stream_drop", True, "connection"), ("malformed", False, "bad_response"),
    ("malformed", True, "bad_response"), ("rate_limit", False, "rate_limited"), ("moderation_output", True,
                                                                                "moderation"),
])
def test_in_process_faults(fault, stream, kind):
    p = make_simulator_provider({"fixed_latency_s": 0})
    with pytest.raises(ProviderError) as info:
        p.generate(req(stream=stream, partial_images=1 if stream else 0), timeout=5,
                   extra_headers=fault_header(fault))
    assert info.value.kind == kind


def test_time_to_first_partial_is_real_in_process():
    p = make_simulator_provider({"fixed_latency_s": 0.3})
    g = p.generate(req(stream=True, partial_images=3), timeout=5)
    assert g.partial_images_received == 3
    assert 0.04 < g.first_partial_s < 0.2  # first of 4 events at ~0.075 s
    assert 0.28 < g.final_s < 0.6 and g.final_s <= g.wall_s


def test_latency_includes_render_time_and_follows_tokens():
    p = make_simulator_provider({"time_scale": 0.01, "tokens_per_s": 100.0, "overhead_s": 0.0, "jitter": 0.0})
    low = p.generate(req(quality="low"), timeout=5)     # 272 tokens -> 27 ms
    high = p.generate(req(quality="high"), timeout=5)   # 4160 tokens -> 416 ms
    assert 0.02 < low.wall_s < 0.2
    assert 0.40 < high.wall_s < 0.7
    assert high.processing_ms == 416


def test_config_rule_fails_twice_then_succeeds():
    p = make_simulator_provider({"fixed_latency_s": 0,
                                 "faults": [{"kind": "rate_limit", "match": "fox", "times": 2, "retry_after": 0.1}]})
    kinds = []
    for _ in range(3):
        try:
            p.generate(req(), timeout=5)
            kinds.append("ok")
        except ProviderError as exc:
            kinds.append(exc.kind)
            assert exc.retry_after == 0.1
    assert kinds == ["rate_limited", "rate_limited", "ok"] and p.app.request_count == 3


def test_concurrent_requests_run_in_parallel():
    p = make_simulator_provider({"fixed_latency_s": 0.2})
    results = []

    def work():
        results.append(p.generate(req(), timeout=5))

    threads = [threading.Thread(target=work) for _ in range(8)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and time.perf_counter() - start < 1.2  # not 8 x 0.2 s in a row
    assert p.app.request_count == 8


def test_over_loopback_http(sim_http):
    app, url = sim_http
    p = make_simulator_provider(None, "openai", base_url=url, app=app)
    g = p.generate(req(), timeout=5)
    assert g.simulated and app.requests[-1].headers["authorization"].startswith("Bearer ")
    assert p.describe()["endpoint"] == url


def test_invalid_flavour():
    with pytest.raises(ValueError, match="azure_v1"):
        make_simulator_provider(None, "gcp")
