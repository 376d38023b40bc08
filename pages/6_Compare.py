"""Blind compare: pairwise votes on images -> a ranking with confidence and the cost-quality frontier."""

import streamlit as st

import ui
from imagegen import facade
from ui import compare
from ui.i18n import _

ctx = ui.page_setup("Compare")
st.title(_("Blind compare"))
st.caption(_("Is high worth 4× medium for our prompts? Vote on pairs of images with the settings hidden; the ranking, "
           "its confidence and the cheapest setting as good as the best follow from the votes."))
ui.state.show_flashes()
if ctx.store is None:
    st.stop()

run_ids = compare.run_picker(ctx.store)
if not run_ids:
    st.info(_("No run to compare yet. Run a grid on Generate first."))
    st.stop()
found = ui.or_stop(facade.compare, ctx.store, run_ids)
pool, votes, report = found.pool, found.votes, found.report
if pool.simulated:
    st.caption(_(":orange-badge[SIMULATED] these images and costs come from the simulator."))

vote_tab, rank_tab, frontier_tab, judge_tab, export_tab = st.tabs([_("Vote"), _("Ranking"), _("Frontier"), _("Judge"), _("Export")])
with vote_tab:
    compare.vote_panel(ctx.store, pool, votes)
with rank_tab:
    compare.ranking_panel(report)
with frontier_tab:
    compare.frontier_panel(report, ctx.today, ctx.catalog)
with judge_tab:
    compare.judge_panel(ctx.store, ctx.settings, pool, report)
with export_tab:
    compare.export_panel(pool, votes, report)
