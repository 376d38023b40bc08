"""``rank`` (and ``judge``): quality from blind votes, from the command line.

    python -m imagegen rank RUN_ID… [--json] [--votes FILE.csv|json] [--scores FILE.csv|json]
                                     [--summary FILE.html] [--replicates N] [--seed N] [--home DIR]
    python -m imagegen judge RUN_ID… [--model M] [--estimate] [--home DIR]

``rank`` prints the Bradley–Terry ranking with 95 % intervals, the votes still needed to separate
neighbours, rater agreement and the cheapest setting statistically indistinguishable from the best.
numpy and pandas are imported inside the commands so the other commands stay quick.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imagegen.cli import format_usd
from imagegen.errors import ImagegenError


def _store(args: argparse.Namespace):
    from imagegen.storage.store import Store

    return Store(args.home) if getattr(args, "home", None) else Store()


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ImagegenError(f"cannot write {path} ({exc}). Fix: choose a writable path.") from None
    print(f"wrote {path}", file=sys.stderr)


def _fmt(path: str) -> str:
    return "json" if path.lower().endswith(".json") else "csv"


def cmd_rank(args: argparse.Namespace) -> int:
    from imagegen.insight import quality
    from imagegen.storage import votes as votes_store

    store = _store(args)
    pool = quality.load_pool(store, args.run_ids)
    votes = votes_store.votes(store, pool.run_ids)
    judged = votes_store.judge_scores(store, pool.run_ids)
    rep = quality.report(pool, votes, judged, seed=args.seed, replicates=args.replicates)
    if args.votes:
        _write(args.votes, quality.export_votes(pool, votes, _fmt(args.votes)))
    if args.scores:
        _write(args.scores, quality.export_scores(rep, _fmt(args.scores)))
    if args.summary:
        _write(args.summary, quality.summary_html(rep))
    if args.json:
        print(json.dumps(rep.to_dict(), indent=2, ensure_ascii=False, default=str))
        return 0
    print(f"runs {', '.join(pool.run_ids)}: {rep.votes} votes ({rep.skips} skipped) by {len(rep.raters)} rater(s), "
          f"{len(pool.settings)} settings; figures {pool.figures_label}")
    print("Bradley-Terry scores (ties = half a win), 95% bootstrap intervals:")
    print(f"  {'#':>2} {'setting':<48} {'score':>6} {'interval':>15} {'votes':>5} {'cost/image':>12}")
    for r in rep.rows():
        cost = "-" if r["cost_usd"] is None else f"{format_usd(r['cost_usd'])} {r['cost_source'][:4]}"
        mark = " <- cheapest as good as the best" if r["cheapest_as_good_as_best"] else ""
        print(f"  {r['rank']:>2} {r['setting'][:48]:<48} {r['score']:+6.2f} {r['low']:+7.2f}..{r['high']:+6.2f} "
              f"{r['votes']:>5} {cost:>12}{mark}")
    for s in rep.separation:
        more = "cannot tell apart at this difference" if s["more_votes"] is None else f"{s['more_votes']} more"
        print(f"  {s['a']} vs {s['b']}: {s['head_to_head']} head-to-head votes; to separate: {more}")
    for a in rep.agreement:
        tau = "-" if a["tau"] is None else f"{a['tau']:+.2f}"
        print(f"  agreement {a['rater_a']} / {a['rater_b']}: Kendall tau {tau} over {a['settings']} settings")
    for label, j in rep.judges.items():
        rate = "-" if j["agreement_with_humans"] is None else f"{j['agreement_with_humans']:.0%}"
        print(f"  {label} (prompt {j['prompt_version']}, {j['figures']}): agrees with humans on {rate} of "
              f"{j['compared_votes']} votes; cost {format_usd(j['cost_usd'])} (judge prices {_price_status(label)})")
    if rep.cheapest_as_good:
        print(f"cheapest setting as good as the best ({rep.best}): {rep.cheapest_as_good}")
    return 0


def _price_status(label: str) -> str:
    """The status of a judge model's prices (``judge: <model>`` -> "assumed", …): shown with every judge cost."""
    from imagegen.execution import judge

    model = label.removeprefix("judge: ")
    models = judge.judge_models()
    return models[model].status if model in models else "price status unknown"


def cmd_judge(args: argparse.Namespace) -> int:
    from imagegen.execution import judge
    from imagegen.execution.settings import load_settings
    from imagegen.insight import quality

    store = _store(args)
    pool = quality.load_pool(store, args.run_ids)
    settings = load_settings()
    rubric = judge.load_rubric()
    items = [judge.Todo(int(r.result_id), r.run_id, r.prompt, r.image_path) for r in pool.items.itertuples()]
    todo = judge.pending(store, items, rubric, args.model)
    est = judge.estimate(todo, rubric, args.model, settings)
    print(f"{judge.label(args.model)} on {settings.provider}: {len(todo)} of {len(items)} images to score with "
          f"prompt {rubric.version}; estimated at most {format_usd(est.total, 6)} "
          f"({est.price_entry}, prices {est.status})")
    if args.estimate or not todo:
        return 0
    done = judge.run_judge(store, todo, rubric, args.model, settings)
    total = sum((s.cost_usd for s in done), start=est.total * 0)
    simulated = " (simulated)" if any(s.simulated for s in done) else ""
    print(f"scored {len(done)} images{simulated}; cost {format_usd(total, 6)} (judge prices {est.status}), "
          "added to each run's spend")
    return 0


def register(sub) -> None:
    p = sub.add_parser("rank", help="rank settings from blind pairwise votes (Bradley-Terry, 95%% intervals)")
    p.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="runs whose images were compared (or latest)")
    p.add_argument("--json", action="store_true", help="print every figure as JSON")
    p.add_argument("--votes", metavar="FILE", help="export the votes (.csv or .json)")
    p.add_argument("--scores", metavar="FILE", help="export scores and intervals (.csv or .json)")
    p.add_argument("--summary", metavar="FILE", help="write a one-page HTML summary (frontier chart + table)")
    p.add_argument("--replicates", type=int, default=200, help="bootstrap replicates (default 200)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--home", help="data directory (default $IMAGEGEN_HOME)")
    p.set_defaults(func=cmd_rank)
    p = sub.add_parser("judge", help="score images with a vision model (labelled judge: <model>)")
    p.add_argument("run_ids", nargs="+", metavar="RUN_ID")
    p.add_argument("--model", default="gpt-4.1-mini", help="vision-capable judge model (default gpt-4.1-mini)")
    p.add_argument("--estimate", action="store_true", help="only print the estimated cost")
    p.add_argument("--home", help="data directory (default $IMAGEGEN_HOME)")
    p.set_defaults(func=cmd_judge)
