"""Analytics page (AppTest) over real runs on the simulator: every chart's data checked against the store."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from imagegen.insight import analysis
from tests.analytics_data import catalog_bars, categories, figure_dict, simulated_runs, trace, values
from tests.ui_support import page_app

#: Stars given per (model, resolved quality): the cheapest setting rated >= 4 is gpt-image-1-mini low.
STARS = {("gpt-image-1.5", "low"): 2, ("gpt-image-1.5", "medium"): 4, ("gpt-image-1.5", "high"): 5,
         ("gpt-image-1-mini", "low"): 4, ("gpt-image-1-mini", "high"): 3}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """Two runs through the real runner on the simulator (quality x size; formats x quality, streamed), rated."""
    home = tmp_path_factory.mktemp("analytics-home")
    store, summaries = simulated_runs(home)
    assert all(s.status == "finished" and s.ok == s.total for s in summaries)
    rows = store.query("SELECT result_id, model, resolved_quality FROM result_rows WHERE status = 'ok'")
    for r in rows.itertuples():
        store.rate(int(r.result_id), STARS[(r.model, r.resolved_quality)])
    return home, store


def _app(home, monkeypatch) -> AppTest:
    return page_app("3_Analytics.py", home, monkeypatch)


@pytest.fixture(scope="module")
def shown(sim):
    """One run of the page, shared by the tests that only read it."""
    home, store = sim
    with pytest.MonkeyPatch.context() as mp:
        at = _app(home, mp)
        at.run()
    assert not at.exception, at.exception
    return at, store


@pytest.fixture
def analytics(sim, monkeypatch):
    """A fresh run of the page for tests that click."""
    home, store = sim
    at = _app(home, monkeypatch)
    at.run()
    assert not at.exception, at.exception
    return at, store


def _figures(at) -> dict[str, dict]:
    """Figures by their PNG file name (the chart's key)."""
    out = {}
    for chart in at.get("plotly_chart"):
        name = json.loads(chart.proto.config)["toImageButtonOptions"]["filename"]
        out[name] = figure_dict(chart.proto.spec)
    return out


def _ok_rows(store) -> pd.DataFrame:
    return store.query("SELECT * FROM result_rows WHERE status = 'ok'")


def _x_with(fig_trace: dict, *parts: str) -> list[int]:
    return [i for i, x in enumerate(categories(fig_trace)) if all(p in x for p in parts)]


def test_every_chart_is_drawn_and_labelled_simulated(shown):
    at, _ = shown
    figs = _figures(at)
    assert set(figs) == {"tokens_vs_documented", "cost_per_image", "latency_distribution", "latency_vs_tokens",
                         "first_partial_vs_final", "file_sizes", "cost_vs_rating"}
    for name, fig in figs.items():
        assert "simulated" in fig["layout"]["title"]["text"], name
        assert fig["data"], name
    assert len(at.get("download_button")) == 7
    assert any("camera icon" in c.value for c in at.caption)


def test_tokens_chart_matches_the_documented_table_with_auto_resolved(shown):
    at, store = shown
    fig = _figures(at)["tokens_vs_documented"]
    documented = catalog_bars(fig)
    measured = trace(fig, "matches documented")  # the simulator follows the documented table exactly
    rows = _ok_rows(store)
    # image output tokens: gpt-image-1.5 also bills text output, which the catalog's figure leaves out
    rows = rows.assign(image_tokens=rows["output_tokens"] - rows["output_text_tokens"].fillna(0))
    expected = rows.groupby(["model", "resolved_quality", "size"])["image_tokens"].mean()
    i = _x_with(measured, "gpt-image-1.5 · high · 1536x1024")[0]
    assert values(measured)[i] == expected[("gpt-image-1.5", "high", "1536x1024")] == 6208
    j = _x_with(measured, "gpt-image-1-mini · auto→high")[0]
    assert values(measured)[j] == 4160 + 100  # auto resolved to high, plus one streamed partial image
    pooled = {k: v for bars in documented.values() for k, v in bars.items()}
    assert pooled == dict(zip(categories(measured), values(measured)))
    # each catalog figure under its real status, as the cells record it (never "doc" for all)
    statuses = set(_ok_rows(store)["token_status"].dropna())
    assert set(documented) == statuses and len(statuses) >= 1
    assert all("deviates" not in t["name"] for t in fig["data"])


def test_cost_chart_matches_billed_costs_per_token_type(shown):
    at, store = shown
    fig = _figures(at)["cost_per_image"]
    rows = _ok_rows(store)
    part = rows[(rows["model"] == "gpt-image-1.5") & (rows["quality"] == "medium") & (rows["size"] == "1024x1024")]
    out = trace(fig, "image output")
    i = _x_with(out, "gpt-image-1.5 · medium · 1024x1024")[0]
    assert values(out)[i] == pytest.approx(float(sum(Decimal(c) for c in part["cost_image_output_usd"]) / len(part)))
    text = trace(fig, "text input")
    assert values(text)[i] == pytest.approx(float(sum(Decimal(c) for c in part["cost_text_input_usd"]) / len(part)))
    est = trace(fig, "estimated")
    assert values(est)[i] == pytest.approx(float(Decimal(part["estimated_cost_usd"].iloc[0])))


def test_latency_box_and_table_are_the_nearest_rank_quantiles(shown):
    at, store = shown
    fig = _figures(at)["latency_distribution"]
    box = trace(fig, "median")
    rows = _ok_rows(store)
    part = rows[(rows["model"] == "gpt-image-1.5") & (rows["quality"] == "high") & (rows["size"] == "1024x1024")]
    i = _x_with(box, "gpt-image-1.5 · high · 1024x1024")[0]
    latencies = list(part["latency_s"])
    assert box["median"][i] == analysis.nearest_rank(latencies, 50)
    assert box["lowerfence"][i] == min(latencies) and box["upperfence"][i] == max(latencies)
    assert values(trace(fig, "p95"))[i] == analysis.nearest_rank(latencies, 95)
    table = next(d.value for d in at.dataframe if "p95_s" in d.value.columns)
    assert len(table) == len(categories(box))
    assert set(table["provenance"]) == {"simulated"}


def test_latency_scatter_has_every_result_and_a_fit_per_model(shown):
    at, store = shown
    fig = _figures(at)["latency_vs_tokens"]
    rows = _ok_rows(store)
    points = [t for t in fig["data"] if t["mode"] == "markers"]
    assert sum(len(t["x"]) for t in points) == len(rows)
    fits = analysis.latency_fit(analysis.summary(store.query))
    for model in ("gpt-image-1.5", "gpt-image-1-mini"):
        assert any(t["name"].startswith(f"{model} fit (estimated)") for t in fig["data"]) \
            == bool(pd.notna(fits.loc[fits["model"] == model, "slope_s_per_token"].iloc[0]))


def test_streaming_chart_only_has_streamed_settings(shown):
    at, store = shown
    fig = _figures(at)["first_partial_vs_final"]
    first, final = trace(fig, "first partial"), trace(fig, "final image")
    assert all(x.startswith("gpt-image-1-mini") for x in categories(first))
    rows = _ok_rows(store)
    assert len(categories(first)) == rows.loc[rows["stream"] == 1].groupby(
        ["output_format", "resolved_quality"]).ngroups
    assert all(a <= b for a, b in zip(values(first), values(final)))


def test_file_size_chart_compares_formats_at_the_same_setting(shown):
    at, store = shown
    fig = _figures(at)["file_sizes"]
    rows = _ok_rows(store)
    streamed = rows[rows["model"] == "gpt-image-1-mini"]
    by = streamed.groupby(["resolved_quality", "output_format"])["image_bytes"]
    for fmt in ("png", "jpeg", "webp"):
        bars = trace(fig, f"{fmt} (simulated)")
        for label, kb, share in zip(categories(bars), values(bars), bars["text"]):
            if not label.startswith("gpt-image-1-mini"):
                assert fmt == "png"  # the quality x size run is png only: 100 % of its own setting's bytes
                assert share == "100% of this setting's bytes"
                continue
            quality = label.split(" · ")[1].removeprefix("auto→")
            assert kb == pytest.approx(by.mean()[(quality, fmt)] / 1024)
            same = streamed[streamed["resolved_quality"] == quality]
            # a mini auto cell resolves to high: its share is of the auto→high setting's bytes only
            auto = "auto" in label
            same = same[(same["quality"] == "auto") == auto]
            mine = same[same["output_format"] == fmt]["image_bytes"].sum()
            assert share == f"{mine / same['image_bytes'].sum():.0%} of this setting's bytes"


def test_cost_vs_rating_stars_the_cheapest_setting_rated_four(analytics):
    at, store = analytics
    fig = _figures(at)["cost_vs_rating"]
    star = trace(fig, "cheapest rated ≥ 4")
    assert star["text"][0].startswith("gpt-image-1-mini · low")
    assert star["y"] == [4.0]
    assert any("gpt-image-1-mini · low" in s.value for s in at.success)
    at.slider(key="an_min_rating").set_value(5.0).run()
    star = trace(_figures(at)["cost_vs_rating"], "cheapest rated ≥ 5")
    assert star["text"][0].startswith("gpt-image-1.5 · high") and star["y"] == [5.0]


def test_model_filter_narrows_every_chart(analytics):
    at, _ = analytics
    at.multiselect(key="an_models").set_value(["gpt-image-1-mini"]).run()
    fig = _figures(at)["tokens_vs_documented"]
    assert all(x.startswith("gpt-image-1-mini") for bars in catalog_bars(fig).values() for x in bars)
    assert "24 results" not in at.markdown[0].value and "12 results" in at.markdown[0].value


def test_measured_only_finds_nothing_in_a_simulated_store(analytics):
    at, _ = analytics
    at.button_group(key="an_kind").set_value("measured").run()
    assert not at.get("plotly_chart")
    assert any("No successful results match" in i.value for i in at.info)


def test_empty_store_says_how_to_get_data(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.run()
    assert not at.exception
    assert any("No results yet" in i.value for i in at.info)


def test_in_japanese_the_results_filter_and_the_summary_name_the_kinds_in_japanese(sim, monkeypatch):
    home, _ = sim
    at = page_app("3_Analytics.py", home, monkeypatch, query={"lang": "ja"})
    at.run()
    assert not at.exception, at.exception
    kinds = at.button_group(key="an_kind")
    assert [kinds.format_func(o) for o in kinds.options] == ["すべて", "シミュレーション", "再生", "実測"]
    assert "数値：**シミュレーション**" in at.markdown[0].value and "simulated" not in at.markdown[0].value
