"""Analytics aggregation: SQL over result_rows -> per-setting frames, checked against hand-computed values."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagegen.insight import analysis
from imagegen.insight.analysis import Selection
from tests.analytics_data import frame, priced, row, simulated_runs, sqlite_query

M = Decimal(1_000_000)


def _rows() -> list[dict]:
    rows = []
    # run-1 (simulator): 10 x gpt-image-1.5 medium 1024x1024, latency 1..10 s, tokens as documented
    for i in range(10):
        rows.append(priced(row(run_id="run-1", cell_id=0, repeat=i, latency_s=float(i + 1), image_bytes=1000 + i)))
    # 4 x high: 4200 tokens against the documented 4160 (+0.96 %)
    for i in range(4):
        rows.append(priced(row(run_id="run-1", cell_id=1, repeat=i, quality="high", output_tokens=4200,
                               documented_output_tokens=4160, latency_s=30.0, rating=5)))
    # quality auto: two resolved high, one resolved medium
    for i, (q, t) in enumerate((("high", 4160), ("high", 4160), ("medium", 1056))):
        rows.append(priced(row(run_id="run-1", cell_id=2, repeat=i, quality="auto", resolved_quality=q,
                               output_tokens=t, documented_output_tokens=t, latency_s=20.0)))
    # run-2: a real (not simulated) openai run of gpt-image-1-mini low, two days earlier, jpeg, n=2
    for i in range(3):
        rows.append(priced(row(run_id="run-2", cell_id=0, repeat=i, provider="openai", model="gpt-image-1-mini",
                               quality="low", n=2, output_tokens=544, documented_output_tokens=544,
                               output_format="jpeg", output_compression=80, simulated=0, latency_s=5.0,
                               image_bytes=300, created_at="2026-11-18T23:59:00+00:00", rating=3 + i % 2),
                           text_in="2", image_out="8"))
    # neither an error nor a result reused from history counts
    rows.append(row(run_id="run-1", cell_id=0, repeat=50, status="error", output_tokens=None, latency_s=None,
                    cost_usd="0"))
    rows.append(priced(row(run_id="run-1", cell_id=0, repeat=51, reused=1, latency_s=999.0)))
    return rows


@pytest.fixture(scope="module")
def query():
    return sqlite_query(frame(_rows()))


@pytest.fixture(scope="module")
def cells(query):
    return analysis.cell_frame(query)


def _one(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1, df
    return df[mask].iloc[0]


def test_cell_frame_splits_auto_cells_by_resolved_quality(cells):
    auto = cells[(cells["run_id"] == "run-1") & (cells["cell_id"] == 2)]
    assert sorted(zip(auto["resolved_quality"], auto["rows"])) == [("high", 2), ("medium", 1)]
    plain = _one(cells, run_id="run-1", cell_id=0)
    assert plain["rows"] == 10  # the error and the reused result are left out
    assert plain["latency_max"] == 10.0


def test_parallel_slices_add_up_to_the_single_scan(query, cells):
    key = list(analysis.CELL_KEYS)
    one = analysis.cell_frame(query, parts=1).sort_values(key, na_position="first").reset_index(drop=True)
    three = analysis.cell_frame(query, parts=3).sort_values(key, na_position="first").reset_index(drop=True)
    pd.testing.assert_frame_equal(one, three, check_like=True)
    assert len(cells) == len(one)


def test_cell_frame_run_day_is_the_runs_first_day(cells):
    assert set(cells.loc[cells["run_id"] == "run-2", "run_day"]) == {"2026-11-18"}
    assert set(cells.loc[cells["run_id"] == "run-1", "run_day"]) == {"2026-11-20"}


def test_summary_money_is_per_image_and_images_count_n(cells):
    summary = analysis.summary_from_cells(cells)
    mini = _one(summary, model="gpt-image-1-mini")
    assert mini["rows"] == 3 and mini["images"] == 6
    per_request = (10 * Decimal(2) + 544 * Decimal(8)) / M
    assert mini["cost_sum"] / mini["cost_n"] == pytest.approx(float(per_request / 2))
    assert mini["estimated_sum"] / mini["estimated_n"] == pytest.approx(float(per_request / 2))


@pytest.mark.parametrize(("selection", "models", "results"), [
    (Selection(), {"gpt-image-1.5", "gpt-image-1-mini"}, 20),
    (Selection(providers=("openai",)), {"gpt-image-1-mini"}, 3),
    (Selection(models=("gpt-image-1.5",)), {"gpt-image-1.5"}, 17),
    (Selection(run_ids=("run-2",)), {"gpt-image-1-mini"}, 3),
    (Selection(simulated=True), {"gpt-image-1.5"}, 17),
    (Selection(simulated=False), {"gpt-image-1-mini"}, 3),
    (Selection(since=date(2026, 11, 19)), {"gpt-image-1.5"}, 17),
    (Selection(until=date(2026, 11, 18)), {"gpt-image-1-mini"}, 3),
    (Selection(since=date(2026, 11, 21)), set(), 0),
])
def test_selection_filters(cells, selection, models, results):
    summary = analysis.summary_from_cells(cells, selection)
    assert set(summary["model"]) == models
    assert int(summary["rows"].sum()) == results


def test_token_deviation_against_documented_with_auto_resolved(cells):
    tokens = analysis.token_deviation(analysis.summary_from_cells(cells))
    high = _one(tokens, model="gpt-image-1.5", quality="high")
    assert high["measured_tokens"] == 4200 and high["documented_tokens"] == 4160
    assert high["deviation"] == 40
    assert high["deviation_pct"] == pytest.approx(40 / 4160 * 100)
    assert bool(high["deviates"])
    medium = _one(tokens, model="gpt-image-1.5", quality="medium")
    assert medium["deviation"] == 0 and not medium["deviates"]
    assert set(tokens["quality"]) >= {"auto→high", "auto→medium"}
    assert _one(tokens, quality="auto→medium")["results"] == 1


def test_token_deviation_tolerance_is_a_share(cells):
    tokens = analysis.token_deviation(analysis.summary_from_cells(cells), tolerance=0.01)
    assert not _one(tokens, model="gpt-image-1.5", quality="high")["deviates"]  # 0.96 % < 1 %


def test_cost_per_image_split_by_token_type(cells):
    costs = analysis.cost_per_image(analysis.summary_from_cells(cells))
    medium = costs[costs["setting"].str.contains("gpt-image-1.5 · medium")].iloc[0]
    assert medium["text_input_usd"] == pytest.approx(10 * 5 / 1e6)
    assert medium["image_output_usd"] == pytest.approx(1056 * 32 / 1e6)
    assert medium["billed_usd"] == pytest.approx(medium["text_input_usd"] + medium["image_input_usd"]
                                                 + medium["image_output_usd"] + medium["text_output_usd"])
    high = costs[costs["setting"].str.contains("gpt-image-1.5 · high")].iloc[0]
    # billed from 4200 tokens, estimated from the documented 4160
    assert high["billed_minus_estimated_usd"] == pytest.approx(40 * 32 / 1e6)
    assert set(costs["provenance"]) == {"simulated", "measured"}


def test_latency_quantiles_exact_nearest_rank(query, cells):
    sample = analysis.latency_sample(query, cells[cells["run_id"] == "run-1"])
    assert sample.attrs["stride"] == 1
    q = analysis.latency_quantiles(sample, cells)
    medium = q[(q["quality"] == "medium") & (q["model"] == "gpt-image-1.5")].iloc[0]
    # latencies 1..10: ranks ceil(2.5)=3, ceil(5)=5, ceil(7.5)=8, ceil(9.5)=10
    assert (medium["q1_s"], medium["p50_s"], medium["q3_s"], medium["p95_s"]) == (3.0, 5.0, 8.0, 10.0)
    assert (medium["min_s"], medium["max_s"], medium["mean_s"]) == (1.0, 10.0, 5.5)
    assert medium["method"] == "exact" and medium["rows"] == 10


def test_latency_quantiles_from_a_bounded_sample(query, cells):
    picked = cells[cells["run_id"] == "run-1"]
    sample = analysis.latency_sample(query, picked, limit=5)
    assert sample.attrs["stride"] == math.ceil(17 / 5)
    assert len(sample) <= 17 // sample.attrs["stride"] + 1
    q = analysis.latency_quantiles(sample, picked)
    assert q["method"].str.startswith("sample of").all()
    medium = q[q["quality"] == "medium"].iloc[0]
    assert medium["min_s"] == 1.0 and medium["max_s"] == 10.0  # exact whatever the sample
    assert 1.0 <= medium["p50_s"] <= 10.0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=300, allow_nan=False), min_size=1, max_size=60))
def test_vectorised_quantiles_match_nearest_rank(latencies):
    rows = [row(run_id="r", cell_id=0, repeat=i, latency_s=v) for i, v in enumerate(latencies)]
    q = sqlite_query(frame(rows))
    cells = analysis.cell_frame(q)
    out = analysis.latency_quantiles(analysis.latency_sample(q, cells), cells).iloc[0]
    for name, percent in analysis.QUANTILES.items():
        assert out[name] == analysis.nearest_rank(latencies, percent)
    assert out["p50_s"] == sorted(latencies)[math.ceil(len(latencies) / 2) - 1]


def test_latency_fit_recovers_rate_and_overhead():
    rows = [row(run_id="r", cell_id=i, repeat=0, quality=q, output_tokens=t, latency_s=2.0 + t / 100)
            for i, (q, t) in enumerate((("low", 272), ("medium", 1056), ("high", 4160), ("high", 6208)))]
    fit = analysis.latency_fit(analysis.summary(sqlite_query(frame(rows))))
    assert fit.loc[0, "tokens_per_s"] == pytest.approx(100)
    assert fit.loc[0, "overhead_s"] == pytest.approx(2.0)
    assert fit.loc[0, "r2"] == pytest.approx(1.0)


def test_latency_fit_is_undefined_when_tokens_do_not_vary(cells):
    fit = analysis.latency_fit(analysis.summary_from_cells(cells, Selection(models=("gpt-image-1-mini",))))
    assert math.isnan(fit.loc[0, "tokens_per_s"]) and math.isnan(fit.loc[0, "slope_s_per_token"])


def test_streaming_times_only_for_streamed_results():
    rows = [row(run_id="r", cell_id=0, repeat=i, stream=1, partial_images=1, latency_s=10.0 + i, first_partial_s=2.0)
            for i in range(3)]
    rows.append(row(run_id="r", cell_id=1, repeat=0, quality="low", latency_s=1.0))
    out = analysis.streaming_times(analysis.summary(sqlite_query(frame(rows))))
    assert len(out) == 1
    assert (out.loc[0, "first_partial_s"], out.loc[0, "final_s"], out.loc[0, "results"]) == (2.0, 11.0, 3)


def test_file_sizes_compare_formats_only_at_the_same_setting(cells):
    sizes = analysis.file_sizes(analysis.summary_from_cells(cells, Selection(models=("gpt-image-1.5",))))
    # one png row per model · quality · size, each its setting's only format: 100 % of that setting's bytes
    # in the catalog's order: auto next to (after) the quality it resolved to
    assert list(sizes["setting"]) == ["gpt-image-1.5 · medium · 1024x1024", "gpt-image-1.5 · auto→medium · 1024x1024",
                                      "gpt-image-1.5 · high · 1024x1024", "gpt-image-1.5 · auto→high · 1024x1024"]
    assert set(sizes["format"]) == {"png"}
    assert list(sizes["images"]) == [10, 1, 4, 2]
    assert sizes["share_of_bytes"].tolist() == pytest.approx([1.0] * 4)
    both = analysis.file_sizes(analysis.summary_from_cells(cells))
    jpeg = _one(both, format="jpeg c80")
    # measured and simulated bytes are never pooled: the label says which when both are in the selection
    assert jpeg["setting"] == "gpt-image-1-mini · low · 1024x1024 · measured"
    assert jpeg["share_of_bytes"] == pytest.approx(1.0)  # a share of its own setting's bytes, not of the selection's
    assert jpeg["mean_bytes"] == 300
    assert jpeg["mean_output_tokens"] == 544


def test_file_size_shares_split_one_settings_bytes_between_its_formats():
    rows = [row(run_id="r", cell_id=0, repeat=i, image_bytes=3000) for i in range(2)]
    rows += [row(run_id="r", cell_id=1, repeat=i, output_format="jpeg", output_compression=50, image_bytes=1000)
             for i in range(2)]
    rows += [row(run_id="r", cell_id=2, repeat=0, quality="high", image_bytes=9_000_000)]
    sizes = analysis.file_sizes(analysis.summary(sqlite_query(frame(rows))))
    medium = sizes[sizes["setting"].str.contains("medium")]
    assert dict(zip(medium["format"], medium["share_of_bytes"])) == pytest.approx({"png": 0.75, "jpeg c50": 0.25})
    assert _one(sizes, setting="gpt-image-1.5 · high · 1024x1024")["share_of_bytes"] == pytest.approx(1.0)


def test_rating_costs_marks_the_cheapest_setting_at_or_above_the_rating(cells):
    summary = analysis.summary_from_cells(cells)
    at4 = analysis.rating_costs(summary, 4.0)
    assert list(at4.loc[at4["cheapest"], "setting"]) == [at4.loc[at4["mean_rating"] >= 4, "setting"].iloc[0]]
    assert at4.loc[at4["cheapest"], "mean_rating"].iloc[0] == 5.0
    at3 = analysis.rating_costs(summary, 3.0)
    cheapest = at3.loc[at3["cheapest"]].iloc[0]
    assert "gpt-image-1-mini" in cheapest["setting"]  # rated 3.33, far cheaper
    assert cheapest["mean_rating"] == pytest.approx(10 / 3)
    assert not analysis.rating_costs(summary, 5.5)["cheapest"].any()


def test_measured_costs_are_exact_decimals(query):
    out = analysis.measured_costs(query, ["run-2"])
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["model"], r["quality"], r["size"], r["images"], r["results"]) == ("gpt-image-1-mini", "low",
                                                                                  "1024x1024", 6, 3)
    assert r["cost_usd_per_image"] == (10 * Decimal(2) + 544 * Decimal(8)) / M / 2
    assert not r["simulated"]
    assert analysis.measured_costs(query, []).empty


def test_setting_labels_add_only_what_varies():
    df = pd.DataFrame({"model": ["m", "m"], "quality": ["auto", "low"], "resolved_quality": ["high", "low"],
                       "size": ["1024x1024"] * 2, "resolved_size": ["1024x1024"] * 2,
                       "output_format": ["png", "jpeg"], "output_compression": [np.nan, 80.0], "n": [1, 1]})
    assert list(analysis.setting_labels(df)) == ["m · auto→high · 1024x1024 · png", "m · low · 1024x1024 · jpeg · c80"]


def test_run_and_filter_options(cells):
    runs = analysis.run_options(cells)
    assert list(runs["run_id"]) == ["run-2", "run-1"]
    assert _one(runs, run_id="run-1")["results"] == 17
    opts = analysis.filter_options(cells)
    assert set(zip(opts["provider"], opts["model"])) == {("simulator", "gpt-image-1.5"), ("openai", "gpt-image-1-mini")}


def test_analyse_on_an_empty_store_is_empty():
    result = analysis.analyse(sqlite_query(frame([])))
    assert result.results == 0 and result.tokens().empty and result.latency().empty and result.sample.empty


def test_analyse_over_the_real_store_view(tmp_path):
    store, summaries = simulated_runs(tmp_path)
    rows = store.query("SELECT * FROM result_rows WHERE status = 'ok'")
    result = analysis.analyse(store.query)
    assert result.results == len(rows) == sum(s.ok for s in summaries)
    assert result.provenance == "simulated"
    # billed cost per image from the view's exact decimal strings, per setting
    costs = result.costs()
    expected = sum(Decimal(c) for c in rows["cost_usd"]) / len(rows)
    weighted = (costs["billed_usd"] * costs["billed_results"]).sum() / costs["billed_results"].sum()
    assert weighted == pytest.approx(float(expected))
    lat = result.latency()
    assert lat["max_s"].max() == pytest.approx(rows["latency_s"].max())
    assert (lat["method"] == "exact").all()
    assert set(result.streaming()["setting"].str.split(" · ").str[0]) == {"gpt-image-1-mini"}


def test_measured_costs_never_average_simulated_with_real_and_keep_providers_apart():
    rows = pd.DataFrame({
        "model": ["gpt-image-1.5"] * 4, "quality": ["medium"] * 4, "size": ["1024x1024"] * 4,
        "provider": ["simulator", "openai", "azure", "azure"], "simulated": [1, 0, 0, 0], "n": [1, 1, 1, 1],
        "cost_usd": ["0.20", "0.10", "0.30", "0.50"],
    })
    out = analysis.measured_costs(lambda sql, params: rows, ["any"])
    got = {(r.provider, bool(r.simulated)): r.cost_usd_per_image for r in out.itertuples()}
    assert got == {("openai", True): Decimal("0.20"), ("openai", False): Decimal("0.10"),
                   ("azure", False): Decimal("0.40")}

    from imagegen.insight.planner import measured_lookup

    table = measured_lookup(out)
    # measured on the real service wins over simulated for the same setting and provider
    assert table[("gpt-image-1.5", "medium", "1024x1024", "openai")].cost_per_image_usd == Decimal("0.10")
    assert not table[("gpt-image-1.5", "medium", "1024x1024", "openai")].simulated
    assert table[("gpt-image-1.5", "medium", "1024x1024", "azure")].cost_per_image_usd == Decimal("0.40")
