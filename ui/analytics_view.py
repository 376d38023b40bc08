"""The Analytics page's parts: the selection's widgets, the cached facade calls and the figures.

``history(ctx)`` and ``analyse(ctx, history, selection)`` wrap :func:`imagegen.facade.history` and
:func:`imagegen.facade.analyse` in ``st.cache_data`` keyed by the store's version, so a rerun
with the same filters costs nothing; ``render(analysed)`` draws every chart from the result. The chart
frames and plotly figures are built once per store version, selection and language and shared by every
session (``st.cache_resource``: a pickled figure would be validated again on every rerun, which is what
a repeat visit spent most of its time on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from imagegen import facade
from ui import Context, i18n
from ui.charts import PNG_HINT, show_chart
from ui.i18n import N_, _
from ui.state import store_version

SIMULATED_NOTE = N_(":orange-badge[SIMULATED] Simulated results come from the simulator's own profile (documented and "
                  "measured figures where published, its own assumptions elsewhere) and a latency model; they show "
                  "how the app works, not how OpenAI or Azure perform. A deviation from the catalog on a simulated "
                  "setting means the catalog and the profile disagree there.")


@st.cache_data(ttl=600, max_entries=4, show_spinner="Reading the run history…")
def _history(db: str, version: tuple, _store) -> facade.History:
    return facade.history(_store)


@st.cache_data(ttl=600, max_entries=32, show_spinner="Aggregating…")
def _analyse(db: str, version: tuple, selection_key: str, _store, _selection, _cells):
    return facade.analyse(_store, _selection, _cells)


@dataclass(frozen=True)
class Analysed:
    """An analysis and the key it is cached under (its figures are cached under the same key)."""

    result: Any          # facade.Analysis (imagegen.insight.analysis)
    key: tuple           # (database path, store version, selection)


@dataclass(frozen=True)
class _Drawn:
    frames: dict[str, Any]   # chart name -> its data frame (the CSV download)
    figures: dict[str, Any]  # chart name -> plotly figure


@st.cache_resource(ttl=600, max_entries=16, show_spinner=False)
def _drawn(db: str, version: tuple, selection_key: str, lang: str, _result) -> _Drawn:
    # facade's charts load plotly on first use: only the page that draws charts pays for it
    r = _result
    frames = {"tokens": r.tokens(), "costs": r.costs(), "latency": r.latency(), "fits": r.fits(),
              "streaming": r.streaming(), "sizes": r.file_sizes()}
    figures = {"tokens": facade.tokens_vs_documented(frames["tokens"]), "costs": facade.cost_per_image(frames["costs"]),
               "latency": facade.latency_distribution(frames["latency"]),
               "fits": facade.latency_vs_tokens(r.sample, frames["fits"]),
               "streaming": facade.first_partial_vs_final(frames["streaming"]),
               "sizes": facade.file_sizes(frames["sizes"])}
    return _Drawn(frames, figures)


@st.cache_resource(ttl=600, max_entries=32, show_spinner=False)
def _rated(db: str, version: tuple, selection_key: str, lang: str, min_rating: float, _result):
    ratings = _result.ratings(min_rating)
    return ratings, facade.cost_vs_rating(ratings, min_rating)


def history(ctx: Context) -> facade.History:
    """The stored cells and the filters' options (cached); stops the page when there is nothing yet."""
    if ctx.store is None:
        st.warning(_("The run store is not available, so there is nothing to analyse yet."))
        st.stop()
    found = _history(str(ctx.store.db_path), store_version(ctx.store), ctx.store)
    if found.empty:
        st.info(_("No results yet. Run a grid on the Generate page (the built-in simulator needs no key), then come back."))
        st.stop()
    return found


#: The "Results" filter's first choice (every kind of result).
ALL = N_("all")


