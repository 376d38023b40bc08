"""The one door the dashboard's pages use: each page turns its widgets into one call here, then renders.

The pages (``dashboard.py``, ``pages/*.py``) import only ``ui`` and this module; ``ui`` holds the
Streamlit side (widgets, state, caching, rendering). Every function here is plain Python over the
layers below (core, storage, execution, insight) and never imports Streamlit::

    estimate_form(values, catalog, today)               Generate: the form's spec, its estimate and duration
    edit_inputs(uploads, picked, mask, store)           Generate (Edit mode): the input images, checked
    start_run(spec, ...) / resume_run(run_id, ...)      Generate, Results: a GridRun, started
    history(store) / analyse(store, selection, cells)   Analytics: the cell frame, then the figures
    edit_analytics(store, catalog, selection)           Analytics: edits' input image tokens, cost per edit
    make_plan(plan, catalog, store, on=day)             Planner: a plan's costs, quota and warnings
    plan_from_link(params, today) / plan_from_csv(text) Planner: a shared plan back from its link or CSV
    compare(store, run_ids) / run_spend(store, run_ids)  Compare: the pool, its votes and the report; what runs spent
    judge_draft(store, pool, model, settings) / run_judge(store, draft, settings)
                                                        Compare: what the automatic judge would score, then scoring it
    catalog_tables(catalog, today)                      Catalog: lifecycles, models, tokens, prices, estimates
    check_simulator(spec, where) / lifecycle_status(...) Generate: a loaded spec's [simulator] table, a model's status
    save_recording(home, data, where)                   Generate: a recording for the simulator to replay, kept

Everything else ``ui/`` uses from the library is re-exported here as the library defines it, so that ``ui/``
reaches the layers only through this module (tests/test_architecture.py checks every ui module):

* :data:`FORM_HELPERS`: the forms' vocabulary (axes, allowed values, spec decoding, form values, limits);
* :data:`FRAME_HELPERS`: the page frame's (settings, store, catalog and its local overrides, providers, the
  working date, redaction);
* :data:`VIEW_HELPERS`: what the views draw and do (charts, grid layout, code snippets, lifecycles, overrides
  and calibration, the plan editor's tables, the quality report's parts and exports, votes).

:data:`REEXPORTS` is all three. Each name loads its module on first use (module ``__getattr__``), so importing
the facade costs nothing beyond :mod:`imagegen.errors`, and a ui module that names a helper only inside a function
(plotly's charts, the SDK's providers) still loads it only when that function runs.

Errors are the project's own (:mod:`imagegen.errors`); the pages show ``str(err)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagegen.errors import ImagegenError

if TYPE_CHECKING:
    import pandas as pd

    from imagegen.core.catalog import Catalog
    from imagegen.core.grid import GridEstimate, GridSpec
    from imagegen.core.gridform import FormValues
    from imagegen.core.lifecycle import Lifecycle
    from imagegen.execution.runner import GridRun
    from imagegen.execution.simulator.config import SimulatorConfig
    from imagegen.insight.analysis import Analysis, Selection
    from imagegen.insight.planner import BudgetPlan, PlanResult, QuotaResult
    from imagegen.storage.store import Store

#: ``factory(name, simulator=table)`` -> a provider (``ui.Context.provider_factory``).
ProviderFactory = Callable[..., Any]


# --- the Generate form -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FormEstimate:
    """The Generate form as a grid: its spec, what was adjusted, the estimate and the expected wall time."""

    spec: GridSpec
    notes: list[str]           # fixed parameters made consistent (gridform.build_spec)
    estimate: GridEstimate
    duration_s: float          # estimated: modelled latency under the limits (execution.duration)


def estimate_form(values: FormValues, catalog: Catalog, today: date) -> FormEstimate:
    """The spec the form describes, priced and validated on ``today`` (InvalidRequest before anything is sent)."""
    from imagegen.core.grid import estimate_grid
    from imagegen.core.gridform import build_spec
    from imagegen.execution.duration import expected_duration_s

    spec, notes = build_spec(values, catalog, today)
    est = estimate_grid(spec, catalog, today)
    return FormEstimate(spec, notes, est, expected_duration_s(est, spec.simulator))


@dataclass(frozen=True)
class EditDraft:
    """Generate's Edit mode: the input images and mask as checked (None) or every refusal (with the fix)."""

    inputs: Any            # core.editinputs.EditInputs, or None when refused or empty
    errors: list[str]


