"""The Planner page's editor: widgets seeded from a plan (URL, CSV or the example) -> a ``BudgetPlan``.

Widget values live under ``pl_*`` keys (declared in :class:`ui.state.PlannerState`). :func:`seed` writes a plan into
them (first visit: from the URL's query parameters; later: from an uploaded CSV); :func:`editor`
draws the widgets and reads them back into a :class:`imagegen.insight.planner.BudgetPlan`, which raises
``PlanError`` (shown by the page) for anything it cannot use.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import streamlit as st

from imagegen import facade
from imagegen.errors import PlanError
from imagegen.facade import PROVIDERS, BudgetPlan, Catalog, Quota, Scenario, frame_lines, lines_frame
from ui import flow_row, l10n
from ui.i18n import N_, _
from ui.state import planner as pl_state

SOURCE_LABELS = {"documented": N_("Documented (catalog estimate)"), "measured": N_("Measured (mean billed cost from runs)")}


def _k(name: str) -> str:
    return f"pl_{name}"


def seed(plan: BudgetPlan) -> None:
    """Write ``plan`` into the editor's widget state (the data editors start afresh)."""
    ss = pl_state.widgets
    ss[_k("gen")] = ss.get(_k("gen"), 0) + 1
    ss[_k("count")] = len(plan.scenarios)
    for i, sc in enumerate(plan.scenarios):
        ss[_k(f"name_{i}")] = sc.name
        ss[_k(f"base_{i}")] = lines_frame(sc.lines)
    ss[_k("fx")] = float(plan.jpy_per_usd)
    ss[_k("fxd")] = plan.rate_date
    ss[_k("dpm")] = float(plan.days_per_month)
    ss[_k("src")] = plan.source
    ss[_k("runs")] = list(plan.run_ids)
    q = plan.quota
    ss[_k("rpm")] = float(q.rpm)
    ss[_k("dep")] = int(q.deployments)
    ss[_k("n")] = int(q.images_per_request)
    ss[_k("batch")] = int(q.batch_images)
    ss[_k("hours")] = float(q.hours_per_day)


def seed_once(query_params: dict, catalog: Catalog, today: date, provider: str = "openai") -> str | None:
    """On a session's first visit, seed from the URL (or the example for ``provider`` on ``today``);
    return an error for a broken link."""
    if pl_state.widgets.get(_k("seeded")):
        return None
    pl_state.widgets[_k("seeded")] = True
    try:
        plan = facade.plan_from_link(query_params, today)
    except PlanError as exc:
        seed(facade.default_plan(catalog, today, provider))
        return f"The plan in this link could not be read, so the example is shown. {exc}"
    seed(plan or facade.default_plan(catalog, today, provider))
    return None


def _add_scenario() -> None:
    ss = pl_state.widgets
    i = ss[_k("count")]
    ss[_k(f"name_{i}")] = f"scenario {i + 1}"
    ss[_k(f"base_{i}")] = ss[_k(f"base_{i - 1}")].copy() if i else lines_frame(())
    ss[_k("count")] = i + 1


def _remove_scenario() -> None:
    ss = pl_state.widgets
    if ss[_k("count")] > 1:
        ss[_k("count")] -= 1


