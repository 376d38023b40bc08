"""Catalog page (AppTest): models, lifecycle warnings, token tables, prices, and the override editor."""

from __future__ import annotations

from decimal import Decimal

import pytest
from streamlit.testing.v1 import AppTest

from imagegen.core import overrides
from imagegen.core.catalog import default_catalog
from imagegen.insight import catalog_tables
from tests.clock import TODAY
from tests.ui_support import page_app


def _app(home, monkeypatch) -> AppTest:
    return page_app("5_Catalog.py", home, monkeypatch)


@pytest.fixture
def catalog_page(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.run()
    assert not at.exception, at.exception
    return at, tmp_path


def _table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_every_model_with_capabilities(catalog_page):
    at, _ = catalog_page
    models = _table(at, "transparency")
    catalog = default_catalog()
    assert list(models["model"]) == list(catalog.models)
    row = models.set_index("model").loc["gpt-image-2"]
    assert row["transparency"] == "preview" and "multiples of 16" in row["sizes"] and row["input_fidelity"] == "omit"
    assert models.set_index("model").loc["gpt-image-2.6-flare", "complexity"] == "low, medium, high"


def test_lifecycle_warnings_name_the_successor(catalog_page):
    at, _ = catalog_page
    errors = [e.value for e in at.error]
    assert "gpt-image-1 was shut down on openai on 2026-10-23; successor: gpt-image-2.5-sunburst." in errors[0]
    assert any("gpt-image-1 was shut down on azure" in e and "successor: gpt-image-1.5" in e for e in errors)
    expected = [lc.sentence for lc in catalog_tables.lifecycle(default_catalog(), TODAY) if lc.state == "retiring"]
    assert expected and [w.value for w in at.warning] == expected
    life = _table(at, "successor")
    assert set(life["provider"]) == {"openai", "azure"}
    assert life.set_index(["model", "provider"]).loc[("gpt-image-1", "openai"), "status"] == "shut down"


def test_token_tables_with_status_and_source(catalog_page):
    at, _ = catalog_page
    tables = [d.value for d in at.dataframe if "quality" in d.value.columns and "1024x1024" in d.value.columns]
    assert len(tables) == len(default_catalog().tokens) == 4
    gpt1 = tables[0].set_index("quality")
    assert gpt1.loc["medium", "1024x1024"] == "1,056" and gpt1.loc["high", "1536x1024"] == "6,208"
    gpt2 = tables[1].set_index("quality")
    assert gpt2.loc["low", "1024x1024"] == "196"  # documented
    assert gpt2.loc["high", "1024x1024"].endswith("·")  # from the formula
    text = " ".join(m.value for m in at.markdown)
    assert "Table: **documented**, formula: **derived**" in text
    assert any("patch p: low 64, medium 32, high 16" in c.value for c in at.caption)
    # gpt-image-2.5: measured cells say who measured them and when; medium is an assumed range
    gpt25 = tables[2].set_index("quality")
    assert [gpt25.loc[q, "1024x1024"] for q in ("low", "high", "max")] == ["196", "1,756", "7,024"]
    assert gpt25.loc["low", "status"].startswith("measured (third party, 2026-09-16)")
    assert gpt25.loc["medium", "1024x1024"].endswith("(196–1,756)") and gpt25.loc["medium", "status"] == "assumed"
    assert "Table: **measured (third party, 2026-09-16)**" in text


def test_prices_with_source_and_checked_date(catalog_page):
    at, _ = catalog_page
    prices = _table(at, "kind")
    row = prices[(prices["model"] == "gpt-image-1.5") & (prices["provider"] == "openai")].iloc[0]
    assert (row["image_output"], row["text_output"], row["checked"]) == ("32.00", "10.00", "2026-11-25")
    assert row["source"].startswith("https://") and row["kind"] == "catalog"


def test_override_editor_saves_shows_and_changes_the_estimate(catalog_page):
    at, home = catalog_page
    at.selectbox(key="cat_est_provider").set_value("azure").run()
    before = _table(at, "override").set_index("model").loc["gpt-image-1.5"]
    assert before["medium"] == f"${Decimal(1056 * 32) / 1_000_000:.6f}" and not before["override"]

    at.selectbox(key="ov_model").set_value("gpt-image-1.5").run()
    at.selectbox(key="ov_provider").set_value("azure").run()
    assert at.number_input(key="ov_image_output_gpt-image-1.5_azure").value == 32.0  # prefilled from the catalog
    at.number_input(key="ov_image_output_gpt-image-1.5_azure").set_value(35.2)
    at.text_input(key="ov_note").input("swedencentral regional price")
    at.button(key="ov_save").click().run()
    assert not at.exception

    saved = overrides.load_overrides(home)
    assert [(e.model, e.provider, e.image_output, e.note) for e in saved] == [
        ("gpt-image-1.5", "azure", Decimal("35.2"), "swedencentral regional price")]
    assert any(f"Saved {saved[0].key}" in s.value for s in at.success)
    after = _table(at, "override").set_index("model").loc["gpt-image-1.5"]
    assert after["medium"] == f"${Decimal(1056) * Decimal('35.2') / 1_000_000:.6f}" and after["override"]
    assert after["price"] == saved[0].key
    prices = _table(at, "kind")
    assert list(prices.loc[prices["kind"] == "local override", "key"]) == [saved[0].key]

    at.button(key=f"cat_remove_{saved[0].key}").click().run()
    assert overrides.load_overrides(home) == []
    assert _table(at, "override").set_index("model").loc["gpt-image-1.5", "medium"] == before["medium"]


def test_override_without_a_catalog_price_needs_every_price(catalog_page):
    at, home = catalog_page
    at.selectbox(key="ov_model").set_value("gpt-image-2.6-flare").run()
    at.selectbox(key="ov_provider").set_value("azure").run()
    at.number_input(key="ov_image_output_gpt-image-2.6-flare_azure").set_value(30.0)
    at.button(key="ov_save").click().run()
    assert any("the catalog has no azure price for gpt-image-2.6-flare" in e.value and "Fix" in e.value
               for e in at.error)
    assert overrides.load_overrides(home) == []


def test_a_broken_overrides_file_is_reported_not_fatal(tmp_path, monkeypatch):
    (tmp_path / "price_overrides.toml").write_text("[[override]]\nmodel = 1\n", encoding="utf-8")
    at = _app(tmp_path, monkeypatch)
    at.run()
    assert not at.exception
    assert any("overrides file cannot be used" in e.value and "Fix" in e.value for e in at.error)
    assert _table(at, "kind")["kind"].eq("catalog").all()


def test_estimates_mark_models_shut_down_on_the_provider(catalog_page):
    at, _ = catalog_page
    status = _table(at, "override").set_index("model")["status"]
    assert status["gpt-image-1.5"] == "shut down" and status["gpt-image-2"] == "live"  # on openai, 2026-12-01
    at.selectbox(key="cat_est_provider").set_value("azure").run()
    status = _table(at, "override").set_index("model")["status"]
    assert status["gpt-image-1.5"] == "live" and status["gpt-image-1-mini"] == "retiring"  # until 2027-04-07
