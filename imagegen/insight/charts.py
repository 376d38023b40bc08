"""Plotly figures, one function per chart: a tidy DataFrame in, a ``go.Figure`` out.

The frames come from :mod:`imagegen.insight.analysis` and :mod:`imagegen.insight.planner`. Every title says
where its figures come from: *measured* (real responses), *simulated* (the built-in simulator),
*documented* (the catalog's published tables) or *estimated* (our arithmetic or a fit), and
the legend names each trace the same way. Pages only place these figures.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from imagegen.i18n import N_, _

BLUE, ORANGE, TEAL, RED, GREY, GREEN, PURPLE = (
    "#4C78A8", "#F58518", "#72B7B2", "#D62728", "#9E9E9E", "#54A24B", "#B279A2")
TOKEN_TYPE_COLOURS = {"text input": BLUE, "image input": TEAL, "image output": ORANGE, "text output": PURPLE}
SERIES = (BLUE, ORANGE, GREEN, PURPLE, TEAL, RED, "#FF9DA6", "#9D755D", "#BAB0AC", "#EECA3B")


def combined_provenance(values: Iterable[str]) -> str:
    """One label for a chart from its rows' labels (``measured``, ``simulated`` or both)."""
    seen: set[str] = set()
    for value in values:
        seen.update(part.strip() for part in str(value).split("+"))
    seen.discard("")
    if not seen:
        return "measured"
    if seen == {"simulated"}:
        return "simulated"
    if seen == {"measured"}:
        return "measured"
    return "measured + simulated"


#: Provenance labels as charts show them (translated on use).
PROVENANCE_LABELS = {"measured": N_("measured"), "simulated": N_("simulated"),
                     "measured + simulated": N_("measured + simulated"), "estimated": N_("estimated"),
                     "documented": N_("documented")}


def provenance_label(value: str) -> str:
    """A provenance label (``measured``, ``simulated`` ...) in the UI's language."""
    return _(PROVENANCE_LABELS[value]) if value in PROVENANCE_LABELS else value


#: A catalog figure's status words (``measured (third party, 2026-09-16)``), translated on use.
STATUS_WORDS = {"documented": N_("documented"), "derived": N_("derived"), "measured": N_("measured"),
                "assumed": N_("assumed"), "third party": N_("third party"), "ours": N_("ours")}


def status_text(status: str) -> str:
    """``measured (third party, 2026-09-16)`` in the UI's language: the status and who measured it; the rest
    (names, dates) as it is."""
    def word(text: str) -> str:
        return _(STATUS_WORDS[text]) if text in STATUS_WORDS else text

    status_word, paren, rest = status.partition(" (")
    if not paren or not rest.endswith(")"):
        return word(status_word) + paren + rest
    who, comma, when = rest[:-1].partition(", ")  # catalog.status_label: "status (by, on)"
    return f"{word(status_word)} ({word(who)}{comma}{when})"


def _prov(frame: pd.DataFrame) -> str:
    return provenance_label(combined_provenance(frame["provenance"]) if "provenance" in frame.columns
                            else "measured")


