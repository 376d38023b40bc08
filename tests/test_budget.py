"""The budget guard: reserve at the observed rate, probe before the first bill, never give back a charge."""

import threading
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from imagegen.execution.budget import CONFIRM_OVER_REQUESTS, BudgetGuard, confirmation_reason

D = Decimal


def test_after_a_bill_above_the_estimate_reservations_use_the_observed_rate():
    guard = BudgetGuard(D("10"))
    assert guard.reserve(D("1")) == D("1")
    guard.settle(D("1"), D("3"), billed=D("3"))             # billed 3x its estimate
    assert guard.factor == D("3") and guard.observed
    assert guard.reserve(D("1")) == D("3")                    # later reservations hold 3x
    assert guard.reserved == D("3") and guard.spent == D("3")
    assert guard.reserve(D("3")) is False                     # 3 spent + 9 > 10: can never fit at 3x
    assert guard.spent + guard.reserved <= guard.cap


def test_in_flight_reservations_are_recounted_when_the_rate_rises():
    guard = BudgetGuard(D("10"), factor=D("1"))               # observed already (a resume, say)
    for _ in range(4):
        assert guard.reserve(D("1")) == D("1")
    guard.settle(D("1"), D("2.5"), billed=D("2.5"))
    # three still out, now counted at 2.5x: 2.5 + 3 x 2.5 = 10, no room for another
    assert guard.spent + guard.reserved == D("10")
    stop = threading.Event()
    stop.set()
    assert guard.reserve(D("0.1"), stop) is None               # would have to wait: cancelled instead


def test_before_the_first_bill_a_tight_cap_sends_one_request_at_a_time():
    guard = BudgetGuard(D("10"))
    assert guard.reserve(D("2")) == D("2")
    stop = threading.Event()
    stop.set()
    assert guard.reserve(D("1"), stop) is None                # 4 x (2 + 1) > 10: wait for the first bill
    guard.settle(D("2"), D("2"), billed=D("2"))
    assert guard.reserve(D("1")) == D("1") and guard.reserve(D("1")) == D("1")


def test_a_roomy_cap_does_not_probe():
    guard = BudgetGuard(D("100"))
    assert all(guard.reserve(D("1")) == D("1") for _ in range(20))  # 4 x 20 <= 100: all at once


def test_a_charge_without_a_bill_is_kept_and_does_not_change_the_rate():
    guard = BudgetGuard(D("5"))
    guard.reserve(D("2"))
    guard.settle(D("2"), D("2"))                              # usage unknown: the reservation stays charged
    assert (guard.spent, guard.factor, guard.observed) == (D("2"), D("1"), False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 400)), min_size=1, max_size=40),
       st.integers(20, 500))
def test_spent_plus_reserved_never_passes_the_cap_when_bills_stay_within_the_observed_rate(jobs, cap_cents):
    """Sequential model: each job bills ratio% of its estimate; after the first bill at the highest rate, never over."""
    cap = D(cap_cents) / 100
    top = max(r for _e, r in jobs)
    guard = BudgetGuard(cap, factor=D(max(top, 100)) / 100)   # rate known up front (as after a probe)
    for est_cents, ratio in jobs:
        est = D(est_cents) / 100
        got = guard.reserve(est)
        if got is False:
            continue
        assert guard.spent + guard.reserved <= cap
        bill = est * ratio / 100
        guard.settle(est, bill, billed=bill)
        assert guard.spent <= cap


def test_confirmation_thresholds():
    assert confirmation_reason(D("10.01"), 5, simulated=False).startswith("it may cost up to $10.01")
    assert confirmation_reason(D("10"), 5, simulated=False) is None
    assert "1,001 requests" in confirmation_reason(D("1"), CONFIRM_OVER_REQUESTS + 1, simulated=False)
    assert confirmation_reason(D("5000"), 50_000, simulated=True) is None   # simulated runs spend nothing
