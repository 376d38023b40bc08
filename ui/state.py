"""Session and cache state shared by the pages.

``store_version(store)`` is the cache key that makes ``st.cache_data`` safe over the run history:
it changes when a run, result or rating is added (a cheap fingerprint query on indexed columns)
and when this process renames or deletes a run (a counter bumped by the UI).
"""

from __future__ import annotations

import threading

import streamlit as st

from ui.plain import md_escape

_lock = threading.Lock()
_counter = 0

#: Plain session keys (not widget keys): they survive page switches.
ACTIVE_RUN = "active_run"          # the GridRun in progress (or last finished) on Generate
OPEN_RUN = "open_run_id"           # the run opened on Results
FLASH = "flash_messages"           # messages shown once after a rerun


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
    st.session_state.setdefault(FLASH, []).append((kind, message))


def show_flashes() -> None:
    """Show and clear queued messages."""
    for kind, message in st.session_state.pop(FLASH, []):
        getattr(st, kind, st.info)(md_escape(message))  # names and errors are plain text


# --- blind comparison (pages/6_Compare.py, ui/compare.py) -------------------------------------------
COMPARE_PAIR = "compare_pair"        # the pair on screen (pairing.Pair) until a vote replaces it
COMPARE_SEED = "compare_seed"        # this session's seed: sides and pairs are random, yet reproducible
COMPARE_SESSION = "compare_session"  # an id stored with each vote (parallel sessions in a meeting)
COMPARE_COUNT = "compare_count"      # votes cast in this session (shown to the rater)


def compare_session() -> tuple[str, int]:
    """(session id, seed) of this browser session's comparisons, created on first use."""
    import random
    import uuid

    ss = st.session_state
    if COMPARE_SESSION not in ss:
        ss[COMPARE_SESSION] = uuid.uuid4().hex[:12]
    if COMPARE_SEED not in ss:
        ss[COMPARE_SEED] = random.SystemRandom().randrange(1 << 30)
    return ss[COMPARE_SESSION], int(ss[COMPARE_SEED])
