"""Plotly figures: data placed as given, provenance in every title/legend, highlights where promised."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from imagegen.core.catalog import default_catalog
from imagegen.insight import analysis, charts, planner
from tests.analytics_data import catalog_bars, figure_dict, frame, priced, row, sqlite_query, trace
from tests.clock import TODAY


@pytest.fixture(scope="module")
def result():
    rows = []
    for i in range(6):
        rows.append(priced(row(run_id="a", cell_id=0, repeat=i, latency_s=8.0 + i, rating=2, image_bytes=2_000_000,
                               token_status="documented")))
        rows.append(priced(row(run_id="a", cell_id=1, repeat=i, quality="high", output_tokens=4300,
                               token_status="measured (third party, 2026-09-16)",
                               documented_output_tokens=4160, latency_s=34.0 + i, rating=5, stream=1,
                               partial_images=1, first_partial_s=9.0, output_format="jpeg", output_compression=70,
                               image_bytes=400_000)))
        rows.append(priced(row(run_id="b", cell_id=0, repeat=i, model="gpt-image-1-mini", quality="low",
                               output_tokens=272, documented_output_tokens=272, latency_s=3.0 + i / 10, rating=4,
                               simulated=0, provider="openai"), image_out="8", text_in="2"))
    return analysis.analyse(sqlite_query(frame(rows)))


def test_combined_provenance():
    assert charts.combined_provenance(["simulated", "simulated"]) == "simulated"
    assert charts.combined_provenance(["measured"]) == "measured"
    assert charts.combined_provenance(["measured", "simulated"]) == "measured + simulated"
    assert charts.combined_provenance(["measured + simulated"]) == "measured + simulated"


def test_tokens_vs_documented_highlights_deviation(result):
    data = result.tokens()
    fig = figure_dict(charts.tokens_vs_documented(data))
    assert "measured + simulated" in fig["layout"]["title"]["text"]
    assert "documented" in fig["layout"]["title"]["text"]
    # one legend entry per real status of the catalog's figure (the third row has none recorded)
    bars = catalog_bars(fig)
    assert set(bars) == {"documented", "measured (third party, 2026-09-16)", "status not recorded"}
    assert {k: v for b in bars.values() for k, v in b.items()} == dict(zip(data["setting"], data["documented_tokens"]))
    assert list(bars["measured (third party, 2026-09-16)"].values()) == [4160.0]
    red = trace(fig, "deviates from documented")
    assert red["marker"]["color"] == charts.RED
    assert red["y"] == [4300.0] and red["text"] == [f"{100 * 140 / 4160:+.1f}%"]
    ok = trace(fig, "matches documented")
    assert sorted(ok["y"]) == [272.0, 1056.0]


def test_cost_per_image_stacks_token_types_next_to_the_estimate(result):
    data = result.costs()
    fig = figure_dict(charts.cost_per_image(data))
    assert "billed" in fig["layout"]["title"]["text"] and "estimated" in fig["layout"]["title"]["text"]
    assert fig["layout"]["barmode"] == "relative"
    out = trace(fig, "image output")
    assert out["y"] == pytest.approx(list(data["image_output_usd"]))
    assert out["offsetgroup"] == "billed"
    assert all("text output" not in (t.get("name") or "") for t in fig["data"])  # nothing billed as text output
    est = trace(fig, "estimated")
    assert est["offsetgroup"] == "estimated" and est["y"] == pytest.approx(list(data["estimated_usd"]))


def test_latency_distribution_uses_the_sql_quartiles(result):
    data = result.latency()
    fig = figure_dict(charts.latency_distribution(data))
    box = trace(fig, "median")
    assert box["type"] == "box"
    assert box["median"] == list(data["p50_s"]) and box["upperfence"] == list(data["max_s"])
    assert trace(fig, "p95")["y"] == list(data["p95_s"])
    assert "seconds" in fig["layout"]["title"]["text"]


def test_latency_vs_tokens_draws_the_fit(result):
    fits = result.fits()
    fig = figure_dict(charts.latency_vs_tokens(result.sample, fits))
    assert "fitted lines estimated" in fig["layout"]["title"]["text"]
    fit15 = fits[fits["model"] == "gpt-image-1.5"].iloc[0]
    line = trace(fig, "gpt-image-1.5 fit (estimated)")
    assert f"{fit15['tokens_per_s']:,.0f} tokens/s" in line["name"]
    assert line["x"] == [1056.0, 4300.0]
    assert line["y"][0] == pytest.approx(fit15["overhead_s"] + fit15["slope_s_per_token"] * 1056)
    # mini's tokens never vary: points, no line
    assert [t["name"] for t in fig["data"] if t["name"].startswith("gpt-image-1-mini")] == ["gpt-image-1-mini (measured)"]


def test_first_partial_vs_final(result):
    data = result.streaming()
    fig = figure_dict(charts.first_partial_vs_final(data))
    assert trace(fig, "first partial")["y"] == [9.0]
    assert trace(fig, "final image")["y"] == [pytest.approx(36.5)]


def test_file_sizes_share_and_tokens(result):
    data = result.file_sizes()
    fig = figure_dict(charts.file_sizes(data))
    png, jpeg = trace(fig, "png ("), trace(fig, "jpeg c70 (")
    # formats side by side per model · quality · size: png only at medium, jpeg only at high
    # measured (mini on openai) and simulated bytes are never pooled; the label says which
    assert png["x"] == ["gpt-image-1-mini · low · 1024x1024 · measured", "gpt-image-1.5 · medium · 1024x1024 · simulated"]
    assert png["y"] == pytest.approx([1_000_000 / 1024, 2_000_000 / 1024])
    assert jpeg["x"] == ["gpt-image-1.5 · high · 1024x1024 · simulated"] and jpeg["y"] == pytest.approx([400_000 / 1024])
    assert png["text"] == ["100% of this setting's bytes"] * 2
    assert "share of that setting's bytes" in fig["layout"]["annotations"][0]["text"]
    assert "the token bill does not" in fig["layout"]["title"]["text"]


def test_cost_vs_rating_stars_the_cheapest(result):
    data = result.ratings(4.0)
    fig = figure_dict(charts.cost_vs_rating(data, 4.0))
    star = trace(fig, "cheapest rated ≥ 4")
    assert star["marker"]["symbol"] == "star"
    assert star["text"] == [data.loc[data["cheapest"], "setting"].iloc[0]]
    assert "gpt-image-1-mini" in star["text"][0]
    assert any(s.get("y0") == 4.0 for s in fig["layout"]["shapes"])


@pytest.mark.parametrize("fn", [charts.tokens_vs_documented, charts.cost_per_image, charts.latency_distribution,
                                charts.first_partial_vs_final, charts.file_sizes])
def test_empty_frames_give_an_explained_empty_chart(fn):
    fig = figure_dict(fn(pd.DataFrame()))
    assert fig["data"] == [] and "No results" in fig["layout"]["annotations"][0]["text"]


def test_plan_costs_stacks_lines_per_scenario():
    line = "gpt-image-1.5", "medium", "1024x1024", Decimal(1000)
    plan = planner.BudgetPlan((planner.Scenario("gpt-image-1.5 medium", (planner.PlanLine(*line),)),), rate_date=TODAY)
    res = planner.evaluate(plan, default_catalog(), on=TODAY)
    fig = figure_dict(charts.plan_costs(planner.breakdown(res), "monthly", "USD"))
    assert "documented: catalog estimate" in fig["layout"]["title"]["text"]
    bar = trace(fig, "gpt-image-1.5 medium 1024x1024")
    assert bar["x"] == ["gpt-image-1.5 medium"]
    assert bar["y"] == [pytest.approx(float(Decimal(1000) * 30 * (1056 * Decimal(32) + 50 * Decimal(5)) / 1_000_000))]
    jpy = figure_dict(charts.plan_costs(planner.breakdown(res), "yearly", "JPY"))
    assert "JPY" in jpy["layout"]["title"]["text"]


def test_image_config_names_the_png():
    cfg = charts.image_config("cost per image / run 3")
    assert cfg["toImageButtonOptions"] == {"format": "png", "filename": "cost-per-image-run-3", "scale": 2}


def test_the_catalog_legend_names_each_status_in_the_uis_language(result):
    """「カタログ: 実測 (第三者, 2026-09-16)」, not 「カタログ: measured (third party, …)」; names and dates stay."""
    from imagegen import i18n

    ja = {"catalog: {status}": "カタログ: {status}", "documented": "公式値", "measured": "実測", "third party": "第三者"}
    i18n.set_translator(lambda m: ja.get(m, m))
    try:
        fig = figure_dict(charts.tokens_vs_documented(result.tokens()))
    finally:
        i18n.set_translator(None)
    names = {t["name"] for t in fig["data"] if t["name"].startswith("カタログ")}
    assert {"カタログ: 公式値", "カタログ: 実測 (第三者, 2026-09-16)"} <= names
    assert charts.status_text("measured (ours, n = 3)") == "measured (ours, n = 3)"  # no translator: unchanged
