"""Budget and quota planning: a mix of settings x volume -> daily, monthly and yearly cost.

A :class:`BudgetPlan` holds one or more :class:`Scenario`s (each a list of :class:`PlanLine`: a model,
quality and size with a number of images per day or per month), an exchange rate with its
date, and where cost per image comes from:

- ``documented``: the catalog estimate, ``documented output tokens x image-output price +
  prompt_tokens x text-input price`` per image (price overrides apply);
- ``measured``: the mean billed cost per image of the same model x quality x size in the
  chosen runs (:func:`imagegen.insight.analysis.measured_costs`); a line with no measurement falls back
  to the documented figure and the result says so.

Money is ``Decimal`` throughout; a month is ``days_per_month`` days (30 unless changed) and a
year twelve months. :func:`evaluate` returns a :class:`PlanResult` that says which figures it
used and what is included. Plans serialise to compact, versioned URL query parameters
(:func:`to_query` / :func:`from_query`) and to CSV (:func:`to_csv` / :func:`from_csv`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import quote, unquote

import pandas as pd

from imagegen.core import lifecycle
from imagegen.core.catalog import PROVIDERS, Catalog
from imagegen.core.pricing import Usage, auto_candidates, cost_of, expected_figure
from imagegen.core.request import ImageRequest, problems
from imagegen.core.specmodel import Size
from imagegen.core.validation import Strict, check, integer, number, one_of, text
from imagegen.errors import PlanError

SOURCES = ("documented", "measured")
PER = ("day", "month")
QUERY_VERSION = "1"
DEFAULT_PROMPT_TOKENS = 50
#: An example rate for the form's first view, not a quote: the user enters the day's rate and date.
EXAMPLE_JPY_PER_USD = Decimal("150")
MONTHS_PER_YEAR = Decimal(12)
INCLUDED = (
    "Included per image: output image tokens (documented table or formula; for auto the largest it may "
    "resolve to) and the prompt's text input tokens. Not included: input images (edits), streamed partial "
    "images, retries and failed requests, cached-input and Batch API discounts, taxes."
)
INCLUDED_MEASURED = (
    "Measured lines use the mean billed cost per image of the chosen runs (their real prompts, inputs and "
    "prices at the time); lines without a measurement use the documented estimate."
)


def _decimal(value, what: str, *, positive: bool = False) -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise PlanError(f"{what} = {value!r} is not a number. Fix: write a number such as 1000 or 12.5.") from None
    if not d.is_finite() or d < 0 or (positive and d == 0):
        allowed = "a number above 0" if positive else "a number of 0 or more"
        raise PlanError(f"{what} = {value!r} is not allowed: {allowed}. Fix: enter {allowed}.")
    return d


def _int(value, what: str, *, minimum: int = 0) -> int:
    try:
        d = Decimal(str(value).strip())
        if d != d.to_integral_value():
            raise ValueError
        i = int(d)
    except (InvalidOperation, ValueError):
        raise PlanError(f"{what} = {value!r} is not a whole number. Fix: write a whole number such as 50.") from None
    if i < minimum:
        raise PlanError(f"{what} = {value!r} is below {minimum}. Fix: use {minimum} or more.")
    return i


class LineFields(Strict):
    """One plan line as it arrives in a shared link or a plan CSV (text), in the shared validation style."""

    model: text(max_len=200, example="gpt-image-1.5", what="a model id")
    quality: text(max_len=50, example="low", what="a quality")
    size: Size
    images: number(0, None, lo_open=False, example="1000", what="a number of images", as_decimal=True, from_text=True)
    per: one_of(PER)
    prompt_tokens: integer(0, 1_000_000, example=DEFAULT_PROMPT_TOKENS, what="a whole number of prompt tokens",
                           from_text=True) = DEFAULT_PROMPT_TOKENS
    provider: one_of(PROVIDERS, "pick openai or azure (budgets use a real provider's prices)") = "openai"

    def line(self) -> PlanLine:
        return PlanLine(**self.model_dump())


class QuotaFields(Strict):
    """A quota as it arrives in a shared link (``q``) or a plan CSV."""

    rpm: number(0, 1_000_000, example="9", what="requests per minute", as_decimal=True, from_text=True)
    deployments: integer(1, 10_000, example=1, what="deployments", from_text=True)
    images_per_request: integer(1, 10, example=1, what="images per request (n)", from_text=True)
    batch_images: integer(1, 10**9, example=1000, what="a batch size", from_text=True)
    hours_per_day: number(0, 24, example="24", what="hours per day", as_decimal=True, from_text=True)

    def quota(self) -> Quota:
        return Quota(**self.model_dump())


@dataclass(frozen=True)
class PlanLine:
    """One setting and its volume: ``images`` per ``per`` (day or month)."""

    model: str
    quality: str
    size: str
    images: Decimal
    per: str = "day"
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS
    provider: str = "openai"

    def __post_init__(self) -> None:
        object.__setattr__(self, "images", _decimal(self.images, f"images per {self.per} for {self.model}"))
        object.__setattr__(self, "prompt_tokens", _int(self.prompt_tokens, f"prompt tokens for {self.model}"))
        if self.per not in PER:
            raise PlanError(f"per = {self.per!r} for {self.model} is not allowed: use day or month. "
                            "Fix: choose day or month.")
        if self.provider not in PROVIDERS:
            raise PlanError(f"provider = {self.provider!r} for {self.model} is not allowed: one of "
                            f"{', '.join(PROVIDERS)} (budgets use a real provider's prices). Fix: pick openai or azure.")

    @property
    def label(self) -> str:
        azure = " (azure)" if self.provider == "azure" else ""
        return f"{self.model} {self.quality} {self.size}{azure}"

    def images_per_month(self, days_per_month: Decimal) -> Decimal:
        return self.images if self.per == "month" else self.images * days_per_month

    def images_per_day(self, days_per_month: Decimal) -> Decimal:
        return self.images if self.per == "day" else self.images / days_per_month


@dataclass(frozen=True)
class Scenario:
    """A named mix of settings."""

    name: str
    lines: tuple[PlanLine, ...]


@dataclass(frozen=True)
class Quota:
    """A deployment's request quota and a batch to plan for."""

    rpm: Decimal = Decimal(9)
    deployments: int = 1
    images_per_request: int = 1
    batch_images: int = 1000
    hours_per_day: Decimal = Decimal(24)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rpm", _decimal(self.rpm, "requests per minute", positive=True))
        object.__setattr__(self, "deployments", _int(self.deployments, "deployments", minimum=1))
        object.__setattr__(self, "images_per_request", _int(self.images_per_request, "images per request", minimum=1))
        if self.images_per_request > 10:
            raise PlanError(f"images per request = {self.images_per_request} is not allowed: n is 1..10. "
                            "Fix: use 10 or fewer.")
        object.__setattr__(self, "batch_images", _int(self.batch_images, "batch size", minimum=1))
        hours = _decimal(self.hours_per_day, "hours per day", positive=True)
        if hours > 24:
            raise PlanError(f"hours per day = {hours} is more than 24. Fix: use 24 or fewer.")
        object.__setattr__(self, "hours_per_day", hours)


