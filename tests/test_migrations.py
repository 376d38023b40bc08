"""Schema migrations: named steps, recorded, applied once, atomic, safe to race."""

import sqlite3
import threading

import pytest

from imagegen.storage import migrations
from imagegen.storage.columns import EXPORT_COLUMNS, EXTRA_COLUMNS
from imagegen.storage.migrations import MIGRATIONS, applied, migrate


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
    assert tuple(cols) == EXPORT_COLUMNS + EXTRA_COLUMNS


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