def image_config(name: str) -> dict:
    """Plotly ``config`` for the modebar's "download plot as PNG" button with a file name."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "chart"
    return {"toImageButtonOptions": {"format": "png", "filename": stem, "scale": 2}, "displaylogo": False}


#: No plot is shorter than this (px): a projector shrinks anything smaller past reading.
MIN_HEIGHT = 250
#: Height of a chart with few categories (px).
DEFAULT_HEIGHT = 420
#: From this many settings on, category charts turn horizontal: one row per setting, labels in full.
HORIZONTAL_FROM = 12
#: Pixels per category row in a horizontal chart (room for a grouped pair of bars and its label).
ROW_PX = 26


def _layout(fig: go.Figure, title: str, **kw) -> go.Figure:
    # the legend sits right of the plot (plotly makes room for it); above, long entries ran into the title
    kw.setdefault("height", DEFAULT_HEIGHT)
    kw["height"] = max(MIN_HEIGHT, int(kw["height"]))
    fig.update_layout(title={"text": title}, margin={"t": 60, "l": 10, "r": 10, "b": 10}, **kw)
    fig.update_xaxes(automargin=True)  # long setting labels push the margin out instead of being cut
    fig.update_yaxes(automargin=True)
    return fig


_SWAP = {"x": "y", "y": "x", "error_x": "error_y", "error_y": "error_x"}


def _swap_template(text):
    if not isinstance(text, str):
        return text
    return text.replace("%{x", "%{\0").replace("%{y", "%{x").replace("%{\0", "%{y")


def _horizontal(fig: go.Figure) -> go.Figure:
    """The same figure with categories on the y axis (top to bottom in their order) and values on x."""
    for t in fig.data:
        values = {k: (t[k].to_plotly_json() if hasattr(t[k], "to_plotly_json") else t[k])
                  for k in _SWAP if k in t and t[k] is not None}
        for k in values:
            t[k] = None
        for k, v in values.items():
            t[_SWAP[k]] = v
        if t.type in ("bar", "box"):
            t.orientation = "h"
        if "hovertemplate" in t:
            t.hovertemplate = _swap_template(t.hovertemplate)
    layout = fig.layout
    for xa, ya in (("xaxis", "yaxis"), ("xaxis2", "yaxis2")):
        if xa not in layout.to_plotly_json() or ya not in layout.to_plotly_json():
            continue  # no second subplot
        x_title, y_title = layout[xa].title.text, layout[ya].title.text
        x_fmt, y_fmt = layout[xa].tickformat, layout[ya].tickformat
        x_range, y_range = layout[xa].range, layout[ya].range
        x_order, x_array = layout[xa].categoryorder, layout[xa].categoryarray
        layout[xa].update(title_text=y_title, tickformat=y_fmt, range=y_range, categoryorder=None,
                          categoryarray=None)
        layout[ya].update(title_text=x_title, tickformat=x_fmt, range=x_range, autorange="reversed",
                          categoryorder=x_order, categoryarray=x_array)
    return fig


def categories_fit(fig: go.Figure, categories: int, title: str, row_px: int = ROW_PX, **kw) -> go.Figure:
    """Lay out a chart of ``categories`` settings so it reads: horizontal from ``HORIZONTAL_FROM`` on
    (one row per setting, height grows with them), otherwise upright; never below ``MIN_HEIGHT``."""
    if categories >= HORIZONTAL_FROM:
        fig = _horizontal(_layout(fig, title, **kw))
        fig.update_layout(height=max(MIN_HEIGHT, 140 + row_px * categories))
        return fig
    return _layout(fig, title, **kw)


def _empty(title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=_("No results in this selection"), showarrow=False, font={"size": 16},
                       xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title)


def _list(series: pd.Series) -> list:
    """Labels as plain Python values (NaN -> None)."""
    return [None if isinstance(v, float) and math.isnan(v) else v for v in series.tolist()]


def _nums(series) -> np.ndarray:
    """Numbers as a float array (missing -> NaN): plotly validates and encodes arrays far faster than lists."""
    return np.asarray(pd.to_numeric(pd.Series(series), errors="coerce"), dtype=float)


# --- analytics ----------------------------------------------------------------------------------

#: Greys for the catalog's bars, one per status (documented, derived, assumed, measured …).
CATALOG_GREYS = ("#9e9e9e", "#757575", "#bdbdbd", "#616161", "#cfcfcf")


def tokens_vs_documented(frame: pd.DataFrame) -> go.Figure:
    """Mean output tokens per request next to the documented figure; deviating settings in red.

    ``frame``: :func:`imagegen.insight.analysis.token_deviation`.
    """
    if frame.empty:
        return _empty(_("Output tokens per request: measured vs documented"))
    prov = _prov(frame)
    fig = go.Figure()
    # The catalog's figure, one legend entry per status it really has (documented / derived /
    # measured (by whom, when) / assumed), never "documented" for all of them.
    statuses = frame["token_status"].tolist() if "token_status" in frame.columns else [None] * len(frame)
    statuses = [s if isinstance(s, str) and s else _("status not recorded") for s in statuses]
    for k, status in enumerate(dict.fromkeys(statuses)):
        part = frame[[s == status for s in statuses]]
        shown = status_text(status)
        fig.add_bar(name=_("catalog: {status}").format(status=shown), x=_list(part["setting"]),
                    y=_nums(part["documented_tokens"]), marker_color=CATALOG_GREYS[k % len(CATALOG_GREYS)],
                    offsetgroup="documented",
                    hovertemplate="%{x}<br>" + _("catalog") + " %{y:,.0f} " + _("tokens") + f" ({shown})<extra></extra>")
    for deviates, name, colour in ((False, _("{label}: matches documented").format(label=prov), BLUE),
                                   (True, _("{label}: deviates from documented").format(label=prov), RED)):
        part = frame[frame["deviates"] == deviates]
        if part.empty:
            continue
        text = [f"{d:+.1f}%" if isinstance(d, float) and not math.isnan(d) else _("no documented figure")
                for d in part["deviation_pct"]]
        fig.add_bar(
            name=name, x=_list(part["setting"]), y=_nums(part["measured_tokens"]), marker_color=colour,
            offsetgroup="measured", text=text, textposition="outside",
            error_y={"type": "data", "symmetric": False,
                     "array": _nums(part["measured_max"] - part["measured_tokens"]),
                     "arrayminus": _nums(part["measured_tokens"] - part["measured_min"])},
            customdata=list(zip(_list(part["results"]), _list(part["deviation"]))),
            hovertemplate="%{x}<br>" + _("mean") + " %{y:,.0f} " + _("tokens") + " (%{text})<br>" + _("results")
                          + " %{customdata[0]}, " + _("deviation") + " %{customdata[1]:+,.0f}<extra></extra>",
        )
    # one trace per catalog status: keep the settings in the frame's (the catalog's) order, not the traces'
    fig.update_xaxes(categoryorder="array", categoryarray=_list(frame["setting"]))
    return categories_fit(fig, len(frame),
                          _("Output tokens per request: {label} (mean, min–max) vs documented").format(label=prov),
                          barmode="group", yaxis_title=_("output tokens per request"),
                          xaxis_title=_("setting (auto → resolved)"))


def cost_per_image(frame: pd.DataFrame) -> go.Figure:
    """Billed cost per image stacked by token type, next to the estimate (bar to the maximum, whisker to the minimum).

    ``frame``: :func:`imagegen.insight.analysis.cost_per_image`.
    """
    if frame.empty:
        return _empty(_("Cost per image: billed vs estimated (USD)"))
    prov = _prov(frame)
    fig = go.Figure()
    x = _list(frame["setting"])
    token_types = {"text input": _("text input"), "image input": _("image input"),
                   "image output": _("image output"), "text output": _("text output")}
    for part, colour in TOKEN_TYPE_COLOURS.items():
        col = part.replace(" ", "_") + "_usd"
        values = frame[col].fillna(0.0)
        if part == "text output" and not (values > 0).any():
            continue  # only gpt-image-1.5 bills text output; keep the legend short otherwise
        fig.add_bar(name=_("billed ({label}): {part}").format(label=prov, part=token_types[part]), x=x,
                    y=_nums(frame[col]), marker_color=colour, offsetgroup="billed", legendgroup="billed",
                    hovertemplate="%{x}<br>" + token_types[part] + ": $%{y:.5f}<extra></extra>")
    fig.add_bar(
        name=_("estimated (catalog): max, whisker to min"), x=x, y=_nums(frame["estimated_usd"]), marker_color=GREY,
        opacity=0.75, offsetgroup="estimated",
        error_y={"type": "data", "symmetric": False, "array": np.zeros(len(frame)),
                 "arrayminus": _nums(frame["estimated_usd"] - frame["estimated_min_usd"])},
        hovertemplate="%{x}<br>" + _("estimated up to") + " $%{y:.5f}<extra></extra>",
    )
    return categories_fit(fig, len(frame),
                          _("Cost per image: billed ({label}, by token type) vs estimated (USD)").format(label=prov),
                          barmode="relative", yaxis_title=_("USD per image"), yaxis_tickformat="$.4f",
                          xaxis_title=_("setting"))


def latency_distribution(frame: pd.DataFrame) -> go.Figure:
    """Latency per setting as a box (min, quartiles, max from SQL quantiles) with the p95 marked.

    ``frame``: :func:`imagegen.insight.analysis.latency_table`.
    """
    if frame.empty:
        return _empty(_("Latency per setting (s)"))
    prov = _prov(frame)
    fig = go.Figure()
    x = _list(frame["setting"])
    fig.add_trace(go.Box(
        name=_("latency ({label}): min, q1, median, q3, max").format(label=prov), x=x, q1=_nums(frame["q1_s"]),
        median=_nums(frame["p50_s"]), q3=_nums(frame["q3_s"]), lowerfence=_nums(frame["min_s"]),
        upperfence=_nums(frame["max_s"]), mean=_nums(frame["mean_s"]), marker_color=BLUE, boxpoints=False,
    ))
    fig.add_scatter(name=f"p95 ({prov})", x=x, y=_nums(frame["p95_s"]), mode="markers",
                    marker={"symbol": "diamond", "size": 10, "color": ORANGE},
                    hovertemplate="%{x}<br>p95 %{y:.2f} s<extra></extra>")
    return categories_fit(
        fig, len(frame),
        _("Latency per setting, seconds ({label}; box = quartiles, whiskers = min/max)").format(label=prov),
        yaxis_title=_("seconds per request"), xaxis_title=_("setting"))


def latency_vs_tokens(points: pd.DataFrame, fits: pd.DataFrame) -> go.Figure:
    """Latency against output tokens per model, with the fitted line (tokens/s and fixed overhead).

    ``points``: :func:`imagegen.insight.analysis.scatter_sample`; ``fits``: :func:`imagegen.insight.analysis.latency_fit`.
    """
    if points.empty:
        return _empty(_("Latency vs output tokens"))
    prov = _prov(fits) if not fits.empty else provenance_label("measured")
    fig = go.Figure()
    # one series per model x latency clock: simulator time scales are never pooled into one fit
    keys = ["model", "latency_scale"] if "latency_scale" in points.columns else ["model"]
    per_model = points.groupby("model")[keys[-1]].nunique(dropna=False) if len(keys) > 1 else None
    for i, (key, part) in enumerate(points.groupby(keys, sort=True, dropna=False)):
        key = key if isinstance(key, tuple) else (key,)
        model, scale = key[0], (key[1] if len(key) > 1 else None)
        colour = SERIES[i % len(SERIES)]
        fit = fits[fits["model"] == model]
        if scale is not None and "latency_scale" in fits.columns:
            fit = fit[fit["latency_scale"] == scale]
        label = provenance_label(fit["provenance"].iloc[0]) if not fit.empty and "provenance" in fit.columns \
            else prov
        if scale is not None and str(scale).startswith("simulated"):
            label = str(scale)  # the simulator clock the latencies are on
        if per_model is not None and per_model.get(model, 1) > 1:
            model = f"{model} [{scale}]"  # same model on several clocks: separate series and fits
        fig.add_scatter(name=f"{model} ({label})", x=_nums(part["output_tokens"]), y=_nums(part["latency_s"]),
                        mode="markers", marker={"color": colour, "size": 6, "opacity": 0.6},
                        legendgroup=str(model),
                        hovertemplate="%{x:,} " + _("tokens") + "<br>%{y:.2f} s<extra>" + str(model) + "</extra>")
        if fit.empty or pd.isna(fit["slope_s_per_token"].iloc[0]):
            continue
        slope, overhead = float(fit["slope_s_per_token"].iloc[0]), float(fit["overhead_s"].iloc[0])
        lo, hi = float(part["output_tokens"].min()), float(part["output_tokens"].max())
        rate = fit["tokens_per_s"].iloc[0]
        rate_text = _("{rate} tokens/s").format(rate=f"{rate:,.0f}") if pd.notna(rate) else _("no positive rate")
        fig.add_scatter(name=_("{model} fit (estimated): {rate} + {overhead} s overhead").format(
                            model=model, rate=rate_text, overhead=f"{overhead:.2f}"),
                        x=[lo, hi], y=[overhead + slope * lo, overhead + slope * hi], mode="lines",
                        line={"color": colour, "dash": "dash"}, legendgroup=str(model))
    return _layout(fig, _("Latency vs output tokens ({label} points; fitted lines estimated)").format(label=prov),
                   xaxis_title=_("output tokens per request"), yaxis_title=_("seconds per request"))


def first_partial_vs_final(frame: pd.DataFrame) -> go.Figure:
    """Mean time to the first partial image next to the final image, per streamed setting.

    ``frame``: :func:`imagegen.insight.analysis.streaming_times`.
    """
    if frame.empty:
        return _empty(_("Streaming: first partial vs final image (no streamed results)"))
    prov = _prov(frame)
    x = _list(frame["setting"])
    fig = go.Figure()
    fig.add_bar(name=_("first partial image ({label})").format(label=prov), x=x, y=_nums(frame["first_partial_s"]),
                marker_color=TEAL)
    fig.add_bar(name=_("final image ({label})").format(label=prov), x=x, y=_nums(frame["final_s"]), marker_color=BLUE)
    return categories_fit(
        fig, len(frame), _("Streaming: time to first partial vs final image, seconds ({label}, means)").format(
            label=prov), barmode="group", yaxis_title=_("seconds"), xaxis_title=_("streamed setting"))


def file_sizes(frame: pd.DataFrame) -> go.Figure:
    """Mean bytes per image per format/compression, side by side within each model · quality · size, beside the
    token bill; each bar's percentage is its share of the bytes stored at that same setting.

    ``frame``: :func:`imagegen.insight.analysis.file_sizes`.
    """
    if frame.empty:
        return _empty(_("File size per output format and compression"))
    prov = _prov(frame)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        _("mean file size per image (KB); % = share of that setting's bytes"),
        _("mean output tokens billed per request")))
    settings = list(dict.fromkeys(_list(frame["setting"])))
    for i, (fmt, part) in enumerate(frame.groupby("format", sort=False)):
        colour = SERIES[i % len(SERIES)]
        share = [_("{share} of this setting's bytes").format(share=f"{s:.0%}") if isinstance(s, float) and not math.isnan(s) else ""
                 for s in part["share_of_bytes"]]
        x = _list(part["setting"])
        fig.add_bar(name=f"{fmt} ({prov})", x=x, y=_nums(part["mean_bytes"] / 1024), text=share,
                    textposition="outside", marker_color=colour, legendgroup=str(fmt), offsetgroup=str(fmt),
                    hovertemplate="%{x}<br>" + str(fmt) + ": %{y:,.0f} KB, %{text}<extra></extra>", row=1, col=1)
        fig.add_bar(name=_("{format}: output tokens ({label})").format(format=fmt, label=prov), x=x, y=_nums(part["mean_output_tokens"]),
                    marker_color=colour, opacity=0.6, legendgroup=str(fmt), offsetgroup=str(fmt), showlegend=False,
                    hovertemplate="%{x}<br>" + str(fmt) + ": %{y:,.0f} " + _("tokens") + "<extra></extra>", row=1,
                    col=2)
    fig.update_xaxes(categoryorder="array", categoryarray=settings)
    formats = frame["format"].nunique()
    return categories_fit(fig, len(settings), _("File size per output format at the same model, quality and size "
                                                "({label}): bytes change, the token bill does not").format(label=prov),
                          row_px=max(ROW_PX, 12 * formats),
                          barmode="group")


def cost_vs_rating(frame: pd.DataFrame, min_rating: float) -> go.Figure:
    """Mean rating against cost per image; the cheapest setting rated at least ``min_rating`` is starred.

    ``frame``: :func:`imagegen.insight.analysis.rating_costs`.
    """
    if frame.empty:
        return _empty(_("Cost vs rating (no rated results: rate images on the Results page)"))
    prov = _prov(frame)
    fig = go.Figure()
    rest = frame[~frame["cheapest"]]
    fig.add_scatter(name=_("setting (cost {label}, rating yours)").format(label=prov), x=_nums(rest["cost_usd_per_image"]),
                    y=_nums(rest["mean_rating"]), mode="markers+text", text=_list(rest["setting"]),
                    textposition="top center", marker={"size": 10, "color": BLUE},
                    customdata=_list(rest["ratings"]),
                    hovertemplate="%{text}<br>$%{x:.4f} " + _("per image") + "<br>" + _("rating")
                                  + " %{y:.2f} (%{customdata} " + _("ratings") + ")<extra></extra>")
    best = frame[frame["cheapest"]]
    if not best.empty:
        fig.add_scatter(name=_("cheapest rated ≥ {rating}").format(rating=f"{min_rating:g}"), x=_nums(best["cost_usd_per_image"]),
                        y=_nums(best["mean_rating"]), mode="markers+text", text=_list(best["setting"]),
                        textposition="bottom center", marker={"size": 18, "color": RED, "symbol": "star"})
    fig.add_hline(y=min_rating, line_dash="dot", line_color=GREY, annotation_text=_("rating {rating}").format(
        rating=f"{min_rating:g}"))
    return _layout(fig, _("Cost per image vs mean rating (cost {label}; ratings 1–5 by you)").format(label=prov),
                   xaxis_title=_("USD per image"), xaxis_tickformat="$.4f", yaxis_title=_("mean rating"),
                   yaxis_range=[0.5, 5.5])


# --- planner ------------------------------------------------------------------------------------

PLAN_SOURCES = {
    "documented": N_("documented: catalog estimate"),
    "measured": N_("measured: mean billed cost"),
    "simulated": N_("simulated: mean billed cost on the simulator"),
}
PERIODS = {"monthly": N_("Monthly"), "daily": N_("Daily"), "yearly": N_("Yearly"), "weekly": N_("Weekly")}


def _period(period: str) -> str:
    return _(PERIODS[period]) if period in PERIODS else period.capitalize()


def plan_costs(frame: pd.DataFrame, period: str = "monthly", currency: str = "USD") -> go.Figure:
    """Cost per scenario for a period, stacked by line (setting).

    ``frame``: :func:`imagegen.insight.planner.breakdown` (one row per scenario x line, with the columns
    ``scenario``, ``line``, ``<period>_usd``, ``<period>_jpy`` and ``source``).
    """
    col = f"{period}_{currency.lower()}"
    if frame.empty:
        return _empty(_("{period} cost per scenario ({currency})").format(period=_period(period), currency=currency))
    sources = sorted(set(frame["source"]))
    label = " + ".join(_(PLAN_SOURCES[s]) if s in PLAN_SOURCES else s for s in sources)
    fig = go.Figure()
    for i, (line, part) in enumerate(frame.groupby("line", sort=False)):
        fig.add_bar(name=f"{line} ({', '.join(sorted(set(part['source'])))})", x=_list(part["scenario"]),
                    y=[float(v) for v in part[col]], marker_color=SERIES[i % len(SERIES)],
                    hovertemplate="%{x}<br>" + str(line) + ": %{y:,.2f} " + currency + "<extra></extra>")
    totals = frame.groupby("scenario", sort=False)[col].sum()
    fig.add_scatter(name=_("total"), x=list(totals.index), y=[float(v) for v in totals], mode="text",
                    text=[f"{float(v):,.0f} {currency}" if currency == "JPY" else f"${float(v):,.2f}" for v in totals],
                    textposition="top center", showlegend=False)
    return _layout(fig, _("{period} cost per scenario, {currency} ({label})").format(
        period=_period(period), currency=currency, label=label), barmode="stack", yaxis_title=currency,
        xaxis_title=_("scenario"))
