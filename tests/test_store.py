"""The run-history store: rows, original image bytes, the result_rows view, reads for the UI."""

import io
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from PIL import Image

from imagegen.core.catalog import default_catalog
from imagegen.core.grid import estimate_grid, loads_spec
from imagegen.core.pricing import Usage, billed_cost
from imagegen.core.results import Attempt, Generation
from imagegen.errors import StoreError
from imagegen.storage.columns import EXPORT_COLUMNS, VIEW_COLUMNS
from imagegen.storage.store import ResultRecord, Store, decimal_text, default_home, file_format, request_key
from tests.clock import TODAY

SPEC = """
name = "store test"
provider = "simulator"
model = "gpt-image-1.5"
prompts = ["a red fox"]
repeats = 2
[axes]
quality = ["low", "high"]
[params]
size = "1024x1024"
"""


def image_bytes(fmt: str, color=(200, 30, 30), size=(32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt.upper())
    return buf.getvalue()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "home")
    yield s
    s.close()


def make_run(store: Store, spec_text: str = SPEC, simulated: bool = True):
    spec = loads_spec(spec_text)
    grid = estimate_grid(spec, default_catalog(), TODAY)
    return store.create_run(spec, grid, simulated=simulated), grid


def ok_record(store, run_id, grid, cell_id, repeat, data=None, output_tokens=272, simulated=True, fmt="png"):
    req = grid.cells[cell_id].request
    usage = {"input_tokens": 5, "input_tokens_details": {"text_tokens": 5, "image_tokens": 0},
             "output_tokens": output_tokens}
    gen = Generation(images=(data or image_bytes(fmt),), output_format=fmt, resolved_quality=req.quality,
                     resolved_size=req.size, resolved_background="opaque", usage=usage, wall_s=1.25, final_s=1.25,
                     request_id=f"req_{cell_id}_{repeat}", simulated=simulated, processing_ms=1100)
    billed = billed_cost(Usage.from_api(usage), req, default_catalog(), req.quality, req.size, TODAY)
    attempts = [Attempt(1, time.time(), 0.3, False, "rate_limited", "slow down", 429, 0.1),
                Attempt(2, time.time(), 1.25, True, request_id=gen.request_id)]
    rec = ResultRecord(run_id, cell_id, repeat, "ok", attempts=attempts, generation=gen, billed=billed,
                       elapsed_s=1.7, simulated=simulated)
    return store.record_result(rec), billed


def test_default_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("IMAGEGEN_HOME", str(tmp_path / "elsewhere"))
    assert default_home() == tmp_path / "elsewhere"
    assert Store().home == tmp_path / "elsewhere"
    monkeypatch.delenv("IMAGEGEN_HOME")
    assert default_home().name == ".imagegen"


