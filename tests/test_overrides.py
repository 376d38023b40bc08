"""Local price overrides: saved as TOML in the data dir, loaded as PriceEntry(override=True), used by estimates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from imagegen.core import overrides
from imagegen.core.catalog import default_catalog
from imagegen.core.overrides import OverrideError
from imagegen.core.pricing import estimate
from imagegen.core.request import ImageRequest

ON = date(2026, 11, 25)


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def test_make_override_copies_missing_prices_from_the_catalog(catalog):
    entry = overrides.make_override(catalog, "gpt-image-1.5", "azure", date(2026, 11, 1), image_output="35.2",
                                    note="swedencentral")
    base = catalog.price_for("gpt-image-1.5", "azure", ON)
    assert entry.override and entry.image_output == Decimal("35.2")
    assert (entry.text_input, entry.image_input, entry.text_output) == (base.text_input, base.image_input,
                                                                         base.text_output)
    assert entry.key == "azure/gpt-image-1.5@2026-11-01+override"
    assert entry.source == "local override"


def test_alias_resolves_to_the_catalog_id(catalog):
    entry = overrides.make_override(catalog, "gpt-image-1.5-2025-12-16", "openai", ON, image_output=30)
    assert entry.model == "gpt-image-1.5"


def test_an_override_changes_the_estimate(catalog, tmp_path):
    req = ImageRequest(model="gpt-image-1.5", prompt="a red fox", provider="azure", quality="medium", size="1024x1024")
    before = estimate(req, catalog, ON)
    overrides.add_override(tmp_path, overrides.make_override(catalog, "gpt-image-1.5", "azure", ON, image_output=40))
    after = estimate(req, overrides.apply_overrides(catalog, tmp_path), ON)
    assert after.cost_max.price_key == "azure/gpt-image-1.5@2026-11-25+override"
    assert after.cost_max.image_output - before.cost_max.image_output == 1056 * Decimal(8) / 1_000_000
    # an override dated later is not yet in force
    assert estimate(req, overrides.apply_overrides(catalog, tmp_path), date(2026, 11, 24)).cost_max.price_key \
        == before.cost_max.price_key


def test_save_and_load_round_trip_exactly(catalog, tmp_path):
    entries = [
        overrides.make_override(catalog, "gpt-image-1.5", "azure", ON, image_output="35.2", note='say "hi"\nthere'),
        overrides.make_override(catalog, "gpt-image-2.6-flare", "azure", ON, text_input=5, cached_text_input=1.25,
                                image_input=8, cached_image_input=2, image_output="30.123456"),
    ]
    path = overrides.save_overrides(tmp_path, entries)
    assert path == tmp_path / "price_overrides.toml"
    loaded = overrides.load_overrides(tmp_path, catalog)
    assert loaded == entries
    assert loaded[1].image_output == Decimal("30.123456") and loaded[1].text_output is None


def test_missing_file_means_no_overrides(tmp_path):
    assert overrides.load_overrides(tmp_path / "nowhere") == []
    assert overrides.apply_overrides(default_catalog(), tmp_path / "nowhere") is default_catalog()


def test_add_replaces_the_same_model_provider_and_date_and_remove_drops(catalog, tmp_path):
    overrides.add_override(tmp_path, overrides.make_override(catalog, "gpt-image-1.5", "azure", ON, image_output=35))
    overrides.add_override(tmp_path, overrides.make_override(catalog, "gpt-image-1.5", "azure", ON, image_output=36))
    kept = overrides.add_override(tmp_path, overrides.make_override(catalog, "gpt-image-1-mini", "azure", ON,
                                                                    image_output=9))
    assert [(e.model, e.image_output) for e in kept] == [("gpt-image-1.5", 36), ("gpt-image-1-mini", 9)]
    left = overrides.remove_override(tmp_path, "azure/gpt-image-1.5@2026-11-25+override")
    assert [e.model for e in left] == ["gpt-image-1-mini"]
    with pytest.raises(OverrideError, match="no override 'azure/x@2026-01-01' .*Fix"):
        overrides.remove_override(tmp_path, "azure/x@2026-01-01")


GOOD = 'model = "gpt-image-1.5"\nprovider = "azure"\neffective_from = 2026-11-01\n'


@pytest.mark.parametrize(("text", "message"), [
    ("[[override]]\n" + GOOD + "image_ouptut = 3\n", 'override[0].image_ouptut is an unknown key (did you mean "image_output"?). Fix: rename it to image_output.'),
    ("[[override]]\n" + GOOD + "image_output = -3.5\n", "override[0].image_output = -3.5 is not allowed: a price of 0"),
    ("[[override]]\n" + GOOD + 'image_output = "cheap"\n', 'override[0].image_output = "cheap" is text, not a price of 0 or more'),
    ("[[override]]\n" + GOOD, "override[0]: no price given. Fix: set at least one"),
    ("[[override]]\n" + GOOD + "image_output = nan\n", "override[0].image_output = nan is not allowed"),
    ("[[override]]\n" + GOOD + "image_output = inf\n", "override[0].image_output = inf is not allowed"),
    ("[[override]]\n" + GOOD + 'image_output = "35.2"\n', 'override[0].image_output = "35.2" is text'),
    ("override = [1]\n", "override[0] = 1 is an integer, not a table"),
    ('[[override]]\nprovider = "azure"\neffective_from = 2026-11-01\nimage_output = 3\n',
     "override[0].model is missing. Fix: add it"),
    ("[[override]]\n" + GOOD.replace("gpt-image-1.5", "dall-e-3") + "image_output = 3\n",
     "override[0].model = 'dall-e-3' is not in the catalog. Fix: use one of"),
    ("[[override]]\n" + GOOD.replace('"azure"', '"aws"') + "image_output = 3\n",
     'override[0].provider = "aws" is not allowed: one of openai, azure'),
    ("[[override]]\n" + GOOD.replace("2026-11-01", '"November"') + "image_output = 3\n",
     'override[0].effective_from = "November" is not a date. Fix: write a TOML date'),
    ("[[override]]\n" + GOOD.replace("gpt-image-1.5", "gpt-image-2.6-flare") + "image_output = 3\n",
     "the catalog has no azure price for gpt-image-2.6-flare"),
    (("[[override]]\n" + GOOD + "image_output = 3\n") * 2, "override[1]: repeats override[0]"),
    ("[[override]\n", "not valid TOML"),
    ("[prices]\nx = 1\n", "unknown table(s) ['prices']"),
])
def test_bad_files_name_the_key_and_the_fix(catalog, text, message):
    with pytest.raises(OverrideError) as exc:
        overrides.parse_overrides(text, catalog)
    assert message in str(exc.value)
    assert "Fix:" in str(exc.value)


def test_load_names_the_file(tmp_path):
    (tmp_path / "price_overrides.toml").write_text("[[override]]\n" + GOOD, encoding="utf-8")
    with pytest.raises(OverrideError, match=str(tmp_path / "price_overrides.toml")):
        overrides.load_overrides(tmp_path)


def test_dump_is_readable_toml(catalog):
    text = overrides.dump_overrides([overrides.make_override(catalog, "gpt-image-1.5", "azure", ON, image_output=35)])
    assert "[[override]]" in text and "image_output = 35.0" in text and 'provider = "azure"' in text
    assert overrides.parse_overrides(text, catalog)[0].image_output == 35
