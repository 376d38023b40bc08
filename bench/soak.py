"""Soak: random ``kill -9`` + ``--resume`` cycles of a CLI run against a loopback endpoint that bills.

    python bench/soak.py [--cycles 20] [--cells 480] [--kill-at time|requests] [--seed 1] [--exec] [--json]

The endpoint (``tests/billing_endpoint.py``) is our own, not the simulator: it counts every request it
receives per cell and bills it on receipt, from its own price list (a request whose body was cut off by
a kill is answered 400 and not billed: a provider has nothing to generate from). Each cycle starts the CLI's
``run`` (or ``run --resume``) in a child process, waits until the endpoint has received a request from
it, waits a random 0-0.3 s more and kills the child with SIGKILL (480 cells, so 20 kills land before the grid
is done even on a fast machine). ``--kill-at requests`` kills right after a random 1-6 of its requests
arrived instead: harsher, kills land while requests are in flight. By default the child is forked from this process with the modules already imported and calls ``imagegen.cli.main`` (so a cycle does not pay
the interpreter start-up; that keeps 20 cycles inside a CI minute); ``--exec`` starts a fresh
``python -m imagegen`` instead. After the last cycle a final resume (a fresh ``python -m imagegen``)
runs to the end. Then it checks, and prints:

- no completed image lost: every ok result recorded after any cycle is still ok at the end, and its file
  is there with the bytes its sha256 names;
- no cell sent twice: the endpoint received at most one request per cell;
- the endpoint's bill is within the cap (``[limits] budget_usd``), and the store never counted less than
  the endpoint billed (requests sent but not answered count as spent, at their reservation).

Figures for the README's reliability table come from here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imagegen.storage.store import Store  # noqa: E402
from tests.billing_endpoint import BillingEndpoint  # noqa: E402


def spec_text(cells: int, cap: Decimal | None) -> str:
    prompts = ", ".join(f'"p{i} a small red fox"' for i in range(cells // 2))
    budget = f"budget_usd = {cap}\n" if cap is not None else ""
    return (f'name = "soak"\nprovider = "compatible"\nmodel = "gpt-image-1-mini"\nprompts = [{prompts}]\n'
            f'[axes]\nquality = ["low", "medium"]\n[params]\nsize = "1024x1024"\n'
            f"[limits]\nconcurrency = 4\nmax_attempts = 1\n{budget}")


def _estimate_max(spec: str) -> Decimal:
    from imagegen.core.catalog import default_catalog
    from imagegen.core.grid import estimate_grid, loads_spec

    return estimate_grid(loads_spec(spec), default_catalog(), datetime.now(UTC).date()).total_cost_usd_max


def _preload() -> None:
    # Everything a run imports, loaded once here so that a forked child starts sending at once.
    import imagegen.cli.runs  # noqa: F401
    import imagegen.execution.providers  # noqa: F401
    import imagegen.execution.runner  # noqa: F401
    import imagegen.execution.settings  # noqa: F401


def _fork_cli(args: list[str], env: dict[str, str], cwd: Path) -> int:
    """Fork a child that runs ``imagegen.cli.main(args)`` (no open SQLite connection crosses the fork)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 70
        try:
            os.chdir(cwd)
            os.environ.update(env)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            from imagegen.cli import main as cli_main

            code = cli_main(args)
        finally:
            os._exit(code)
    return pid