def filters(found: facade.History):
    """Provider, model, dates, simulated/measured and runs -> an analysis Selection."""
    options = found.options
    with st.container(border=True):
        c1, c2, c3 = st.columns([1, 1, 1.6])  # a date range needs ~230 px
        providers = c1.multiselect(_("Provider"), sorted(options["provider"].dropna().unique()), key="an_providers",
                                   placeholder=_("all providers"))
        model_pool = options[options["provider"].isin(providers)] if providers else options
        models = c2.multiselect(_("Model"), sorted(model_pool["model"].dropna().unique()), key="an_models",
                                placeholder=_("all models"))
        first, last = date.fromisoformat(options["first_day"].min()), date.fromisoformat(options["last_day"].max())
        picked = c3.date_input(_("Runs started (UTC)"), value=(first, last), key="an_dates")
        # the four kinds side by side need a row of their own (シミュレーション is wide; cut in a column at 800 px)
        kind = st.segmented_control(_("Results"), ["all", "simulated", "replayed", "measured"], default="all",
                                    key="an_kind", format_func=lambda k: _(ALL) if k == "all" else i18n.label(k),
                                    help=_("simulated = answered by the built-in simulator; replayed = served by the "
                                           "simulator from a recording of earlier runs (never measured); measured = "
                                           "a real service"))
        run_ids = st.multiselect(_("Runs"), list(found.runs), format_func=found.runs.get, key="an_runs",
                                 placeholder=_("all runs"))
    return facade.selection(providers=providers, models=models, run_ids=run_ids, dates=picked, kind=kind)


def analyse(ctx: Context, found: facade.History, selection) -> Analysed:
    """Every figure for the selection (cached); stops the page when nothing matches."""
    key = (str(ctx.store.db_path), store_version(ctx.store), repr(selection))
    result = _analyse(*key, ctx.store, selection, found.cells)
    if result.results == 0:
        st.info(_("No successful results match these filters. Widen the dates or clear a filter."))
        st.stop()
    return Analysed(result, key)