@dataclass(frozen=True)
class BudgetPlan:
    """Scenarios, currency, figure source and quota: everything a shared link carries."""

    scenarios: tuple[Scenario, ...]
    rate_date: date                 # the exchange rate's date (the user's; the example uses the working date)
    jpy_per_usd: Decimal = EXAMPLE_JPY_PER_USD
    source: str = "documented"
    run_ids: tuple[str, ...] = ()
    days_per_month: Decimal = Decimal(30)
    quota: Quota = field(default_factory=Quota)

    def __post_init__(self) -> None:
        object.__setattr__(self, "jpy_per_usd", _decimal(self.jpy_per_usd, "exchange rate (JPY per USD)", positive=True))
        object.__setattr__(self, "days_per_month", _decimal(self.days_per_month, "days per month", positive=True))
        if self.source not in SOURCES:
            raise PlanError(f"source = {self.source!r} is not allowed: documented or measured. Fix: pick one.")
        if not self.scenarios:
            raise PlanError("the plan has no scenario. Fix: add at least one scenario with one line.")
        names = [s.name for s in self.scenarios]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PlanError(f"scenario name(s) {dupes} are used twice. Fix: give every scenario its own name.")


EXAMPLE_SIZE = "1024x1024"
EXAMPLE_IMAGES_PER_DAY = Decimal(1000)


def example_models(catalog: Catalog, provider: str, today: date) -> tuple[str, str, str]:
    """(provider, first, second): the models the example compares, the first two of the data's preference
    order that run on ``provider`` on ``today`` (live ones before retiring ones; the same model twice when
    only one runs). When none runs there, OpenAI's."""
    names = lifecycle.preferred_models(catalog, provider, today)
    if not names and provider != "openai":
        return example_models(catalog, "openai", today)
    if not names:  # nothing runs anywhere on that date: show the preferred models, the warnings say why
        names = lifecycle.preferred_models(catalog, provider, today, runnable_only=False)
    return provider, names[0], names[1] if len(names) > 1 else names[0]


