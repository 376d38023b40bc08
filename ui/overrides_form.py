"""The Catalog page's local price-override editor: list, remove and add overrides (saved under IMAGEGEN_HOME)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from imagegen.core import overrides
from imagegen.core.catalog import PROVIDERS, default_catalog
from imagegen.errors import ImagegenError
from imagegen.insight import catalog_tables as tables
from ui import Context
from ui.plain import md_escape
from ui.state import flash


def render_overrides(ctx: Context, today: date) -> None:
    """Saved overrides with a Remove button each, and a form that saves a new one (prices default to the catalog's)."""
    st.subheader("Local price overrides")
    st.caption(f"A regional Azure price or a negotiated rate, saved in {overrides.overrides_path(ctx.home)} and used by "
               "estimates and the planner instead of the catalog's entry.")
    try:
        saved = overrides.load_overrides(ctx.home)
    except ImagegenError as exc:
        saved = []
        st.error(f"The overrides file cannot be used: {md_escape(exc)}")

    for entry in saved:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        c1.markdown(f"`{entry.key}` — image output ${entry.image_output}/1M, text input ${entry.text_input}/1M, "
                    f"image input ${entry.image_input}/1M. {entry.note}")
        if c2.button("Remove", key=f"cat_remove_{entry.key}", icon=":material/delete:"):
            overrides.remove_override(ctx.home, entry.key)
            flash(f"Removed {entry.key}.")
            st.rerun()

    base_catalog = default_catalog()
    with st.container(border=True):
        o1, o2, o3 = st.columns(3)
        ov_model = o1.selectbox("Model", sorted(base_catalog.models), key="ov_model")
        ov_provider = o2.selectbox("Provider", list(PROVIDERS), key="ov_provider")
        ov_from = o3.date_input("Effective from", value=today, key="ov_from")
        base = tables.base_price(base_catalog, ov_model, ov_provider, ov_from)
        if base is None:
            st.caption(f"The catalog has no {ov_provider} price for {ov_model}: give every price.")
        cols = st.columns(len(overrides.PRICE_FIELDS))
        prices = {}
        for col, name in zip(cols, overrides.PRICE_FIELDS):
            default = getattr(base, name) if base is not None else None
            prices[name] = col.number_input(name.replace("_", " "), min_value=0.0, step=0.01, format="%.4f",
                                            value=float(default) if default is not None else None,
                                            key=f"ov_{name}_{ov_model}_{ov_provider}")
        note = st.text_input("Note (e.g. swedencentral regional price)", key="ov_note")
        if st.button("Save override", key="ov_save", type="primary", icon=":material/save:"):
            try:
                entry = overrides.make_override(
                    base_catalog, ov_model, ov_provider, ov_from, note=note, checked=today, where="override",
                    **{k: (str(v) if v is not None else None) for k, v in prices.items()})
                overrides.add_override(ctx.home, entry, base_catalog)
            except ImagegenError as exc:
                st.error(str(exc))
            else:
                flash(f"Saved {entry.key}. Estimates and the planner now use it.")
                st.rerun()
