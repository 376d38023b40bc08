"""Catalog: every model with its capabilities, lifecycle, token table and prices, and local price overrides."""

import streamlit as st

import ui
from ui import catalog_view as view
from ui.i18n import _

ctx = ui.page_setup("Catalog")
st.title(_("Model catalog"))
st.caption(_("Everything here is data (imagegen/core/data/*.toml) with its source and the date it "
             "was checked; the oldest check is {isoformat}. Local price overrides are marked as such.").format(isoformat=ctx.catalog.oldest_check().isoformat()))
view.render(ctx, ctx.today)
