"""Run history: SQLite rows plus the original image bytes on disk, under one data directory.

Layout of ``IMAGEGEN_HOME`` (default ``.imagegen/`` in the checkout, git-ignored)::

    imagegen.db                  runs, cells, results, attempts, images, ratings, migrations
    images/ab/<sha256>.<ext>     original bytes as received (never re-encoded), named by content
    thumbs/<sha256>-<px>.webp    small cached thumbnails for the UI

SQLite runs in WAL mode with foreign keys on and a busy timeout. One writer connection guarded by
a lock serves every worker thread; each result is committed the moment it arrives (image files are
written first, then the row), so a crash or ``kill -9`` loses nothing that completed. Reads open a
short-lived read-only connection, so the dashboard never waits for the writer.

The SQL view ``result_rows`` has exactly ``EXPORT_COLUMNS + EXTRA_COLUMNS`` (``imagegen/columns.py``):
money as exact decimal strings, ``coords`` as JSON, ``simulated``/``reused`` 0/1, ``rating`` 1..5 or
NULL. Image columns describe the first image of a result (see ``Store.images`` for all of them).

Public read helpers (all return pandas DataFrames unless noted)::

    Store(home=None)                              # home defaults to default_home() ($IMAGEGEN_HOME)
    store.runs(provider=None, model=None, name_like=None, since=None, until=None, limit=100, offset=0)
    store.count_runs(provider=None, model=None, name_like=None, since=None, until=None) -> int
    store.run(run_id | "latest") -> dict         # one runs row (KeyError-free: StoreError when missing)
    store.results(run_id | "latest")              # result_rows of one run, by cell_id, repeat
    store.attempts(result_id) / store.images(result_id)
    store.query(sql, params=())                   # read-only SQL for analytics
    store.rate(result_id, stars | None); store.rename_run(run_id, name); store.delete_run(run_id)
    store.image_path(sha256_or_relpath) -> Path; store.thumbnail(sha256, max_px=256) -> bytes
    store.export(run_id | "latest", "csv" | "json") -> str
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sqlite3
import struct
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd

from imagegen.core.grid import GridEstimate, GridSpec
from imagegen.core.imagefile import EXTENSIONS, sniff_format
from imagegen.core.pricing import Billed
from imagegen.core.request import ImageRequest
from imagegen.core.results import Attempt, Generation
from imagegen.errors import StoreError
from imagegen.storage.columns import EXPORT_COLUMNS
from imagegen.storage.migrations import migrate

DB_NAME = "imagegen.db"
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
#: Statuses a resume redoes by default (errors are kept unless asked: they may cost again).
MISSING_STATUSES = ("cancelled", "skipped")


def default_home() -> Path:
    """The data directory: ``$IMAGEGEN_HOME`` or ``.imagegen/`` in the checkout (read at call time)."""
    env = os.environ.get("IMAGEGEN_HOME")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / ".imagegen"


def now_iso() -> str:
    """UTC timestamp, sortable as text (every ``created_at``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def money(value: Decimal | None) -> str | None:
    """Exact decimal string without exponent (``Decimal('0E-7')`` -> ``'0.0000000'``)."""
    return None if value is None else format(value, "f")


def request_key(req: ImageRequest, input_files: Sequence[bytes] = ()) -> str:
    """Identity of a request for ``--reuse``: provider, model/deployment, every parameter, prompt, inputs."""
    body = req.params()
    body["input_images"] = [hashlib.sha256(f).hexdigest() for f in input_files]
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def file_format(data: bytes) -> str:
    """File format from the bytes themselves (not from what was asked for); "bin" when unknown."""
    return sniff_format(data) or "bin"




def image_dimensions(data: bytes, fmt: str) -> tuple[int | None, int | None]:
    """(width, height) from the header only; PNG is parsed directly (no decode)."""
    if fmt == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if fmt in ("svg", "bin"):
        return None, None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # a damaged image is still stored as received
        return None, None


@dataclass(frozen=True)
class StoredImage:
    """One image file in the store."""

    sha256: str
    path: str           # relative to the home directory
    bytes: int
    width: int | None
    height: int | None
    format: str


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


def _as_bound(value: date | datetime | str | None, end: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return (value + timedelta(days=1) if end else value).isoformat()
    return str(value)


class Store:
    """The run-history database and image directory. Thread-safe; one per process is enough."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = Path(home).expanduser() if home is not None else default_home()
        self.images_dir = self.home / "images"
        self.thumbs_dir = self.home / "thumbs"
        try:
            self.images_dir.mkdir(parents=True, exist_ok=True)
            self.thumbs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data directory {self.home} ({exc}). "
                             "Fix: set IMAGEGEN_HOME to a writable directory.") from None
        self.db_path = self.home / DB_NAME
        self._lock = threading.RLock()
        self._conn = self._connect()
        migrate(self._conn)

    # -- connections -------------------------------------------------------------------------

    def _connect(self, readonly: bool = False) -> sqlite3.Connection:
        try:
            if readonly:
                conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30,
                                       isolation_level=None, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives process crashes
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self.db_path} ({exc}). "
                             "Fix: check IMAGEGEN_HOME and that the file is not corrupted.") from None
        return conn

    def close(self) -> None:
        """Close the writer connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect(readonly=True)
        try:
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, params: Sequence | dict = ()) -> pd.DataFrame:
        """Run a read-only query (for analytics aggregation) and return a DataFrame."""
        with self._read() as conn:
            try:
                return pd.read_sql_query(sql, conn, params=params)
            except (sqlite3.Error, pd.errors.DatabaseError) as exc:
                raise StoreError(f"query failed: {exc}. Fix: check the SQL against the result_rows view.") from None

    def _one(self, sql: str, params: Sequence = ()) -> sqlite3.Row | None:
        with self._read() as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchone()

    # -- writing: runs -----------------------------------------------------------------------

    def create_run(self, spec: GridSpec, grid: GridEstimate, *, simulated: bool,
                   input_files: Sequence[bytes] = (), name: str | None = None, spec_toml: str | None = None) -> str:
        """Insert a run and its cells (with their estimates); return the new run id."""
        run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self._write() as conn:
            conn.execute(
                "INSERT INTO runs (run_id, name, provider, model, spec_toml, status, simulated, requests, repeats,"
                " estimate_min_usd, estimate_max_usd, budget_usd, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, name if name is not None else spec.name, spec.provider, spec.model, spec_toml or spec.to_toml(),
                 "running", int(simulated), grid.requests, spec.repeats, money(grid.total_cost_usd_min),
                 money(grid.total_cost_usd_max), money(spec.limits.budget_usd), now_iso()))
            for cell, est in zip(grid.cells, grid.estimates):
                req = cell.request
                conn.execute(
                    "INSERT INTO cells (run_id, cell_id, coords, provider, model, deployment, prompt, size, quality,"
                    " background, output_format, output_compression, moderation, n, stream, partial_images,"
                    " operation, input_fidelity, request_key, estimated_cost_min_usd, estimated_cost_usd,"
                    " estimate_price_entry, output_tokens_min, output_tokens_max, token_status)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (run_id, cell.index, json.dumps(cell.coords, ensure_ascii=False, default=str), req.provider,
                     req.model, req.deployment, req.prompt, req.size, req.quality, req.background,
                     req.output_format, req.output_compression, req.moderation, req.n, int(req.stream),
                     req.partial_images, req.operation, req.input_fidelity, request_key(req, input_files),
                     money(est.cost_usd_min), money(est.cost_usd_max), est.cost_max.price_key,
                     est.output_tokens_min, est.output_tokens_max, est.token_status))
        return run_id

    def finish_run(self, run_id: str, status: str, wall_s: float | None) -> None:
        """Mark a run finished | cancelled | failed."""
        with self._write() as conn:
            conn.execute("UPDATE runs SET status = ?, finished_at = ?, wall_s = COALESCE(wall_s, 0) + ?"
                         " WHERE run_id = ?", (status, now_iso(), wall_s or 0.0, run_id))

    def reopen_run(self, run_id: str) -> None:
        """Mark a run running again (``--resume``)."""
        with self._write() as conn:
            conn.execute("UPDATE runs SET status = 'running', finished_at = NULL WHERE run_id = ?", (run_id,))

    # -- writing: results --------------------------------------------------------------------

    def save_image(self, data: bytes) -> StoredImage:
        """Write original bytes under their sha256 (skipped when already there); safe to call from any thread."""
        sha = hashlib.sha256(data).hexdigest()
        fmt = file_format(data)
        rel = f"images/{sha[:2]}/{sha}.{EXTENSIONS.get(fmt, fmt)}"
        path = self.home / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{sha}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)  # atomic: a crash never leaves a half-written image under its name
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise StoreError(f"cannot write image {path} ({exc}). Fix: free disk space or fix permissions.") \
                    from None
        w, h = image_dimensions(data, fmt)
        return StoredImage(sha, rel, len(data), w, h, fmt)

    def record_result(self, rec: ResultRecord) -> int:
        """Write images, then commit the result row, its attempts and images in one transaction."""
        images = list(rec.images)
        if rec.generation is not None and not images:
            images = [self.save_image(b) for b in rec.generation.images]
        gen, billed = rec.generation, rec.billed
        usage = billed.usage if billed else None
        cost = billed.cost if billed else None
        last_request_id = next((a.request_id for a in reversed(rec.attempts) if a.request_id), None)
        latency = gen.wall_s if gen else (rec.attempts[-1].wall_s if rec.attempts else None)
        with self._write() as conn:
            self._delete_result(conn, rec.run_id, rec.cell_id, rec.repeat)
            cur = conn.execute(
                "INSERT INTO results (run_id, cell_id, repeat, status, error_kind, error_message, http_status,"
                " resolved_size, resolved_quality, resolved_background, received_format, input_text_tokens,"
                " input_image_tokens, output_tokens, output_text_tokens, documented_output_tokens, cost_usd,"
                " cost_text_input_usd, cost_image_input_usd, cost_image_output_usd, cost_text_output_usd,"
                " price_entry, latency_s, first_partial_s, elapsed_s, processing_ms, partial_images_received,"
                " attempts, request_id, simulated, reused, usage_json, ratelimit_json, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?,?)",
                (rec.run_id, rec.cell_id, rec.repeat, rec.status, rec.error_kind, rec.error_message, rec.http_status,
                 gen.resolved_size if gen else None, gen.resolved_quality if gen else None,
                 gen.resolved_background if gen else None,
                 (images[0].format if images else gen.output_format) if gen else None,
                 usage.input_text_tokens if usage else None, usage.input_image_tokens if usage else None,
                 usage.output_tokens if usage else None, usage.output_text_tokens if usage else None,
                 billed.documented_output_tokens if billed else None,
                 money(cost.total) if cost else ("0" if rec.status != "ok" else None),
                 money(cost.text_input) if cost else None, money(cost.image_input) if cost else None,
                 money(cost.image_output) if cost else None, money(cost.text_output) if cost else None,
                 cost.price_key if cost else None, latency, gen.first_partial_s if gen else None, rec.elapsed_s,
                 gen.processing_ms if gen else None, gen.partial_images_received if gen else None,
                 len(rec.attempts), (gen.request_id if gen else None) or last_request_id, int(rec.simulated),
                 json.dumps(gen.usage) if gen and gen.usage is not None else None,
                 json.dumps(gen.ratelimit) if gen and gen.ratelimit else None, now_iso()))
            result_id = int(cur.lastrowid)
            self._insert_children(conn, result_id, rec.attempts, images)
            if rec.simulated:
                conn.execute("UPDATE runs SET simulated = 1 WHERE run_id = ? AND simulated = 0", (rec.run_id,))
            if cost is not None and cost.total:
                self._add_cost(conn, rec.run_id, cost.total)
        return result_id

    def record_results(self, recs: Sequence[ResultRecord]) -> list[int]:
        """Commit several image-less results (cancelled/skipped) in one transaction; return their ids."""
        ids = []
        with self._write() as conn:
            for rec in recs:
                if rec.generation is not None:
                    raise StoreError("record_results takes results without images. Fix: use record_result.")
                self._delete_result(conn, rec.run_id, rec.cell_id, rec.repeat)
                cur = conn.execute(
                    "INSERT INTO results (run_id, cell_id, repeat, status, error_kind, error_message, http_status,"
                    " cost_usd, attempts, simulated, created_at) VALUES (?,?,?,?,?,?,?,'0',?,?,?)",
                    (rec.run_id, rec.cell_id, rec.repeat, rec.status, rec.error_kind, rec.error_message,
                     rec.http_status, len(rec.attempts), int(rec.simulated), now_iso()))
                ids.append(int(cur.lastrowid))
                self._insert_children(conn, ids[-1], rec.attempts, ())
        return ids

    def record_reuse(self, run_id: str, cell_id: int, repeat: int, source_id: int) -> int:
        """Copy a past ok result into this run: same figures and images, marked reused, costing $0."""
        cols = ("status, error_kind, error_message, http_status, resolved_size, resolved_quality, resolved_background,"
                " received_format, input_text_tokens, input_image_tokens, output_tokens, output_text_tokens,"
                " documented_output_tokens, price_entry, latency_s, first_partial_s, elapsed_s, processing_ms,"
                " partial_images_received, attempts, request_id, simulated, usage_json, ratelimit_json")
        with self._write() as conn:
            self._delete_result(conn, run_id, cell_id, repeat)
            cur = conn.execute(
                f"INSERT INTO results (run_id, cell_id, repeat, {cols}, cost_usd, cost_text_input_usd,"
                " cost_image_input_usd, cost_image_output_usd, cost_text_output_usd, reused, reused_from, created_at)"
                f" SELECT ?, ?, ?, {cols}, '0', '0', '0', '0', '0', 1, result_id, ? FROM results WHERE result_id = ?",
                (run_id, cell_id, repeat, now_iso(), source_id))
            if cur.rowcount != 1:
                raise StoreError(f"result {source_id} to reuse no longer exists. Fix: run without --reuse.")
            result_id = int(cur.lastrowid)
            conn.execute("INSERT INTO images (result_id, idx, sha256, path, bytes, width, height, format)"
                         " SELECT ?, idx, sha256, path, bytes, width, height, format FROM images WHERE result_id = ?",
                         (result_id, source_id))
            sim = conn.execute("SELECT simulated FROM results WHERE result_id = ?", (result_id,)).fetchone()[0]
            conn.execute("UPDATE runs SET simulated = MAX(simulated, ?) WHERE run_id = ?", (sim, run_id))
        return result_id

    @staticmethod
    def _insert_children(conn: sqlite3.Connection, result_id: int, attempts: Sequence[Attempt],
                         images: Sequence[StoredImage]) -> None:
        conn.executemany(
            "INSERT INTO attempts (result_id, number, started_at, wall_s, ok, error_kind, error_message, http_status,"
            " retry_after_s, request_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(result_id, a.number, datetime.fromtimestamp(a.started_at, UTC).isoformat(timespec="milliseconds"),
              a.wall_s, int(a.ok), a.error_kind, a.error_message, a.http_status, a.retry_after_s, a.request_id)
             for a in attempts])
        conn.executemany(
            "INSERT INTO images (result_id, idx, sha256, path, bytes, width, height, format) VALUES (?,?,?,?,?,?,?,?)",
            [(result_id, i, im.sha256, im.path, im.bytes, im.width, im.height, im.format)
             for i, im in enumerate(images)])

    @staticmethod
    def _delete_result(conn: sqlite3.Connection, run_id: str, cell_id: int, repeat: int) -> None:
        old = conn.execute("SELECT cost_usd FROM results WHERE run_id = ? AND cell_id = ? AND repeat = ?",
                           (run_id, cell_id, repeat)).fetchone()
        if old is None:
            return
        if old[0]:
            Store._add_cost(conn, run_id, -Decimal(old[0]))
        conn.execute("DELETE FROM results WHERE run_id = ? AND cell_id = ? AND repeat = ?", (run_id, cell_id, repeat))

    @staticmethod
    def _add_cost(conn: sqlite3.Connection, run_id: str, amount: Decimal) -> None:
        current = conn.execute("SELECT cost_usd FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if current is None:
            raise StoreError(f"run {run_id} does not exist. Fix: create the run first.")
        conn.execute("UPDATE runs SET cost_usd = ? WHERE run_id = ?", (money(Decimal(current[0]) + amount), run_id))

    # -- reading for the runner --------------------------------------------------------------

    def resolve_run_id(self, run_id: str) -> str:
        """``latest`` -> the newest run id; any other id must exist."""
        if run_id == "latest":
            row = self._one("SELECT run_id FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1")
            if row is None:
                raise StoreError(f"no runs in {self.home}. Fix: `python -m imagegen run SPEC` first.")
            return row["run_id"]
        if self._one("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)) is None:
            raise StoreError(f"run {run_id!r} not found in {self.home}. "
                             "Fix: list runs with `python -m imagegen runs`, or check IMAGEGEN_HOME / --home.")
        return run_id

    def run(self, run_id: str) -> dict:
        """One ``runs`` row as a dict (``latest`` allowed)."""
        run_id = self.resolve_run_id(run_id)
        row = self._one("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        assert row is not None
        return dict(row)

    def result_statuses(self, run_id: str) -> dict[tuple[int, int], str]:
        """(cell_id, repeat) -> status of every recorded result of a run."""
        with self._read() as conn:
            rows = conn.execute("SELECT cell_id, repeat, status FROM results WHERE run_id = ?", (run_id,)).fetchall()
        return {(c, r): s for c, r, s in rows}

    def request_keys(self, run_id: str) -> dict[int, str]:
        """cell_id -> request key (the ``--reuse`` identity) of every cell of a run."""
        with self._read() as conn:
            return dict(conn.execute("SELECT cell_id, request_key FROM cells WHERE run_id = ?", (run_id,)).fetchall())

    def reuse_candidates(self, key: str, exclude_run: str | None = None) -> list[int]:
        """Ids of past successful, non-reused results of an identical request, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT r.result_id FROM cells c JOIN results r ON r.run_id = c.run_id AND r.cell_id = c.cell_id"
                " WHERE c.request_key = ? AND r.status = 'ok' AND r.reused = 0 AND r.run_id IS NOT ?"
                " ORDER BY r.created_at, r.result_id", (key, exclude_run)).fetchall()
        return [r[0] for r in rows]

    def _rows_by_id(self, result_ids: Sequence[int]) -> dict[int, dict]:
        # Primary-key lookups on the writer connection: no connection to open on the runner's hot path.
        out: dict[int, dict] = {}
        ids = list(result_ids)
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.row_factory = sqlite3.Row
                for i in range(0, len(ids), 500):
                    chunk = ids[i:i + 500]
                    marks = ",".join("?" * len(chunk))
                    for row in cur.execute(f"SELECT * FROM result_rows WHERE result_id IN ({marks})", chunk):
                        out[row["result_id"]] = dict(row)
            finally:
                cur.close()
        return out

    def result_row(self, result_id: int) -> dict:
        """One ``result_rows`` row as a dict."""
        row = self._rows_by_id([result_id]).get(result_id)
        if row is None:
            raise StoreError(f"result {result_id} not found. Fix: pick a result id from store.results(run_id).")
        return row

    def result_rows(self, result_ids: Sequence[int]) -> dict[int, dict]:
        """Several ``result_rows`` rows by id, in one query."""
        return self._rows_by_id(result_ids)

    # -- reading for the UI and analytics ----------------------------------------------------

    @staticmethod
    def _run_filter(provider, model, name_like, since, until) -> tuple[str, list]:
        where, params = [], []
        if provider:
            where.append("(u.provider = ? OR EXISTS (SELECT 1 FROM cells c WHERE c.run_id = u.run_id"
                         " AND c.provider = ?))")
            params += [provider, provider]
        if model:
            where.append("(u.model = ? OR EXISTS (SELECT 1 FROM cells c WHERE c.run_id = u.run_id AND c.model = ?)"
                         " OR EXISTS (SELECT 1 FROM cells c WHERE c.run_id = u.run_id AND c.deployment = ?))")
            params += [model, model, model]
        if name_like:
            where.append("u.name LIKE ?")
            params.append(f"%{name_like}%")
        if since is not None:
            where.append("u.created_at >= ?")
            params.append(_as_bound(since, end=False))
        if until is not None:
            where.append("u.created_at < ?")
            params.append(_as_bound(until, end=True))
        return (" WHERE " + " AND ".join(where)) if where else "", params

    def count_runs(self, provider: str | None = None, model: str | None = None, name_like: str | None = None,
                   since: date | datetime | str | None = None, until: date | datetime | str | None = None) -> int:
        """How many runs match the filters of ``runs``."""
        where, params = self._run_filter(provider, model, name_like, since, until)
        with self._read() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM runs u{where}", params).fetchone()[0])

    def runs(self, provider: str | None = None, model: str | None = None, name_like: str | None = None,
             since: date | datetime | str | None = None, until: date | datetime | str | None = None,
             limit: int = 100, offset: int = 0) -> pd.DataFrame:
        """One row per run, newest first, with totals.

        Columns: run_id, name, created_at, finished_at, status, provider, model, simulated, requests,
        cells, results, ok, errors, cancelled, skipped, reused, cost_usd (exact string),
        estimate_min_usd, estimate_max_usd, budget_usd, median_latency_s, wall_s, spec_toml.
        """
        where, params = self._run_filter(provider, model, name_like, since, until)
        with self._read() as conn:
            runs = pd.read_sql_query(
                "SELECT u.run_id, u.name, u.created_at, u.finished_at, u.status, u.provider, u.model, u.simulated,"
                " u.requests, (SELECT COUNT(*) FROM cells c WHERE c.run_id = u.run_id) AS cells,"
                " u.cost_usd, u.estimate_min_usd, u.estimate_max_usd, u.budget_usd, u.wall_s, u.spec_toml"
                f" FROM runs u{where} ORDER BY u.created_at DESC, u.rowid DESC LIMIT ? OFFSET ?",
                conn, params=[*params, int(limit), int(offset)])
            ids = runs["run_id"].tolist()
            marks = ",".join("?" * len(ids))
            counts = pd.read_sql_query(
                "SELECT run_id, COUNT(*) AS results, SUM(status = 'ok') AS ok, SUM(status = 'error') AS errors,"
                " SUM(status = 'cancelled') AS cancelled, SUM(status = 'skipped') AS skipped,"
                f" SUM(reused) AS reused FROM results WHERE run_id IN ({marks}) GROUP BY run_id", conn, params=ids)
            lat = pd.read_sql_query(
                f"SELECT run_id, latency_s FROM results WHERE run_id IN ({marks}) AND status = 'ok' AND reused = 0",
                conn, params=ids)
        medians = lat.groupby("run_id")["latency_s"].median().rename("median_latency_s")
        out = runs.merge(counts, on="run_id", how="left").merge(medians, left_on="run_id", right_index=True,
                                                                 how="left")
        for col in ("results", "ok", "errors", "cancelled", "skipped", "reused"):
            out[col] = out[col].fillna(0).astype("int64")
        order = ["run_id", "name", "created_at", "finished_at", "status", "provider", "model", "simulated",
                 "requests", "cells", "results", "ok", "errors", "cancelled", "skipped", "reused", "cost_usd",
                 "estimate_min_usd", "estimate_max_usd", "budget_usd", "median_latency_s", "wall_s", "spec_toml"]
        return out[order]

    def results(self, run_id: str) -> pd.DataFrame:
        """``result_rows`` of one run (``latest`` allowed), ordered by cell and repeat."""
        run_id = self.resolve_run_id(run_id)
        return self.query("SELECT * FROM result_rows WHERE run_id = ? ORDER BY cell_id, repeat", (run_id,))

    def attempts(self, result_id: int) -> pd.DataFrame:
        """Every attempt of one result, in order."""
        return self.query("SELECT * FROM attempts WHERE result_id = ? ORDER BY number", (result_id,))

    def images(self, result_id: int) -> pd.DataFrame:
        """Every image of one result (n > 1 gives several)."""
        return self.query("SELECT * FROM images WHERE result_id = ? ORDER BY idx", (result_id,))

    # -- edits from the UI -------------------------------------------------------------------

    def rate(self, result_id: int, stars: int | None) -> None:
        """Set a 1..5 star rating on a result, or clear it with None."""
        if stars is not None and (not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5):
            raise StoreError(f"rating {stars!r} is not allowed: 1..5 stars or None. Fix: pick 1 to 5 stars.")
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM results WHERE result_id = ?", (result_id,)).fetchone() is None:
                raise StoreError(f"result {result_id} not found. Fix: rate a result that exists.")
            if stars is None:
                conn.execute("DELETE FROM ratings WHERE result_id = ?", (result_id,))
            else:
                conn.execute("INSERT INTO ratings (result_id, stars, rated_at) VALUES (?, ?, ?) ON CONFLICT(result_id)"
                             " DO UPDATE SET stars = excluded.stars, rated_at = excluded.rated_at",
                             (result_id, stars, now_iso()))

    def rename_run(self, run_id: str, name: str) -> None:
        """Give a run a new display name."""
        run_id = self.resolve_run_id(run_id)
        with self._write() as conn:
            conn.execute("UPDATE runs SET name = ? WHERE run_id = ?", (str(name), run_id))

    def delete_run(self, run_id: str) -> int:
        """Delete a run with its rows, and the image files no other result uses; return files removed."""
        run_id = self.resolve_run_id(run_id)
        with self._write() as conn:
            shas = {r[0] for r in conn.execute(
                "SELECT DISTINCT i.sha256 FROM images i JOIN results r ON r.result_id = i.result_id"
                " WHERE r.run_id = ?", (run_id,))}
            paths = {r[0] for r in conn.execute(
                "SELECT DISTINCT i.path FROM images i JOIN results r ON r.result_id = i.result_id"
                " WHERE r.run_id = ?", (run_id,))}
            conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            still = {r[0] for r in conn.execute(
                f"SELECT DISTINCT sha256 FROM images WHERE sha256 IN ({','.join('?' * len(shas))})", list(shas))}
        removed = 0
        for rel in paths:
            sha = Path(rel).stem
            if sha in still:
                continue
            (self.home / rel).unlink(missing_ok=True)
            for thumb in self.thumbs_dir.glob(f"{sha}-*"):
                thumb.unlink(missing_ok=True)
            removed += 1
        return removed

    # -- files -------------------------------------------------------------------------------

    def image_path(self, ref: str) -> Path:
        """Absolute path of an image from its sha256 or its store-relative path."""
        if _SHA_RE.match(ref):
            row = self._one("SELECT path FROM images WHERE sha256 = ? LIMIT 1", (ref,))
            if row is None:
                raise StoreError(f"no image with sha256 {ref}. Fix: use a sha256 from result_rows.image_sha256.")
            ref = row["path"]
        path = (self.home / ref).resolve()
        if not path.is_relative_to(self.home.resolve()):
            raise StoreError(f"image path {ref!r} is outside {self.home}. Fix: use result_rows.image_path.")
        return path

    def thumbnail(self, sha256: str, max_px: int = 256) -> bytes:
        """A WEBP thumbnail no larger than ``max_px``, cached on disk (full images are decoded once)."""
        cached = self.thumbs_dir / f"{sha256}-{int(max_px)}.webp"
        if cached.exists():
            return cached.read_bytes()
        from PIL import Image

        source = self.image_path(sha256)
        with Image.open(source) as im:
            im.thumbnail((max_px, max_px))
            if im.mode not in ("RGB", "RGBA"):
                im = im.convert("RGBA" if "A" in im.getbands() or im.mode == "P" else "RGB")
            buf = io.BytesIO()
            im.save(buf, "WEBP", quality=80)
        data = buf.getvalue()
        tmp = cached.with_name(f".{cached.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, cached)
        return data

    # -- export ------------------------------------------------------------------------------

    def export_rows(self, run_id: str) -> list[dict]:
        """EXPORT_COLUMNS of every result of a run; ``image_path`` absolute."""
        run_id = self.resolve_run_id(run_id)
        cols = ", ".join(f'"{c}"' for c in EXPORT_COLUMNS)
        with self._read() as conn:
            conn.row_factory = sqlite3.Row
            rows = [dict(r) for r in conn.execute(
                f"SELECT {cols} FROM result_rows WHERE run_id = ? ORDER BY cell_id, repeat", (run_id,))]
        for row in rows:
            if row["image_path"]:
                row["image_path"] = str((self.home / row["image_path"]).resolve())
        return rows

    def export(self, run_id: str, fmt: str) -> str:
        """A run's results as CSV or JSON text (one row per cell x repeat, EXPORT_COLUMNS)."""
        if fmt not in ("csv", "json"):
            raise StoreError(f"export format {fmt!r} is not allowed: csv or json. Fix: use --format csv or json.")
        rows = self.export_rows(run_id)
        if fmt == "json":
            return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
