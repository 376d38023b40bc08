"""Grid specs (TOML) and their expansion into cells; pricing a whole grid.

A grid is the cartesian product of its prompts and up to three axes (X, Y, Z, in the order the
``[axes]`` table lists them). Every cell is validated and priced before the first request.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from imagegen.core.catalog import Catalog
from imagegen.core.editinputs import EditInputs, read_edit_inputs
from imagegen.core.pricing import Estimate, estimate
from imagegen.core.request import PARAM_NAMES, ImageRequest, disputed, problems
from imagegen.core.specmodel import MAX_AXES as MAX_AXES  # re-exported (axes, ui)
from imagegen.core.specmodel import LimitsModel, SpecModel
from imagegen.core.validation import check, escape
from imagegen.errors import InvalidRequest, Problem, SpecError
from imagegen.redaction import REDACTED, redact

AXIS_NAMES = (*PARAM_NAMES, "provider", "model")
TOP_KEYS = tuple(SpecModel.model_fields)
LIMIT_KEYS = tuple(LimitsModel.model_fields)


@dataclass(frozen=True)
class Limits:
    """How fast and how far a run may go (ranges: :class:`LimitsModel`)."""

    concurrency: int = 4
    rpm: float | None = None
    budget_usd: Decimal | None = None
    timeout_s: float = 300.0
    max_attempts: int = 4
    run_deadline_s: float | None = None      # the whole run's deadline (None: no deadline)
    max_retry_after_s: float = 60.0          # a longer Retry-After fails the cell instead of waiting


@dataclass(frozen=True)
class EditSpec:
    """``[edit]`` as written: input image references (paths relative to the spec, or ``result:<id>``)."""

    images: tuple[str, ...]
    mask: str | None = None
    #: gpt-image-2.5: a transparent PNG overlaid on the first image (never with mask).
    markup: str | None = None


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
    #: With ``[edit]`` every cell is an edit of these inputs.
    edit: EditSpec | None = None
    #: The edit's files as read and checked (:func:`attach_inputs`); not part of the TOML.
    inputs: EditInputs | None = field(default=None, compare=False, repr=False)
    #: Warnings found while reading the spec (e.g. a key-shaped value replaced by [REDACTED]); not part of the TOML.
    notes: tuple[str, ...] = field(default=(), compare=False)

    def axis_names(self) -> list[str]:
        """Axis labels in X, Y, Z order; several prompts add a ``prompt`` axis after them."""
        names = list(self.axes)
        if len(self.prompts) > 1:
            names.append("prompt")
        return names

    def to_toml(self) -> str:
        """Serialise back to the TOML spec format (round-trips through ``parse_spec``; every control
        character in text is escaped, so any prompt survives Save spec and resume)."""
        def val(v) -> str:
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, Decimal):
                return format(v, "f") if v.is_finite() else ("nan" if v.is_nan() else "inf" if v > 0 else "-inf")
            if isinstance(v, (int, float)):
                return repr(v) if v == v and abs(v) != float("inf") else str(v)
            if isinstance(v, (list, tuple)):
                return "[" + ", ".join(val(x) for x in v) + "]"
            if isinstance(v, dict):  # e.g. [simulator] faults: inline tables (None = unset, omitted)
                return "{ " + ", ".join(f"{key(k)} = {val(x)}" for k, x in v.items() if x is not None) + " }"
            return '"' + escape(str(v)) + '"'

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
        if self.edit is not None:
            lines += ["\n[edit]", f"images = {val(list(self.edit.images))}"]
            if self.edit.mask is not None:
                lines.append(f"mask = {val(self.edit.mask)}")
            if self.edit.markup is not None:
                lines.append(f"markup = {val(self.edit.markup)}")
        lines.append("\n[limits]")
        for name in LIMIT_KEYS:
            value = getattr(self.limits, name)
            if value is not None:
                lines.append(f"{name} = {val(value)}")
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


def parse_spec(data: dict, where: str = "spec") -> GridSpec:
    """Build a GridSpec from parsed TOML; SpecError naming every bad key, its value and the fix.

    Types and ranges are checked here (:class:`imagegen.core.specmodel.SpecModel`); whether each
    cell's values suit its model is checked by :func:`validate_grid`. The ``[simulator]`` table is
    checked by the simulator's own model (``imagegen.execution.simulator.config``).
    """
    if not isinstance(data, dict):
        raise SpecError(f"{where}: the spec is {type(data).__name__}, not a TOML document. Fix: pass a table.")
    model: SpecModel = check(SpecModel, data, where, SpecError)
    params = model.params.model_dump(exclude_unset=True)
    raw_params = data.get("params") or {}
    params = {k: params[k] for k in raw_params if k in params}  # the file's order
    axes_set = model.axes.model_dump(exclude_unset=True)
    axes = {k: tuple(axes_set[k]) for k in data.get("axes") or {} if k in axes_set}  # X, Y, Z as written
    limits = Limits(**model.limits.model_dump())
    return GridSpec(
        provider=model.provider, model=model.model, prompts=model.prompt_list(), name=model.name,
        repeats=model.repeats, params=params, axes=axes, limits=limits, deployments=dict(model.deployments),
        simulator=dict(model.simulator),
        edit=EditSpec(tuple(model.edit.images), model.edit.mask, model.edit.markup) if model.edit is not None else None,
    )


def attach_inputs(spec: GridSpec, base_dir: str | Path,
                  result_file: Callable[[str], bytes | None] | None = None) -> GridSpec:
    """The spec with its ``[edit]`` files read and checked (relative to ``base_dir``); SpecError listing
    every refused file, its value and the fix. A spec without ``[edit]`` is returned as it is."""
    if spec.edit is None:
        return spec
    inputs, errors = read_edit_inputs(spec.edit.images, spec.edit.mask, Path(base_dir), result_file,
                                      markup=spec.edit.markup)
    if errors:
        raise SpecError("; ".join(errors))
    return replace(spec, inputs=inputs)


def read_spec_text(path: str | Path) -> str:
    """A spec file's text; SpecError with a clear message for a missing file, a directory or non-UTF-8 bytes."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{path}: file not found. Fix: check the path.") from None
    except IsADirectoryError:
        found = sorted(p.name for p in path.glob("*.toml"))[:5]
        hint = f" (it holds {', '.join(found)})" if found else ""
        raise SpecError(f"{path}: is a directory, not a spec file{hint}. Fix: give the path of a .toml file.") from None
    except PermissionError:
        raise SpecError(f"{path}: cannot be read (permission denied). Fix: check the file's permissions.") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({exc.strerror or exc}). Fix: check the path.") from None
    return decode_spec(raw, str(path))


