"""The Generate page's form: prompts, provider and model, X/Y/Z axes, fixed parameters, limits,
the live estimate, budget confirmation and spec save/load.

Every widget has an explicit key (tests and Playwright address them by key or label). Widget
values are declared in :class:`ui.state.GenerateState` (``ui.state.generate``), which also keeps
the form across page switches (Streamlit drops a page's widget state when it is left).
Everything from the library comes through :mod:`imagegen.facade`: the allowed values (``FORM_HELPERS``,
defined in :mod:`imagegen.core.axes`), and the spec, its estimate and duration (:func:`imagegen.facade.estimate_form`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import streamlit as st

from imagegen import facade
from imagegen.errors import ImagegenError, InvalidRequest
from imagegen.facade import (
    AXIS_KEYS,
    AXIS_LABELS,
    AXIS_PARAMS,
    COMPRESSION_PRESETS,
    EDIT_ONLY_PARAMS,
    FAULT_ALIASES,
    FAULT_KINDS,
    FIXED_PARAMS,
    MAX_PROMPT_CHARS,
    NO_AXIS,
    STATUS_ORDER,
    Axis,
    FormValues,
    GridEstimate,
    GridSpec,
    Spend,
    SpendSplit,
    allowed_values,
    axis_options,
    check_simulator,
    decode_spec,
    default_model,
    format_duration,
    format_value,
    keep_allowed,
    lifecycle_status,
    loads_spec,
    model_values,
    parse_budget,
    refused_values,
    spec_to_form,
    split_prompts,
)
from ui import Context, edit_form, flow_row, l10n, provider_label, simulator_defaults
from ui.i18n import N_, _, source_note
from ui.i18n import label as figure_label
from ui.plain import md_escape
from ui.replay_panel import render_replay
from ui.state import generate as gen_state

SEED_PROMPT = "F1レーサーを躍動感あるように描いて。"
DEFAULT_AXES = {"x": ("quality", ["low", "medium", "high"]), "y": ("size", ["1024x1024", "1024x1536", "1536x1024"])}
DEFAULT_CONFIRM_OVER_USD = 1.0
DEFAULT_BUDGET_USD = 5.0
NO_FAULT = N_("(none)")


#: Shown for "no output_compression" (a selectbox treats None as "nothing selected").
UNSET = "unset"


def _fixed_key(param: str) -> str:
    return f"fixed_{param}"


def _fixed_value(param: str):
    """A fixed parameter's value from its widget (``unset`` compression -> None)."""
    value = gen_state.widgets.get(_fixed_key(param))
    return None if value == UNSET else value


# -- state helpers -------------------------------------------------------------------------------


def _deployments(ctx: Context) -> dict[str, str]:
    return dict(getattr(ctx.settings, "deployments", {}) or {}) if ctx.provider == "azure" else {}


def _axis_param(a: str) -> str:
    return gen_state.widgets.get(f"axis_{a}_param", NO_AXIS)


def _axes_now() -> dict[str, tuple]:
    """param -> values of every axis currently chosen (in X, Y, Z order)."""
    out = {}
    for a in AXIS_KEYS:
        param = _axis_param(a)
        if param != NO_AXIS:
            out[param] = tuple(gen_state.widgets.get(f"axis_{a}_values") or ())
    return out


def _models_providers() -> tuple:
    axes = _axes_now()
    model = axes.get("model") or gen_state.widgets.get("model")
    provider = axes.get("provider") or gen_state.widgets.get("provider", "simulator")
    return model, provider


def _context(skip: str) -> dict:
    """Every other parameter's value(s): fixed values and axis values (drives the conditional rules)."""
    axes = _axes_now()
    ctx = {p: _fixed_value(p) for p in _fixed_params() if p not in axes and p != skip}
    ctx.update({p: v for p, v in axes.items() if p != skip and v})
    ctx["operation"] = edit_form.mode()
    return ctx


def _fixed_params() -> tuple[str, ...]:
    """The parameters the form fixes: the edit-only ones (input_fidelity) in Edit mode only."""
    return (*FIXED_PARAMS, *EDIT_ONLY_PARAMS) if edit_form.mode() == "edit" else FIXED_PARAMS


def _choice(ctx: Context, param: str):
    """The values ``param`` may take given everything else currently in the form."""
    model, provider = _models_providers()
    return allowed_values(param, ctx.catalog, model=model, provider=provider, context=_context(param),
                          deployments=_deployments(ctx), providers=ctx.provider_choices(), today=ctx.today)


