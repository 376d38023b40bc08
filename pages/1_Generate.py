"""Generate: build a grid (prompts x up to three axes), see its estimate, run it, watch it fill in."""

import streamlit as st

import ui
from ui import generate_form, run_panel
from ui.i18n import _

ctx = ui.page_setup("Generate", icon=":material/grid_view:")
st.title(_("Generate"))
st.caption(_("Pick up to three parameters as axes; every combination is one cell. The estimate updates as you "
             "build the grid; nothing is sent until you press Run grid."))

values = generate_form.render_form(ctx)
plan = generate_form.render_estimate(ctx, values)
run_panel.render_controls(ctx, plan)
run_panel.render_active(ctx)
