"""The catalog's figures for today's models (issue 11), each with its real status.

These pin published or measured facts, so a wrong data edit fails here with the fact it broke.
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from imagegen.core.catalog import DATA_DIR, load_catalog, size_problem
from imagegen.core.pricing import Usage, cost_of, estimate, figure_label
from imagegen.core.request import ImageRequest, problems, validate
from imagegen.core.request import warnings as request_warnings
from imagegen.errors import InvalidRequest

CATALOG = load_catalog()
TODAY = date(2026, 12, 1)
MEASURED = "measured (third party, 2026-09-16)"


def _catalog_with(tmp_path: Path, file: str, old: str, new: str):
    """A copy of the packaged catalog with one text edit in one data file."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    text = (data / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {file}"
    (data / file).write_text(text.replace(old, new), encoding="utf-8")
    return load_catalog(data)


@pytest.mark.parametrize("model", ["gpt-image-2.5-flare", "gpt-image-2.5-sunburst"])
def test_gpt_image_2_5_measured_tokens_at_1024(model):
    for quality, tokens in (("low", 196), ("high", 1756), ("max", 7024)):
        est = estimate(ImageRequest(model, "a red fox", quality=quality, size="1024x1024"), CATALOG, TODAY)
        assert (est.output_tokens_min, est.output_tokens_max) == (tokens, tokens)
        assert est.token_status == "measured" and est.token_label == MEASURED
        assert figure_label(CATALOG, model, quality, "1024x1024") == MEASURED
        assert est.cost_max.image_output == Decimal(tokens) * Decimal(30) / Decimal(1_000_000)


@pytest.mark.parametrize("model", ["gpt-image-2.5-flare", "gpt-image-2.5-sunburst"])
def test_gpt_image_2_5_medium_and_xhigh_are_assumed_ranges_and_budgets_reserve_the_top(model):
    medium = estimate(ImageRequest(model, "a red fox", quality="medium", size="1024x1024"), CATALOG, TODAY)
    xhigh = estimate(ImageRequest(model, "a red fox", quality="xhigh", size="1024x1024"), CATALOG, TODAY)
    assert (medium.output_tokens_min, medium.output_tokens_max) == (196, 1756)
    assert (xhigh.output_tokens_min, xhigh.output_tokens_max) == (1756, 7024)
    for est in (medium, xhigh):
        assert est.token_status == "assumed" and est.token_label == "assumed"
        assert any("assumed, no published figure" in n and "the budget reserves" in n for n in est.notes)


def test_old_doubling_assumption_is_gone():
    est = estimate(ImageRequest("gpt-image-2.5-flare", "x", quality="max", size="1024x1024"), CATALOG, TODAY)
    assert est.output_tokens_max != 112_383  # the "x2 per step" figure, 16x too high


@pytest.mark.parametrize("model", ["gpt-image-2.5-flare", "gpt-image-2.5-sunburst"])
def test_transparent_accepted_on_2_5(model):
    req = ImageRequest(model, "a logo", provider="openai", background="transparent", output_format="png")
    assert validate(req, CATALOG, TODAY) is req
    assert request_warnings(req, CATALOG) == []


def test_transparent_on_gpt_image_2_is_a_preview_with_a_warning():
    req = ImageRequest("gpt-image-2", "a logo", provider="openai", background="transparent", output_format="webp")
    assert validate(req, CATALOG, TODAY) is req
    assert any("preview" in w for w in request_warnings(req, CATALOG))
    est = estimate(req, CATALOG, TODAY)
    assert any("preview" in n for n in est.notes)


def test_transparent_refused_on_2_6_which_the_sdk_does_not_name():
    with pytest.raises(InvalidRequest, match="no transparency"):
        validate(ImageRequest("gpt-image-2.6-flare", "x", background="transparent"), CATALOG, TODAY)


@pytest.mark.parametrize("complexity", ["low", "medium", "high"])
def test_complexity_accepted_on_2_6(complexity):
    req = ImageRequest("gpt-image-2.6-sunburst", "x", provider="openai", quality="high", size="1024x1024",
                       complexity=complexity)
    assert validate(req, CATALOG, TODAY) is req
    assert req.api_body()["complexity"] == complexity


def test_complexity_refused_elsewhere_with_the_rule():
    with pytest.raises(InvalidRequest, match="documented for gpt-image-2.6 only"):
        validate(ImageRequest("gpt-image-2", "x", complexity="low"), CATALOG, TODAY)
    with pytest.raises(InvalidRequest, match="complexity"):
        validate(ImageRequest("gpt-image-2.6-flare", "x", complexity="extreme"), CATALOG, TODAY)


