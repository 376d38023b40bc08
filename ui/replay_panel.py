"""Generate's simulator panel: load a recording for the simulator to replay (issue 12).

An uploaded recording is validated, saved under ``<IMAGEGEN_HOME>/recordings/<sha>.json`` and named
in the spec's ``[simulator]`` table (``replay``, ``replay_fallback``), so a saved spec replays the same
file. Results it serves are labelled "replayed from <run> (<date>, <provider>)".
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from imagegen import facade
from imagegen.errors import ImagegenError
from ui.i18n import N_, _

FALLBACK_LABELS = {"error": N_("refuse it (not in the recording)"), "profile": N_("simulate it from the profile")}


def render_replay(home: Path) -> dict:
    """The uploader and the fallback choice; returns the ``[simulator]`` keys to add (empty = no replay)."""
    upload = st.file_uploader(_("Replay a recording (`recording export`)"), type=["json"], key="sim_replay_upload",
                              help=_("Requests that match a recorded one get its images, usage and latency back"))
    if upload is None:
        return {}
    try:
        saved = facade.save_recording(home, upload.getvalue(), where=upload.name)
    except ImagegenError as exc:
        st.error(str(exc))
        return {}
    recording, path = saved.recording, saved.path
    fallback = st.radio(_("A request that is not in the recording:"), list(FALLBACK_LABELS), horizontal=True,
                        format_func=lambda s: _(FALLBACK_LABELS[s]), key="sim_replay_fallback")
    runs = ", ".join(f"{r.run_id} ({r.provider}{', simulated' if r.simulated else ''})" for r in recording.runs)
    st.caption(_("Replaying {entries} recorded answers from {runs}.").format(entries=len(recording.entries), runs=runs))
    return {"replay": str(path), "replay_fallback": fallback}
