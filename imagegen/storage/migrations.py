"""Schema migrations of the run-history database, as named steps recorded in ``migrations``.

Each step is a function registered with ``@migration``; ``migrate(conn)`` applies, in file order,
every step whose name is not yet in the ``migrations`` table, each in its own transaction together
with its bookkeeping row. The *name* is the identity: never rename or edit an applied step, add a
new one. ``BEGIN IMMEDIATE`` plus a re-check makes two processes opening a fresh database at the
same time safe (the second waits, then finds nothing to do).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from imagegen.storage.columns import EXPORT_COLUMNS, EXTRA_COLUMNS

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []


def migration(fn: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    """Register a migration step (file order is apply order)."""
    MIGRATIONS.append(fn)
    return fn


def _run(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT our transaction; run statement by statement instead.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


@migration
def m001_initial(conn: sqlite3.Connection) -> None:
    _run(conn, """
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        spec_toml TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'running',
        simulated INTEGER NOT NULL DEFAULT 0,
        requests INTEGER NOT NULL,
        repeats INTEGER NOT NULL DEFAULT 1,
        estimate_min_usd TEXT,
        estimate_max_usd TEXT,
        budget_usd TEXT,
        cost_usd TEXT NOT NULL DEFAULT '0',
        created_at TEXT NOT NULL,
        finished_at TEXT,
        wall_s REAL
    );
    CREATE INDEX runs_created_at ON runs(created_at);
    CREATE INDEX runs_provider_model ON runs(provider, model, created_at);

    CREATE TABLE cells (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        cell_id INTEGER NOT NULL,
        coords TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        deployment TEXT,
        prompt TEXT NOT NULL,
        size TEXT, quality TEXT, background TEXT, output_format TEXT, output_compression INTEGER,
        moderation TEXT, n INTEGER, stream INTEGER, partial_images INTEGER, operation TEXT, input_fidelity TEXT,
        request_key TEXT NOT NULL,
        estimated_cost_min_usd TEXT,
        estimated_cost_usd TEXT,
        estimate_price_entry TEXT,
        output_tokens_min INTEGER,
        output_tokens_max INTEGER,
        token_status TEXT,
        PRIMARY KEY (run_id, cell_id)
    );
    CREATE INDEX cells_provider_model ON cells(provider, model, run_id);
    CREATE INDEX cells_request_key ON cells(request_key);

    CREATE TABLE results (
        result_id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        cell_id INTEGER NOT NULL,
        repeat INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'cancelled', 'skipped')),
        error_kind TEXT,
        error_message TEXT,
        http_status INTEGER,
        resolved_size TEXT, resolved_quality TEXT, resolved_background TEXT, received_format TEXT,
        input_text_tokens INTEGER, input_image_tokens INTEGER, output_tokens INTEGER, output_text_tokens INTEGER,
        documented_output_tokens INTEGER,
        cost_usd TEXT,
        cost_text_input_usd TEXT, cost_image_input_usd TEXT, cost_image_output_usd TEXT, cost_text_output_usd TEXT,
        price_entry TEXT,
        latency_s REAL,
        first_partial_s REAL,
        elapsed_s REAL,
        processing_ms INTEGER,
        partial_images_received INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        request_id TEXT,
        simulated INTEGER NOT NULL DEFAULT 0,
        reused INTEGER NOT NULL DEFAULT 0,
        reused_from INTEGER REFERENCES results(result_id) ON DELETE SET NULL,
        usage_json TEXT,
        ratelimit_json TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (run_id, cell_id, repeat),
        FOREIGN KEY (run_id, cell_id) REFERENCES cells(run_id, cell_id) ON DELETE CASCADE
    );
    CREATE INDEX results_created_at ON results(created_at);
    CREATE INDEX results_reused_from ON results(reused_from);

    CREATE TABLE images (
        result_id INTEGER NOT NULL REFERENCES results(result_id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        format TEXT,
        PRIMARY KEY (result_id, idx)
    );
    CREATE INDEX images_sha256 ON images(sha256);

    CREATE TABLE attempts (
        attempt_id INTEGER PRIMARY KEY,
        result_id INTEGER NOT NULL REFERENCES results(result_id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        wall_s REAL NOT NULL,
        ok INTEGER NOT NULL,
        error_kind TEXT,
        error_message TEXT,
        http_status INTEGER,
        retry_after_s REAL,
        request_id TEXT
    );
    CREATE INDEX attempts_result_id ON attempts(result_id);

    CREATE TABLE ratings (
        result_id INTEGER PRIMARY KEY REFERENCES results(result_id) ON DELETE CASCADE,
        stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
        rated_at TEXT NOT NULL
    )
    """)


#: SQL expression of every ``result_rows`` column (r = results, c = cells, u = runs, i = first image).
VIEW_EXPRESSIONS = {
    "run_id": "r.run_id", "cell_id": "r.cell_id", "repeat": "r.repeat",
    "provider": "c.provider", "model": "c.model", "deployment": "c.deployment", "prompt": "c.prompt",
    "size": "c.size", "quality": "c.quality", "background": "c.background", "output_format": "c.output_format",
    "output_compression": "c.output_compression", "moderation": "c.moderation", "n": "c.n",
    "partial_images": "c.partial_images", "status": "r.status", "error_kind": "r.error_kind",
    "error_message": "r.error_message", "resolved_size": "r.resolved_size", "resolved_quality": "r.resolved_quality",
    "input_text_tokens": "r.input_text_tokens", "input_image_tokens": "r.input_image_tokens",
    "output_tokens": "r.output_tokens",
    "documented_output_tokens": "COALESCE(r.documented_output_tokens, CASE WHEN c.output_tokens_min = "
                                "c.output_tokens_max THEN c.output_tokens_max END)",
    "estimated_cost_usd": "c.estimated_cost_usd", "cost_usd": "r.cost_usd", "latency_s": "r.latency_s",
    "first_partial_s": "r.first_partial_s", "attempts": "r.attempts", "image_bytes": "i.bytes",
    "image_width": "i.width", "image_height": "i.height", "image_path": "i.path", "request_id": "r.request_id",
    "simulated": "r.simulated", "created_at": "r.created_at",
    "result_id": "r.result_id", "run_name": "u.name", "stream": "c.stream", "coords": "c.coords",
    "output_text_tokens": "r.output_text_tokens", "estimated_cost_min_usd": "c.estimated_cost_min_usd",
    "cost_text_input_usd": "r.cost_text_input_usd", "cost_image_input_usd": "r.cost_image_input_usd",
    "cost_image_output_usd": "r.cost_image_output_usd", "cost_text_output_usd": "r.cost_text_output_usd",
    "price_entry": "r.price_entry", "processing_ms": "r.processing_ms", "reused": "r.reused",
    "rating": "g.stars", "image_sha256": "i.sha256",
}
assert tuple(VIEW_EXPRESSIONS) == EXPORT_COLUMNS + EXTRA_COLUMNS, "result_rows must follow imagegen/columns.py"


def result_rows_sql() -> str:
    """``CREATE VIEW result_rows``: one row per cell x repeat result, columns from ``columns.py``."""
    select = ",\n        ".join(f'{expr} AS "{name}"' for name, expr in VIEW_EXPRESSIONS.items())
    return f"""
    CREATE VIEW result_rows AS
    SELECT
        {select}
    FROM results r
    JOIN cells c ON c.run_id = r.run_id AND c.cell_id = r.cell_id
    JOIN runs u ON u.run_id = r.run_id
    LEFT JOIN images i ON i.result_id = r.result_id AND i.idx = 0
    LEFT JOIN ratings g ON g.result_id = r.result_id
    """


@migration
def m002_result_rows_view(conn: sqlite3.Connection) -> None:
    conn.execute("DROP VIEW IF EXISTS result_rows")
    conn.execute(result_rows_sql())


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the applied steps, in the order they were applied."""
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    return [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY rowid")]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply every pending step; return the names applied now. ``conn`` must be in autocommit mode."""
    done = set(applied(conn))
    now_applied: list[str] = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the write lock.
            if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (fn.__name__,)).fetchone():
                conn.execute("COMMIT")
                continue
            fn(conn)
            conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                         (fn.__name__, datetime.now(UTC).isoformat(timespec="seconds")))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        now_applied.append(fn.__name__)
    return now_applied