def default_plan(catalog: Catalog, today: date, provider: str = "openai") -> BudgetPlan:
    """The example: 1,000 images a day at low quality vs medium quality (1024x1024), on models that run on
    ``provider`` on ``today``, in the data's preference order (:func:`example_models`)."""
    if provider not in PROVIDERS:
        provider = "openai"  # the simulator follows openai's prices
    provider, first, second = example_models(catalog, provider, today)
    return BudgetPlan(
        scenarios=(
            Scenario(f"{first} low", (PlanLine(first, "low", EXAMPLE_SIZE, EXAMPLE_IMAGES_PER_DAY, provider=provider),)),
            Scenario(f"{second} medium",
                     (PlanLine(second, "medium", EXAMPLE_SIZE, EXAMPLE_IMAGES_PER_DAY, provider=provider),)),
        ),
        rate_date=today,
    )


# --- evaluation ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineCost:
    """A line's cost per image and totals (USD), and where the figure came from."""

    line: PlanLine
    cost_per_image_usd: Decimal
    source: str          # documented | measured | simulated | replayed from <run> (<date>, <provider>) | measured (ours…)
    detail: str
    images_per_day: Decimal
    images_per_month: Decimal

    @property
    def daily_usd(self) -> Decimal:
        return self.cost_per_image_usd * self.images_per_day

    @property
    def monthly_usd(self) -> Decimal:
        return self.cost_per_image_usd * self.images_per_month

    @property
    def yearly_usd(self) -> Decimal:
        return self.monthly_usd * MONTHS_PER_YEAR


@dataclass(frozen=True)
class ScenarioCost:
    """One scenario's lines and totals."""

    scenario: Scenario
    lines: tuple[LineCost, ...]

    @property
    def name(self) -> str:
        return self.scenario.name

    def _sum(self, attr: str) -> Decimal:
        return sum((getattr(lc, attr) for lc in self.lines), Decimal(0))

    @property
    def images_per_day(self) -> Decimal:
        return self._sum("images_per_day")

    @property
    def images_per_month(self) -> Decimal:
        return self._sum("images_per_month")

    @property
    def daily_usd(self) -> Decimal:
        return self._sum("daily_usd")

    @property
    def monthly_usd(self) -> Decimal:
        return self._sum("monthly_usd")

    @property
    def yearly_usd(self) -> Decimal:
        return self._sum("yearly_usd")

    @property
    def cost_per_image_usd(self) -> Decimal | None:
        """Volume-weighted mean cost per image."""
        volume = self.images_per_month
        return self.monthly_usd / volume if volume else None

    @property
    def source(self) -> str:
        return " + ".join(sorted({lc.source for lc in self.lines})) or "documented"


@dataclass(frozen=True)
class PlanResult:
    """What :func:`evaluate` computed, with the figures' source and what they include."""

    plan: BudgetPlan
    scenarios: tuple[ScenarioCost, ...]
    warnings: tuple[str, ...]

    def jpy(self, usd: Decimal) -> Decimal:
        return usd * self.plan.jpy_per_usd

    @property
    def source_label(self) -> str:
        """``documented (catalog estimate)`` or ``measured (mean billed cost per image from N runs)``."""
        used = {lc.source for sc in self.scenarios for lc in sc.lines}
        ours = sorted(u for u in used if u.startswith("measured (ours"))
        if ours and used <= {"documented", *ours}:
            text = "catalog estimate with our adopted token measurements: " + ", ".join(ours)
            return text + (" + documented elsewhere" if "documented" in used else "")
        if self.plan.source == "documented" or used == {"documented"}:
            return "documented (catalog estimate)"
        # replayed figures are named as such ("replayed from <run> (<date>, <provider>)"), never "measured"
        replays = sorted(u for u in used if u.startswith("replayed from"))
        kinds = [k for k in ("measured", "simulated") if k in used] + replays
        kind = " + ".join(kinds) or "measured"
        runs = len(self.plan.run_ids)
        text = f"{kind} (mean billed cost per image from {runs} run{'s' if runs != 1 else ''})"
        if "documented" in used:
            text += " + documented where not measured"
        return text

    @property
    def included(self) -> str:
        return INCLUDED if self.plan.source == "documented" else f"{INCLUDED_MEASURED} {INCLUDED}"


def _request(line: PlanLine) -> ImageRequest:
    return ImageRequest(model=line.model, prompt="plan", provider=line.provider, size=line.size, quality=line.quality)


