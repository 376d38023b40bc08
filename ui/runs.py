"""Starting and resuming runs from any page (Generate's Run button, Results' "Finish the missing cells").

Both go through the facade; the started run becomes the session's live run (``ui.state.app``),
which the Generate page's run panel shows filling in. A refusal (budget, validation, settings) is
kept in ``ui.state.generate.start_error`` for the page to show; nothing is sent then.
"""

from __future__ import annotations

from imagegen import facade
from imagegen.errors import ImagegenError
from ui import Context
from ui.state import app, bump_store_version
from ui.state import generate as gen_state


def running() -> bool:
    """Whether this session has a run in progress."""
    run = app.active_run
    return run is not None and not run.done


def is_live(run_id: str) -> bool:
    """Whether ``run_id`` is this session's run in progress."""
    run = app.active_run
    return run is not None and run.run_id == run_id and not run.done


def start(ctx: Context, spec, *, reuse: bool = False):
    """Create and start a run of ``spec``; None (and the reason kept for the page) when refused."""
    try:
        run = facade.start_run(spec, provider_factory=ctx.provider_factory, store=ctx.store, catalog=ctx.catalog,
                               today=ctx.today, settings=ctx.settings, reuse=reuse)
    except ImagegenError as exc:
        gen_state.start_error = f"Not started: {exc}"
        return None
    return _activate(run)


def resume(ctx: Context, run_id: str):
    """Finish the cells of a past run that were cancelled, skipped or never recorded (`run --resume`)."""
    try:
        run = facade.resume_run(run_id, provider_factory=ctx.provider_factory, store=ctx.store,
                                catalog=ctx.catalog, today=ctx.today, settings=ctx.settings)
    except ImagegenError as exc:
        gen_state.start_error = f"Not resumed: {exc}"
        return None
    return _activate(run)


def take_start_error(default: str | None = None) -> str | None:
    """The reason the last start or resume was refused, once."""
    message = gen_state.start_error or default
    del gen_state.start_error
    return message


def _activate(run):
    """Make ``run`` the session's live run (progress, grid filling in, Cancel on Generate)."""
    app.active_run = run
    gen_state.expected_cells = [cell.coords for cell in run.estimate.cells]
    app.open_run = run.run_id
    del gen_state.retry_note
    bump_store_version()
    return run
