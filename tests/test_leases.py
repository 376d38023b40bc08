"""One runner per run: the lease row, its heartbeat and expiry (clock injected, no sleeping)."""

import pytest

from imagegen.core.catalog import default_catalog
from imagegen.core.grid import estimate_grid, loads_spec
from imagegen.errors import RunBusy
from imagegen.storage.leases import Lease
from imagegen.storage.store import Store
from tests.clock import TODAY

SPEC = 'provider = "simulator"\nmodel = "gpt-image-1.5"\nprompts = ["a red fox"]\n'


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "home")
    yield s
    s.close()


def test_a_live_lease_refuses_others_until_it_expires_and_then_the_holder_learns_it_lost_it(store):
    spec = loads_spec(SPEC)
    run_id = store.create_run(spec, estimate_grid(spec, default_catalog(), TODAY), simulated=True)
    clock = Clock()
    first, second = Lease(store.db, run_id, clock, ttl_s=15), Lease(store.db, run_id, clock, ttl_s=15)
    first.acquire()
    with pytest.raises(RunBusy, match=f"run {run_id} is already running in this process"):
        second.acquire()
    clock.now += 10
    assert first.heartbeat()                 # renewed: 15 s from now
    clock.now += 10
    with pytest.raises(RunBusy):
        second.check_free()
    clock.now += 6                           # 16 s since the last heartbeat: expired
    second.check_free()
    second.acquire()
    assert not first.heartbeat()             # taken over: the old holder stops sending
    first.release()                          # releasing what is no longer ours changes nothing
    assert store.lease(run_id).current().owner == second.owner
    second.release()
    assert store.lease(run_id).current() is None