def check_line(line: PlanLine, catalog: Catalog, today: date) -> list[str]:
    """Raise PlanError for a setting the model does not accept; return lifecycle warnings for ``today``.

    The lifecycle comes from :func:`imagegen.core.lifecycle.status` (shut down, or retiring within the
    catalog's one soon window), with where the model still runs if another provider keeps it longer.
    """
    if not catalog.has_model(line.model):
        raise PlanError(f"model {line.model!r} is not in the catalog. Fix: use one of {', '.join(sorted(catalog.models))}.")
    found = problems(_request(line), catalog, today)
    hard = [p for p in found if p.field != "model"]
    if hard:
        raise PlanError(f"{line.label}: " + "; ".join(str(p) for p in hard))
    life = lifecycle.status(catalog, line.model, line.provider, today)
    if life.state == "live":
        return []
    text = f"{line.label}: {life.sentence}"
    other = next((p for p in PROVIDERS if p != line.provider), None)
    other_life = lifecycle.status(catalog, line.model, other, today) if other else None
    if other_life is not None and other_life.runnable and life.state != "not_offered":
        if other_life.shutdown_date is None:
            text += f" It keeps running on {other} (no shutdown scheduled there)."
        elif life.shutdown_date is None or other_life.shutdown_date > life.shutdown_date:
            text += f" It runs on {other} until {other_life.shutdown_date.isoformat()}."
    if life.state == "retiring":
        text += " Monthly and yearly figures past the shutdown are hypothetical."
    else:
        text += " Its figures are hypothetical: it cannot be bought there on this date."
    return [text]


def documented_cost(line: PlanLine, catalog: Catalog, on: date) -> tuple[Decimal, str]:
    """Catalog estimate per image (one image per request) and a sentence saying how it was made."""
    cost, detail, _ = catalog_cost(line, catalog, on)
    return cost, detail


def catalog_cost(line: PlanLine, catalog: Catalog, on: date | None = None) -> tuple[Decimal, str, str]:
    """(cost per image, how it was made, the tokens' status): ``measured (ours, n = …)`` for adopted tokens."""
    model = catalog.model(line.model)
    qualities, sizes = auto_candidates(catalog, _request(line))
    # budgets reserve the top of an assumed range (a quality with no published figure)
    figures = [expected_figure(catalog, model.id, q, s) for q in qualities for s in sizes]
    top = max(figures, key=lambda f: f.high)
    tokens, status = top.high, top.label
    price = catalog.price_for(model.id, line.provider, on)
    cost = cost_of(Usage(input_text_tokens=line.prompt_tokens, output_tokens=tokens), price).total
    rates = f"${price.image_output}/1M image output, ${price.text_input}/1M text input"
    override = " (local override)" if price.override else ""
    ours = f", output tokens {status}" if status.startswith("measured (ours") else ""
    assumed = next((f for f in figures if f.status == "assumed"), None)
    caveat = (f"; output tokens ASSUMED (no published figure): range {assumed.low:,}-{assumed.high:,}, the top "
              "is used") if assumed is not None else f"; output tokens {status}" if not ours else ""
    detail = (f"{tokens:,} output + {line.prompt_tokens} text input tokens at {rates} "
              f"[{price.key}{override}{ours}]{caveat}")
    return cost, detail, status


@dataclass(frozen=True)
class Measured:
    """A mean billed cost per image from chosen runs."""

    cost_per_image_usd: Decimal
    images: int
    results: int
    simulated: bool
    #: "measured", "simulated" or "replayed from <run> (<date>, <provider>)"
    figures: str = ""

    @property
    def rank(self) -> int:
        """Which figure wins for a setting: measured, then replayed (a copy of recorded answers), then simulated."""
        return 0 if not self.simulated else 1 if self.figures.startswith("replayed from") else 2


def measured_lookup(frame: pd.DataFrame | None) -> dict[tuple[str, str, str, str], Measured]:
    """Index :func:`imagegen.insight.analysis.measured_costs` by (model, quality, size, provider).

    Where several exist for a setting, results measured on a real service win, then replayed ones, then
    simulated ones; one kind per setting, never averaged together.
    """
    if frame is None or frame.empty:
        return {}
    out: dict[tuple[str, str, str, str], Measured] = {}
    for r in frame.itertuples(index=False):
        key = (r.model, r.quality, r.size, r.provider)
        figures = getattr(r, "figures", None)
        figures = figures if isinstance(figures, str) and figures else "simulated" if r.simulated else "measured"
        found = Measured(Decimal(str(r.cost_usd_per_image)), int(r.images), int(r.results), bool(r.simulated),
                         figures)
        if key not in out or found.rank < out[key].rank:
            out[key] = found
    return out