def decode_spec(raw: bytes, where: str = "spec") -> str:
    """Spec bytes as text (UTF-8, a leading byte-order mark dropped); SpecError naming the bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(f"{where}: is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}). "
                        "Fix: save the spec as UTF-8.") from None


_TOML_KEY = re.compile(r"""^\s*(\[[^\]]*\]|"[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def scrub_secrets(text: str, where: str = "spec") -> tuple[str, tuple[str, ...]]:
    """(``text`` with every key-shaped token replaced by ``[REDACTED]``, one warning per line that held one).

    A key has no business in a spec (keys come from the environment or ``.env``), and what a spec
    holds is stored with the run, exported and shown. So anything the shared redaction function
    would remove is removed here, before the spec is parsed, sent, stored or shown; the warning names
    the line and the TOML key, never the value. Innocent text such as "sk-" or "task-management"
    passes unchanged (see :mod:`imagegen.redaction` for the shapes).
    """
    lines = text.splitlines(keepends=True)
    notes: list[str] = []
    table = ""
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("[") and "=" not in stripped.split("]")[0]:
            table = stripped.strip("[] \t\r\n")
        clean = redact(line)
        if clean != line:
            lines[number - 1] = clean
            found = _TOML_KEY.match(line)
            name = (f"{table}." if table and found else "") + (found.group(1).strip("\"'") if found else "")
            name = name or ("a comment" if stripped.startswith("#") else "")
            notes.append(f"{where}: line {number}{f' ({name})' if name else ''} holds something shaped like an API "
                         f"key or token; it was replaced by {REDACTED} before anything was sent, stored or shown. "
                         "Fix: remove it from the spec; keys belong in OPENAI_API_KEY / AZURE_OPENAI_API_KEY "
                         "(environment or .env).")
    return "".join(lines), tuple(notes)


