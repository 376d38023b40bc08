"""Quality from blind votes: which settings people prefer, how sure we are, and what it costs.

``load_pool(store, run_ids)`` gathers the comparable images of some runs; ``report(pool, votes, …)``
ranks their settings (pooled and per prompt) with intervals, the win-rate matrix, rater agreement,
star ratings as a second signal, the judge's scores (apart, labelled ``judge: <model>``) and the
cost–quality frontier. ``export_*`` write votes and scores as CSV/JSON and a one-page HTML summary.

A *setting* is everything that shapes the image except the prompt: model, quality, size, plus any other
image parameter that varies across the chosen runs (background, format, compression, moderation;
the provider when several are mixed). Simulated and real results never share a pool.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from imagegen.errors import QualityError
from imagegen.insight import frontier, pairing, ranking

#: Image parameters that become part of the setting label when they vary across a pool.
EXTRA_PARAMS = ("background", "output_format", "output_compression", "moderation")
POOL_COLUMNS = ["result_id", "run_id", "prompt", "group", "setting", "provider", "model", "quality", "size",
                "cost_usd", "estimated_cost_usd", "reused", "simulated", "rating", "image_sha256", "image_path"]


@dataclass(frozen=True)
class Pool:
    """The comparable images of some runs, one row per result (``POOL_COLUMNS``)."""

    run_ids: tuple[str, ...]
    items: pd.DataFrame
    simulated: bool

    @property
    def settings(self) -> tuple[str, ...]:
        return tuple(sorted(self.items["setting"].unique()))

    def setting_of(self) -> dict[int, str]:
        return dict(zip(self.items["result_id"].astype(int), self.items["setting"]))

    def pair_items(self) -> list[pairing.Item]:
        return [pairing.Item(int(r), g, s) for r, g, s in
                zip(self.items["result_id"], self.items["group"], self.items["setting"])]

    @property
    def figures_label(self) -> str:
        return "simulated" if self.simulated else "measured"


def _label_settings(df: pd.DataFrame) -> pd.Series:
    varying = [c for c in EXTRA_PARAMS if df[c].astype(str).nunique(dropna=False) > 1]
    parts = [df["model"].astype(str), df["quality"].astype(str), df["size"].astype(str)]
    if df["provider"].nunique() > 1:
        parts.insert(0, df["provider"].astype(str))
    for c in varying:
        parts.append(c + "=" + df[c].astype(str))
    label = parts[0]
    for p in parts[1:]:
        label = label + " · " + p
    return label


def load_pool(store, run_ids: Sequence[str]) -> Pool:
    """The ok results with an image of ``run_ids`` (``latest`` allowed), labelled by setting and group."""
    if not run_ids:
        raise QualityError("no run chosen. Fix: pick at least one run (`python -m imagegen runs` lists them).")
    ids = tuple(dict.fromkeys(store.resolve_run_id(r) for r in run_ids))
    marks = ",".join("?" * len(ids))
    df = store.query(
        "SELECT v.result_id, v.run_id, v.prompt, v.provider, v.model, v.quality, v.size, v.background,"
        " v.output_format, v.output_compression, v.moderation, v.cost_usd, v.estimated_cost_usd, v.reused,"
        " v.simulated, v.rating, v.image_sha256, v.image_path, c.operation"
        " FROM result_rows v JOIN cells c ON c.run_id = v.run_id AND c.cell_id = v.cell_id"
        f" WHERE v.run_id IN ({marks}) AND v.status = 'ok' AND v.image_sha256 IS NOT NULL"
        " ORDER BY v.result_id", ids)
    if df.empty:
        raise QualityError(f"runs {', '.join(ids)} have no finished image to compare. "
                           "Fix: pick runs with successful results.")
    sim = set(df["simulated"].astype(int))
    if len(sim) > 1:
        real = sorted(set(df.loc[df["simulated"] == 0, "run_id"]))
        raise QualityError(f"the chosen runs mix simulated and real results (real: {', '.join(real)}). "
                           "Fix: compare simulated runs and real runs separately.")
    # Edits compare only within a run: the same input images (generations: the prompt is enough).
    op = df["operation"].fillna("generate").astype(str)
    df["group"] = df["prompt"].astype(str).where(op != "edit", df["run_id"] + " | " + df["prompt"].astype(str))
    df["setting"] = _label_settings(df)
    return Pool(ids, df[POOL_COLUMNS].reset_index(drop=True), simulated=bool(sim.pop()))


def _money_mean(values: Sequence[str]) -> Decimal | None:
    vals = [Decimal(v) for v in values if v is not None and v == v]
    return sum(vals, Decimal(0)) / len(vals) if vals else None


def setting_costs(pool: Pool) -> dict[str, tuple[Decimal, str]]:
    """Cost per image per setting: the billed mean (reused copies cost $0 and are left out), else the estimate."""
    out: dict[str, tuple[Decimal, str]] = {}
    billed_label = "simulated" if pool.simulated else "measured"
    for setting, g in pool.items.groupby("setting"):
        fresh = g[g["reused"].astype(int) == 0]
        mean = _money_mean(fresh["cost_usd"].tolist())
        if mean is not None:
            out[setting] = (mean, billed_label)
            continue
        est = _money_mean(g["estimated_cost_usd"].tolist())
        if est is not None:
            out[setting] = (est, "estimated")
    return out


@dataclass
class Report:
    """Everything the page, the CLI and the exports show about one pool of votes."""

    pool: Pool
    pooled: ranking.Ranking
    per_prompt: dict[str, ranking.Ranking]
    votes: int
    skips: int
    raters: list[str]
    agreement: list[dict]
    stars: dict[str, tuple[float, int]]
    costs: dict[str, tuple[Decimal, str]]
    pareto: list[str]
    best: str | None
    cheapest_as_good: str | None
    separation: list[dict]
    judges: dict[str, dict] = field(default_factory=dict)

    def rows(self) -> list[dict]:
        """The pooled ranking table with cost, stars and votes, best first."""
        out = []
        for row in self.pooled.table():
            s = row["setting"]
            cost = self.costs.get(s)
            stars = self.stars.get(s)
            out.append({**row, "cost_usd": None if cost is None else format(cost[0], "f"),
                        "cost_source": None if cost is None else cost[1],
                        "stars_mean": None if stars is None else round(stars[0], 3),
                        "stars_n": 0 if stars is None else stars[1],
                        "on_frontier": s in self.pareto, "as_good_as_best": s in self.indistinguishable,
                        "cheapest_as_good_as_best": s == self.cheapest_as_good})
        return out

    @property
    def indistinguishable(self) -> list[str]:
        return self.pooled.indistinguishable_from_best() if self.votes else []

    def to_dict(self) -> dict:
        """JSON-ready figures (``rank --json``)."""
        def rk(r: ranking.Ranking) -> dict:
            wr = r.win_rate()
            return {"settings": list(r.settings), "table": r.table(), "level": r.level, "replicates": r.replicates,
                    "win_rate": [[None if x != x else round(float(x), 4) for x in row] for row in wr]}
        return {
            "runs": list(self.pool.run_ids), "figures": self.pool.figures_label,
            "model": f"Bradley-Terry (ties = half a win each), ridge {ranking.RIDGE:.2f}, percentile bootstrap",
            "votes": self.votes, "skips": self.skips, "raters": self.raters,
            "pooled": rk(self.pooled), "ranking": self.rows(),
            "per_prompt": {p: rk(r) for p, r in self.per_prompt.items()},
            "rater_agreement": self.agreement, "separation": self.separation,
            "frontier": {"pareto": self.pareto, "best": self.best, "cheapest_as_good_as_best": self.cheapest_as_good,
                         "rule": "interval overlaps the top setting's interval"},
            "judges": self.judges,
        }


def vote_frame(pool: Pool, votes: pd.DataFrame) -> pd.DataFrame:
    """Votes with each side's setting and group; rows whose results left the pool are dropped."""
    setting = pool.setting_of()
    group = dict(zip(pool.items["result_id"].astype(int), pool.items["group"]))
    df = votes.copy()
    df["left_setting"] = df["left_result_id"].astype(int).map(setting)
    df["right_setting"] = df["right_result_id"].astype(int).map(setting)
    df["group"] = df["left_result_id"].astype(int).map(group)
    df = df.dropna(subset=["left_setting", "right_setting"])
    return df[df["left_setting"] != df["right_setting"]]