def init_state(ctx: Context) -> None:
    """Defaults on first visit (a page switch restores the form: ui.state.GenerateState.persist)."""
    ss = gen_state.widgets  # kept values were restored by ui.page_setup (ui.state.restore)
    choices = ctx.provider_choices()
    if ss.get("provider") not in choices:
        ss["provider"] = choices[0]
    ss.setdefault("prompts", SEED_PROMPT)
    if "model" not in ss:
        ss["model"] = _default_model(ctx, ss["provider"])
    for a in AXIS_KEYS:
        param, values = DEFAULT_AXES.get(a, (NO_AXIS, []))
        ss.setdefault(f"axis_{a}_param", param)
        ss.setdefault(f"axis_{a}_values", list(values))
    sim = simulator_defaults()
    for key, value in {"repeats": 1, "concurrency": 4, "rpm": 0.0, "timeout_s": 300.0,
                       "budget_usd": DEFAULT_BUDGET_USD, "confirm_over_usd": DEFAULT_CONFIRM_OVER_USD,
                       "run_name": "", "sim_time_scale": float(sim.get("time_scale", 1.0)),
                       "sim_fixed_latency_s": float(sim.get("fixed_latency_s", 0.0)),
                       "sim_fault_kind": NO_FAULT, "sim_fault_match": "", "sim_fault_times": 0}.items():
        ss.setdefault(key, value)


def remember_form() -> None:
    """Keep the form as it is now, so it survives leaving the page (ui.state.GenerateState.persist)."""
    gen_state.keep()


# -- callbacks (run before the script, so they may set widget values) ------------------------------


def _default_model(ctx: Context, provider: str) -> str | None:
    """The configured Azure deployment first (AZURE_OPENAI_API_IMAGE_MODEL) when it may run on the working
    date, else the first model of the data's preference order live on ``provider`` that day."""
    preferred = getattr(ctx.settings, "default_deployment", None) if provider == "azure" else None
    return default_model(ctx.catalog, provider, _deployments(ctx), today=ctx.today, preferred=preferred)


def _model_names(ctx: Context, provider: str) -> tuple[tuple[str, ...], str]:
    return model_values(ctx.catalog, provider, _deployments(ctx), today=ctx.today)


def _on_provider(ctx: Context) -> None:
    ss = gen_state.widgets
    names, _note = _model_names(ctx, ss["provider"])
    if ss.get("model") not in names:
        ss["model"] = _default_model(ctx, ss["provider"])


def _set_model(name: str) -> None:
    gen_state.widgets["model"] = name


def _on_axis_param(ctx: Context, a: str) -> None:
    param = _axis_param(a)
    gen_state.widgets[f"axis_{a}_values"] = [] if param == NO_AXIS else list(_choice(ctx, param).values)


def _on_all_values(ctx: Context, a: str) -> None:
    param = _axis_param(a)
    if param != NO_AXIS:
        gen_state.widgets[f"axis_{a}_values"] = list(_choice(ctx, param).values)


def _on_swap(i: str, j: str) -> None:
    ss = gen_state.widgets
    for suffix in ("param", "values"):
        ki, kj = f"axis_{i}_{suffix}", f"axis_{j}_{suffix}"
        ss[ki], ss[kj] = ss.get(kj, NO_AXIS if suffix == "param" else []), ss.get(ki, NO_AXIS if suffix == "param"
                                                                                   else [])


# -- loading a spec ------------------------------------------------------------------------------


