"""Benchmarks of the grid runner; each prints a ratio measured in this one run.

    /tmp/venv/bin/python bench/bench_runner.py            # all three, ~45 s
    /tmp/venv/bin/python bench/bench_runner.py --only a   # or b, c; --latency 0.5 for a quicker run

(a) grid wall time / ideal lower bound (``imagegen.execution.ratelimit.ideal_wall_s``) for the same latency,
    concurrency and rpm: a 27-cell grid at concurrency 9, and 12 requests under rpm = 240, against the
    in-process simulator (real openai SDK) with a fixed latency.
(b) the same 27-cell grid one request at a time, as the seed document's sample loops, for comparison.
(c) the client's own overhead per 1536x1024 PNG (base64 decode, sha256, write, SQLite insert+commit),
    and the peak Python memory (tracemalloc) of a 10- and a 100-image run.

Figures from the simulator are simulated latencies; the ratios and overheads are measured.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from imagegen.cli import today  # noqa: E402
from imagegen.core.catalog import default_catalog  # noqa: E402
from imagegen.core.grid import estimate_grid, loads_spec  # noqa: E402
from imagegen.core.results import Generation  # noqa: E402
from imagegen.execution.providers import make_simulator_provider  # noqa: E402
from imagegen.execution.ratelimit import ideal_wall_s  # noqa: E402
from imagegen.execution.runner import GridRun  # noqa: E402
from imagegen.storage.store import ResultRecord, Store  # noqa: E402

TODAY = today()  # an entry point: IMAGEGEN_TODAY or today's date (UTC), read once

GRID_27 = """
name = "bench 27"
provider = "simulator"
model = "gpt-image-1.5"
prompts = ["a red fox", "a blue bird", "a green frog"]
[params]
output_format = "png"
[axes]
quality = ["low", "medium", "high"]
size = ["1024x1024", "1024x1536", "1536x1024"]
[limits]
concurrency = {concurrency}
{rpm}
[simulator]
fixed_latency_s = {latency}
"""

GRID_12 = """
name = "bench rpm"
provider = "simulator"
model = "gpt-image-1-mini"
prompts = ["a red fox", "a blue bird", "a green frog"]
[axes]
quality = ["low", "medium"]
size = ["1024x1024", "1536x1024"]
[limits]
concurrency = 12
rpm = 240
[simulator]
fixed_latency_s = {latency}
"""


def timed_run(spec_text: str, home: Path) -> tuple[float, int]:
    spec = loads_spec(spec_text)
    provider = make_simulator_provider(spec.simulator)
    run = GridRun(spec_text, provider=provider, store=Store(home), today=TODAY)
    t = time.perf_counter()
    summary = run.run()
    wall = time.perf_counter() - t
    assert summary.ok == summary.total, summary
    return wall, summary.total


def bench_a(latency: float, home: Path) -> dict:
    wall, n = timed_run(GRID_27.format(concurrency=9, rpm="", latency=latency), home)
    bound = ideal_wall_s(n, latency, 9)
    rpm_spec = GRID_12.format(latency=latency / 2)
    wall_rpm, n_rpm = timed_run(rpm_spec, home)
    bound_rpm = ideal_wall_s(n_rpm, latency / 2, 12, rpm=240)
    print(f"(a) {n} cells, concurrency 9, fixed latency {latency:g} s: wall {wall:.2f} s / ideal {bound:.2f} s "
          f"= {wall / bound:.3f}")
    print(f"(a) {n_rpm} requests, rpm 240, concurrency 12, latency {latency / 2:g} s: wall {wall_rpm:.2f} s / "
          f"ideal {bound_rpm:.2f} s = {wall_rpm / bound_rpm:.3f}")
    return {"grid_wall_s": wall, "grid_ideal_s": bound, "grid_ratio": wall / bound,
            "rpm_wall_s": wall_rpm, "rpm_ideal_s": bound_rpm, "rpm_ratio": wall_rpm / bound_rpm}


def bench_b(latency: float, home: Path, concurrent_wall: float | None) -> dict:
    wall, n = timed_run(GRID_27.format(concurrency=1, rpm="", latency=latency), home)
    bound = ideal_wall_s(n, latency, 1)
    line = f"(b) {n} cells one at a time: wall {wall:.2f} s / ideal {bound:.2f} s = {wall / bound:.3f}"
    out = {"sequential_wall_s": wall, "sequential_ideal_s": bound}
    if concurrent_wall:
        line += f"; the concurrent run was {wall / concurrent_wall:.1f}x faster"
        out["speedup"] = wall / concurrent_wall
    print(line)
    return out


def photo_like_png(width: int = 1536, height: int = 1024, seed: int = 0) -> bytes:
    """A PNG about the size of a real gpt-image 1536x1024 PNG (smooth shapes plus sensor-like noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 // width), (y * 255 // height), ((x + y) * 255 // (width + height))], axis=-1)
    noise = rng.integers(0, 24, size=(height, width, 3))
    buf = io.BytesIO()
    Image.fromarray((base + noise).clip(0, 255).astype("uint8")).save(buf, "PNG")
    return buf.getvalue()


class UniqueImageProvider:
    """A fake provider returning distinct big PNG bytes each time (what the store must write)."""

    name = "simulator"
    simulated = True

    def __init__(self, png: bytes) -> None:
        self.png = png
        self.n = 0
        self.lock = threading.Lock()

    def generate(self, request, *, timeout, input_files=()):
        with self.lock:
            self.n += 1
            n = self.n
        data = self.png[:-16] + n.to_bytes(16, "big")
        return Generation(images=(data,), output_format="png", resolved_quality=request.quality,
                          resolved_size=request.size, resolved_background="opaque",
                          usage={"input_tokens": 10, "output_tokens": 1000}, wall_s=0.0, final_s=0.0,
                          simulated=True)


def bench_c(home: Path) -> dict:
    from imagegen.execution.providers.sdk import decode_image  # the provider's own decoder: the real client path

    png = photo_like_png()
    store = Store(home)
    spec = loads_spec(GRID_27.format(concurrency=1, rpm="", latency=0))
    grid = estimate_grid(spec, default_catalog(), TODAY)
    run_id = store.create_run(spec, grid, simulated=True)
    payloads = [base64.b64encode(png[:-16] + i.to_bytes(16, "big")).decode() for i in range(27)]
    decode_t, store_t = [], []
    for i, b64 in enumerate(payloads):
        t0 = time.perf_counter()
        data = decode_image(b64)
        t1 = time.perf_counter()
        gen = Generation(images=(data,), output_format="png", resolved_quality="low", resolved_size="1536x1024",
                         resolved_background="opaque", usage=None, wall_s=0, final_s=0)
        store.record_result(ResultRecord(run_id, i, 0, "ok", generation=gen))  # sha256, write, insert+commit
        decode_t.append(t1 - t0)
        store_t.append(time.perf_counter() - t1)
    dec, sto = statistics.median(decode_t) * 1000, statistics.median(store_t) * 1000
    total = statistics.median([a + b for a, b in zip(decode_t, store_t)]) * 1000
    print(f"(c) client overhead per 1536x1024 PNG ({len(png) / 1e6:.1f} MB): median {total:.1f} ms "
          f"= base64 decode {dec:.1f} ms + sha256/write/insert+commit {sto:.1f} ms")

    def peak(n_images: int) -> int:
        prompts = ", ".join(f'"prompt {i}"' for i in range(n_images))
        text = (f'provider = "simulator"\nmodel = "gpt-image-1.5"\nprompts = [{prompts}]\n'
                '[params]\nquality = "low"\nsize = "1536x1024"\n[limits]\nconcurrency = 4\n')
        run = GridRun(text, provider=UniqueImageProvider(png), store=store, today=TODAY)
        tracemalloc.start()
        tracemalloc.reset_peak()
        summary = run.run()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert summary.ok == n_images
        return top

    peak(5)  # warm caches (catalog, encodings) outside the measurement
    peaks = {n: peak(n) for n in (10, 25, 100)}
    print("(c) peak traced memory: " + ", ".join(f"{n} images {p / 1e6:.1f} MB" for n, p in peaks.items())
          + f" (100 vs 25 images: {peaks[100] / peaks[25]:.2f}x; at most ~2 x concurrency images of "
          f"{len(png) / 1e6:.1f} MB are alive at once)")
    return {"overhead_ms_median": total, "decode_ms_median": dec, "store_ms_median": sto, "png_bytes": len(png),
            **{f"peak_{n}_mb": p / 1e6 for n, p in peaks.items()}, "peak_ratio_100_25": peaks[100] / peaks[25]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("a", "b", "c"), action="append")
    parser.add_argument("--latency", type=float, default=1.0, help="simulator fixed latency in seconds")
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON")
    args = parser.parse_args(argv)
    only = set(args.only or "abc")
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="imagegen-bench-") as tmp:
        home = Path(tmp)
        if "a" in only:
            out["a"] = bench_a(args.latency, home / "a")
        if "b" in only:
            out["b"] = bench_b(args.latency, home / "b", out.get("a", {}).get("grid_wall_s"))
        if "c" in only:
            out["c"] = bench_c(home / "c")
    if args.json:
        print(json.dumps(out, indent=2))
    missed = [name for name, ok in (
        ("grid ratio <= 1.15", out.get("a", {}).get("grid_ratio", 0) <= 1.15),
        ("rpm ratio <= 1.15", out.get("a", {}).get("rpm_ratio", 0) <= 1.15),
        ("overhead < 20 ms", out.get("c", {}).get("overhead_ms_median", 0) < 20),
        ("memory flat (100 vs 25 images <= 1.2x)", out.get("c", {}).get("peak_ratio_100_25", 0) <= 1.2),
    ) if not ok]
    for name in missed:
        print(f"target missed: {name}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
