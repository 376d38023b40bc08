"""Grid specs (TOML) and their expansion into cells; pricing a whole grid.

A grid is the cartesian product of its prompts and up to three axes (X, Y, Z, in the order the
``[axes]`` table lists them). Every cell is validated and priced before the first request.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from imagegen.core.catalog import Catalog
from imagegen.core.pricing import Estimate, estimate
from imagegen.core.request import PARAM_NAMES, RUNTIME_PROVIDERS, ImageRequest, problems
from imagegen.errors import InvalidRequest, Problem, SpecError

MAX_AXES = 3
AXIS_NAMES = (*PARAM_NAMES, "provider", "model")
TOP_KEYS = {"name", "provider", "model", "prompts", "prompt", "repeats", "params", "axes", "limits",
            "deployments", "simulator", "operation"}
LIMIT_KEYS = {"concurrency", "rpm", "budget_usd", "timeout_s", "max_attempts"}


@dataclass(frozen=True)
class Limits:
    """How fast and how far a run may go."""

    concurrency: int = 4
    rpm: float | None = None
    budget_usd: Decimal | None = None
    timeout_s: float = 300.0
    max_attempts: int = 4


@dataclass(frozen=True)
class GridSpec:
    """A parsed grid spec; see README "The grid spec"."""

    provider: str
    model: str
    prompts: tuple[str, ...]
    name: str = ""
    repeats: int = 1
    params: dict = field(default_factory=dict)
    axes: dict[str, tuple] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    deployments: dict[str, str] = field(default_factory=dict)
    simulator: dict = field(default_factory=dict)

    def axis_names(self) -> list[str]:
        """Axis labels in X, Y, Z order; several prompts add a ``prompt`` axis after them."""
        names = list(self.axes)
        if len(self.prompts) > 1:
            names.append("prompt")
        return names

    def to_toml(self) -> str:
        """Serialise back to the TOML spec format (round-trips through ``parse_spec``)."""
        def val(v) -> str:
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, (int, float, Decimal)):
                return str(v)
            if isinstance(v, (list, tuple)):
                return "[" + ", ".join(val(x) for x in v) + "]"
            if isinstance(v, dict):  # e.g. [simulator] faults: inline tables (None = unset, omitted)
                return "{ " + ", ".join(f"{key(k)} = {val(x)}" for k, x in v.items() if x is not None) + " }"
            s = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            return f'"{s}"'

        def key(k) -> str:
            return str(k) if re.fullmatch(r"[A-Za-z0-9_-]+", str(k)) else val(str(k))

        lines = []
        if self.name:
            lines.append(f"name = {val(self.name)}")
        lines += [f"provider = {val(self.provider)}", f"model = {val(self.model)}",
                  f"prompts = {val(list(self.prompts))}", f"repeats = {self.repeats}"]
        for table, items in (("params", self.params), ("axes", self.axes), ("deployments", self.deployments),
                             ("simulator", self.simulator)):
            if items:
                lines.append(f"\n[{table}]")
                lines += [f"{key(k)} = {val(v)}" for k, v in items.items() if v is not None]
        lim = self.limits
        lines.append("\n[limits]")
        lines.append(f"concurrency = {lim.concurrency}")
        if lim.rpm is not None:
            lines.append(f"rpm = {lim.rpm}")
        if lim.budget_usd is not None:
            lines.append(f"budget_usd = {lim.budget_usd}")
        lines.append(f"timeout_s = {lim.timeout_s}")
        lines.append(f"max_attempts = {lim.max_attempts}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Cell:
    """One point of the grid: its coordinates on each axis and the request it sends."""

    index: int
    coords: dict
    request: ImageRequest

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.coords.items()) or "single cell"


def _spec_error(where: str, msg: str, fix: str) -> SpecError:
    return SpecError(f"{where}: {msg}. Fix: {fix}.")


def parse_spec(data: dict, where: str = "spec") -> GridSpec:
    """Build a GridSpec from parsed TOML, refusing unknown keys with a message naming them."""
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _spec_error(where, f"unknown key(s) {sorted(unknown)}", f"use only {sorted(TOP_KEYS)}")
    provider = data.get("provider", "simulator")
    if provider not in RUNTIME_PROVIDERS:
        raise _spec_error(where, f"provider = {provider!r} is not supported", f"use one of {list(RUNTIME_PROVIDERS)}")
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise _spec_error(where, "`model` is missing", 'add model = "gpt-image-1.5" (on azure: a deployment name)')
    prompts = data.get("prompts", data.get("prompt"))
    if isinstance(prompts, str):
        prompts = [prompts]
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise _spec_error(where, "`prompts` must be a non-empty list of strings", 'add prompts = ["a red fox"]')
    repeats = data.get("repeats", 1)
    if not isinstance(repeats, int) or isinstance(repeats, bool) or not 1 <= repeats <= 100:
        raise _spec_error(where, f"repeats = {repeats!r} is not an integer 1..100", "set repeats between 1 and 100")
    params = dict(data.get("params", {}))
    for key in params:
        if key not in PARAM_NAMES:
            raise _spec_error(where, f"[params] {key!r} is not a request parameter", f"use one of {list(PARAM_NAMES)}")
    axes_raw = dict(data.get("axes", {}))
    if len(axes_raw) > MAX_AXES:
        raise _spec_error(where, f"{len(axes_raw)} axes given ({', '.join(axes_raw)})",
                          f"use at most {MAX_AXES} axes (X, Y, Z); fix the others in [params]")
    axes: dict[str, tuple] = {}
    for key, values in axes_raw.items():
        if key not in AXIS_NAMES:
            raise _spec_error(where, f"[axes] {key!r} is not a parameter", f"use one of {list(AXIS_NAMES)}")
        if not isinstance(values, list) or not values:
            raise _spec_error(where, f"[axes] {key} must be a non-empty list", f'write {key} = ["a", "b"]')
        if len(set(map(repr, values))) != len(values):
            raise _spec_error(where, f"[axes] {key} repeats a value", "list each value once")
        if key in params:
            raise _spec_error(where, f"{key!r} is both in [params] and [axes]", "keep it in one place")
        axes[key] = tuple(values)
    lim = dict(data.get("limits", {}))
    bad = set(lim) - LIMIT_KEYS
    if bad:
        raise _spec_error(where, f"[limits] unknown key(s) {sorted(bad)}", f"use only {sorted(LIMIT_KEYS)}")
    try:
        limits = Limits(
            concurrency=int(lim.get("concurrency", 4)),
            rpm=float(lim["rpm"]) if lim.get("rpm") is not None else None,
            budget_usd=Decimal(str(lim["budget_usd"])) if lim.get("budget_usd") is not None else None,
            timeout_s=float(lim.get("timeout_s", 300.0)),
            max_attempts=int(lim.get("max_attempts", 4)),
        )
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise _spec_error(where, f"[limits] has a value that is not a number ({exc})", "use numbers") from None
    if limits.concurrency < 1 or (limits.rpm is not None and limits.rpm <= 0) or limits.max_attempts < 1:
        raise _spec_error(where, "[limits] concurrency, rpm and max_attempts must be positive", "use values >= 1")
    if limits.budget_usd is not None and limits.budget_usd < 0:
        raise _spec_error(where, "[limits] budget_usd is negative", "use a positive number of dollars")
    return GridSpec(
        provider=provider, model=model, prompts=tuple(prompts), name=str(data.get("name", "")), repeats=repeats,
        params=params, axes=axes, limits=limits, deployments=dict(data.get("deployments", {})),
        simulator=dict(data.get("simulator", {})),
    )


def load_spec(path: str | Path) -> GridSpec:
    """Read and parse a grid spec file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise SpecError(f"{path}: file not found. Fix: check the path.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax.") from None
    return parse_spec(data, where=str(path))


