"""Calibration: real runs against the catalog, adoption as token overrides, estimates labelled measured."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagegen.core.catalog import default_catalog
from imagegen.core.pricing import documented_output_tokens, estimate, figure_label
from imagegen.core.request import ImageRequest
from imagegen.core.token_overrides import (
    add_token_overrides,
    apply_token_overrides,
    load_token_overrides,
    remove_token_override,
)
from imagegen.insight import planner
from imagegen.insight.calibration import LatencyPrior, calibrate, proposals
from imagegen.storage.store import Store
from tests.calib_support import TODAY, real_run

MODEL, QUALITY, SIZE = "gpt-image-2", "high", "1024x1024"


@pytest.fixture
def catalog():
    return default_catalog()


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "home") as s:
        yield s


def test_a_shifted_usage_is_found_adopted_and_reverted(store, catalog, tmp_path):
    base = documented_output_tokens(catalog, MODEL, QUALITY, SIZE)
    catalog_status = figure_label(catalog, MODEL, QUALITY, SIZE)
    shifted = [round(base * 1.10) + d for d in (-3, 0, 3, 0)]      # real usage 10% above the catalog
    run_id = real_run(store, catalog, model=MODEL, quality=QUALITY, size=SIZE, output_tokens=shifted)
    # simulated and reused results never count as measured
    real_run(store, catalog, model=MODEL, quality=QUALITY, size=SIZE, output_tokens=[base] * 5, simulated=True)
    cal = calibrate(store.query, catalog)
    [entry] = cal.output
    assert (entry.model, entry.quality, entry.size, entry.n) == (MODEL, QUALITY, SIZE, 4)
    assert entry.catalog == base and entry.catalog_status == catalog_status
    assert (entry.min, entry.max) == (min(shifted), max(shifted))
    assert entry.mean == pytest.approx(sum(shifted) / 4)
    assert entry.deviation_pct == pytest.approx((sum(shifted) / 4 - base) / base * 100)
    assert entry.runs == (run_id,)

    [prop] = proposals(cal, catalog, adopted_by="alice", today=TODAY)
    assert prop.output_tokens == round(sum(shifted) / 4) and prop.catalog_tokens == base
    assert (prop.n, prop.runs, prop.adopted_by, prop.adopted_on) == (4, (run_id,), "alice", TODAY)
    home = store.home
    add_token_overrides(home, [prop], catalog)
    req = ImageRequest(model=MODEL, prompt="a red fox", provider="openai", quality=QUALITY, size=SIZE)
    before = estimate(req, catalog, TODAY)
    adopted = apply_token_overrides(catalog, home)
    after = estimate(req, adopted, TODAY)
    assert after.output_tokens_max == prop.output_tokens != before.output_tokens_max
    assert (after.token_status, after.token_label) == ("measured", "measured (ours, n = 4)")
    assert after.cost_usd_max > before.cost_usd_max
    # the planner labels the line the same way
    plan = planner.default_plan(catalog, TODAY)
    line = planner.PlanLine(model=MODEL, provider="openai", quality=QUALITY, size=SIZE, images=100)
    plan = planner.with_scenarios(plan, [planner.Scenario("s", (line,))])
    result = planner.evaluate(plan, adopted, on=TODAY)
    assert result.scenarios[0].lines[0].source == "measured (ours, n = 4)"
    assert "measured (ours, n = 4)" in result.source_label
    # the report says the override is adopted
    assert calibrate(store.query, adopted).output[0].adopted == "measured (ours, n = 4)"

    remove_token_override(home, MODEL, QUALITY, SIZE, catalog)
    assert load_token_overrides(home, catalog) == []
    restored = estimate(req, apply_token_overrides(catalog, home), TODAY)
    assert restored == before
    assert planner.evaluate(plan, apply_token_overrides(catalog, home), on=TODAY).scenarios[0].lines[0].source \
        == "documented"


def test_nothing_to_adopt_when_usage_matches(store, catalog):
    base = documented_output_tokens(catalog, MODEL, "low", SIZE)
    real_run(store, catalog, model=MODEL, quality="low", size=SIZE, output_tokens=[base, base])
    cal = calibrate(store.query, catalog)
    assert cal.output[0].deviation == 0
    assert proposals(cal, catalog, adopted_by="a", today=TODAY) == []


def test_min_n_and_model_filter(store, catalog):
    base = documented_output_tokens(catalog, MODEL, QUALITY, SIZE)
    real_run(store, catalog, model=MODEL, quality=QUALITY, size=SIZE, output_tokens=[base + 50] * 3)
    cal = calibrate(store.query, catalog)
    assert proposals(cal, catalog, adopted_by="a", today=TODAY, min_n=4) == []
    assert proposals(cal, catalog, adopted_by="a", today=TODAY, models=("gpt-image-2.5",)) == []
    assert len(proposals(cal, catalog, adopted_by="a", today=TODAY, min_n=3)) == 1


def test_latency_fit_recovers_tokens_per_second_and_overhead(store, catalog):
    tokens = [1000, 2000, 3000, 4000]
    real_run(store, catalog, model=MODEL, quality=QUALITY, size=SIZE, output_tokens=tokens,
             latencies=[3.0 + t / 250 for t in tokens])
    [lat] = calibrate(store.query, catalog, {"*": LatencyPrior(133, 2, "prior")}).latency
    assert lat.tokens_per_s == pytest.approx(250)
    assert lat.overhead_s == pytest.approx(3.0)
    assert lat.residual_sd_s == pytest.approx(0, abs=1e-6)
    assert lat.prior.source == "prior" and lat.n == 4


def test_input_text_tokens_compare_with_our_count(store, catalog):
    real_run(store, catalog, model=MODEL, quality="low", size=SIZE, output_tokens=[196, 196], text_tokens=40)
    [t] = calibrate(store.query, catalog).input_text
    assert t.mean == 40 and t.counted_mean > 0 and t.deviation == 40 - t.counted_mean


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=20000), min_size=1, max_size=6))
def test_mean_min_max_match_python(tmp_path_factory, values):
    catalog = default_catalog()
    with Store(tmp_path_factory.mktemp("h")) as store:
        real_run(store, catalog, model=MODEL, quality=QUALITY, size=SIZE, output_tokens=values)
        [e] = calibrate(store.query, catalog).output
    assert (e.n, e.min, e.max) == (len(values), min(values), max(values))
    assert e.mean == pytest.approx(sum(values) / len(values))


def test_json_document_is_plain(store, catalog):
    import json

    real_run(store, catalog, model=MODEL, quality=QUALITY, size=SIZE, output_tokens=[100, 200])
    doc = json.loads(json.dumps(calibrate(store.query, catalog).to_dict(), default=str))
    assert doc["results"] == 2 and doc["output_tokens"][0]["deviation_pct"] is not None
    first = doc["output_tokens"][0]["first"]
    assert date.fromisoformat(first).isoformat() == first


def test_named_tuple_rows_and_dataframes_give_the_same_report(store, catalog):
    real_run(store, catalog, model=MODEL, quality=QUALITY, size=SIZE, output_tokens=[1800, 1900, 2000],
             latencies=[9.0, 9.5, 10.0])
    assert calibrate(store.rows, catalog) == calibrate(store.query, catalog)
    assert store.rows("SELECT 1 AS one")[0].one == 1
