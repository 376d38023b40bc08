"""The Home page body: what the app does, the active provider, catalog freshness, lifecycle warnings."""

from __future__ import annotations

import streamlit as st

from imagegen.facade import catalog_freshness, lifecycle_warnings
from ui import ROOT, Context, describe_settings, l10n, pinned_date_note, provider_lines
from ui.i18n import N_, _, source_note

PAGES = (
    ("pages/1_Generate.py", N_("Generate"), ":material/grid_view:", N_("build a grid, see its estimate, run it")),
    ("pages/2_Results.py", N_("Results"), ":material/history:", N_("run history, open any run's grid, export")),
    ("pages/3_Analytics.py", N_("Analytics"), ":material/monitoring:",
     N_("measured vs documented tokens, cost, latency")),
    ("pages/4_Planner.py", N_("Planner"), ":material/calculate:", N_("monthly cost and quota planning")),
    ("pages/5_Catalog.py", N_("Catalog"), ":material/menu_book:", N_("models, prices, lifecycle, price overrides")),
)
SIMULATOR_NOTE = N_("It can still be run on the simulator from its documented behaviour.")


def render(ctx: Context) -> None:
    st.title(_("What image models really cost"))
    if ctx.date_pinned:
        st.info(pinned_date_note(ctx.today), icon=":material/event:")
    st.markdown(
        _("Compare OpenAI's and Azure OpenAI's GPT image models side by side: build a grid of settings "
          "(quality × size × …), run it, and see every image next to its latency, billed tokens and cost.")
        + "\n\n"
        + _("Estimates come from the documented token tables and prices; runs record what the service actually "
            "returned, so you can check one against the other before a budget decision."))
    left, right = st.columns(2)
    with left:
        st.subheader(_("Active provider"))
        for line in provider_lines(describe_settings(ctx.settings)):
            st.markdown(line)
        if ctx.provider == "simulator":
            st.info(_("No API key is configured, so the built-in simulator answers every request. Its images, "
                      "latencies and costs are SIMULATED (from the documented tables and a latency model). Set "
                      "OPENAI_API_KEY, or the Azure variables in .env.example, to measure a real service."))
        note = getattr(ctx.settings, "note", "")
        if note and ctx.provider != "simulator":
            st.caption(note)
    with right:
        st.subheader(_("Catalog"))
        oldest = ctx.catalog.oldest_check()
        age = (ctx.today - oldest).days
        st.markdown(_("Prices and model facts last checked **{day}** (oldest entry, {age} days ago).").format(
            day=l10n.day(oldest), age=l10n.number(age)))
        if age > 90:
            st.warning(_("Some catalog entries are over 90 days old; prices may have changed. See the Catalog page."))
        overrides = [p for p in ctx.catalog.prices if p.override]
        if overrides:
            st.caption(_("{n} local price override(s) in use.").format(n=len(overrides)))
        if ctx.catalog.token_overrides:
            st.caption(_("{n} output-token figure(s) measured by us in use (`calibrate --adopt`).").format(
                n=len(ctx.catalog.token_overrides)))
        report = catalog_freshness(ctx.catalog, ctx.today)
        icon = ":material/warning:" if report.needs_attention else ":material/check_circle:"
        st.page_link("pages/5_Catalog.py", label=report.summary(), icon=icon,
                     help=_("Details on the Catalog page (Catalog check), or `python -m imagegen catalog check`"))
    st.subheader(_("Pages"))
    for path, label, icon, what in PAGES:
        if (ROOT / path).exists():  # pages are added by different parts of the project
            st.page_link(path, label=f"{_(label)} — {_(what)}", icon=icon)
    warnings = lifecycle_warnings(ctx.catalog, ctx.today)
    if warnings:
        st.subheader(_("Model lifecycle on {day}").format(day=l10n.day(ctx.today)))
        for level, life in warnings:
            if level == "error":
                st.error(f"{source_note(life.sentence)} {_(SIMULATOR_NOTE)}")
            else:
                st.warning(source_note(life.sentence))
