"""The Planner page's parts: seeding the editor (link, CSV, example) and showing a costed plan.

The editor's widgets are in :mod:`ui.planner`; the costing is one facade call
(:func:`imagegen.facade.make_plan`); this module draws what it returns.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from imagegen import facade
from imagegen.errors import ImagegenError
from ui import Context, flow_row, i18n
from ui import planner as editor
from ui.charts import PNG_HINT, show_chart
from ui.i18n import _
from ui.plain import md_escape
from ui.state import planner as pl_state
from ui.state import store_version


def _load_csv() -> None:
    upload = pl_state.widgets.get("pl_csv")
    if upload is None:
        return
    try:
        editor.seed(facade.plan_from_csv(upload.getvalue()))
    except ImagegenError as exc:
        pl_state.csv_error = str(exc)


def seed(ctx: Context) -> None:
    """Seed the editor once per session from the page's link (or the example: models that run on the active
    provider on ``ctx.today``); show a broken link or CSV."""
    provider = ctx.provider if ctx.provider in ("openai", "azure") else "openai"
    problem = editor.seed_once(st.query_params.to_dict(), ctx.catalog, ctx.today, provider)
    if problem:
        st.error(problem)
    csv_error = pl_state.csv_error
    if csv_error:
        del pl_state.csv_error
        st.error(_("That CSV could not be loaded as a plan: {csv_error}").format(csv_error=md_escape(csv_error)))


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def _run_labels(db: str, version: tuple, _store) -> dict[str, str]:
    return facade.run_labels(_store)


def edit(ctx: Context):
    """The editor's widgets -> the BudgetPlan they describe (an unusable one is shown and stops the page)."""
    labels = _run_labels(str(ctx.store.db_path), store_version(ctx.store), ctx.store) if ctx.store else {}
    try:
        return editor.editor(ctx.catalog, labels, ctx.today)
    except ImagegenError as exc:
        st.error(md_escape(exc))
        st.stop()


def render(outcome: facade.PlanOutcome) -> None:
    """Scenarios side by side, costs per period, quota and batch time, share and export."""
    plan, result = outcome.plan, outcome.result
    st.query_params.from_dict({**outcome.query, i18n.QUERY_KEY: i18n.current()})  # the link keeps its language
    st.subheader(_("Scenarios side by side"))
    st.markdown(_("Figures: **{source}** · exchange rate: {rate}").format(
        source=result.source_label, rate=editor.rate_label(plan)))
    st.caption(_("{included} A month is {normalize:f} days; a year is 12 months.").format(included=result.included, normalize=plan.days_per_month.normalize()))
    for warning in result.warnings:
        st.warning(warning)
    st.dataframe(editor.format_compare(outcome.compare), hide_index=True, key="pl_compare")

    breakdown = outcome.breakdown
    p1, p2 = st.columns(2)
    period = p1.segmented_control(_("Period"), ["daily", "monthly", "yearly"], default="monthly", key="pl_period") \
        or "monthly"
    currency = p2.segmented_control(_("Currency"), ["USD", "JPY"], default="USD", key="pl_currency") or "USD"
    # plotly loads with the first chart (facade.plan_costs), on the page that draws it
    show_chart(facade.plan_costs(breakdown, period, currency), breakdown, "plan_costs")
    with st.expander(_("Per setting")):
        st.dataframe(editor.format_breakdown(breakdown), hide_index=True, key="pl_breakdown")

    st.subheader(_("Quota and batch time"))
    capacity = outcome.capacity
    m1, m2, m3 = flow_row(3, gap="large")  # metrics wrap at 800 px instead of being cut
    m1.metric(_("Most images per hour"), f"{capacity.images_per_hour.normalize():,f}")
    m2.metric(_("Most images per day ({normalize:f} h)").format(normalize=plan.quota.hours_per_day.normalize()),
              f"{capacity.images_per_day.normalize():,f}")
    m3.metric(_("Time for {batch_images:,} images").format(batch_images=plan.quota.batch_images), str(capacity.batch_time).split(".")[0],
              help=_("{batch_requests:,} requests at {normalize:f} per minute").format(batch_requests=capacity.batch_requests, normalize=capacity.requests_per_minute.normalize()))
    st.caption(_("A steady rate at the quota: it is enforced over sub-minute windows, so bursts above it are refused "
               "(HTTP 429) rather than queued."))
    needs = outcome.needs
    st.dataframe(editor.format_quota(needs), hide_index=True, key="pl_quota")

    st.subheader(_("Share and export"))
    st.caption(_("The address bar now holds this plan; copy it to share. The same query string:"))
    st.code("?" + urlencode(outcome.query), language=None)
    e1, e2 = st.columns(2)
    e1.download_button(_("Plan as CSV"), outcome.csv.encode("utf-8-sig"), file_name="plan.csv", mime="text/csv",
                       key="pl_csv_download", icon=":material/download:")
    e2.file_uploader(_("Load a plan CSV"), type=["csv"], key="pl_csv", on_change=_load_csv)
    st.caption(_(PNG_HINT))
