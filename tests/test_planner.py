"""Budget planner: hand-computed costs, measured vs documented, quota, scenario differences, URL and CSV."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagegen.core import lifecycle
from imagegen.core.catalog import default_catalog
from imagegen.core.overrides import make_override
from imagegen.core.pricing import expected_figure
from imagegen.insight import planner
from imagegen.insight.planner import BudgetPlan, PlanError, PlanLine, Quota, Scenario

M = Decimal(1_000_000)
TODAY = date(2026, 11, 25)
# Hand-computed: documented output tokens x image-output rate + 50 prompt tokens x text-input rate.
MINI_LOW = (272 * Decimal(8) + 50 * Decimal(2)) / M          # 0.002276
ONE_FIVE_MEDIUM = (1056 * Decimal(32) + 50 * Decimal(5)) / M  # 0.034042


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def _plan(*scenarios, **kw) -> BudgetPlan:
    return BudgetPlan(scenarios=tuple(scenarios), rate_date=TODAY, **kw)


def _mini_vs_one_five() -> BudgetPlan:
    """The old example, 1,000 a day of gpt-image-1-mini low vs gpt-image-1.5 medium on OpenAI, priced on
    TODAY (2026-11-25) when both still ran there: the hand-computed figures below are for these two."""
    return _plan(Scenario("gpt-image-1-mini low", (PlanLine("gpt-image-1-mini", "low", "1024x1024", Decimal(1000)),)),
                 Scenario("gpt-image-1.5 medium", (PlanLine("gpt-image-1.5", "medium", "1024x1024", Decimal(1000)),)))


def test_hand_computed_1000_gpt_image_1_5_medium_a_day(catalog):
    """1,000 gpt-image-1.5 medium 1024x1024 images a day for a 30-day month, 50 prompt tokens each."""
    plan = _plan(Scenario("A", (PlanLine("gpt-image-1.5", "medium", "1024x1024", Decimal(1000)),)),
                 jpy_per_usd=Decimal("150"))
    sc = planner.evaluate(plan, catalog, on=TODAY).scenarios[0]
    assert Decimal("0.034042") == ONE_FIVE_MEDIUM
    assert sc.lines[0].cost_per_image_usd == ONE_FIVE_MEDIUM
    assert sc.daily_usd == Decimal("34.042")
    assert sc.monthly_usd == Decimal(1000) * 30 * ONE_FIVE_MEDIUM == Decimal("1021.26")
    assert sc.yearly_usd == Decimal("12255.12")
    assert planner.evaluate(plan, catalog, on=TODAY).jpy(sc.monthly_usd) == Decimal("153189.00")
    assert sc.lines[0].source == "documented"
    assert "1,056 output + 50 text input tokens" in sc.lines[0].detail
    assert "openai/gpt-image-1.5@2025-12-16" in sc.lines[0].detail


def test_per_month_volume_equals_the_daily_one(catalog):
    per_day = PlanLine("gpt-image-1-mini", "low", "1024x1024", Decimal(1000))
    per_month = PlanLine("gpt-image-1-mini", "low", "1024x1024", Decimal(30000), per="month")
    res = planner.evaluate(_plan(Scenario("d", (per_day,)), Scenario("m", (per_month,))), catalog, on=TODAY)
    d, m = res.scenarios
    assert d.monthly_usd == m.monthly_usd == 30000 * MINI_LOW
    assert d.daily_usd == m.daily_usd
    assert m.images_per_day == 1000


def test_days_per_month_and_prompt_tokens(catalog):
    line = PlanLine("gpt-image-1.5", "medium", "1024x1024", Decimal(10), prompt_tokens=0)
    res = planner.evaluate(_plan(Scenario("s", (line,)), days_per_month=Decimal("31")), catalog, on=TODAY)
    assert res.scenarios[0].monthly_usd == 10 * 31 * 1056 * Decimal(32) / M


def test_auto_quality_budgets_the_largest_output(catalog):
    cost, detail = planner.documented_cost(PlanLine("gpt-image-1.5", "auto", "1024x1024", Decimal(1)), catalog, TODAY)
    assert cost == (4160 * Decimal(32) + 50 * Decimal(5)) / M
    assert detail.startswith("4,160 output")


def test_scenarios_side_by_side_with_differences(catalog):
    res = planner.evaluate(_mini_vs_one_five(), catalog, on=TODAY)
    table = planner.compare(res).set_index("metric")
    assert list(table.columns) == ["gpt-image-1-mini low", "gpt-image-1.5 medium",
                                   "gpt-image-1.5 medium − gpt-image-1-mini low"]
    monthly = table.loc["monthly (USD)"]
    assert monthly["gpt-image-1-mini low"] == Decimal("68.28")
    assert monthly["gpt-image-1.5 medium"] == Decimal("1021.26")
    assert monthly["gpt-image-1.5 medium − gpt-image-1-mini low"] == Decimal("952.98")
    assert table.loc["cost per image (USD)", "gpt-image-1-mini low"] == MINI_LOW
    assert table.loc["yearly (JPY)", "gpt-image-1.5 medium − gpt-image-1-mini low"] == Decimal("952.98") * 12 * 150


def test_three_scenarios_compare_to_the_first(catalog):
    third = Scenario("mix", (PlanLine("gpt-image-1-mini", "low", "1024x1024", Decimal(500)),
                             PlanLine("gpt-image-1.5", "medium", "1024x1024", Decimal(500))))
    plan = _mini_vs_one_five()
    res = planner.evaluate(planner.with_scenarios(plan, [*plan.scenarios, third]), catalog, on=TODAY)
    table = planner.compare(res).set_index("metric")
    assert table.loc["monthly (USD)", "mix − gpt-image-1-mini low"] == 15000 * ONE_FIVE_MEDIUM - 15000 * MINI_LOW
    assert table.loc["cost per image (USD)", "mix"] == (MINI_LOW + ONE_FIVE_MEDIUM) / 2
    rows = planner.breakdown(res)
    assert list(rows[rows["scenario"] == "mix"]["line"]) == ["gpt-image-1-mini low 1024x1024",
                                                             "gpt-image-1.5 medium 1024x1024"]


def test_measured_figures_replace_documented_where_measured(catalog):
    measured = pd.DataFrame([{"model": "gpt-image-1.5", "quality": "medium", "size": "1024x1024", "provider": "openai", "images": 4,
                              "results": 4, "cost_usd_per_image": Decimal("0.04"), "simulated": True}])
    plan = planner.with_scenarios(_mini_vs_one_five(), _mini_vs_one_five().scenarios)
    plan = BudgetPlan(plan.scenarios, rate_date=TODAY, source="measured", run_ids=("r1",))
    res = planner.evaluate(plan, catalog, measured, on=TODAY)
    mini, one_five = res.scenarios
    assert one_five.lines[0].cost_per_image_usd == Decimal("0.04") and one_five.lines[0].source == "simulated"
    assert one_five.monthly_usd == Decimal("1200.00")
    assert mini.lines[0].source == "documented"  # not measured in those runs
    assert any("not measured in the chosen runs" in w for w in res.warnings)
    assert res.source_label == "simulated (mean billed cost per image from 1 run) + documented where not measured"
    assert "mean billed cost" in res.included


def test_documented_label_and_measured_without_runs(catalog):
    res = planner.evaluate(_mini_vs_one_five(), catalog, on=TODAY)
    assert res.source_label == "documented (catalog estimate)"
    empty = BudgetPlan(_mini_vs_one_five().scenarios, rate_date=TODAY, source="measured")
    res = planner.evaluate(empty, catalog, on=TODAY)
    assert res.source_label == "documented (catalog estimate)"
    assert any("no run is selected" in w for w in res.warnings)


def test_a_price_override_changes_the_documented_cost(catalog):
    override = make_override(catalog, "gpt-image-1.5", "openai", date(2026, 1, 1), image_output=40)
    res = planner.evaluate(_mini_vs_one_five(), catalog.with_overrides([override]), on=TODAY)
    line = res.scenarios[1].lines[0]
    assert line.cost_per_image_usd == (1056 * Decimal(40) + 50 * Decimal(5)) / M
    assert "+override" in line.detail and "local override" in line.detail


def test_lifecycle_warnings_read_correctly_for_retiring_shut_down_and_live(catalog):
    res = planner.evaluate(_mini_vs_one_five(), catalog, on=TODAY)  # 6 days before the OpenAI shutdown
    assert ("gpt-image-1.5 medium 1024x1024: gpt-image-1.5 shuts down on openai on 2026-12-01 (in 6 days); "
            "successor: gpt-image-2.6-sunburst. It runs on azure until 2027-06-16. Monthly and yearly figures past "
            "the shutdown are hypothetical.") in res.warnings
    later = planner.evaluate(_mini_vs_one_five(), catalog, on=date(2026, 12, 2))
    assert ("gpt-image-1-mini low 1024x1024: gpt-image-1-mini was shut down on openai on 2026-12-01; successor: "
            "gpt-image-2.6-sunburst. It runs on azure until 2027-04-07. Its figures are hypothetical: it cannot be "
            "bought there on this date.") in later.warnings
    assert not any("still running" in w or "shut down there" in w for w in later.warnings)  # the old garbled one
    current = _plan(Scenario("now", (PlanLine("gpt-image-2", "low", "1024x1024", Decimal(1)),)))
    assert planner.evaluate(current, catalog, on=TODAY).warnings == ()  # no shutdown date on openai
    azure = _plan(Scenario("az", (PlanLine("gpt-image-2", "low", "1024x1024", Decimal(1), provider="azure"),)))
    soon = catalog.model("gpt-image-2").providers["azure"].shutdown - timedelta(days=catalog.soon_days)
    assert planner.evaluate(azure, catalog, on=soon).warnings == (
        f"gpt-image-2 low 1024x1024 (azure): gpt-image-2 shuts down on azure on 2027-10-21 (in {catalog.soon_days} "
        "days). It keeps running on openai (no shutdown scheduled there). Monthly and yearly figures past the "
        "shutdown are hypothetical.",)
    assert planner.evaluate(azure, catalog, on=soon - timedelta(days=1)).warnings == ()  # outside the soon window


@pytest.mark.parametrize("day", [date(2026, 12, 1), date(2027, 5, 1), date(2027, 8, 1), date(2028, 1, 1)])
@pytest.mark.parametrize("provider", ["openai", "azure"])
def test_the_example_plan_compares_models_live_on_the_day(catalog, day, provider):
    plan = planner.default_plan(catalog, day, provider)
    assert plan.rate_date == day
    lines = [sc.lines[0] for sc in plan.scenarios]
    runs = lifecycle.preferred_models(catalog, lines[0].provider, day)  # live first, then retiring
    assert [ln.model for ln in lines] == runs[:2]  # the data's preference order, models that run that day
    assert [ln.quality for ln in lines] == ["low", "medium"]
    every = planner.evaluate(plan, catalog, on=day).warnings
    # a line whose catalog tokens are assumed (gpt-image-2.5 medium) says so: the budget uses the range's top
    assumed = [w for w in every if "ASSUMED" in w]
    assert len(assumed) == sum(expected_figure(catalog, ln.model, ln.quality, ln.size).status == "assumed"
                               for ln in lines)
    warnings = tuple(w for w in every if "ASSUMED" not in w)
    assert not any("was shut down" in w or "not offered" in w for w in warnings)
    assert len(warnings) == sum(lifecycle.status(catalog, ln.model, ln.provider, day).state == "retiring"
                                for ln in lines)
    if provider == "openai":
        assert warnings == ()  # the newest OpenAI models have no shutdown date
    if provider == "azure":  # nothing runs on Azure on 2028-01-01: the example falls back to OpenAI
        assert lines[0].provider == ("openai" if day == date(2028, 1, 1) else "azure")


@pytest.mark.parametrize(("line", "message"), [
    (dict(model="gpt-image-1.5", quality="standard", size="1024x1024"), "quality='standard'"),
    (dict(model="gpt-image-1.5", quality="low", size="512x512"), "size='512x512'"),
    (dict(model="dall-e-3", quality="low", size="1024x1024"), "not in the catalog"),
])
def test_invalid_lines_are_refused_with_the_fix(catalog, line, message):
    with pytest.raises(PlanError, match="Fix") as exc:
        planner.evaluate(_plan(Scenario("x", (PlanLine(images=Decimal(1), **line),))), catalog, on=TODAY)
    assert message in str(exc.value)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: PlanLine("gpt-image-1.5", "low", "1024x1024", Decimal(-1)), "0 or more"),
    (lambda: PlanLine("gpt-image-1.5", "low", "1024x1024", "lots"), "not a number"),
    (lambda: PlanLine("gpt-image-1.5", "low", "1024x1024", Decimal(1), per="week"), "day or month"),
    (lambda: PlanLine("gpt-image-1.5", "low", "1024x1024", Decimal(1), provider="simulator"), "openai or azure"),
    (lambda: Quota(rpm=0), "above 0"),
    (lambda: Quota(images_per_request=11), "1..10"),
    (lambda: _plan(Scenario("a", ()), Scenario("a", ())), "used twice"),
    (lambda: _plan(), "no scenario"),
    (lambda: _plan(Scenario("a", ()), jpy_per_usd=Decimal(0)), "above 0"),
])
def test_bad_values_name_the_value_and_the_fix(build, message):
    with pytest.raises(PlanError, match="Fix") as exc:
        build()
    assert message in str(exc.value)


def test_quota_capacity_and_batch_time():
    cap = planner.quota_capacity(Quota(rpm=Decimal(9), deployments=1, images_per_request=1, batch_images=1000))
    assert (cap.images_per_hour, cap.images_per_day) == (540, 12960)
    assert cap.batch_requests == 1000
    assert cap.batch_minutes == Decimal(1000) / 9
    assert cap.batch_time == timedelta(seconds=float(Decimal(1000) / 9 * 60))
    two = planner.quota_capacity(Quota(rpm=Decimal(9), deployments=2, images_per_request=4, batch_images=1000))
    assert two.images_per_hour == 9 * 2 * 4 * 60 and two.batch_requests == 250
    assert two.batch_minutes == Decimal(250) / 18
    assert two.limited_by == "quota"


def test_concurrency_can_bind_before_the_quota():
    cap = planner.quota_capacity(Quota(rpm=Decimal(9)), latency_s=60, concurrency=4)
    assert cap.limited_by == "concurrency" and cap.requests_per_minute == 4


def test_scenario_quota_needs(catalog):
    res = planner.evaluate(_mini_vs_one_five(), catalog, on=TODAY)
    cap = planner.quota_capacity(Quota(rpm=Decimal(9), hours_per_day=Decimal(8)))
    needs = planner.scenario_quota(res, cap).set_index("scenario")
    row = needs.loc["gpt-image-1.5 medium"]
    assert cap.images_per_day == 4320
    assert row["hours_needed_per_day"] == Decimal(1000) / 540
    assert bool(row["fits"]) and row["deployments_needed"] == 1
    tight = planner.scenario_quota(res, planner.quota_capacity(Quota(rpm=Decimal(1), hours_per_day=Decimal(8))))
    assert tight.set_index("scenario").loc["gpt-image-1.5 medium", "deployments_needed"] == 3  # 1000 / 480


def test_url_round_trip_is_compact_and_versioned():
    plan = BudgetPlan(
        scenarios=(Scenario("A & B!~%", (PlanLine("gpt-image-1.5", "medium", "1024x1024", Decimal("12.5"),
                                                  per="month", prompt_tokens=80, provider="azure"),
                                         PlanLine("gpt-image-1-mini", "low", "1024x1536", Decimal(3)))),
                   Scenario("plain", (PlanLine("gpt-image-2", "high", "2048x2048", Decimal(1)),))),
        jpy_per_usd=Decimal("155.25"), rate_date=date(2026, 11, 20), source="measured", run_ids=("r1", "r2"),
        days_per_month=Decimal("30.5"),
        quota=Quota(rpm=Decimal(12), deployments=2, images_per_request=3, batch_images=500, hours_per_day=Decimal(8)))
    params = planner.to_query(plan)
    assert params["v"] == "1"
    assert params["s1"] == "plain!gpt-image-2~high~2048x2048~1~d"  # defaults are left out
    assert planner.from_query(params, TODAY) == plan
    assert planner.from_query({k: [v] for k, v in params.items()}, TODAY) == plan  # repeated-key form


@settings(max_examples=50, deadline=None)
@given(name=st.text(min_size=1, max_size=30), images=st.decimals(min_value=0, max_value=10**7, places=2),
       tokens=st.integers(min_value=0, max_value=5000))
def test_url_round_trip_property(name, images, tokens):
    plan = BudgetPlan((Scenario(name, (PlanLine("gpt-image-1.5", "low", "1024x1024", images, prompt_tokens=tokens),)),),
                rate_date=TODAY)
    assert planner.from_query(planner.to_query(plan), TODAY) == plan


@pytest.mark.parametrize(("params", "message"), [
    ({"v": "2", "s0": "a!x~low~1024x1024~1~d"}, "version 1"),
    ({"s0": "a!gpt-image-1.5~low"}, "has 2 fields"),
    ({"s0": "a!gpt-image-1.5~low~1024x1024~1~w"}, "d (day) or m (month)"),
    ({"s0": "a"}, "has no line"),
    ({"s0": "a!gpt-image-1.5~low~1024x1024~1~d", "fxd": "yesterday"}, "not a date"),
    ({"s0": "a!gpt-image-1.5~low~1024x1024~1~d", "q": "9~1"}, "rpm~deployments~n~batch~hours"),
    ({"s0": "a!gpt-image-1.5~low~1024X1024~1~d"}, 'URL parameter s0: size = "1024X1024" is not in the canonical form'),
    ({"s0": "a!gpt-image-1.5~low~1024x1024~nan~d"}, "URL parameter s0: images = nan is not allowed"),
    ({"s0": "a!gpt-image-1.5~low~1024x1024~lots~d"}, 'images = "lots" is text, not a number of images'),
    ({"s0": "a!gpt-image-1.5~low~1024x1024~1~d~2.5"}, "prompt_tokens = 2.5 is a float"),
    ({"s0": "a!gpt-image-1.5~low~1024x1024~1~d~50~azur"}, 'provider = "azur" is not allowed: one of openai, azure '
                                                           '(did you mean "azure"?)'),
    ({"s0": "a!gpt-image-1.5~low~1024x1024~1~d", "q": "9~1~11~1000~24"}, "URL parameter q: images_per_request = 11"),
    ({"s0": "a!gpt-image-1.5~low~1024x1024~1~d", "q": "inf~1~1~1000~24"}, "URL parameter q: rpm = inf is not allowed"),
])
def test_broken_links_say_what_is_wrong(params, message):
    with pytest.raises(PlanError) as exc:
        planner.from_query(params, TODAY)
    assert message in str(exc.value) and "Fix:" in str(exc.value)


def test_no_plan_in_the_url_gives_none():
    assert planner.from_query({}, TODAY) is None
    assert planner.from_query({"other": "1"}, TODAY) is None


def test_csv_round_trip_with_results(catalog):
    plan = _mini_vs_one_five()
    res = planner.evaluate(plan, catalog, on=TODAY)
    text = planner.to_csv(plan, res)
    assert planner.from_csv(text) == plan
    frame = pd.read_csv(__import__("io").StringIO(text))
    assert list(frame.columns) == [*planner.PLAN_CSV_COLUMNS, *planner.RESULT_CSV_COLUMNS]
    assert Decimal(str(frame.loc[1, "monthly_usd"])) == Decimal("1021.26")
    assert frame.loc[1, "cost_source"] == "documented"


def test_csv_errors_name_the_problem():
    with pytest.raises(PlanError, match="missing column"):
        planner.from_csv("scenario,model\na,b\n")
    text = planner.to_csv(_mini_vs_one_five()).replace(",1000,day,", ",many,day,", 1)
    with pytest.raises(PlanError, match="line 2: images"):
        planner.from_csv(text)


def test_money_display():
    assert planner.format_money(Decimal("1021.26")) == "$1,021.26"
    assert planner.format_money(Decimal("0.034042")) == "$0.034042"
    assert planner.format_money(Decimal("153189.4")) == "$153,189.40"
    assert planner.format_money(Decimal("153189.5"), "JPY") == "¥153,190"
    assert planner.format_money(Decimal("-2.5")) == "-$2.50"
    assert planner.format_money(None) == "–"
