"""Writing the run history: runs with their cells, results with attempts and images, edits from the UI.

Each result is committed the moment it arrives: image files are written first, then the row, its
attempts and images in one transaction, so a crash or ``kill -9`` loses nothing that completed.
Every insert names its columns (``rows.insert_sql``); the result row's columns come from ``rows.py``.
``runs.cost_usd`` is the exact running total of what the run spent: billed costs, plus amounts counted
without a bill (``ResultRecord.charged_usd``); a redone result never gives its cost back.

Reservations: before a request is sent, ``reserve`` commits a ``sent`` row with the amount reserved;
the result that answers it settles it in its own transaction. After a crash, ``count_unanswered``
turns every open reservation into an ``interrupted`` error whose reservation counts as spent.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from imagegen.errors import StoreError
from imagegen.redaction import redact, redact_optional
from imagegen.storage.db import Database, decimal_text, now_iso
from imagegen.storage.files import FileStore, StoredImage
from imagegen.storage.rows import RESULT_COLUMNS, insert_sql

if TYPE_CHECKING:  # annotations only: opening the history does not need the catalog (pydantic)
    from imagegen.core.grid import GridEstimate, GridSpec
    from imagegen.core.pricing import Billed
    from imagegen.core.request import ImageRequest
    from imagegen.core.results import Attempt, Generation

RUN_COLUMNS = ("run_id", "name", "provider", "model", "spec_toml", "status", "simulated", "requests", "repeats",
               "estimate_min_usd", "estimate_max_usd", "budget_usd", "created_at")
CELL_COLUMNS = ("run_id", "cell_id", "coords", "provider", "model", "deployment", "prompt", "size", "quality",
                "background", "output_format", "output_compression", "moderation", "n", "stream", "partial_images",
                "operation", "input_fidelity", "request_key", "estimated_cost_min_usd", "estimated_cost_usd",
                "estimate_price_entry", "output_tokens_min", "output_tokens_max", "token_status", "complexity")
ATTEMPT_COLUMNS = ("result_id", "number", "started_at", "wall_s", "ok", "error_kind", "error_message", "http_status",
                   "retry_after_s", "request_id")
IMAGE_COLUMNS = ("result_id", "idx", "sha256", "path", "bytes", "width", "height", "format")
#: Columns a reused result copies from its source (costs are $0, it points back with reused_from).
REUSE_COPIED = tuple(c for c in RESULT_COLUMNS if c not in {
    "run_id", "cell_id", "repeat", "cost_usd", "cost_text_input_usd", "cost_image_input_usd",
    "cost_image_output_usd", "cost_text_output_usd", "reused", "reused_from", "created_at"})


def request_key(req: ImageRequest, input_files: Sequence[bytes] = ()) -> str:
    """Identity of a request for ``--reuse``: provider, model/deployment, every parameter, prompt, inputs."""
    body = req.params()
    for key in ("complexity", "frame_count", "frame_duration_ms"):  # newer fields: unset keeps old keys valid
        if body.get(key) is None:
            body.pop(key, None)
    body["input_images"] = [hashlib.sha256(f).hexdigest() for f in input_files]
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class ResultRecord:
    """Everything the runner knows about one cell x repeat when it ends (ok or not)."""

    run_id: str
    cell_id: int
    repeat: int
    status: str                                   # ok | error | cancelled | skipped
    attempts: Sequence[Attempt] = ()
    generation: Generation | None = None
    billed: Billed | None = None
    error_kind: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    elapsed_s: float | None = None                # first attempt start -> end, with retry waits
    simulated: bool = False
    images: Sequence[StoredImage] = field(default_factory=tuple)
    #: Counted as spent although no usage says what it billed (an answered response whose usage failed
    #: the checks, an unexpected failure after sending, a request sent but never answered): usually its
    #: reservation. ``charged_as`` is its ``price_entry`` label.
    charged_usd: Decimal | None = None
    charged_as: str | None = None
    #: The reservation this result settles (committed before the request was sent), if any.
    reservation_id: int | None = None

    @property
    def spent(self) -> Decimal:
        """What this result adds to the run's spend: its billed cost, else what is charged without a bill."""
        if self.billed is not None:
            return self.billed.cost.total
        return self.charged_usd or Decimal(0)