def edit_inputs(uploads: list[tuple[str, bytes]], picked: list[int], mask: tuple[str, bytes] | None,
                store: Store | None) -> EditDraft:
    """The input images of an edit grid: uploads first, then earlier results (``result:<id>``), and the mask,
    checked like a spec's ``[edit]`` (count, format, size; mask PNG with alpha, the first image's size)."""
    from imagegen.core.editinputs import RESULT_PREFIX, check_uploads

    images = list(uploads)
    errors: list[str] = []
    for rid in picked:
        data = store.result_image(rid) if store is not None else None
        if data is None:
            errors.append(f"Earlier result {rid}: no stored image. Fix: pick another result or upload the image.")
        else:
            images.append((f"{RESULT_PREFIX}{rid}", data))
    if errors:
        return EditDraft(None, errors)
    inputs, errors = check_uploads(images, mask)
    return EditDraft(inputs, errors)


def reusable(est, store) -> dict[int, int]:
    """cell index -> repeats that "reuse from history" would take at $0, as the runner takes them: each past
    result once, cells in order (``GridRun(reuse=True)``)."""
    from imagegen.storage.writer import request_key

    inputs = est.spec.inputs.key_files if est.spec.inputs is not None else ()
    keys = {cell.index: request_key(cell.request, inputs) for cell in est.cells}
    left = dict(store.reusable_counts(list(keys.values())))
    out: dict[int, int] = {}
    for _repeat in range(est.spec.repeats):  # the runner's job order: repeat by repeat, cell by cell
        for cell in est.cells:
            if left.get(keys[cell.index], 0) > 0:
                left[keys[cell.index]] -= 1
                out[cell.index] = out.get(cell.index, 0) + 1
    return out


# --- runs (Generate, Results) --------------------------------------------------------------------


def start_run(spec: GridSpec, *, provider_factory: ProviderFactory, store: Store, catalog: Catalog,
              today: date, settings=None, reuse: bool = False) -> GridRun:
    """Validate (on ``today``), price and start a grid run in the background (raises before anything is sent)."""
    from imagegen.execution.runner import GridRun

    run = GridRun(spec, provider=lambda name: provider_factory(name, simulator=spec.simulator), store=store,
                  catalog=catalog, settings=settings, name=spec.name or None, reuse=reuse, today=today)
    run.start()
    return run


def resume_run(run_id: str, *, provider_factory: ProviderFactory, store: Store, catalog: Catalog,
               today: date, settings=None) -> GridRun:
    """Finish the cells of a past run that were cancelled, skipped or never recorded (``run --resume``).

    The run's own stored spec configures the simulator, as it did the first time.
    """
    from imagegen.core.grid import loads_spec
    from imagegen.execution.runner import GridRun

    spec_toml = store.run(run_id).get("spec_toml") or ""
    try:
        simulator = loads_spec(spec_toml).simulator if spec_toml else None
    except ImagegenError:  # an old or hand-edited spec: the environment's simulator settings
        simulator = None
    run = GridRun(None, resume=run_id, provider=lambda name: provider_factory(name, simulator=simulator),
                  store=store, catalog=catalog, settings=settings, today=today)
    run.start()
    return run


# --- analytics ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """What the Analytics filters offer: every stored cell, and the options drawn from them."""

    cells: pd.DataFrame
    options: pd.DataFrame      # provider, model, first_day, last_day (analysis.filter_options)
    runs: dict[str, str]       # run_id -> label for the Runs filter

    @property
    def empty(self) -> bool:
        return self.options.empty


def history(store: Store) -> History:
    """The run history as Analytics filters it (one pass over the store)."""
    from imagegen.insight import analysis

    cells = analysis.cell_frame(store.query)
    labels = {r.run_id: f"{r.run_name or '(unnamed)'} · {r.models} · {r.results:,} results · {r.run_id}"
              for r in analysis.run_options(cells).itertuples()}
    return History(cells, analysis.filter_options(cells), labels)


def analyse(store: Store, selection: Selection, cells: pd.DataFrame | None = None) -> Analysis:
    """Every Analytics figure for ``selection`` (successful, non-reused results only)."""
    from imagegen.insight import analysis

    return analysis.analyse(store.query, selection, cells=cells)