def loads_spec(text: str) -> GridSpec:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"spec: not valid TOML ({exc}). Fix: correct the syntax.") from None
    return parse_spec(data)


def _coerce(key: str, value):
    """TOML Decimals arrive for floats; the API's numeric parameters are integers."""
    if isinstance(value, Decimal) and key in ("n", "partial_images", "output_compression"):
        return int(value) if value == int(value) else value
    return value


def resolve_model(provider: str, model: str, deployments: dict[str, str], catalog: Catalog) -> tuple[str, str | None]:
    """(catalog model id, deployment) for a spec's model field.

    On Azure the spec may name a deployment (mapped to a catalog model) or a catalog model
    (mapped back to the deployment that serves it). The catalog id is never sent as a deployment.
    """
    if provider != "azure":
        return model, None
    if model in deployments:
        return deployments[model], model
    serving = [dep for dep, mid in deployments.items() if mid == model]
    if serving:
        return model, serving[0]
    return model, None


def expand(spec: GridSpec, catalog: Catalog) -> list[Cell]:
    """All cells of the grid (axes in X, Y, Z order, then prompts), not yet validated."""
    names = list(spec.axes)
    value_lists = [spec.axes[n] for n in names]
    cells: list[Cell] = []
    prompt_axis = len(spec.prompts) > 1
    for prompt in spec.prompts:
        for combo in itertools.product(*value_lists):
            coords = dict(zip(names, combo))
            fields = {k: _coerce(k, v) for k, v in spec.params.items()}
            fields.update({k: _coerce(k, v) for k, v in coords.items()})
            provider = fields.pop("provider", spec.provider)
            model_name = fields.pop("model", spec.model)
            model_id, deployment = resolve_model(provider, model_name, spec.deployments, catalog)
            req = ImageRequest(model=model_id, prompt=prompt, provider=provider, deployment=deployment, **fields)
            if prompt_axis:
                coords = {**coords, "prompt": prompt}
            cells.append(Cell(len(cells), coords, req))
    return cells