def evaluate(plan: BudgetPlan, catalog: Catalog, measured: pd.DataFrame | None = None, *, on: date) -> PlanResult:
    """Cost every line of every scenario with the prices and lifecycles of date ``on``;
    ``measured`` is used when ``plan.source == "measured"``."""
    table = measured_lookup(measured) if plan.source == "measured" else {}
    warnings: list[str] = []
    if plan.source == "measured" and not plan.run_ids:
        warnings.append("Measured figures were chosen but no run is selected: documented figures are used. "
                        "Fix: pick one or more runs.")
    scenarios = []
    for scenario in plan.scenarios:
        if not scenario.lines:
            raise PlanError(f"scenario {scenario.name!r} has no line. Fix: add a setting with a number of images.")
        costs = []
        for line in scenario.lines:
            for w in check_line(line, catalog, on):
                if w not in warnings:
                    warnings.append(w)
            hit = table.get((catalog.model(line.model).id, line.quality, line.size, line.provider))
            if hit is not None:
                kind = hit.figures or ("simulated" if hit.simulated else "measured")
                cost, source = hit.cost_per_image_usd, kind
                detail = f"mean billed cost of {hit.images:,} images ({hit.results:,} results) in the chosen runs"
            else:
                cost, detail, status = catalog_cost(line, catalog, on)
                source = status if status.startswith("measured (ours") else "documented"
                if "ASSUMED" in detail:
                    text = f"{line.label}: {detail.split('; ', 1)[1]}"
                    if text not in warnings:
                        warnings.append(text)
                if plan.source == "measured" and plan.run_ids:
                    warnings.append(f"{line.label}: not measured in the chosen runs; the documented estimate is used.")
            costs.append(LineCost(line, cost, source, detail, line.images_per_day(plan.days_per_month),
                                  line.images_per_month(plan.days_per_month)))
        scenarios.append(ScenarioCost(scenario, tuple(costs)))
    return PlanResult(plan, tuple(scenarios), tuple(warnings))


# --- tidy frames for tables, charts and CSV --------------------------------------------------------

def breakdown(result: PlanResult) -> pd.DataFrame:
    """One row per scenario x line: cost per image, volume and daily/monthly/yearly USD and JPY (Decimal)."""
    rows = []
    for sc in result.scenarios:
        for lc in sc.lines:
            rows.append({
                "scenario": sc.name, "line": lc.line.label, "source": lc.source,
                "cost_per_image_usd": lc.cost_per_image_usd, "images_per_day": lc.images_per_day,
                "images_per_month": lc.images_per_month,
                "daily_usd": lc.daily_usd, "monthly_usd": lc.monthly_usd, "yearly_usd": lc.yearly_usd,
                "daily_jpy": result.jpy(lc.daily_usd), "monthly_jpy": result.jpy(lc.monthly_usd),
                "yearly_jpy": result.jpy(lc.yearly_usd), "detail": lc.detail,
            })
    return pd.DataFrame(rows, columns=["scenario", "line", "source", "cost_per_image_usd", "images_per_day",
                                       "images_per_month", "daily_usd", "monthly_usd", "yearly_usd", "daily_jpy",
                                       "monthly_jpy", "yearly_jpy", "detail"])


COMPARE_METRICS = (
    ("images per day", "images_per_day"),
    ("images per month", "images_per_month"),
    ("cost per image (USD)", "cost_per_image_usd"),
    ("daily (USD)", "daily_usd"),
    ("monthly (USD)", "monthly_usd"),
    ("yearly (USD)", "yearly_usd"),
    ("daily (JPY)", "daily_jpy"),
    ("monthly (JPY)", "monthly_jpy"),
    ("yearly (JPY)", "yearly_jpy"),
)


def compare(result: PlanResult) -> pd.DataFrame:
    """Scenarios side by side (one column each) and each one's difference from the first.

    Rows are ``COMPARE_METRICS``; difference columns are named ``"<name> − <first>"``. Values
    are ``Decimal`` (None where undefined).
    """
    def metric(sc: ScenarioCost, attr: str) -> Decimal | None:
        if attr.endswith("_jpy"):
            return result.jpy(getattr(sc, attr.replace("_jpy", "_usd")))
        return getattr(sc, attr)

    data: dict[str, list] = {"metric": [label for label, _ in COMPARE_METRICS]}
    for sc in result.scenarios:
        data[sc.name] = [metric(sc, attr) for _, attr in COMPARE_METRICS]
    base = result.scenarios[0]
    for sc in result.scenarios[1:]:
        diffs = []
        for _, attr in COMPARE_METRICS:
            a, b = metric(sc, attr), metric(base, attr)
            diffs.append(a - b if a is not None and b is not None else None)
        data[f"{sc.name} − {base.name}"] = diffs
    return pd.DataFrame(data)


