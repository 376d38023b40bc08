"""The grid runner: concurrency, rate limits, retries, budget, cancel, resume, reuse, events.

Fast tests use a fake Provider (the protocol in imagegen/providers/base.py); the ``slow`` ones run
the real simulator through the real openai SDK and measure wall time against ``ideal_wall_s``.
"""

import io
import threading
import time
import tracemalloc
from decimal import Decimal

import pytest
from PIL import Image

from imagegen.core.catalog import default_catalog
from imagegen.core.pricing import estimate
from imagegen.core.results import Generation
from imagegen.errors import BudgetExceeded, InvalidRequest, ProviderError
from imagegen.execution.providers import make_simulator_provider
from imagegen.execution.ratelimit import ideal_wall_s
from imagegen.execution.retry import Backoff
from imagegen.execution.runner import BudgetGuard, GridRun, run_grid
from imagegen.storage.columns import EXPORT_COLUMNS, EXTRA_COLUMNS
from imagegen.storage.store import Store
from tests.clock import TODAY

FAST = Backoff(base_s=0.01, cap_s=0.02)


def spec_text(prompts=("a red fox",), qualities=("low", "medium"), sizes=("1024x1024",), repeats=1,
              limits="concurrency = 4", model="gpt-image-1.5", extra="", simulator=""):
    q = ", ".join(f'"{x}"' for x in qualities)
    s = ", ".join(f'"{x}"' for x in sizes)
    p = ", ".join(f'"{x}"' for x in prompts)
    sim = f"\n[simulator]\n{simulator}\n" if simulator else ""
    return (f'name = "test"\nprovider = "simulator"\nmodel = "{model}"\nprompts = [{p}]\nrepeats = {repeats}\n{extra}\n'
            f"[axes]\nquality = [{q}]\nsize = [{s}]\n[limits]\n{limits}\n{sim}")