def editor(catalog: Catalog, run_labels: dict[str, str], today: date) -> BudgetPlan:
    """Draw the plan editor; return the plan it describes (PlanError when it is not usable)."""
    ss = pl_state.widgets
    gen = ss[_k("gen")]
    models, qualities, sizes = facade.editor_choices(catalog, today)

    st.subheader(_("Scenarios"))
    st.caption(_("Each scenario is a mix of settings with a number of images per day or per month. "
               "Add rows for more settings; the first scenario is the baseline for the differences."))
    count = ss[_k("count")]
    scenarios = []
    for i, col in enumerate(st.columns(count)):
        with col:
            name = st.text_input(_("Scenario name"), key=_k(f"name_{i}"))
            base = ss[_k(f"base_{i}")]
            extra_sizes = [s for s in base["size"].dropna().unique() if s not in sizes]
            edited = st.data_editor(
                base, key=_k(f"lines_{gen}_{i}"), num_rows="dynamic", hide_index=True,
                column_config={
                    "provider": st.column_config.SelectboxColumn(_("provider"), options=list(PROVIDERS), required=True,
                                                                 default="openai"),
                    "model": st.column_config.SelectboxColumn(_("model"), options=models, required=True),
                    "quality": st.column_config.SelectboxColumn(_("quality"), options=qualities, required=True,
                                                                default="medium"),
                    "size": st.column_config.SelectboxColumn(_("size"), options=sizes + extra_sizes, required=True,
                                                             default="1024x1024"),
                    "images": st.column_config.NumberColumn(_("images"), min_value=0, step=1, required=True,
                                                            help=_("images per day or per month (next column)")),
                    "per": st.column_config.SelectboxColumn(_("per"), options=list(facade.PER), required=True,
                                                            default="day"),
                    "prompt_tokens": st.column_config.NumberColumn(
                        _("prompt tokens"), min_value=0, step=1, default=facade.DEFAULT_PROMPT_TOKENS,
                        help=_("text input tokens per request (the prompt)")),
                },
            )
            scenarios.append(Scenario(name.strip() or f"scenario {i + 1}", frame_lines(edited)))
    b1, b2 = flow_row(2, gap="small")
    b1.button(_("Add scenario"), key=_k("add"), on_click=_add_scenario, icon=":material/add:")
    b2.button(_("Remove last"), key=_k("remove"), on_click=_remove_scenario, disabled=count <= 1,
              icon=":material/remove:")

    st.subheader(_("Figures and currency"))
    c1, c2, c3, c4 = st.columns(4)
    source = c1.radio(_("Cost per image from"), list(SOURCE_LABELS), format_func=lambda s: _(SOURCE_LABELS[s]), key=_k("src"))
    fx = c2.number_input(_("Exchange rate (JPY per USD)"), min_value=0.01, step=0.5, format="%.2f", key=_k("fx"),
                         help=_("Enter the rate you budget with; the default (150) is an assumed example, not a quote."))
    fx_date = c3.date_input(_("Rate date"), key=_k("fxd"))
    dpm = c4.number_input(_("Days per month"), min_value=1.0, max_value=31.0, step=1.0, key=_k("dpm"))
    run_ids: list[str] = []
    if source == "measured":
        known = [r for r in ss.get(_k("runs"), []) if r in run_labels]
        if known != ss.get(_k("runs"), []):
            ss[_k("runs")] = known
        run_ids = st.multiselect(_("Runs to measure from"), list(run_labels), format_func=run_labels.get, key=_k("runs"),
                                 placeholder=_("pick runs with the settings above"))

    st.subheader(_("Quota"))
    st.caption(_("Requests per minute per deployment: Azure shows it under Quotas (documented Tier 1 defaults, "
               "2026-08-20: gpt-image-1.5 9 RPM, gpt-image-1-mini 12 RPM, gpt-image-2 6 RPM GlobalStandard)."))
    q1, q2, q3, q4, q5 = st.columns(5)
    rpm = q1.number_input(_("Requests per minute"), min_value=0.1, step=1.0, key=_k("rpm"))
    deployments = q2.number_input(_("Deployments"), min_value=1, step=1, key=_k("dep"))
    n = q3.number_input(_("Images per request (n)"), min_value=1, max_value=10, step=1, key=_k("n"))
    batch = q4.number_input(_("Batch of images"), min_value=1, step=100, key=_k("batch"))
    hours = q5.number_input(_("Hours per day"), min_value=1.0, max_value=24.0, step=1.0, key=_k("hours"))

    return BudgetPlan(
        scenarios=tuple(scenarios), jpy_per_usd=Decimal(str(fx)), rate_date=fx_date, source=source,
        run_ids=tuple(run_ids), days_per_month=Decimal(str(dpm)),
        quota=Quota(rpm=Decimal(str(rpm)), deployments=int(deployments), images_per_request=int(n),
                    batch_images=int(batch), hours_per_day=Decimal(str(hours))),
    )