def selection(*, providers=(), models=(), run_ids=(), dates=(), kind: str | None = "all") -> Selection:
    """An analysis Selection from the Analytics widgets (``kind``: all | simulated | replayed | measured;
    "simulated" leaves replayed results out: they are figures of their own)."""
    from imagegen.insight.analysis import Selection

    dates = tuple(dates) if isinstance(dates, (tuple, list)) else ((dates,) if dates else ())
    return Selection(providers=tuple(providers), models=tuple(models), run_ids=tuple(run_ids),
                     since=dates[0] if dates else None, until=dates[1] if len(dates) > 1 else None,
                     simulated={"simulated": True, "measured": False}.get(kind or "all"),
                     replayed={"simulated": False, "replayed": True}.get(kind or "all"))


@dataclass(frozen=True)
class EditAnalytics:
    """Analytics of edit results: input image tokens billed vs estimated, and cost per edit."""

    tokens: pd.DataFrame       # per model x input_fidelity x source (insight.edits.input_token_table)
    costs: pd.DataFrame        # per model x input_fidelity x quality x source (cost_by_fidelity_quality)

    @property
    def empty(self) -> bool:
        return self.tokens.empty


def edit_analytics(store: Store, catalog: Catalog, selection: Selection | None = None) -> EditAnalytics:
    """Input image tokens (billed, from ``usage.input_tokens_details``, vs the catalog's estimate) and the cost
    per edit by fidelity x quality, for the stored edit results ``selection`` keeps."""
    from imagegen.insight import edits

    def sizes(run_id: str) -> tuple:
        run = edits.edit_run(store.run_inputs(run_id), _empty_cells(), catalog)
        return run.sizes if run is not None else ()

    return EditAnalytics(edits.input_token_table(store.query, catalog, sizes, selection),
                         edits.cost_by_fidelity_quality(store.query, selection))


def _empty_cells():
    """An empty cells frame (the estimate needs only the run's input sizes here)."""
    import pandas as pd

    return pd.DataFrame(columns=["cell_id", "model", "input_fidelity"])


# --- planner --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOutcome:
    """A plan with everything the Planner page shows about it."""

    plan: BudgetPlan
    result: PlanResult
    compare: pd.DataFrame      # scenarios side by side (planner.compare)
    breakdown: pd.DataFrame    # per setting and period (planner.breakdown)
    capacity: QuotaResult      # what the quota allows
    needs: pd.DataFrame        # each scenario's share of it (planner.scenario_quota)
    query: dict[str, str]      # the plan as the page's link
    csv: str                   # the plan as CSV


def make_plan(plan: BudgetPlan, catalog: Catalog, store: Store | None = None, *, on: date) -> PlanOutcome:
    """Cost a budget plan with the prices and lifecycles of date ``on``: documented prices, or what the chosen
    runs really cost (``plan.source``)."""
    from imagegen.insight import analysis, planner

    measured = None
    if plan.source == "measured" and plan.run_ids and store is not None:
        measured = analysis.measured_costs(store.query, plan.run_ids)
    result = planner.evaluate(plan, catalog, measured, on=on)
    capacity = planner.quota_capacity(plan.quota)
    return PlanOutcome(plan, result, planner.compare(result), planner.breakdown(result), capacity,
                       planner.scenario_quota(result, capacity), planner.to_query(plan),
                       planner.to_csv(plan, result))


def plan_from_link(params: Mapping[str, object], today: date) -> BudgetPlan | None:
    """The plan a shared link carries (None when the link has none); PlanError when it is broken."""
    from imagegen.insight import planner

    return planner.from_query(params, today)


def plan_from_csv(data: bytes) -> BudgetPlan:
    """A plan from an uploaded CSV (the Planner's own export); PlanError naming the line otherwise."""
    from imagegen.errors import PlanError
    from imagegen.insight import planner

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanError(f"the file is not UTF-8 text ({exc}). Fix: upload the CSV the Planner exported.") from None
    return planner.from_csv(text)


def run_labels(store: Store | None, limit: int = 200) -> dict[str, str]:
    """run_id -> label of the newest runs (the Planner's measured-cost picker)."""
    if store is None:
        return {}
    runs = store.runs(limit=limit)
    return {r.run_id: f"{r.name or '(unnamed)'} · {r.model} · {r.ok} ok · {r.run_id}"
            + (" · simulated" if r.simulated else "") for r in runs.itertuples()}


# --- blind compare --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """What the Compare page shows: the pool of images, every vote on it and the ranking report."""

    pool: Any       # insight.quality.Pool
    votes: pd.DataFrame
    report: Any     # insight.quality.Report


