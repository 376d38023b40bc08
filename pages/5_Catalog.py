"""Catalog: every model with its capabilities, lifecycle, token table and prices, and local price overrides."""

import streamlit as st

import ui
from ui import catalog_view as view

ctx = ui.page_setup("Catalog")
st.title("Model catalog")
st.caption(f"Everything here is data (imagegen/core/data/*.toml) with its source and the date it was checked; the "
           f"oldest check is {ctx.catalog.oldest_check().isoformat()}. Local price overrides are marked as such.")
view.render(ctx, ctx.today)
