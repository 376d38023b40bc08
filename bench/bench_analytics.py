"""Benchmark: Analytics over 100,000 stored results must render in under 2 s.

Fills a throw-away store (``Store`` under a temporary ``IMAGEGEN_HOME``) with ``--rows`` results:
real runs and cells from ``Store.create_run`` (a model x quality x size grid on the simulator,
100 repeats per cell), then result, image and rating rows written in bulk through the store's
own connection (going through the runner would take minutes and is not what is measured).
Then it measures:

1. ``aggregate``: ``analysis.analyse`` plus every derived frame and figure (what the page computes),
2. ``page``: a full ``AppTest`` run of ``pages/3_Analytics.py`` against that store (cold: the
   page's caches are cleared before each repeat, so every run reads the store again),

and prints the median and maximum of ``--repeats`` runs (after one warm-up run that pays for
imports, as a running server has). Exit code 1 when the page median is over the target.

    /tmp/venv/bin/python bench/bench_analytics.py            # 100,000 rows, 5 repeats
    /tmp/venv/bin/python bench/bench_analytics.py --rows 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imagegen.cli import today  # noqa: E402
from imagegen.core.catalog import default_catalog  # noqa: E402
from imagegen.core.grid import estimate_grid, loads_spec  # noqa: E402
from imagegen.core.pricing import MILLION  # noqa: E402
from imagegen.insight import analysis, charts  # noqa: E402
from imagegen.storage.store import Store, decimal_text  # noqa: E402

TODAY = today()  # an entry point: IMAGEGEN_TODAY or today's date (UTC), read once

TARGET_S = 2.0
MODELS = ("gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2")
FORMATS = (("png", None), ("jpeg", 80), ("webp", 60))
REPEATS_PER_CELL = 100


def _spec(i: int) -> str:
    fmt, compression = FORMATS[i % len(FORMATS)]
    stream = i % 4 == 3
    lines = [f'name = "bench run {i}"', 'provider = "simulator"', 'model = "gpt-image-1.5"',
             'prompts = ["F1レーサーを躍動感あるように描いて。"]', f"repeats = {REPEATS_PER_CELL}", "", "[params]",
             f'output_format = "{fmt}"']
    if compression is not None:
        lines.append(f"output_compression = {compression}")
    if stream:
        lines += ["stream = true", "partial_images = 2"]
    lines += ["", "[axes]", f"model = {list(MODELS)!r}".replace("'", '"'),
              'quality = ["low", "medium", "high"]', 'size = ["1024x1024", "1024x1536", "1536x1024"]']
    return "\n".join(lines) + "\n"


def fill(store: Store, rows: int, seed: int = 7) -> int:
    """Write ``rows`` successful results (plus ~3% errors on top) into ``store``; return results written."""
    catalog = default_catalog()
    rng = random.Random(seed)
    written = 0
    start = datetime(2026, 11, 1, tzinfo=UTC)
    i = 0
    while written < rows:
        spec = loads_spec(_spec(i))
        grid = estimate_grid(spec, catalog, TODAY)
        run_id = store.create_run(spec, grid, simulated=True)
        results, images, ratings = [], [], []
        with store._write() as conn:  # bulk: one transaction per run
            next_id = (conn.execute("SELECT COALESCE(MAX(result_id), 0) FROM results").fetchone()[0]) + 1
            for cell, est in zip(grid.cells, grid.estimates):
                req = cell.request
                price = catalog.price_for(req.model, "openai", TODAY)
                fmt, _ = FORMATS[i % len(FORMATS)]
                for rep in range(spec.repeats):
                    if written >= rows:
                        break
                    created = (start + timedelta(minutes=written)).isoformat(timespec="milliseconds")
                    rid = next_id
                    next_id += 1
                    if rng.random() < 0.03:
                        results.append((rid, run_id, cell.index, rep, "error", "rate_limited", 429, None, None, None,
                                        None, None, None, None, "0", None, None, None, None, None, None, None,
                                        1, 1, created))
                        continue
                    documented = est.output_tokens_max
                    tokens = documented if rng.random() < 0.9 else int(documented * rng.uniform(0.95, 1.1))
                    text = est.input_text_tokens
                    latency = 2.0 + tokens / 133.0 + rng.gauss(0, 0.5)
                    first_partial = latency * rng.uniform(0.25, 0.4) if req.stream else None
                    t_cost = text * price.text_input / MILLION
                    o_cost = tokens * price.image_output / MILLION
                    results.append((rid, run_id, cell.index, rep, "ok", None, None, req.size, req.quality, text, 0,
                                    tokens, 0, documented, decimal_text(t_cost + o_cost), decimal_text(t_cost), "0", decimal_text(o_cost),
                                    "0", price.key, latency, first_partial, 1, 1, created))
                    size_bytes = int(tokens * {"png": 900, "jpeg": 180, "webp": 120}[fmt] * rng.uniform(0.8, 1.2))
                    images.append((rid, 0, f"{rid:064x}", f"images/bench/{rid}.{fmt}", size_bytes, 1024, 1024, fmt))
                    if rng.random() < 0.05:
                        ratings.append((rid, rng.randint(1, 5), created))
                    written += 1
            conn.executemany(
                "INSERT INTO results (result_id, run_id, cell_id, repeat, status, error_kind, http_status,"
                " resolved_size, resolved_quality, input_text_tokens, input_image_tokens, output_tokens,"
                " output_text_tokens, documented_output_tokens, cost_usd, cost_text_input_usd, cost_image_input_usd,"
                " cost_image_output_usd, cost_text_output_usd, price_entry, latency_s, first_partial_s, attempts,"
                " simulated, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", results)
            conn.executemany("INSERT INTO images (result_id, idx, sha256, path, bytes, width, height, format)"
                             " VALUES (?,?,?,?,?,?,?,?)", images)
            conn.executemany("INSERT INTO ratings (result_id, stars, rated_at) VALUES (?,?,?)", ratings)
            conn.execute("UPDATE runs SET status = 'finished', finished_at = ? WHERE run_id = ?",
                         (datetime.now(UTC).isoformat(), run_id))
        i += 1
    return written


def aggregate(store: Store) -> dict:
    """Everything the page computes for the default (unfiltered) selection."""
    result = analysis.analyse(store.query, analysis.Selection())
    figures = [
        charts.tokens_vs_documented(result.tokens()), charts.cost_per_image(result.costs()),
        charts.latency_distribution(result.latency()), charts.latency_vs_tokens(result.sample, result.fits()),
        charts.first_partial_vs_final(result.streaming()), charts.file_sizes(result.file_sizes()),
        charts.cost_vs_rating(result.ratings(4.0), 4.0),
    ]
    return {"results": result.results, "settings": len(result.summary), "figures": len(figures)}


def page_app(timeout: float = 60):
    """An AppTest of the Analytics page (built once: building one scans installed packages)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "3_Analytics.py"), default_timeout=timeout)
    at.secrets["IMAGEGEN_PROVIDER"] = "simulator"
    return at


