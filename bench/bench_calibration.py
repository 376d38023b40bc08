"""Benchmark: ``python -m imagegen calibrate --json`` over 100,000 stored real results must take under 2 s.

Fills a throw-away store with ``--rows`` results the way ``bench_analytics.py`` does (runs and cells
through ``Store.create_run``, result rows in bulk), then marks them real (``simulated = 0``: the
calibration reads only real results; nothing here reached a real service). Then it measures

1. ``calibrate(store.rows, …)``: the SQL aggregation plus the report, in-process (no pandas), and
2. the whole command ``python -m imagegen calibrate --json`` as a subprocess (interpreter start,
   imports, SQL, JSON), which is what a user waits for,

and prints the median and maximum of ``--repeats`` runs. Exit code 1 when the command's median is
over the target.

    .venv/bin/python bench/bench_calibration.py                # 100,000 rows, 5 repeats
    .venv/bin/python bench/bench_calibration.py --rows 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_analytics import fill  # noqa: E402
from imagegen.core.catalog import default_catalog  # noqa: E402
from imagegen.insight.calibration import calibrate  # noqa: E402
from imagegen.storage.store import Store  # noqa: E402

TARGET_S = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="successful results to store (default 100000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of each measurement")
    parser.add_argument("--home", help="use (and keep) this data directory instead of a temporary one")
    args = parser.parse_args(argv)
    tmp = None
    home = args.home
    if home is None:
        tmp = tempfile.TemporaryDirectory(prefix="imagegen-bench-calib-")
        home = tmp.name
    store = Store(home)
    existing = int(store.query("SELECT COUNT(*) AS n FROM results WHERE status = 'ok'")["n"].iloc[0])
    if existing < args.rows:
        t0 = time.perf_counter()
        fill(store, args.rows - existing)
        with store._write() as conn:  # bench data only: calibration reads real (non-simulated) results
            conn.execute("UPDATE results SET simulated = 0")
            conn.execute("UPDATE runs SET simulated = 0")
        print(f"filled {args.rows - existing:,} results in {time.perf_counter() - t0:.1f} s ({home})")
    real = int(store.query("SELECT COUNT(*) AS n FROM result_rows WHERE status = 'ok' AND simulated = 0")["n"].iloc[0])
    print(f"real ok results: {real:,}")

    catalog = default_catalog()
    times = []
    for _ in range(args.repeats + 1):
        t0 = time.perf_counter()
        cal = calibrate(store.rows, catalog)
        times.append(time.perf_counter() - t0)
    times = times[1:]  # the first pays for the o200k encoding load and imports
    print(f"calibrate() in-process: median {statistics.median(times):.3f} s, max {max(times):.3f} s, "
          f"{len(cal.output)} output-token entries over {cal.results:,} results")

    env = {**os.environ, "IMAGEGEN_HOME": home}
    cmd = [sys.executable, "-m", "imagegen", "calibrate", "--json"]
    cli_times, cpu_times = [], []
    for _ in range(args.repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        cli_times.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_times.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
    doc = json.loads(done.stdout)
    median = statistics.median(cli_times)
    print(f"`python -m imagegen calibrate --json` (subprocess): median {median:.3f} s, max {max(cli_times):.3f} s, "
          f"{doc['results']:,} results; CPU time median {statistics.median(cpu_times):.3f} s "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall time grows with other work)")
    verdict = "OK" if median < TARGET_S else "TOO SLOW"
    print(f"target < {TARGET_S:.1f} s: {verdict}")
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