def apply_spec(ctx: Context, spec: GridSpec) -> list[str]:
    """Put a loaded spec into the form's widget state; return warnings about what could not be kept."""
    ss = gen_state.widgets
    values = spec_to_form(spec)
    warnings = []
    provider = values.provider
    if provider not in ctx.provider_choices():
        warnings.append(f"the spec uses provider {provider!r}, which is not configured here; loaded on the "
                        "simulator instead (set its key to run it for real).")
        provider = "simulator"
    ss["provider"] = provider
    ss["model"] = values.model
    ss["prompts"] = values.prompts_text
    ss["edit_mode"] = values.operation
    if spec.edit is not None:  # an uploaded spec comes without its files: the user adds them here
        warnings.append(_("the spec is an edit grid of {files}; its files are not uploaded with it. Fix: upload "
                          "them under Edit inputs (or run the spec with the CLI).").format(
            files=", ".join([*spec.edit.images, *([spec.edit.mask] if spec.edit.mask else [])])))
    for a, axis in zip(AXIS_KEYS, values.axes):
        ss[f"axis_{a}_param"] = axis.param if axis else NO_AXIS
        ss[f"axis_{a}_values"] = list(axis.values) if axis else []
    for p in (*FIXED_PARAMS, *EDIT_ONLY_PARAMS):
        ss.pop(_fixed_key(p), None)
        if p in values.params:
            ss[_fixed_key(p)] = UNSET if values.params[p] is None else values.params[p]
    ss["repeats"] = int(values.repeats)
    ss["concurrency"] = int(values.concurrency)
    ss["rpm"] = float(values.rpm or 0.0)
    ss["timeout_s"] = float(values.timeout_s)
    ss["budget_usd"] = float(values.budget_usd or 0.0)
    ss["run_name"] = values.name
    sim = dict(values.simulator)
    defaults = simulator_defaults()
    ss["sim_time_scale"] = float(sim.get("time_scale", defaults.get("time_scale", 1.0)))
    ss["sim_fixed_latency_s"] = float(sim.get("fixed_latency_s") or defaults.get("fixed_latency_s", 0.0))
    faults = sim.get("faults") or []
    fault = faults[0] if isinstance(faults, list) and faults else None
    ss["sim_fault_kind"], ss["sim_fault_match"], ss["sim_fault_times"] = NO_FAULT, "", 0
    if isinstance(fault, str):
        head, *rest = [p.strip() for p in fault.split(";")]
        ss["sim_fault_kind"] = FAULT_ALIASES.get(head, head)  # an older name (rate_limit) shows as today's
        for item in rest:
            key, _sep, val = item.partition("=")
            if key.strip() == "match":
                ss["sim_fault_match"] = val.strip()
            elif key.strip() == "times":
                ss["sim_fault_times"] = int(val)
    elif isinstance(fault, dict):
        ss["sim_fault_kind"] = str(fault.get("kind", NO_FAULT))
        ss["sim_fault_match"] = str(fault.get("match") or "")
        ss["sim_fault_times"] = int(fault.get("times") or 0)
    unsupported = set(sim) - {"time_scale", "fixed_latency_s", "faults"}
    if unsupported or (isinstance(faults, list) and len(faults) > 1):
        warnings.append("the spec's [simulator] table has settings this form does not show "
                        f"({', '.join(sorted(unsupported)) or 'several faults'}); only the first fault is kept.")
    return warnings


def render_load(ctx: Context) -> None:
    """Upload a spec (TOML, the CLI's format) and load it into the form. Must run before the form."""
    with st.expander(_("Load a saved grid spec (TOML)"), expanded=False):
        upload = st.file_uploader(_("Grid spec file"), type=["toml"], key="spec_upload",
                                  help=_("A spec saved from this page or written for `python -m imagegen run`."))
        if upload is None:
            return
        if gen_state.spec_loaded_id == upload.file_id:
            st.caption(_("Loaded {name}.").format(name=md_escape(upload.name)))
            return
        gen_state.spec_loaded_id = upload.file_id
        try:  # the same checks and messages as `python -m imagegen run`
            spec = loads_spec(decode_spec(upload.getvalue(), upload.name), where=upload.name)
            check_simulator(spec, upload.name)
        except ImagegenError as exc:
            st.error(md_escape(exc))
            return
        for warning in (*spec.notes, *apply_spec(ctx, spec)):
            st.warning(md_escape(warning))
        st.success(_("Loaded {name}: {value}.").format(name=md_escape(upload.name), value=md_escape(spec.name or spec.model)))


# -- the form ------------------------------------------------------------------------------------


def _model_label(ctx: Context, provider: str, name: str) -> str:
    """The picker label: the name, and its lifecycle on ``provider`` unless it is simply live."""
    mid = _deployments(ctx).get(name) if provider == "azure" else name
    shown = f"{name} → {mid or '?'}" if provider == "azure" else name
    if mid is None or not ctx.catalog.has_model(mid):
        return shown
    life = lifecycle_status(ctx.catalog, mid, provider, ctx.today)
    if life.state == "live":
        return shown
    if life.runnable and life.state != "retiring":  # the simulator serving a model shut down on the real service
        return f"{shown} ({life.short}; simulated from its documented behaviour)"
    if not life.runnable:
        return f"{shown} ({life.short}: cannot run here)"
    return f"{shown} ({life.short})"