def compare(store: Store, run_ids) -> Comparison:
    """The images of ``run_ids``, their votes and judge scores, and the ranking/frontier report."""
    from imagegen.insight import quality
    from imagegen.storage import votes as vote_store

    pool = quality.load_pool(store, run_ids)
    votes = vote_store.votes(store, pool.run_ids)
    return Comparison(pool, votes, quality.report(pool, votes, vote_store.judge_scores(store, pool.run_ids)))


@dataclass(frozen=True)
class RunSpend:
    """What runs spent as recorded with them (images and judge calls), and the judge's share apart.

    ``judges`` is one (``judge: <model>``, USD, price status) per judge model; judge prices are data
    with a status (``assumed`` today), so every judge figure carries it.
    """

    total_usd: Any                              # Decimal: the runs' cost_usd, judge included
    judge_usd: Any                              # Decimal: of which the judge
    judges: tuple[tuple[str, Any, str], ...] = ()

    @property
    def judge_status(self) -> str:
        """The judge prices' status ("assumed", "documented", …); "—" when no judge ran."""
        return ", ".join(sorted({status for _label, _usd, status in self.judges})) or "—"

    @property
    def judge_labels(self) -> str:
        return ", ".join(label for label, _usd, _status in self.judges)


def run_spend(store: Store, run_ids) -> RunSpend:
    """The recorded spend of ``run_ids`` and, apart, what the automatic judge cost of it (Decimal)."""
    from decimal import Decimal

    from imagegen.execution import judge
    from imagegen.storage import votes as vote_store

    run_ids = list(dict.fromkeys(run_ids))
    total = sum((Decimal(store.run(r).get("cost_usd") or "0") for r in run_ids), Decimal(0))
    scores = vote_store.judge_scores(store, run_ids)
    models = judge.judge_models()
    by: dict[str, list] = {}
    for label, model, cost in zip(scores["judge"], scores["model"], scores["cost_usd"]):
        status = models[model].status if model in models else "price status unknown"
        entry = by.setdefault(str(label), [Decimal(0), status])
        entry[0] += Decimal(str(cost or "0"))
    judges = tuple((label, usd, status) for label, (usd, status) in sorted(by.items()))
    return RunSpend(total, sum((usd for _l, usd, _s in judges), Decimal(0)), judges)


@dataclass(frozen=True)
class JudgeDraft:
    """A judging pass before it runs: the rubric, the pool's images, those this judge has not scored yet with
    this rubric version, and what scoring them costs at most (estimated, before anything is sent)."""

    model: str
    rubric: Any          # execution.judge.Rubric (its .version is shown)
    items: tuple         # every image of the pool (execution.judge.Todo)
    todo: tuple          # of which not yet scored by ``model`` with this rubric
    estimate: Any        # execution.judge.Estimate: .total (Decimal), .price_entry, .status

    @property
    def label(self) -> str:
        """How every figure of this judge is labelled (``judge: <model>``)."""
        from imagegen.execution import judge

        return judge.label(self.model)


def judge_draft(store: Store, pool, model: str, settings) -> JudgeDraft:
    """What the automatic judge ``model`` would score in ``pool`` (an insight.quality.Pool) and its upper cost."""
    from imagegen.execution import judge

    rubric = judge.load_rubric()
    items = tuple(judge.Todo(int(r.result_id), r.run_id, r.prompt, r.image_path) for r in pool.items.itertuples())
    todo = tuple(judge.pending(store, items, rubric, model))
    return JudgeDraft(model, rubric, items, todo, judge.estimate(todo, rubric, model, settings))


def run_judge(store: Store, draft: JudgeDraft, settings) -> list:
    """Score ``draft.todo`` (this spends money on a real provider); the stored scores, each with its cost."""
    from imagegen.execution import judge

    return judge.run_judge(store, list(draft.todo), draft.rubric, draft.model, settings)


# --- replays (Generate's simulator panel) -----------------------------------------------------------


@dataclass(frozen=True)
class SavedRecording:
    """A recording checked and kept under ``<home>/recordings/<sha>.json`` (the spec names that path)."""

    recording: Any   # core.recording.Recording: .entries, .runs
    path: Path


def save_recording(home: Path | str, data: bytes, where: str = "recording") -> SavedRecording:
    """Validate an uploaded recording (RecordingError naming the fix) and save it once by its content hash."""
    import hashlib

    from imagegen.core.recording import parse_recording

    recording = parse_recording(data, where=where)
    path = Path(home) / "recordings" / f"{hashlib.sha256(data).hexdigest()[:16]}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return SavedRecording(recording, path)