def render_page(at) -> int:
    """One cold run of the page (its caches cleared first); returns the number of charts drawn."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()  # the figures are shared across sessions (ui/analytics_view._drawn)
    at.run()
    if at.exception:
        raise RuntimeError(f"page failed: {at.exception[0].value}")
    return len(at.get("plotly_chart"))


def _timed(fn, repeats: int) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="successful results to store (default 100000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of each measurement")
    parser.add_argument("--home", help="use (and keep) this data directory instead of a temporary one")
    args = parser.parse_args(argv)

    tmp = None
    home = args.home
    if home is None:
        tmp = tempfile.TemporaryDirectory(prefix="imagegen-bench-")
        home = tmp.name
    os.environ["IMAGEGEN_HOME"] = home
    for var in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "IMAGEGEN_PROVIDER"):
        os.environ.pop(var, None)
    store = Store(home)
    existing = int(store.query("SELECT COUNT(*) AS n FROM results WHERE status = 'ok'")["n"].iloc[0])
    if existing < args.rows:
        t0 = time.perf_counter()
        fill(store, args.rows - existing)
        print(f"filled {args.rows - existing:,} results in {time.perf_counter() - t0:.1f} s ({home})")
    total = int(store.query("SELECT COUNT(*) AS n FROM result_rows")["n"].iloc[0])
    print(f"result_rows: {total:,} rows (successful: {args.rows:,}+)")

    agg_times, info = _timed(lambda: aggregate(store), args.repeats)
    print(f"aggregate (SQL + frames + figures): median {statistics.median(agg_times):.3f} s, "
          f"max {max(agg_times):.3f} s  {info}")
    at = page_app()
    first, charts_drawn = _timed(lambda: render_page(at), 1)
    page_times, charts_drawn = _timed(lambda: render_page(at), args.repeats)
    median = statistics.median(page_times)
    print(f"Analytics page, first run in this process (imports, templates): {first[0]:.3f} s")
    print(f"Analytics page (AppTest, cold cache each run): median {median:.3f} s, max {max(page_times):.3f} s, "
          f"{charts_drawn} charts")
    t0 = time.perf_counter()
    at.run()  # the caches now hold the store's frames: what a rerun (a filter click) costs
    print(f"Analytics page rerun with warm cache: {time.perf_counter() - t0:.3f} s")
    verdict = "OK" if median < TARGET_S else "TOO SLOW"
    print(f"target < {TARGET_S:.1f} s: {verdict}")
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