def render_prompts() -> list[str]:
    text = st.text_area(
        _("Prompts (one per paragraph: separate prompts with an empty line)"), key="prompts", height=120,
        help=_("A prompt may span several lines; an empty line starts the next prompt. Each prompt "
               "may have up to {max_prompt_chars:,} characters. Japanese and other languages work as "
               "they are. ").format(max_prompt_chars=MAX_PROMPT_CHARS)
             + _("Ctrl+Enter (⌘+Enter on a Mac) runs the grid from anywhere on the page."))
    prompts = split_prompts(text)
    longest = max((len(p) for p in prompts), default=0)
    st.caption(_("{prompts} prompt(s) · longest {longest:,} / {max_prompt_chars:,} characters").format(prompts=len(prompts), longest=longest, max_prompt_chars=MAX_PROMPT_CHARS)
               + (_(" · several prompts add a prompt axis") if len(prompts) > 1 else ""))
    for i, p in enumerate(prompts):
        if len(p) > MAX_PROMPT_CHARS:
            st.error(_("Prompt {i} has {p:,} characters; the limit is {max_prompt_chars:,}. Fix: "
                       "shorten it by {p2:,} characters.").format(i=i + 1, p=len(p), max_prompt_chars=MAX_PROMPT_CHARS, p2=len(p) - MAX_PROMPT_CHARS))
    return prompts


def render_provider_model(ctx: Context) -> None:
    ss = gen_state.widgets
    c1, c2 = st.columns(2)
    choices = ctx.provider_choices()
    c1.selectbox(_("Provider"), choices, key="provider", format_func=provider_label,
                 on_change=_on_provider, args=(ctx,),
                 help=_("The simulator is always available; a real provider appears when its key is configured."))
    names, note = _model_names(ctx, ss["provider"])
    if not ss.get("model") and names:
        ss["model"] = _default_model(ctx, ss["provider"])
    options = list(names)
    if ss.get("model") and ss["model"] not in options:
        # A loaded spec (or a form kept from another date) asks for a model that cannot run here: show it as
        # it is; the estimate says why and offers the successor as a one-click fix.
        options.append(ss["model"])
    label = _("Deployment (Azure: each serves one model)") if ss["provider"] == "azure" else _("Model")
    provider = ss["provider"]  # bound now: format_func is also called outside the script run (AppTest)
    c2.selectbox(label, options, key="model", format_func=lambda n: _model_label(ctx, provider, n))
    if note and ss["provider"] != "simulator":
        c2.caption(_("Not offered: {note}.").format(note=source_note(note)))


def render_axes(ctx: Context) -> list[Axis | None]:
    ss = gen_state.widgets
    st.markdown(_("**Axes** — up to three parameters to compare; X runs across, Y down, Z makes sub-grids."))
    for a in AXIS_KEYS:
        used = {_axis_param(o) for o in AXIS_KEYS if o != a} - {NO_AXIS}
        hidden = set() if edit_form.mode() == "edit" else set(EDIT_ONLY_PARAMS)
        options = [NO_AXIS] + [p for p in AXIS_PARAMS if p not in used and p not in hidden]
        if ss.get(f"axis_{a}_param") not in options:
            ss[f"axis_{a}_param"] = NO_AXIS
            ss[f"axis_{a}_values"] = []
        c1, c2, c3 = st.columns([1.1, 3.2, 0.9], vertical_alignment="bottom")
        c1.selectbox(_("Axis {axis_labels}").format(axis_labels=_(AXIS_LABELS[a])), options,
                     format_func=lambda p: _(NO_AXIS) if p == NO_AXIS else p, key=f"axis_{a}_param", on_change=_on_axis_param,
                     args=(ctx, a))
        param = _axis_param(a)
        if param == NO_AXIS:
            continue
        choice = _choice(ctx, param)
        current = ss.get(f"axis_{a}_values") or []
        for value, why in refused_values(current, choice):
            c2.warning(_("{param} {param2} is refused: {why}.").format(param=param, param2=format_value(param, value), why=why))
        ss[f"axis_{a}_values"] = keep_allowed(current, choice)
        open_set = choice.check is not None  # any valid WIDTHxHEIGHT may be typed in
        c2.multiselect(_("{param} values ({upper})").format(param=param, upper=a.upper()), axis_options(choice, ss[f"axis_{a}_values"]),
                       key=f"axis_{a}_values", format_func=lambda v, p=param: format_value(p, v),
                       disabled=not choice.available, accept_new_options=open_set,
                       placeholder=_("pick values or type WIDTHxHEIGHT") if open_set else _("pick values"))
        c3.button(_("All values"), key=f"axis_{a}_all", on_click=_on_all_values, args=(ctx, a),
                  disabled=not choice.available, help=_("Every value {param} may take here").format(param=param))
        if choice.note:
            c2.caption(source_note(choice.note))
    s1, s2, s3 = flow_row(3, gap="small")
    s1.button(_("Swap X ↔ Y"), key="swap_xy", on_click=_on_swap, args=("x", "y"))
    s2.button(_("Swap Y ↔ Z"), key="swap_yz", on_click=_on_swap, args=("y", "z"))
    s3.button(_("Swap X ↔ Z"), key="swap_xz", on_click=_on_swap, args=("x", "z"))
    return [Axis(p, v) if p != NO_AXIS else None for p, v in
            ((_axis_param(a), tuple(ss.get(f"axis_{a}_values") or ())) for a in AXIS_KEYS)]