def test_database_runs_in_wal_with_foreign_keys(store):
    conn = sqlite3.connect(store.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_result_is_stored_with_original_bytes_under_its_hash(store):
    run_id, grid = make_run(store)
    data = image_bytes("jpeg")  # asked for png, received jpeg: the file says what it really is
    rid, billed = ok_record(store, run_id, grid, 0, 0, data=data)
    row = store.result_row(rid)
    path = store.image_path(row["image_sha256"])
    assert path.suffix == ".jpg" and path.read_bytes() == data
    assert path.stem == row["image_sha256"]
    assert row["image_bytes"] == len(data) and (row["image_width"], row["image_height"]) == (32, 24)
    assert row["cost_usd"] == decimal_text(billed.cost.total)
    assert Decimal(row["cost_usd"]) == billed.cost.total  # exact, not a float
    assert row["price_entry"] == billed.cost.price_key
    assert row["attempts"] == 2 and row["simulated"] == 1 and row["reused"] == 0
    assert json.loads(row["coords"]) == {"quality": "low"}
    attempts = store.attempts(rid)
    assert attempts["error_kind"].iloc[0] == "rate_limited" and attempts["ok"].tolist() == [0, 1]
    assert store.run(run_id)["cost_usd"] == decimal_text(billed.cost.total)


def test_identical_images_are_written_once(store):
    run_id, grid = make_run(store)
    data = image_bytes("png")
    ok_record(store, run_id, grid, 0, 0, data=data)
    ok_record(store, run_id, grid, 0, 1, data=data)
    files = list((store.home / "images").rglob("*.png"))
    assert len(files) == 1


def test_file_format_reads_the_bytes():
    assert file_format(image_bytes("png")) == "png"
    assert file_format(image_bytes("jpeg")) == "jpeg"
    assert file_format(image_bytes("webp")) == "webp"
    assert file_format(b"garbage") == "bin"


def test_result_rows_view_columns_and_non_ok_rows(store):
    run_id, grid = make_run(store)
    store.record_results([ResultRecord(run_id, 1, 0, "cancelled", error_message="cancelled before it was sent")])
    store.record_result(ResultRecord(run_id, 1, 1, "error", error_kind="moderation", error_message="blocked",
                                     http_status=400, attempts=[Attempt(1, time.time(), 0.2, False, "moderation",
                                                                        "blocked", 400)]))
    df = store.results(run_id)
    assert tuple(df.columns) == VIEW_COLUMNS
    assert df["status"].tolist() == ["cancelled", "error"]
    assert df["cost_usd"].tolist() == ["0", "0"]
    assert df["estimated_cost_usd"].iloc[0] == decimal_text(grid.estimates[1].cost_usd_max)
    assert df["documented_output_tokens"].iloc[0] == grid.estimates[1].output_tokens_max


def test_rerecording_a_cell_replaces_it_but_never_gives_its_cost_back(store):
    run_id, grid = make_run(store)
    store.record_results([ResultRecord(run_id, 0, 0, "cancelled")])
    _, billed = ok_record(store, run_id, grid, 0, 0)
    assert store.result_statuses(run_id) == {(0, 0): "ok"}
    _, billed2 = ok_record(store, run_id, grid, 0, 0, output_tokens=300)
    assert store.result_statuses(run_id) == {(0, 0): "ok"}
    # Both requests were paid: what the run spent counts both (a redo never frees budget).
    assert Decimal(store.run(run_id)["cost_usd"]) == billed.cost.total + billed2.cost.total


def test_reuse_copies_figures_and_images_at_zero_cost(store):
    run_id, grid = make_run(store)
    src, _ = ok_record(store, run_id, grid, 0, 0)
    run2, _ = make_run(store)
    key = request_key(grid.cells[0].request)
    assert store.reuse_candidates(key, exclude_run=run2) == [src]
    rid = store.record_reuse(run2, 0, 0, src)
    row, orig = store.result_row(rid), store.result_row(src)
    assert row["reused"] == 1 and row["cost_usd"] == "0"
    assert row["image_sha256"] == orig["image_sha256"] and row["output_tokens"] == orig["output_tokens"]
    assert store.reuse_candidates(key, exclude_run=None) == [src]  # a reused row is never a source


def test_rating_set_change_clear_and_refuse(store):
    run_id, grid = make_run(store)
    rid, _ = ok_record(store, run_id, grid, 0, 0)
    store.rate(rid, 4)
    store.rate(rid, 5)
    assert store.result_row(rid)["rating"] == 5
    store.rate(rid, None)
    assert store.result_row(rid)["rating"] is None
    for bad in (0, 6, 2.5, True):
        with pytest.raises(StoreError, match="1..5"):
            store.rate(rid, bad)
    with pytest.raises(StoreError, match="not found"):
        store.rate(99999, 3)


def test_rename_and_latest(store):
    first, _ = make_run(store)
    second, _ = make_run(store)
    assert store.resolve_run_id("latest") == second
    store.rename_run(first, "renamed")
    assert store.run(first)["name"] == "renamed"
    with pytest.raises(StoreError, match="not found"):
        store.run("nope")


def test_delete_run_removes_only_unshared_images(store):
    run_a, grid = make_run(store)
    run_b, _ = make_run(store)
    shared, only_a = image_bytes("png", (1, 2, 3)), image_bytes("png", (9, 9, 9))
    ok_record(store, run_a, grid, 0, 0, data=shared)
    rid_a, _ = ok_record(store, run_a, grid, 0, 1, data=only_a)
    ok_record(store, run_b, grid, 0, 0, data=shared)
    sha_a = store.result_row(rid_a)["image_sha256"]
    store.thumbnail(sha_a)
    path_a, path_shared = store.image_path(sha_a), store.home / store.results(run_b)["image_path"].iloc[0]
    assert store.delete_run(run_a) == 1
    assert not path_a.exists() and path_shared.exists()
    assert not list(store.thumbs_dir.glob(f"{sha_a}-*"))
    assert store.count_runs() == 1
    assert store.query("SELECT COUNT(*) AS n FROM attempts")["n"].iloc[0] == 2  # only run_b's


def test_thumbnail_is_small_and_cached(store, monkeypatch):
    run_id, grid = make_run(store)
    rid, _ = ok_record(store, run_id, grid, 0, 0, data=image_bytes("png", size=(1536, 1024)))
    sha = store.result_row(rid)["image_sha256"]
    thumb = store.thumbnail(sha, max_px=128)
    with Image.open(io.BytesIO(thumb)) as im:
        assert max(im.size) == 128 and im.size == (128, 85)

    def no_decode(*a, **k):
        raise AssertionError("decoded the full image again")

    monkeypatch.setattr(Image, "open", no_decode)
    assert store.thumbnail(sha, max_px=128) == thumb


def test_image_path_refuses_escaping_the_home(store):
    with pytest.raises(StoreError, match="outside"):
        store.image_path("../../etc/passwd")


def test_runs_listing_totals_and_filters(store):
    run_a, grid = make_run(store)
    ok_record(store, run_a, grid, 0, 0)
    ok_record(store, run_a, grid, 1, 0)
    store.record_result(ResultRecord(run_a, 0, 1, "error", error_kind="server_error", error_message="500"))
    store.finish_run(run_a, "finished", 3.5)
    run_b, _ = make_run(store, SPEC.replace('"store test"', '"other"').replace("gpt-image-1.5", "gpt-image-1-mini"))
    df = store.runs()
    assert df["run_id"].tolist() == [run_b, run_a]
    a = df.set_index("run_id").loc[run_a]
    assert (a["results"], a["ok"], a["errors"], a["cells"], a["requests"]) == (3, 2, 1, 2, 4)
    assert a["median_latency_s"] == pytest.approx(1.25) and a["status"] == "finished"
    assert Decimal(a["cost_usd"]) > 0 and a["simulated"] == 1 and "gpt-image-1.5" in a["spec_toml"]
    assert store.runs(model="gpt-image-1-mini")["run_id"].tolist() == [run_b]
    assert store.runs(name_like="store")["run_id"].tolist() == [run_a]
    assert store.count_runs(provider="openai") == 0 and store.count_runs(provider="simulator") == 2
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert store.count_runs(since=tomorrow) == 0 and store.count_runs(until=tomorrow.date()) == 2
    assert store.runs(limit=1, offset=1)["run_id"].tolist() == [run_a]


def test_query_is_read_only(store):
    make_run(store)
    assert store.query("SELECT COUNT(*) AS n FROM runs")["n"].iloc[0] == 1
    with pytest.raises(StoreError):
        store.query("DELETE FROM runs")
    assert store.count_runs() == 1


def test_export_csv_and_json(store, tmp_path):
    run_id, grid = make_run(store)
    ok_record(store, run_id, grid, 0, 0)
    store.record_results([ResultRecord(run_id, 1, 0, "skipped", error_message="over budget")])
    text = store.export("latest", "csv")
    lines = text.splitlines()
    assert lines[0].split(",") == list(EXPORT_COLUMNS)
    assert len(lines) == 3
    rows = json.loads(store.export(run_id, "json"))
    assert [r["status"] for r in rows] == ["ok", "skipped"]
    assert rows[0]["simulated"] == 1
    assert (store.home / "images").resolve().as_posix() in rows[0]["image_path"]
    with pytest.raises(StoreError, match="csv or json"):
        store.export(run_id, "xlsx")


JA_PROMPT = "F1レーサーを躍動感あるように描いて。\n二行目, \"引用\""


def test_excel_csv_starts_with_the_bom_and_round_trips_japanese_with_rating_and_price_entry(store):
    import csv

    run_id, grid = make_run(store, SPEC.replace('prompts = ["a red fox"]', f"prompts = [{json.dumps(JA_PROMPT)}]"))
    result_id, billed = ok_record(store, run_id, grid, 0, 0)
    ok_record(store, run_id, grid, 1, 0)
    store.rate(result_id, 4)
    data = store.export(run_id, "csv", excel=True).encode("utf-8")  # what the download and --excel write
    assert data.startswith(b"\xef\xbb\xbf")
    assert not store.export(run_id, "csv").encode("utf-8").startswith(b"\xef\xbb\xbf")  # plain: no BOM
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))  # how Excel reads a CSV with a BOM
    assert list(rows[0]) == list(EXPORT_COLUMNS) and {"rating", "price_entry"} <= set(rows[0])
    assert [r["prompt"] for r in rows] == [JA_PROMPT, JA_PROMPT]
    assert [r["rating"] for r in rows] == ["4", ""]  # the stars given; empty = not rated
    assert rows[0]["price_entry"] == billed.cost.price_key and "gpt-image-1.5@" in billed.cost.price_key
    with pytest.raises(StoreError, match="CSV only"):
        store.export(run_id, "json", excel=True)


