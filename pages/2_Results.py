"""Results: the run history (filters, totals, paging); open any run's grid; rename, delete, export."""

import streamlit as st

import ui
from ui import results_view

ctx = ui.page_setup("Results", icon=":material/history:")
st.title("Results")
st.caption("Every run recorded in the history. Open one to see its grid, rate and compare cells, or export it in "
           "the CLI's format.")
results_view.render(ctx)