def render_fixed(ctx: Context) -> dict:
    """Selectors for every parameter not on an axis, offering only valid values."""
    ss = gen_state.widgets
    on_axis = set(_axes_now())
    params = [p for p in _fixed_params() if p not in on_axis]
    st.markdown(_("**Fixed parameters** (the same in every cell)"))
    out = {}
    cols = st.columns(3)
    for i, param in enumerate(params):
        choice = _choice(ctx, param)
        key = _fixed_key(param)
        options = list(choice.values)
        default = choice.default
        if choice.check is not None and ss.get(key) not in options and ss.get(key) is not None:
            why = choice.refusal(ss[key])
            if why is None:
                options.append(ss[key])  # a custom size typed in or loaded from a spec
            else:
                cols[i % 3].warning(_("{param} {ss} is refused: {why}.").format(param=param, ss=ss[key], why=why))
        if param == "output_compression":
            options = [UNSET, *COMPRESSION_PRESETS] if choice.available else [UNSET]
            if isinstance(ss.get(key), int) and ss[key] not in options and choice.available:
                options.append(ss[key])  # a loaded spec's own value
            default = UNSET
        if ss.get(key, "\0missing") not in options:
            ss[key] = default if default in options else (options[0] if options else None)
        with cols[i % 3]:
            st.selectbox(param, options, key=key, format_func=lambda v, p=param: format_value(p, v),
                         disabled=len(options) <= 1 and choice.check is None, help=source_note(choice.note) or None,
                         accept_new_options=choice.check is not None)
            if choice.note and len(options) <= 1:
                st.caption(source_note(choice.note))
        out[param] = _fixed_value(param)
    return out


def render_limits() -> None:
    st.markdown(_("**Run limits**"))
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input(_("Repeats per cell"), min_value=1, max_value=100, step=1, key="repeats",
                    help=_("Each cell is requested this many times (latency varies between runs)"))
    c2.number_input(_("Concurrency"), min_value=1, max_value=64, step=1, key="concurrency",
                    help=_("Requests in flight at once"))
    c3.number_input(_("Requests per minute (0 = no limit)"), min_value=0.0, max_value=10_000.0, step=1.0, key="rpm",
                    help=_("Azure's default quota for these models is 6–12 RPM per deployment"))
    c4.number_input(_("Timeout per request (s)"), min_value=5.0, max_value=1_800.0, step=5.0, key="timeout_s",
                    help=_("High quality can take over 2 minutes; keep at least 180 s for it"))
    c5, c6, c7 = st.columns([1, 1, 2])
    c5.number_input(_("Budget cap (USD, 0 = none)"), min_value=0.0, step=0.5, format="%.2f", key="budget_usd",
                    help=_("The run is refused if the estimate's maximum is above it, and never spends past it"))
    c6.number_input(_("Ask to confirm above (USD)"), min_value=0.0, step=0.5, format="%.2f", key="confirm_over_usd")
    c7.text_input(_("Run name (optional)"), key="run_name", placeholder=_("e.g. quality x size, budget meeting"))


