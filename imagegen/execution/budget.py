"""The budget guard: reserve before sending, settle on the answer, so spent + reserved never passes the cap.

Each request reserves its estimated maximum times the *observed cost factor* before it is sent: the
highest billed / estimated-maximum ratio seen so far in the run (never below 1; seeded from the run's
earlier results on resume). So after one answer billed 3x its estimate, every later reservation is 3x
too and requests already in flight are counted at 3x as well: the cap holds at any concurrency. Until the
first bill is seen, requests go concurrently only while even ``PROBE_FACTOR`` times their estimates fits
in what is left; otherwise one at a time, so a single answer shows the rate before more money goes out.

What a request settles to is what it *charged*: its billed cost, or, when no usage says what it billed
(usage that fails the checks, a crash), the reservation itself; nothing that was charged is given back.
"""

from __future__ import annotations

import threading
from decimal import Decimal

#: Before the first bill, concurrency is allowed while this multiple of the in-flight estimates fits.
PROBE_FACTOR = Decimal(4)


class BudgetGuard:
    """Reserve-then-settle accounting that keeps ``spent + reserved <= cap`` at every moment."""

    def __init__(self, cap: Decimal | None, spent: Decimal = Decimal(0), factor: Decimal | None = None) -> None:
        self.cap = cap
        self.spent = spent
        self.factor = max(Decimal(1), factor) if factor is not None else Decimal(1)
        self.observed = factor is not None     # a bill has been seen (in this run or, on resume, before)
        self._estimates = Decimal(0)           # estimated maxima of the requests in flight
        self._in_flight = 0
        self._cond = threading.Condition()

    @property
    def reserved(self) -> Decimal:
        """What the requests in flight hold, at the current factor."""
        return self._estimates * self.factor

    def amount(self, estimate: Decimal) -> Decimal:
        """What a request with this estimated maximum reserves now."""
        return estimate * self.factor

    def _fits(self, estimate: Decimal) -> bool:
        assert self.cap is not None
        if self.spent + (self._estimates + estimate) * self.factor > self.cap:
            return False
        if self.observed or self._in_flight == 0:
            return True
        return self.spent + (self._estimates + estimate) * PROBE_FACTOR <= self.cap

    def reserve(self, estimate: Decimal, cancel: threading.Event | None = None) -> Decimal | bool | None:
        """Reserve for a request: the amount reserved, ``False`` when it can never fit, ``None`` when cancelled.

        Waits while in-flight reservations might still be released (they settle to what they charged,
        which is usually below the reservation).
        """
        with self._cond:
            while True:
                if self.cap is None or self._fits(estimate):
                    self._estimates += estimate
                    self._in_flight += 1
                    return self.amount(estimate)
                if self.spent + self.amount(estimate) > self.cap or self._in_flight == 0:
                    return False
                if cancel is not None and cancel.is_set():
                    return None
                self._cond.wait(0.05)

    def settle(self, estimate: Decimal, charged: Decimal, billed: Decimal | None = None) -> None:
        """Release a reservation and charge what it cost; a billed cost updates the observed factor."""
        with self._cond:
            self._estimates -= estimate
            self._in_flight -= 1
            self.spent += charged
            if billed is not None and estimate > 0:
                self.factor = max(self.factor, billed / estimate)
                self.observed = True
            self._cond.notify_all()


#: The CLI asks before a run above either threshold (the dashboard has its own, configurable one).
CONFIRM_OVER_USD = Decimal(10)
CONFIRM_OVER_REQUESTS = 1000


def confirmation_reason(max_usd: Decimal, requests: int, simulated: bool) -> str | None:
    """Why a run needs the user's confirmation before it is sent, or None (simulated runs spend nothing)."""
    if simulated:
        return None
    why = []
    if max_usd > CONFIRM_OVER_USD:
        why.append(f"it may cost up to ${max_usd:.2f} (more than ${CONFIRM_OVER_USD:.0f})")
    if requests > CONFIRM_OVER_REQUESTS:
        why.append(f"it sends {requests:,} requests (more than {CONFIRM_OVER_REQUESTS:,})")
    return " and ".join(why) or None
