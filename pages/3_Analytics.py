"""Analytics: what the stored runs really cost and how long they took, against the documented tables."""

import streamlit as st

import ui
from ui import analytics_view as view
from ui.i18n import _

ctx = ui.page_setup("Analytics")
st.title(_("Analytics"))
st.caption(_("Aggregates over any selection of stored runs (successful results only; results reused from history "
           "are left out). Every chart says whether its figures are measured, simulated, documented or estimated."))

found = view.history(ctx)
selection = view.filters(found)
result = view.analyse(ctx, found, selection)
view.render(result)
view.render_edits(ctx, selection)