def test_complexity_is_priced_per_the_catalog(tmp_path):
    req = ImageRequest("gpt-image-2.6-flare", "x", quality="high", size="1024x1024", complexity="high")
    # the packaged catalog: third-party docs say complexity adds no charge
    plain = estimate(req.with_(complexity=None), CATALOG, TODAY)
    assert estimate(req, CATALOG, TODAY).output_tokens_max == plain.output_tokens_max == 1756
    # change the catalog entry and the estimate follows it
    doubled = _catalog_with(tmp_path, "tokens.toml", "complexity_multiplier = { low = 1, medium = 1, high = 1 }",
                            "complexity_multiplier = { low = 1, medium = 1, high = 2 }")
    assert estimate(req, doubled, TODAY).output_tokens_max == 2 * 1756
    assert estimate(req.with_(complexity="low"), doubled, TODAY).output_tokens_max == 1756


def test_2_6_tokens_follow_the_third_party_rule():
    """low/medium 3-4x of 2.5 (assumed range), high equal to 2.5 high."""
    low = estimate(ImageRequest("gpt-image-2.6-flare", "x", quality="low", size="1024x1024"), CATALOG, TODAY)
    high = estimate(ImageRequest("gpt-image-2.6-flare", "x", quality="high", size="1024x1024"), CATALOG, TODAY)
    assert (low.output_tokens_min, low.output_tokens_max) == (3 * 196, 4 * 196) and low.token_status == "assumed"
    assert high.output_tokens_max == 1756 and high.token_status == "derived"


def test_budget_for_n2_with_two_partials_reserves_the_larger_reading():
    req = ImageRequest("gpt-image-2.5-flare", "x", quality="low", size="1024x1024", n=2, stream=True,
                       partial_images=2)
    est = estimate(req, CATALOG, TODAY)
    assert est.output_tokens_max == 2 * 196 + 2 * 2 * 100  # n x partial_images x 100
    assert est.output_tokens_min == 2 * 196 + 2 * 100      # the other reading
    assert any("ambiguous" in n for n in est.notes)


def test_text_output_tokens_are_priced_at_the_text_output_rate():
    usage = Usage.from_api({"input_tokens": 10, "input_tokens_details": {"text_tokens": 10, "image_tokens": 0},
                            "output_tokens": 1106, "total_tokens": 1116,
                            "output_tokens_details": {"image_tokens": 1056, "text_tokens": 50}})
    price = CATALOG.price_for("gpt-image-1.5", "openai", TODAY)
    cost = cost_of(usage, price)
    assert cost.text_output == Decimal(50) * Decimal("10.00") / Decimal(1_000_000)
    assert cost.image_output == Decimal(1056) * Decimal("32.00") / Decimal(1_000_000)
    latest = CATALOG.price_for("chatgpt-image-latest", "openai", TODAY)
    assert latest.text_output == Decimal("10.00")


def test_edit_input_tokens_on_2_x_use_the_measured_figure():
    edit = dict(operation="edit", input_images=((1024, 1024),))
    two = estimate(ImageRequest("gpt-image-2", "x", quality="low", size="1024x1024", **edit), CATALOG, TODAY)
    one = estimate(ImageRequest("gpt-image-1.5", "x", quality="low", size="1024x1024", **edit), CATALOG, TODAY)
    assert two.input_image_tokens == 1024   # third party, not 194 and not 194 + 4160
    assert one.input_image_tokens == 194    # the published gpt-image-1 tile method
    assert CATALOG.tokens["gpt-image-2"].input_image.label == "measured (third party, 2026-12-01)"


@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst"])
def test_arbitrary_sizes_on_2_and_2_5(model):
    spec = CATALOG.model(model)
    for size in ("2048x1152", "1536x864", "3840x2160", "1024x3072"):
        assert size_problem(spec, size) is None, size


def test_2_6_takes_only_the_standard_sizes():
    spec = CATALOG.model("gpt-image-2.6-flare")
    assert size_problem(spec, "1536x1024") is None
    assert "only the fixed sizes" in size_problem(spec, "2048x1152")


@pytest.mark.parametrize(("size", "rule"), [
    ("1000x2000", "multiples of 16 (1000 is not)"),
    ("3072x1008", "aspect ratio"),
    ("512x512", "pixel count"),
    ("4096x2048", "at most 3840"),
    ("big", "not WIDTHxHEIGHT"),
])
def test_a_refused_size_names_the_rule_that_failed(size, rule):
    found = problems(ImageRequest("gpt-image-2", "x", size=size), CATALOG, TODAY)
    assert [p.field for p in found] == ["size"] and rule in found[0].allowed