def render_simulator(home: Path | None = None) -> dict:
    """Simulator knobs (latency scale, an injected fault, a recording to replay), saved in the spec's [simulator]."""
    replay: dict = {}
    with st.expander(_("Simulator settings (latency model, fault injection, replay)"), expanded=False):
        c1, c2 = st.columns(2)
        c1.number_input(_("Time scale (1 = modelled latency)"), min_value=0.0, max_value=100.0, step=0.1,
                        format="%.4f", key="sim_time_scale",
                        help=_("Latency = (2 s + output tokens / 133 per s) x scale: priors from public logs"))
        c2.number_input(_("Fixed latency per request (s, 0 = use the model)"), min_value=0.0, step=0.5,
                        format="%.3f", key="sim_fixed_latency_s")
        c3, c4, c5 = st.columns(3)
        c3.selectbox(_("Inject a fault"), [NO_FAULT, *FAULT_KINDS], key="sim_fault_kind",
                     format_func=lambda k: _(NO_FAULT) if k == NO_FAULT else k,
                     help=_("Answer matching requests with this error, as the real API would"))
        c4.text_input(_("…in prompts containing (empty = all)"), key="sim_fault_match")
        c5.number_input(_("…this many times (0 = always)"), min_value=0, max_value=1000, step=1, key="sim_fault_times")
        if home is not None:
            replay = render_replay(home)
    ss = gen_state.widgets
    sim: dict = dict(replay)
    if float(ss["sim_time_scale"]) != 1.0:
        sim["time_scale"] = float(ss["sim_time_scale"])
    if float(ss["sim_fixed_latency_s"]) > 0:
        sim["fixed_latency_s"] = float(ss["sim_fixed_latency_s"])
    if ss["sim_fault_kind"] != NO_FAULT:
        fault = ss["sim_fault_kind"]
        match = re.sub(r"[;\n]", " ", ss["sim_fault_match"] or "").strip()
        if match:
            fault += f"; match={match}"
        if int(ss["sim_fault_times"]):
            fault += f"; times={int(ss['sim_fault_times'])}"
        sim["faults"] = [fault]
    return sim


def token_status_label(est) -> tuple[str, str]:
    """The metric's status word and help: the cells' real status (documented, measured by whom, derived,
    assumed), the weakest one when the cells differ."""

    labels = sorted({e.token_label or e.token_status for e in est.estimates})
    if not labels:
        return figure_label("catalog"), _("From the catalog's token table or formula")
    if len(labels) == 1:
        return figure_label(labels[0]), _("From the catalog: every cell's figure is {label}").format(
            label=figure_label(labels[0]))
    statuses = sorted({e.token_status for e in est.estimates}, key=STATUS_ORDER.index, reverse=True)
    return figure_label(" + ".join(statuses)), _("Cells differ in how their figures are known:") + " " + "; ".join(
        figure_label(x) for x in labels)


def estimate_notes(est) -> list[str]:
    """Every distinct note of the grid's estimates (assumed ranges, ambiguous partial images, previews)."""
    return list(dict.fromkeys(n for e in est.estimates for n in e.notes))


def render_form(ctx: Context) -> FormValues:
    """The whole form; returns its values."""
    init_state(ctx)
    render_load(ctx)
    operation = edit_form.render_mode()
    render_prompts()
    render_provider_model(ctx)
    inputs, input_errors = edit_form.render_inputs(ctx) if operation == "edit" else (None, [])
    axes = render_axes(ctx)
    params = render_fixed(ctx)
    render_limits()
    ss = gen_state.widgets
    uses_sim = ss["provider"] == "simulator" or "simulator" in _axes_now().get("provider", ())
    simulator = render_simulator(ctx.home) if uses_sim else {}
    remember_form()
    return FormValues(
        prompts_text=ss["prompts"], provider=ss["provider"], model=ss.get("model") or "", axes=axes, params=params,
        repeats=int(ss["repeats"]), concurrency=int(ss["concurrency"]), rpm=float(ss["rpm"]) or None,
        budget_usd=parse_budget(ss["budget_usd"]), timeout_s=float(ss["timeout_s"]), name=ss["run_name"],
        deployments=dict(getattr(ctx.settings, "deployments", {}) or {}), simulator=simulator,
        operation=operation, edit_inputs=inputs, edit_errors=tuple(input_errors),
    )


# -- estimate and confirmation -------------------------------------------------------------------


@dataclass
class RunDraft:
    """What the Run button needs: the spec, its estimate (None when invalid) and whether it may start."""

    spec: GridSpec | None
    estimate: GridEstimate | None
    ready: bool
    why_not: str = ""


def usd(value: Decimal) -> str:
    """Dollars as the estimate shows them: 4 decimals under $1, cents above."""
    return l10n.usd(value)


