"""imagegen.core.axes: every value offered passes request validation; the seed's conditional rules hold."""

import itertools
from datetime import date

import pytest

from imagegen.core import lifecycle
from imagegen.core.axes import (
    AXIS_PARAMS,
    COMPRESSION_PRESETS,
    FIXED_PARAMS,
    Axis,
    all_values,
    allowed_values,
    default_model,
    fixed_params,
    format_value,
    keep_allowed,
    model_values,
    swap_axes,
)
from imagegen.core.catalog import default_catalog
from imagegen.core.request import ImageRequest, problems

CAT = default_catalog()
TODAY = date(2026, 11, 25)


def choice(param, model="gpt-image-1.5", provider="simulator", **kw):
    return allowed_values(param, CAT, model=model, provider=provider, **{"today": TODAY, **kw})


@pytest.mark.parametrize("model", sorted(CAT.models))
@pytest.mark.parametrize("provider", ["simulator", "openai", "azure"])
def test_every_offered_value_is_valid_on_its_own(model, provider):
    deployments = {"dep": model} if provider == "azure" else None
    name = "dep" if provider == "azure" else model
    base = ImageRequest(model=model, prompt="a red fox", provider=provider, deployment="dep" if deployments else None)
    lifecycle = {p.field for p in problems(base, CAT, TODAY) if p.field == "model"}
    for param in FIXED_PARAMS:
        c = allowed_values(param, CAT, model=name, provider=provider, deployments=deployments, today=TODAY)
        for value in c.values:
            changes = {param: value}
            if param == "partial_images" and value:
                changes["stream"] = True
            found = [p for p in problems(base.with_(**changes), CAT, TODAY) if p.field not in lifecycle]
            assert found == [], (param, value, found)


def test_compression_only_for_jpeg_and_webp():
    assert not choice("output_compression", context={"output_format": "png"}).available
    assert "jpeg or webp" in choice("output_compression", context={"output_format": "png"}).note
    assert choice("output_compression", context={"output_format": "jpeg"}).values == COMPRESSION_PRESETS
    # an output_format axis with png in it rules compression out for the whole grid
    assert not choice("output_compression", context={"output_format": ("jpeg", "png")}).available
    # and a compression value narrows the formats offered
    assert choice("output_format", context={"output_compression": 50}).values == ("jpeg", "webp")


def test_transparent_only_with_png_or_webp_and_models_that_have_it():
    assert "transparent" in choice("background", context={"output_format": "png"}).values
    jpeg = choice("background", context={"output_format": "jpeg"})
    assert "transparent" not in jpeg.values and "png or webp" in jpeg.note
    assert "transparent" not in choice("background", model="gpt-image-2.6-flare").values
    preview = choice("background", model="gpt-image-2")
    assert "transparent" in preview.values and "preview" in preview.note
    assert "transparent" in choice("background", model="gpt-image-2.5-flare").values
    assert choice("output_format", context={"background": "transparent"}).values == ("png", "webp")


def test_azure_lacks_webp():
    c = choice("output_format", model="dep", provider="azure", deployments={"dep": "gpt-image-1.5"})
    assert c.values == ("png", "jpeg") and "WEBP" in c.note
    # a provider axis spanning the simulator and Azure offers only what both take
    both = allowed_values("output_format", CAT, model="gpt-image-1.5", provider=("simulator", "azure"),
                          deployments={"dep": "gpt-image-1.5"}, today=TODAY)
    assert both.values == ("png", "jpeg")


def test_partial_images_need_streaming():
    assert choice("partial_images").values == (0,)
    assert choice("partial_images", context={"stream": True}).values == (0, 1, 2, 3)
    assert choice("partial_images", context={"stream": (False, True)}).values == (0,)


def test_several_models_offer_only_common_values():
    c = allowed_values("quality", CAT, model=("gpt-image-1.5", "gpt-image-2.5-flare"), provider="simulator", today=TODAY)
    assert "xhigh" not in c.values and {"low", "medium", "high"} <= set(c.values)
    assert "xhigh" in choice("quality", model="gpt-image-2.5-flare").values


def test_models_offered_per_provider_leave_out_shut_down_ones():
    openai_names, note = model_values(CAT, "openai", today=TODAY)
    assert "gpt-image-1" not in openai_names and "gpt-image-1" in note and "2026-10-23" in note
    sim_names, _ = model_values(CAT, "simulator", today=TODAY)
    assert set(sim_names) == set(CAT.models)  # the simulator serves every model, shut-down ones included
    azure, note = model_values(CAT, "azure", {"old": "gpt-image-1", "new": "gpt-image-1.5"}, today=TODAY)
    assert azure == ("new",) and "old" in note
    assert model_values(CAT, "azure", {}, today=TODAY)[0] == ()


