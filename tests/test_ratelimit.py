"""Token bucket with a fake clock, and the ideal schedule the runner is measured against."""

import threading

import pytest

from imagegen.execution.ratelimit import TokenBucket, ideal_wall_s


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_one_spaces_requests_evenly():
    clock = FakeClock()
    bucket = TokenBucket(60, burst=1, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0.0, 1.0, 2.0, 3.0])


def test_burst_allows_that_many_at_once_then_spaces():
    clock = FakeClock()
    bucket = TokenBucket(120, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(5)] == pytest.approx([0.0, 0.0, 0.0, 0.5, 1.0])


def test_tokens_refill_with_time_but_never_above_burst():
    clock = FakeClock()
    bucket = TokenBucket(60, burst=2, clock=clock)
    bucket.reserve(), bucket.reserve()
    clock.now += 1000  # a long idle time refills only up to the burst
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 1.0])


def test_waits_shrink_as_the_clock_advances():
    clock = FakeClock()
    bucket = TokenBucket(6, clock=clock)  # one every 10 s (Azure's low default quota)
    assert bucket.reserve() == 0.0
    clock.now += 4
    assert bucket.reserve() == pytest.approx(6.0)


def test_defer_holds_later_starts_for_the_retry_after():
    clock = FakeClock()
    bucket = TokenBucket(600, burst=5, clock=clock)
    bucket.defer(2.5)
    first, second = bucket.reserve(), bucket.reserve()
    assert first == pytest.approx(2.5)
    assert second >= 2.5  # no burst right after a 429 pause
    clock.now += 10
    assert bucket.reserve() == 0.0


def test_acquire_returns_false_when_cancelled_while_waiting():
    bucket = TokenBucket(1)  # 60 s between tokens
    assert bucket.acquire() is True
    cancel = threading.Event()
    threading.Timer(0.05, cancel.set).start()
    assert bucket.acquire(cancel) is False


def test_reservations_from_many_threads_get_distinct_slots():
    clock = FakeClock()
    bucket = TokenBucket(60, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def take():
        w = bucket.reserve()
        with lock:
            waits.append(w)

    threads = [threading.Thread(target=take) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == pytest.approx([float(i) for i in range(50)])


@pytest.mark.parametrize("bad", [{"rpm": 0}, {"rpm": -1}, {"rpm": 10, "burst": 0}])
def test_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        TokenBucket(**bad)


def test_ideal_without_rpm_is_waves_of_concurrency():
    assert ideal_wall_s(27, 1.0, 9) == pytest.approx(3.0)
    assert ideal_wall_s(28, 1.0, 9) == pytest.approx(4.0)
    assert ideal_wall_s(0, 1.0, 9) == 0.0


def test_ideal_with_rpm_is_bound_by_the_token_schedule():
    # 12 requests at 240 rpm: the last may start at 11 * 0.25 s, then takes its latency
    assert ideal_wall_s(12, 0.5, 12, rpm=240) == pytest.approx(11 * 0.25 + 0.5)
    # concurrency 1 dominates when latency is longer than the token interval
    assert ideal_wall_s(4, 1.0, 1, rpm=240) == pytest.approx(4.0)
    # a burst lets the first requests start together
    assert ideal_wall_s(4, 1.0, 4, rpm=60, burst=4) == pytest.approx(1.0)


def test_ideal_matches_a_bucket_driven_schedule():
    """The bound equals what a perfect dispatcher gets from the bucket with a fake clock."""
    clock = FakeClock()
    bucket = TokenBucket(120, clock=clock)
    latency, conc, n = 0.7, 3, 10
    ends: list[float] = []
    start0 = clock.now
    for i in range(n):
        if i >= conc:
            clock.now = max(clock.now, ends[i - conc])
        start = clock.now + bucket.reserve()
        ends.append(start + latency)
    assert max(ends) - start0 == pytest.approx(ideal_wall_s(n, latency, conc, rpm=120))
