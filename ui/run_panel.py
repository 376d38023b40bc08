"""Running a grid from the Generate page: start it in the background, poll it, cancel it, show it.

The runner (:class:`imagegen.execution.runner.GridRun`) works in its own threads and never touches
Streamlit; this module only polls it. While a run is active a fragment reruns every
``POLL_S`` seconds (``st.fragment(run_every=...)``), draining the run's events, reading the
recorded rows from the store and redrawing the progress bar and the grid, so cells fill in as
they finish. When the run ends, one full rerun re-enables the form.
"""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from imagegen.facade import GridRun
from ui import Context, describe_settings, flow_row, i18n, runs
from ui.generate_form import RunDraft, spec_file_name
from ui.grid_view import render_compare, render_grid
from ui.i18n import N_, _
from ui.plain import md_escape
from ui.state import app, bump_store_version
from ui.state import generate as gen_state

POLL_S = 0.5
#: The finished run's heading: the page scrolls to it once when the run ends (the form above is long).
RESULT_ANCHOR = "run-result"
#: Static (no user text): scroll the run's heading into view, waiting briefly for it to be drawn.
SCROLL_SCRIPT = f"""<script>
(function (tries) {{
  function go() {{
    const el = document.getElementById("{RESULT_ANCHOR}");
    if (el) {{ el.scrollIntoView({{behavior: "smooth", block: "start"}}); }}
    else if (tries-- > 0) {{ setTimeout(go, 100); }}
  }}
  go();
}})(30);
</script>"""
#: Run grid from the keyboard (46 Tab presses from the prompt otherwise). Streamlit shows it as ⌘ on a Mac.
RUN_SHORTCUT = "Ctrl+Enter"


def _running() -> bool:
    return runs.running()


def render_controls(ctx: Context, plan: RunDraft) -> None:
    """The Run button (disabled while invalid, unconfirmed or already running) and Save spec."""
    gen_state.draft = plan  # what the user sees is what the Run callback starts
    if gen_state.start_error:
        st.error(md_escape(runs.take_start_error()))
    st.checkbox(_("Reuse identical results from history (cost $0, marked reused)"), key="reuse_history",
                help=_("A cell × repeat whose exact request (provider, model, every parameter, prompt) already "
                     "succeeded is taken from the history instead of being sent (`run --reuse`)"))
    c1, c2, c3 = flow_row(3, gap="small")  # the buttons keep their labels at any width
    running = _running()
    c1.button(_("Run grid"), key="run_grid", type="primary", disabled=not plan.ready or running, on_click=_on_run,
              args=(ctx,), shortcut=RUN_SHORTCUT,
              help=_("Send every cell × repeat (runs in the background; you can cancel). Shortcut: Ctrl+Enter "
                     "(⌘+Enter on a Mac) from anywhere on the page"))
    if plan.spec is not None:
        c2.download_button(_("Save grid spec (TOML)"), data=plan.spec.to_toml, file_name=spec_file_name(plan.spec),
                           mime="application/toml", key="save_spec", on_click="ignore",
                           help=_("The CLI's format: `python -m imagegen run FILE` runs the same grid"))
    if running:
        c3.caption(_("A run is in progress below."))
    elif not plan.ready and plan.why_not:
        c3.caption(_("Run is disabled: {why_not}.").format(why_not=plan.why_not))


def _on_run(ctx: Context) -> None:
    # A callback runs before the page is drawn, so the page already shows the run (and a disabled button).
    plan: RunDraft | None = gen_state.draft
    if plan is not None and plan.ready and plan.spec is not None and not _running():
        start(ctx, plan)


def start(ctx: Context, plan: RunDraft) -> GridRun | None:
    """Create and start the run; errors (budget, validation, settings) are shown, nothing is sent."""
    assert plan.spec is not None
    return runs.start(ctx, plan.spec, reuse=bool(gen_state.widgets.get("reuse_history")))


def _axes(run: GridRun) -> dict:
    axes = {k: tuple(v) for k, v in run.spec.axes.items()}
    if len(run.spec.prompts) > 1:
        axes["prompt"] = tuple(run.spec.prompts)
    return axes


def _spent_label(run: GridRun, spent) -> str:
    return f"${spent:.4f} " + (_("billed ({label})").format(label=i18n.label("simulated")) if run.simulated
                               else _("billed"))


