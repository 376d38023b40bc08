"""The Results page: run history with filters and paging, one run opened as a grid, rename,
delete and export.

Speed: the history is read one page at a time (``store.runs(limit, offset)``, totals computed in
SQL for that page only) and cached with ``st.cache_data`` keyed on the filters, the page and
:func:`ui.state.store_version`; an opened run's rows are cached the same way. A rerun therefore
costs one fingerprint query, whatever the size of the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from imagegen import facade
from imagegen.errors import ImagegenError
from imagegen.facade import loads_spec
from ui import PROVIDER_LABELS, Context, describe_settings, flow_row, i18n, provider_label, store_for
from ui import runs as live_runs
from ui.grid_view import render_compare, render_grid
from ui.i18n import N_, _
from ui.plain import md_escape
from ui.state import OPEN_RUN, app, bump_store_version, flash, show_flashes, store_version
from ui.state import results as res_state

PAGE_SIZE = 25
#: The query parameter that opens a run: ``Results?run=<id>``.
RUN_QUERY = "run"
#: History column widths: a character's width at the table's font, padding, and a cap (the name may be long).
COLUMN_CHAR_PX, COLUMN_PAD_PX, COLUMN_MAX_PX = 8, 28, 360
ALL = N_("All")
TABLE_COLUMNS = {
    "name": N_("Name"), "created": N_("Created (UTC)"), "provider": N_("Provider"), "source": N_("Figures"),
    "model": N_("Model"), "cells": N_("Cells"), "ok": N_("OK"), "errors": N_("Failed"), "cost": N_("Cost USD (billed)"),
    "estimate": N_("Estimate USD (max)"), "median_latency_s": N_("Median latency s"), "status": N_("Status"),
    "run_id": N_("Run id"),
}


@dataclass(frozen=True)
class Filters:
    """History filters (None = no filter)."""

    provider: str | None = None
    model: str | None = None
    since: date | None = None
    until: date | None = None
    name_like: str | None = None


@st.cache_data(show_spinner=False, max_entries=128, ttl=3600)
def runs_page(home: str, version: tuple, filters: Filters, limit: int, offset: int) -> tuple[pd.DataFrame, int]:
    """One page of the history and the number of matching runs (cached per store version)."""
    store = store_for(home)
    kw = dict(provider=filters.provider, model=filters.model, name_like=filters.name_like, since=filters.since,
              until=filters.until)
    return store.runs(limit=limit, offset=offset, **kw), store.count_runs(**kw)


@st.cache_data(show_spinner=False, max_entries=32, ttl=3600)
def run_results(home: str, version: tuple, run_id: str) -> pd.DataFrame:
    """``result_rows`` of one run (cached per store version)."""
    return store_for(home).results(run_id)


@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def model_options(home: str, version: tuple) -> list[str]:
    """Every model and deployment name in the history (for the model filter)."""
    df = store_for(home).query("SELECT DISTINCT model AS m FROM cells UNION SELECT DISTINCT deployment FROM cells"
                            " WHERE deployment IS NOT NULL ORDER BY 1")
    return [m for m in df["m"].tolist() if m]


def render_filters(ctx: Context, version: tuple) -> Filters:
    c1, c2, c3, c4, c5 = st.columns([1, 1.3, 1, 1, 1.5])
    provider = c1.selectbox(_("Provider"), [ALL, *PROVIDER_LABELS], key="filter_provider",
                            format_func=lambda p: _(ALL) if p == ALL else provider_label(p))
    model = c2.selectbox(_("Model or deployment"), [ALL, *model_options(str(ctx.store.home), version)],
                         key="filter_model")
    since = c3.date_input(_("From"), value=None, key="filter_since", format="YYYY-MM-DD")
    until = c4.date_input(_("Until"), value=None, key="filter_until", format="YYYY-MM-DD")
    name = c5.text_input(_("Name contains"), key="filter_name", placeholder=_("part of a run name"))
    return Filters(provider=None if provider == ALL else provider, model=None if model == ALL else model,
                   since=since, until=until, name_like=name.strip() or None)


def _money(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{Decimal(str(value)):.4f}"


def run_figures(run: dict) -> str:
    """What a run's figures are: "measured", "simulated", or "replayed from <run> (<date>, <provider>)" for
    results served from a recording (never "measured"); a run with both says so."""
    replayed = run.get("replayed_from")
    if isinstance(replayed, str) and replayed:
        more = int(run.get("recordings") or 1) - 1
        labels = replayed + (f" (+{more} more recording{'s' if more > 1 else ''})" if more else "")
        ok_replayed = int(run.get("replayed") or 0)
        return labels if ok_replayed >= int(run.get("ok") or 0) else labels + " + simulated"
    return "simulated" if run.get("simulated") else "measured"


def history_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The history as shown: one row per run with its totals, figures labelled simulated or billed."""
    out = pd.DataFrame({
        "name": runs["name"].where(runs["name"].astype(bool), "(unnamed)"),
        "created": runs["created_at"].str.slice(0, 19).str.replace("T", " "),
        "provider": runs["provider"], "source": [run_figures(r) for r in runs.to_dict("records")],
        "model": runs["model"], "cells": runs["cells"], "ok": runs["ok"],
        "errors": runs["errors"], "cost": runs["cost_usd"].map(_money),
        "estimate": runs["estimate_max_usd"].map(_money), "median_latency_s": runs["median_latency_s"].round(2),
        "status": runs["status"], "run_id": runs["run_id"],
    })
    return out.rename(columns={k: _(v) for k, v in TABLE_COLUMNS.items()})


