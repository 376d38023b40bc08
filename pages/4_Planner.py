"""Budget planner: a mix of settings x volume -> daily, monthly and yearly cost, quota and batch time."""

from datetime import date
from urllib.parse import urlencode

import streamlit as st

import ui
from imagegen.errors import ImagegenError
from imagegen.insight import analysis, charts, planner
from ui import planner as editor
from ui.charts import PNG_HINT, show_chart
from ui.plain import md_escape
from ui.state import store_version

ctx = ui.page_setup("Planner")
st.title("Budget planner")
st.caption("What a month of images costs under your quota, in USD and JPY. Scenarios sit side by side with their "
           "difference from the first; the plan lives in the page's link, so sharing the link shares the plan.")


def _load_csv() -> None:
    upload = st.session_state.get("pl_csv")
    if upload is None:
        return
    try:
        editor.seed(planner.from_csv(upload.getvalue().decode("utf-8-sig")))
    except (ImagegenError, UnicodeDecodeError) as exc:
        st.session_state["pl_csv_error"] = str(exc)


problem = editor.seed_once(st.query_params.to_dict(), date.today())
if problem:
    st.error(problem)
csv_error = st.session_state.pop("pl_csv_error", None)
if csv_error:
    st.error(f"That CSV could not be loaded as a plan: {md_escape(csv_error)}")


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def _run_labels(db: str, version: tuple, _store) -> dict[str, str]:
    runs = _store.runs(limit=200)
    return {r.run_id: f"{r.name or '(unnamed)'} · {r.model} · {r.ok} ok · {r.run_id}"
            + (" · simulated" if r.simulated else "") for r in runs.itertuples()}


run_labels = _run_labels(str(ctx.store.db_path), store_version(ctx.store), ctx.store) if ctx.store is not None else {}

try:
    plan = editor.editor(ctx.catalog, run_labels)
    measured = None
    if plan.source == "measured" and plan.run_ids and ctx.store is not None:
        measured = analysis.measured_costs(ctx.store.query, plan.run_ids)
    result = planner.evaluate(plan, ctx.catalog, measured)
except ImagegenError as exc:
    st.error(md_escape(exc))
    st.stop()

st.query_params.from_dict(planner.to_query(plan))

st.subheader("Scenarios side by side")
st.markdown(f"Figures: **{result.source_label}** · exchange rate **{plan.jpy_per_usd} JPY per USD** "
            f"on {plan.rate_date.isoformat()}")
st.caption(f"{result.included} A month is {plan.days_per_month.normalize():f} days; a year is 12 months.")
for warning in result.warnings:
    st.warning(warning)
st.dataframe(editor.format_compare(planner.compare(result)), hide_index=True, key="pl_compare")

breakdown = planner.breakdown(result)
p1, p2 = st.columns(2)
period = p1.segmented_control("Period", ["daily", "monthly", "yearly"], default="monthly", key="pl_period") \
    or "monthly"
currency = p2.segmented_control("Currency", ["USD", "JPY"], default="USD", key="pl_currency") or "USD"
show_chart(charts.plan_costs(breakdown, period, currency), breakdown, "plan_costs")
with st.expander("Per setting"):
    st.dataframe(editor.format_breakdown(breakdown), hide_index=True, key="pl_breakdown")

st.subheader("Quota and batch time")
capacity = planner.quota_capacity(plan.quota)
m1, m2, m3 = st.columns(3)
m1.metric("Most images per hour", f"{capacity.images_per_hour.normalize():,f}")
m2.metric(f"Most images per day ({plan.quota.hours_per_day.normalize():f} h)", f"{capacity.images_per_day.normalize():,f}")
m3.metric(f"Time for {plan.quota.batch_images:,} images", str(capacity.batch_time).split(".")[0],
          help=f"{capacity.batch_requests:,} requests at {capacity.requests_per_minute.normalize():f} per minute")
st.caption("A steady rate at the quota: it is enforced over sub-minute windows, so bursts above it are refused "
           "(HTTP 429) rather than queued.")
needs = planner.scenario_quota(result, capacity)
st.dataframe(needs.assign(
    images_per_day=[f"{v.quantize(1):,}" for v in needs["images_per_day"]],
    share_of_capacity=[f"{float(v):.1%}" if v is not None else "–" for v in needs["share_of_capacity"]],
    hours_needed_per_day=[f"{float(v):.2f}" if v is not None else "–" for v in needs["hours_needed_per_day"]],
), hide_index=True, key="pl_quota")

st.subheader("Share and export")
st.caption("The address bar now holds this plan; copy it to share. The same query string:")
st.code("?" + urlencode(planner.to_query(plan)), language=None)
e1, e2 = st.columns(2)
e1.download_button("Plan as CSV", planner.to_csv(plan, result).encode("utf-8-sig"), file_name="plan.csv", mime="text/csv", key="pl_csv_download", icon=":material/download:")
e2.file_uploader("Load a plan CSV", type=["csv"], key="pl_csv", on_change=_load_csv)
st.caption(PNG_HINT)