# --- catalog --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogTables:
    """What the Catalog page shows about a catalog on ``today`` (insight.catalog_tables)."""

    catalog: Catalog
    today: date
    lifecycle: list[Lifecycle]       # every model x provider that day
    models: pd.DataFrame
    lifecycles: pd.DataFrame         # one row per model x provider
    tokens: dict[str, pd.DataFrame]  # token table key -> quality x size
    formulas: dict[str, str]         # token table key -> its formula in words
    prices: pd.DataFrame

    def estimates(self, provider: str, size: str) -> pd.DataFrame:
        """Estimated cost of one image per model x standard quality on ``provider`` at ``size``, as $ strings."""
        from imagegen.insight import catalog_tables as tables

        return tables.money_cells(tables.per_image_estimates(self.catalog, provider, size, self.today))


def catalog_tables(catalog: Catalog, today: date) -> CatalogTables:
    """Every Catalog page table for ``catalog`` on ``today``."""
    from imagegen.insight import catalog_tables as tables

    return CatalogTables(catalog, today, tables.lifecycle(catalog, today), tables.models_table(catalog),
                         tables.lifecycle_table(catalog, today),
                         {key: tables.token_table(catalog, key) for key in catalog.tokens},
                         {key: tables.formula_text(catalog, key) for key in catalog.tokens},
                         tables.prices_table(catalog))


# --- the forms' vocabulary ---------------------------------------------------------------------------

#: Pure constants, types and functions (no I/O, no clock, no Streamlit) the dashboard's forms use as they
#: are: name -> the module that defines it. Loaded on first use (module ``__getattr__``).
FORM_HELPERS: dict[str, str] = {
    **dict.fromkeys(("AXIS_PARAMS", "COMPRESSION_PRESETS", "EDIT_ONLY_PARAMS", "FIXED_PARAMS", "Axis", "allowed_values", "axis_options",
                     "default_model", "format_value", "keep_allowed", "model_values", "refused_values"),
                    "imagegen.core.axes"),
    **dict.fromkeys(("GridEstimate", "GridSpec", "Spend", "SpendSplit", "decode_spec", "loads_spec"),
                    "imagegen.core.grid"),
    **dict.fromkeys(("AXIS_KEYS", "AXIS_LABELS", "NO_AXIS", "FormValues", "format_duration", "parse_budget",
                     "spec_to_form", "split_prompts"), "imagegen.core.gridform"),
    **dict.fromkeys(("MAX_EDIT_IMAGES", "EditInputs", "mask_from_box", "mask_from_painting"),
                    "imagegen.core.editinputs"),
    "MAX_PROMPT_CHARS": "imagegen.core.request",
    "STATUS_ORDER": "imagegen.core.catalog",
    **dict.fromkeys(("FAULT_ALIASES", "FAULT_KINDS"), "imagegen.execution.simulator.config"),
}


#: The page frame's vocabulary (``ui/__init__.py``: settings, store, catalog with local overrides, providers,
#: the working date, redaction, the library's translator hook).
FRAME_HELPERS: dict[str, str] = {
    **dict.fromkeys(("Catalog", "PROVIDERS", "default_catalog", "status_label"), "imagegen.core.catalog"),
    **dict.fromkeys(("TODAY_ENV", "working_date"), "imagegen.core.dates"),
    "data_home": "imagegen.core.paths",
    **dict.fromkeys(("Settings", "load_settings"), "imagegen.execution.settings"),
    "SimulatorConfig": "imagegen.execution.simulator",
    # the providers import the openai SDK (~0.5 s): only a page that builds one pays for it (first use)
    **dict.fromkeys(("Provider", "make_provider", "make_simulator_provider"), "imagegen.execution.providers"),
    "redact_url": "imagegen.redaction",
    "set_translator": "imagegen.i18n",
    "Store": "imagegen.storage.store",
}