def _judge_summary(pool: Pool, scores: pd.DataFrame, human: pd.DataFrame) -> dict[str, dict]:
    out: dict[str, dict] = {}
    if scores is None or scores.empty:
        return out
    setting = pool.setting_of()
    for judge, g in scores.groupby("judge"):
        # The newest prompt version's score per result (older versions are kept but not mixed in).
        newest = g.sort_values("score_id").drop_duplicates("result_id", keep="last")
        latest_version = str(newest.sort_values("score_id")["prompt_version"].iloc[-1])
        newest = newest[newest["prompt_version"] == latest_version]
        overall = dict(zip(newest["result_id"].astype(int), newest["overall"].astype(float)))
        per_setting: dict[str, list[float]] = {}
        for rid, val in overall.items():
            if rid in setting:
                per_setting.setdefault(setting[rid], []).append(val)
        agree = n = 0.0
        for lr, rr, choice in zip(human["left_result_id"], human["right_result_id"], human["choice"]):
            if choice not in ("left", "right") or int(lr) not in overall or int(rr) not in overall:
                continue
            d = overall[int(lr)] - overall[int(rr)]
            n += 1
            agree += 0.5 if d == 0 else float((d > 0) == (choice == "left"))
        out[str(judge)] = {
            "label": str(judge), "prompt_version": latest_version,
            "figures": "simulated" if bool(newest["simulated"].astype(int).any()) else "measured",
            "scores": {s: {"mean_overall": round(sum(v) / len(v), 3), "images": len(v)}
                       for s, v in sorted(per_setting.items())},
            "agreement_with_humans": None if not n else round(agree / n, 4), "compared_votes": int(n),
            "cost_usd": format(sum((Decimal(c) for c in g["cost_usd"]), Decimal(0)), "f"),
        }
    return out