def png(seed: int = 0, size=(16, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (seed % 256, (seed // 256) % 256, 7)).save(buf, "PNG")
    return buf.getvalue()


class FakeProvider:
    """Answers after ``latency`` s; ``script[prompt]`` lists exceptions to raise first, in order."""

    name = "simulator"
    simulated = True

    def __init__(self, latency=0.0, script=None, bill_max=False, on_call=None, image=None, bill_factor=1,
                 usage=True):
        self.latency = latency
        self.bill_factor = bill_factor  # output tokens billed = this x the estimated maximum (when > 1)
        self.usage = usage
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.bill_max = bill_max
        self.on_call = on_call
        self.image = image
        self.calls: list[tuple[str, str, float]] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.catalog = default_catalog()

    def generate(self, request, *, timeout, input_files=()):
        with self.lock:
            self.calls.append((request.prompt, request.quality, time.monotonic()))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            n = len(self.calls)
            planned = self.script.get(request.prompt)
            fault = planned.pop(0) if planned else None
        try:
            if self.on_call:
                self.on_call(request)
            if fault is not None:
                raise fault
            time.sleep(self.latency)
            est = estimate(request, self.catalog, TODAY)
            out = est.output_tokens_max if self.bill_max else est.output_tokens_min * 9 // 10
            if self.bill_factor != 1:
                out = est.output_tokens_max * self.bill_factor
            usage = {"input_tokens": est.input_text_tokens,
                     "input_tokens_details": {"text_tokens": est.input_text_tokens, "image_tokens": 0},
                     "output_tokens": out} if self.usage else None
            return Generation(images=(self.image() if self.image else png(n),), output_format="png",
                              resolved_quality=request.quality, resolved_size=request.size,
                              resolved_background="opaque", usage=usage, wall_s=self.latency, final_s=self.latency,
                              request_id=f"req_{n}", simulated=True)
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "home")
    yield s
    s.close()


def test_runs_every_cell_and_reports_events(store):
    fake = FakeProvider()
    run = GridRun(spec_text(qualities=("low", "medium"), sizes=("1024x1024", "1536x1024"), repeats=2),
                  provider=fake, store=store, today=TODAY)
    assert run.total == 8 and len(fake.calls) == 0  # priced, nothing sent yet
    run.start()
    assert run.wait(10)
    events = run.poll()
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished" and kinds.count("result") == 8
    results = [e for e in events if e.kind == "result"]
    assert sorted(e.done for e in results) == list(range(1, 9))
    assert all(e.total == 8 for e in events)
    assert set(results[0].row) == set(EXPORT_COLUMNS + EXTRA_COLUMNS)
    assert events[-1].summary is run.summary
    s = run.summary
    assert (s.ok, s.errors, s.total, s.exit_code, s.status, s.simulated) == (8, 0, 8, 0, "finished", True)
    assert s.spent_usd == sum(Decimal(r.row["cost_usd"]) for r in results)
    assert s.spent_usd == Decimal(store.run(run.run_id)["cost_usd"])
    df = store.results(run.run_id)
    assert len(df) == 8 and set(df["status"]) == {"ok"} and df["image_path"].notna().all()


def test_blocking_api_and_callback(store):
    seen = []
    summary = run_grid(spec_text(), provider=FakeProvider(), store=store, on_event=seen.append, today=TODAY)
    assert summary.ok == 2 and [e.kind for e in seen].count("result") == 2


def test_concurrency_cap_is_respected(store):
    fake = FakeProvider(latency=0.05)
    run_grid(spec_text(prompts=("a", "b", "c"), qualities=("low", "medium"), sizes=("1024x1024", "1536x1024"),
                       limits="concurrency = 3"), provider=fake, store=store, today=TODAY)
    assert len(fake.calls) == 12 and fake.max_active == 3


def test_refused_over_budget_before_any_request(store):
    fake = FakeProvider()
    with pytest.raises(BudgetExceeded, match="budget_usd"):
        GridRun(spec_text(limits="budget_usd = 0.001"), provider=fake, store=store, today=TODAY)
    assert fake.calls == [] and store.count_runs() == 0


def test_invalid_spec_refused_before_any_request(store):
    fake = FakeProvider()
    with pytest.raises(InvalidRequest, match="quality"):
        GridRun(spec_text(qualities=("low", "ultra")), provider=fake, store=store, today=TODAY)
    assert fake.calls == [] and store.count_runs() == 0


def test_retry_after_is_waited_then_the_cell_succeeds(store):
    fake = FakeProvider(script={"a red fox": [ProviderError("rate_limited", "slow down", status=429,
                                                            retry_after=0.3)]})
    seen = []
    run = GridRun(spec_text(qualities=("low",)), provider=fake, store=store, backoff=FAST, on_event=seen.append, today=TODAY)
    summary = run.run()
    assert summary.ok == 1
    (_, _, t1), (_, _, t2) = fake.calls
    assert t2 - t1 >= 0.3
    row = store.results(run.run_id).iloc[0]
    assert row["attempts"] == 2 and row["status"] == "ok"
    attempts = store.attempts(int(row["result_id"]))
    assert attempts["error_kind"].iloc[0] == "rate_limited" and attempts["retry_after_s"].iloc[0] == 0.3
    assert [e.delay_s for e in seen if e.kind == "retry"] == [0.3]


@pytest.mark.parametrize("kind,status", [("moderation", 400), ("bad_request", 400), ("auth", 401),
                                         ("not_found", 404), ("bad_response", 200)])
def test_moderation_and_4xx_are_never_retried(store, kind, status):
    fake = FakeProvider(script={"bad one": [ProviderError(kind, f"{kind} happened", status=status)] * 5})
    run = GridRun(spec_text(prompts=("bad one", "good one"), qualities=("low",)), provider=fake, store=store,
                  backoff=FAST, today=TODAY)
    summary = run.run()
    assert [p for p, _, _ in fake.calls].count("bad one") == 1
    df = store.results(run.run_id).set_index("prompt")
    assert df.loc["bad one", "status"] == "error" and df.loc["bad one", "error_kind"] == kind
    assert df.loc["bad one", "attempts"] == 1 and df.loc["good one", "status"] == "ok"
    assert summary.exit_code == 1 and summary.error_kinds == {kind: 1}


def test_retryable_errors_stop_after_max_attempts_with_every_attempt_recorded(store):
    fake = FakeProvider(script={"a red fox": [ProviderError("server_error", "boom", status=500)] * 10})
    run = GridRun(spec_text(qualities=("low",), limits="max_attempts = 3"), provider=fake, store=store,
                  backoff=FAST, today=TODAY)
    run.run()
    row = store.results(run.run_id).iloc[0]
    assert (row["status"], row["error_kind"], row["attempts"]) == ("error", "server_error", 3)
    assert len(store.attempts(int(row["result_id"]))) == 3 and len(fake.calls) == 3


def test_a_provider_bug_is_recorded_not_fatal(store):
    fake = FakeProvider(script={"a red fox": [RuntimeError("oops")]})
    run = GridRun(spec_text(prompts=("a red fox", "fine")), provider=fake, store=store, today=TODAY)
    summary = run.run()
    assert summary.ok == 3 and summary.errors == 1 and summary.error_kinds == {"bad_response": 1}


def test_budget_guard_waits_for_releases_and_refuses_what_never_fits():
    guard = BudgetGuard(Decimal("1.00"))
    assert guard.reserve(Decimal("0.60")) == Decimal("0.60")  # reserved (the amount at the current factor)
    assert guard.reserve(Decimal("1.50")) is False            # bigger than the cap: never fits
    threading.Timer(0.05, guard.settle, args=(Decimal("0.60"), Decimal("0.20"))).start()
    assert guard.reserve(Decimal("0.70")) == Decimal("0.70")  # waited for the release
    assert (guard.spent, guard.reserved) == (Decimal("0.20"), Decimal("0.70"))
    assert guard.reserve(Decimal("0.90")) is False or guard.spent + guard.reserved <= guard.cap


@pytest.mark.parametrize("bill_max", [True, False])
def test_budget_cap_is_never_exceeded_under_concurrency(store, bill_max):
    """16 requests, 8 at a time, a cap that fits only some: spent + reserved stays under it throughout."""
    spec = spec_text(prompts=tuple(f"prompt {i}" for i in range(8)), qualities=("low", "medium"),
                     limits="concurrency = 8\nbudget_usd = 0.12")
    holder: dict = {}
    breaches = []

    def check(_req):
        guard = holder["run"].budget
        if guard.spent + guard.reserved > guard.cap:
            breaches.append((guard.spent, guard.reserved))

    fake = FakeProvider(latency=0.02, bill_max=bill_max, on_call=check)
    with pytest.raises(BudgetExceeded):
        GridRun(spec, provider=fake, store=store, today=TODAY)
    run = holder["run"] = GridRun(spec, provider=fake, store=store, refuse_over_budget=False, today=TODAY)
    summary = run.run()
    df = store.results(run.run_id)
    spent = sum(Decimal(c) for c in df["cost_usd"])
    assert breaches == [] and spent <= Decimal("0.12") and spent == summary.spent_usd
    assert summary.ok + summary.skipped == 16 and summary.skipped > 0 and summary.ok > 0
    skipped = df[df["status"] == "skipped"]
    assert skipped["error_message"].str.contains("budget").all()
    assert len(fake.calls) == summary.ok


def test_cancel_returns_within_a_second_and_keeps_in_flight_results(store):
    fake = FakeProvider(latency=1.5)
    run = GridRun(spec_text(prompts=tuple(f"p{i}" for i in range(5)), qualities=("low", "medium"),
                            limits="concurrency = 2"), provider=fake, store=store, today=TODAY)
    run.start()
    deadline = time.monotonic() + 5
    while len(fake.calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    t = time.perf_counter()
    run.cancel()
    assert run.wait(1.0), "cancel did not return within 1 s"
    assert time.perf_counter() - t < 1.0
    s = run.summary
    assert (s.status, s.cancelled, s.in_flight, s.ok) == ("cancelled", 8, 2, 0)
    assert len(fake.calls) == 2  # nothing dispatched after the cancel
    deadline = time.monotonic() + 5  # the two in-flight answers still land in the store
    while len(store.result_statuses(run.run_id)) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    statuses = list(store.result_statuses(run.run_id).values())
    assert statuses.count("ok") == 2 and statuses.count("cancelled") == 8


def test_cancel_interrupts_a_long_retry_wait(store):
    fake = FakeProvider(script={"a red fox": [ProviderError("rate_limited", "wait", status=429, retry_after=30)]})
    run = GridRun(spec_text(qualities=("low",)), provider=fake, store=store, today=TODAY)
    run.start()
    deadline = time.monotonic() + 5
    while not any(e.kind == "retry" for e in run.poll()) and time.monotonic() < deadline:
        time.sleep(0.01)
    t = time.perf_counter()
    run.cancel()
    assert run.wait(1.0) and time.perf_counter() - t < 1.0
    deadline = time.monotonic() + 2
    while not store.result_statuses(run.run_id) and time.monotonic() < deadline:
        time.sleep(0.02)
    row = store.results(run.run_id).iloc[0]
    assert row["status"] == "cancelled" and row["error_kind"] == "rate_limited" and row["attempts"] == 1


def test_resume_sends_only_the_missing_cells(store):
    spec = spec_text(prompts=("a", "b", "c"), qualities=("low", "medium"), repeats=2, limits="concurrency = 1")
    first = FakeProvider(latency=0.03)
    run = GridRun(spec, provider=first, store=store, today=TODAY)
    run.start()
    while len(first.calls) < 4:
        time.sleep(0.005)
    run.cancel()
    assert run.wait(1)
    time.sleep(0.1)  # the in-flight one lands
    done_before = {k for k, v in store.result_statuses(run.run_id).items() if v == "ok"}
    assert 3 <= len(done_before) <= 5
    second = FakeProvider()
    resumed = GridRun(None, resume=run.run_id, provider=second, store=store, today=TODAY)
    assert len(resumed.jobs) == 12 - len(done_before)
    summary = resumed.run()
    assert len(second.calls) == 12 - len(done_before)
    assert (summary.ok, summary.total, summary.exit_code, summary.run_id) == (12, 12, 0, run.run_id)
    assert Decimal(store.run(run.run_id)["cost_usd"]) == sum(Decimal(c) for c in store.results(run.run_id)["cost_usd"])


def test_resume_keeps_errors_unless_asked(store):
    spec = spec_text(qualities=("low",), prompts=("bad", "good"))
    run = GridRun(spec, provider=FakeProvider(script={"bad": [ProviderError("moderation", "no", status=400)]}),
                  store=store, today=TODAY)
    run.run()
    assert GridRun(None, resume=run.run_id, provider=FakeProvider(), store=store, today=TODAY).jobs == []
    retry = FakeProvider()
    summary = GridRun(None, resume=run.run_id, provider=retry, store=store, retry_errors=True, today=TODAY).run()
    assert len(retry.calls) == 1 and summary.ok == 2


def test_reuse_takes_identical_requests_from_history_at_zero_cost(store):
    spec = spec_text(qualities=("low", "medium"))
    run_grid(spec, provider=FakeProvider(), store=store, today=TODAY)
    again = FakeProvider()
    run = GridRun(spec_text(qualities=("low", "medium"), repeats=2), provider=again, store=store, reuse=True, today=TODAY)
    summary = run.run()
    df = store.results(run.run_id)
    # one past result per cell: repeat 0 is reused, repeat 1 is sent
    assert len(again.calls) == 2 and summary.reused == 2 and summary.ok == 4
    reused = df[df["reused"] == 1]
    assert set(reused["repeat"]) == {0} and (reused["cost_usd"] == "0").all()
    assert reused["image_sha256"].notna().all()
    changed = FakeProvider()
    run_grid(spec_text(qualities=("low", "medium"), prompts=("another prompt",)), provider=changed, store=store,
             reuse=True, today=TODAY)
    assert len(changed.calls) == 2  # a different prompt is a different request


def test_a_store_failure_stops_the_run_and_is_reported(store, monkeypatch):
    real = store.record_result
    count = {"n": 0}

    def flaky(rec):
        count["n"] += 1
        if count["n"] == 2:
            raise OSError("disk full")
        return real(rec)

    monkeypatch.setattr(store, "record_result", flaky)
    run = GridRun(spec_text(prompts=("a", "b", "c"), limits="concurrency = 1"), provider=FakeProvider(), store=store, today=TODAY)
    with pytest.raises(OSError, match="disk full"):
        run.run()
    assert run.summary.status == "failed"
    assert store.run(run.run_id)["status"] == "failed"
    assert len(store.result_statuses(run.run_id)) >= 1


def test_providers_by_name_mapping(store):
    fake = FakeProvider()
    summary = run_grid(spec_text(), provider={"simulator": fake}, store=store, today=TODAY)
    assert summary.ok == 2 and len(fake.calls) == 2


def noisy_png(size=(512, 512)) -> bytes:
    """Incompressible pixels: a PNG as large as real photos are (about 0.8 MB here)."""
    import numpy as np

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (*size, 3), dtype="uint8")).save(buf, "PNG")
    return buf.getvalue()


def test_peak_memory_does_not_grow_with_the_number_of_images(store):
    """Images are written and dropped: an 80-image run peaks like a 20-image run, and keeps nothing."""
    big = noisy_png()
    counter = iter(range(10**6))

    def unique_image():  # same size, distinct content -> a new file each time
        return big[:-16] + next(counter).to_bytes(16, "big")

    def measure(n_prompts):
        fake = FakeProvider(image=unique_image)
        spec = spec_text(prompts=tuple(f"p{i}" for i in range(n_prompts)), qualities=("low", "medium"),
                         limits="concurrency = 2")
        run = GridRun(spec, provider=fake, store=store, today=TODAY)
        tracemalloc.start()
        tracemalloc.reset_peak()
        run.run()
        kept, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top, kept

    measure(2)  # warm-up outside the measurement
    (small, _), (large, kept) = measure(10), measure(40)
    assert large < small * 1.25 + 1_000_000, (small, large)
    assert kept < 20 * len(big) / 10, kept  # far less than the 80 images that went through


# -- against the real simulator through the real openai SDK -----------------------------------------

def sim_run(store, spec, **kw):
    from imagegen.core.grid import loads_spec

    provider = make_simulator_provider(loads_spec(spec).simulator)
    run = GridRun(spec, provider=provider, store=store, **kw, today=TODAY)
    t = time.perf_counter()
    summary = run.run()
    return run, summary, time.perf_counter() - t, provider


@pytest.mark.slow
def test_27_cells_at_concurrency_9_finish_near_the_ideal(store):
    spec = spec_text(prompts=("a red fox", "a blue bird", "a green frog"), qualities=("low", "medium", "high"),
                     sizes=("1024x1024", "1024x1536", "1536x1024"), limits="concurrency = 9",
                     simulator="fixed_latency_s = 1.0")
    _, summary, wall, provider = sim_run(store, spec)
    bound = ideal_wall_s(27, 1.0, 9)
    assert bound == 3.0
    assert summary.ok == 27 and provider.app.request_count == 27
    assert wall <= 1.15 * bound, f"{wall:.2f} s is {wall / bound:.3f} x the ideal {bound} s"


@pytest.mark.slow
def test_rpm_limit_finishes_near_the_bound_it_sets(store):
    spec = spec_text(prompts=("a red fox", "a blue bird", "a green frog"), qualities=("low", "medium"),
                     sizes=("1024x1024", "1536x1024"), model="gpt-image-1-mini",
                     limits="concurrency = 12\nrpm = 240", simulator="fixed_latency_s = 0.5")
    _, summary, wall, provider = sim_run(store, spec)
    bound = ideal_wall_s(12, 0.5, 12, rpm=240)  # 11 token intervals of 0.25 s + one latency = 3.25 s
    assert summary.ok == 12
    starts = sorted(r.at for r in provider.app.requests)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 0.25 * 0.9, "requests closer together than the rpm allows"
    assert bound <= wall <= 1.15 * bound, f"{wall:.2f} s vs bound {bound} s"


#: simulator fault -> the error_kind the run must record
FAULTS = {
    "rate_limit": "rate_limited", "server_error": "server_error", "unavailable": "server_error",
    "hang": "timeout", "drop": "connection", "malformed": "bad_response", "bad_image": "bad_response",
    "moderation": "moderation", "content_filter": "moderation", "content_policy_violation": "moderation",
    "forbidden": "moderation", "auth": "auth", "not_found": "not_found", "bad_request": "bad_request",
}
STREAM_FAULTS = {"stream_drop": "connection", "stream_error": "server_error"}


@pytest.mark.slow
@pytest.mark.parametrize("faults,stream", [(FAULTS, False), (STREAM_FAULTS, True)], ids=["plain", "stream"])
def test_each_simulator_fault_is_recorded_while_other_cells_complete(store, faults, stream):
    prompts = [f"zz{kind}zz" for kind in faults] + ["a clean prompt", "another clean one"]
    rules = ", ".join(f'{{ kind = "{kind}", match = "zz{kind}zz", retry_after = 0.05 }}' for kind in faults)
    spec = spec_text(prompts=tuple(prompts), qualities=("low",), limits="concurrency = 16\ntimeout_s = 0.5\n"
                     "max_attempts = 2", simulator=f"fixed_latency_s = 0.05\nfaults = [{rules}]")
    if stream:
        spec = spec.replace("[axes]", "[params]\nstream = true\npartial_images = 1\n[axes]")
    run, summary, _, provider = sim_run(store, spec, backoff=FAST)
    df = store.results(run.run_id).set_index("prompt")
    for kind, expected in faults.items():
        row = df.loc[f"zz{kind}zz"]
        assert (kind, row["status"], row["error_kind"]) == (kind, "error", expected)
        assert row["error_message"]
    assert (df.loc[["a clean prompt", "another clean one"], "status"] == "ok").all()
    assert summary.ok == 2 and summary.errors == len(faults)
    sent = {}
    for r in provider.app.requests:
        sent[r.body.get("prompt")] = sent.get(r.body.get("prompt"), 0) + 1
    for kind, expected in faults.items():
        retryable = expected in ("rate_limited", "server_error", "timeout", "connection")
        assert sent[f"zz{kind}zz"] == (2 if retryable else 1), kind


@pytest.mark.slow
def test_simulator_429_with_retry_after_is_retried_after_that_delay(store):
    spec = spec_text(prompts=("please zzlimitzz",), qualities=("low",),
                     simulator='fixed_latency_s = 0.05\nfaults = [{ kind = "rate_limit", match = "zzlimitzz", '
                               'times = 1, retry_after = 0.6 }]')
    run, summary, _, provider = sim_run(store, spec)
    assert summary.ok == 1
    first, second = provider.app.requests
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.6
    row = store.results(run.run_id).iloc[0]
    assert row["attempts"] == 2


def test_azure_deployments_from_settings_are_merged_before_expanding(store):
    from imagegen.execution.settings import Settings

    settings = Settings(provider="azure", flavour="v1", deployment_pairs=(("my-images", "gpt-image-1.5"),))
    fake = FakeProvider()
    fake.name = "azure"
    spec = spec_text(qualities=("low",)).replace('provider = "simulator"', 'provider = "azure"')
    run = GridRun(spec, provider=fake, store=store, settings=settings, today=TODAY)
    assert run.estimate.cells[0].request.deployment == "my-images"
    assert run.estimate.estimates[0].cost_max.price_key.startswith("azure/")
    run.run()
    row = store.results(run.run_id).iloc[0]
    assert (row["provider"], row["deployment"], row["status"]) == ("azure", "my-images", "ok")
    with pytest.raises(InvalidRequest, match="deployment"):
        GridRun(spec, provider=fake, store=store, settings=Settings(provider="azure", flavour="v1"), today=TODAY)


def test_a_simulator_run_is_labelled_simulated_even_when_cancelled_before_any_answer(store):
    provider = make_simulator_provider({"fixed_latency_s": 5.0})
    run = GridRun(spec_text(qualities=("low", "medium")), provider=provider, store=store, today=TODAY)
    assert run.simulated  # known before anything is sent
    run.start()
    run.cancel()
    assert run.wait(2.0)
    assert run.summary.ok == 0 and run.summary.simulated
    assert store.runs().iloc[0]["simulated"]
    rows = store.results(run.run_id)  # never sent, and still labelled as the simulator's ("$0 billed (simulated)")
    assert (rows["status"] == "cancelled").any() and rows["simulated"].tolist() == [1] * len(rows)
    real = FakeProvider()
    real.simulated = False  # a provider that talks to a real service
    assert not GridRun(spec_text(qualities=("low",)), provider=real, store=store, today=TODAY).simulated