#: ``price_entry`` of a result charged at its estimated maximum because its usage is unknown.
UNKNOWN_USAGE_PRICE = "unknown-usage:estimated-maximum"
#: ``price_entry`` of a request sent but never answered (a crash): its reservation counts as spent.
UNANSWERED_PRICE = "unanswered:reservation"


def _json_redacted(value: object) -> str | None:
    """JSON text with every secret redacted (a server can put anything into usage or headers)."""
    return None if value is None else redact(json.dumps(value, default=str))


def result_values(rec: ResultRecord, images: Sequence[StoredImage]) -> dict:
    """The ``results`` row of a record: one value per ``rows.RESULT_COLUMNS`` name."""
    gen, billed = rec.generation, rec.billed
    usage = billed.usage if billed else None
    cost = billed.cost if billed else None
    charged = rec.charged_usd if cost is None else None
    last_request_id = next((a.request_id for a in reversed(rec.attempts) if a.request_id), None)
    values = {
        "run_id": rec.run_id, "cell_id": rec.cell_id, "repeat": rec.repeat, "status": rec.status,
        "error_kind": rec.error_kind, "error_message": redact_optional(rec.error_message),
        "http_status": rec.http_status,
        "resolved_size": gen.resolved_size if gen else None,
        "resolved_quality": gen.resolved_quality if gen else None,
        "resolved_background": gen.resolved_background if gen else None,
        "received_format": (images[0].format if images else gen.output_format) if gen else None,
        "input_text_tokens": usage.input_text_tokens if usage else None,
        "input_image_tokens": usage.input_image_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "output_text_tokens": usage.output_text_tokens if usage else None,
        "documented_output_tokens": billed.documented_output_tokens if billed else None,
        "cost_usd": decimal_text(cost.total) if cost else (decimal_text(charged) if charged is not None else
                                                    ("0" if rec.status != "ok" else None)),
        "cost_text_input_usd": decimal_text(cost.text_input) if cost else None,
        "cost_image_input_usd": decimal_text(cost.image_input) if cost else None,
        "cost_image_output_usd": decimal_text(cost.image_output) if cost else None,
        "cost_text_output_usd": decimal_text(cost.text_output) if cost else None,
        "price_entry": cost.price_key if cost else ((rec.charged_as or UNKNOWN_USAGE_PRICE) if charged is not None
                                                    else None),
        "latency_s": gen.wall_s if gen else (rec.attempts[-1].wall_s if rec.attempts else None),
        "first_partial_s": gen.first_partial_s if gen else None,
        "elapsed_s": rec.elapsed_s,
        "processing_ms": gen.processing_ms if gen else None,
        "partial_images_received": gen.partial_images_received if gen else None,
        "attempts": len(rec.attempts),
        "request_id": redact_optional((gen.request_id if gen else None) or last_request_id),
        "simulated": int(rec.simulated), "reused": 0, "reused_from": None,
        "usage_json": _json_redacted(gen.usage) if gen and gen.usage is not None else None,
        "ratelimit_json": _json_redacted(gen.ratelimit) if gen and gen.ratelimit else None,
        "created_at": now_iso(),
        "replayed_from": gen.replayed_from if gen else None,
        "sim_time_scale": gen.sim_time_scale if gen else None,
        "sim_fixed_latency_s": gen.sim_fixed_latency_s if gen else None,
    }
    assert tuple(values) == RESULT_COLUMNS, "result_values must fill exactly rows.RESULT_COLUMNS"
    return values


