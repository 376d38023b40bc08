"""Write runs from the store as a self-contained recording (:mod:`imagegen.core.recording`).

Only successful, non-reused generations are recorded (a reused result is another run's answer; an
edit's input images are not kept by the store, so edits cannot be replayed and are refused).
Headers and request ids pass through the shared redaction function (``imagegen.redaction``) first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime

from imagegen.core.catalog import Catalog
from imagegen.core.recording import (
    FORMAT,
    FORMAT_VERSION,
    RecordedImage,
    RecordedResponse,
    RecordedRun,
    Recording,
    RecordingEntry,
    RecordingError,
    match_key,
    match_params,
)
from imagegen.core.request import ImageRequest
from imagegen.redaction import redact


def scrub(text: str) -> str:
    """``text`` with every registered key and anything key-shaped removed (the shared redaction function)."""
    return redact(text)


def _none(value):
    return None if value is None or (isinstance(value, float) and value != value) else value


def export_recording(store, run_ids: Sequence[str], catalog: Catalog, *, catalog_version: str,
                     created_at: str | None = None) -> Recording:
    """A :class:`Recording` of the successful results of ``run_ids`` (``latest`` allowed)."""
    if not run_ids:
        raise RecordingError("no run given. Fix: name one or more run ids (see `python -m imagegen runs`).")
    runs, entries = [], []
    request_fields = {f.name for f in fields(ImageRequest)}
    for given in run_ids:
        info = store.run(given)
        run_id = info["run_id"]
        runs.append(RecordedRun(run_id=run_id, name=info.get("name") or "", provider=info["provider"],
                                model=info["model"], created_at=info["created_at"], simulated=bool(info["simulated"])))
        cells = store.query("SELECT * FROM cells WHERE run_id = ?", (run_id,))
        by_cell = {int(c["cell_id"]): c for c in cells.to_dict("records")}
        rows = store.query(
            "SELECT r.result_id, r.cell_id, r.repeat, r.resolved_quality, r.resolved_size, r.resolved_background,"
            " r.received_format, r.usage_json, r.ratelimit_json, r.latency_s, r.first_partial_s, r.processing_ms,"
            " r.request_id FROM results r WHERE r.run_id = ? AND r.status = 'ok' AND r.reused = 0"
            " ORDER BY r.cell_id, r.repeat", (run_id,))
        for r in rows.to_dict("records"):
            cell = by_cell[int(r["cell_id"])]
            if cell.get("operation") == "edit":
                raise RecordingError(f"run {run_id} cell {r['cell_id']} is an edit; the store keeps no input images, "
                                     "so it cannot be replayed. Fix: record generation runs only.")
            params = match_params({k: _none(v) for k, v in cell.items() if k in request_fields})
            if catalog.has_model(params["model"]):
                params["model"] = catalog.model(params["model"]).id
            images = store.images(int(r["result_id"]))
            recorded = tuple(RecordedImage.of(store.image_path(str(im["path"])).read_bytes(), str(im["format"]))
                             for im in images.to_dict("records"))
            if not recorded:
                continue  # an ok result without image files (damaged store): nothing to serve
            headers = {k: scrub(str(v)) for k, v in json.loads(r["ratelimit_json"] or "{}").items()}
            usage = json.loads(r["usage_json"]) if _none(r["usage_json"]) else None
            response = RecordedResponse(
                resolved_quality=_none(r["resolved_quality"]), resolved_size=_none(r["resolved_size"]),
                resolved_background=_none(r["resolved_background"]), output_format=_none(r["received_format"]),
                usage=usage, latency_s=float(r["latency_s"] or 0.0), first_partial_s=_none(r["first_partial_s"]),
                processing_ms=int(r["processing_ms"]) if _none(r["processing_ms"]) is not None else None,
                request_id=scrub(str(r["request_id"])) if _none(r["request_id"]) else None, headers=headers,
                images=recorded)
            entries.append(RecordingEntry(run_id=run_id, cell_id=int(r["cell_id"]), repeat=int(r["repeat"]),
                                          provider=str(cell["provider"]), params=params, key=match_key(params),
                                          response=response))
    return Recording(format=FORMAT, format_version=FORMAT_VERSION,
                     created_at=created_at or datetime.now(UTC).isoformat(timespec="seconds"),
                     catalog_version=catalog_version, runs=tuple(runs), entries=tuple(entries))