def test_writes_from_many_threads_all_land(store):
    import threading

    run_id, _ = make_run(store, SPEC.replace("repeats = 2", "repeats = 50"))
    def write(rep):
        store.record_result(ResultRecord(run_id, 0, rep, "error", error_kind="timeout", error_message="t"))
    threads = [threading.Thread(target=write, args=(r,)) for r in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.result_statuses(run_id)) == 50


@pytest.mark.slow
def test_reads_stay_fast_with_100k_result_rows(store):
    """Results and Analytics filter on provider, model, created_at and run_id: they must not scan slowly."""
    run_ids = [make_run(store)[0] for _ in range(5)]
    conn = store._conn
    conn.execute("BEGIN")
    for k, run_id in enumerate(run_ids):  # 5 runs x 2 cells x 10,000 repeats = 100,000 rows
        conn.execute(
            "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < 19999)"
            " INSERT INTO results (run_id, cell_id, repeat, status, cost_usd, latency_s, output_tokens, created_at,"
            " simulated) SELECT ?, i % 2, i / 2 + 100, 'ok', '0.01', 1.0 + (i % 7), 272, ?, 1 FROM seq",
            (run_id, f"2026-11-{10 + k:02d}T00:00:00.000+00:00"))
    conn.execute("COMMIT")
    assert store.query("SELECT COUNT(*) AS n FROM result_rows")["n"].iloc[0] == 100_000

    def timed(fn):
        t = time.perf_counter()
        out = fn()
        return time.perf_counter() - t, out

    t_runs, df = timed(lambda: store.runs(limit=100))
    assert df["results"].sum() == 100_000
    t_one, one = timed(lambda: store.results(run_ids[2]))
    assert len(one) == 20_000
    t_agg, agg = timed(lambda: store.query(
        "SELECT quality, COUNT(*) AS n, AVG(latency_s) AS mean_latency FROM result_rows"
        " WHERE provider = ? AND model = ? AND created_at >= ? GROUP BY quality",
        ("simulator", "gpt-image-1.5", "2026-11-12")))
    assert agg["n"].sum() == 60_000
    assert t_runs < 1.0 and t_one < 1.5 and t_agg < 1.0, (t_runs, t_one, t_agg)


