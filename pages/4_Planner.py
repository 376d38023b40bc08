"""Budget planner: a mix of settings x volume -> daily, monthly and yearly cost, quota and batch time."""

import streamlit as st

import ui
from imagegen import facade
from ui import planner_view as view
from ui.i18n import _

ctx = ui.page_setup("Planner")
st.title(_("Budget planner"))
st.caption(_("What a month of images costs under your quota, in USD and JPY. Scenarios sit side by side with their "
           "difference from the first; the plan lives in the page's link, so sharing the link shares the plan."))

view.seed(ctx)
plan = view.edit(ctx)
outcome = ui.or_stop(facade.make_plan, plan, ctx.catalog, ctx.store, on=ctx.today)
view.render(outcome)
