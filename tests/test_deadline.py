"""providers/deadline.py and the runner's deadlines and Retry-After handling, against the hostile server."""

from __future__ import annotations

import time

import pytest

from imagegen.core.request import ImageRequest
from imagegen.errors import ProviderError
from imagegen.execution.providers.openai_api import OpenAIProvider
from imagegen.execution.providers.sdk import parse_retry_after
from imagegen.execution.retry import Backoff
from imagegen.execution.runner import GridRun
from imagegen.storage.store import Store
from tests import hostile_cases as hc
from tests.fakes import hostile


@pytest.fixture(scope="module")
def server():
    s = hostile.start()
    yield s
    hostile.stop(s)


def req(mode: str) -> ImageRequest:
    return ImageRequest(model="gpt-image-1-mini", prompt=f"mode:{mode} x", provider="compatible", size="1024x1024",
                        quality="low")


@pytest.mark.parametrize("mode", ["drip", "drip_headers", "stall"])
def test_timeout_is_a_total_deadline_even_when_bytes_keep_coming(server, mode):
    provider = OpenAIProvider(hc.OPENAI_KEY, base_url=f"{server.base_url}/v1")
    t0 = time.perf_counter()
    with pytest.raises(ProviderError) as info:
        provider.generate(req(mode), timeout=1.0)
    wall = time.perf_counter() - t0
    assert info.value.kind == "timeout"
    assert wall < 1.0 + 0.8, wall  # one drip interval (0.5 s) of slack at most, plus scheduling


def test_a_good_answer_still_arrives_through_the_deadline_client(server):
    provider = OpenAIProvider(hc.OPENAI_KEY, base_url=f"{server.base_url}/v1")
    gen = provider.generate(req("good"), timeout=5.0)
    assert gen.usage["output_tokens"] == 272 and gen.images[0].startswith(b"\x89PNG")


@pytest.mark.parametrize(("headers", "expected"), [
    ({"retry-after": "7"}, 7.0), ({"retry-after-ms": "1500"}, 1.5), ({"retry-after": "-5"}, None),
    ({"retry-after": "NaN"}, None), ({"retry-after": "inf"}, None), ({"retry-after": "soon, maybe"}, None),
    ({"retry-after-ms": "nan", "retry-after": "3"}, 3.0), ({"retry-after": "999999"}, 999999.0), ({}, None),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
])
def test_retry_after_parsing_falls_back_to_backoff_on_nonsense(headers, expected):
    assert parse_retry_after(headers) == expected


def test_a_long_retry_after_fails_the_cell_instead_of_sleeping(server, tmp_path):
    store = Store(tmp_path)
    spec = hc.spec_text("retry_after_huge").replace("max_attempts = 2", "max_attempts = 4")
    t0 = time.perf_counter()
    run = GridRun(spec, provider=hc.openai_provider(server), store=store, today=hc.TODAY)
    summary = run.run()
    assert time.perf_counter() - t0 < 5
    bad = store.results(summary.run_id).set_index("prompt").loc["mode:retry_after_huge a red fox"]
    assert bad["error_kind"] == "rate_limited" and "999,999 s" in bad["error_message"]
    assert "max_retry_after_s = 60 s" in bad["error_message"] and bad["attempts"] == 1


def test_the_run_deadline_stops_sending_and_records_the_rest(server, tmp_path):
    store = Store(tmp_path)
    prompts = ", ".join(f'"mode:stall {i}"' for i in range(6))
    spec = (hc.spec_text("stall").replace('prompts = ["a red fox, good", "mode:stall a red fox"]',
                                          f"prompts = [{prompts}]")
            .replace("max_attempts = 2", "max_attempts = 1\nrun_deadline_s = 2.0")
            .replace(f"timeout_s = {hc.TIMEOUT_S}", "timeout_s = 30"))
    t0 = time.perf_counter()
    summary = GridRun(spec, provider=hc.openai_provider(server), store=store, today=hc.TODAY,
                      backoff=Backoff(base_s=0.01)).run()
    wall = time.perf_counter() - t0
    assert wall < 2.0 + 1.5, wall  # the in-flight attempts end at the run's deadline, not at timeout_s
    rows = store.results(summary.run_id)
    assert len(rows) == 6 and summary.status == "finished"
    assert set(rows["status"]) <= {"error", "cancelled"}
    cancelled = rows[rows["status"] == "cancelled"]
    assert len(cancelled) == 4 and cancelled["error_message"].str.contains("run_deadline_s").all()
    assert (rows[rows["status"] == "error"]["error_kind"] == "timeout").all()
