"""Schema migrations: named steps, recorded, applied once, atomic, safe to race."""

import sqlite3
import threading

import pytest

from imagegen.errors import StoreError
from imagegen.storage import migrations, rows
from imagegen.storage.columns import VIEW_COLUMNS
from imagegen.storage.migrations import MIGRATIONS, applied, check_schema, migrate, schema_version


def connect(path):
    conn = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def test_fresh_database_gets_every_step_recorded_by_name(tmp_path):
    conn = connect(tmp_path / "db.sqlite")
    done = migrate(conn)
    assert done == [fn.__name__ for fn in MIGRATIONS]
    assert applied(conn) == done
    assert migrate(conn) == []  # idempotent


def test_result_rows_view_has_exactly_the_shared_columns(tmp_path):
    conn = connect(tmp_path / "db.sqlite")
    migrate(conn)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(result_rows)")]
    assert tuple(cols) == VIEW_COLUMNS


def test_tables_have_foreign_keys_and_the_filter_indexes(tmp_path):
    conn = connect(tmp_path / "db.sqlite")
    migrate(conn)
    fk = {r[2] for r in conn.execute("PRAGMA foreign_key_list(results)")}
    assert fk == {"cells", "results"}
    indexed = {r[2] for r in conn.execute("SELECT * FROM sqlite_master WHERE type = 'index'")}
    for table in ("runs", "cells", "results", "images", "attempts"):
        assert table in indexed
    plan = " ".join(r[3] for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM runs WHERE provider = 'openai' AND model = 'x' ORDER BY created_at"))
    assert "runs_provider_model" in plan


def test_a_failing_step_rolls_back_and_is_not_recorded(tmp_path, monkeypatch):
    conn = connect(tmp_path / "db.sqlite")
    migrate(conn)

    def m999_broken(c):
        c.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, m999_broken])
    with pytest.raises(RuntimeError):
        migrate(conn)
    assert "m999_broken" not in applied(conn)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None


def test_a_new_step_applies_on_an_existing_database_keeping_rows(tmp_path, monkeypatch):
    conn = connect(tmp_path / "db.sqlite")
    migrate(conn)
    conn.execute("INSERT INTO runs (run_id, provider, model, spec_toml, requests, created_at)"
                 " VALUES ('r1', 'simulator', 'gpt-image-1.5', '', 1, '2026-11-25')")

    def m900_add_note(c):
        c.execute("ALTER TABLE runs ADD COLUMN note TEXT")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, m900_add_note])
    assert migrate(conn) == ["m900_add_note"]
    assert conn.execute("SELECT run_id, note FROM runs").fetchall() == [("r1", None)]


def test_two_connections_migrating_at_once_apply_each_step_once(tmp_path):
    path = tmp_path / "db.sqlite"
    connect(path).execute("PRAGMA journal_mode=WAL")
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def go():
        try:
            results.append(migrate(connect(path)))
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(sum(results, [])) == sorted(fn.__name__ for fn in MIGRATIONS)


def schema(conn) -> dict:
    """Everything a migration can change: each table's columns, indexes and foreign keys, each view's SQL."""
    out = {}
    for kind, name, sql in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"):
        if kind == "table":
            out[name] = ([tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({name})")],
                         sorted(tuple(r[2:]) for r in conn.execute(f"PRAGMA foreign_key_list({name})")))
        else:
            out[name] = " ".join((sql or "").split())
    return out


@pytest.mark.parametrize("steps", range(len(MIGRATIONS)))
def test_a_database_built_at_every_earlier_step_migrates_to_the_fresh_schema(tmp_path, steps):
    fresh = connect(tmp_path / "fresh.db")
    migrate(fresh)
    old = connect(tmp_path / f"at-{steps}.db")
    for fn in MIGRATIONS[:steps]:
        fn(old)
        applied(old)
        old.execute("INSERT INTO migrations (name, applied_at) VALUES (?, '2026-11-01')", (fn.__name__,))
    assert applied(old) == [fn.__name__ for fn in MIGRATIONS[:steps]]
    assert migrate(old) == [fn.__name__ for fn in MIGRATIONS[steps:]]
    assert schema(old) == schema(fresh)


def test_the_newest_frozen_view_is_the_single_row_definition(tmp_path):
    # A column added to rows.py without a new migration step (or the other way round) fails here.
    conn = connect(tmp_path / "db.sqlite")
    migrate(conn)
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'result_rows'").fetchone()
    assert " ".join(sql.split()) == " ".join(rows.view_sql().split())


def test_m002_holds_its_own_sql_not_live_code():
    import inspect

    source = inspect.getsource(migrations.m002_result_rows_view)
    assert "M002_VIEW" in source and "view_sql" not in source and "rows." not in source
    assert "CREATE VIEW result_rows" in migrations.M002_VIEW


def test_a_newer_schema_is_refused_naming_file_and_versions(tmp_path):
    path = tmp_path / "db.sqlite"
    conn = connect(path)
    migrate(conn)
    conn.execute("INSERT INTO migrations (name, applied_at) VALUES ('m999_from_the_future', '2027-01-01')")
    with pytest.raises(StoreError) as info:
        check_schema(conn, path)
    message = str(info.value)
    n, last = schema_version()
    assert str(path) in message and "m999_from_the_future" in message
    assert f"schema version {n + 1}" in message and f"version {n} ({last})" in message


def test_a_sqlite_file_that_is_not_ours_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="not an imagegen database.*customers"):
        check_schema(conn, path)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'migrations'").fetchone() is None
