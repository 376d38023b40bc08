"""Schema migrations of the run-history database, as named steps recorded in ``migrations``.

Each step is a function registered with ``@migration``; ``migrate(conn)`` applies, in file order,
every step whose name is not yet in the ``migrations`` table, each in its own transaction together
with its bookkeeping row. The *name* is the identity: never rename or edit an applied step, add a
new one. ``BEGIN IMMEDIATE`` plus a re-check makes two processes opening a fresh database at the
same time safe (the second waits, then finds nothing to do).

Frozen: a step holds its own SQL as text (m002's view too), never SQL built from live code, so a
database migrated years later gets exactly what a fresh one gets. Any later change is a new step;
``tests/test_migrations.py`` builds a database at every earlier step, migrates it and compares it
with a fresh one, and checks the newest view against ``rows.view_sql()`` (the single row definition).

``check_schema`` refuses, before anything is written or sent, a file that is not an imagegen database
and a database with steps this version does not know (written by a newer imagegen).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from imagegen.errors import StoreError

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


#: ``result_rows`` as m002 created it, frozen (what ``rows.view_sql()`` gave when the step was written).
M002_VIEW = """
    CREATE VIEW result_rows AS
    SELECT
        r.run_id AS "run_id",
        r.cell_id AS "cell_id",
        r.repeat AS "repeat",
        c.provider AS "provider",
        c.model AS "model",
        c.deployment AS "deployment",
        c.prompt AS "prompt",
        c.size AS "size",
        c.quality AS "quality",
        c.background AS "background",
        c.output_format AS "output_format",
        c.output_compression AS "output_compression",
        c.moderation AS "moderation",
        c.n AS "n",
        c.partial_images AS "partial_images",
        r.status AS "status",
        r.error_kind AS "error_kind",
        r.error_message AS "error_message",
        r.resolved_size AS "resolved_size",
        r.resolved_quality AS "resolved_quality",
        r.input_text_tokens AS "input_text_tokens",
        r.input_image_tokens AS "input_image_tokens",
        r.output_tokens AS "output_tokens",
        COALESCE(r.documented_output_tokens, CASE WHEN c.output_tokens_min = c.output_tokens_max THEN c.output_tokens_max END) AS "documented_output_tokens",
        c.estimated_cost_usd AS "estimated_cost_usd",
        r.cost_usd AS "cost_usd",
        r.latency_s AS "latency_s",
        r.first_partial_s AS "first_partial_s",
        r.attempts AS "attempts",
        i.bytes AS "image_bytes",
        i.width AS "image_width",
        i.height AS "image_height",
        i.path AS "image_path",
        r.request_id AS "request_id",
        r.simulated AS "simulated",
        r.created_at AS "created_at",
        r.result_id AS "result_id",
        u.name AS "run_name",
        c.stream AS "stream",
        c.coords AS "coords",
        r.output_text_tokens AS "output_text_tokens",
        c.estimated_cost_min_usd AS "estimated_cost_min_usd",
        r.cost_text_input_usd AS "cost_text_input_usd",
        r.cost_image_input_usd AS "cost_image_input_usd",
        r.cost_image_output_usd AS "cost_image_output_usd",
        r.cost_text_output_usd AS "cost_text_output_usd",
        r.price_entry AS "price_entry",
        r.processing_ms AS "processing_ms",
        r.reused AS "reused",
        g.stars AS "rating",
        i.sha256 AS "image_sha256"
    FROM results r
    JOIN cells c ON c.run_id = r.run_id AND c.cell_id = r.cell_id
    JOIN runs u ON u.run_id = r.run_id
    LEFT JOIN images i ON i.result_id = r.result_id AND i.idx = 0
    LEFT JOIN ratings g ON g.result_id = r.result_id
    """


@migration
def m002_result_rows_view(conn: sqlite3.Connection) -> None:
    # Frozen text: the view as this step first built it (later column changes are new steps).
    conn.execute("DROP VIEW IF EXISTS result_rows")
    conn.execute(M002_VIEW)


@migration
def m003_reservations_and_leases(conn: sqlite3.Connection) -> None:
    # reservations: committed before each request is sent, settled with its result in one transaction;
    # a 'sent' row with no answer after a crash is 'lost' and its amount counts as spent.
    # leases: one runner per run (owner token, pid, heartbeat; expired or dead owner = free).
    _run(conn, """
    CREATE TABLE reservations (
        reservation_id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        cell_id INTEGER NOT NULL,
        repeat INTEGER NOT NULL,
        amount_usd TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sent', 'answered', 'lost')),
        unbilled_usd TEXT NOT NULL DEFAULT '0',
        created_at TEXT NOT NULL,
        settled_at TEXT
    );
    CREATE INDEX reservations_run_status ON reservations(run_id, status);

    CREATE TABLE leases (
        run_id TEXT PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        acquired_at TEXT NOT NULL,
        heartbeat_at REAL NOT NULL,
        expires_at REAL NOT NULL
    )
    """)


@migration
def m005_votes_and_judge_scores(conn: sqlite3.Connection) -> None:
    # votes: blind pairwise comparisons of two results (issue 14); a skip is stored too (who saw what).
    # judge_scores: an automatic judge's rubric scores of one result, labelled with the judge and the
    # version of its prompt; never mixed with human votes. Its cost is also added to runs.cost_usd.
    _run(conn, """
    CREATE TABLE votes (
        vote_id INTEGER PRIMARY KEY,
        left_result_id INTEGER NOT NULL REFERENCES results(result_id) ON DELETE CASCADE,
        right_result_id INTEGER NOT NULL REFERENCES results(result_id) ON DELETE CASCADE,
        choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie', 'skip')),
        rater TEXT NOT NULL CHECK (length(rater) BETWEEN 1 AND 80),
        session TEXT,
        created_at TEXT NOT NULL,
        CHECK (left_result_id <> right_result_id)
    );
    CREATE INDEX votes_left ON votes(left_result_id);
    CREATE INDEX votes_right ON votes(right_result_id);
    CREATE INDEX votes_rater ON votes(rater, created_at);

    CREATE TABLE judge_scores (
        score_id INTEGER PRIMARY KEY,
        result_id INTEGER NOT NULL REFERENCES results(result_id) ON DELETE CASCADE,
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        judge TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_version TEXT NOT NULL,
        adherence INTEGER CHECK (adherence BETWEEN 1 AND 5),
        text_rendering INTEGER CHECK (text_rendering BETWEEN 1 AND 5),
        artifacts INTEGER CHECK (artifacts BETWEEN 1 AND 5),
        overall REAL,
        rationale TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cost_usd TEXT NOT NULL,
        estimated_cost_usd TEXT,
        price_entry TEXT NOT NULL,
        latency_s REAL,
        simulated INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE INDEX judge_scores_result ON judge_scores(result_id, judge, prompt_version);
    CREATE INDEX judge_scores_run ON judge_scores(run_id)
    """)



M006_VIEW = """    CREATE VIEW result_rows AS
    SELECT
        r.run_id AS "run_id",
        r.cell_id AS "cell_id",
        r.repeat AS "repeat",
        c.provider AS "provider",
        c.model AS "model",
        c.deployment AS "deployment",
        c.prompt AS "prompt",
        c.size AS "size",
        c.quality AS "quality",
        c.background AS "background",
        c.output_format AS "output_format",
        c.output_compression AS "output_compression",
        c.moderation AS "moderation",
        c.n AS "n",
        c.partial_images AS "partial_images",
        r.status AS "status",
        r.error_kind AS "error_kind",
        r.error_message AS "error_message",
        r.resolved_size AS "resolved_size",
        r.resolved_quality AS "resolved_quality",
        r.input_text_tokens AS "input_text_tokens",
        r.input_image_tokens AS "input_image_tokens",
        r.output_tokens AS "output_tokens",
        COALESCE(r.documented_output_tokens, CASE WHEN c.output_tokens_min = c.output_tokens_max THEN c.output_tokens_max END) AS "documented_output_tokens",
        c.estimated_cost_usd AS "estimated_cost_usd",
        r.cost_usd AS "cost_usd",
        r.latency_s AS "latency_s",
        r.first_partial_s AS "first_partial_s",
        r.attempts AS "attempts",
        i.bytes AS "image_bytes",
        i.width AS "image_width",
        i.height AS "image_height",
        i.path AS "image_path",
        r.request_id AS "request_id",
        r.simulated AS "simulated",
        r.created_at AS "created_at",
        r.replayed_from AS "replayed_from",
        r.result_id AS "result_id",
        u.name AS "run_name",
        c.stream AS "stream",
        c.coords AS "coords",
        r.output_text_tokens AS "output_text_tokens",
        c.estimated_cost_min_usd AS "estimated_cost_min_usd",
        r.cost_text_input_usd AS "cost_text_input_usd",
        r.cost_image_input_usd AS "cost_image_input_usd",
        r.cost_image_output_usd AS "cost_image_output_usd",
        r.cost_text_output_usd AS "cost_text_output_usd",
        r.price_entry AS "price_entry",
        r.processing_ms AS "processing_ms",
        r.reused AS "reused",
        g.stars AS "rating",
        i.sha256 AS "image_sha256"
    FROM results r
    JOIN cells c ON c.run_id = r.run_id AND c.cell_id = r.cell_id
    JOIN runs u ON u.run_id = r.run_id
    LEFT JOIN images i ON i.result_id = r.result_id AND i.idx = 0
    LEFT JOIN ratings g ON g.result_id = r.result_id

"""


@migration
def m006_replayed_from(conn: sqlite3.Connection) -> None:
    # A result a simulator served from a recording says so: "replayed from <run> (<date>, <provider>)".
    conn.execute("ALTER TABLE results ADD COLUMN replayed_from TEXT")
    conn.execute("DROP VIEW IF EXISTS result_rows")
    conn.execute(M006_VIEW)


#: The view as m007 built it (frozen text; later column changes are new steps).
M007_VIEW = """
    CREATE VIEW result_rows AS
    SELECT
        r.run_id AS "run_id",
        r.cell_id AS "cell_id",
        r.repeat AS "repeat",
        c.provider AS "provider",
        c.model AS "model",
        c.deployment AS "deployment",
        c.prompt AS "prompt",
        c.size AS "size",
        c.quality AS "quality",
        c.background AS "background",
        c.output_format AS "output_format",
        c.output_compression AS "output_compression",
        c.moderation AS "moderation",
        c.n AS "n",
        c.partial_images AS "partial_images",
        r.status AS "status",
        r.error_kind AS "error_kind",
        r.error_message AS "error_message",
        r.resolved_size AS "resolved_size",
        r.resolved_quality AS "resolved_quality",
        r.input_text_tokens AS "input_text_tokens",
        r.input_image_tokens AS "input_image_tokens",
        r.output_tokens AS "output_tokens",
        COALESCE(r.documented_output_tokens, CASE WHEN c.output_tokens_min = c.output_tokens_max THEN c.output_tokens_max END) AS "documented_output_tokens",
        c.estimated_cost_usd AS "estimated_cost_usd",
        r.cost_usd AS "cost_usd",
        r.latency_s AS "latency_s",
        r.first_partial_s AS "first_partial_s",
        r.attempts AS "attempts",
        i.bytes AS "image_bytes",
        i.width AS "image_width",
        i.height AS "image_height",
        i.path AS "image_path",
        r.request_id AS "request_id",
        r.simulated AS "simulated",
        r.created_at AS "created_at",
        r.replayed_from AS "replayed_from",
        c.complexity AS "complexity",
        c.token_status AS "token_status",
        r.sim_time_scale AS "sim_time_scale",
        r.sim_fixed_latency_s AS "sim_fixed_latency_s",
        CASE WHEN r.simulated = 1 AND r.sim_fixed_latency_s IS NULL AND r.sim_time_scale > 0 THEN r.latency_s / r.sim_time_scale END AS "modelled_latency_s",
        r.result_id AS "result_id",
        u.name AS "run_name",
        c.stream AS "stream",
        c.coords AS "coords",
        r.output_text_tokens AS "output_text_tokens",
        c.estimated_cost_min_usd AS "estimated_cost_min_usd",
        r.cost_text_input_usd AS "cost_text_input_usd",
        r.cost_image_input_usd AS "cost_image_input_usd",
        r.cost_image_output_usd AS "cost_image_output_usd",
        r.cost_text_output_usd AS "cost_text_output_usd",
        r.price_entry AS "price_entry",
        r.processing_ms AS "processing_ms",
        r.reused AS "reused",
        g.stars AS "rating",
        i.sha256 AS "image_sha256",
        CASE WHEN COALESCE(r.simulated, 0) = 0 THEN 'measured' WHEN r.sim_fixed_latency_s IS NOT NULL THEN 'simulated, fixed ' || r.sim_fixed_latency_s || ' s' WHEN r.sim_time_scale IS NULL THEN 'simulated, time scale not recorded' ELSE 'simulated, time scale ' || r.sim_time_scale END AS "latency_scale"
    FROM results r
    JOIN cells c ON c.run_id = r.run_id AND c.cell_id = r.cell_id
    JOIN runs u ON u.run_id = r.run_id
    LEFT JOIN images i ON i.result_id = r.result_id AND i.idx = 0
    LEFT JOIN ratings g ON g.result_id = r.result_id

"""


@migration
def m007_simulator_scale_and_complexity(conn: sqlite3.Connection) -> None:
    # Issue 11: each simulated result records the simulator's time scale (and fixed latency) it was
    # produced at, so latency statistics never mix scales; cells record gpt-image-2.6's complexity.
    # The view gains complexity, token_status, the two simulator columns, modelled_latency_s (wall
    # time scaled back to time scale 1) and latency_scale (which clock a latency is on).
    _run(conn, """
    ALTER TABLE cells ADD COLUMN complexity TEXT;
    ALTER TABLE results ADD COLUMN sim_time_scale REAL;
    ALTER TABLE results ADD COLUMN sim_fixed_latency_s REAL
    """)
    conn.execute("DROP VIEW IF EXISTS result_rows")
    conn.execute(M007_VIEW)

M008_VIEW = """
    CREATE VIEW result_rows AS
    SELECT
        r.run_id AS "run_id",
        r.cell_id AS "cell_id",
        r.repeat AS "repeat",
        c.provider AS "provider",
        c.model AS "model",
        c.deployment AS "deployment",
        c.prompt AS "prompt",
        c.size AS "size",
        c.quality AS "quality",
        c.background AS "background",
        c.output_format AS "output_format",
        c.output_compression AS "output_compression",
        c.moderation AS "moderation",
        c.n AS "n",
        c.partial_images AS "partial_images",
        r.status AS "status",
        r.error_kind AS "error_kind",
        r.error_message AS "error_message",
        r.resolved_size AS "resolved_size",
        r.resolved_quality AS "resolved_quality",
        r.input_text_tokens AS "input_text_tokens",
        r.input_image_tokens AS "input_image_tokens",
        r.output_tokens AS "output_tokens",
        COALESCE(r.documented_output_tokens, CASE WHEN c.output_tokens_min = c.output_tokens_max THEN c.output_tokens_max END) AS "documented_output_tokens",
        c.estimated_cost_usd AS "estimated_cost_usd",
        r.cost_usd AS "cost_usd",
        r.latency_s AS "latency_s",
        r.first_partial_s AS "first_partial_s",
        r.attempts AS "attempts",
        i.bytes AS "image_bytes",
        i.width AS "image_width",
        i.height AS "image_height",
        i.path AS "image_path",
        r.request_id AS "request_id",
        r.simulated AS "simulated",
        r.created_at AS "created_at",
        r.replayed_from AS "replayed_from",
        c.complexity AS "complexity",
        c.token_status AS "token_status",
        r.sim_time_scale AS "sim_time_scale",
        r.sim_fixed_latency_s AS "sim_fixed_latency_s",
        CASE WHEN r.simulated = 1 AND r.sim_fixed_latency_s IS NULL AND r.sim_time_scale > 0 THEN r.latency_s / r.sim_time_scale END AS "modelled_latency_s",
        (SELECT group_concat(v, ' ') FROM (SELECT x.role || ':' || x.sha256 AS v FROM run_inputs x WHERE x.run_id = r.run_id ORDER BY x.position)) AS "input_sha256",
        r.result_id AS "result_id",
        u.name AS "run_name",
        c.stream AS "stream",
        c.coords AS "coords",
        r.output_text_tokens AS "output_text_tokens",
        c.estimated_cost_min_usd AS "estimated_cost_min_usd",
        r.cost_text_input_usd AS "cost_text_input_usd",
        r.cost_image_input_usd AS "cost_image_input_usd",
        r.cost_image_output_usd AS "cost_image_output_usd",
        r.cost_text_output_usd AS "cost_text_output_usd",
        r.price_entry AS "price_entry",
        r.processing_ms AS "processing_ms",
        r.reused AS "reused",
        g.stars AS "rating",
        i.sha256 AS "image_sha256",
        CASE WHEN COALESCE(r.simulated, 0) = 0 THEN 'measured' WHEN r.sim_fixed_latency_s IS NOT NULL THEN 'simulated, fixed ' || r.sim_fixed_latency_s || ' s' WHEN r.sim_time_scale IS NULL THEN 'simulated, time scale not recorded' ELSE 'simulated, time scale ' || r.sim_time_scale END AS "latency_scale"
    FROM results r
    JOIN cells c ON c.run_id = r.run_id AND c.cell_id = r.cell_id
    JOIN runs u ON u.run_id = r.run_id
    LEFT JOIN images i ON i.result_id = r.result_id AND i.idx = 0
    LEFT JOIN ratings g ON g.result_id = r.result_id
"""


@migration
def m008_edit_inputs(conn: sqlite3.Connection) -> None:
    # Issue 13: the input images and mask of an edit run, stored once by content hash in images/ (like
    # outputs) and linked to the run whose every result used them; the view lists their hashes.
    _run(conn, """
    CREATE TABLE run_inputs (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('image', 'mask')),
        source TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        format TEXT NOT NULL,
        PRIMARY KEY (run_id, position)
    );
    CREATE INDEX run_inputs_sha ON run_inputs(sha256)
    """)
    conn.execute("DROP VIEW IF EXISTS result_rows")
    conn.execute(M008_VIEW)


@migration
def m009_markup_inputs(conn: sqlite3.Connection) -> None:
    # Issue 13 item 2: gpt-image-2.5's markup PNG is stored like the mask (role 'markup'); SQLite cannot
    # alter a CHECK, so the table is rebuilt with its rows (the view is dropped and recreated around it).
    conn.execute("DROP VIEW IF EXISTS result_rows")
    _run(conn, """
    CREATE TABLE run_inputs_new (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('image', 'mask', 'markup')),
        source TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        format TEXT NOT NULL,
        PRIMARY KEY (run_id, position)
    );
    INSERT INTO run_inputs_new SELECT run_id, position, role, source, sha256, path, bytes, width, height, format
        FROM run_inputs;
    DROP TABLE run_inputs;
    ALTER TABLE run_inputs_new RENAME TO run_inputs;
    CREATE INDEX run_inputs_sha ON run_inputs(sha256)
    """)
    conn.execute(M008_VIEW)


def schema_version() -> tuple[int, str]:
    """(number of steps, name of the last step) this version of imagegen knows."""
    return len(MIGRATIONS), MIGRATIONS[-1].__name__


def check_schema(conn: sqlite3.Connection, path: Path | str) -> None:
    """Raise ``StoreError`` unless ``conn`` is empty or an imagegen database this version can migrate."""
    known_n, known_last = schema_version()
    try:
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
        names = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY rowid")] \
            if "migrations" in tables else []
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not an imagegen database ({exc}). Fix: point IMAGEGEN_HOME / --home at "
                         "another directory, or move the file away.") from None
    if not tables:
        return
    if "migrations" not in tables:
        shown = ", ".join(sorted(tables)[:6])
        raise StoreError(f"{path} is a SQLite file that is not an imagegen database (tables: {shown}; no "
                         f"migrations table). This imagegen writes schema version {known_n} ({known_last}). "
                         "Fix: point IMAGEGEN_HOME / --home at another directory, or move the file away.")
    known = {fn.__name__ for fn in MIGRATIONS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise StoreError(f"{path} has schema version {len(names)} (last step {names[-1]}), newer than this "
                         f"imagegen's version {known_n} ({known_last}); unknown steps: {', '.join(unknown)}. "
                         "Fix: upgrade imagegen, or use another IMAGEGEN_HOME / --home.")


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