def _exec_cli(args: list[str], env: dict[str, str], cwd: Path) -> int:
    return subprocess.Popen([sys.executable, "-m", "imagegen", *args], cwd=cwd, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid


def _alive(pid: int) -> bool:
    done, _status = os.waitpid(pid, os.WNOHANG)
    return done == 0


def soak(cycles: int = 20, cells: int = 480, seed: int = 1, latency_s: float = 0.05, fork: bool = True,
         kill_at: str = "time") -> dict:
    """Run the soak; return its figures (see the module docstring)."""
    if fork:
        _preload()
    rng = random.Random(seed)
    endpoint = BillingEndpoint(latency_s=latency_s).start()
    tmp = Path(tempfile.mkdtemp(prefix="imagegen-soak-"))
    home = tmp / "home"
    cap = (_estimate_max(spec_text(cells, None)) * Decimal("1.05")).quantize(Decimal("0.0001"))
    spec = tmp / "soak.toml"
    spec.write_text(spec_text(cells, cap), encoding="utf-8")
    env = {"IMAGEGEN_HOME": str(home), "IMAGEGEN_PROVIDER": "compatible",
           "OPENAI_BASE_URL": endpoint.base_url, "OPENAI_API_KEY": "test-key-not-real",
           "PYTHONPATH": str(ROOT), "TQDM_DISABLE": "1"}
    start = _fork_cli if fork else _exec_cli
    run_id: str | None = None
    ok_seen: dict[tuple[int, int], str] = {}   # (cell, repeat) -> sha256 of every ok result ever seen
    lost_ok: list[tuple[int, int]] = []
    kills = killed_in_flight = 0
    t0 = time.perf_counter()
    try:
        for _ in range(cycles * 2):  # until ``cycles`` kills landed mid-run (a child may finish first)
            if kills >= cycles:
                break
            args = ["run", "--resume", run_id] if run_id else ["run", str(spec)]
            # kill_at="time": a random 0-0.3 s after the child's first request arrived; "requests": right
            # after a random 1-6 of its requests arrived (harsher: kills land while requests are in flight)
            before = endpoint.requests
            target = before + (rng.randint(1, 6) if kill_at == "requests" else 1)
            pid = start(args, env, tmp)
            alive = True
            deadline = time.monotonic() + 30
            while endpoint.requests < target and alive and time.monotonic() < deadline:
                time.sleep(0.002)
                alive = _alive(pid)
            if kill_at == "time":
                time.sleep(rng.uniform(0, 0.3))
            if alive and _alive(pid):
                os.kill(pid, signal.SIGKILL)
                kills += 1
                os.waitpid(pid, 0)
            with Store(home) as store:
                run_id = run_id or store.resolve_run_id("latest")
                killed_in_flight += len(store.open_reservations(run_id))
                df = store.results(run_id)
                for row in df[df["status"] == "ok"].itertuples():
                    ok_seen.setdefault((row.cell_id, row.repeat), row.image_sha256)
            if endpoint.requests >= cells:
                break
        final = subprocess.run([sys.executable, "-m", "imagegen", "run", "--resume", str(run_id)], cwd=tmp,
                               env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        with Store(home) as store:
            df = store.results(run_id)
            spent = Decimal(store.run(run_id)["cost_usd"])
            ok = df[df["status"] == "ok"]
            now_ok = {(r.cell_id, r.repeat): r for r in ok.itertuples()}
            for key, sha in ok_seen.items():
                row = now_ok.get(key)
                if row is None or row.image_sha256 != sha:
                    lost_ok.append(key)
                    continue
                data = store.image_path(row.image_path).read_bytes()
                if hashlib.sha256(data).hexdigest() != sha:
                    lost_ok.append(key)
            interrupted = int((df["error_kind"] == "interrupted").sum())
            other = int(((df["status"] != "ok") & (df["error_kind"] != "interrupted")).sum())
    finally:
        endpoint.stop()
    counts = list(endpoint.counts.values())
    return {
        "cycles": cycles, "kills": kills, "cells": cells, "seed": seed, "children": "fork" if fork else "exec",
        "final_exit": final.returncode, "wall_s": round(time.perf_counter() - t0, 1),
        "endpoint_requests": endpoint.requests, "max_requests_per_cell": max(counts, default=0),
        "cells_sent_twice": sum(1 for c in counts if c > 1),
        "incomplete_requests_not_billed": endpoint.incomplete,
        "ok": len(ok), "interrupted": interrupted, "other_not_ok": other, "rows": len(df),
        "ok_results_seen_during_cycles": len(ok_seen), "completed_images_lost": len(lost_ok),
        "open_reservations_found_after_kills": killed_in_flight,
        "endpoint_billed_usd": str(endpoint.billed_usd), "store_counted_usd": str(spent), "cap_usd": str(cap),
        "billed_within_cap": endpoint.billed_usd <= cap, "store_counts_at_least_billed": spent >= endpoint.billed_usd,
        "home": str(home),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--cells", type=int, default=480)
    parser.add_argument("--kill-at", choices=("time", "requests"), default="time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--exec", action="store_true", help="start each child as a fresh python -m imagegen")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    r = soak(args.cycles, args.cells, args.seed, fork=not args.exec, kill_at=args.kill_at)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(f"{r['kills']} kill -9 + resume cycles, {r['cells']} cells, {r['wall_s']} s: "
              f"{r['ok']} ok, {r['interrupted']} interrupted (sent, unanswered, counted as spent), "
              f"{r['other_not_ok']} other; completed images lost {r['completed_images_lost']} "
              f"of {r['ok_results_seen_during_cycles']}; cells sent twice {r['cells_sent_twice']} "
              f"({r['endpoint_requests']} requests at the endpoint); endpoint billed ${r['endpoint_billed_usd']} "
              f"<= cap ${r['cap_usd']}: {r['billed_within_cap']}; store counted ${r['store_counted_usd']}")
    good = (r["completed_images_lost"] == 0 and r["cells_sent_twice"] == 0 and r["billed_within_cap"]
            and r["store_counts_at_least_billed"])
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