class StoreWriter:
    """Every write to the run history (needs ``self.db`` and ``self.files``)."""

    db: Database
    files: FileStore

    def __init__(self, db: Database, files: FileStore) -> None:
        self.db, self.files = db, files

    # -- runs ------------------------------------------------------------------------------------

    def create_run(self, spec: GridSpec, grid: GridEstimate, *, simulated: bool,
                   input_files: Sequence[bytes] = (), name: str | None = None, spec_toml: str | None = None) -> str:
        """Insert a run and its cells (with their estimates); return the new run id."""
        run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        # The spec was scrubbed of key-shaped tokens when read (core.grid.scrub_secrets); redacting again here
        # keeps a key out of the store whatever path built the spec.
        run = {"run_id": run_id, "name": redact(name if name is not None else spec.name), "provider": spec.provider,
               "model": spec.model, "spec_toml": redact(spec_toml or spec.to_toml()), "status": "running",
               "simulated": int(simulated), "requests": grid.requests, "repeats": spec.repeats,
               "estimate_min_usd": decimal_text(grid.total_cost_usd_min), "estimate_max_usd": decimal_text(grid.total_cost_usd_max),
               "budget_usd": decimal_text(spec.limits.budget_usd), "created_at": now_iso()}
        # edits: the mask and markup are part of a request's identity too (see EditInputs.key_files)
        key_files = spec.inputs.key_files if spec.inputs is not None else tuple(input_files)
        cells = []
        for cell, est in zip(grid.cells, grid.estimates):
            req = cell.request
            cells.append({
                "run_id": run_id, "cell_id": cell.index,
                "coords": redact(json.dumps(cell.coords, ensure_ascii=False, default=str)),
                "provider": req.provider, "model": req.model, "deployment": req.deployment, "prompt": redact(req.prompt),
                "size": req.size, "quality": req.quality, "background": req.background,
                "output_format": req.output_format, "output_compression": req.output_compression,
                "moderation": req.moderation, "n": req.n, "stream": int(req.stream),
                "partial_images": req.partial_images, "operation": req.operation,
                "input_fidelity": req.input_fidelity, "request_key": request_key(req, key_files),
                "estimated_cost_min_usd": decimal_text(est.cost_usd_min), "estimated_cost_usd": decimal_text(est.cost_usd_max),
                "estimate_price_entry": est.cost_max.price_key, "output_tokens_min": est.output_tokens_min,
                "output_tokens_max": est.output_tokens_max,
                # the label says who measured it and when, e.g. "measured (third party, 2026-09-16)"
                "token_status": est.token_label or est.token_status, "complexity": req.complexity})
        inputs = []
        if spec.inputs is not None:  # edits: each input stored once by content hash, linked to this run
            items = [("image", i) for i in spec.inputs.images]
            items += [("mask", spec.inputs.mask)] if spec.inputs.mask is not None else []
            items += [("markup", spec.inputs.markup)] if getattr(spec.inputs, "markup", None) is not None else []
            for position, (role, item) in enumerate(items):
                stored = self.files.save_image(item.data)
                inputs.append({"run_id": run_id, "position": position, "role": role, "source": item.source,
                               "sha256": stored.sha256, "path": stored.path, "bytes": stored.bytes,
                               "width": stored.width, "height": stored.height, "format": stored.format})
        with self.db.write() as conn:
            conn.execute(insert_sql("runs", RUN_COLUMNS), run)
            conn.executemany(insert_sql("cells", CELL_COLUMNS), cells)
            if inputs:
                conn.executemany(insert_sql("run_inputs", tuple(inputs[0])), inputs)
        return run_id

    def finish_run(self, run_id: str, status: str, wall_s: float | None) -> None:
        """Mark a run finished | cancelled | failed."""
        with self.db.write() as conn:
            conn.execute("UPDATE runs SET status = ?, finished_at = ?, wall_s = COALESCE(wall_s, 0) + ?"
                         " WHERE run_id = ?", (status, now_iso(), wall_s or 0.0, run_id))

    def reopen_run(self, run_id: str) -> None:
        """Mark a run running again (``--resume``)."""
        with self.db.write() as conn:
            conn.execute("UPDATE runs SET status = 'running', finished_at = NULL WHERE run_id = ?", (run_id,))

    # -- results ---------------------------------------------------------------------------------

    def save_image(self, data: bytes) -> StoredImage:
        """Write original bytes under their sha256 (see ``FileStore.save_image``)."""
        return self.files.save_image(data)

    def record_result(self, rec: ResultRecord) -> int:
        """Write images, then commit the result row, its attempts and images in one transaction."""
        images = list(rec.images)
        if rec.generation is not None and not images:
            images = [self.files.save_image(b) for b in rec.generation.images]
        with self.db.write() as conn:
            return self._insert_result(conn, rec, images)

    def _insert_result(self, conn: sqlite3.Connection, rec: ResultRecord, images: Sequence[StoredImage]) -> int:
        values = result_values(rec, images)
        self._delete_result(conn, rec.run_id, rec.cell_id, rec.repeat)
        result_id = int(conn.execute(insert_sql("results", RESULT_COLUMNS), values).lastrowid)
        self._insert_children(conn, result_id, rec.attempts, images)
        if rec.simulated:
            conn.execute("UPDATE runs SET simulated = 1 WHERE run_id = ? AND simulated = 0", (rec.run_id,))
        if rec.spent:
            self._add_cost(conn, rec.run_id, rec.spent)
        if rec.reservation_id is not None:  # settled in the same transaction: never both open and recorded
            conn.execute("UPDATE reservations SET status = 'answered', settled_at = ? WHERE reservation_id = ?",
                         (now_iso(), rec.reservation_id))
        return result_id

    def record_results(self, recs: Sequence[ResultRecord]) -> list[int]:
        """Commit several image-less results (cancelled/skipped) in one transaction; return their ids."""
        if any(rec.generation is not None for rec in recs):
            raise StoreError("record_results takes results without images. Fix: use record_result.")
        with self.db.write() as conn:
            return [self._insert_result(conn, rec, ()) for rec in recs]

    def record_reuse(self, run_id: str, cell_id: int, repeat: int, source_id: int) -> int:
        """Copy a past ok result into this run: same figures and images, marked reused, costing $0."""
        copied = ", ".join(REUSE_COPIED)
        sql = (f"INSERT INTO results (run_id, cell_id, repeat, {copied}, cost_usd, cost_text_input_usd,"
               " cost_image_input_usd, cost_image_output_usd, cost_text_output_usd, reused, reused_from, created_at)"
               f" SELECT :run_id, :cell_id, :repeat, {copied}, '0', '0', '0', '0', '0', 1, result_id, :created_at"
               " FROM results WHERE result_id = :source_id")
        with self.db.write() as conn:
            self._delete_result(conn, run_id, cell_id, repeat)
            cur = conn.execute(sql, {"run_id": run_id, "cell_id": cell_id, "repeat": repeat,
                                     "created_at": now_iso(), "source_id": source_id})
            if cur.rowcount != 1:
                raise StoreError(f"result {source_id} to reuse no longer exists. Fix: run without --reuse.")
            result_id = int(cur.lastrowid)
            cols = ", ".join(IMAGE_COLUMNS[1:])
            conn.execute(f"INSERT INTO images (result_id, {cols}) SELECT :result_id, {cols} FROM images"
                         " WHERE result_id = :source_id", {"result_id": result_id, "source_id": source_id})
            sim = conn.execute("SELECT simulated FROM results WHERE result_id = ?", (result_id,)).fetchone()[0]
            conn.execute("UPDATE runs SET simulated = MAX(simulated, ?) WHERE run_id = ?", (sim, run_id))
        return result_id

    @staticmethod
    def _insert_children(conn: sqlite3.Connection, result_id: int, attempts: Sequence[Attempt],
                         images: Sequence[StoredImage]) -> None:
        conn.executemany(insert_sql("attempts", ATTEMPT_COLUMNS), [
            {"result_id": result_id, "number": a.number,
             "started_at": datetime.fromtimestamp(a.started_at, UTC).isoformat(timespec="milliseconds"),
             "wall_s": a.wall_s, "ok": int(a.ok), "error_kind": a.error_kind,
             "error_message": redact_optional(a.error_message), "http_status": a.http_status,
             "retry_after_s": a.retry_after_s, "request_id": redact_optional(a.request_id)}
            for a in attempts])
        conn.executemany(insert_sql("images", IMAGE_COLUMNS), [
            {"result_id": result_id, "idx": i, "sha256": im.sha256, "path": im.path, "bytes": im.bytes,
             "width": im.width, "height": im.height, "format": im.format}
            for i, im in enumerate(images)])

    @staticmethod
    def _delete_result(conn: sqlite3.Connection, run_id: str, cell_id: int, repeat: int) -> None:
        # What the old result cost stays in runs.cost_usd: money spent is never given back by a redo.
        conn.execute("DELETE FROM results WHERE run_id = ? AND cell_id = ? AND repeat = ?", (run_id, cell_id, repeat))

    @staticmethod
    def _add_cost(conn: sqlite3.Connection, run_id: str, amount: Decimal) -> None:
        current = conn.execute("SELECT cost_usd FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if current is None:
            raise StoreError(f"run {run_id} does not exist. Fix: create the run first.")
        conn.execute("UPDATE runs SET cost_usd = ? WHERE run_id = ?", (decimal_text(Decimal(current[0]) + amount), run_id))

    # -- reservations ----------------------------------------------------------------------------

    def reserve(self, run_id: str, cell_id: int, repeat: int, amount: Decimal) -> int:
        """Commit a reservation before its request is sent; return its id (for ``ResultRecord.reservation_id``)."""
        with self.db.write() as conn:
            cur = conn.execute(
                "INSERT INTO reservations (run_id, cell_id, repeat, amount_usd, status, created_at)"
                " VALUES (:run_id, :cell_id, :repeat, :amount, 'sent', :at)",
                {"run_id": run_id, "cell_id": cell_id, "repeat": repeat, "amount": decimal_text(amount), "at": now_iso()})
        return int(cur.lastrowid)

    def count_unanswered(self, run_id: str, simulated: bool = False) -> tuple[int, Decimal]:
        """Record every open reservation of a run as an ``interrupted`` error counted at its reservation.

        Only call this while holding the run's lease (otherwise the requests may still be in flight).
        Returns (how many, the amount now counted as spent).
        """
        recs = []
        with self.db.write() as conn:
            rows = conn.execute("SELECT reservation_id, cell_id, repeat, amount_usd FROM reservations"
                                " WHERE run_id = ? AND status = 'sent' ORDER BY reservation_id", (run_id,)).fetchall()
            total = Decimal(0)
            for rid, cell_id, repeat, amount in rows:
                conn.execute("UPDATE reservations SET status = 'lost', unbilled_usd = amount_usd, settled_at = ?"
                             " WHERE reservation_id = ?", (now_iso(), rid))
                done = conn.execute("SELECT status FROM results WHERE run_id = ? AND cell_id = ? AND repeat = ?",
                                    (run_id, cell_id, repeat)).fetchone()
                if done is not None and done[0] == "ok":  # answered after all (cannot happen with the lease)
                    continue
                rec = ResultRecord(run_id, cell_id, repeat, "error", error_kind="interrupted", simulated=simulated,
                                   charged_usd=Decimal(amount), charged_as=UNANSWERED_PRICE, error_message=(
                                       f"sent but not answered before the run stopped (crash or kill); its "
                                       f"reservation ${Decimal(amount):.4f} is counted as spent. Fix: "
                                       "`--resume RUN --retry-errors` sends it again (and may pay again)."))
                self._insert_result(conn, rec, ())
                recs.append(rec)
                total += Decimal(amount)
        return len(recs), total

    # -- edits from the UI -----------------------------------------------------------------------

    def rate(self, result_id: int, stars: int | None) -> None:
        """Set a 1..5 star rating on a result, or clear it with None."""
        if stars is not None and (not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5):
            raise StoreError(f"rating {stars!r} is not allowed: 1..5 stars or None. Fix: pick 1 to 5 stars.")
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM results WHERE result_id = ?", (result_id,)).fetchone() is None:
                raise StoreError(f"result {result_id} not found. Fix: rate a result that exists.")
            if stars is None:
                conn.execute("DELETE FROM ratings WHERE result_id = ?", (result_id,))
            else:
                conn.execute("INSERT INTO ratings (result_id, stars, rated_at) VALUES (:id, :stars, :at)"
                             " ON CONFLICT(result_id) DO UPDATE SET stars = excluded.stars,"
                             " rated_at = excluded.rated_at", {"id": result_id, "stars": stars, "at": now_iso()})

    def rename_run(self, run_id: str, name: str) -> None:
        """Give a run a new display name."""
        run_id = self.db.resolve_run_id(run_id)
        with self.db.write() as conn:
            conn.execute("UPDATE runs SET name = ? WHERE run_id = ?", (str(name), run_id))

    def delete_run(self, run_id: str) -> int:
        """Delete a run with its rows, and the image files no other result uses; return files removed."""
        run_id = self.db.resolve_run_id(run_id)
        with self.db.write() as conn:
            rows = conn.execute("SELECT DISTINCT i.sha256, i.path FROM images i JOIN results r"
                                " ON r.result_id = i.result_id WHERE r.run_id = ?", (run_id,)).fetchall()
            rows += conn.execute("SELECT DISTINCT sha256, path FROM run_inputs WHERE run_id = ?", (run_id,)).fetchall()
            shas = sorted({sha for sha, _ in rows})
            conn.execute("DELETE FROM run_inputs WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            marks = ",".join("?" * len(shas))
            # A file stays while any result's output or any other run's input is the same bytes.
            still = {r[0] for r in conn.execute(
                f"SELECT DISTINCT sha256 FROM images WHERE sha256 IN ({marks}) UNION "
                f"SELECT DISTINCT sha256 FROM run_inputs WHERE sha256 IN ({marks})", shas + shas)}
        return self.files.remove({path for _, path in rows}, still)