def render_estimate(ctx: Context, values: FormValues) -> RunDraft:
    """The live estimate (labelled estimated), budget check and the confirmation step."""
    st.subheader(_("Estimate"))
    if not split_prompts(values.prompts_text):
        st.info(_("Write a prompt to see the estimate."))
        return RunDraft(None, None, False, "no prompt")
    if not values.model:
        st.error(_("No model is available for this provider. Fix: configure a deployment or pick the simulator."))
        return RunDraft(None, None, False, "no model")
    if values.operation == "edit" and values.edit_inputs is None:
        st.error(_("This edit grid would be refused before anything is sent:") + "\n\n"
                 + "\n".join(f"- {md_escape(p)}" for p in values.edit_errors or (_("no input image"),)))
        return RunDraft(None, None, False, "no input image")
    for a in values.axes:
        if a is not None and not a.values:
            st.warning(_("Axis {param} has no values selected; it is left out. Pick values or click All values.").format(param=a.param))
    try:
        drafted = facade.estimate_form(values, ctx.catalog, ctx.today)
    except InvalidRequest as exc:
        st.error(_("This grid would be refused before anything is sent:\n\n")
                 + "\n".join(f"- {md_escape(p)}" for p in exc.problems))
        render_successor_fix(ctx, values)  # only when the model cannot run here on this date
        return RunDraft(None, None, False, "invalid")
    except ImagegenError as exc:
        st.error(md_escape(exc))
        return RunDraft(None, None, False, "invalid")
    spec, est, duration = drafted.spec, drafted.estimate, drafted.duration_s
    for note in drafted.notes:
        st.caption(_("Adjusted: {note}").format(note=note))
    simulated = spec.provider == "simulator" and "provider" not in spec.axes
    tokens = f"{est.output_tokens_min:,}" if est.output_tokens_min == est.output_tokens_max else \
        f"{est.output_tokens_min:,}–{est.output_tokens_max:,}"
    reused = facade.reusable(est, ctx.store) if gen_state.widgets.get("reuse_history") and ctx.store else {}
    split = est.spend(reused)
    mixed = split.real.requests > 0 and split.simulated.requests > 0
    shown = split.real if mixed else Spend(split.real.requests + split.simulated.requests,
                                           split.real.cost_min + split.simulated.cost_min,
                                           split.real.cost_max + split.simulated.cost_max)
    cost = _cost_range(shown)
    m = flow_row(5)  # wraps at 800 px instead of cutting the figures
    m[0].metric(_("Cells"), f"{len(est.cells):,}")
    m[1].metric(_("Requests"), f"{est.requests:,}", help=_("cells × repeats"))
    status, status_help = token_status_label(est)
    m[2].metric(_("Output tokens ({status})").format(status=status), tokens, help=status_help)
    cost_label = _("Cost, USD (estimated, real money)") if mixed else \
        _("Cost, USD (estimated, after reuse)") if split.reused.requests else _("Cost, USD (estimated)")
    m[3].metric(cost_label, cost, help=_("Min–max over any auto value; the budget uses the max"))
    m[4].metric(_("Duration (estimated)"), format_duration(duration),
                help=_("Mean modelled latency under the concurrency and RPM limits (a lower bound; retries add)"))
    if spec.edit is not None:
        render_input_estimate(est)
    notes = estimate_notes(est)
    for note in notes[:6]:
        st.caption(f":material/info: {md_escape(source_note(note))}")
    if len(notes) > 6:
        st.caption(_("…and {notes} more notes like these (see the CLI's `estimate`).").format(notes=len(notes) - 6))
    label = _("simulated: nothing is charged") if simulated else _("real money at the provider's list price")
    st.caption(_("All figures above are estimates before sending ({label}). Prices: ").format(label=label)
               + ", ".join(sorted({e.cost_max.price_key for e in est.estimates})))
    render_spend_split(split, mixed)
    cap = spec.limits.budget_usd
    if est.over_budget():
        st.error(_("The estimate's maximum {total_cost_usd_max} is over the budget cap {cap}. Fix: "
                   "raise the budget cap or shrink the grid (fewer values, repeats, or a lower "
                   "quality).").format(total_cost_usd_max=usd(est.total_cost_usd_max), cap=usd(cap)))
        return RunDraft(spec, est, False, "over budget")
    threshold = Decimal(str(gen_state.widgets.get("confirm_over_usd") or 0))
    real = split.real  # only real money is confirmed: simulated cells cost nothing, reused ones $0
    if threshold and real.cost_max > threshold:
        amount = f"{real.cost_max:.4f}"
        if gen_state.widgets.get("confirm_for") != amount:
            gen_state.widgets["confirm_for"] = amount
            gen_state.widgets["confirm_spend"] = False
        st.warning(_("This grid may cost up to {cost} of real money ({requests} requests), above your confirmation "
                     "threshold of {threshold}.").format(cost=usd(real.cost_max), requests=real.requests,
                                                         threshold=usd(threshold)))
        if not st.checkbox(_("I confirm: run it for up to {cost}").format(cost=usd(real.cost_max)),
                           key="confirm_spend"):
            return RunDraft(spec, est, False, "needs confirmation")
    elif threshold and split.simulated.cost_max > threshold and not real.requests:
        st.caption(_(":material/info: No confirmation needed: every cell runs on the simulator, nothing is "
                     "charged."))
    return RunDraft(spec, est, True)


