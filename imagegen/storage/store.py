"""Run history: SQLite rows plus the original image bytes on disk, under one data directory.

Layout of ``IMAGEGEN_HOME`` (default ``.imagegen/`` in the checkout, git-ignored)::

    imagegen.db                  runs, cells, results, attempts, images, ratings, reservations, leases
    images/ab/<sha256>.<ext>     original bytes as received (never re-encoded), named by content
    thumbs/<sha256>-<px>.webp    small cached thumbnails for the UI

``Store`` is a thin facade over the parts, each readable in one sitting:

    db.py       Database: connections, the writer lock, schema check, migrations
    rows.py     the result row defined once: view, export columns, inserts, ResultRow
    writer.py   StoreWriter: runs, cells, results, reuse, ratings, renames, deletes
    reader.py   StoreReader: runs with totals, result rows, attempts, images, exports, SQL
    files.py    FileStore: image files and thumbnails
    leases.py   Lease: one runner per run (heartbeat, expiry, dead-process takeover)

Public helpers (DataFrames unless noted)::

    Store(home=None)                              # home defaults to default_home() ($IMAGEGEN_HOME)
    store.runs(provider=None, model=None, name_like=None, since=None, until=None, limit=100, offset=0)
    store.count_runs(...) -> int; store.run(run_id | "latest") -> dict; store.results(run_id | "latest")
    store.result_list(run_id) -> list[ResultRow]; store.attempts(result_id) / store.images(result_id)
    store.query(sql, params=())                   # read-only SQL for analytics
    store.rate(result_id, stars | None); store.rename_run(run_id, name); store.delete_run(run_id)
    store.image_path(sha256_or_relpath) -> Path; store.thumbnail(sha256, max_px=256) -> bytes
    store.export(run_id | "latest", "csv" | "json") -> str
    store.reserve(run_id, cell, repeat, amount) -> id; store.count_unanswered(run_id) -> (n, amount)
    store.lease(run_id) -> Lease
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from imagegen.core.paths import data_home
from imagegen.storage.db import DB_NAME, Database, decimal_text, default_home, now_iso
from imagegen.storage.files import FileStore, StoredImage, file_format, image_dimensions
from imagegen.storage.leases import Lease
from imagegen.storage.reader import MISSING_STATUSES, StoreReader
from imagegen.storage.writer import UNANSWERED_PRICE, ResultRecord, StoreWriter, request_key

if TYPE_CHECKING:
    import sqlite3

__all__ = ["Store", "ResultRecord", "Lease", "UNANSWERED_PRICE", "StoredImage", "MISSING_STATUSES", "DB_NAME",
           "default_home", "decimal_text",
           "now_iso", "request_key", "file_format", "image_dimensions"]


class Store(StoreReader, StoreWriter):
    """The run-history database and image directory. Thread-safe; one per process is enough."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = data_home(home)
        self.files = FileStore(self.home)
        self.db_path = self.home / DB_NAME
        self.db = Database(self.db_path)

    @property
    def images_dir(self) -> Path:
        return self.files.images_dir

    @property
    def thumbs_dir(self) -> Path:
        return self.files.thumbs_dir

    @property
    def _conn(self) -> sqlite3.Connection:  # the writer connection (tests and benches inspect it)
        return self.db.conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:  # bulk loads in bench/ use one transaction
        with self.db.write() as conn:
            yield conn

    def lease(self, run_id: str) -> Lease:
        """The lease of a run for a new runner (``check_free`` / ``acquire`` / ``heartbeat`` / ``release``)."""
        return Lease(self.db, run_id)

    def close(self) -> None:
        """Close the writer connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