def test_default_model_follows_the_data_preference_and_runs_on_the_day():
    for day in (TODAY, date(2026, 12, 1), date(2027, 5, 1), date(2028, 1, 1)):
        for provider in ("simulator", "openai"):
            mid = default_model(CAT, provider, today=day)
            assert mid == lifecycle.preferred_models(CAT, provider, day)[0]
            assert lifecycle.status(CAT, mid, "openai", day).state == "live"  # runnable on OpenAI that day
    assert default_model(CAT, "azure", {"mine": "gpt-image-2"}, today=TODAY) == "mine"
    deployments = {"old": "gpt-image-1-mini", "new": "gpt-image-1.5"}
    assert default_model(CAT, "azure", deployments, today=TODAY, preferred="old") == "old"  # the configured one
    assert default_model(CAT, "azure", deployments, today=date(2027, 5, 1), preferred="old") == "new"  # old shut down
    assert default_model(CAT, "azure", deployments, today=date(2028, 1, 1)) is None


def test_model_and_provider_choices():
    assert choice("provider", providers=("simulator", "openai")).values == ("simulator", "openai")
    names = choice("model", provider="openai", today=TODAY).values
    assert "gpt-image-1" not in names and "gpt-image-2" in names


def test_all_values_and_unknown_parameter():
    assert all_values("quality", CAT, model="gpt-image-1.5", provider="simulator", today=TODAY) == ["low", "medium", "high", "auto"]
    assert all_values("output_compression", CAT, model="gpt-image-1.5", provider="simulator", today=TODAY) == []
    with pytest.raises(ValueError, match="not a grid parameter"):
        choice("style")


def test_swap_axes():
    x, y = Axis("quality", ("low", "high")), Axis("size", ("1024x1024",))
    assert swap_axes([x, y], 0, 1) == [y, x, None]
    assert swap_axes([x, y, None], 1, 2) == [x, None, y]
    with pytest.raises(ValueError):
        swap_axes([x], 0, 3)


def test_fixed_params_applies_the_rules_and_reports_them():
    params, notes = fixed_params({"output_format": "png", "output_compression": 50, "background": "transparent"},
                                 CAT, model="gpt-image-1.5", provider="simulator", today=TODAY)
    assert params == {"background": "transparent"}  # png is the default; compression dropped
    assert any("output_compression" in n for n in notes)
    params, notes = fixed_params({"output_format": "jpeg", "output_compression": 80, "background": "transparent"},
                                 CAT, model="gpt-image-1.5", provider="simulator", today=TODAY)
    assert params == {"output_format": "jpeg", "output_compression": 80}
    assert any("transparent" in n for n in notes)
    # parameters on an axis are not fixed
    params, _ = fixed_params({"quality": "high", "size": "1024x1024"}, CAT, model="gpt-image-1.5",
                             provider="simulator", axes=[Axis("quality", ("low", "high"))], today=TODAY)
    assert "quality" not in params and params["size"] == "1024x1024"


def test_grid_built_from_offered_values_validates():
    """Every combination of two axes' offered values, with consistent fixed params, passes validation."""
    for px, py in itertools.combinations(["quality", "size", "output_format", "moderation", "n"], 2):
        xs = all_values(px, CAT, model="gpt-image-1-mini", provider="simulator", today=TODAY)
        ys = all_values(py, CAT, model="gpt-image-1-mini", provider="simulator", today=TODAY)
        fixed, _ = fixed_params({}, CAT, model="gpt-image-1-mini", provider="simulator",
                                axes=[Axis(px, tuple(xs)), Axis(py, tuple(ys))], today=TODAY)
        for vx, vy in itertools.product(xs, ys):
            req = ImageRequest(model="gpt-image-1-mini", prompt="p", **{**fixed, px: vx, py: vy})
            assert problems(req, CAT, TODAY) == [], (px, vx, py, vy)


def test_keep_allowed_and_format_value():
    c = choice("quality")
    assert keep_allowed(["high", "xhigh", "high", "low"], c) == ["high", "low"]
    assert format_value("stream", True) == "on"
    assert format_value("output_compression", None) == "unset"
    assert set(AXIS_PARAMS) >= set(FIXED_PARAMS)
