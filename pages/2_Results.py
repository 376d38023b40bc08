"""Results: the run history (filters, totals, paging); open any run's grid; rename, delete, export."""

import streamlit as st

import ui
from ui import results_view
from ui.i18n import _

ctx = ui.page_setup("Results", icon=":material/history:")
st.title(_("Results"))
st.caption(_("Every run recorded in the history. Open one to see its grid, rate and compare cells, or export it in "
           "the CLI's format."))
results_view.render(ctx)