def render_input_estimate(est: GridEstimate) -> None:
    """An edit grid's input image tokens (labelled) and the cost split: text input, image input, image output."""
    split = {N_("Cost: text input (estimated)"): Decimal(0), N_("Cost: image input (estimated)"): Decimal(0),
             N_("Cost: image output (estimated)"): Decimal(0)}
    text_in, image_in, image_out = split
    tokens = set()
    for e in est.estimates:
        c = e.cost_max
        split[text_in] += c.text_input * est.spec.repeats
        split[image_in] += c.image_input * est.spec.repeats
        split[image_out] += (c.image_output + c.text_output) * est.spec.repeats
        tokens.add(e.input_image_tokens)
    m = st.columns(4)
    shown = f"{min(tokens):,}" if len(tokens) == 1 else f"{min(tokens):,}–{max(tokens):,}"
    m[0].metric(_("Input image tokens per request (estimated)"), shown, help=_(
        "How they are known: {label}. The first image at the cell's input_fidelity, the others at low."
    ).format(label=est.input_image_label))
    for col, (part, value) in zip(m[1:], split.items()):
        col.metric(_(part), usd(value), help=_("Summed over cells × repeats, at the maximum"))
    st.caption(":material/info: " + _("Input image tokens: {label}").format(label=md_escape(est.input_image_label)))


def _cost_range(spend: Spend) -> str:
    return usd(spend.cost_max) if spend.cost_min == spend.cost_max else \
        f"{usd(spend.cost_min)}–{usd(spend.cost_max)}"


def render_spend_split(split: SpendSplit, mixed: bool) -> None:
    """Real and simulated spend side by side (never added up), and what reuse from history takes at $0."""
    if mixed:
        st.caption(_("Real money: up to {real} ({real_n} requests) · simulated: {sim} ({sim_n} requests, nothing is "
                     "charged). The two are never added up.").format(
            real=_cost_range(split.real), real_n=split.real.requests, sim=_cost_range(split.simulated),
            sim_n=split.simulated.requests))
    if split.reused.requests:
        st.caption(_(":material/recycling: Reuse from history: {n} of {total} requests are taken from earlier runs at "
                     "$0, so {saved} is left out of the estimate. The budget cap still checks the full grid, as the "
                     "run does.").format(n=split.reused.requests,
                                         total=split.reused.requests + split.real.requests + split.simulated.requests,
                                         saved=_cost_range(split.reused)))


def successor_for(ctx: Context, values: FormValues) -> str | None:
    """The model (or Azure deployment) to switch to when the grid's model cannot run on its provider
    on the working date: the catalog's successor, if it may run there (None otherwise)."""
    if any(a is not None and a.values and a.param in ("model", "provider") for a in values.axes):
        return None  # several models or providers: the messages name each; no single fix
    deployments = _deployments(ctx)
    mid = deployments.get(values.model) if values.provider == "azure" else values.model
    if not mid or not ctx.catalog.has_model(mid):
        return None
    life = lifecycle_status(ctx.catalog, mid, values.provider, ctx.today)
    if life.runnable or not life.successor:
        return None
    names, _note = _model_names(ctx, values.provider)
    if values.provider == "azure":
        return next((d for d in names if deployments.get(d) == life.successor), None)
    return life.successor if life.successor in names else None


def render_successor_fix(ctx: Context, values: FormValues) -> None:
    """The one-click fix: a button that switches the model to its successor (nothing else changes)."""
    target = successor_for(ctx, values)
    if target is None:
        return
    st.button(_("Use the successor: {target}").format(target=target), key="use_successor", on_click=_set_model, args=(target,),
              type="primary", icon=":material/upgrade:",
              help=_("Switches only the model; every other setting of the grid stays as it is."))


def spec_file_name(spec: GridSpec) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", spec.name or f"{spec.model}-grid").strip("-") or "grid"
    return f"{base}.toml"
