"""The catalog loads, is complete for the SDK's GPT image models, and reports bad data clearly."""

import shutil
import typing
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openai.types import image_model

from imagegen.core.catalog import DATA_DIR, load_catalog
from imagegen.errors import CatalogError
from tests.clock import TODAY


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_every_gpt_image_model_the_sdk_lists_is_in_the_catalog(catalog):
    sdk_models = [m for m in typing.get_args(image_model.ImageModel) if not m.startswith("dall-e")]
    missing = [m for m in sdk_models if not catalog.has_model(m)]
    assert missing == []


def test_money_is_decimal_never_float(catalog):
    for p in catalog.prices:
        for rate in (p.text_input, p.cached_text_input, p.image_input, p.cached_image_input, p.image_output):
            assert isinstance(rate, Decimal)
    for lp in catalog.list_prices:
        assert all(isinstance(v, Decimal) for table in (lp.low, lp.medium, lp.high) for v in table.values())


def test_every_model_has_a_price_on_each_provider_it_is_offered_on(catalog):
    for mid, model in catalog.models.items():
        for provider, spec in model.providers.items():
            if spec.available:
                entry = catalog.price_for(mid, provider, date(2026, 12, 1))
                assert entry.source.startswith("https://")
                assert entry.checked <= date(2026, 12, 1)


def test_lifecycle_facts(catalog):
    g1 = catalog.model("gpt-image-1")
    assert g1.providers["openai"].shutdown == date(2026, 10, 23)
    assert g1.providers["azure"].shutdown == date(2026, 10, 23)
    assert catalog.model("gpt-image-1-mini").providers["openai"].shutdown == date(2026, 12, 1)
    assert catalog.model("gpt-image-1-mini").providers["azure"].shutdown == date(2027, 4, 7)
    assert catalog.model("gpt-image-1.5").providers["azure"].shutdown == date(2027, 6, 16)
    assert catalog.model("gpt-image-2").providers["openai"].shutdown is None


def test_azure_documents_no_webp(catalog):
    for model in catalog.models.values():
        if model.providers["azure"].available:
            assert "webp" not in model.formats_for("azure")
        assert "webp" in model.formats_for("openai")


def test_aliases_resolve(catalog):
    assert catalog.model("gpt-image-1-2025-04-15").id == "gpt-image-1"
    assert catalog.model("gpt-image-2.5-flare-2026-09-08").id == "gpt-image-2.5-flare"


def test_unknown_model_names_the_known_ones(catalog):
    with pytest.raises(CatalogError, match="gpt-image-1.5"):
        catalog.model("gpt-image-9")


def test_price_entry_in_force_by_date(catalog):
    with pytest.raises(CatalogError, match="no price"):
        catalog.price_for("gpt-image-2", "openai", date(2025, 1, 1))
    assert catalog.price_for("gpt-image-1.5", "openai", TODAY).key == "openai/gpt-image-1.5@2025-12-16"


def test_oldest_check_is_the_minimum_checked_date(catalog):
    every = [m.checked for m in catalog.models.values()] + [t.checked for t in catalog.tokens.values()]
    every += [p.checked for p in catalog.prices] + [lp.checked for lp in catalog.list_prices]
    assert catalog.oldest_check() == min(every)
    first = catalog.list_prices[0]
    older = replace(catalog, list_prices=(first.model_copy(update={"checked": date(2026, 1, 2)}),
                                          *catalog.list_prices[1:]))
    assert older.oldest_check() == date(2026, 1, 2)  # a list price counts too (README "Facts as of")


def test_the_list_price_in_force_is_chosen_by_date(catalog):
    """Like token prices, a published per-image price applies from its effective_from, never before."""
    from imagegen.core.pricing import estimate
    from imagegen.core.request import ImageRequest

    old = next(lp for lp in catalog.list_prices if lp.model == "gpt-image-1.5" and lp.provider == "openai")
    newer = old.model_copy(update={"effective_from": date(2027, 1, 1), "low": {"1024x1024": Decimal("0.001")}})
    cat = replace(catalog, list_prices=(*catalog.list_prices, newer))
    assert cat.list_price("gpt-image-1.5", "openai", "low", "1024x1024", TODAY) == old.low["1024x1024"]
    assert cat.list_price("gpt-image-1.5", "openai", "low", "1024x1024", date(2027, 1, 1)) == Decimal("0.001")
    assert cat.list_price("gpt-image-1.5", "openai", "low", "1024x1024", old.effective_from - timedelta(days=1)) \
        is None
    req = ImageRequest("gpt-image-1.5", "a red fox", provider="simulator", quality="low", size="1024x1024")
    assert estimate(req, cat, TODAY).list_price_per_image == old.low["1024x1024"]
    assert estimate(req, cat, date(2027, 1, 1)).list_price_per_image == Decimal("0.001")


def _broken_copy(tmp_path, file, old, new):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return data


def test_typo_in_a_key_names_file_key_and_fix(tmp_path):
    data = _broken_copy(tmp_path, "models.toml", "n_max = 10", "n_maxx = 10")
    with pytest.raises(CatalogError) as err:
        load_catalog(data)
    msg = str(err.value)
    assert "models.toml" in msg and "models.gpt-image-1.n_maxx" in msg and "Fix:" in msg


def test_bad_price_value_is_reported(tmp_path):
    data = _broken_copy(tmp_path, "prices.toml", "image_output = 40.00", 'image_output = "forty"')
    with pytest.raises(CatalogError, match=r"prices.toml: price\[0\].image_output"):
        load_catalog(data)


def test_unknown_token_table_is_reported(tmp_path):
    data = _broken_copy(tmp_path, "models.toml", 'tokens = "gpt-image-1"', 'tokens = "nope"')
    with pytest.raises(CatalogError, match="tokens = 'nope' is not in tokens.toml"):
        load_catalog(data)


def test_invalid_toml_is_reported(tmp_path):
    data = _broken_copy(tmp_path, "tokens.toml", "[tokens.\"gpt-image-1\"]", "[tokens.\"gpt-image-1\"")
    with pytest.raises(CatalogError, match="tokens.toml: not valid TOML"):
        load_catalog(data)


def test_overrides_win(catalog):
    base = catalog.price_for("gpt-image-1.5", "azure", TODAY)
    over = base.model_copy(update={"image_output": Decimal("35.20"), "override": True})
    c2 = catalog.with_overrides([over])
    assert c2.price_for("gpt-image-1.5", "azure", TODAY).image_output == Decimal("35.20")
    assert c2.price_for("gpt-image-1.5", "azure", TODAY).key.endswith("+override")
