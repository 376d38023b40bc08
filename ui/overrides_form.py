"""The Catalog page's local price-override editor: list, remove and add overrides (saved under IMAGEGEN_HOME)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from imagegen import facade
from imagegen.errors import ImagegenError
from imagegen.facade import PROVIDERS, default_catalog
from ui import Context
from ui.i18n import _
from ui.plain import md_escape
from ui.state import flash


def render_overrides(ctx: Context, today: date) -> None:
    """Saved overrides with a Remove button each, and a form that saves a new one (prices default to the catalog's)."""
    st.subheader(_("Local price overrides"))
    st.caption(_("A regional Azure price or a negotiated rate, saved in {home} and used by estimates "
                 "and the planner instead of the catalog's entry.").format(home=facade.overrides_path(ctx.home)))
    try:
        saved = facade.load_overrides(ctx.home)
    except ImagegenError as exc:
        saved = []
        st.error(_("The overrides file cannot be used: {exc}").format(exc=md_escape(exc)))

    for entry in saved:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        c1.markdown(_("`{key}` — image output ${image_output}/1M, text input ${text_input}/1M, image "
                      "input ${image_input}/1M. {note}").format(key=entry.key, image_output=entry.image_output, text_input=entry.text_input, image_input=entry.image_input, note=entry.note))
        if c2.button(_("Remove"), key=f"cat_remove_{entry.key}", icon=":material/delete:"):
            facade.remove_override(ctx.home, entry.key)
            flash(_("Removed {key}.").format(key=entry.key))
            st.rerun()

    base_catalog = default_catalog()
    with st.container(border=True):
        o1, o2, o3 = st.columns(3)
        ov_model = o1.selectbox(_("Model"), sorted(base_catalog.models), key="ov_model")
        ov_provider = o2.selectbox(_("Provider"), list(PROVIDERS), key="ov_provider")
        ov_from = o3.date_input(_("Effective from"), value=today, key="ov_from")
        base = facade.base_price(base_catalog, ov_model, ov_provider, ov_from)
        if base is None:
            st.caption(_("The catalog has no {ov_provider} price for {ov_model}: give every price.").format(ov_provider=ov_provider, ov_model=ov_model))
        cols = st.columns(len(facade.PRICE_FIELDS))
        prices = {}
        for col, name in zip(cols, facade.PRICE_FIELDS):
            default = getattr(base, name) if base is not None else None
            prices[name] = col.number_input(name.replace("_", " "), min_value=0.0, step=0.01, format="%.4f",
                                            value=float(default) if default is not None else None,
                                            key=f"ov_{name}_{ov_model}_{ov_provider}")
        note = st.text_input(_("Note (e.g. swedencentral regional price)"), key="ov_note")
        if st.button(_("Save override"), key="ov_save", type="primary", icon=":material/save:"):
            try:
                entry = facade.make_override(
                    base_catalog, ov_model, ov_provider, ov_from, note=note, checked=today, where="override",
                    **{k: (str(v) if v is not None else None) for k, v in prices.items()})
                facade.add_override(ctx.home, entry, base_catalog)
            except ImagegenError as exc:
                st.error(str(exc))
            else:
                flash(_("Saved {key}. Estimates and the planner now use it.").format(key=entry.key))
                st.rerun()