def loads_spec(text: str, where: str = "spec") -> GridSpec:
    """Parse spec TOML text (key-shaped tokens are replaced first, see :func:`scrub_secrets`; the
    warnings are the spec's ``notes``)."""
    text, notes = scrub_secrets(text, where)
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML ({exc}). Fix: correct the syntax.") from None
    spec = parse_spec(data, where=where)
    return replace(spec, notes=notes) if notes else spec


def load_spec(path: str | Path, result_file: Callable[[str], bytes | None] | None = None) -> GridSpec:
    """Read and parse a grid spec file (its ``[edit]`` files read relative to it; ``result:<id>`` through
    ``result_file``, e.g. ``Store.result_image``)."""
    return read_spec(path, result_file)[0]


def read_spec(path: str | Path, result_file: Callable[[str], bytes | None] | None = None) -> tuple[GridSpec, str]:
    """(the parsed spec, the file's text as stored: key-shaped tokens replaced) for a spec file; ``[edit]``
    files are read relative to it."""
    text, notes = scrub_secrets(read_spec_text(path), str(path))
    spec = replace(loads_spec(text, where=str(path)), notes=notes)
    try:
        return attach_inputs(spec, Path(path).parent, result_file), text
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


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
            if spec.edit is not None:
                fields["operation"] = "edit"
                fields["input_images"] = spec.inputs.sizes if spec.inputs is not None else ()
            req = ImageRequest(model=model_id, prompt=prompt, provider=provider, deployment=deployment, **fields)
            if prompt_axis:
                coords = {**coords, "prompt": prompt}
            cells.append(Cell(len(cells), coords, req))
    return cells


@dataclass(frozen=True)
class Spend:
    """Requests and their estimated cost range (USD)."""

    requests: int
    cost_min: Decimal
    cost_max: Decimal


@dataclass(frozen=True)
class SpendSplit:
    """A grid's estimate split by who pays: :meth:`GridEstimate.spend`."""

    real: Spend
    simulated: Spend
    reused: Spend


