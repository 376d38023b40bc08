"""The Catalog page's body: lifecycle warnings, models, lifecycle, token tables, prices, estimates, overrides."""

from __future__ import annotations

from datetime import date

import streamlit as st

from imagegen import facade
from imagegen.facade import PROVIDERS, status_label
from ui import Context
from ui.calibration_panel import render_calibration, render_catalog_check
from ui.i18n import _, source_note
from ui.overrides_form import render_overrides
from ui.state import show_flashes


def render(ctx: Context, today: date) -> None:
    """Everything the Catalog page shows about ``ctx.catalog`` on ``today``."""
    catalog = ctx.catalog
    show_flashes()
    tables = facade.catalog_tables(catalog, today)
    for entry in tables.lifecycle:
        if entry.state == "shut_down":
            st.error(_("{sentence} Its documented behaviour can still be reproduced on the simulator.").format(sentence=source_note(entry.sentence)),
                     icon=":material/block:")
        elif entry.state == "retiring":
            st.warning(source_note(entry.sentence), icon=":material/schedule:")

    st.subheader(_("Models"))
    if source_note("x") != "x":  # in Japanese: say why the tables' notes are English
        st.caption(_("Notes and sources in these tables are shown in their source language (English)."))
    st.dataframe(tables.models, hide_index=True, key="cat_models",
                 column_config={"source": st.column_config.LinkColumn(_("source"))})

    st.subheader(_("Lifecycle per provider on {isoformat}").format(isoformat=today.isoformat()))
    st.dataframe(tables.lifecycles, hide_index=True, key="cat_lifecycle",
                 column_config={"source": st.column_config.LinkColumn(_("source"))})

    st.subheader(_("Output tokens per image"))
    for key, tm in catalog.tokens.items():
        users = ", ".join(m for m, spec in catalog.models.items() if spec.tokens == key)
        with st.container(border=True):
            table_label = status_label(tm.status, tm.measured_by, tm.measured_on) if tm.status == "measured" \
                else tm.status
            st.markdown(_("**{key}** — used by {users}. Table: **{table_label}**, formula: "
                          "**{formula_status}**; +{partial_image_tokens} tokens per streamed partial "
                          "image (with n > 1 the guide is ambiguous: per request or per image; "
                          "budgets reserve per image).").format(key=key, users=users, table_label=table_label, formula_status=tm.formula_status, partial_image_tokens=tm.partial_image_tokens))
            st.dataframe(tables.tokens[key], hide_index=True, key=f"cat_tokens_{key}")
            st.caption(_("{formulas}. Cells marked · come from the formula, the others from the "
                         "table; (a–b) is the range of a quality with no published figure (budgets "
                         "reserve b); the status column says how each figure is known. Source: "
                         "{source} (checked {isoformat}). {note}").format(formulas=tables.formulas[key], source=tm.source, isoformat=tm.checked.isoformat(), note=source_note(tm.note)))

    st.subheader(_("Prices (USD per 1M tokens)"))
    st.dataframe(tables.prices, hide_index=True, key="cat_prices",
                 column_config={"source": st.column_config.LinkColumn(_("source"))})

    st.subheader(_("Estimated output cost per image"))
    e1, e2 = st.columns([1, 3])
    est_provider = e1.selectbox(_("Provider"), list(PROVIDERS), key="cat_est_provider")
    est_size = e2.selectbox(_("Size"), ["1024x1024", "1024x1536", "1536x1024"], key="cat_est_size")
    st.dataframe(tables.estimates(est_provider, est_size), hide_index=True, key="cat_estimates")
    st.caption(_("Estimated: documented output tokens × the image-output price in force on "
                 "{isoformat} (a local override wins), prompt tokens not included. The Generate "
                 "page's estimates and the planner use the same prices. status: the model on "
                 "{est_provider} that day (shut down = it can only be simulated).").format(isoformat=today.isoformat(), est_provider=est_provider))

    render_overrides(ctx, today)
    render_calibration(ctx, today)
    render_catalog_check(ctx, today)