def photo_like_png(width: int = 1536, height: int = 1024) -> bytes:
    """About the size of a real 1536x1024 gpt-image PNG (~3 MB): gradients plus sensor-like noise."""
    import numpy as np

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 // width), (y * 255 // height), ((x + y) * 255 // (width + height))], axis=-1)
    buf = io.BytesIO()
    Image.fromarray((base + rng.integers(0, 24, size=(height, width, 3))).clip(0, 255).astype("uint8")).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.slow
def test_client_overhead_per_1536x1024_png_is_under_20_ms(store):
    """Decode (the provider's own base64 decoder), sha256, write and insert+commit, per image."""
    import base64

    from imagegen.execution.providers.sdk import decode_image

    png = photo_like_png()
    assert len(png) > 2_500_000
    run_id, _ = make_run(store, SPEC.replace("repeats = 2", "repeats = 20"))
    payloads = [base64.b64encode(png[:-16] + i.to_bytes(16, "big")).decode() for i in range(15)]
    times = []
    for i, b64 in enumerate(payloads):
        t = time.perf_counter()
        data = decode_image(b64)
        gen = Generation(images=(data,), output_format="png", resolved_quality="low", resolved_size="1536x1024",
                         resolved_background="opaque", usage=None, wall_s=0, final_s=0)
        store.record_result(ResultRecord(run_id, 0, i, "ok", generation=gen))
        times.append(time.perf_counter() - t)
    median_ms = sorted(times)[len(times) // 2] * 1000
    assert len(list(store.images_dir.rglob("*.png"))) == len(payloads)
    assert median_ms < 20, f"client overhead {median_ms:.1f} ms per image"


def test_a_newer_schema_is_refused_by_run_before_anything_is_sent(tmp_path, capsys):
    from imagegen.cli import main

    home = tmp_path / "future"
    Store(home).close()
    conn = sqlite3.connect(home / "imagegen.db")
    conn.execute("INSERT INTO migrations (name, applied_at) VALUES ('m999_from_the_future', '2027-01-01')")
    conn.commit()
    conn.close()
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    assert main(["run", str(spec), "--home", str(home)]) == 2
    err = capsys.readouterr().err
    assert str(home / "imagegen.db") in err and "m999_from_the_future" in err and "newer" in err
    conn = sqlite3.connect(home / "imagegen.db")
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


@pytest.mark.parametrize("content", [b"just some text, not a database\n", b"\x00" * 4096])
def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path, content):
    home = tmp_path / "home"
    home.mkdir()
    (home / "imagegen.db").write_bytes(content)
    with pytest.raises(StoreError, match="not a SQLite database|not an imagegen database") as info:
        Store(home)
    assert str(home / "imagegen.db") in str(info.value)
    assert (home / "imagegen.db").read_bytes() == content