def format_money(value: Decimal | None, currency: str = "USD") -> str:
    """Display form: ``$1,021.26`` or ``¥153,189`` (half-up rounding; the Decimal stays exact)."""
    if value is None:
        return "–"
    if currency == "JPY":
        return f"¥{value.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"
    places = Decimal("0.01") if abs(value) >= 1 else Decimal("0.000001")
    q = value.quantize(places, rounding=ROUND_HALF_UP)
    return f"-${abs(q):,}" if q < 0 else f"${q:,}"


# --- quota -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuotaResult:
    """Throughput under a quota and the time a batch takes."""

    requests_per_minute: Decimal
    images_per_hour: Decimal
    images_per_day: Decimal
    batch_requests: int
    batch_minutes: Decimal
    limited_by: str  # quota | concurrency

    @property
    def batch_time(self) -> timedelta:
        return timedelta(seconds=float(self.batch_minutes * 60))


def quota_capacity(quota: Quota, latency_s: Decimal | float | None = None,
                   concurrency: int | None = None) -> QuotaResult:
    """The most images per hour and day under ``rpm x deployments``, and the time for the batch.

    With a mean latency and a concurrency, the lower of the quota and ``concurrency x 60 /
    latency`` requests per minute binds (``limited_by`` says which). Steady rate: the quota is
    enforced over sub-minute windows, so bursts above it are refused (429) rather than queued.
    """
    rpm = quota.rpm * quota.deployments
    limited_by = "quota"
    if latency_s is not None and concurrency:
        latency = _decimal(latency_s, "mean latency (s)", positive=True)
        by_concurrency = Decimal(concurrency) * 60 / latency
        if by_concurrency < rpm:
            rpm, limited_by = by_concurrency, "concurrency"
    n = quota.images_per_request
    per_hour = rpm * 60 * n
    requests = math.ceil(quota.batch_images / n)
    return QuotaResult(rpm, per_hour, per_hour * quota.hours_per_day, requests, Decimal(requests) / rpm, limited_by)


def scenario_quota(result: PlanResult, capacity: QuotaResult) -> pd.DataFrame:
    """Per scenario: daily images, the share of the daily capacity they use, hours needed and deployments needed."""
    rows = []
    q = result.plan.quota
    per_deployment_day = capacity.images_per_day / q.deployments
    for sc in result.scenarios:
        need = sc.images_per_day
        rows.append({
            "scenario": sc.name, "images_per_day": need,
            "share_of_capacity": need / capacity.images_per_day if capacity.images_per_day else None,
            "hours_needed_per_day": need / capacity.images_per_hour if capacity.images_per_hour else None,
            "deployments_needed": max(1, math.ceil(need / per_deployment_day)) if per_deployment_day else None,
            "fits": need <= capacity.images_per_day,
        })
    return pd.DataFrame(rows, columns=["scenario", "images_per_day", "share_of_capacity", "hours_needed_per_day",
                                       "deployments_needed", "fits"])


# --- URL query parameters --------------------------------------------------------------------------

def _num(d: Decimal) -> str:
    """Shortest exact text for a Decimal (``1000``, ``12.5``)."""
    text = format(d.normalize(), "f")
    return text


def _encode_line(line: PlanLine) -> str:
    fields = [line.model, line.quality, line.size, _num(line.images), line.per[0], str(line.prompt_tokens), line.provider]
    defaults = [None, None, None, None, None, str(DEFAULT_PROMPT_TOKENS), "openai"]
    while len(fields) > 5 and fields[-1] == defaults[len(fields) - 1]:
        fields.pop()  # trailing defaults are implied
    return "~".join(fields)


def to_query(plan: BudgetPlan) -> dict[str, str]:
    """The plan as URL query parameters (version ``v=1``; see :func:`from_query`)."""
    q = plan.quota
    params = {
        "v": QUERY_VERSION,
        "src": "meas" if plan.source == "measured" else "doc",
        "fx": _num(plan.jpy_per_usd),
        "fxd": plan.rate_date.isoformat(),
        "q": "~".join([_num(q.rpm), str(q.deployments), str(q.images_per_request), str(q.batch_images),
                       _num(q.hours_per_day)]),
    }
    if plan.days_per_month != 30:
        params["dpm"] = _num(plan.days_per_month)
    if plan.source == "measured" and plan.run_ids:
        params["runs"] = ",".join(plan.run_ids)
    for i, sc in enumerate(plan.scenarios):
        params[f"s{i}"] = "!".join([quote(sc.name, safe=" "), *(_encode_line(line) for line in sc.lines)])
    return params


