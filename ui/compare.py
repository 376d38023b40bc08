"""The blind comparison page's parts: run picker, the voting panel, ranking, frontier, judge and exports.

Voting: two images of the same prompt under different settings, labels hidden, sides random.
Keys: ``←`` left, ``→`` right, ``↓`` or ``=`` tie, ``S`` skip (Streamlit's native button shortcuts;
``=`` is punctuation, which they do not take, so a few lines of script click the tie button for it).
Each vote is written at once with the rater's name, the session id and the time; the next pair is
chosen from the votes so far (``imagegen.insight.pairing``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from imagegen import facade
from imagegen.errors import ImagegenError
from imagegen.facade import (
    EXCEL_BOM,
    NOT_RUN,
    Pair,
    PastVote,
    QualityPool,
    QualityReport,
    export_scores,
    export_votes,
    frontier_figure,
    next_pair,
    planner_plan,
    record_vote,
    summary_html,
    undo_last_vote,
    unrun_settings,
    win_rate_heatmap,
)
from ui import state
from ui.charts import show_chart
from ui.i18n import N_, _
from ui.plain import md_escape

KEYS = {"left": "Left", "right": "Right", "tie": "Down", "skip": "S"}
LABELS = {"left": N_("← Left is better"), "right": N_("Right is better →"), "tie": N_("= Tie (↓)"), "skip": N_("Skip (S)")}
#: "=" is not a shortcut Streamlit buttons accept; this clicks the tie button instead (once per page).
EQUALS_KEY_JS = """<script>
if (!window.__imagegenTieKey) {
  window.__imagegenTieKey = true;
  window.parent.document.addEventListener('keydown', (e) => {
    const t = e.target; if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    if (e.key === '=') { const b = window.parent.document.querySelector('.st-key-cmp_tie button'); if (b) b.click(); }
  });
}
</script>"""


def run_picker(store) -> list[str]:
    """Runs to compare: picked by hand, or every run matching a filter over the history."""
    runs = store.runs(limit=200)
    if runs.empty:
        return []
    labels = {r.run_id: f"{r.name or '(unnamed)'} · {r.model} · {r.ok} ok · {r.run_id}"
              + (" · simulated" if r.simulated else "") for r in runs.itertuples()}
    mode = st.radio(_("Compare"), ["Runs", "History filter"], horizontal=True, key="cmp_mode")
    if mode == "Runs":
        return st.multiselect(_("Runs"), list(labels), default=[runs.iloc[0]["run_id"]],
                              format_func=lambda r: labels.get(r, r), key="cmp_runs")
    left, right = st.columns(2)
    name = left.text_input(_("Run name contains"), key="cmp_name")
    models = sorted(runs["model"].unique())
    model = right.selectbox(_("Model"), ["(any)", *models], key="cmp_model")
    found = store.runs(name_like=name or None, model=None if model == "(any)" else model, limit=50)
    st.caption(_("{found} run(s) match.").format(found=len(found)) + (_(" Simulated and real runs are compared separately.")
                                                if found["simulated"].nunique() > 1 else ""))
    return found["run_id"].tolist()


def _past(votes: pd.DataFrame) -> list[PastVote]:
    return [PastVote(int(a), int(b), c, r) for a, b, c, r in
            votes[["left_result_id", "right_result_id", "choice", "rater"]].itertuples(index=False)]


def _vote(store, choice: str) -> None:
    """Button callback: store the vote on the pair on screen, then clear it so a new pair is drawn."""
    pair: Pair | None = state.compare.pair
    rater = state.compare.widgets.get("cmp_rater", "")
    if pair is None:
        return
    session, _seed = state.compare_session()
    try:
        record_vote(store, pair.left_result_id, pair.right_result_id, choice, rater, session=session)
    except ImagegenError as exc:
        state.flash(str(exc), "error")
        return
    state.compare.pair = None
    state.compare.count += 1
    state.bump_store_version()


def _undo(store) -> None:
    session, _seed = state.compare_session()
    try:
        removed = undo_last_vote(store, state.compare.widgets.get("cmp_rater", ""), session)
    except ImagegenError as exc:
        state.flash(str(exc), "error")
        return
    if removed is not None:
        state.compare.count = max(0, state.compare.count - 1)
        state.flash(_("Your last vote was removed."), "info")
    state.compare.pair = None


def edit_input(store, run_id: str) -> None:
    """For an edit run: the input image (and mask) both sides edited, shown above the pair (settings stay hidden)."""
    try:
        inputs = store.run_inputs(run_id)
    except ImagegenError:
        return
    if not inputs:
        return
    shown = [inputs[0], *[i for i in inputs if i.get("role") == "mask"][:1]]
    cols = st.columns([1, 1, 4])
    for col, item in zip(cols, shown):
        caption = _("Both sides edited the mask") if item.get("role") == "mask" else \
            _("Both sides edited the input image")
        try:
            col.image(store.input_file(str(item["sha256"])), caption=caption, width=200)
        except (ImagegenError, OSError) as exc:
            col.caption(_("Input {sha}… cannot be shown ({why}).").format(sha=str(item.get("sha256"))[:12],
                                                                          why=md_escape(exc)))


def vote_panel(store, pool: QualityPool, votes: pd.DataFrame) -> None:
    """Two images, labels hidden, sides random; vote by click or keyboard."""
    rater = st.text_input(_("Your name (every vote is stored under it)"), key="cmp_rater",
                          placeholder=_("e.g. Aiko")).strip()
    if not rater:
        st.info(_("Type your name to start voting. Several people can vote, in this session or in their own."))
        return
    session, seed = state.compare_session()
    pair: Pair | None = state.compare.pair
    valid = set(pool.items["result_id"].astype(int))
    if pair is None or pair.left_result_id not in valid or pair.right_result_id not in valid:
        pair = next_pair(pool.pair_items(), _past(votes), rater, seed)
        state.compare.pair = pair
    if pair is None:
        st.warning(_("Nothing to compare: these runs need at least two settings with an image of the same prompt. "
                   "Fix: pick a run with a grid of settings."))
        return
    prompt = pair.group.split(" | ", 1)[-1]
    st.markdown(_("**Prompt:** {prompt}").format(prompt=md_escape(prompt)))  # a user's text: literal, never markdown
    by_id = pool.items.set_index(pool.items["result_id"].astype(int))
    edit_input(store, str(by_id.loc[pair.left_result_id, "run_id"]))
    cols = st.columns(2)
    for col, rid, side in ((cols[0], pair.left_result_id, "Left"), (cols[1], pair.right_result_id, "Right")):
        sha = by_id.loc[rid, "image_sha256"]
        try:
            col.image(store.thumbnail(sha, 768), caption=side, width="stretch")
        except (ImagegenError, OSError) as exc:
            col.error(_("Image {sha}… cannot be shown ({exc}).").format(sha=sha[:12], exc=md_escape(exc)))
    buttons = st.columns(4)
    for col, choice in zip(buttons, ("left", "tie", "skip", "right")):
        col.button(_(LABELS[choice]), key=f"cmp_{choice}", shortcut=KEYS[choice], on_click=_vote,
                   args=(store, choice), width="stretch", type="primary" if choice in ("left", "right") else
                   "secondary")
    st.html(EQUALS_KEY_JS, unsafe_allow_javascript=True)
    mine = int((votes["rater"] == rater).sum()) if len(votes) else 0
    st.caption(_("{rater}: {mine} vote(s) stored ({count} in this session {session}). Keys: ← left · "
                 "→ right · = or ↓ tie · S skip. Settings stay hidden until you look at the Ranking "
                 "tab.").format(rater=rater, mine=mine, count=state.compare.count, session=session))
    st.button(_("Undo my last vote"), key="cmp_undo", on_click=_undo, args=(store,))


def _rows_frame(rep: QualityReport) -> pd.DataFrame:
    rows = rep.rows()
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["interval"] = [f"{lo:+.2f} … {hi:+.2f}" for lo, hi in zip(df["low"], df["high"])]
    df["flag"] = ["cheapest as good as the best" if c else ("as good as the best" if g else "")
                  for c, g in zip(df["cheapest_as_good_as_best"], df["as_good_as_best"])]
    return df[["rank", "setting", "score", "interval", "votes", "cost_usd", "cost_source", "stars_mean", "stars_n",
               "flag"]]


def ranking_panel(rep: QualityReport) -> None:
    """Scores with intervals, votes to separate neighbours, agreement between raters, win-rate heatmap."""
    a, b, c = st.columns(3)
    a.metric(_("Votes"), rep.votes, help=_("{skips} skipped (not counted)").format(skips=rep.skips))
    b.metric(_("Raters"), len(rep.raters))
    c.metric(_("Settings"), len(rep.pool.settings))
    if not rep.votes:
        st.info(_("No votes yet: the ranking appears after the first vote."))
        return
    st.markdown(_("**Bradley–Terry scores** (log-odds scale, mean 0; ties count half) with 95% "
                  "bootstrap intervals. Figures: {figures_label}. Stars are the Results page's "
                  "ratings, a second signal.").format(figures_label=rep.pool.figures_label))
    st.dataframe(_rows_frame(rep), hide_index=True, key="cmp_table",
                 column_config={"score": st.column_config.NumberColumn(format="%+.2f")})
    sep = pd.DataFrame(rep.separation)
    if not sep.empty:
        sep["more_votes"] = sep["more_votes"].map(lambda v: "cannot tell apart" if v is None or v != v else str(int(v)))
        st.markdown(_("**How many more head-to-head votes would separate neighbours** (5% test, 80% power):"))
        st.dataframe(sep.rename(columns={"a": "setting", "b": "next", "head_to_head": "votes so far",
                                         "more_votes": "more votes needed"}), hide_index=True, key="cmp_sep")
    if rep.agreement:
        agree = pd.DataFrame(rep.agreement)
        st.markdown(_("**Agreement between raters** (Kendall's τ between their own orders; 1 = same order):"))
        st.dataframe(agree, hide_index=True, key="cmp_agree")
    show_chart(win_rate_heatmap(rep), pd.DataFrame(rep.pooled.win_rate(), index=rep.pooled.settings,
                                                                  columns=rep.pooled.settings).reset_index(),
               key="win_rate")
    if len(rep.per_prompt) > 1:
        prompt = st.selectbox(_("Per prompt"), list(rep.per_prompt), key="cmp_prompt")
        st.dataframe(pd.DataFrame(rep.per_prompt[prompt].table()), hide_index=True, key="cmp_prompt_table")


def frontier_panel(rep: QualityReport, today, catalog=None) -> None:
    """The cost–quality scatter with the Pareto frontier and the answer, settings not run yet at their
    estimated cost (no score invented), and the one-click Planner scenario."""
    if not rep.votes:
        st.info(_("No votes yet: the frontier appears after the first vote."))
        return
    if rep.cheapest_as_good and len(rep.indistinguishable) == len(rep.pooled.settings) > 1:
        cost, source = rep.costs[rep.cheapest_as_good]
        st.warning(_("Not enough votes to tell the settings apart yet: every setting's 95% interval "
                     "overlaps the best's ({best}), so the cheapest, **{cheapest_as_good}** "
                     "(${cost:.4f} per image, {source}), is formally as good as the best. The "
                     "Ranking tab says how many more votes would separate them.").format(best=rep.best, cheapest_as_good=rep.cheapest_as_good, cost=cost, source=source))
    elif rep.cheapest_as_good:
        cost, source = rep.costs[rep.cheapest_as_good]
        st.success(_("Cheapest setting statistically indistinguishable from the best ({best}): "
                     "**{cheapest_as_good}** at ${cost:.4f} per image ({source}). Its 95% interval "
                     "overlaps the top setting's.").format(best=rep.best, cheapest_as_good=rep.cheapest_as_good, cost=cost, source=source), icon=":material/savings:")
    unrun = unrun_settings(rep.pool, catalog, today) if catalog is not None else []
    show_chart(frontier_figure(rep, unrun), pd.DataFrame(rep.rows()), key="frontier")
    if unrun:
        st.caption(_("Dotted lines: settings of these models not run yet, at their estimated cost per image "
                     "({source}, catalog prices on {day}). They have no score: run and vote on them to place "
                     "them.").format(source=NOT_RUN, day=today.isoformat()))
        st.dataframe(pd.DataFrame([{_("setting"): u["setting"], _("cost per image (USD)"): f"{u['cost_usd']:.4f}",
                                    _("figures"): NOT_RUN, _("score"): "—", _("price entry"): u["price_entry"]}
                                   for u in unrun]), hide_index=True, key="cmp_unrun")
    plan = planner_plan(rep, today=today)
    if plan is not None and st.button(_("Plan this answer in the Planner"), key="cmp_to_planner",
                                      icon=":material/calculate:"):
        from ui import planner as planner_editor

        planner_editor.seed(plan)
        state.planner.seeded = True
        st.switch_page("pages/4_Planner.py", query_params=facade.plan_query(plan))


def judge_panel(store, settings, pool: QualityPool, rep: QualityReport) -> None:
    """Estimate, run and show the automatic judge (apart from the human votes, labelled as the judge's)."""
    spend = facade.run_spend(store, pool.run_ids)
    a, b = st.columns(2)
    a.metric(_("Spend on these runs (USD, images + judge)"), f"{spend.total_usd:.4f}",
             help=_("As recorded with the runs: billed images and every judge call."))
    b.metric(_("of which judge (USD, prices {status})").format(status=spend.judge_status), f"{spend.judge_usd:.6f}",
             help=_("The automatic judge's calls ({judges}); judge prices are {status} "
                    "(imagegen/execution/judge_data/models.toml).").format(judges=spend.judge_labels or "—",
                                                                           status=spend.judge_status))
    models = facade.judge_models()
    model = st.selectbox(_("Judge model (vision-capable)"), sorted(models), key="cmp_judge_model",
                         index=sorted(models).index(facade.DEFAULT_JUDGE_MODEL) if facade.DEFAULT_JUDGE_MODEL in models else 0)
    draft = facade.judge_draft(store, pool, model, settings)
    rubric, todo, items, est = draft.rubric, draft.todo, draft.items, draft.estimate
    where = settings.provider if settings is not None else "simulator"
    st.caption(_("{model} on {where} · prompt {version} · {todo} of {items} images not yet scored · "
                 "estimated at most ${total:.6f} ({price_entry}, prices {status}). The judge's cost "
                 "is added to each run's spend.").format(model=draft.label, where=where, version=rubric.version, todo=len(todo), items=len(items), total=est.total, price_entry=est.price_entry, status=est.status))
    if st.button(_("Run {model} on {todo} images").format(model=draft.label, todo=len(todo)), key="cmp_judge_run", disabled=not todo):
        with st.spinner(_("Judging…")):
            try:
                done = facade.run_judge(store, draft, settings)
            except ImagegenError as exc:
                st.error(str(exc))
                return
        state.bump_store_version()
        total = sum((s.cost_usd for s in done), start=est.total * 0)
        state.flash(_("{model} scored {done} images for ${total:.6f} (judge prices {status})").format(
            model=draft.label, done=len(done), total=total, status=est.status)
                    + (_(" (simulated)") if any(s.simulated for s in done) else ""))
        st.rerun()
    for label, j in rep.judges.items():
        rate = "—" if j["agreement_with_humans"] is None else f"{j['agreement_with_humans']:.0%}"
        status = next((st_ for lb, _usd, st_ in spend.judges if lb == label), "—")
        st.markdown(_("**{label}** · prompt {prompt_version} · figures {figures} · agrees with the "
                      "human votes on **{rate}** of {compared_votes} · cost ${cost_usd} (judge prices {status})").format(
            label=label, prompt_version=j['prompt_version'], figures=j['figures'], rate=rate,
            compared_votes=j['compared_votes'], cost_usd=j['cost_usd'], status=status))
        st.dataframe(pd.DataFrame([{"setting": s, f"{label} mean overall (1-5)": v["mean_overall"],
                                    "images": v["images"]} for s, v in j["scores"].items()]),
                     hide_index=True, key=f"cmp_judge_{label}")


def export_panel(pool: QualityPool, votes: pd.DataFrame, rep: QualityReport) -> None:
    """Votes, scores and intervals as CSV/JSON, and a one-page HTML summary for a slide."""
    a, b, c = st.columns(3)
    # The CSVs start with a byte order mark: Excel then reads raters' names and prompts as UTF-8.
    bom = {"csv": EXCEL_BOM, "json": ""}
    kind = {"csv": _("CSV, Excel-ready"), "json": "JSON"}
    for fmt, mime in (("csv", "text/csv"), ("json", "application/json")):
        a.download_button(_("Votes ({kind})").format(kind=kind[fmt]), bom[fmt] + export_votes(pool, votes, fmt),
                          file_name=f"votes.{fmt}", mime=mime, key=f"cmp_dl_votes_{fmt}")
        b.download_button(_("Scores and intervals ({kind})").format(kind=kind[fmt]), bom[fmt] + export_scores(rep, fmt),
                          file_name=f"scores.{fmt}", mime=mime, key=f"cmp_dl_scores_{fmt}")
    c.download_button(_("One-page summary (HTML)"), summary_html(rep), file_name="quality-summary.html",
                      mime="text/html", key="cmp_dl_summary")