def test_a_foreign_sqlite_file_is_refused_by_the_cli_with_exit_2(tmp_path, capsys):
    from imagegen.cli import main

    home = tmp_path / "home"
    home.mkdir()
    conn = sqlite3.connect(home / "imagegen.db")
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    assert main(["runs", "--home", str(home)]) == 2
    err = capsys.readouterr().err
    assert "not an imagegen database" in err and str(home / "imagegen.db") in err and "photos" in err


def test_inserts_fill_exactly_the_result_columns_of_the_table(store):
    from imagegen.storage.rows import RESULT_COLUMNS

    table = {r[1] for r in store._conn.execute("PRAGMA table_info(results)")}
    assert set(RESULT_COLUMNS) == table - {"result_id"}


def test_result_list_gives_typed_rows_matching_the_view(store):
    from imagegen.storage.rows import VIEW_COLUMNS, ResultRow

    run_id, grid = make_run(store)
    ok_record(store, run_id, grid, 0, 0)
    rows = store.result_list(run_id)
    assert len(rows) == 1 and isinstance(rows[0], ResultRow)
    assert rows[0].status == "ok" and rows[0].output_tokens == 272 and rows[0].rating is None
    assert [f for f in rows[0].__dataclass_fields__] == list(VIEW_COLUMNS)
    assert store.results(run_id).iloc[0]["request_id"] == rows[0].request_id