#: What the views draw and do as they are (pure functions and types, and the few writers of local files:
#: price and token overrides, votes, the judge). A value ``"module:attr"`` re-exports ``attr`` under another name
#: (the facade is one namespace: ``estimate`` or ``label`` alone would not say whose).
VIEW_HELPERS: dict[str, str] = {
    # Home, Catalog: lifecycles, catalog freshness, local price and token overrides, calibration
    **dict.fromkeys(("Lifecycle", "lifecycle_warnings", "preferred_models"), "imagegen.core.lifecycle"),
    "catalog_freshness": "imagegen.execution.providers.sdk_vocabulary",
    **dict.fromkeys(("PRICE_FIELDS", "add_override", "load_overrides", "make_override", "overrides_path",
                     "remove_override"), "imagegen.core.overrides"),
    **dict.fromkeys(("add_token_overrides", "load_token_overrides", "remove_token_override",
                     "token_overrides_path"), "imagegen.core.token_overrides"),
    "base_price": "imagegen.insight.catalog_tables",
    **dict.fromkeys(("catalog_version", "export_calibration", "parse_calibration"), "imagegen.core.calibration_file"),
    **dict.fromkeys(("calibrate", "proposals"), "imagegen.insight.calibration"),
    # Generate, Results: the grid view, its code snippets, the grid as one PNG, edits' inputs, replays
    "MAX_IMAGE_PIXELS": "imagegen.core.imagefile",
    **dict.fromkeys(("request_of", "snippets"), "imagegen.insight.codegen"),
    **dict.fromkeys(("EditRun", "load_edit_run"), "imagegen.insight.edits"),
    "compose_grid": "imagegen.insight.gridimage",
    **dict.fromkeys(("Layout", "as_decimal", "as_float", "cell_key", "coords_of", "file_format", "human_bytes",
                     "layout_for", "rows_by_cell"), "imagegen.insight.gridlayout"),
    "GridRun": "imagegen.execution.runner",
    # Analytics, Planner: the charts (plotly: loaded on first use) and the plan editor's vocabulary
    **dict.fromkeys(("cost_per_image", "cost_vs_rating", "file_sizes", "first_partial_vs_final", "image_config",
                     "latency_distribution", "latency_vs_tokens", "plan_costs", "tokens_vs_documented"),
                    "imagegen.insight.charts"),
    **dict.fromkeys(("Analysis", "DEVIATION_TOLERANCE"), "imagegen.insight.analysis"),
    **dict.fromkeys(("BudgetPlan", "DEFAULT_PROMPT_TOKENS", "EXAMPLE_JPY_PER_USD", "PER", "PlanLine", "Quota",
                     "Scenario", "default_plan", "editor_choices", "format_money", "frame_lines", "lines_frame"),
                    "imagegen.insight.planner"),
    "plan_query": "imagegen.insight.planner:to_query",
    # Compare: the pool, pairing, votes, the ranking report and its exports, the judge
    **dict.fromkeys(("NOT_RUN", "export_scores", "export_votes", "planner_plan", "summary_html", "unrun_settings"),
                    "imagegen.insight.quality"),
    "QualityPool": "imagegen.insight.quality:Pool",
    "QualityReport": "imagegen.insight.quality:Report",
    **dict.fromkeys(("Pair", "PastVote", "next_pair"), "imagegen.insight.pairing"),
    **dict.fromkeys(("frontier_figure", "win_rate_heatmap"), "imagegen.insight.quality_charts"),
    **dict.fromkeys(("record_vote", "undo_last_vote"), "imagegen.storage.votes"),
    "EXCEL_BOM": "imagegen.storage.reader",
    "judge_models": "imagegen.execution.judge",
    "DEFAULT_JUDGE_MODEL": "imagegen.execution.judge:DEFAULT_MODEL",
}

#: Every name the facade re-exports: name -> ``"module"`` or ``"module:attr"`` (tests/test_architecture.py
#: checks each is the library's own object, with a docstring when it is a function or class).
REEXPORTS: dict[str, str] = {**FORM_HELPERS, **FRAME_HELPERS, **VIEW_HELPERS}


def reexported(name: str) -> tuple[str, str]:
    """(module, attribute) that the facade's ``name`` re-exports; KeyError when it re-exports no such name."""
    module, _, attr = REEXPORTS[name].partition(":")
    return module, attr or name


def __getattr__(name: str):
    # Loaded on first use, so importing the facade (and a ui module that names a helper it uses only in a
    # function) stays cheap: plotly, pandas and the SDK load where the old direct imports loaded them.
    if name not in REEXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = reexported(name)
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def check_simulator(spec: GridSpec, where: str = "spec") -> SimulatorConfig:
    """A loaded spec's ``[simulator]`` table as a config; SpecError naming the key, value and fix when it is wrong."""
    from imagegen.execution.runner import check_simulator as check

    return check(spec, where)


def lifecycle_status(catalog: Catalog, model: str, provider: str, on: date) -> Lifecycle:
    """``model``'s lifecycle on ``provider`` on the day ``on`` (live, preview, retiring, shut down ...)."""
    from imagegen.core import lifecycle

    return lifecycle.status(catalog, model, provider, on)