def test_azure_max_edge_is_below_3840():
    spec = CATALOG.model("gpt-image-2")
    assert size_problem(spec, "3840x2160", "openai") is None
    assert "less than 3840" in size_problem(spec, "3840x2160", "azure")
    assert size_problem(spec, "3824x2144", "azure") is None


def test_gif_and_svg_are_gated_options_on_2_6():
    req = ImageRequest("gpt-image-2.6-flare", "x", output_format="gif", frame_count=4)
    assert validate(req, CATALOG, TODAY) is req
    assert any("preview" in w for w in request_warnings(req, CATALOG))
    with pytest.raises(InvalidRequest, match="frame_count"):
        validate(req.with_(frame_count=17), CATALOG, TODAY)
    with pytest.raises(InvalidRequest, match="output_format"):
        validate(ImageRequest("gpt-image-2", "x", output_format="gif"), CATALOG, TODAY)


def test_gpt_image_1_5_azure_retirement_conflict_stays_visible():
    azure = CATALOG.model("gpt-image-1.5").providers["azure"]
    assert azure.shutdown == date(2027, 6, 16)
    assert "2026-12-16" in azure.conflict and "LiteLLM" in azure.conflict


def test_chatgpt_image_latest_has_a_list_price_row_labelled_assumed():
    assert CATALOG.list_price("chatgpt-image-latest", "openai", "medium", "1024x1024") == Decimal("0.034")
    row = next(lp for lp in CATALOG.list_prices if lp.model == "chatgpt-image-latest")
    assert row.status == "assumed"


def test_2_6_prices_cite_openai():
    for model in ("gpt-image-2.6-flare", "gpt-image-2.6-sunburst"):
        assert CATALOG.price_for(model, "openai", TODAY).source.startswith("https://developers.openai.com/")


def test_every_price_and_token_table_has_a_status_source_and_date():
    for tm in CATALOG.tokens.values():
        assert tm.status and tm.source and tm.checked
        if tm.status == "measured":
            assert tm.measured_by and tm.measured_on
    for p in CATALOG.prices:
        assert p.status in ("documented", "derived", "assumed", "measured") and p.source and p.checked


@pytest.mark.parametrize("model", ["gpt-image-2.6-flare", "gpt-image-2.6-sunburst"])
def test_2_6_measured_cells_at_1536x1024_win_over_the_assumed_multipliers(model):
    """Third party, 2026-11-05: 1536x1024 low 664 and high 1,353. low is 4.2x of 2.5 there, above the docs'
    3-4x, so the old 4x budget (632) reserved less than was measured."""
    label = "measured (third party, 2026-11-05)"
    for quality, tokens in (("low", 664), ("high", 1353)):
        est = estimate(ImageRequest(model, "x", quality=quality, size="1536x1024"), CATALOG, TODAY)
        assert (est.output_tokens_min, est.output_tokens_max) == (tokens, tokens)
        assert est.token_status == "measured" and est.token_label == label and est.notes == ()
    two_five = estimate(ImageRequest("gpt-image-2.5-flare", "x", quality="low", size="1536x1024"), CATALOG, TODAY)
    assert 4 * two_five.output_tokens_max < 664  # what the multiplier range alone would have reserved
    # elsewhere the docs' rule still holds (an assumed range, budgets reserve 4x)
    other = estimate(ImageRequest(model, "x", quality="low", size="1024x1536"), CATALOG, TODAY)
    assert other.token_status == "assumed" and other.output_tokens_max == 4 * 158


def test_2_6_sdk_vs_third_party_conflict_is_data_and_the_sdk_rule_stands():
    for model in ("gpt-image-2.6-flare", "gpt-image-2.6-sunburst"):
        conflict = CATALOG.model(model).conflict
        assert conflict.startswith("Conflict") and "SDK 3.57" in conflict
        assert all(w in conflict for w in ("xhigh", "max", "3840x2160", "markup", "2026-11-05"))
    with pytest.raises(InvalidRequest, match="quality"):
        validate(ImageRequest("gpt-image-2.6-flare", "x", quality="xhigh"), CATALOG, TODAY)
    assert "only the fixed sizes" in size_problem(CATALOG.model("gpt-image-2.6-flare"), "3840x2160")


def test_gpt_image_2_text_output_conflict_is_data_and_the_larger_rate_is_charged():
    price = CATALOG.price_for("gpt-image-2", "openai", TODAY)
    assert price.text_output is None and "conflict" in price.note.lower() and "$10" in price.note
    usage = Usage.from_api({"input_tokens": 10, "output_tokens": 246,
                            "output_tokens_details": {"image_tokens": 196, "text_tokens": 50}})
    assert cost_of(usage, price).text_output == Decimal(50) * Decimal("30.00") / Decimal(1_000_000)