def report(pool: Pool, votes: pd.DataFrame, judge_scores: pd.DataFrame | None = None, *, seed: int = 0,
           replicates: int = ranking.BOOTSTRAP) -> Report:
    """Rank the pool's settings from its votes (skips are counted but carry no preference)."""
    vf = vote_frame(pool, votes)
    skips = int((vf["choice"] == "skip").sum())
    decided = vf[vf["choice"] != "skip"]
    settings = pool.settings
    pooled = ranking.rank(decided["left_setting"].tolist(), decided["right_setting"].tolist(),
                          decided["choice"].tolist(), settings=settings, seed=seed, replicates=replicates)
    per_prompt = {}
    for grp, g in decided.groupby("group", sort=True):
        in_group = tuple(sorted(pool.items.loc[pool.items["group"] == grp, "setting"].unique()))
        per_prompt[str(grp)] = ranking.rank(g["left_setting"].tolist(), g["right_setting"].tolist(),
                                            g["choice"].tolist(), settings=in_group, seed=seed,
                                            replicates=replicates)
    agreement = ranking.rater_agreement(decided["left_setting"].tolist(), decided["right_setting"].tolist(),
                                        decided["choice"].tolist(), decided["rater"].tolist()) if len(decided) else []
    rated = pool.items.dropna(subset=["rating"])
    stars = {s: (float(g["rating"].astype(float).mean()), len(g)) for s, g in rated.groupby("setting")}
    costs = setting_costs(pool)
    points = {s: (costs[s][0], pooled.score[pooled.settings.index(s)]) for s in pooled.settings if s in costs}
    has_votes = len(decided) > 0
    order = pooled.order
    separation = []
    for a, b in zip(order, order[1:]):
        separation.append({"a": a, "b": b, "more_votes": ranking.votes_to_separate(pooled, a, b),
                           "head_to_head": int(round(float(
                               pooled.counts.comparisons[pooled.settings.index(a), pooled.settings.index(b)])))})
    return Report(
        pool=pool, pooled=pooled, per_prompt=per_prompt, votes=len(decided), skips=skips,
        raters=sorted(set(vf["rater"])), agreement=agreement, stars=stars, costs=costs,
        pareto=frontier.pareto(points) if has_votes else [], best=order[0] if has_votes else None,
        cheapest_as_good=frontier.cheapest_as_good_as_best(pooled, {s: c for s, (c, _) in costs.items()})
        if has_votes else None,
        separation=separation if has_votes else [],
        judges=_judge_summary(pool, judge_scores, decided) if judge_scores is not None else {},
    )


# --- exports ----------------------------------------------------------------------------------------

VOTE_EXPORT_COLUMNS = ["vote_id", "created_at", "rater", "session", "choice", "left_result_id", "right_result_id",
                       "left_setting", "right_setting", "group"]
SCORE_EXPORT_COLUMNS = ["scope", "rank", "setting", "score", "low", "high", "votes", "win_prob_vs_mean", "cost_usd",
                        "cost_source", "stars_mean", "stars_n", "on_frontier", "as_good_as_best",
                        "cheapest_as_good_as_best"]


