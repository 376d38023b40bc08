"""Planner page (AppTest): hand-computed figures, scenarios side by side, URL round trip, measured runs, overrides."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from streamlit.testing.v1 import AppTest

from imagegen.core import lifecycle, overrides
from imagegen.core.catalog import default_catalog
from imagegen.core.pricing import documented_output_tokens
from imagegen.core.tokens import token_figure
from imagegen.insight import planner
from imagegen.insight.planner import PlanLine
from tests.analytics_data import SPEC_QUALITY_SIZE, figure_dict, simulated_runs, trace
from tests.clock import CHECKED, TODAY
from tests.ui_support import page_app

M = Decimal(1_000_000)
# 1,000 images a day, 30-day month, 50 prompt tokens each (documented tokens x catalog prices):
MINI_LOW_MONTH = 1000 * 30 * (272 * Decimal(8) + 50 * Decimal(2)) / M            # $68.28
ONE_FIVE_MEDIUM_MONTH = 1000 * 30 * (1056 * Decimal(32) + 50 * Decimal(5)) / M   # $1,021.26


CAT = default_catalog()
#: The old example as a link: mini low vs 1.5 medium on OpenAI, opened on CHECKED (both still ran there then).
OLD_EXAMPLE = {"s0": "gpt-image-1-mini low!gpt-image-1-mini~low~1024x1024~1000~d",
               "s1": "gpt-image-1.5 medium!gpt-image-1.5~medium~1024x1024~1000~d"}


def _app(home, monkeypatch, query: dict | None = None) -> AppTest:
    return page_app("4_Planner.py", home, monkeypatch, query)


def _old_example(home, monkeypatch) -> AppTest:
    monkeypatch.setenv("IMAGEGEN_TODAY", CHECKED.isoformat())
    return _app(home, monkeypatch, OLD_EXAMPLE)


def _monthly(line: PlanLine, on: date) -> Decimal:
    """Catalog tokens x the catalog's price in force on ``on`` + 50 prompt tokens, 1,000 a day for 30 days.

    An assumed figure (no published one) counts at the top of its range, as every budget does."""
    price = CAT.price_for(line.model, line.provider, on)
    tokens = token_figure(CAT.token_model(CAT.model(line.model)), line.quality, line.size).high
    assert tokens >= documented_output_tokens(CAT, line.model, line.quality, line.size)
    return 1000 * 30 * (tokens * price.image_output + 50 * price.text_input) / M


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _costs(at) -> dict[str, float]:
    """Scenario -> total of the plan chart (monthly USD by default)."""
    fig = figure_dict(at.get("plotly_chart")[0].proto.spec)
    totals = trace(fig, "total")
    return dict(zip(totals["x"], totals["y"]))


def _compare(at):
    return next(d.value for d in at.dataframe if "metric" in d.value.columns).set_index("metric")


def test_the_example_compares_models_live_today(tmp_path, monkeypatch):
    at = _run(_app(tmp_path, monkeypatch))  # IMAGEGEN_TODAY = TODAY (tests/conftest.py)
    example = planner.default_plan(CAT, TODAY)
    lines = [sc.lines[0] for sc in example.scenarios]
    assert all(lifecycle.status(CAT, ln.model, "openai", TODAY).state == "live" for ln in lines)
    assert _costs(at) == {sc.name: pytest.approx(float(_monthly(sc.lines[0], TODAY))) for sc in example.scenarios}
    # nothing in the example is shut down or retiring; an assumed figure is said to be assumed
    assert all("ASSUMED" in w.value for w in at.warning)
    assert any("gpt-image-2.5-sunburst medium" in w.value for w in at.warning)
    assert at.date_input(key="pl_fxd").value == TODAY
    # the example exchange rate is said to be an assumption to replace, not a quote of today
    rate = [m.value for m in at.markdown if "JPY per USD" in m.value]
    assert rate and "**150 JPY per USD, an assumed example rate** (not a quote of any day)" in rate[0]
    assert TODAY.isoformat() not in rate[0]
    # the quota table speaks to people: headings, not the frame's column names
    quota = next(d.value for d in at.dataframe if "Fits in the quota" in d.value.columns)
    assert list(quota.columns) == ["Scenario", "Images per day", "Share of the quota's daily capacity",
                                   "Hours a day at the quota", "Deployments needed", "Fits in the quota"]
    assert set(quota["Fits in the quota"]) <= {"yes", "no"}
    per_setting = next(d.value for d in at.dataframe if "Detail" in d.value.columns)
    assert not [c for c in [*quota.columns, *per_setting.columns] if "_" in c]  # no raw column name


def test_old_example_mini_low_vs_1_5_medium(tmp_path, monkeypatch):
    at = _run(_old_example(tmp_path, monkeypatch))
    assert Decimal("68.28") == MINI_LOW_MONTH and Decimal("1021.26") == ONE_FIVE_MEDIUM_MONTH
    assert _costs(at) == {"gpt-image-1-mini low": pytest.approx(68.28), "gpt-image-1.5 medium": pytest.approx(1021.26)}
    table = _compare(at)
    diff = "gpt-image-1.5 medium − gpt-image-1-mini low"
    assert table.loc["monthly (USD)", "gpt-image-1.5 medium"] == "$1,021.26"
    assert table.loc["monthly (USD)", diff] == "+$952.98"
    assert table.loc["monthly (JPY)", diff] == "+¥142,947"  # 952.98 x 150 (the example rate)
    assert table.loc["daily (USD)", "gpt-image-1-mini low"] == "$2.28"  # 2.276
    assert any("documented (catalog estimate)" in m.value for m in at.markdown)
    fig = figure_dict(at.get("plotly_chart")[0].proto.spec)
    assert "documented: catalog estimate" in fig["layout"]["title"]["text"]


def test_hand_computed_plan_from_a_link(tmp_path, monkeypatch):
    """1,000 gpt-image-1.5 medium 1024x1024 images a day for 30 days at 160 JPY per USD."""
    at = _run(_app(tmp_path, monkeypatch, {
        "v": "1", "src": "doc", "fx": "160", "fxd": "2026-11-20",
        "s0": "one point five!gpt-image-1.5~medium~1024x1024~1000~d"}))
    assert _costs(at) == {"one point five": pytest.approx(float(ONE_FIVE_MEDIUM_MONTH))}
    table = _compare(at)
    assert table.loc["monthly (USD)", "one point five"] == "$1,021.26"
    assert table.loc["monthly (JPY)", "one point five"] == "¥163,402"  # 1021.26 x 160 = 163,401.6
    assert table.loc["yearly (USD)", "one point five"] == "$12,255.12"
    assert table.loc["cost per image (USD)", "one point five"] == "$0.034042"
    assert at.date_input(key="pl_fxd").value == date(2026, 11, 20)
    rate = [m.value for m in at.markdown if "JPY per USD" in m.value]
    assert rate and "**160 JPY per USD** (entered, as of 2026-11-20)" in rate[0] and "example" not in rate[0]
    at.button_group(key="pl_currency").set_value("JPY").run()
    assert _costs(at) == {"one point five": pytest.approx(163401.6)}


def test_url_round_trip(tmp_path, monkeypatch):
    at = _run(_app(tmp_path, monkeypatch))
    at.number_input(key="pl_fx").set_value(155.5).run()
    at.number_input(key="pl_rpm").set_value(12.0).run()
    params = dict(at.query_params)
    assert params["fx"] == "155.5" and params["q"].startswith("12~1~1~")
    second = planner.default_plan(CAT, TODAY).scenarios[1]
    assert params["s1"] == f"{second.name}!{second.lines[0].model}~medium~1024x1024~1000~d"
    again = _run(_app(tmp_path, monkeypatch, params))
    assert _costs(again) == _costs(at)
    assert again.number_input(key="pl_fx").value == 155.5 and again.number_input(key="pl_rpm").value == 12.0
    assert _compare(again).equals(_compare(at))
    assert dict(again.query_params) == params


def test_broken_link_falls_back_to_the_example(tmp_path, monkeypatch):
    at = _run(_app(tmp_path, monkeypatch, {"v": "9", "s0": "x!gpt-image-1.5~low~1024x1024~1~d"}))
    assert any("could not be read" in e.value and "version 1" in e.value for e in at.error)
    assert set(_costs(at)) == {sc.name for sc in planner.default_plan(CAT, TODAY).scenarios}


def test_invalid_setting_is_refused_with_the_fix(tmp_path, monkeypatch):
    at = _run(_app(tmp_path, monkeypatch, {"s0": "x!gpt-image-1.5~standard~1024x1024~1~d"}))
    assert any("quality='standard'" in e.value and "Fix" in e.value for e in at.error)
    assert not at.get("plotly_chart")


def test_add_scenario_compares_three(tmp_path, monkeypatch):
    at = _run(_old_example(tmp_path, monkeypatch))
    at.button(key="pl_add").click().run()
    table = _compare(at)
    assert "scenario 3 − gpt-image-1-mini low" in table.columns
    assert table.loc["monthly (USD)", "scenario 3"] == "$1,021.26"  # a copy of the last scenario
    assert "s2" in at.query_params


def test_quota_planning(tmp_path, monkeypatch):
    at = _run(_app(tmp_path, monkeypatch, {"s0": "a!gpt-image-1.5~medium~1024x1024~1000~d",
                                           "q": "9~1~1~1000~24"}))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Most images per hour"] == "540"
    assert metrics["Most images per day (24 h)"] == "12,960"
    assert metrics["Time for 1,000 images"] == "1:51:06"  # 1000 requests / 9 per minute = 111.1 minutes
    at.number_input(key="pl_dep").set_value(2).run()
    assert {m.label: m.value for m in at.metric}["Most images per hour"] == "1,080"


def test_measured_figures_from_chosen_runs(tmp_path, monkeypatch):
    store, (summary,) = simulated_runs(tmp_path, specs=(SPEC_QUALITY_SIZE,))
    rows = store.results(summary.run_id)
    medium = rows[(rows["quality"] == "medium") & (rows["size"] == "1024x1024")]
    per_image = sum(Decimal(c) for c in medium["cost_usd"]) / len(medium)
    at = _run(_app(tmp_path, monkeypatch, {
        "src": "meas", "runs": summary.run_id,
        "s0": "mini!gpt-image-1-mini~low~1024x1024~1000~d", "s1": "measured!gpt-image-1.5~medium~1024x1024~1000~d"}))
    assert _costs(at)["measured"] == pytest.approx(float(1000 * 30 * per_image))
    assert _costs(at)["mini"] == pytest.approx(float(MINI_LOW_MONTH))  # not in the run: documented
    assert any("simulated (mean billed cost per image from 1 run) + documented where not measured" in m.value
               for m in at.markdown)
    assert any("not measured in the chosen runs" in w.value for w in at.warning)
    assert at.multiselect(key="pl_runs").value == [summary.run_id]


def test_a_price_override_changes_the_plan(tmp_path, monkeypatch):
    catalog = default_catalog()
    overrides.add_override(tmp_path, overrides.make_override(catalog, "gpt-image-1.5", "openai", date(2026, 1, 1),
                                                             image_output=40, note="negotiated"))
    at = _run(_old_example(tmp_path, monkeypatch))
    expected = 1000 * 30 * (1056 * Decimal(40) + 50 * Decimal(5)) / M
    assert _costs(at)["gpt-image-1.5 medium"] == pytest.approx(float(expected))
    assert _costs(at)["gpt-image-1-mini low"] == pytest.approx(float(MINI_LOW_MONTH))
    details = next(d.value for d in at.dataframe if "Detail" in d.value.columns)
    assert details["Detail"].str.contains(r"\+override").any()


def test_csv_export_is_offered(tmp_path, monkeypatch):
    at = _run(_app(tmp_path, monkeypatch))
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Plan as CSV" in labels and "Data as CSV" in labels
    config = json.loads(at.get("plotly_chart")[0].proto.config)
    assert config["toImageButtonOptions"]["filename"] == "plan_costs"


def test_loading_a_plan_csv_replaces_the_plan(tmp_path, monkeypatch):
    from imagegen.insight import planner
    from imagegen.insight.planner import BudgetPlan, PlanLine, Scenario

    plan = BudgetPlan((Scenario("from csv", (PlanLine("gpt-image-1.5", "medium", "1024x1024", Decimal(30000), per="month"),)),),
                jpy_per_usd=Decimal("140"), rate_date=date(2026, 11, 1))
    at = _run(_app(tmp_path, monkeypatch))
    at.file_uploader(key="pl_csv").set_value(("plan.csv", planner.to_csv(plan).encode("utf-8"), "text/csv")).run()
    assert not at.exception
    assert _costs(at) == {"from csv": pytest.approx(float(ONE_FIVE_MEDIUM_MONTH))}
    assert at.number_input(key="pl_fx").value == 140.0
    assert at.query_params["s0"] == "from csv!gpt-image-1.5~medium~1024x1024~30000~m"
    at.file_uploader(key="pl_csv").set_value(("bad.csv", b"a,b\n1,2\n", "text/csv")).run()
    assert any("could not be loaded as a plan" in e.value and "missing column" in e.value for e in at.error)


def test_editor_table_round_trip():
    import pandas as pd

    from imagegen.insight.planner import PlanLine, frame_lines, lines_frame

    lines = (PlanLine("gpt-image-1.5", "medium", "1024x1024", Decimal("12.5"), per="month", prompt_tokens=80,
                      provider="azure"), PlanLine("gpt-image-1-mini", "low", "1536x1024", Decimal(1000)))
    table = lines_frame(lines)
    assert frame_lines(table) == lines
    half_typed = pd.concat([table, pd.DataFrame([{"model": None, "images": None}])], ignore_index=True)
    assert frame_lines(half_typed) == lines  # a new row without a model is not a line yet
