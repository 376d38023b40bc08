"""Grid runs: every cell x repeat of a spec, concurrently, politely, within budget, nothing lost.

Everything is validated and priced (``estimate_grid``) before the first request; a spec whose
estimated maximum is over ``[limits] budget_usd`` is refused with ``BudgetExceeded`` and an invalid
one with ``InvalidRequest`` / ``SpecError``, all raised by the ``GridRun`` constructor.

API (the dashboard codes against this)::

    run = GridRun(spec, provider=None, store=None, catalog=None, on_event=None, settings=None,
                  resume=None, reuse=False, retry_errors=False, refuse_over_budget=True, name=None,
                  today=DATE)      # required: the date validation, lifecycles and prices use (the caller's clock)
    run.estimate                 # GridEstimate (cells, per-cell estimates, totals) - nothing sent yet
    run.total                    # cell x repeat results this run will end with
    run.jobs                     # the cell x repeats still to send (fewer than total when resuming)
    run.start()                  # background thread; returns the run id at once
    run.poll() -> list[RunEvent] # drain new events without blocking (safe from the Streamlit thread;
                                 # the last ``event_buffer`` = 2000 are kept between polls)
    run.events(timeout=None)     # iterator over events until (and including) the "finished" event
    run.cancel()                 # stop dispatching now; wait() returns within 1 s
    run.wait(timeout=None) -> bool
    run.done, run.run_id, run.summary (RunSummary once done), run.error (exception that failed the run)
    run.run() -> RunSummary      # blocking: start() + wait(); Ctrl-C cancels
    run_grid(spec, **same keywords) -> RunSummary

``spec`` is a ``GridSpec``, a path to a spec file or spec TOML text (``None`` with ``resume``).
``provider`` is one Provider for every cell, a mapping ``{provider name: Provider}``, a callable
``name -> Provider``, or None to build them from settings (``imagegen.execution.providers``).

Events (``RunEvent``): ``started`` (total known), ``retry`` (an attempt failed and will be retried
after ``delay_s``; ``message`` says why), ``result`` (one cell x repeat recorded; ``row`` is its
``result_rows`` dict, columns of ``imagegen/columns.py``) and ``finished`` (``summary`` set). Every
event carries ``done``/``total`` and ``spent_usd``. Events come from worker threads: they go to
``on_event`` (called in that thread: keep it short, never touch Streamlit from it) and to a
thread-safe queue read by ``poll()``/``events()``. After a cancel, requests already in flight keep
going; their results are still recorded (and may emit late ``result`` events).

Scheduling: at most ``[limits] concurrency`` requests in flight; with ``[limits] rpm`` each
(provider, deployment or model) gets a token bucket (burst 1, so requests are evenly spaced).
Retryable errors (``ProviderError.retryable``) are retried up to ``max_attempts`` attempts,
honouring Retry-After (which also pauses that bucket) else capped exponential backoff with jitter;
every attempt is recorded. Budget: each request reserves its maximum estimated cost before it is
dispatched and settles to its billed cost when it ends, so spent + reserved never passes the cap;
a request that cannot fit even with nothing in flight is recorded ``skipped``. With the default
``refuse_over_budget=True`` a grid whose maximum is over the cap never starts; ``False`` runs what
fits. (A response billed above its estimated maximum is charged as billed; later requests then
see less room.) Providers are built in the constructor, so a missing key is refused up front too.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from imagegen.core.catalog import Catalog, default_catalog
from imagegen.core.grid import Cell, GridEstimate, GridSpec, estimate_grid, loads_spec, read_spec, scrub_secrets
from imagegen.core.pricing import Billed, Estimate, Usage, billed_cost
from imagegen.core.request import ImageRequest
from imagegen.core.results import Attempt, Generation
from imagegen.errors import (
    BudgetExceeded,
    ConfigError,
    ErrorKind,
    ImagegenError,
    ProviderError,
    SpecError,
    StoreError,
)
from imagegen.execution.budget import BudgetGuard, confirmation_reason
from imagegen.execution.ratelimit import TokenBucket, ideal_wall_s
from imagegen.execution.retry import DEFAULT_BACKOFF, Backoff, is_retryable
from imagegen.redaction import redact
from imagegen.storage.leases import HEARTBEAT_S, Lease
from imagegen.storage.store import MISSING_STATUSES, ResultRecord, Store

if TYPE_CHECKING:  # the providers package imports the openai SDK; load it only when a run needs it
    from imagegen.execution.providers.base import Provider
    from imagegen.execution.simulator.config import SimulatorConfig

__all__ = ["GridRun", "RunEvent", "RunSummary", "BudgetGuard", "run_grid", "ideal_wall_s"]

ProviderArg = "Provider | Mapping[str, Provider] | Callable[[str], Provider] | None"
#: Longest Retry-After honoured when the spec does not set ``[limits] max_retry_after_s``.
DEFAULT_MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class RunEvent:
    """Progress of a run: ``kind`` is started | retry | result | finished."""

    kind: str
    run_id: str
    cell_id: int | None = None
    repeat: int | None = None
    row: dict | None = None
    done: int = 0
    total: int = 0
    spent_usd: Decimal = Decimal(0)
    message: str = ""
    delay_s: float | None = None
    summary: RunSummary | None = None


@dataclass(frozen=True)
class RunSummary:
    """How a run ended. ``in_flight`` counts requests still out when a cancel returned."""

    run_id: str
    status: str                      # finished | cancelled | failed
    total: int
    ok: int
    errors: int
    cancelled: int
    skipped: int
    reused: int
    in_flight: int
    spent_usd: Decimal
    estimate_min_usd: Decimal
    estimate_max_usd: Decimal
    budget_usd: Decimal | None
    wall_s: float
    error_kinds: dict[str, int] = field(default_factory=dict)
    simulated: bool = False
    unanswered: int = 0                  # requests sent but never answered before a crash (counted as spent)
    unanswered_usd: Decimal = Decimal(0)

    @property
    def exit_code(self) -> int:
        """0 when every cell x repeat succeeded, else 1 (the CLI's convention)."""
        return 0 if self.ok == self.total else 1


@dataclass(frozen=True)
class Job:
    """One cell x repeat to run."""

    cell: Cell
    repeat: int
    estimate: Estimate

    @property
    def max_cost(self) -> Decimal:
        return self.estimate.cost_usd_max


def _read_spec(spec: GridSpec | str | Path, result_file=None) -> tuple[GridSpec, str]:
    """(parsed spec, its TOML text as stored with the run); its [simulator] table is checked too."""
    if isinstance(spec, GridSpec):
        # Built in code (the dashboard): check it as the file it is stored as, so resume reads it back.
        text, where = spec.to_toml(), "spec"
        reread = loads_spec(text, where)
        # A key typed into a prompt or name is replaced before anything is sent or stored (scrub_secrets).
        parsed = replace(reread, inputs=spec.inputs) if reread.notes else spec
        text = scrub_secrets(text)[0]
    elif isinstance(spec, Path) or (isinstance(spec, str) and "\n" not in spec and spec.endswith(".toml")):
        parsed, text = read_spec(spec, result_file)  # result:<id> inputs come from the store
        where = str(spec)
    else:
        parsed, where = loads_spec(str(spec)), "spec"
        text = scrub_secrets(str(spec))[0]
    check_simulator(parsed, where)
    return parsed, text


def _stored_inputs(spec: GridSpec, store: Store, run_id: str) -> GridSpec:
    """An edit run's spec with the input images and mask it was started with, read back from the store."""
    from imagegen.core.editinputs import EditInput, EditInputs

    rows = store.run_inputs(run_id)
    items = [EditInput(r["source"], store.input_file(r["sha256"]), r["format"], r["width"], r["height"])
             for r in rows]
    images = tuple(i for i, r in zip(items, rows) if r["role"] == "image")
    mask = next((i for i, r in zip(items, rows) if r["role"] == "mask"), None)
    markup = next((i for i, r in zip(items, rows) if r["role"] == "markup"), None)
    return replace(spec, inputs=EditInputs(images, mask, markup)) if images else spec


def check_simulator(spec: GridSpec, where: str = "spec") -> SimulatorConfig:
    """The spec's ``[simulator]`` table as a config; SpecError naming the key, value and fix when it is wrong."""
    from imagegen.execution.simulator.config import SimulatorConfig  # light: pydantic + core only

    return SimulatorConfig.from_dict(spec.simulator, where=where, error=SpecError)


def _needs_azure(spec: GridSpec) -> bool:
    return spec.provider == "azure" or "azure" in spec.axes.get("provider", ())


def _load_settings():
    from imagegen.execution.settings import load_settings  # written alongside the providers; optional here

    return load_settings()


def default_provider_factory(spec: GridSpec, settings=None) -> Callable[[str], Provider]:
    """Providers by name: ``simulator`` is the in-process simulator configured by the spec's
    ``[simulator]`` table; the others come from settings (environment, ``.env``, secrets), so a
    ``compatible`` spec reaches whatever ``OPENAI_BASE_URL`` names (a simulator server, say)."""
    def make(name: str) -> Provider:
        from imagegen.execution import providers

        if name == "simulator":
            return providers.make_simulator_provider(spec.simulator or None)
        cfg = settings if settings is not None else _load_settings()
        return providers.make_provider(cfg.for_provider(name))
    return make


class GridRun:
    """One grid run; see the module docstring for the API."""

    def __init__(self, spec: GridSpec | str | Path | None = None, *, provider: ProviderArg = None,
                 store: Store | None = None, catalog: Catalog | None = None,
                 on_event: Callable[[RunEvent], None] | None = None, resume: str | None = None,
                 reuse: bool = False, retry_errors: bool = False, input_files: Sequence[bytes] = (),
                 settings=None, backoff: Backoff = DEFAULT_BACKOFF, rng: random.Random | None = None,
                 refuse_over_budget: bool = True, name: str | None = None, today: date,
                 event_buffer: int = 2000) -> None:
        self.store = store if store is not None else Store()
        self.catalog = catalog if catalog is not None else default_catalog()
        self.on_event = on_event
        self.reuse = reuse
        self._retry_errors = retry_errors
        self.input_files = tuple(input_files)
        self.backoff = backoff
        self.rng = rng or random.Random()
        self.name = name
        self._today = today
        self.run_id: str | None = None
        prior: dict[tuple[int, int], str] = {}
        spent = Decimal(0)
        factor: Decimal | None = None
        self.lease: Lease | None = None
        #: (requests sent but never answered before a crash, the amount counted as spent for them)
        self.unanswered: tuple[int, Decimal] = (0, Decimal(0))
        if resume is not None:
            info = self.store.run(resume)
            self.run_id = info["run_id"]
            # A second runner for this run is refused before anything else (its lease is alive).
            self.lease = self.store.lease(self.run_id)
            self.lease.check_free()
            spec_toml = info["spec_toml"]
            parsed = loads_spec(spec_toml, where=f"run {self.run_id}'s stored spec")
            check_simulator(parsed, f"run {self.run_id}'s stored spec")
            if parsed.edit is not None:  # the inputs as stored with the run (the paths may have moved since)
                parsed = _stored_inputs(parsed, self.store, self.run_id)
            prior = self.store.result_statuses(self.run_id)
            spent = Decimal(info["cost_usd"] or "0")
            factor = self.store.observed_cost_factor(self.run_id)
            # Sent and never answered: counted as spent, recorded as interrupted errors at start().
            lost = self.store.open_reservations(self.run_id)
            for cell_id, repeat, _amount in lost:
                prior[(cell_id, repeat)] = "error"
            self.unanswered = (len(lost), sum((a for _c, _r, a in lost), Decimal(0)))
            spent += self.unanswered[1]
        elif spec is None:
            raise ConfigError("no spec given. Fix: pass a spec file (or resume=RUN_ID).")
        else:
            parsed, spec_toml = _read_spec(spec, self.store.result_image)
        if _needs_azure(parsed):
            settings = settings if settings is not None else _load_settings()
            merged = {**dict(getattr(settings, "deployments", {}) or {}), **parsed.deployments}
            parsed = replace(parsed, deployments=merged)
        self.spec = parsed
        self.spec_toml = spec_toml
        if parsed.inputs is not None and not self.input_files:  # [edit]: the files read with the spec
            self.input_files = parsed.inputs.files
        self.input_mask = parsed.inputs.mask.data if parsed.inputs is not None and parsed.inputs.mask else None
        self.input_markup = parsed.inputs.markup.data if parsed.inputs is not None and parsed.inputs.markup else None
        self.settings = settings
        # Validate and price everything before anything is sent (raises InvalidRequest).
        self.estimate: GridEstimate = estimate_grid(parsed, self.catalog, today)
        redo = set(MISSING_STATUSES) | ({"error"} if retry_errors else set())
        self.jobs: list[Job] = [
            Job(cell, r, est)
            for r in range(parsed.repeats)
            for cell, est in zip(self.estimate.cells, self.estimate.estimates)
            if (cell.index, r) not in prior or prior[(cell.index, r)] in redo
        ]
        self.total = self.estimate.requests
        self._already = self.total - len(self.jobs)
        cap = parsed.limits.budget_usd
        self.budget = BudgetGuard(cap, spent, factor)
        needed = spent + sum((self.budget.amount(j.max_cost) for j in self.jobs), Decimal(0))
        if refuse_over_budget and cap is not None and needed > cap:
            what = "the remaining cells' estimated maximum plus what the run spent" if resume else \
                "the estimate's maximum"
            rate = f" (at {self.budget.factor:.2f}x the estimate, the rate this run was billed)" \
                if self.budget.factor > 1 else ""
            raise BudgetExceeded(
                f"{what} ${needed:.4f}{rate} is over the budget ${cap:.4f} ([limits] budget_usd). "
                "Fix: raise budget_usd, shrink the grid (fewer cells, repeats or a lower quality), "
                "or allow a partial run.")
        self._providers = self._provider_lookup(provider)
        # Build every provider now: a missing key or endpoint is refused before anything is sent,
        # and the first requests do not wait for client set-up.
        # A run is simulated from the start when any provider it uses is the simulator (so a run
        # cancelled before its first answer is still labelled simulated, never measured).
        built = [self._providers(name) for name in sorted({job.cell.request.provider for job in self.jobs})]
        self._uses_simulator = any(getattr(p, "simulated", False) for p in built)
        self._limiters: dict[tuple[str, str], TokenBucket] = {}
        self._cancel = threading.Event()
        self._done = threading.Event()
        # Bounded so that an unpolled run never grows: the oldest events go first (``finished`` is last).
        self._events: deque[RunEvent] = deque(maxlen=event_buffer)
        self._events_ready = threading.Condition()
        self._lock = threading.Lock()
        self._emit_lock = threading.Lock()
        self._slots_free = threading.Condition(self._lock)
        self._in_flight = 0      # requests holding a concurrency slot
        self._unfinished = 0     # submitted jobs not yet recorded
        self._counts: Counter[str] = Counter()
        self._error_kinds: Counter[str] = Counter()
        self._simulated = self._uses_simulator
        self._thread: threading.Thread | None = None
        self._t0: float | None = None
        self._heartbeat: threading.Thread | None = None
        self._main_over = False
        self._idle = threading.Event()   # dispatcher over and nothing in flight: the lease is given up
        self.summary: RunSummary | None = None
        self.error: BaseException | None = None

    # -- set-up --------------------------------------------------------------------------------

    def _provider_lookup(self, provider: ProviderArg) -> Callable[[str], Provider]:
        cache: dict[str, Provider] = {}
        lock = threading.Lock()
        if provider is None:
            factory = default_provider_factory(self.spec, self.settings)
        elif isinstance(provider, Mapping):
            given = provider

            def factory(name: str) -> Provider:
                if name not in given:
                    raise ConfigError(f"no provider given for {name!r} cells (have {sorted(given)}). "
                                      f"Fix: pass provider={{{name!r}: ...}} too.")
                return given[name]
        elif callable(provider) and not hasattr(provider, "generate"):
            factory = provider
        else:
            return lambda _name: provider  # type: ignore[return-value]

        def get(name: str) -> Provider:
            with lock:
                if name not in cache:
                    cache[name] = factory(name)
                return cache[name]
        return get

    def _limiter(self, req: ImageRequest) -> TokenBucket | None:
        rpm = self.spec.limits.rpm
        if rpm is None:
            return None
        key = (req.provider, req.deployment or req.model)
        with self._lock:
            if key not in self._limiters:
                self._limiters[key] = TokenBucket(rpm, burst=1)
            return self._limiters[key]

    # -- public API ----------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def simulated(self) -> bool:
        """True when any figure of this run comes (or will come) from the simulator."""
        return self._simulated

    def start(self) -> str:
        """Create (or reopen) the run in the store and run it in a background thread; return its id."""
        if self._thread is not None:
            raise ImagegenError("this GridRun was already started. Fix: create a new GridRun.")
        if self.run_id is None:
            # The user's own text is stored (comments, nested [simulator] tables survive).
            self.run_id = self.store.create_run(self.spec, self.estimate, simulated=self._uses_simulator,
                                                input_files=self.input_files, name=self.name,
                                                spec_toml=self.spec_toml)
            self.lease = self.store.lease(self.run_id)
            self.lease.acquire()
        else:
            assert self.lease is not None
            self.lease.acquire()  # raises RunBusy when another runner took the run since the constructor
            try:
                self._take_over()
            except BaseException:
                self.lease.release()
                raise
        self._heartbeat = threading.Thread(target=self._beat, name=f"imagegen-lease-{self.run_id}", daemon=True)
        self._heartbeat.start()
        self._thread = threading.Thread(target=self._main, name=f"imagegen-run-{self.run_id}", daemon=True)
        self._thread.start()
        return self.run_id

    def _take_over(self) -> None:
        """With the lease held: count unanswered requests as spent, drop jobs another runner finished."""
        assert self.run_id is not None
        n, amount = self.store.count_unanswered(self.run_id, simulated=self._uses_simulator)
        self.unanswered = (n, amount)
        statuses = self.store.result_statuses(self.run_id)
        redo = set(MISSING_STATUSES) | ({"error"} if self._retry_errors else set())
        still = [j for j in self.jobs if statuses.get((j.cell.index, j.repeat), "cancelled") in redo]
        self._already += len(self.jobs) - len(still)
        self.jobs = still
        info = self.store.run(self.run_id)
        with self.budget._cond:
            self.budget.spent = Decimal(info["cost_usd"] or "0")
        self.store.reopen_run(self.run_id)

    @property
    def unanswered_message(self) -> str:
        """"3 requests were sent but not answered before the crash; $0.0183 counted as spent" (or "")."""
        n, amount = self.unanswered
        if not n:
            return ""
        what = "1 request was" if n == 1 else f"{n} requests were"
        return (f"{what} sent but not answered before the crash; ${amount:.4f} counted as spent "
                f"(recorded as interrupted errors; --retry-errors sends them again)")

    @property
    def remaining_max_usd(self) -> Decimal:
        """What the jobs still to send may cost at most (estimated maxima x the observed rate)."""
        return sum((self.budget.amount(j.max_cost) for j in self.jobs), Decimal(0))

    def confirmation_reason(self) -> str | None:
        """Why this run needs confirmation before it is sent (None for simulated runs or small ones)."""
        return confirmation_reason(self.remaining_max_usd, len(self.jobs), self._uses_simulator)

    def _beat(self) -> None:
        """Renew the lease while the run goes on; a lost lease stops dispatching."""
        assert self.lease is not None
        while not self._idle.wait(HEARTBEAT_S):
            try:
                alive = self.lease.heartbeat()
            except Exception:  # a busy database now and then is not a lost lease
                continue
            if not alive:
                self.error = self.error or ImagegenError(
                    f"run {self.run_id} lost its lease (this process stalled longer than the lease lasts and "
                    "another runner took over). Fix: let the other runner finish; nothing more is sent from here.")
                self._cancel.set()
                return

    def cancel(self) -> None:
        """Stop dispatching at once; never-sent cells are recorded ``cancelled``."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (True) or ``timeout`` passes (False)."""
        return self._done.wait(timeout)

    def poll(self) -> list[RunEvent]:
        """Every event not yet taken, without blocking (the last ``event_buffer`` at most)."""
        with self._events_ready:
            out = list(self._events)
            self._events.clear()
        return out

    def events(self, timeout: float | None = None) -> Iterator[RunEvent]:
        """Yield events until the ``finished`` event (inclusive); stop early after ``timeout`` of silence."""
        while True:
            with self._events_ready:
                if not self._events and not self._events_ready.wait_for(lambda: bool(self._events), timeout):
                    return
                event = self._events.popleft()
            yield event
            if event.kind == "finished":
                return

    def run(self) -> RunSummary:
        """Blocking run; Ctrl-C cancels (in-flight results are still recorded) and re-raises.

        Events go to ``on_event``; the queue is drained here (nobody else polls a blocking run).
        """
        self.start()
        try:
            while not self._done.wait(0.1):
                self.poll()
        except KeyboardInterrupt:
            self.cancel()
            self._done.wait(2.0)
            raise
        if self.error is not None:
            raise self.error
        assert self.summary is not None
        return self.summary

    # -- the dispatcher (background thread) ----------------------------------------------------

    def _emit(self, kind: str, outcome: str | None = None, error_kind: str | None = None, **kw) -> None:
        # One lock around counting and delivery: events arrive in order with done = 1, 2, 3 ...
        with self._emit_lock:
            with self._lock:
                if outcome is not None:
                    self._counts[outcome] += 1
                if error_kind:
                    self._error_kinds[error_kind] += 1
                done = self._already + sum(self._counts.values())
            event = RunEvent(kind, self.run_id or "", done=done, total=self.total, spent_usd=self.budget.spent, **kw)
            with self._events_ready:
                self._events.append(event)
                self._events_ready.notify_all()
            if self.on_event is not None:
                with contextlib.suppress(Exception):  # a broken display must not break the run
                    self.on_event(event)

    def _main(self) -> None:
        t0 = self._t0 = time.perf_counter()
        status = "finished"
        try:
            note = f"; {self.unanswered_message}" if self.unanswered[0] else ""
            self._emit("started", message=f"{len(self.jobs)} of {self.total} requests to run{note}")
            pending = deque(self.jobs)
            if self.reuse:
                pending = deque(self._reuse(list(pending)))
            self._dispatch(pending)
            status = "cancelled" if self._cancel.is_set() else "finished"
        except BaseException as exc:  # recorded, re-raised by run(); the store keeps what completed
            self.error = exc
            status = "failed"
        if self.error is not None:
            status = "failed"
        wall = time.perf_counter() - t0
        try:
            self.store.finish_run(self.run_id or "", status, wall)
        except Exception as exc:
            self.error = self.error or exc
        with self._lock:
            c, in_flight = dict(self._counts), self._unfinished
            kinds = dict(self._error_kinds)
        # Count from the store so a resumed run reports the whole run, not just this session.
        statuses = Counter(self.store.result_statuses(self.run_id or "").values())
        self.summary = RunSummary(
            run_id=self.run_id or "", status=status, total=self.total, ok=statuses["ok"],
            errors=statuses["error"], cancelled=statuses["cancelled"], skipped=statuses["skipped"],
            reused=c.get("reused", 0),
            in_flight=in_flight, spent_usd=self.budget.spent,
            estimate_min_usd=self.estimate.total_cost_usd_min, estimate_max_usd=self.estimate.total_cost_usd_max,
            budget_usd=self.spec.limits.budget_usd, wall_s=wall, error_kinds=kinds, simulated=self._simulated,
            unanswered=self.unanswered[0], unanswered_usd=self.unanswered[1])
        with self._lock:
            self._main_over = True
            self._release_if_idle()
        self._emit("finished", summary=self.summary, message=status)
        self._done.set()

    def _reuse(self, jobs: list[Job]) -> list[Job]:
        """Record identical past results for what history covers; return the jobs still to send."""
        left = []
        by_key: dict[str, list[int]] = {}
        keys = self.store.request_keys(self.run_id or "")
        for job in jobs:
            key = keys[job.cell.index]
            if key not in by_key:
                by_key[key] = self.store.reuse_candidates(key, exclude_run=self.run_id)
            candidates = by_key[key]
            if not candidates or self._cancel.is_set():
                left.append(job)
                continue
            result_id = self.store.record_reuse(self.run_id or "", job.cell.index, job.repeat, candidates.pop(0))
            self._finish_job(job, "reused", result_id)
        return left

    def _dispatch(self, pending: deque[Job]) -> None:
        limit = self.spec.limits.concurrency
        # Extra threads so that storing finished results never delays the next request.
        # No ``with``: its exit would wait for in-flight requests, and a cancel must return at once.
        pool = ThreadPoolExecutor(max_workers=2 * limit, thread_name_prefix="imagegen-worker")
        try:
            while pending and not self._cancel.is_set():
                with self._slots_free:
                    while self._in_flight >= limit and not self._cancel.is_set():
                        self._slots_free.wait(0.05)
                if self._cancel.is_set():
                    break
                left = self._run_time_left()
                if left is not None and left <= 0:
                    self._record_cancelled(list(pending), self._deadline_message())
                    pending.clear()
                    break
                job = pending.popleft()
                reserved = self.budget.reserve(job.max_cost, self._cancel)
                if reserved is None:
                    pending.appendleft(job)
                    break
                if reserved is False:
                    self._record_now(ResultRecord(
                        self.run_id or "", job.cell.index, job.repeat, "skipped",
                        error_message=f"skipped: its maximum estimated cost ${self.budget.amount(job.max_cost):.4f}"
                                      f"{self._rate_note()} does not fit in what is left of the budget "
                                      f"(${self.budget.cap:.4f} cap, ${self.budget.spent:.4f} spent). "
                                      "Fix: raise [limits] budget_usd.", simulated=self._job_simulated(job)),
                        job)
                    continue
                try:  # committed before the request is sent: a crash from here on still counts it
                    reservation_id = self.store.reserve(self.run_id or "", job.cell.index, job.repeat, reserved)
                except BaseException:
                    self.budget.settle(job.max_cost, Decimal(0))
                    raise
                with self._lock:
                    self._in_flight += 1
                    self._unfinished += 1
                pool.submit(self._work, job, reserved, reservation_id)
            if self._cancel.is_set() and pending:
                self._record_cancelled(list(pending))
                pending.clear()
            # Wait for in-flight requests, but leave at once on cancel (they still record on arrival).
            with self._slots_free:
                while self._unfinished > 0 and not self._cancel.is_set():
                    self._slots_free.wait(0.05)
        finally:
            pool.shutdown(wait=False, cancel_futures=False)

    def _record_cancelled(self, jobs: list[Job], why: str = "cancelled before it was sent") -> None:
        recs = [ResultRecord(self.run_id or "", j.cell.index, j.repeat, "cancelled",
                             error_message=why, simulated=self._job_simulated(j)) for j in jobs]
        ids = self.store.record_results(recs)
        rows = self.store.result_rows(ids)
        for job, rid in zip(jobs, ids):
            self._finish_job(job, "cancelled", rid, row=rows.get(rid))

    def _job_simulated(self, job: Job) -> bool:
        """Whether ``job``'s provider is the simulator: a cell never sent is still labelled as its run's cells
        are ("$0.0000 billed (simulated)"), never as a real bill."""
        return bool(getattr(self._providers(job.cell.request.provider), "simulated", False))

    def _record_now(self, rec: ResultRecord, job: Job) -> None:
        result_id = self.store.record_result(rec)
        self._finish_job(job, rec.status, result_id)

    def _finish_job(self, job: Job, outcome: str, result_id: int, row: dict | None = None,
                    error_kind: str | None = None) -> None:
        if row is None:
            row = self.store.result_row(result_id)
        if outcome == "reused" and row.get("simulated"):
            self._simulated = True
        self._emit("result", outcome=outcome, error_kind=error_kind, cell_id=job.cell.index, repeat=job.repeat,
                   row=row, message=outcome)

    # -- one request (worker thread) -----------------------------------------------------------

    def _rate_note(self) -> str:
        f = self.budget.factor
        return f" (at {f:.2f}x the estimate, the rate this run was billed)" if f > 1 else ""

    def _work(self, job: Job, reserved: Decimal, reservation_id: int | None = None) -> None:
        slot_held = True
        settled = False

        def free_slot() -> None:
            nonlocal slot_held
            if slot_held:
                slot_held = False
                with self._slots_free:
                    self._in_flight -= 1
                    self._slots_free.notify_all()

        try:
            try:
                rec, actual = self._attempts(job)
            except StoreError:
                raise
            except Exception as exc:  # a bug in one cell is that cell's error; the grid goes on
                rec = ResultRecord(self.run_id or "", job.cell.index, job.repeat, "error", error_kind=ErrorKind.INTERNAL,
                                   error_message=redact(f"unexpected {type(exc).__name__} in this cell: {exc}. "
                                                        "Its reservation stays counted as spent."),
                                   charged_usd=reserved)
                actual = reserved
            if actual and rec.billed is None:
                # Charged without a bill (usage missing or failing the checks): the whole reservation stays
                # charged, and the store counts the same amount as the guard.
                actual = max(actual, reserved)
                rec.charged_usd = actual
            rec.reservation_id = reservation_id
            self.budget.settle(job.max_cost, actual, rec.billed.cost.total if rec.billed is not None else None)
            settled = True
            # The request is over: let the next one go while this thread stores the result.
            free_slot()
            result_id = self.store.record_result(rec)
            self._finish_job(job, rec.status, result_id, error_kind=rec.error_kind if rec.status == "error" else None)
        except BaseException as exc:  # a store failure ends the run; what completed is kept
            if not settled:  # its reservation stays open in the store too: a resume counts it as spent
                self.budget.settle(job.max_cost, reserved)
            self.error = self.error or exc
            self._cancel.set()
        finally:
            free_slot()
            with self._slots_free:
                self._unfinished -= 1
                self._release_if_idle()
                self._slots_free.notify_all()

    def _release_if_idle(self) -> None:
        """Give the lease up once the dispatcher is over and no request is out (caller holds ``_lock``)."""
        if self._main_over and self._unfinished == 0 and not self._idle.is_set():
            self._idle.set()
            if self.lease is not None:
                with contextlib.suppress(Exception):  # it expires anyway
                    self.lease.release()

    def _attempts(self, job: Job) -> tuple[ResultRecord, Decimal]:
        """Send one cell x repeat with retries; return its record and the cost to charge."""
        req = job.cell.request
        limits = self.spec.limits
        provider = self._providers(req.provider)
        simulated = bool(getattr(provider, "simulated", False))
        if simulated:
            self._simulated = True
        limiter = self._limiter(req)
        attempts: list[Attempt] = []
        first: float | None = None

        def record(status: str, **kw) -> ResultRecord:
            elapsed = time.perf_counter() - first if first is not None else None
            return ResultRecord(self.run_id or "", job.cell.index, job.repeat, status, attempts=attempts,
                                elapsed_s=elapsed, simulated=simulated, **kw)

        last: ProviderError | None = None
        for number in range(1, limits.max_attempts + 1):
            stop = self._cancel.is_set()  # also before the first: a queued job may start after a cancel
            if not stop and limiter is not None:
                stop = not limiter.acquire(self._cancel)
            if stop:
                why = (f"cancelled before attempt {number} (after {last.kind}: {last.message})" if last
                       else "cancelled before it was sent")
                return record("cancelled", error_kind=last.kind if last else None, error_message=why,
                              http_status=last.status if last else None), Decimal(0)
            started = time.time()
            t = time.perf_counter()
            first = t if first is None else first
            timeout = limits.timeout_s
            left = self._run_time_left()
            if left is not None:
                if left <= 0:
                    return record("cancelled", error_kind=last.kind if last else None,
                                  error_message=self._deadline_message(number)), Decimal(0)
                timeout = min(timeout, left)
            try:
                # The mask/markup only where there is one: fakes and older providers take no such argument.
                extra = {k: v for k, v in (("mask", self.input_mask), ("markup", self.input_markup)) if v is not None}
                gen = provider.generate(req, timeout=timeout, input_files=self.input_files, **extra)
            except ProviderError as exc:
                wall = time.perf_counter() - t
                last = exc
                if exc.simulated:
                    simulated = self._simulated = True
                attempts.append(Attempt(number, started, wall, False, exc.kind, exc.message, exc.status,
                                        exc.retry_after, exc.request_id))
                if exc.answered:  # HTTP 200 that failed the boundary checks: billed, never retried
                    return self._bad_answer(job, exc, record, number)
                max_wait = float(getattr(limits, "max_retry_after_s", None) or DEFAULT_MAX_RETRY_AFTER_S)
                if exc.retry_after is not None and exc.retry_after > max_wait and is_retryable(exc):
                    return record("error", error_kind=exc.kind, http_status=exc.status, error_message=(
                        f"{exc.message} Not waiting: the server asks for {exc.retry_after:,.0f} s, more than "
                        f"[limits] max_retry_after_s = {max_wait:g} s. Fix: retry later (resume the run), or raise "
                        "max_retry_after_s.")), Decimal(0)
                if is_retryable(exc) and number < limits.max_attempts:
                    delay = self.backoff.delay(number, exc, self.rng)
                    if exc.retry_after is not None and limiter is not None:
                        limiter.defer(delay)
                    self._emit("retry", cell_id=job.cell.index, repeat=job.repeat, delay_s=delay,
                               message=f"attempt {number} failed ({exc.kind}: {exc.message}); retrying in {delay:.1f}s")
                    if self._cancel.wait(delay):
                        return record("cancelled", error_kind=exc.kind, http_status=exc.status,
                                      error_message=f"cancelled while waiting to retry after {exc.kind}: "
                                                    f"{exc.message}"), Decimal(0)
                    continue
                tried = f" (after {number} attempts)" if number > 1 else ""
                return record("error", error_kind=exc.kind, error_message=exc.message + tried,
                              http_status=exc.status), Decimal(0)
            except Exception as exc:  # a provider bug must not take the run down: record it as a bad response
                why = redact(f"{type(exc).__name__}: {exc}")
                attempts.append(Attempt(number, started, time.perf_counter() - t, False, ErrorKind.BAD_RESPONSE, why))
                # Whether it was billed is unknown: keep the reservation charged (never frees budget).
                return record("error", error_kind=ErrorKind.BAD_RESPONSE, error_message=why,
                              charged_usd=job.max_cost), job.max_cost
            wall = time.perf_counter() - t
            attempts.append(Attempt(number, started, wall, True, request_id=gen.request_id))
            if gen.simulated:
                simulated = self._simulated = True
            rec = self._success(job, gen, record)
            # Without usage the billed cost is unknown: keep the whole reservation charged.
            return rec, rec.billed.cost.total if rec.billed is not None else job.max_cost
        raise AssertionError("unreachable: the loop returns on its last attempt")

    def _bad_answer(self, job: Job, exc: ProviderError, record: Callable[..., ResultRecord],
                    number: int) -> tuple[ResultRecord, Decimal]:
        """An answered (billed) response that failed the checks: an error whose cost stays counted as spent.

        With usage that passed the checks the cost is what it billed; without, the whole reservation
        (the estimated maximum) stays charged, so bad usage never frees budget.
        """
        tried = f" (attempt {number})" if number > 1 else ""
        usage = exc.usage if isinstance(exc.usage, Usage) else None
        if usage is not None:
            billed = billed_cost(usage, job.cell.request, self.catalog, None, None, self._today)
            return record("error", error_kind=exc.kind, http_status=exc.status, billed=billed,
                          error_message=exc.message + tried), billed.cost.total
        note = f" Its cost is unknown: the estimated maximum ${job.max_cost:.4f} is counted as spent."
        return record("error", error_kind=exc.kind, http_status=exc.status, charged_usd=job.max_cost,
                      error_message=exc.message + note + tried), job.max_cost

    def _run_time_left(self) -> float | None:
        """Seconds left of ``[limits] run_deadline_s`` (None without one)."""
        deadline = getattr(self.spec.limits, "run_deadline_s", None)
        if deadline is None or self._t0 is None:
            return None
        return float(deadline) - (time.perf_counter() - self._t0)

    def _deadline_message(self, number: int | None = None) -> str:
        when = f" before attempt {number}" if number and number > 1 else " before it was sent"
        return (f"not sent{when}: the run's deadline ([limits] run_deadline_s = "
                f"{getattr(self.spec.limits, 'run_deadline_s', None)} s) passed. Fix: resume the run, or raise "
                "run_deadline_s.")

    def _success(self, job: Job, gen: Generation, record: Callable[..., ResultRecord]) -> ResultRecord:
        usage = Usage.from_api(gen.usage)
        billed: Billed | None = None
        if usage is not None:
            billed = billed_cost(usage, job.cell.request, self.catalog, gen.resolved_quality, gen.resolved_size,
                                 self._today)
        rec = record("ok", generation=gen, billed=billed)
        return rec


def run_grid(spec: GridSpec | str | Path | None = None, **kwargs) -> RunSummary:
    """Run a grid to the end and return its summary (keywords as ``GridRun``)."""
    return GridRun(spec, **kwargs).run()