def render_history(ctx: Context, filters: Filters, version: tuple) -> pd.DataFrame:
    """The paged history table; returns the runs of the current page."""
    ss = res_state.widgets
    page = int(ss.get("runs_page", 1))
    runs, total = runs_page(str(ctx.store.home), version, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:  # filters shrank the history: back to the last page
        ss["runs_page"] = page = pages
        runs, total = runs_page(str(ctx.store.home), version, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    if total == 0:
        any_filter = any(v is not None for v in (filters.provider, filters.model, filters.since, filters.until,
                                                 filters.name_like))
        st.info(_("No runs match these filters.") if any_filter else
                _("No runs yet. Build a grid on the Generate page and press Run grid; it will show up here."))
        st.page_link("pages/1_Generate.py", label=_("Go to Generate"), icon=":material/grid_view:")
        return runs
    table = history_table(runs)
    event = st.dataframe(table, hide_index=True, width="stretch", key="history_table", on_select="rerun",
                         selection_mode="single-row", column_config=history_columns(table))
    _open_clicked(runs, event)
    c1, c2 = st.columns([1, 4], vertical_alignment="center")
    c1.number_input(_("Page"), min_value=1, max_value=pages, step=1, key="runs_page")
    c2.caption(_("Page {page} of {pages} · {total:,} runs · newest first · costs are exact decimal USD").format(page=page, pages=pages, total=total)
               + " · " + _("click a row to open its run below"))
    return runs


def history_columns(table: pd.DataFrame) -> dict:
    """Every column at least as wide as its heading and its longest value (nothing is cut to "P…")."""
    config = {}
    for col in table.columns:
        longest = max([len(str(col)), *(len(str(v)) for v in table[col].tolist())])
        config[col] = st.column_config.Column(width=min(COLUMN_MAX_PX, COLUMN_PAD_PX + COLUMN_CHAR_PX * longest))
    return config


def _open_clicked(runs: pd.DataFrame, event) -> None:
    """A click on a row opens its run (the "Open a run" picker below follows). Only a new click does: the
    table keeps its selection while the user picks another run in the picker."""
    rows = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    picked = str(runs["run_id"].iloc[rows[0]]) if rows and 0 <= rows[0] < len(runs) else None
    if picked == res_state.clicked:
        return
    res_state.clicked = picked
    if picked is not None:
        app.open_run = picked


def share_link(run_id: str) -> str:
    """The address that opens ``run_id`` on Results (in this language): this page's URL with ``?run=``."""
    base = str(st.context.url or "").split("?", 1)[0] or "Results"
    return f"{base}?{urlencode({RUN_QUERY: run_id, i18n.QUERY_KEY: i18n.current()})}"


def _follow_link(ctx: Context) -> None:
    """``?run=<id>`` in the address opens that run (once per new link; the picker may change it later)."""
    link = st.query_params.get(RUN_QUERY)
    if not link or link == res_state.linked:
        return
    res_state.linked = link
    try:
        app.open_run = ctx.store.resolve_run_id(link)
    except ImagegenError:
        st.warning(_("The link asks for run {run}, which is not in this history (deleted, or recorded on another "
                     "machine). Pick a run below.").format(run=md_escape(link)))


def _keep_link(run_id: str | None) -> None:
    """The address bar names the run shown, so copying it shares the run."""
    if run_id is None:
        if RUN_QUERY in st.query_params:
            del st.query_params[RUN_QUERY]
        res_state.linked = None
        return
    if st.query_params.get(RUN_QUERY) != run_id:
        st.query_params[RUN_QUERY] = run_id
    res_state.linked = run_id


def _run_label(runs: pd.DataFrame, run_id: str) -> str:
    row = runs[runs["run_id"] == run_id]
    if row.empty:
        return run_id
    r = row.iloc[0]
    return f"{r['name'] or '(unnamed)'} · {r['model']} · {r['cells']} cells · {str(r['created_at'])[:16]} · {run_id}"


def _rename(ctx: Context, run_id: str) -> None:
    name = res_state.widgets.get("rename_to", "").strip()
    try:
        ctx.store.rename_run(run_id, name)
    except ImagegenError as exc:
        flash(str(exc), "error")
        return
    bump_store_version()
    flash(_("Renamed the run to {value}.").format(value=name or '(unnamed)'))


def _delete(ctx: Context, run_id: str) -> None:
    try:
        removed = ctx.store.delete_run(run_id)
    except ImagegenError as exc:
        flash(str(exc), "error")
        return
    bump_store_version()
    del app.open_run
    res_state.widgets["confirm_delete"] = False
    flash(_("Deleted run {run_id} ({removed} image files no other run uses were removed).").format(run_id=run_id, removed=removed))


def render_open(ctx: Context, runs: pd.DataFrame, version: tuple) -> None:
    """Pick a run, then its totals, actions (rename, delete, export) and its grid."""
    _follow_link(ctx)
    ids = runs["run_id"].tolist() if not runs.empty else []
    wanted = app.open_run  # the selectbox's own key, kept across page switches (ui.state.ResultsState)
    if wanted and wanted not in ids:
        try:  # a run from Generate (or another page of the history) stays openable
            ctx.store.resolve_run_id(wanted)
            ids = [wanted, *ids]
        except ImagegenError:
            del app.open_run
    if not ids:
        return
    if app.open_run not in ids:
        app.open_run = None
    st.subheader(_("Open a run"))
    run_id = st.selectbox(_("Run"), ids, key=OPEN_RUN, index=None, placeholder=_("Choose a run to see its grid"),
                          format_func=lambda r: _run_label(runs, r))
    _keep_link(run_id)
    if run_id is None:
        return
    st.caption(_("Link to this run (the address bar holds it too; it opens this run on Results):"))
    st.code(share_link(run_id), language=None)
    info = ctx.store.run(run_id)
    rows = run_results(str(ctx.store.home), version, run_id)
    render_run(ctx, info, rows)


def render_run(ctx: Context, info: dict, rows: pd.DataFrame) -> None:
    """Totals, actions and the grid of one run."""
    run_id = info["run_id"]
    simulated = bool(info.get("simulated"))
    ok = rows[rows["status"] == "ok"]
    replayed = sorted({r for r in rows.get("replayed_from", pd.Series(dtype=object)).dropna() if r})
    kind = "; ".join(replayed) if replayed else i18n.label("simulated" if simulated else "measured")
    latency = ok.loc[ok["reused"] == 0, "latency_s"].median() if not ok.empty else float("nan")
    cost = Decimal(str(info.get("cost_usd") or 0))  # the store's exact running total of the run
    m = flow_row(5, gap="large")
    m[0].metric(_("Cells × repeats"), f"{len(rows):,}", help=_("{requests} requested").format(requests=info['requests']))
    m[1].metric(_("OK / failed"), f"{len(ok)} / {int((rows['status'] == 'error').sum())}")
    m[2].metric(_("Cost USD ({value})").format(value=_("billed") + ", " + kind if replayed else
                                                     kind if simulated else _("billed")),
                f"{cost:.4f}",
                help=_("Estimate before sending: {value}–{value2} USD").format(value=info.get('estimate_min_usd'), value2=info.get('estimate_max_usd')))
    m[3].metric(_("Median latency s ({kind})").format(kind=kind),
                "—" if math.isnan(latency) else f"{latency:.2f}")
    m[4].metric(_("Status"), i18n.run_status(str(info["status"])))
    spend = facade.run_spend(ctx.store, [run_id])
    if spend.judge_usd:  # the judge's calls are part of the run's cost: say how much, and that its prices are assumed
        st.caption(_("Cost includes the automatic judge: of which judge ${cost} ({judges}; judge prices {status}).")
                   .format(cost=f"{spend.judge_usd:.6f}", judges=spend.judge_labels, status=spend.judge_status))
    c1, c2, c3 = st.columns([2, 1.2, 1.6], vertical_alignment="bottom")
    with c1:
        st.text_input(_("New name"), value=info.get("name") or "", key="rename_to")
    c2.button(_("Rename"), key="rename_run", on_click=_rename, args=(ctx, run_id))
    with c3:
        confirm = st.checkbox(_("Yes, delete this run and its images"), key="confirm_delete")
        st.button(_("Delete run"), key="delete_run", on_click=_delete, args=(ctx, run_id), disabled=not confirm,
                  type="secondary")
    e1, e2, e3 = flow_row(3, gap="small")
    e1.download_button(_("CSV for Excel"), data=lambda: ctx.store.export(run_id, "csv", excel=True),
                       file_name=f"{run_id}.csv", mime="text/csv", key="export_csv_excel", on_click="ignore",
                       icon=":material/table_view:", type="primary",
                       help=_("Excel-ready: UTF-8 with a byte order mark, so Japanese prompts open as written. "
                              "One row per cell × repeat with its rating (stars) and price entry; the CLI's "
                              "`export --format csv --excel`"))
    e2.download_button(_("CSV (plain UTF-8)"), data=lambda: ctx.store.export(run_id, "csv"), file_name=f"{run_id}.csv",
                       mime="text/csv", key="export_csv", on_click="ignore", icon=":material/download:",
                       help=_("For scripts and pandas: the same columns without a byte order mark (Excel would "
                              "garble Japanese text); the CLI's `export --format csv`"))
    e3.download_button(_("JSON"), data=lambda: ctx.store.export(run_id, "json"), file_name=f"{run_id}.json",
                       mime="application/json", key="export_json", on_click="ignore", icon=":material/data_object:",
                       help=_("The CLI's `export --format json`"))
    _render_resume(ctx, info, rows)
    axes: dict = {}
    try:
        spec = loads_spec(info["spec_toml"])
        axes = {k: tuple(v) for k, v in spec.axes.items()}
        if len(spec.prompts) > 1:
            axes["prompt"] = tuple(spec.prompts)
    except ImagegenError:
        pass  # an old or hand-edited spec: lay the grid out from the rows themselves
    with st.expander(_("Grid spec (TOML)"), expanded=False):
        st.code(info["spec_toml"], language="toml")
    render_compare(ctx.store, rows, key="res")
    render_grid(ctx.store, rows, key="res", axes=axes, settings_info=describe_settings(ctx.settings),
                catalog=ctx.catalog, today=ctx.today)


def _render_resume(ctx: Context, info: dict, rows: pd.DataFrame) -> None:
    """A button that sends only the missing cells (cancelled, skipped, never recorded) and shows them filling in."""
    done = int(rows["status"].isin(["ok", "error"]).sum())
    missing = int(info.get("requests") or 0) - done
    if missing <= 0 or live_runs.is_live(info["run_id"]):
        return
    if st.button(_("Finish the {missing} missing cell(s)").format(missing=missing), key="resume_run", icon=":material/play_arrow:",
                 help=_("Sends only what was cancelled, skipped or never recorded (`python -m imagegen run --resume`); "
                      "the run continues on the Generate page")):
        if live_runs.resume(ctx, info["run_id"]) is not None:
            st.switch_page("pages/1_Generate.py")
        st.error(md_escape(live_runs.take_start_error("Not resumed.")))


def render(ctx: Context) -> None:
    """The whole Results page body."""
    show_flashes()
    version = store_version(ctx.store)
    filters = render_filters(ctx, version)
    runs = render_history(ctx, filters, version)
    render_open(ctx, runs, version)
