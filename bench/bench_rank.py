"""Benchmark: ``python -m imagegen rank RUN_ID --json`` over 50,000 votes must take under 2 s.

Makes one real run on the in-process simulator (3 prompts x quality x size = 27 cells, 2 repeats:
54 images) in a throw-away store, then writes ``--votes`` blind votes between comparable images
(same prompt) from seeded synthetic raters whose preferences follow known Bradley–Terry strengths
(high > medium > low, small sizes slightly preferred; 10 % ties). It then runs the real command
line in a fresh process — interpreter start, imports, reading the votes, the pooled and per-prompt
fits with 200 bootstrap replicates each, JSON out — and prints the median and maximum wall time of
``--repeats`` runs. Exit code 1 when the median is over the target or the recovered order is wrong.

    python bench/bench_rank.py                  # 50,000 votes, 3 repeats
    python bench/bench_rank.py --votes 5000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imagegen.cli import today  # noqa: E402  (an entry point: the working date, UTC or IMAGEGEN_TODAY)
from imagegen.execution.providers import make_simulator_provider  # noqa: E402
from imagegen.execution.runner import run_grid  # noqa: E402
from imagegen.insight import quality  # noqa: E402
from imagegen.storage import votes as vote_store  # noqa: E402
from imagegen.storage.store import Store  # noqa: E402

TARGET_S = 2.0
SPEC = """name = "bench rank"
provider = "simulator"
model = "gpt-image-1.5"
prompts = ["a red fox", "a sign that reads OPEN", "F1レーサーを躍動感あるように描いて。"]
repeats = 2
[axes]
quality = ["low", "medium", "high"]
size = ["1024x1024", "1024x1536", "1536x1024"]
[limits]
concurrency = 16
"""
STRENGTH = {"low": -0.8, "medium": 0.1, "high": 0.7}
SIZE_BONUS = {"1024x1024": 0.1, "1024x1536": 0.0, "1536x1024": -0.1}


def true_strength(setting: str) -> float:
    _, q, size = setting.split(" · ")
    return STRENGTH[q] + SIZE_BONUS[size]


def fill(home: Path, n_votes: int, seed: int = 1) -> str:
    store = Store(home)
    summary = run_grid(SPEC, provider=make_simulator_provider({"time_scale": 0, "seed": 1}), store=store,
                       today=today())
    run_id = summary.run_id
    pool = quality.load_pool(store, [run_id])
    by_group: dict[str, list[tuple[int, str]]] = {}
    for rid, grp, s in zip(pool.items["result_id"], pool.items["group"], pool.items["setting"]):
        by_group.setdefault(grp, []).append((int(rid), s))
    rng = random.Random(seed)
    groups = sorted(by_group)
    rows = []
    for k in range(n_votes):
        items = by_group[groups[k % len(groups)]]
        (a, sa), (b, sb) = rng.sample(items, 2)
        while sa == sb:
            (a, sa), (b, sb) = rng.sample(items, 2)
        p = 1 / (1 + math.exp(-(true_strength(sa) - true_strength(sb))))
        u = rng.random()
        choice = "tie" if abs(u - p) < 0.05 else ("left" if u < p else "right")
        rows.append((a, b, choice, f"rater {k % 7}"))
    vote_store.record_votes(store, rows)
    store.close()
    return run_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        t0 = time.perf_counter()
        run_id = fill(home, args.votes)
        print(f"filled {args.votes:,} votes on run {run_id} in {time.perf_counter() - t0:.1f} s")
        env = {**os.environ, "IMAGEGEN_HOME": str(home), "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "imagegen", "rank", run_id, "--json"]
        times, cpu, out = [], [], ""
        for _ in range(args.repeats):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            out = proc.stdout
        figures = json.loads(out)
    order = [r["setting"] for r in figures["ranking"]]
    expected = sorted(order, key=true_strength, reverse=True)
    median = statistics.median(times)
    print(f"rank --json over {figures['votes']:,} votes ({len(figures['per_prompt'])} prompts + pooled, "
          f"{figures['pooled']['replicates']} bootstrap replicates each), fresh process: "
          f"median {median:.2f} s, max {max(times):.2f} s (target < {TARGET_S:.0f} s); "
          f"CPU (user+sys) median {statistics.median(cpu):.2f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"recovered order matches the true order: {order == expected}")
    return 0 if median < TARGET_S and order == expected else 1


if __name__ == "__main__":
    sys.exit(main())
