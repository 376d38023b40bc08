"""Money and runners: kill -9 soak, two concurrent resumes, a 3x-billing endpoint, refused stores and runs.

Every case drives the real CLI against ``tests/billing_endpoint.py`` (our own loopback endpoint that
counts and bills each request on receipt; not the simulator). A case holds when the endpoint's own
ledger shows what the issue asks: no cell sent twice, the bill within the cap, nothing sent when refused.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bench.reliability_cases import CaseResult
from bench.soak import soak
from tests.billing_endpoint import BillingEndpoint

GROUP = "money and runners"
DESCRIPTION = ("20 random kill -9 + resume cycles (no completed image lost, no cell sent twice, bill within the "
               "cap); two concurrent resumes; an endpoint billing 3x at concurrency 20; a newer schema, a foreign "
               "SQLite file and an unconfirmed big run refused with exit 2 before anything is sent")
ROOT = Path(__file__).resolve().parents[2]


def _spec(prompts: int, concurrency: int, budget: str | None = None, quality: str = '"low", "medium"') -> str:
    names = ", ".join(f'"p{i} a small red fox"' for i in range(prompts))
    cap = f"budget_usd = {budget}\n" if budget else ""
    return (f'name = "money"\nprovider = "compatible"\nmodel = "gpt-image-1-mini"\nprompts = [{names}]\n'
            f'[axes]\nquality = [{quality}]\n[params]\nsize = "1024x1024"\n'
            f"[limits]\nconcurrency = {concurrency}\nmax_attempts = 1\n{cap}")


def _cli(args: list[str], home: Path, endpoint: BillingEndpoint, cwd: Path, provider: str = "compatible",
         wait: bool = True):
    env = {**os.environ, "IMAGEGEN_HOME": str(home), "IMAGEGEN_PROVIDER": provider,
           "OPENAI_BASE_URL": endpoint.base_url, "OPENAI_API_KEY": "test-key-not-real", "PYTHONPATH": str(ROOT),
           "TQDM_DISABLE": "1"}
    cmd = [sys.executable, "-m", "imagegen", *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120)


def _case(name: str, fn, tmp: Path) -> CaseResult:
    result = CaseResult(GROUP, name)
    t = time.perf_counter()
    try:
        fn(tmp, result)
    except Exception as exc:  # a case never raises: the problem is the finding
        result.problems.append(f"{type(exc).__name__}: {exc}")
    result.wall_s = time.perf_counter() - t
    return result


def soak_case(tmp: Path, r: CaseResult) -> None:
    f = soak(cycles=20, cells=480, seed=1)
    r.figures = {k: str(v) for k, v in f.items() if k != "home"}
    if f["kills"] < 20:
        r.problems.append(f"only {f['kills']} kills happened (the run finished early)")
    if f["completed_images_lost"]:
        r.problems.append(f"{f['completed_images_lost']} completed images lost")
    if f["cells_sent_twice"]:
        r.problems.append(f"{f['cells_sent_twice']} cells sent twice")
    if not f["billed_within_cap"]:
        r.problems.append(f"endpoint billed ${f['endpoint_billed_usd']} over the cap ${f['cap_usd']}")
    if not f["store_counts_at_least_billed"]:
        r.problems.append(f"the store counted ${f['store_counted_usd']}, less than billed ${f['endpoint_billed_usd']}")
    if f["other_not_ok"]:
        r.problems.append(f"{f['other_not_ok']} cells ended in errors other than interrupted")


def concurrent_resumes(tmp: Path, r: CaseResult) -> None:
    endpoint = BillingEndpoint(latency_s=0.2).start()
    try:
        home, spec = tmp / "two", tmp / "two.toml"
        spec.write_text(_spec(6, 2), encoding="utf-8")
        from imagegen.core.catalog import default_catalog
        from imagegen.core.grid import estimate_grid, load_spec
        from imagegen.storage.store import Store

        parsed = load_spec(spec)
        with Store(home) as store:  # a run with nothing recorded yet: all 12 cells missing
            run_id = store.create_run(parsed, estimate_grid(parsed, default_catalog(), datetime.now(UTC).date()), simulated=False)
        procs = [_cli(["run", "--resume", run_id], home, endpoint, tmp, wait=False) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        codes = sorted(p.returncode for p in procs)
        counts = list(endpoint.counts.values())
        r.figures = {"exit codes": str(codes), "requests": str(endpoint.requests), "cells": "12",
                     "max per cell": str(max(counts, default=0))}
        if codes != [0, 2]:
            r.problems.append(f"exit codes {codes}, expected one run (0) and one refusal (2)")
        if not any("already running" in err for _out, err in outs):
            r.problems.append("no 'already running' refusal in either stderr")
        if endpoint.requests != 12 or max(counts, default=0) != 1:
            r.problems.append(f"{endpoint.requests} requests for 12 cells (max {max(counts, default=0)} per cell)")
    finally:
        endpoint.stop()


def triple_billing(tmp: Path, r: CaseResult) -> None:
    endpoint = BillingEndpoint(latency_s=0.1, bill_factor=3).start()
    try:
        from imagegen.core.catalog import default_catalog
        from imagegen.core.grid import estimate_grid, loads_spec

        text = _spec(30, 20)
        cap = estimate_grid(loads_spec(text), default_catalog(), datetime.now(UTC).date()).total_cost_usd_max.quantize(Decimal("0.0001"),
                                                                                            rounding="ROUND_UP")
        spec = tmp / "triple.toml"
        spec.write_text(_spec(30, 20, str(cap)), encoding="utf-8")
        out = _cli(["run", str(spec)], tmp / "triple", endpoint, tmp)
        r.figures = {"cap": f"${cap}", "endpoint billed": f"${endpoint.billed_usd:.6f}",
                     "requests": str(endpoint.requests), "of": "60", "exit": str(out.returncode)}
        if endpoint.billed_usd > cap:
            r.problems.append(f"the endpoint billed ${endpoint.billed_usd} over the cap ${cap}")
        if endpoint.requests == 0:
            r.problems.append("nothing was sent at all")
    finally:
        endpoint.stop()


def refused(tmp: Path, r: CaseResult) -> None:
    endpoint = BillingEndpoint().start()
    try:
        spec = tmp / "small.toml"
        spec.write_text(_spec(2, 2), encoding="utf-8")
        newer = tmp / "newer"
        first = _cli(["run", str(spec)], newer, endpoint, tmp)
        sent = endpoint.requests
        db = sqlite3.connect(newer / "imagegen.db")
        db.execute("INSERT INTO migrations (name, applied_at) VALUES ('m999_future', '2027-01-01')")
        db.commit()
        db.close()
        foreign = tmp / "foreign"
        foreign.mkdir()
        db = sqlite3.connect(foreign / "imagegen.db")
        db.execute("CREATE TABLE photos (id INTEGER)")
        db.commit()
        db.close()
        big = tmp / "big.toml"
        big.write_text(_spec(6, 2).replace('prompts = [', 'repeats = 100\nprompts = [')
                       .replace('"low", "medium"', '"high"').replace("gpt-image-1-mini", "gpt-image-2")
                       .replace('"compatible"', '"openai"'), encoding="utf-8")
        checks = [("newer schema", ["run", str(spec)], newer, "compatible", ["m999_future", "newer"]),
                  ("foreign SQLite file", ["run", str(spec)], foreign, "compatible", ["not an imagegen database"]),
                  ("big run, no terminal, no --yes", ["run", str(big)], tmp / "big", "openai", ["refused", "--yes"])]
        if first.returncode != 0:
            r.problems.append(f"the set-up run failed: {first.stderr[-300:]}")
        for label, args, home, provider, needles in checks:
            out = _cli(args, home, endpoint, tmp, provider=provider)
            if out.returncode != 2:
                r.problems.append(f"{label}: exit {out.returncode}, expected 2")
            missing = [n for n in needles if n not in out.stderr]
            if missing:
                r.problems.append(f"{label}: the message lacks {missing}: {out.stderr[-300:]}")
        if endpoint.requests != sent:
            r.problems.append(f"{endpoint.requests - sent} requests sent by refused runs")
        r.figures = {"refusals": "3", "requests sent by them": str(endpoint.requests - sent)}
    finally:
        endpoint.stop()


def run(tmp: Path) -> list[CaseResult]:
    """Every case of the group."""
    return [_case("kill -9 soak (20 cycles)", soak_case, tmp),
            _case("two concurrent resumes", concurrent_resumes, tmp),
            _case("endpoint billing 3x at concurrency 20", triple_billing, tmp),
            _case("newer schema / foreign file / unconfirmed big run", refused, tmp)]
