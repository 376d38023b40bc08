"""Local token overrides: validated TOML under IMAGEGEN_HOME, with provenance; removing one restores the catalog."""

from __future__ import annotations

from datetime import date

import pytest

from imagegen.core.catalog import default_catalog
from imagegen.core.pricing import estimate
from imagegen.core.request import ImageRequest
from imagegen.core.token_overrides import (
    TokenOverride,
    TokenOverrideError,
    add_token_overrides,
    apply_token_overrides,
    dump_token_overrides,
    load_token_overrides,
    parse_token_overrides,
    remove_token_override,
    token_overrides_path,
)

DAY = date(2026, 12, 1)


def entry(**kw) -> TokenOverride:
    base = dict(model="gpt-image-2", quality="high", size="1024x1024", output_tokens=1900, catalog_tokens=1756,
                catalog_status="derived", n=4, min=1890, max=1910, runs=("r1", "r2"), first=date(2026, 11, 30),
                last=DAY, provider="openai", adopted_by="alice", adopted_on=DAY, note='say "hi"')
    return TokenOverride(**{**base, **kw})


@pytest.fixture
def catalog():
    return default_catalog()


def test_round_trip_keeps_every_field(tmp_path, catalog):
    add_token_overrides(tmp_path, [entry(), entry(quality="low", output_tokens=200, min=190, max=210)], catalog)
    assert token_overrides_path(tmp_path).exists()
    assert load_token_overrides(tmp_path, catalog) == [entry(), entry(quality="low", output_tokens=200, min=190,
                                                                      max=210)]


def test_adding_again_replaces_the_same_setting(tmp_path, catalog):
    add_token_overrides(tmp_path, [entry()], catalog)
    add_token_overrides(tmp_path, [entry(output_tokens=1895, n=9)], catalog)
    [only] = load_token_overrides(tmp_path, catalog)
    assert (only.output_tokens, only.n) == (1895, 9)


def test_estimate_uses_and_labels_the_override_and_reverts(tmp_path, catalog):
    req = ImageRequest(model="gpt-image-2", prompt="x", provider="openai", quality="high", size="1024x1024", n=2)
    before = estimate(req, catalog, DAY)
    add_token_overrides(tmp_path, [entry()], catalog)
    after = estimate(req, apply_token_overrides(catalog, tmp_path), DAY)
    assert after.output_tokens_max == 2 * 1900 and after.token_label == "measured (ours, n = 4)"
    # an auto range that only partly rests on our measurement says both
    auto = estimate(req.with_(quality="auto"), apply_token_overrides(catalog, tmp_path), DAY)
    assert auto.output_tokens_max == 2 * 1900  # high (ours) tops the low..high range
    assert auto.token_status == "derived" and auto.token_label == "derived"  # the weakest figure names the range
    remove_token_override(tmp_path, "gpt-image-2", "high", "1024x1024", catalog)
    assert not token_overrides_path(tmp_path).exists()
    assert estimate(req, apply_token_overrides(catalog, tmp_path), DAY) == before


@pytest.mark.parametrize("text, words", [
    ("[[override]]\nmodel = ", ["not valid TOML"]),
    ("[[override]]\nmodel = 1", ["model", "valid string", "correct the value"]),
    ("[[override]]\nmodel = \"gpt-image-2\"\n", ["quality", "Field required", "add the key"]),
    ("[other]\n", ["unknown table"]),
])
def test_malformed_files_are_refused_with_a_fix(catalog, text, words):
    with pytest.raises(TokenOverrideError) as exc:
        parse_token_overrides(text, catalog, where="t.toml")
    assert str(exc.value).startswith("t.toml") and "Fix:" in str(exc.value)
    for w in words:
        assert w in str(exc.value)


def test_unknown_key_model_quality_and_order_are_refused(catalog, tmp_path):
    good = dump_token_overrides([entry()])
    with pytest.raises(TokenOverrideError, match="colour: Extra inputs are not permitted. Fix: remove the key"):
        parse_token_overrides(good + 'colour = "red"\n', catalog)
    with pytest.raises(TokenOverrideError, match="not in the catalog"):
        parse_token_overrides(good.replace('"gpt-image-2"', '"gpt-image-9"'), catalog)
    with pytest.raises(TokenOverrideError, match="not a quality"):
        parse_token_overrides(good.replace('quality = "high"', 'quality = "ultra"'), catalog)
    with pytest.raises(TokenOverrideError, match="not in order"):
        parse_token_overrides(good.replace("min = 1890", "min = 1950"), catalog)
    with pytest.raises(TokenOverrideError, match="repeats"):
        parse_token_overrides(good + good.split("\n", 2)[2], catalog)
    with pytest.raises(TokenOverrideError, match="no token override"):
        remove_token_override(tmp_path, "gpt-image-2", "low", "1024x1024", catalog)