@dataclass(frozen=True)
class GridEstimate:
    """Every cell's estimate (per request) and the totals over cells x repeats."""

    spec: GridSpec
    cells: list[Cell]
    estimates: list[Estimate]

    @property
    def requests(self) -> int:
        return len(self.cells) * self.spec.repeats

    @property
    def total_cost_usd_min(self) -> Decimal:
        return sum((e.cost_usd_min for e in self.estimates), Decimal(0)) * self.spec.repeats

    @property
    def total_cost_usd_max(self) -> Decimal:
        return sum((e.cost_usd_max for e in self.estimates), Decimal(0)) * self.spec.repeats

    @property
    def output_tokens_max(self) -> int:
        return sum(e.output_tokens_max for e in self.estimates) * self.spec.repeats

    @property
    def output_tokens_min(self) -> int:
        return sum(e.output_tokens_min for e in self.estimates) * self.spec.repeats

    def over_budget(self) -> bool:
        cap = self.spec.limits.budget_usd
        return cap is not None and self.total_cost_usd_max > cap

    def to_dict(self) -> dict:
        """The ``estimate --json`` shape."""
        cells = []
        for cell, est in zip(self.cells, self.estimates):
            row = {"cell_id": cell.index, "coords": cell.coords, **cell.request.params()}
            row.update({
                "output_tokens_min": est.output_tokens_min, "output_tokens_max": est.output_tokens_max,
                "input_text_tokens": est.input_text_tokens,
                "cost_usd_min": str(est.cost_usd_min), "cost_usd_max": str(est.cost_usd_max),
                "list_price_usd": str(est.list_price_per_image) if est.list_price_per_image is not None else None,
                "token_status": est.token_status, "price_entry": est.cost_max.price_key,
            })
            cells.append(row)
        return {
            "name": self.spec.name, "provider": self.spec.provider, "model": self.spec.model,
            "repeats": self.spec.repeats, "requests": self.requests, "cells": cells,
            "output_tokens_min": self.output_tokens_min, "output_tokens_max": self.output_tokens_max,
            "total_cost_usd_min": str(self.total_cost_usd_min), "total_cost_usd_max": str(self.total_cost_usd_max),
            "budget_usd": str(self.spec.limits.budget_usd) if self.spec.limits.budget_usd is not None else None,
            "labels": {"tokens": "documented/derived from the catalog", "cost": "estimated"},
        }


def validate_grid(spec: GridSpec, catalog: Catalog, today: date | None = None) -> list[Cell]:
    """Expand and validate every cell; raise InvalidRequest naming the failing cells."""
    cells = expand(spec, catalog)
    failures: list[Problem] = []
    seen: set[str] = set()
    for cell in cells:
        req = cell.request
        if req.provider == "azure" and req.deployment is None:
            if f"deployment:{req.model}" not in seen:
                seen.add(f"deployment:{req.model}")
                if catalog.has_model(req.model):  # a catalog id: which deployment serves it?
                    fix = (f'add [deployments] your-deployment = "{req.model}" to the spec, or set '
                           f"IMAGEGEN_AZURE_DEPLOYMENTS=your-deployment={req.model}")
                else:  # a deployment name: which model does it serve?
                    fix = (f'add [deployments] {req.model} = "gpt-image-1.5" (the model it serves) to the spec, '
                           f"or set IMAGEGEN_AZURE_DEPLOYMENTS={req.model}=gpt-image-1.5")
                failures.append(Problem("model", req.model, "an Azure deployment mapped to a catalog model", fix))
            continue  # nothing else can be checked until the model is known
        for p in problems(req, catalog, today):
            key = str(p)
            if key not in seen:  # one line per distinct problem, naming the first cell it hits
                seen.add(key)
                failures.append(Problem(f"cell {cell.index} ({cell.label}): {p.field}", p.value, p.allowed, p.fix))
    if failures:
        raise InvalidRequest(failures, context=f"grid {spec.name or spec.model}")
    return cells


def estimate_grid(spec: GridSpec, catalog: Catalog, today: date | None = None) -> GridEstimate:
    """Validate and price every cell. Identical requests are priced once."""
    cells = validate_grid(spec, catalog, today)
    cache: dict[ImageRequest, Estimate] = {}
    estimates = []
    for cell in cells:
        est = cache.get(cell.request)
        if est is None:
            est = cache[cell.request] = estimate(cell.request, catalog, today)
        estimates.append(est)
    return GridEstimate(spec, cells, estimates)