def export_votes(pool: Pool, votes: pd.DataFrame, fmt: str) -> str:
    """Every vote of the pool (skips included) with both settings, as CSV or JSON text."""
    rows = vote_frame(pool, votes)[VOTE_EXPORT_COLUMNS].to_dict("records")
    return _dump(rows, VOTE_EXPORT_COLUMNS, fmt)


def export_scores(rep: Report, fmt: str) -> str:
    """Scores with intervals: the pooled table (with cost, stars, frontier flags), then one block per prompt."""
    rows = [{"scope": "pooled", **r} for r in rep.rows()]
    for grp, r in rep.per_prompt.items():
        rows += [{"scope": f"prompt: {grp}", **t} for t in r.table()]
    return _dump([{c: row.get(c) for c in SCORE_EXPORT_COLUMNS} for row in rows], SCORE_EXPORT_COLUMNS, fmt)


def _dump(rows: list[dict], columns: list[str], fmt: str) -> str:
    if fmt not in ("csv", "json"):
        raise QualityError(f"export format {fmt!r} is not allowed: csv or json. Fix: use csv or json.")
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _svg_frontier(rep: Report, width: int = 640, height: int = 360) -> str:
    pts = [(s, float(rep.costs[s][0]), rep.pooled.score[k], rep.pooled.low[k], rep.pooled.high[k])
           for k, s in enumerate(rep.pooled.settings) if s in rep.costs]
    if not pts:
        return "<p>No cost known for the ranked settings.</p>"
    pad_l, pad_r, pad_t, pad_b = 70, 20, 20, 50
    xs = [p[1] for p in pts]
    ys = [v for p in pts for v in (p[3], p[4])]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    x1, y1 = (x1 if x1 > x0 else x0 + 1e-9), (y1 if y1 > y0 else y0 + 1)

    def px(x: float) -> float:
        return pad_l + (x - x0) / (x1 - x0) * (width - pad_l - pad_r) if x1 != x0 else width / 2

    def py(y: float) -> float:
        return height - pad_b - (y - y0) / (y1 - y0) * (height - pad_t - pad_b)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             'aria-label="cost-quality frontier" font-family="sans-serif" font-size="11">',
             f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_r}" y2="{height - pad_b}" stroke="#444"/>',
             f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{height - pad_b}" stroke="#444"/>',
             f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">cost per image, USD '
             f'({html.escape(rep.pool.figures_label)})</text>',
             f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" text-anchor="middle">'
             'Bradley–Terry score (95% interval)</text>']
    front = [p for s in rep.pareto for p in pts if p[0] == s]
    if len(front) > 1:
        path = " ".join(f"{px(p[1]):.1f},{py(p[2]):.1f}" for p in front)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#999" stroke-dasharray="4 3"/>')
    for s, x, y, lo, hi in pts:
        colour = "#d62728" if s == rep.cheapest_as_good else "#1f77b4"
        parts.append(f'<line x1="{px(x):.1f}" y1="{py(lo):.1f}" x2="{px(x):.1f}" y2="{py(hi):.1f}" '
                     f'stroke="{colour}"/>')
        parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="5" fill="{colour}"><title>{html.escape(s)}'
                     '</title></circle>')
        parts.append(f'<text x="{px(x) + 7:.1f}" y="{py(y) - 6:.1f}">{html.escape(s)}</text>')
    for v in (x0, x1):
        parts.append(f'<text x="{px(v):.1f}" y="{height - pad_b + 15}" text-anchor="middle">${v:.4f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def summary_html(rep: Report, title: str = "Which setting is worth it?") -> str:
    """A self-contained one-page HTML summary (no scripts, no network): frontier chart and ranking table."""
    rows = rep.rows()
    head = ["#", "setting", "score", "95% interval", "votes", "cost / image", "stars", "frontier"]
    body = []
    for r in rows:
        flag = "cheapest as good as the best" if r["cheapest_as_good_as_best"] else (
            "as good as the best" if r["as_good_as_best"] else ("Pareto" if r["on_frontier"] else ""))
        style = ' style="background:#fde2e2"' if r["cheapest_as_good_as_best"] else ""
        cost = "—" if r["cost_usd"] is None else f"${Decimal(r['cost_usd']):.4f} ({r['cost_source']})"
        stars = "—" if r["stars_mean"] is None else f"{r['stars_mean']:.1f} ({r['stars_n']})"
        cells = [str(r["rank"]), html.escape(r["setting"]), f"{r['score']:+.2f}",
                 f"{r['low']:+.2f} … {r['high']:+.2f}", str(r["votes"]), cost, stars, flag]
        body.append(f"<tr{style}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    answer = (f"<p><b>Cheapest setting statistically indistinguishable from the best:</b> "
              f"{html.escape(rep.cheapest_as_good)} (best: {html.escape(rep.best or '')}).</p>"
              if rep.cheapest_as_good else "<p>Not enough votes yet to name a setting.</p>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:24px;max-width:980px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}}.note{{color:#555;font-size:12px}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p class="note">Runs {html.escape(', '.join(rep.pool.run_ids))} · {rep.votes} blind votes ({rep.skips} skipped) by
{len(rep.raters)} rater(s) · figures: {html.escape(rep.pool.figures_label)} · Bradley–Terry scores, ties count half,
95% percentile-bootstrap intervals ({rep.pooled.replicates} replicates).</p>
{answer}
{_svg_frontier(rep)}
<table><thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead><tbody>
{''.join(body)}
</tbody></table>
</body></html>
"""


def planner_plan(rep: Report, images_per_day: int = 1000, today=None):
    """The answer as a Planner plan: the cheapest setting as good as the best next to the best itself.

    Budgets use a real provider's prices: a simulated or compatible pool is planned at OpenAI's.
    Returns None while there is no answer (no votes, or no known cost).
    """
    from imagegen.insight.planner import BudgetPlan, PlanLine, Scenario

    if rep.cheapest_as_good is None or rep.best is None:
        return None
    first = rep.pool.items.drop_duplicates("setting").set_index("setting")

    def line(setting: str) -> PlanLine:
        row = first.loc[setting]
        provider = row["provider"] if row["provider"] in ("openai", "azure") else "openai"
        return PlanLine(model=str(row["model"]), quality=str(row["quality"]), size=str(row["size"]),
                        images=Decimal(images_per_day), per="day", provider=provider)

    scenarios = [Scenario(f"as good as the best: {rep.cheapest_as_good}", (line(rep.cheapest_as_good),))]
    if rep.best != rep.cheapest_as_good:
        scenarios.append(Scenario(f"best: {rep.best}", (line(rep.best),)))
    kwargs = {"rate_date": today} if today is not None else {}
    return BudgetPlan(scenarios=tuple(scenarios), **kwargs)


# --- settings not run yet: estimated cost, no quality figure ------------------------------------------

#: How every not-run point is labelled: it has an estimated cost and no score (none is invented).
NOT_RUN = "not run, estimated"


def unrun_settings(pool: Pool, catalog, on, limit: int = 24) -> list[dict]:
    """Settings of the pool's models (standard qualities x common sizes) that the pool holds no image of,
    with the catalog's estimated cost of one image on ``on``: ``setting``, ``model``, ``quality``, ``size``,
    ``provider``, ``cost_usd`` (Decimal), ``cost_source`` ("not run, estimated") and ``price_entry``. No score: nothing was voted on, so the frontier shows them on the cost axis only."""
    from imagegen.core.catalog import PROVIDER_FLAVOUR
    from imagegen.core.pricing import Usage, cost_of, documented_output_tokens
    from imagegen.core.tokens import count_text_tokens
    from imagegen.errors import ImagegenError

    items = pool.items
    have = set(zip(items["model"].astype(str), items["quality"].astype(str), items["size"].astype(str)))
    prompt_tokens = max((count_text_tokens(str(p)) for p in items["prompt"].unique()), default=0)
    out: list[dict] = []
    for (provider, model), _group in items.groupby(["provider", "model"], sort=True):
        if not catalog.has_model(str(model)):
            continue
        spec = catalog.model(str(model))
        flavour = PROVIDER_FLAVOUR.get(str(provider), str(provider))
        price = catalog.price_in_force(spec.id, flavour, on)
        if price is None:
            continue
        for quality_ in (q for q in spec.qualities if q != "auto"):
            for size in (s for s in spec.common_sizes if s != "auto"):
                if (str(model), quality_, size) in have:
                    continue
                try:
                    tokens = documented_output_tokens(catalog, spec.id, quality_, size)
                except (ImagegenError, KeyError, ValueError):
                    continue  # no catalog figure: no estimate either
                cost = cost_of(Usage(input_text_tokens=prompt_tokens, output_tokens=tokens), price).total
                out.append({"setting": f"{model} · {quality_} · {size}", "model": str(model), "quality": quality_,
                            "size": size, "provider": str(provider), "cost_usd": cost, "cost_source": NOT_RUN,
                            "price_entry": price.key})
    return sorted(out, key=lambda r: (r["cost_usd"], r["setting"]))[:limit]
