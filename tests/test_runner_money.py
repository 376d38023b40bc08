"""Money in the runner: reservations committed before sending, crash accounting on resume, the observed
rate, charges without a bill, and one runner per run (the lease)."""

import os
import socket
import subprocess
import threading
import time
from decimal import Decimal

import pytest

from imagegen.core.catalog import default_catalog
from imagegen.core.grid import estimate_grid, loads_spec
from imagegen.errors import RunBusy
from imagegen.execution.runner import GridRun
from imagegen.storage.store import UNANSWERED_PRICE, Store
from imagegen.storage.writer import UNKNOWN_USAGE_PRICE
from tests.clock import TODAY
from tests.test_runner import FakeProvider, spec_text


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "home")
    yield s
    s.close()


def grid_max(spec: str) -> Decimal:
    return estimate_grid(loads_spec(spec), default_catalog(), TODAY).total_cost_usd_max


def test_an_endpoint_billing_3x_at_concurrency_20_stays_within_the_cap(store):
    base = spec_text(prompts=tuple(f"prompt {i}" for i in range(20)), qualities=("low", "medium"),
                     limits="concurrency = 20")
    cap = (grid_max(base) * Decimal("0.9")).quantize(Decimal("0.0001"))
    spec = base.replace("concurrency = 20", f"concurrency = 20\nbudget_usd = {cap}")
    fake = FakeProvider(latency=0.05, bill_factor=3)
    run = GridRun(spec, provider=fake, store=store, refuse_over_budget=False, today=TODAY)
    summary = run.run()
    billed = sum(Decimal(c) for c in store.results(run.run_id)["cost_usd"])
    assert billed == summary.spent_usd <= cap
    assert summary.ok > 0 and summary.ok + summary.skipped == 40
    assert run.budget.factor > Decimal("2.5")  # later reservations used the rate actually billed
    assert "the rate this run was billed" in " ".join(store.results(run.run_id)["error_message"].dropna())


def test_without_the_observed_rate_the_same_endpoint_would_pass_the_cap(store):
    """The test above can fail: at 1x reservations the first wave alone bills over the cap."""
    base = spec_text(prompts=tuple(f"prompt {i}" for i in range(20)), qualities=("low", "medium"),
                     limits="concurrency = 20")
    cap = grid_max(base) * Decimal("0.9")
    est = estimate_grid(loads_spec(base), default_catalog(), TODAY)
    first_wave = sum(sorted((e.cost_usd_max for e in est.estimates), reverse=True)[:20]) * 3
    assert first_wave > cap


def test_each_reservation_is_committed_before_its_request_is_sent(store, tmp_path):
    seen = []

    def check(req):
        reader = Store(tmp_path / "home")  # another connection: only committed rows are visible
        cell = ("low", "medium").index(req.quality)
        seen.append(cell in {c for c, _r, _a in reader.open_reservations(holder["run"].run_id)})
        reader.close()

    holder = {}
    fake = FakeProvider(on_call=check)
    run = holder["run"] = GridRun(spec_text(limits="concurrency = 1"), provider=fake, store=store, today=TODAY)
    run.run()
    assert seen == [True, True]                      # the request being sent is on record
    assert store.open_reservations(run.run_id) == []  # and settled with its result


def test_usage_missing_keeps_the_reservation_charged_in_the_guard_and_the_store(store):
    fake = FakeProvider(usage=False)
    run = GridRun(spec_text(), provider=fake, store=store, today=TODAY)
    summary = run.run()
    df = store.results(run.run_id)
    reserved = sum(Decimal(c) for c in df["estimated_cost_usd"])
    assert summary.spent_usd == reserved == Decimal(store.run(run.run_id)["cost_usd"])
    assert df["price_entry"].eq(UNKNOWN_USAGE_PRICE).all()


def crashed_run(store: Store, sent: int = 2) -> tuple[str, Decimal]:
    """A run whose process died with ``sent`` requests out: open reservations, no results, no lease."""
    spec = loads_spec(spec_text(prompts=("a", "b"), qualities=("low", "medium"), limits="budget_usd = 1.0"))
    grid = estimate_grid(spec, default_catalog(), TODAY)
    run_id = store.create_run(spec, grid, simulated=True)
    amounts = [grid.estimates[i].cost_usd_max for i in range(sent)]
    for i, amount in enumerate(amounts):
        store.reserve(run_id, i, 0, amount)
    return run_id, sum(amounts, Decimal(0))


