"""Catalog: every model with its capabilities, lifecycle, token table and prices, and local price overrides."""

from datetime import date

import streamlit as st

import ui
from imagegen import overrides
from imagegen.catalog import PROVIDERS, default_catalog
from imagegen.errors import ImagegenError
from ui import catalog_tables as tables
from ui.state import flash, show_flashes

ctx = ui.page_setup("Catalog")
catalog = ctx.catalog
today = date.today()
st.title("Model catalog")
st.caption(f"Everything here is data (imagegen/data/*.toml) with its source and the date it was checked; the oldest "
           f"check is {catalog.oldest_check().isoformat()}. Local price overrides are marked as such.")
show_flashes()

for entry in tables.lifecycle(catalog, today):
    if entry.level == "shut_down":
        st.error(entry.message, icon=":material/block:")
    elif entry.level == "soon":
        st.warning(entry.message, icon=":material/schedule:")

st.subheader("Models")
st.dataframe(tables.models_table(catalog), hide_index=True, key="cat_models",
             column_config={"source": st.column_config.LinkColumn("source")})

st.subheader("Lifecycle per provider")
st.dataframe(tables.lifecycle_table(catalog, today), hide_index=True, key="cat_lifecycle",
             column_config={"source": st.column_config.LinkColumn("source")})

st.subheader("Output tokens per image")
for key, tm in catalog.tokens.items():
    users = ", ".join(m for m, spec in catalog.models.items() if spec.tokens == key)
    with st.container(border=True):
        st.markdown(f"**{key}** — used by {users}. Table: **{tm.status}**, formula: **{tm.formula_status}**; "
                    f"+{tm.partial_image_tokens} tokens per streamed partial image.")
        st.dataframe(tables.token_table(catalog, key), hide_index=True, key=f"cat_tokens_{key}")
        st.caption(f"{tables.formula_text(catalog, key)}. Cells marked · come from the formula, the others from "
                   f"the documented table. Source: {tm.source} (checked {tm.checked.isoformat()}). {tm.note}")

st.subheader("Prices (USD per 1M tokens)")
st.dataframe(tables.prices_table(catalog), hide_index=True, key="cat_prices",
             column_config={"source": st.column_config.LinkColumn("source")})

st.subheader("Estimated output cost per image")
e1, e2 = st.columns([1, 3])
est_provider = e1.selectbox("Provider", list(PROVIDERS), key="cat_est_provider")
est_size = e2.selectbox("Size", ["1024x1024", "1024x1536", "1536x1024"], key="cat_est_size")
estimates = tables.per_image_estimates(catalog, est_provider, est_size, today)
st.dataframe(tables.money_cells(estimates), hide_index=True, key="cat_estimates")
st.caption("Estimated: documented output tokens × the image-output price in force (a local override wins), "
           "prompt tokens not included. The Generate page's estimates and the planner use the same prices.")

st.subheader("Local price overrides")
st.caption(f"A regional Azure price or a negotiated rate, saved in {overrides.overrides_path(ctx.home)} and used by "
           "estimates and the planner instead of the catalog's entry.")
try:
    saved = overrides.load_overrides(ctx.home)
except ImagegenError as exc:
    saved = []
    st.error(f"The overrides file cannot be used: {exc}")

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
                base_catalog, ov_model, ov_provider, ov_from, note=note, where="override",
                **{k: (str(v) if v is not None else None) for k, v in prices.items()})
            overrides.add_override(ctx.home, entry, base_catalog)
        except ImagegenError as exc:
            st.error(str(exc))
        else:
            flash(f"Saved {entry.key}. Estimates and the planner now use it.")
            st.rerun()