def _first(value) -> str:
    """A query value may arrive as a list (repeated key): use the last one, as browsers do."""
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def _decode_line(text: str, where: str) -> PlanLine:
    parts = text.split("~")
    if not 5 <= len(parts) <= 7:
        raise PlanError(f"URL parameter {where}: {text!r} has {len(parts)} fields; expected "
                        "model~quality~size~images~d|m[~prompt_tokens[~provider]]. Fix: copy the whole link again.")
    model, quality, size, images, per = parts[:5]
    if per not in ("d", "m"):
        raise PlanError(f"URL parameter {where}: per = {per!r} in {text!r}; expected d (day) or m (month). "
                        "Fix: copy the whole link again.")
    fields = {"model": model, "quality": quality, "size": size, "images": images, "per": "day" if per == "d" else "month"}
    if len(parts) > 5:
        fields["prompt_tokens"] = parts[5]
    if len(parts) > 6:
        fields["provider"] = parts[6]
    return check(LineFields, fields, f"URL parameter {where}", PlanError).line()


def from_query(params: Mapping[str, object], today: date) -> BudgetPlan | None:
    """A plan from URL query parameters, or None when the URL carries no plan (no ``s0``).

    Raises PlanError naming the parameter and the fix for a link that is broken or newer
    than this app.
    """
    p = {k: _first(v) for k, v in params.items()}
    if "s0" not in p:
        return None
    version = p.get("v", QUERY_VERSION)
    if version != QUERY_VERSION:
        raise PlanError(f"URL parameter v = {version!r}: this app reads plan links of version {QUERY_VERSION}. "
                        "Fix: open the link in the version of the app that made it, or rebuild the plan here.")
    scenarios = []
    i = 0
    while f"s{i}" in p:
        where = f"s{i}"
        name, *lines = p[where].split("!")
        if not lines:
            raise PlanError(f"URL parameter {where}: scenario {unquote(name)!r} has no line. "
                            "Fix: copy the whole link again.")
        scenarios.append(Scenario(unquote(name), tuple(_decode_line(t, where) for t in lines)))
        i += 1
    src = p.get("src", "doc")
    if src not in ("doc", "meas"):
        raise PlanError(f"URL parameter src = {src!r}; expected doc or meas. Fix: copy the whole link again.")
    try:
        rate_date = date.fromisoformat(p["fxd"]) if p.get("fxd") else today
    except ValueError:
        raise PlanError(f"URL parameter fxd = {p['fxd']!r} is not a date. Fix: use YYYY-MM-DD.") from None
    quota = Quota()
    if p.get("q"):
        parts = p["q"].split("~")
        if len(parts) != 5:
            raise PlanError(f"URL parameter q = {p['q']!r}; expected rpm~deployments~n~batch~hours. "
                            "Fix: copy the whole link again.")
        quota = check(QuotaFields, dict(zip(QuotaFields.model_fields, parts)), "URL parameter q", PlanError).quota()
    return BudgetPlan(
        scenarios=tuple(scenarios),
        jpy_per_usd=_decimal(p.get("fx", EXAMPLE_JPY_PER_USD), "URL parameter fx (JPY per USD)", positive=True),
        rate_date=rate_date,
        source="measured" if src == "meas" else "documented",
        run_ids=tuple(r for r in p.get("runs", "").split(",") if r),
        days_per_month=_decimal(p.get("dpm", "30"), "URL parameter dpm (days per month)", positive=True),
        quota=quota,
    )


# --- CSV -------------------------------------------------------------------------------------------

PLAN_CSV_COLUMNS = (
    "scenario", "provider", "model", "quality", "size", "images", "per", "prompt_tokens",
    "source", "run_ids", "jpy_per_usd", "rate_date", "days_per_month",
    "rpm", "deployments", "images_per_request", "batch_images", "hours_per_day",
)
RESULT_CSV_COLUMNS = (
    "cost_per_image_usd", "cost_source", "images_per_day", "images_per_month", "daily_usd", "monthly_usd",
    "yearly_usd", "daily_jpy", "monthly_jpy", "yearly_jpy", "detail",
)