def test_resume_counts_unanswered_requests_as_spent_and_says_so(store):
    run_id, lost = crashed_run(store, sent=2)
    fake = FakeProvider()
    resumed = GridRun(None, resume=run_id, provider=fake, store=store, today=TODAY)
    assert resumed.unanswered == (2, lost)
    assert resumed.unanswered_message.startswith(
        f"2 requests were sent but not answered before the crash; ${lost:.4f} counted as spent")
    assert len(resumed.jobs) == 2                     # the two never sent; the unanswered are not paid twice
    summary = resumed.run()
    assert len(fake.calls) == 2 and (summary.unanswered, summary.unanswered_usd) == (2, lost)
    df = store.results(run_id).set_index("cell_id")
    assert df.loc[[0, 1], "error_kind"].eq("interrupted").all()
    assert df.loc[[0, 1], "price_entry"].eq(UNANSWERED_PRICE).all()
    billed = sum(Decimal(c) for c in df.loc[[2, 3], "cost_usd"])
    assert Decimal(store.run(run_id)["cost_usd"]) == summary.spent_usd == lost + billed
    assert store.open_reservations(run_id) == []
    again = GridRun(None, resume=run_id, provider=fake, store=store, retry_errors=True, today=TODAY)
    assert len(again.jobs) == 2 and again.unanswered == (0, Decimal(0))


def test_the_cap_covers_the_whole_run_across_resumes(store):
    run_id, lost = crashed_run(store, sent=2)
    with store.db.write() as conn:  # a cap that the lost reservations have nearly used up
        conn.execute("UPDATE runs SET spec_toml = replace(spec_toml, 'budget_usd = 1.0', ?) WHERE run_id = ?",
                     (f"budget_usd = {lost + Decimal('0.001')}", run_id))
    fake = FakeProvider()
    resumed = GridRun(None, resume=run_id, provider=fake, store=store, refuse_over_budget=False, today=TODAY)
    summary = resumed.run()
    assert fake.calls == [] and summary.skipped == 2
    assert summary.spent_usd == lost <= resumed.budget.cap


def test_a_second_runner_is_refused_while_the_first_holds_the_lease(store):
    fake = FakeProvider(latency=0.3)
    first = GridRun(spec_text(prompts=("a", "b", "c"), limits="concurrency = 1"), provider=fake, store=store, today=TODAY)
    first.start()
    time.sleep(0.1)
    with pytest.raises(RunBusy, match="already running in this process.*--resume takes over"):
        GridRun(None, resume=first.run_id, provider=fake, store=store, today=TODAY)
    assert first.wait(10)
    done = GridRun(None, resume=first.run_id, provider=fake, store=store, today=TODAY)  # free again once finished
    assert done.jobs == []


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize(("host", "pid", "expires_in", "busy"), [
    ("here", "live", 30.0, True),     # a live runner on this machine
    ("here", "dead", 30.0, False),    # kill -9: its process is gone, no need to wait for the expiry
    ("elsewhere", "live", 30.0, True),
    ("elsewhere", "live", -1.0, False),  # its heartbeat stopped: expired
])
def test_a_lease_is_free_after_its_owner_died_or_it_expired(store, host, pid, expires_in, busy):
    run_id, _ = crashed_run(store, sent=0)
    now = time.time()
    with store.db.write() as conn:
        conn.execute("INSERT INTO leases (run_id, owner, host, pid, acquired_at, heartbeat_at, expires_at)"
                     " VALUES (?, 'other', ?, ?, '', ?, ?)",
                     (run_id, socket.gethostname() if host == "here" else "another-host",
                      os.getpid() if pid == "live" else dead_pid(), now, now + expires_in))
    fake = FakeProvider()
    if busy:
        with pytest.raises(RunBusy):
            GridRun(None, resume=run_id, provider=fake, store=store, today=TODAY)
    else:
        assert GridRun(None, resume=run_id, provider=fake, store=store, today=TODAY).run().ok == 4


def test_two_concurrent_resumes_send_each_missing_cell_exactly_once(tmp_path):
    home = tmp_path / "home"
    setup = Store(home)
    run_id, _ = crashed_run(setup, sent=0)
    setup.close()
    fake = FakeProvider(latency=0.05)
    stores = [Store(home), Store(home)]  # two connections, as two processes would have
    runs = [GridRun(None, resume=run_id, provider=fake, store=s, today=TODAY) for s in stores]
    barrier = threading.Barrier(2)
    outcome: list = [None, None]

    def go(i: int) -> None:
        barrier.wait()
        try:
            runs[i].start()
            outcome[i] = runs[i].wait(10) and "ran"
        except RunBusy as exc:
            outcome[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o == "ran" for o in outcome) == [False, True]
    assert "already running" in str(next(o for o in outcome if o != "ran"))
    sent = [(p, q) for p, q, _t in fake.calls]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 4
    for s in stores:
        s.close()