def format_compare(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`imagegen.insight.planner.compare` as display strings ($, ¥, counts; differences signed)."""
    out = frame.copy()
    for col in out.columns[1:]:
        diff = "−" in col
        values = []
        for metric, value in zip(out["metric"], frame[col]):
            if value is None:
                values.append("–")
                continue
            if "(USD)" in metric:
                text = facade.format_money(value, "USD")
            elif "(JPY)" in metric:
                text = facade.format_money(value, "JPY")
            else:
                text = f"{value.quantize(Decimal('0.01')).normalize():,f}"
            values.append("+" + text if diff and value > 0 else text)
        out[col] = values
    return out


#: Column headings of the "Per setting" table (the frame keeps the library's names for the chart and CSV).
BREAKDOWN_COLUMNS = {
    "scenario": N_("Scenario"), "line": N_("Setting"), "source": N_("Figures"),
    "cost_per_image_usd": N_("Cost per image (USD)"), "images_per_day": N_("Images per day"),
    "images_per_month": N_("Images per month"), "daily_usd": N_("Per day (USD)"), "monthly_usd": N_("Per month (USD)"),
    "yearly_usd": N_("Per year (USD)"), "daily_jpy": N_("Per day (JPY)"), "monthly_jpy": N_("Per month (JPY)"),
    "yearly_jpy": N_("Per year (JPY)"), "detail": N_("Detail"),
}
#: Column headings of the quota table.
QUOTA_COLUMNS = {
    "scenario": N_("Scenario"), "images_per_day": N_("Images per day"),
    "share_of_capacity": N_("Share of the quota's daily capacity"),
    "hours_needed_per_day": N_("Hours a day at the quota"), "deployments_needed": N_("Deployments needed"),
    "fits": N_("Fits in the quota"),
}


def rate_label(plan: BudgetPlan) -> str:
    """The exchange rate as the plan shows it. The built-in example rate says it is an assumption to replace
    (a bare "150 JPY per USD on <today>" reads as a quote of that day); a rate the user entered is theirs."""
    rate = f"{plan.jpy_per_usd.normalize():f}"
    if plan.jpy_per_usd == facade.EXAMPLE_JPY_PER_USD:
        return _("**{rate} JPY per USD, an assumed example rate** (not a quote of any day): replace it with the rate "
                 "you budget with under Figures and currency").format(rate=rate)
    return _("**{rate} JPY per USD** (entered, as of {day})").format(rate=rate, day=l10n.day(plan.rate_date))


def _headings(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    return frame.rename(columns={k: _(v) for k, v in names.items()})


def format_breakdown(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`imagegen.insight.planner.breakdown` as display strings, with headings for people."""
    out = frame.copy()
    out["cost_per_image_usd"] = [facade.format_money(v) for v in frame["cost_per_image_usd"]]
    for col in ("images_per_day", "images_per_month"):
        out[col] = [f"{v.quantize(Decimal('0.01')).normalize():,f}" for v in frame[col]]
    for col in ("daily_usd", "monthly_usd", "yearly_usd"):
        out[col] = [facade.format_money(v) for v in frame[col]]
    for col in ("daily_jpy", "monthly_jpy", "yearly_jpy"):
        out[col] = [facade.format_money(v, "JPY") for v in frame[col]]
    return _headings(out, BREAKDOWN_COLUMNS)


def format_quota(needs: pd.DataFrame) -> pd.DataFrame:
    """The quota needs per scenario (:func:`imagegen.insight.planner.scenario_quota`) as display strings, with
    headings for people (never the frame's column names)."""
    out = needs.assign(
        images_per_day=[f"{v.quantize(1):,}" for v in needs["images_per_day"]],
        share_of_capacity=[f"{float(v):.1%}" if v is not None else "–" for v in needs["share_of_capacity"]],
        hours_needed_per_day=[f"{float(v):.2f}" if v is not None else "–" for v in needs["hours_needed_per_day"]],
        deployments_needed=["–" if v is None or pd.isna(v) else f"{int(v):,}" for v in needs["deployments_needed"]],
        fits=[_("yes") if bool(v) else _("no") for v in needs["fits"]],
    )
    return _headings(out, QUOTA_COLUMNS)
