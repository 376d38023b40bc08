"""The SQLite file of the run history: connections, the writer lock, the schema check and migrations.

SQLite runs in WAL mode with foreign keys on and a busy timeout. One writer connection guarded by a
lock serves every thread (``Database.write()`` is one ``BEGIN IMMEDIATE`` transaction); reads open a
short-lived read-only connection (``Database.read()``), so the dashboard never waits for the writer.
A file that is not ours, or a schema newer than this code, is refused before anything is written
(SQLite itself reads the header: the file is never opened by Python, which would drop SQLite's locks).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from imagegen.core.paths import data_home
from imagegen.errors import StoreError
from imagegen.storage.migrations import check_schema, migrate

DB_NAME = "imagegen.db"


def default_home() -> Path:
    """The data directory: ``$IMAGEGEN_HOME`` or ``.imagegen/`` in the checkout (read at call time; one
    resolution, :func:`imagegen.core.paths.data_home`, shared with the price overrides)."""
    return data_home()


def now_iso() -> str:
    """UTC timestamp, sortable as text (every ``created_at``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def decimal_text(value: Decimal | None) -> str | None:
    """Exact decimal string without exponent (``Decimal('0E-7')`` -> ``'0.0000000'``)."""
    return None if value is None else format(value, "f")


class Database:
    """One ``imagegen.db``: the writer connection (thread-safe through a lock) and read connections."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = self.connect()
        check_schema(self.conn, self.path)
        migrate(self.conn)

    def connect(self, readonly: bool = False) -> sqlite3.Connection:
        """A new connection with the project's pragmas (read-only ones cannot write by mistake)."""
        try:
            if readonly:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30,
                                       isolation_level=None, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives process crashes
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.DatabaseError as exc:
            # SQLite reads the header first and writes nothing to a file that is not a database. (Never
            # open the file with Python to look: closing that descriptor drops this process's SQLite locks.)
            if "not a database" in str(exc):
                raise StoreError(f"{self.path} is not a SQLite database, so not an imagegen database. Fix: point "
                                 "IMAGEGEN_HOME / --home at another directory, or move the file away.") from None
            raise StoreError(f"cannot open the database {self.path} ({exc}). "
                             "Fix: check IMAGEGEN_HOME and that the file is not corrupted.") from None
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self.path} ({exc}). "
                             "Fix: check IMAGEGEN_HOME and that the file is not corrupted.") from None
        return conn

    def close(self) -> None:
        """Close the writer connection."""
        with self.lock:
            self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the writer connection (rolled back on any exception)."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A short-lived read-only connection."""
        conn = self.connect(readonly=True)
        try:
            yield conn
        finally:
            conn.close()

    def resolve_run_id(self, run_id: str) -> str:
        """``latest`` -> the newest run id; any other id must exist."""
        home = self.path.parent
        with self.read() as conn:
            if run_id == "latest":
                row = conn.execute("SELECT run_id FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1").fetchone()
                if row is None:
                    raise StoreError(f"no runs in {home}. Fix: `python -m imagegen run SPEC` first.")
                return row[0]
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
                raise StoreError(f"run {run_id!r} not found in {home}. "
                                 "Fix: list runs with `python -m imagegen runs`, or check IMAGEGEN_HOME / --home.")
        return run_id
