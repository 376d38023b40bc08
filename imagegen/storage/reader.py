"""Reading the run history: runs with totals, result rows, attempts, images, exports, ad-hoc SQL.

Everything returns pandas DataFrames unless noted; result rows have the columns of ``rows.ROW``
(the ``result_rows`` view), selected by name. Reads use short-lived read-only connections, except
the runner's hot-path primary-key lookups (``result_rows``), which reuse the writer connection.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from imagegen.core.lazy import lazy_module
from imagegen.errors import StoreError
from imagegen.storage.db import Database
from imagegen.storage.files import FileStore
from imagegen.storage.rows import EXPORT_COLUMNS, ResultRow, select_list

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported by the first DataFrame read: the CLI's `runs` and `run` never need it

#: What ``export(..., excel=True)`` starts a CSV with: the byte order mark, EF BB BF in UTF-8.
EXCEL_BOM = "\ufeff"
#: Statuses a resume redoes by default (errors are kept unless asked: they may cost again).
MISSING_STATUSES = ("cancelled", "skipped")

RUNS_COLUMNS = ["run_id", "name", "created_at", "finished_at", "status", "provider", "model", "simulated",
                "requests", "cells", "results", "ok", "errors", "cancelled", "skipped", "reused", "cost_usd",
                "estimate_min_usd", "estimate_max_usd", "budget_usd", "median_latency_s", "wall_s", "spec_toml",
                "replayed", "replayed_from", "recordings"]


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


def _run_filter(provider, model, name_like, since, until) -> tuple[str, list]:
    where, params = [], []
    if provider:
        where.append("(u.provider = ? OR EXISTS (SELECT 1 FROM cells c WHERE c.run_id = u.run_id AND c.provider = ?))")
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


class StoreReader:
    """Every read of the run history (needs ``self.db`` and ``self.files``)."""

    db: Database
    files: FileStore

    def __init__(self, db: Database, files: FileStore) -> None:
        self.db, self.files = db, files

    def query(self, sql: str, params: Sequence | dict = ()) -> pd.DataFrame:
        """Run a read-only query (for analytics aggregation) and return a DataFrame."""
        with self.db.read() as conn:
            try:
                return pd.read_sql_query(sql, conn, params=params)
            except (sqlite3.Error, pd.errors.DatabaseError) as exc:
                raise StoreError(f"query failed: {exc}. Fix: check the SQL against the result_rows view.") from None

    def rows(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        """A read-only query as named tuples, without pandas (the CLI's quick paths, e.g. ``calibrate --json``)."""
        from collections import namedtuple

        with self.db.read() as conn:
            try:
                cur = conn.execute(sql, params)
            except sqlite3.Error as exc:
                raise StoreError(f"query failed: {exc}. Fix: check the SQL against the result_rows view.") from None
            row_type = namedtuple("Row", [d[0] for d in cur.description], rename=True)
            return [row_type(*r) for r in cur.fetchall()]

    def _one(self, sql: str, params: Sequence = ()) -> sqlite3.Row | None:
        with self.db.read() as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchone()

    # -- for the runner --------------------------------------------------------------------------

    def resolve_run_id(self, run_id: str) -> str:
        """``latest`` -> the newest run id; any other id must exist."""
        return self.db.resolve_run_id(run_id)

    def run(self, run_id: str) -> dict:
        """One ``runs`` row as a dict (``latest`` allowed)."""
        run_id = self.resolve_run_id(run_id)
        row = self._one("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        assert row is not None
        return dict(row)

    def run_inputs(self, run_id: str) -> list[dict]:
        """An edit run's input images and mask in order (role, source, sha256, path, bytes, width, height, format)."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT position, role, source, sha256, path, bytes, width, height, format "
                                "FROM run_inputs WHERE run_id = ? ORDER BY position", (run_id,)).fetchall()
        return [dict(zip(("position", "role", "source", "sha256", "path", "bytes", "width", "height", "format"), r))
                for r in rows]

    def input_file(self, sha256: str) -> bytes:
        """The stored bytes of an input image or mask by its sha256."""
        with self.db.read() as conn:
            row = conn.execute("SELECT path FROM run_inputs WHERE sha256 = ? LIMIT 1", (sha256,)).fetchone()
        if row is None:
            raise StoreError(f"no input image with sha256 {sha256}. Fix: use a hash from `export` (input_sha256).")
        return self.files.image_path(row[0], lambda _: None).read_bytes()

    def result_image(self, result_id: str | int) -> bytes | None:
        """The first stored image of a successful result (an edit's ``result:<id>`` input), or None."""
        try:
            rid = int(result_id)
        except (TypeError, ValueError):
            return None
        with self.db.read() as conn:
            row = conn.execute("SELECT i.path FROM images i JOIN results r ON r.result_id = i.result_id "
                               "WHERE i.result_id = ? AND r.status = 'ok' ORDER BY i.idx LIMIT 1", (rid,)).fetchone()
        if row is None:
            return None
        try:
            return self.files.image_path(row[0], lambda _: None).read_bytes()
        except OSError:  # the file was removed by hand: no such input
            return None

    def recent_images(self, limit: int = 60) -> pd.DataFrame:
        """The newest successful results with an image (result_id, run, model, quality, size, prompt, sha256)."""
        return self.query(
            "SELECT r.result_id, r.run_id, c.model, COALESCE(r.resolved_quality, c.quality) AS quality, "
            "COALESCE(r.resolved_size, c.size) AS size, c.prompt, c.operation, i.sha256, i.format "
            "FROM results r JOIN cells c ON c.run_id = r.run_id AND c.cell_id = r.cell_id "
            "JOIN images i ON i.result_id = r.result_id AND i.idx = 0 "
            "WHERE r.status = 'ok' AND i.format IN ('png', 'jpeg', 'webp') "
            "ORDER BY r.result_id DESC LIMIT ?", (int(limit),))

    def result_statuses(self, run_id: str) -> dict[tuple[int, int], str]:
        """(cell_id, repeat) -> status of every recorded result of a run."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT cell_id, repeat, status FROM results WHERE run_id = ?", (run_id,)).fetchall()
        return {(c, r): s for c, r, s in rows}

    def observed_cost_factor(self, run_id: str) -> Decimal | None:
        """Highest billed / estimated-maximum ratio among the run's answered ok results (None before any).

        The budget guard reserves ``estimate x max(1, this)`` so that an endpoint billing above the
        estimate cannot carry the run past its cap, across resumes too.
        """
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT r.cost_usd, c.estimated_cost_usd FROM results r JOIN cells c ON c.run_id = r.run_id"
                " AND c.cell_id = r.cell_id WHERE r.run_id = ? AND r.status = 'ok' AND r.reused = 0"
                " AND r.cost_usd IS NOT NULL AND c.estimated_cost_usd IS NOT NULL", (run_id,)).fetchall()
        ratios = [Decimal(cost) / Decimal(est) for cost, est in rows if Decimal(est) > 0]
        return max(ratios) if ratios else None

    def open_reservations(self, run_id: str) -> list[tuple[int, int, Decimal]]:
        """(cell_id, repeat, amount) of every request of a run sent and not (yet) answered."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT cell_id, repeat, amount_usd FROM reservations WHERE run_id = ?"
                                " AND status = 'sent' ORDER BY reservation_id", (run_id,)).fetchall()
        return [(c, r, Decimal(a)) for c, r, a in rows]

    def request_keys(self, run_id: str) -> dict[int, str]:
        """cell_id -> request key (the ``--reuse`` identity) of every cell of a run."""
        with self.db.read() as conn:
            return dict(conn.execute("SELECT cell_id, request_key FROM cells WHERE run_id = ?", (run_id,)).fetchall())

    def reusable_counts(self, keys: Sequence[str]) -> dict[str, int]:
        """request key -> how many past successful, non-reused results ``--reuse`` could take for it."""
        keys = sorted(set(keys))
        out: dict[str, int] = {}
        with self.db.read() as conn:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                out.update(dict(conn.execute(
                    "SELECT c.request_key, COUNT(*) FROM cells c JOIN results r ON r.run_id = c.run_id AND "
                    f"r.cell_id = c.cell_id WHERE c.request_key IN ({marks}) AND r.status = 'ok' AND r.reused = 0"
                    " GROUP BY c.request_key", chunk).fetchall()))
        return out

    def reuse_candidates(self, key: str, exclude_run: str | None = None) -> list[int]:
        """Ids of past successful, non-reused results of an identical request, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT r.result_id FROM cells c JOIN results r ON r.run_id = c.run_id AND r.cell_id = c.cell_id"
                " WHERE c.request_key = ? AND r.status = 'ok' AND r.reused = 0 AND r.run_id IS NOT ?"
                " ORDER BY r.created_at, r.result_id", (key, exclude_run)).fetchall()
        return [r[0] for r in rows]

    def result_rows(self, result_ids: Sequence[int]) -> dict[int, dict]:
        """Several ``result_rows`` rows by id, in one query per 500 ids."""
        # Primary-key lookups on the writer connection: no connection to open on the runner's hot path.
        out: dict[int, dict] = {}
        ids = list(result_ids)
        with self.db.lock:
            cur = self.db.conn.cursor()
            try:
                cur.row_factory = sqlite3.Row
                for i in range(0, len(ids), 500):
                    chunk = ids[i:i + 500]
                    marks = ",".join("?" * len(chunk))
                    for row in cur.execute(f"SELECT {select_list()} FROM result_rows WHERE result_id IN ({marks})",
                                           chunk):
                        out[row["result_id"]] = dict(row)
            finally:
                cur.close()
        return out

    def result_row(self, result_id: int) -> dict:
        """One ``result_rows`` row as a dict."""
        row = self.result_rows([result_id]).get(result_id)
        if row is None:
            raise StoreError(f"result {result_id} not found. Fix: pick a result id from store.results(run_id).")
        return row

    def result_list(self, run_id: str) -> list[ResultRow]:
        """Typed ``ResultRow`` objects of one run (``latest`` allowed), by cell and repeat."""
        run_id = self.resolve_run_id(run_id)
        with self.db.read() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(f"SELECT {select_list()} FROM result_rows WHERE run_id = ?"
                                " ORDER BY cell_id, repeat", (run_id,)).fetchall()
        return [ResultRow.from_mapping(dict(r)) for r in rows]

    # -- for the UI and analytics ----------------------------------------------------------------

    def count_runs(self, provider: str | None = None, model: str | None = None, name_like: str | None = None,
                   since: date | datetime | str | None = None, until: date | datetime | str | None = None) -> int:
        """How many runs match the filters of ``runs``."""
        where, params = _run_filter(provider, model, name_like, since, until)
        with self.db.read() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM runs u{where}", params).fetchone()[0])

    def runs(self, provider: str | None = None, model: str | None = None, name_like: str | None = None,
             since: date | datetime | str | None = None, until: date | datetime | str | None = None,
             limit: int = 100, offset: int = 0) -> pd.DataFrame:
        """One row per run, newest first, with totals (columns: ``RUNS_COLUMNS``; cost_usd an exact string)."""
        where, params = _run_filter(provider, model, name_like, since, until)
        with self.db.read() as conn:
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
                " SUM(reused) AS reused, COUNT(replayed_from) AS replayed,"
                " MIN(replayed_from) AS replayed_from, COUNT(DISTINCT replayed_from) AS recordings"
                f" FROM results WHERE run_id IN ({marks}) GROUP BY run_id", conn, params=ids)
            lat = pd.read_sql_query(
                f"SELECT run_id, latency_s FROM results WHERE run_id IN ({marks}) AND status = 'ok' AND reused = 0",
                conn, params=ids)
        medians = lat.groupby("run_id")["latency_s"].median().rename("median_latency_s")
        out = runs.merge(counts, on="run_id", how="left").merge(medians, left_on="run_id", right_index=True,
                                                                 how="left")
        for col in ("results", "ok", "errors", "cancelled", "skipped", "reused", "replayed", "recordings"):
            out[col] = out[col].fillna(0).astype("int64")
        return out[RUNS_COLUMNS]

    def run_lines(self, limit: int = 100) -> list[dict]:
        """The newest runs as plain dicts (run_id, name, created_at, status, model, simulated, requests,
        ok, cost_usd): what the CLI's ``runs`` table shows, without loading pandas."""
        with self.db.read() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                "SELECT u.run_id, u.name, u.created_at, u.status, u.model, u.simulated, u.requests, u.cost_usd,"
                " (SELECT COUNT(*) FROM results r WHERE r.run_id = u.run_id AND r.status = 'ok') AS ok"
                " FROM runs u ORDER BY u.created_at DESC, u.rowid DESC LIMIT ?", (int(limit),)).fetchall()
        return [dict(r) for r in rows]

    def results(self, run_id: str) -> pd.DataFrame:
        """``result_rows`` of one run (``latest`` allowed), ordered by cell and repeat."""
        run_id = self.resolve_run_id(run_id)
        return self.query(f"SELECT {select_list()} FROM result_rows WHERE run_id = ? ORDER BY cell_id, repeat",
                          (run_id,))

    def attempts(self, result_id: int) -> pd.DataFrame:
        """Every attempt of one result, in order."""
        return self.query("SELECT * FROM attempts WHERE result_id = ? ORDER BY number", (result_id,))

    def images(self, result_id: int) -> pd.DataFrame:
        """Every image of one result (n > 1 gives several)."""
        return self.query("SELECT * FROM images WHERE result_id = ? ORDER BY idx", (result_id,))

    # -- files -----------------------------------------------------------------------------------

    def image_path(self, ref: str) -> Path:
        """Absolute path of an image from its sha256 or its store-relative path."""
        def path_of_sha(sha: str) -> str | None:
            row = self._one("SELECT path FROM images WHERE sha256 = ? LIMIT 1", (sha,))
            return None if row is None else row["path"]
        return self.files.image_path(ref, path_of_sha)

    def thumbnail(self, sha256: str, max_px: int = 256) -> bytes:
        """A WEBP thumbnail no larger than ``max_px``, cached on disk (full images are decoded once)."""
        cached = self.files.thumbs_dir / f"{sha256}-{int(max_px)}.webp"
        source = cached if cached.exists() else self.image_path(sha256)
        return self.files.thumbnail(source, sha256, max_px)

    # -- export ----------------------------------------------------------------------------------

    def export_rows(self, run_id: str) -> list[dict]:
        """EXPORT_COLUMNS of every result of a run; ``image_path`` absolute."""
        run_id = self.resolve_run_id(run_id)
        with self.db.read() as conn:
            conn.row_factory = sqlite3.Row
            rows = [dict(r) for r in conn.execute(
                f"SELECT {select_list(EXPORT_COLUMNS)} FROM result_rows WHERE run_id = ? ORDER BY cell_id, repeat",
                (run_id,))]
        for row in rows:
            if row["image_path"]:
                row["image_path"] = str((self.files.home / row["image_path"]).resolve())
        return rows

    def export(self, run_id: str, fmt: str, *, excel: bool = False) -> str:
        """A run's results as CSV or JSON text (one row per cell x repeat, EXPORT_COLUMNS).

        ``excel=True`` (CSV only) starts the text with a byte order mark (U+FEFF): Excel reads a CSV without
        one in the system's legacy code page, so Japanese prompts would come out garbled. Written as UTF-8,
        the file then starts with the bytes EF BB BF.
        """
        if fmt not in ("csv", "json"):
            raise StoreError(f"export format {fmt!r} is not allowed: csv or json. Fix: use --format csv or json.")
        if excel and fmt != "csv":
            raise StoreError("the Excel option is for CSV only (JSON has no byte order mark). Fix: use "
                             "--format csv with --excel, or leave out --excel.")
        rows = self.export_rows(run_id)
        if fmt == "json":
            return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
        buf = io.StringIO()
        if excel:
            buf.write(EXCEL_BOM)
        writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
