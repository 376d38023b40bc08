"""The Generate form's values <-> the CLI's grid spec. Pure (no Streamlit), so it is unit-testable.

The expected duration of the grid is :mod:`imagegen.execution.duration` (it needs the simulator's
latency profile); the page reaches both through :func:`imagegen.facade.estimate_form`.

Prompts: the text area holds one prompt per *block*; blocks are separated by an empty line,
so a single prompt may span several lines (Japanese prompts often do) and a grid over several
prompts is just several paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from imagegen.core.axes import AXIS_PARAMS, Axis, fixed_params
from imagegen.core.catalog import Catalog
from imagegen.core.editinputs import EditInputs
from imagegen.core.grid import EditSpec, GridSpec, Limits
from imagegen.i18n import N_

AXIS_KEYS = ("x", "y", "z")
AXIS_LABELS = {"x": N_("X (columns)"), "y": N_("Y (rows)"), "z": N_("Z (sub-grids)")}  # shown translated by the UI
NO_AXIS = N_("(none)")
_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")


def split_prompts(text: str) -> list[str]:
    """Prompts from the text area: blocks separated by an empty line, each stripped."""
    blocks = _BLANK_LINE.split((text or "").replace("\r\n", "\n"))
    return [b.strip() for b in blocks if b.strip()]


def join_prompts(prompts) -> str:
    """The inverse of :func:`split_prompts`."""
    return "\n\n".join(prompts)


@dataclass
class FormValues:
    """Everything the Generate form holds, by parameter name."""

    prompts_text: str
    provider: str
    model: str
    axes: list[Axis | None]
    params: dict
    repeats: int = 1
    concurrency: int = 4
    rpm: float | None = None
    budget_usd: Decimal | None = None
    timeout_s: float = 300.0
    name: str = ""
    deployments: dict[str, str] = field(default_factory=dict)
    simulator: dict = field(default_factory=dict)
    #: "edit": every cell edits ``edit_inputs`` (uploaded or picked from the history, checked).
    operation: str = "generate"
    edit_inputs: EditInputs | None = None
    #: Why the edit inputs were refused (each naming the file and the fix); empty when they are fine.
    edit_errors: tuple[str, ...] = ()


def parse_budget(value) -> Decimal | None:
    """A budget from a widget: None for 0/empty, else an exact Decimal (2 places kept as typed)."""
    if value in (None, "", 0):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d > 0 else None


def build_spec(values: FormValues, catalog: Catalog, today: date) -> tuple[GridSpec, list[str]]:
    """A GridSpec from the form (fixed parameters made consistent); notes say what was adjusted."""
    axes = [a for a in values.axes if a is not None and a.values]
    params, notes = fixed_params(values.params, catalog, model=_axis_or(values, "model", values.model),
                                 provider=_axis_or(values, "provider", values.provider), today=today, axes=axes,
                                 deployments=values.deployments, operation=values.operation)
    edit = None
    if values.operation == "edit" and values.edit_inputs is not None:
        inputs = values.edit_inputs
        edit = EditSpec(tuple(i.source for i in inputs.images), inputs.mask.source if inputs.mask else None)
    spec = GridSpec(
        provider=values.provider,
        model=values.model,
        prompts=tuple(split_prompts(values.prompts_text)),
        name=values.name.strip(),
        repeats=int(values.repeats),
        params=params,
        axes={a.param: tuple(a.values) for a in axes},
        limits=Limits(concurrency=int(values.concurrency), rpm=float(values.rpm) if values.rpm else None,
                      budget_usd=values.budget_usd, timeout_s=float(values.timeout_s)),
        deployments=dict(values.deployments) if values.provider == "azure" or "provider" in
        {a.param for a in axes} else {},
        simulator=dict(values.simulator),
        edit=edit,
        inputs=values.edit_inputs if edit is not None else None,
    )
    return spec, notes


def _axis_or(values: FormValues, param: str, default):
    for a in values.axes:
        if a is not None and a.param == param and a.values:
            return tuple(a.values)
    return default


def spec_to_form(spec: GridSpec) -> FormValues:
    """Form values for a loaded spec (axes in the spec's X, Y, Z order)."""
    axes: list[Axis | None] = [Axis(k, tuple(v)) for k, v in spec.axes.items() if k in AXIS_PARAMS]
    axes += [None] * (len(AXIS_KEYS) - len(axes))
    params = {k: (int(v) if isinstance(v, Decimal) and v == int(v) else v) for k, v in spec.params.items()}
    return FormValues(
        prompts_text=join_prompts(spec.prompts), provider=spec.provider, model=spec.model, axes=axes[:3],
        params=params, repeats=spec.repeats, concurrency=spec.limits.concurrency, rpm=spec.limits.rpm,
        budget_usd=spec.limits.budget_usd, timeout_s=spec.limits.timeout_s, name=spec.name,
        deployments=dict(spec.deployments), simulator=dict(spec.simulator),
        operation="edit" if spec.edit is not None else "generate", edit_inputs=spec.inputs,
    )


def format_duration(seconds: float) -> str:
    """``75.0`` -> ``"1 min 15 s"``."""
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
