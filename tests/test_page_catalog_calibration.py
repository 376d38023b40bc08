"""Catalog page (AppTest): the calibration section adopts our measurements and removes them; the catalog check."""

from __future__ import annotations

from imagegen.core.catalog import default_catalog
from imagegen.core.pricing import documented_output_tokens
from imagegen.core.token_overrides import load_token_overrides
from imagegen.storage.store import Store
from tests.calib_support import real_run
from tests.ui_support import page_app


def test_adopt_then_remove_from_the_catalog_page(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEGEN_USER", "page-user")
    catalog = default_catalog()
    base = documented_output_tokens(catalog, "gpt-image-2", "high", "1024x1024")
    with Store(tmp_path) as store:
        real_run(store, catalog, model="gpt-image-2", quality="high", size="1024x1024",
                 output_tokens=[base + 100, base + 100])
    at = page_app("5_Catalog.py", tmp_path, monkeypatch)
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "deviation %" in d.value.columns)
    row = table.iloc[0]
    assert (row["model"], row["results"], row["catalog"]) == ("gpt-image-2", 2, base)
    assert any("catalog check:" in i.value for i in at.info) or any("catalog check:" in s.value for s in at.success)
    at.button(key="cal_adopt").click().run()
    assert not at.exception, at.exception
    [saved] = load_token_overrides(tmp_path, catalog)
    assert (saved.output_tokens, saved.n, saved.adopted_by) == (base + 100, 2, "page-user")
    assert any("measured (ours, n = 2)" in m.value for m in at.markdown)
    at.button(key="cal_remove_gpt-image-2_high_1024x1024").click().run()
    assert load_token_overrides(tmp_path, catalog) == []