def render(analysed: Analysed) -> None:
    """Every chart of the selection, each with its data as CSV."""
    result = analysed.result
    drawn = _drawn(*analysed.key, i18n.current(), result)
    frames, figures = drawn.frames, drawn.figures

    st.markdown(_("**{results:,} results** in **{summary} settings** · figures: **{provenance}**").format(results=result.results, summary=len(result.summary), provenance=i18n.label(result.provenance)))
    if "simulated" in result.provenance:
        st.caption(_(SIMULATED_NOTE))
    st.caption(_(PNG_HINT))

    st.subheader(_("Output tokens: measured vs documented"))
    tokens = frames["tokens"]
    deviating = int(tokens["deviates"].sum())
    st.caption(_("Per model × quality × size (auto shown as what it resolved to). {deviating} of "
                 "{tokens} settings differ from the documented figure by more than "
                 "{deviation_tolerance:.1%} (red).").format(deviating=deviating, tokens=len(tokens), deviation_tolerance=facade.DEVIATION_TOLERANCE))
    show_chart(figures["tokens"], tokens, "tokens_vs_documented")

    st.subheader(_("Cost per image: billed vs estimated"))
    costs = frames["costs"]
    st.caption(_("Billed = tokens in the response × the price entry in force, split by token type. Estimated = the "
               "catalog's figure before sending (bar to the maximum, whisker down to the minimum for auto)."))
    show_chart(figures["costs"], costs, "cost_per_image")

    st.subheader(_("Latency per setting"))
    latency = frames["latency"]
    st.caption(_("Wall time per request, one row per setting and clock: a real service (measured) or one "
               "simulator time scale / fixed latency; different clocks are never pooled. Modelled = a simulated "
               "wall time scaled back to time scale 1 (the simulator's latency model), shown apart from wall time."))
    show_chart(figures["latency"], latency, "latency_distribution")
    st.dataframe(latency[["setting", "latency_scale", "results", "p50_s", "p95_s", "max_s", "modelled_mean_s",
                          "provenance"]], hide_index=True,
                 column_config={"latency_scale": st.column_config.TextColumn(_("clock")),
                                "p50_s": st.column_config.NumberColumn("p50 (s)", format="%.2f"),
                                "p95_s": st.column_config.NumberColumn("p95 (s)", format="%.2f"),
                                "max_s": st.column_config.NumberColumn(_("max (s)"), format="%.2f"),
                                "modelled_mean_s": st.column_config.NumberColumn(
                                    _("modelled mean at scale 1 (s)"), format="%.2f")},
                 key="latency_table")

    st.subheader(_("Latency vs output tokens"))
    fits = frames["fits"]
    st.caption(_("A least-squares line per model and clock (simulator time scales apart) over every "
                 "selected result: its slope gives output tokens per second, its intercept the fixed "
                 "overhead per request. Points drawn: {sample:,} evenly spaced results.").format(sample=len(result.sample)))
    show_chart(figures["fits"], fits, "latency_vs_tokens")

    st.subheader(_("Streaming: first partial image vs final image"))
    show_chart(figures["streaming"], frames["streaming"], "first_partial_vs_final")

    st.subheader(_("File size per output format and compression"))
    sizes = frames["sizes"]
    st.caption(_("Output format and compression change the bytes you store and transfer, not the tokens you pay for."))
    show_chart(figures["sizes"], sizes, "file_sizes")

    st.subheader(_("Cost vs rating"))
    min_rating = st.slider(_("Cheapest setting rated at least"), 1.0, 5.0, 4.0, 0.5, key="an_min_rating")
    ratings, rating_chart = _rated(*analysed.key, i18n.current(), float(min_rating), result)
    if not ratings.empty and ratings["cheapest"].any():
        best = ratings[ratings["cheapest"]].iloc[0]
        st.success(_("Cheapest setting with a mean rating of at least {min_rating:g}: **{setting}** "
                     "— ${cost_usd_per_image:.4f} per image ({cost_source}, {provenance}), rated "
                     "{mean_rating:.2f} by {ratings} rating(s).").format(min_rating=min_rating, setting=best['setting'], cost_usd_per_image=best['cost_usd_per_image'], cost_source=best['cost_source'], provenance=best['provenance'], mean_rating=best['mean_rating'], ratings=int(best['ratings'])))
    elif not ratings.empty:
        st.info(_("No rated setting reaches a mean rating of {min_rating:g}.").format(min_rating=min_rating))
    show_chart(rating_chart, ratings, "cost_vs_rating")


def render_edits(ctx: Context, selection) -> None:
    """Edits: input image tokens billed vs estimated per model × input_fidelity, and cost per edit by fidelity ×
    quality (simulated and measured apart, each table says which)."""
    found = facade.edit_analytics(ctx.store, ctx.catalog, selection)
    if found.empty:
        return
    st.subheader(_("Edits: input image tokens, billed vs estimated"))
    st.caption(_("Billed = usage.input_tokens_details.image_tokens of each response (measured on a real service, "
                 "simulated on the simulator; never pooled). Estimated = the catalog's input image rule for the "
                 "run's stored input sizes (the first image at the cell's input_fidelity, the others at low); "
                 "the last column says how that rule is known. The date filter does not apply here."))
    st.dataframe(found.tokens, hide_index=True, key="an_edit_tokens",
                 column_config={"billed ÷ estimated": st.column_config.NumberColumn(format="%.3f")})
    st.subheader(_("Edits: cost per edit by input_fidelity × quality"))
    st.caption(_("Mean billed cost per edit (USD), split into text input, image input and image output."))
    costs = found.costs.copy()
    for col in ("cost per edit", "text input", "image input", "image output"):
        costs[col] = costs[col].map(lambda v: f"${v:.4f}")
    st.dataframe(costs, hide_index=True, key="an_edit_costs")