@dataclass(frozen=True)
class GridEstimate:
    """Every cell's estimate (per request) and the totals over cells x repeats."""

    spec: GridSpec
    cells: list[Cell]
    estimates: list[Estimate]
    #: The input image token rule's label per model (edits only).
    catalog_labels: dict[str, str] = field(default_factory=dict)

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

    @property
    def input_image_label(self) -> str:
        """The status of the input image token figures (e.g. ``measured (third party, 2026-12-01)``), per model."""
        labels = {}
        for cell in self.cells:
            model = self.catalog_labels.get(cell.request.model) if self.catalog_labels else None
            if model:
                labels[cell.request.model] = model
        return "; ".join(f"{m}: {label}" for m, label in labels.items()) or "documented (gpt-image-1 tile method)"

    def spend(self, reused: Mapping[int, int] | None = None) -> SpendSplit:
        """What the grid may cost, split: real money (cells on a real provider), simulated (the simulator's
        cells: nothing is charged) and reused (``reused``: cell index -> repeats taken from history at $0).

        Real and simulated are never added together: a confirmation is about real money only."""
        reused = reused or {}
        parts: dict[str, list] = {"real": [0, Decimal(0), Decimal(0)], "simulated": [0, Decimal(0), Decimal(0)],
                                  "reused": [0, Decimal(0), Decimal(0)]}
        for cell, est in zip(self.cells, self.estimates):
            again = min(max(int(reused.get(cell.index, 0)), 0), self.spec.repeats)
            sent = self.spec.repeats - again
            kind = "simulated" if cell.request.provider == "simulator" else "real"
            for name, n in ((kind, sent), ("reused", again)):
                parts[name][0] += n
                parts[name][1] += est.cost_usd_min * n
                parts[name][2] += est.cost_usd_max * n
        return SpendSplit(**{k: Spend(*v) for k, v in parts.items()})

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
                "input_text_tokens": est.input_text_tokens, "input_image_tokens": est.input_image_tokens,
                "cost_split_usd_max": {"text_input": str(est.cost_max.text_input),
                                       "image_input": str(est.cost_max.image_input),
                                       "image_output": str(est.cost_max.image_output + est.cost_max.text_output)},
                "cost_usd_min": str(est.cost_usd_min), "cost_usd_max": str(est.cost_usd_max),
                "list_price_usd": str(est.list_price_per_image) if est.list_price_per_image is not None else None,
                "token_status": est.token_status, "token_label": est.token_label or est.token_status,
                "notes": list(est.notes), "price_entry": est.cost_max.price_key,
            })
            cells.append(row)
        return {
            "name": self.spec.name, "provider": self.spec.provider, "model": self.spec.model,
            "repeats": self.spec.repeats, "requests": self.requests, "cells": cells,
            "output_tokens_min": self.output_tokens_min, "output_tokens_max": self.output_tokens_max,
            "total_cost_usd_min": str(self.total_cost_usd_min), "total_cost_usd_max": str(self.total_cost_usd_max),
            "budget_usd": str(self.spec.limits.budget_usd) if self.spec.limits.budget_usd is not None else None,
            "labels": {"tokens": "from the catalog; each cell's token_label says how it is known (documented, "
                                 "measured by whom and when, derived, assumed)", "cost": "estimated",
                       **({"input_image_tokens": self.input_image_label} if self.spec.edit is not None else {})},
            **({"inputs": [{"source": i.source, "sha256": i.sha256, "format": i.format,
                            "size": f"{i.width}x{i.height}"} for i in self.spec.inputs.images]
                + ([{"source": self.spec.inputs.mask.source, "sha256": self.spec.inputs.mask.sha256,
                     "format": "png", "size": f"{self.spec.inputs.mask.width}x{self.spec.inputs.mask.height}",
                     "mask": True}] if self.spec.inputs.mask else [])}
               if self.spec.inputs is not None else {}),
        }


def validate_grid(spec: GridSpec, catalog: Catalog, today: date) -> list[Cell]:
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
        found = problems(req, catalog, today)
        if spec.edit is not None and spec.edit.markup is not None and catalog.has_model(req.model) \
                and catalog.model(req.model).markup is None:  # which models take it is catalog data
            found = [*found, *disputed([Problem("markup", spec.edit.markup,
                                                f"only on {', '.join(catalog.markup_models()) or 'no catalog model'} "
                                                f"(not {req.model})", "remove markup, or use one of those models")],
                                       catalog.model(req.model))]
        for p in found:
            key = str(p)
            if key not in seen:  # one line per distinct problem, naming the first cell it hits
                seen.add(key)
                failures.append(Problem(f"cell {cell.index} ({cell.label}): {p.field}", p.value, p.allowed, p.fix))
    if failures:
        raise InvalidRequest(failures, context=f"grid {spec.name or spec.model}")
    return cells


def estimate_grid(spec: GridSpec, catalog: Catalog, today: date) -> GridEstimate:
    """Validate and price every cell. Identical requests are priced once."""
    cells = validate_grid(spec, catalog, today)
    cache: dict[ImageRequest, Estimate] = {}
    estimates = []
    for cell in cells:
        est = cache.get(cell.request)
        if est is None:
            est = cache[cell.request] = estimate(cell.request, catalog, today)
        estimates.append(est)
    labels = {}
    if spec.edit is not None:
        for cell in cells:
            rule = catalog.token_model(catalog.model(cell.request.model)).input_image
            labels[cell.request.model] = (f"{rule.label}, {rule.method}" if rule is not None
                                          else "documented (gpt-image-1 tile method, the default)")
    return GridEstimate(spec, cells, estimates, labels)
