"""Plotly figures for the blind comparison: win-rate heatmap and the cost–quality frontier."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import plotly.graph_objects as go

    from imagegen.insight.quality import Report

HIGHLIGHT = "#d62728"
POINT = "#1f77b4"


def win_rate_heatmap(rep: Report) -> go.Figure:
    """Share of votes the row setting won against the column setting (ties half), best first; blank = never met."""
    import plotly.graph_objects as go

    order = rep.pooled.order
    idx = [rep.pooled.settings.index(s) for s in order]
    wr = rep.pooled.win_rate()[idx][:, idx]
    n = rep.pooled.counts.comparisons[idx][:, idx]
    text = [[("" if n[i, j] == 0 else f"{wr[i, j]:.0%}<br>{int(round(n[i, j]))} votes") for j in range(len(order))]
            for i in range(len(order))]
    fig = go.Figure(go.Heatmap(z=wr, x=order, y=order, zmin=0, zmax=1, colorscale="RdBu", text=text,
                               texttemplate="%{text}", hovertemplate="%{y} beat %{x}: %{z:.0%}<extra></extra>",
                               colorbar={"title": "win rate"}))
    fig.update_layout(title=f"Win rate, row vs column ({rep.votes} votes; ties count half)",
                      yaxis={"autorange": "reversed"}, height=120 + 45 * len(order), margin={"l": 10, "r": 10})
    return fig


def frontier_figure(rep: Report, unrun: Sequence[dict] = ()) -> go.Figure:
    """Cost per image against Bradley–Terry score with 95 % intervals; the Pareto frontier drawn, the answer red.

    ``unrun`` (:func:`imagegen.insight.quality.unrun_settings`) adds settings not run yet as dotted vertical
    lines at their estimated cost, labelled "not run, estimated": they have no score, so none is drawn.
    """
    import plotly.graph_objects as go

    r = rep.pooled
    pts = [(s, float(rep.costs[s][0]), rep.costs[s][1], r.score[k], r.low[k], r.high[k])
           for k, s in enumerate(r.settings) if s in rep.costs]
    fig = go.Figure()
    front = [p for s in rep.pareto for p in pts if p[0] == s]
    if len(front) > 1:
        fig.add_trace(go.Scatter(x=[p[1] for p in front], y=[p[3] for p in front], mode="lines",
                                 line={"dash": "dash", "color": "#999"}, name="Pareto frontier", hoverinfo="skip"))
    for name, sel, colour in (("settings", lambda s: s != rep.cheapest_as_good, POINT),
                              ("cheapest as good as the best", lambda s: s == rep.cheapest_as_good, HIGHLIGHT)):
        chosen = [p for p in pts if sel(p[0])]
        if not chosen:
            continue
        fig.add_trace(go.Scatter(
            x=[p[1] for p in chosen], y=[p[3] for p in chosen], mode="markers+text", name=name,
            text=[p[0] for p in chosen], textposition="top center", cliponaxis=False,
            marker={"size": 12 if colour == HIGHLIGHT else 9, "color": colour},
            error_y={"type": "data", "symmetric": False, "array": [p[5] - p[3] for p in chosen],
                     "arrayminus": [p[3] - p[4] for p in chosen], "color": colour},
            customdata=[[p[2], p[4], p[5]] for p in chosen],
            hovertemplate="%{text}<br>$%{x:.4f} per image (%{customdata[0]})<br>score %{y:+.2f} "
                          "[%{customdata[1]:+.2f}, %{customdata[2]:+.2f}]<extra></extra>"))
    for u in unrun:
        fig.add_vline(x=float(u["cost_usd"]), line={"dash": "dot", "color": "#bbb", "width": 1},
                      annotation={"text": f"{u['setting']} ({u['cost_source']})", "textangle": -90,
                                  "font": {"size": 9, "color": "#888"}}, annotation_position="top")
    if unrun:  # one legend entry for them (a line has none of its own)
        fig.add_trace(go.Scatter(x=[float(u["cost_usd"]) for u in unrun], y=[None] * len(unrun), mode="markers",
                                 name="not run, estimated cost (no score)", marker={"color": "#bbb"},
                                 hoverinfo="skip"))
    source = sorted({p[2] for p in pts} | ({"not run, estimated"} if unrun else set())) or ["-"]
    fig.update_layout(title="Cost–quality frontier (score with 95% interval)",
                      xaxis={"title": f"cost per image, USD ({', '.join(source)})", "tickformat": "$.3f"},
                      yaxis={"title": "Bradley–Terry score"}, height=480, margin={"l": 70, "r": 110}, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    return fig