def _live(ctx: Context) -> None:
    run: GridRun | None = app.active_run
    if run is None:
        return
    events = run.poll()
    for event in events:
        if event.kind == "retry":
            gen_state.retry_note = f"cell {event.cell_id}: {event.message}"
    if run.done:
        bump_store_version()
        st.rerun()  # the whole page: re-enable Run, show the finished grid with its controls
    rows = ctx.store.results(run.run_id)
    done = len(rows)
    spent = events[-1].spent_usd if events else None
    text = _("{done} / {total} cells done").format(done=done, total=run.total)
    if spent is not None:
        text += " · " + _("{spent} so far").format(spent=_spent_label(run, spent))
    st.progress(min(done / run.total, 1.0) if run.total else 1.0, text=text)
    if run.unanswered_message:  # a resume after a crash: what was sent and never answered counts as spent
        st.warning(md_escape(run.unanswered_message[0].upper() + run.unanswered_message[1:]) + ".")
    c1, c2 = st.columns([1, 4], vertical_alignment="center")
    c1.button(_("Cancel"), key="cancel_run", on_click=run.cancel, disabled=run.cancelled,
              help=_("Stop sending now; requests already out are still recorded when they return"))
    if run.cancelled:
        c2.caption(_("Cancelling: nothing more is sent; waiting for requests in flight."))
    elif gen_state.retry_note:
        c2.caption(_("Retrying — {retry_note}").format(retry_note=md_escape(gen_state.retry_note)))
    render_grid(ctx.store, rows, key="gen", axes=_axes(run), expected=gen_state.expected_cells,
                settings_info=describe_settings(ctx.settings), live=True, catalog=ctx.catalog, today=ctx.today)


_live_fragment = st.fragment(run_every=POLL_S)(_live)


def _late(ctx: Context, seen: int) -> None:
    """After a cancel: poll until the requests that were in flight have landed, then redraw the page."""
    run: GridRun | None = app.active_run
    if run is not None and len(ctx.store.results(run.run_id)) > seen:
        bump_store_version()
        st.rerun()


_late_fragment = st.fragment(run_every=POLL_S)(_late)


def _finished(ctx: Context, run: GridRun) -> None:
    s = run.summary
    if run.error is not None:
        st.error(_("The run stopped early: {error}. What completed is kept in the history.").format(error=md_escape(run.error)))
    # Counts come from the store, not the summary: requests in flight at a cancel land later.
    rows = ctx.store.results(run.run_id)
    counts = rows["status"].value_counts().to_dict()
    spent = Decimal(str(ctx.store.run(run.run_id).get("cost_usd") or 0))  # the store's exact running total
    ok = int(counts.get("ok", 0))
    parts = [_("{n} ok").format(n=ok)] + [_(label).format(n=int(counts[k])) for k, label in
                                           (("error", N_("{n} failed")), ("cancelled", N_("{n} cancelled")),
                                            ("skipped", N_("{n} skipped"))) if counts.get(k)]
    status = s.status if s is not None else "finished"
    shown = i18n.run_status(status)
    text = _("Run `{run_id}` {status}: {parts} of {total} · spent {spent}").format(
        run_id=run.run_id, status=shown, parts=", ".join(parts), total=run.total, spent=_spent_label(run, spent))
    if s is not None:
        text += " " + _("(estimated {low}–{high}) · wall time {s} s").format(
            low=f"${s.estimate_min_usd:.4f}", high=f"${s.estimate_max_usd:.4f}", s=f"{s.wall_s:.1f}")
    (st.success if status == "finished" and ok == run.total else st.warning)(text)
    st.progress(min(len(rows) / run.total, 1.0) if run.total else 1.0,
                text=_("{n} / {total} cells recorded ({status})").format(n=len(rows), total=run.total, status=shown))
    st.page_link("pages/2_Results.py", label=_("Open this run in Results"), icon=":material/history:")
    if s is not None and s.in_flight and len(rows) < run.total:
        st.caption(_("{total} request(s) were already sent when the run stopped; their results are "
                     "recorded (and shown here) when they return.").format(total=run.total - len(rows)))
        _late_fragment(ctx, len(rows))
    render_compare(ctx.store, rows, key="gen")
    render_grid(ctx.store, rows, key="gen", axes=_axes(run), expected=gen_state.expected_cells,
                settings_info=describe_settings(ctx.settings), catalog=ctx.catalog, today=ctx.today)
    if gen_state.scrolled_to != run.run_id:  # once per run: later reruns (a rating, a compare) stay where they are
        gen_state.scrolled_to = run.run_id
        st.html(SCROLL_SCRIPT, unsafe_allow_javascript=True)


def render_active(ctx: Context) -> None:
    """The current (or last) run of this session: live while it runs, complete when done."""
    run: GridRun | None = app.active_run
    if run is None:
        return
    st.subheader(_("Run {value}").format(value=md_escape(run.spec.name or run.run_id)), anchor=RESULT_ANCHOR)
    if run.done:
        _finished(ctx, run)
    else:
        _live_fragment(ctx)