def to_csv(plan: BudgetPlan, result: PlanResult | None = None) -> str:
    """One row per scenario line: the plan's inputs (read back by :func:`from_csv`), then the results."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*PLAN_CSV_COLUMNS, *(RESULT_CSV_COLUMNS if result else ())])
    q = plan.quota
    costs = {}
    if result is not None:
        costs = {(sc.name, i): lc for sc in result.scenarios for i, lc in enumerate(sc.lines)}
    for sc in plan.scenarios:
        for i, line in enumerate(sc.lines):
            row = [sc.name, line.provider, line.model, line.quality, line.size, _num(line.images), line.per,
                   line.prompt_tokens, plan.source, ",".join(plan.run_ids), _num(plan.jpy_per_usd),
                   plan.rate_date.isoformat(), _num(plan.days_per_month), _num(q.rpm), q.deployments,
                   q.images_per_request, q.batch_images, _num(q.hours_per_day)]
            lc = costs.get((sc.name, i))
            if lc is not None and result is not None:
                row += [lc.cost_per_image_usd, lc.source, lc.images_per_day, lc.images_per_month, lc.daily_usd,
                        lc.monthly_usd, lc.yearly_usd, result.jpy(lc.daily_usd), result.jpy(lc.monthly_usd),
                        result.jpy(lc.yearly_usd), lc.detail]
            writer.writerow(row)
    return out.getvalue()


def from_csv(text: str) -> BudgetPlan:
    """Read a plan back from :func:`to_csv` output (result columns are ignored)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in PLAN_CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise PlanError(f"plan CSV: missing column(s) {missing}. Fix: export the plan again from the Planner page.")
    rows = list(reader)
    if not rows:
        raise PlanError("plan CSV: no rows. Fix: export a plan with at least one line.")
    order: list[str] = []
    lines: dict[str, list[PlanLine]] = {}
    for n, row in enumerate(rows, start=2):
        where = f"plan CSV line {n}"
        name = row["scenario"]
        if name not in lines:
            order.append(name)
            lines[name] = []
        lines[name].append(check(LineFields, {k: row[k] for k in LineFields.model_fields}, where, PlanError).line())
    first = rows[0]
    try:
        rate_date = date.fromisoformat(first["rate_date"])
    except ValueError:
        raise PlanError(f"plan CSV: rate_date = {first['rate_date']!r} is not a date. Fix: use YYYY-MM-DD.") from None
    return BudgetPlan(
        scenarios=tuple(Scenario(name, tuple(lines[name])) for name in order),
        jpy_per_usd=_decimal(first["jpy_per_usd"], "plan CSV: jpy_per_usd", positive=True), rate_date=rate_date,
        source=first["source"], run_ids=tuple(r for r in first["run_ids"].split(",") if r),
        days_per_month=_decimal(first["days_per_month"], "plan CSV: days_per_month", positive=True),
        quota=check(QuotaFields, {k: first[k] for k in QuotaFields.model_fields}, "plan CSV line 2", PlanError).quota(),
    )


def with_scenarios(plan: BudgetPlan, scenarios: Sequence[Scenario]) -> BudgetPlan:
    """A copy of ``plan`` with other scenarios (validated again)."""
    return replace(plan, scenarios=tuple(scenarios))


# --- the Planner page's editor (its tables and choices; the widgets are ui/planner.py's) ------------------

#: The editor table's columns, one row per plan line.
LINE_COLUMNS = ["provider", "model", "quality", "size", "images", "per", "prompt_tokens"]


def lines_frame(lines: tuple[PlanLine, ...]) -> pd.DataFrame:
    """Plan lines as the editor's table."""
    rows = [{"provider": ln.provider, "model": ln.model, "quality": ln.quality, "size": ln.size,
             "images": float(ln.images), "per": ln.per, "prompt_tokens": int(ln.prompt_tokens)} for ln in lines]
    return pd.DataFrame(rows, columns=LINE_COLUMNS)


def frame_lines(frame: pd.DataFrame) -> tuple[PlanLine, ...]:
    """The editor's table back to plan lines (rows without a model are ignored: a half-typed new row)."""
    out = []
    for row in frame.to_dict("records"):
        if not isinstance(row.get("model"), str) or not row["model"]:
            continue
        images = row.get("images")
        images = Decimal(0) if images is None or pd.isna(images) else Decimal(str(images))
        tokens = row.get("prompt_tokens")
        tokens = DEFAULT_PROMPT_TOKENS if tokens is None or pd.isna(tokens) else tokens
        out.append(PlanLine(model=row["model"], quality=str(row.get("quality") or "auto"),
                            size=str(row.get("size") or "auto"), images=images, per=str(row.get("per") or "day"),
                            prompt_tokens=tokens, provider=str(row.get("provider") or "openai")))
    return tuple(out)


def editor_choices(catalog: Catalog, today: date) -> tuple[list[str], list[str], list[str]]:
    """(models, qualities, sizes) the editor's table offers on ``today``: models in the data's preference order,
    those live on OpenAI that day first (lifecycle.preferred_models); "auto" first for quality and size."""
    models = lifecycle.preferred_models(catalog, "openai", today, runnable_only=False)
    qualities = ["auto"] + sorted({q for m in catalog.models.values() for q in m.qualities},
                                  key=["low", "medium", "high", "xhigh", "max"].index)
    sizes = ["auto"] + sorted({s for m in catalog.models.values() for s in m.size_values()},
                              key=lambda s: tuple(int(x) for x in s.split("x")))
    return models, qualities, sizes
