"""Benchmark: the Results page must render in under 1 s with 100,000 stored result rows.

Fills a throw-away store (``--home`` to keep one) with ``--rows`` results spread over runs of
``--cells`` cells each (default 1,000 runs x 100 cells: a long history, so paging and per-run
totals are what is measured). Runs and cells come from ``Store.create_run``; result rows are
written in bulk through the store's own connection (going through the runner would take many
minutes and is not what is measured). One extra 3x3 run goes through the real runner on the
simulator, so opening a run draws real thumbnails.

Then it times full ``AppTest`` runs of ``pages/2_Results.py`` (imports warmed up first):

1. ``cold``: the page's caches cleared (first visit after a change to the history);
2. ``warm``: a rerun with nothing changed (what every widget click costs);
3. ``filter``: a name filter typed in (a new cache key: SQL on 100,000 rows);
4. ``page 2``: the next page of the history;
5. ``open run``: the 3x3 run opened (grid with thumbnails, cached after the first time).

Prints median and max of ``--repeats`` for each; exit code 1 when a median is over the target.

    /tmp/venv/bin/python bench/bench_results_page.py                    # 100,000 rows, 5 repeats
    /tmp/venv/bin/python bench/bench_results_page.py --rows 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imagegen.cli import today  # noqa: E402
from imagegen.core.catalog import default_catalog  # noqa: E402
from imagegen.core.grid import GridSpec, Limits, estimate_grid  # noqa: E402
from imagegen.core.pricing import MILLION  # noqa: E402
from imagegen.storage.store import Store, decimal_text  # noqa: E402

TODAY = today()  # an entry point: IMAGEGEN_TODAY or today's date (UTC), read once

TARGET_S = 1.0
MODELS = ("gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2")
QUALITIES = ("low", "medium", "high")
SIZES = ("1024x1024", "1024x1536", "1536x1024")


def _spec(i: int, cells: int) -> GridSpec:
    """A run of about ``cells`` cells (quality x size x prompts, a multiple of 9); names vary for filters."""
    prompts = tuple(f"bench prompt {p}" for p in range(max(1, cells // 9)))
    return GridSpec(provider="simulator", model=MODELS[i % len(MODELS)], prompts=prompts,
                    name=f"bench run {i} {'fox' if i % 10 == 0 else 'cat'}",
                    axes={"quality": QUALITIES, "size": SIZES}, limits=Limits(concurrency=9))


def fill(store: Store, rows: int, cells: int, seed: int = 11) -> int:
    """Write ``rows`` results (about 3% errors) in runs of ``cells`` cells; return the rows written."""
    catalog = default_catalog()
    rng = random.Random(seed)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    written = i = 0
    while written < rows:
        spec = _spec(i, cells)
        grid = estimate_grid(spec, catalog, TODAY)
        run_id = store.create_run(spec, grid, simulated=True)
        price = catalog.price_for(spec.model, "simulator", TODAY)
        created = start + timedelta(hours=4 * i)
        results = []
        with store._write() as conn:  # bulk: one transaction per run
            next_id = conn.execute("SELECT COALESCE(MAX(result_id), 0) FROM results").fetchone()[0] + 1
            for cell, est in zip(grid.cells, grid.estimates):
                if written >= rows:
                    break
                at = (created + timedelta(seconds=cell.index)).isoformat(timespec="milliseconds")
                if rng.random() < 0.03:
                    results.append((next_id, run_id, cell.index, 0, "error", "rate_limited", 429, None, None, None,
                                    None, "0", None, None, 1, 1, at))
                else:
                    tokens = est.output_tokens_max
                    latency = 2.0 + tokens / 133.0 + rng.gauss(0, 0.5)
                    cost = est.input_text_tokens * price.text_input / MILLION + tokens * price.image_output / MILLION
                    results.append((next_id, run_id, cell.index, 0, "ok", None, None, cell.request.size,
                                    cell.request.quality, est.input_text_tokens, tokens, decimal_text(cost), price.key,
                                    latency, 1, 1, at))
                next_id += 1
                written += 1
            conn.executemany(
                "INSERT INTO results (result_id, run_id, cell_id, repeat, status, error_kind, http_status,"
                " resolved_size, resolved_quality, input_text_tokens, output_tokens, cost_usd, price_entry,"
                " latency_s, attempts, simulated, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", results)
            total = sum((Decimal(r[11]) for r in results), Decimal(0))
            conn.execute("UPDATE runs SET status = 'finished', created_at = ?, finished_at = ?, cost_usd = ?"
                         " WHERE run_id = ?", (created.isoformat(timespec="milliseconds"),
                                               (created + timedelta(minutes=5)).isoformat(timespec="milliseconds"),
                                               decimal_text(total), run_id))
        i += 1
    return written


def real_run(store: Store) -> str:
    """One 3x3 run through the real runner on the simulator (real images and thumbnails)."""
    from imagegen.execution.providers import make_simulator_provider
    from imagegen.execution.runner import GridRun

    spec = GridSpec(provider="simulator", model="gpt-image-1.5", prompts=("F1レーサーを躍動感あるように描いて。",),
                    name="bench real 3x3", axes={"quality": QUALITIES, "size": SIZES}, limits=Limits(concurrency=9))
    return GridRun(spec, provider=make_simulator_provider({"time_scale": 0}), store=store, today=TODAY).run().run_id


class Page:
    """The app (``dashboard.py``) in AppTest, switched to Results; keeps its session between runs."""

    def __init__(self, timeout: float) -> None:
        from streamlit.testing.v1 import AppTest

        self.at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=timeout)
        self.at.secrets["IMAGEGEN_PROVIDER"] = "simulator"
        self.at.run()  # Home first, as a visitor would; not timed
        self.at.switch_page("pages/2_Results.py")

    def run(self, action: Callable | None = None):
        if action is not None:
            action(self.at)
        self.at.run()
        if self.at.exception:
            raise RuntimeError(f"page failed: {self.at.exception[0].value}")
        return self.at


def clear_caches() -> None:
    import streamlit as st

    st.cache_data.clear()


def timed(label: str, repeats: int, setup: Callable[[], Page], step: Callable[[Page], object]) -> float:
    times = []
    for _ in range(repeats):
        page = setup()
        t0 = time.perf_counter()
        step(page)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(f"{label:<38} median {median:.3f} s   max {max(times):.3f} s")
    return median


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="result rows to store (default 100000)")
    parser.add_argument("--cells", type=int, default=100, help="cells per run (default 100 -> 1,000 runs)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of each measurement")
    parser.add_argument("--home", help="use (and keep) this data directory instead of a temporary one")
    args = parser.parse_args(argv)

    tmp = None
    home = args.home
    if home is None:
        tmp = tempfile.TemporaryDirectory(prefix="imagegen-bench-results-")
        home = tmp.name
    os.environ["IMAGEGEN_HOME"] = home
    for var in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_IMAGE_KEY", "AZURE_OPENAI_ENDPOINT"):
        os.environ.pop(var, None)
    os.environ["IMAGEGEN_PROVIDER"] = "simulator"
    store = Store(home)
    existing = int(store.query("SELECT COUNT(*) AS n FROM results")["n"].iloc[0])
    if existing < args.rows:
        t0 = time.perf_counter()
        n = fill(store, args.rows - existing, args.cells)
        print(f"filled {n:,} result rows in {time.perf_counter() - t0:.1f} s ({home})")
    if store.count_runs(name_like="bench real 3x3") == 0:
        real_run(store)
    rows = int(store.query("SELECT COUNT(*) AS n FROM result_rows")["n"].iloc[0])
    runs = store.count_runs()
    real = store.runs(name_like="bench real 3x3", limit=1)["run_id"].iloc[0]
    print(f"store: {rows:,} result rows in {runs:,} runs")

    Page(60).run()  # warm up imports (streamlit, pandas, openai SDK): not part of a page render

    def fresh() -> Page:
        clear_caches()
        return Page(60)

    def warmed() -> Page:
        page = Page(60)
        page.run()
        return page

    def opened() -> Page:
        page = Page(60)
        page.run()
        page.run(lambda at: at.selectbox(key="open_run").set_value(real))
        return page

    medians = {
        "cold (caches cleared)": timed("cold (caches cleared)", args.repeats, fresh, lambda p: p.run()),
        "warm rerun": timed("warm rerun", args.repeats, warmed, lambda p: p.run()),
    }
    counter = iter(range(10_000))
    medians["filter by name (new query)"] = timed(
        "filter by name (new query)", args.repeats, warmed,
        lambda p: p.run(lambda at: at.text_input(key="filter_name").input(f"run {next(counter) % 97}")))
    medians["page 2 of the history"] = timed(
        "page 2 of the history", args.repeats, warmed, lambda p: p.run(lambda at: at.number_input(
            key="runs_page").set_value(2)))
    medians["open a 3x3 run (cold)"] = timed(
        "open a 3x3 run (cold)", args.repeats, warmed,
        lambda p: (clear_caches(), p.run(lambda at: at.selectbox(key="open_run").set_value(real))))
    medians["rerun with the run open"] = timed("rerun with the run open", args.repeats, opened, lambda p: p.run())
    worst = max(medians.values())
    print(f"target < {TARGET_S:.1f} s per render: {'OK' if worst < TARGET_S else 'TOO SLOW'} "
          f"(slowest median {worst:.3f} s)")
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
