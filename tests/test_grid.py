"""Grid specs: parsing with clear errors, expansion into cells, validation and pricing of the whole grid."""

import json
from decimal import Decimal

import pytest

from imagegen.core.catalog import load_catalog
from imagegen.core.grid import estimate_grid, expand, loads_spec, parse_spec, validate_grid
from imagegen.errors import InvalidRequest, SpecError
from tests.clock import TODAY

CATALOG = load_catalog()

SPEC = """
name = "square vs landscape"
provider = "simulator"
model = "gpt-image-1"
prompts = ["F1レーサーを躍動感あるように描いて。"]
repeats = 2
[params]
output_format = "png"
[axes]
quality = ["low", "medium", "high"]
size = ["1024x1024", "1024x1536", "1536x1024"]
[limits]
budget_usd = 2.0
"""


def test_expand_is_the_cartesian_product_in_axis_order():
    spec = loads_spec(SPEC)
    cells = expand(spec, CATALOG)
    assert len(cells) == 9
    assert cells[0].coords == {"quality": "low", "size": "1024x1024"}
    assert cells[1].coords == {"quality": "low", "size": "1024x1536"}
    assert cells[8].request.quality == "high" and cells[8].request.size == "1536x1024"
    assert all(c.request.output_format == "png" for c in cells)


def test_estimate_grid_totals_and_json_shape():
    est = estimate_grid(loads_spec(SPEC), CATALOG, TODAY)
    d = est.to_dict()
    assert est.requests == 18
    assert len(d["cells"]) == 9
    cell = d["cells"][8]
    for key in ("size", "quality", "background", "output_format", "n", "prompt", "model",
                "output_tokens_min", "output_tokens_max", "cost_usd_min", "cost_usd_max"):
        assert key in cell
    assert cell["output_tokens_max"] == 6208
    total = sum(Decimal(c["cost_usd_max"]) for c in d["cells"]) * 2
    assert Decimal(d["total_cost_usd_max"]) == total
    json.dumps(d)  # serialisable


def test_several_prompts_form_an_axis_and_provider_model_can_be_axes():
    spec = loads_spec("""
provider = "simulator"
model = "gpt-image-1.5"
prompts = ["a", "b"]
[axes]
model = ["gpt-image-1.5", "gpt-image-1-mini"]
""")
    cells = expand(spec, CATALOG)
    assert [(c.coords["model"], c.coords["prompt"]) for c in cells] == [
        ("gpt-image-1.5", "a"), ("gpt-image-1-mini", "a"), ("gpt-image-1.5", "b"), ("gpt-image-1-mini", "b")]
    assert spec.axis_names() == ["model", "prompt"]


def test_invalid_cell_is_named():
    spec = loads_spec(SPEC.replace('output_format = "png"', 'output_format = "jpeg"\nbackground = "transparent"'))
    with pytest.raises(InvalidRequest) as err:
        validate_grid(spec, CATALOG, TODAY)
    assert "cell 0 (quality=low, size=1024x1024): background" in str(err.value)


def test_azure_needs_a_deployment_mapping_and_never_sends_the_catalog_id():
    spec = loads_spec('provider = "azure"\nmodel = "gpt-image-1.5"\nprompts = ["x"]\n')
    with pytest.raises(InvalidRequest, match="IMAGEGEN_AZURE_DEPLOYMENTS"):
        validate_grid(spec, CATALOG, TODAY)
    mapped = loads_spec('provider = "azure"\nmodel = "my-images"\nprompts = ["x"]\n[deployments]\nmy-images = "gpt-image-1.5"\n')
    [cell] = validate_grid(mapped, CATALOG, TODAY)
    assert cell.request.model == "gpt-image-1.5"
    assert cell.request.deployment == "my-images"
    assert cell.request.api_body()["model"] == "my-images"


@pytest.mark.parametrize("text, needle", [
    ('provider = "simulator"\nprompts = ["x"]\n', "spec: model is missing. Fix: add model = "),
    ('model = "gpt-image-1"\nprompts = []\n', "non-empty list"),
    ('model = "gpt-image-1"\nprompts = ["x"]\ncolour = 1\n', "colour is an unknown key"),
    ('model = "gpt-image-1"\nprompts = ["x"]\n[params]\nseed = 1\n', "params.seed is an unknown key: not a request parameter"),
    ('model = "gpt-image-1"\nprompts = ["x"]\n[axes]\nn = [1]\nsize = ["auto"]\nquality = ["low"]\nbackground = ["auto"]\n',
     "at most 3 axes"),
    ('model = "gpt-image-1"\nprompts = ["x"]\n[limits]\nrpm = -1\n', "limits.rpm = -1 is not allowed"),
    ('model = "gpt-image-1"\nprompts = ["x"]\nrepeats = 0\n', "repeats = 0"),
    ('model = "gpt-image-1"\nprompts = ["x"\n', "not valid TOML"),
])
def test_spec_errors_name_the_key_and_fix(text, needle):
    with pytest.raises(SpecError) as err:
        loads_spec(text)
    assert needle in str(err.value) and "Fix:" in str(err.value)


def test_to_toml_round_trips():
    spec = loads_spec(SPEC)
    again = loads_spec(spec.to_toml())
    assert again == spec
    assert parse_spec({"model": "gpt-image-1", "prompts": ['say "hi"\nthere']}).to_toml()


def test_over_budget_is_detected():
    spec = loads_spec(SPEC.replace("budget_usd = 2.0", "budget_usd = 0.5"))
    assert estimate_grid(spec, CATALOG, TODAY).over_budget()


def test_ten_thousand_cells_estimate_under_two_seconds():
    import time

    from bench.bench_estimate import spec_10k

    spec = spec_10k()
    estimate_grid(parse_spec({"model": "gpt-image-1", "prompts": ["warm"]}), CATALOG, TODAY)
    t0 = time.perf_counter()
    est = estimate_grid(spec, CATALOG, TODAY)
    elapsed = time.perf_counter() - t0
    assert len(est.cells) == 10_000
    assert elapsed < 2.0, f"{elapsed:.2f} s"


def test_spend_splits_real_simulated_and_reused_and_never_adds_them():
    from imagegen.core.catalog import default_catalog
    from imagegen.core.grid import GridSpec

    spec = GridSpec(provider="openai", model="gpt-image-2", prompts=("a fox",), repeats=2,
                    params={"size": "1024x1024"}, axes={"quality": ("low", "high"), "provider": ("openai", "simulator")})
    est = estimate_grid(spec, default_catalog(), TODAY)
    split = est.spend()
    assert (split.real.requests, split.simulated.requests, split.reused.requests) == (4, 4, 0)
    assert split.real.cost_max + split.simulated.cost_max == est.total_cost_usd_max
    sim_cells = [c for c in est.cells if c.request.provider == "simulator"]
    real_cells = [c for c in est.cells if c.request.provider == "openai"]
    reused = est.spend({sim_cells[0].index: 2, real_cells[0].index: 5})  # more than the repeats: capped at 2
    assert (reused.real.requests, reused.simulated.requests, reused.reused.requests) == (2, 2, 4)
    assert reused.reused.cost_max == 2 * (est.estimates[sim_cells[0].index].cost_usd_max
                                          + est.estimates[real_cells[0].index].cost_usd_max)
    assert reused.real.requests + reused.simulated.requests + reused.reused.requests == est.requests
