"""Every page's session state, declared in one place; the only module that touches ``st.session_state``.

Each page has one state object (``generate``, ``results``, ``analytics``, ``planner``, ``catalog``,
``compare``) and the pages share ``app`` (the run in progress, the run opened on Results, flash
messages). A state object has

- typed values (:class:`Value` descriptors): plain session keys, such as ``app.active_run``;
- ``widgets``: the page's widget values by key (a mapping that refuses a key not declared here,
  so a typo is an error, not a new silent key);
- ``persist``: widget keys kept across page switches. Streamlit drops a page's widget state when
  the user leaves it; :func:`restore` (called by ``ui.page_setup`` on every run) copies those
  keys into one plain key while the page is shown and puts them back when the user returns, so no
  form keeps a shadow copy of its own.

``store_version(store)`` is the cache key that makes ``st.cache_data`` safe over the run history:
it changes when a run, result or rating is added (a cheap fingerprint query on indexed columns)
and when this process renames or deletes a run (a counter bumped by the UI).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from typing import Any, Generic, TypeVar

import streamlit as st

from ui.plain import md_escape

T = TypeVar("T")
_lock = threading.Lock()
_counter = 0


class UndeclaredStateKey(RuntimeError):
    """A page read or wrote a session key that ui/state.py does not declare (declare it there)."""


class Value(Generic[T]):
    """A plain session value with a default (``default_factory`` for mutable ones)."""

    def __init__(self, key: str, default: T | None = None, default_factory=None) -> None:
        self.key = key
        self.default = default
        self.default_factory = default_factory

    def __get__(self, obj, owner=None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        ss = st.session_state
        if self.key not in ss and self.default_factory is not None:
            ss[self.key] = self.default_factory()
        return ss.get(self.key, self.default)

    def __set__(self, obj, value: T) -> None:
        ss = st.session_state
        if self.key in ss and ss[self.key] is value:
            return  # unchanged: also safe for a widget's key after the widget is drawn in this run
        ss[self.key] = value

    def __delete__(self, obj) -> None:
        st.session_state.pop(self.key, None)


class Widgets(MutableMapping):
    """A page's widget values by key: only the keys (or key prefixes) declared for the page."""

    def __init__(self, page: str, keys: tuple[str, ...] = (), prefixes: tuple[str, ...] = ()) -> None:
        self.page = page
        self.keys_ = frozenset(keys)
        self.prefixes = tuple(prefixes)

    def declares(self, key: str) -> bool:
        return key in self.keys_ or key.startswith(self.prefixes)

    def _check(self, key: str) -> str:
        if not self.declares(key):
            raise UndeclaredStateKey(f"session key {key!r} is not declared for the {self.page} page. "
                                     "Fix: add it to that page's state in ui/state.py.")
        return key

    def __getitem__(self, key: str) -> Any:
        return st.session_state[self._check(key)]

    def __setitem__(self, key: str, value: Any) -> None:
        st.session_state[self._check(key)] = value

    def __delitem__(self, key: str) -> None:
        del st.session_state[self._check(key)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.declares(key) and key in st.session_state

    def __iter__(self) -> Iterator[str]:
        return iter([k for k in list(st.session_state.keys()) if isinstance(k, str) and self.declares(k)])

    def __len__(self) -> int:
        return sum(1 for _key in self)


class PageState:
    """One page's state: typed values (class attributes), ``widgets`` and ``persist``."""

    title = ""
    widgets = Widgets("")
    persist: tuple[str, ...] = ()
    persist_prefixes: tuple[str, ...] = ()

    @property
    def _kept_key(self) -> str:
        return f"_kept_{self.title.lower()}"

    def _persisted(self, key: str) -> bool:
        return key in self.persist or (bool(self.persist_prefixes) and key.startswith(self.persist_prefixes))

    def restore(self) -> None:
        """Put back widget values kept from an earlier visit; keep the current ones for the next."""
        ss = st.session_state
        kept = ss.setdefault(self._kept_key, {})
        for key, value in kept.items():
            if key not in ss:
                ss[key] = value
        self.keep()

    def keep(self) -> None:
        """Remember the persisted widget values as they are now (also after a callback changed them)."""
        ss = st.session_state
        ss[self._kept_key] = {k: ss[k] for k in list(ss.keys()) if isinstance(k, str) and self._persisted(k)}


# --- shared by the pages ----------------------------------------------------------------------------


class AppState:
    """State every page may read: the run on Generate, the run opened on Results, flash messages."""

    active_run = Value("active_run")                      # the GridRun in progress (or last finished)
    open_run = Value("open_run")                          # the run opened on Results (its selectbox's key)
    flashes = Value("flash_messages", default_factory=list)  # (kind, message) shown once after a rerun
    lang = Value("ui_lang")                               # the UI language of this session (ui/i18n.py)


# --- one state object per page ------------------------------------------------------------------------


class GenerateState(PageState):
    """pages/1_Generate.py: the grid form, the estimate, the run controls."""

    title = "Generate"
    #: The form: what a spec holds; kept across page switches.
    FORM_KEYS = ("prompts", "provider", "model", "repeats", "concurrency", "rpm", "timeout_s", "budget_usd",
                 "confirm_over_usd", "run_name", "sim_time_scale", "sim_fixed_latency_s", "sim_fault_kind",
                 "sim_fault_match", "sim_fault_times", "edit_mode", "edit_mask_mode",
                 *(f"axis_{a}_{part}" for a in ("x", "y", "z") for part in ("param", "values")))
    widgets = Widgets(title, keys=(*FORM_KEYS, "spec_upload", "confirm_spend", "confirm_for", "reuse_history",
                                   "run_grid", "save_spec", "cancel_run"),
                      prefixes=("axis_", "fixed_", "sim_", "swap_", "gen_", "custom_", "edit_"))
    persist = FORM_KEYS
    persist_prefixes = ("fixed_",)
    draft = Value("generate_plan")              # the RunDraft the Run button starts (what the user sees)
    expected_cells = Value("active_run_expected", ())  # every cell's coords, for the grid's empty places
    retry_note = Value("active_run_retry")      # the latest retry message of the active run
    start_error = Value("run_start_error")      # why the last start/resume was refused (shown once)
    spec_loaded_id = Value("spec_loaded_id")    # the uploaded spec file already applied to the form
    scrolled_to = Value("run_scrolled_to")      # the finished run the page scrolled to (once per run)


class ResultsState(PageState):
    """pages/2_Results.py: filters, paging, the opened run, rename and delete."""

    title = "Results"
    widgets = Widgets(title, keys=("open_run", "rename_to", "rename_run", "confirm_delete", "delete_run",
                                   "export_csv", "export_csv_excel", "export_json", "history_table", "runs_page", "resume_run"),
                      prefixes=("filter_", "res", "grid_"))
    persist = ("open_run",)                     # app.open_run: Generate opens its run here, too
    clicked = Value("results_clicked")          # the history row last clicked (a new click opens its run)
    linked = Value("results_linked")            # the ?run= link last followed (or written for the run shown)


class AnalyticsState(PageState):
    """pages/3_Analytics.py: the selection's filters."""

    title = "Analytics"
    widgets = Widgets(title, prefixes=("an_", "latency_table"))


class PlannerState(PageState):
    """pages/4_Planner.py: the plan editor (``pl_*``); the plan itself also lives in the page's link."""

    title = "Planner"
    widgets = Widgets(title, prefixes=("pl_",))
    csv_error = Value("pl_csv_error")           # why an uploaded plan CSV was refused (shown once)
    seeded = Value("pl_seeded", False)          # the editor was seeded (from the link, a CSV or the example)


class CatalogState(PageState):
    """pages/5_Catalog.py: the estimate pickers and the override editor."""

    title = "Catalog"
    widgets = Widgets(title, prefixes=("cat_", "ov_"))


class CompareState(PageState):
    """pages/6_Compare.py, ui/compare.py: blind comparison."""

    title = "Compare"
    widgets = Widgets(title, prefixes=("cmp_",))
    pair = Value("compare_pair")                # the pair on screen (pairing.Pair) until a vote replaces it
    seed = Value("compare_seed")                # this session's seed: sides and pairs random, yet reproducible
    session_id = Value("compare_session")       # an id stored with each vote (parallel sessions in a meeting)
    count = Value("compare_count", 0)           # votes cast in this session (shown to the rater)


app = AppState()
generate = GenerateState()
results = ResultsState()
analytics = AnalyticsState()
planner = PlannerState()
catalog = CatalogState()
compare = CompareState()
PAGES = {s.title: s for s in (generate, results, analytics, planner, catalog, compare)}

# Key names kept for modules that name them (the values are declared above).
ACTIVE_RUN = AppState.active_run.key
OPEN_RUN = AppState.open_run.key
FLASH = AppState.flashes.key
COMPARE_PAIR = CompareState.pair.key
COMPARE_SEED = CompareState.seed.key
COMPARE_SESSION = CompareState.session_id.key
COMPARE_COUNT = CompareState.count.key
#: The sidebar's language switch (drawn on every page; ui/i18n.py).
LANG_PICK = "ui_lang_pick"


def restore(title: str) -> None:
    """Restore the widget values the page ``title`` keeps across page switches (ui.page_setup calls it)."""
    page = PAGES.get(title)
    if page is not None:
        page.restore()


def widget_value(key: str, default: Any = None) -> Any:
    """The value of any widget by key (read-only; grid cells use generated keys)."""
    return st.session_state.get(key, default)


def set_language_pick(value: str) -> None:
    """Show ``value`` on the sidebar's language switch (before it is drawn in this run)."""
    st.session_state[LANG_PICK] = value


def set_widget_value(key: str, value: Any) -> None:
    """Set a generated widget's value (a grid cell's stars) from its callback, before it is drawn again."""
    st.session_state[key] = value


def bump_store_version() -> None:
    """Invalidate cached store reads after this process changed the store (rename, delete, rate)."""
    global _counter
    with _lock:
        _counter += 1


def store_version(store) -> tuple:
    """A value that changes whenever the history a page shows may have changed."""
    fingerprint: tuple = ()
    if store is not None:
        df = store.query("SELECT COUNT(*) AS n, MAX(created_at) AS c, MAX(finished_at) AS f,"
                         " (SELECT MAX(result_id) FROM results) AS r,"
                         " (SELECT MAX(rated_at) FROM ratings) AS g FROM runs")
        fingerprint = tuple(df.iloc[0].tolist())
    return (_counter, *fingerprint)


def flash(message: str, kind: str = "success") -> None:
    """Queue a message to show on the next run (after st.rerun)."""
    app.flashes.append((kind, message))


def show_flashes() -> None:
    """Show and clear queued messages."""
    messages = app.flashes
    del app.flashes
    for kind, message in messages:
        getattr(st, kind, st.info)(md_escape(message))  # names and errors are plain text


def compare_session() -> tuple[str, int]:
    """(session id, seed) of this browser session's comparisons, created on first use."""
    import random
    import uuid

    if compare.session_id is None:
        compare.session_id = uuid.uuid4().hex[:12]
    if compare.seed is None:
        compare.seed = random.SystemRandom().randrange(1 << 30)
    return compare.session_id, int(compare.seed)
