"""Which values each request parameter may take for a model and provider, for grid builders.

Pure functions over the catalog: the Generate page offers only what these return, so a grid
built from them passes :func:`imagegen.core.request.problems`. The seed's conditional rules live
here once: ``output_compression`` only with jpeg/webp, ``transparent`` only with png/webp (and
only on models with transparency), ``partial_images`` only when streaming, and whatever a
provider lacks (Azure documents no WEBP). When a parameter is on an axis with several values
(several models, formats, providers), a value is offered only if it is valid for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from imagegen.core import lifecycle
from imagegen.core.catalog import Catalog, ModelSpec, size_problem
from imagegen.core.grid import MAX_AXES, resolve_model
from imagegen.core.request import BACKGROUNDS

#: Parameters a grid axis may vary, in the order a picker lists them.
AXIS_PARAMS = ("quality", "size", "output_format", "output_compression", "background", "moderation", "n",
               "stream", "partial_images", "complexity", "input_fidelity", "model", "provider")
#: Parameters fixed for the whole grid when they are not on an axis (generations).
FIXED_PARAMS = ("size", "quality", "background", "output_format", "output_compression", "moderation", "n",
                "stream", "partial_images", "complexity")
#: The API's defaults, used when a parameter is neither fixed nor on an axis.
API_DEFAULTS = {"size": "auto", "quality": "auto", "background": "auto", "output_format": "png",
                "output_compression": None, "moderation": "auto", "n": 1, "stream": False, "partial_images": 0,
                "complexity": None, "input_fidelity": None}
#: Parameters only edits take (offered when the Generate page is in Edit mode, ``context["operation"]``).
EDIT_ONLY_PARAMS = ("input_fidelity",)
#: output_compression values offered on an axis ("all values"); any integer 0..100 may be fixed.
COMPRESSION_PRESETS = (100, 90, 75, 50, 25, 0)
COMPRESSIBLE_FORMATS = ("jpeg", "webp")
TRANSPARENT_FORMATS = ("png", "webp")


@dataclass(frozen=True)
class Choice:
    """The values one parameter may take, its default, and why values are missing (if they are)."""

    param: str
    values: tuple
    default: object
    note: str = ""
    #: Why a value outside ``values`` is refused (None = it is accepted), for parameters whose valid set
    #: is open (any WIDTHxHEIGHT within a size rule); ``values`` then only lists what pickers offer first.
    check: Callable[[object], str | None] | None = None

    @property
    def available(self) -> bool:
        """False when the parameter cannot be varied (at most one value, e.g. compression with png)."""
        return len(self.values) > 1

    def accepts(self, value: object) -> bool:
        """True when ``value`` is allowed: one of ``values``, or passing ``check``."""
        if value in self.values:
            return True
        return self.check is not None and self.check(value) is None

    def refusal(self, value: object) -> str | None:
        """Why ``value`` is refused (the rule that failed), or None when it is accepted."""
        if self.accepts(value):
            return None
        if self.check is not None:
            return self.check(value)
        return f"{value!r} is not one of {', '.join(map(repr, self.values))}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Axis:
    """One grid axis: a parameter and the values it takes, in display order."""

    param: str
    values: tuple


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(value)
    return (value,)


def _vals(context: Mapping[str, object], param: str, default) -> tuple:
    """Every value ``param`` takes in the grid (a fixed value or an axis list); the default if unset."""
    got = _as_tuple(context.get(param)) if param in context else ()
    return got or _as_tuple(default)


def model_ids(models: Iterable[str], provider: str, deployments: Mapping[str, str] | None, catalog: Catalog) -> list[str]:
    """Catalog ids for model/deployment names as a spec would resolve them (unknown names dropped)."""
    out = []
    for name in models:
        mid, _ = resolve_model(provider, name, dict(deployments or {}), catalog)
        if catalog.has_model(mid):
            out.append(catalog.model(mid).id)
    return out


def model_values(catalog: Catalog, provider: str, deployments: Mapping[str, str] | None = None, *, today: date
                 ) -> tuple[tuple[str, ...], str]:
    """(model names to offer on ``today``, note on what was left out). On Azure the names are deployments.

    The order is the data's preference order (:func:`imagegen.core.lifecycle.preferred_models`): models
    live on the provider first; on the simulator the models shut down on OpenAI follow, still runnable.
    """
    left_out = []
    if provider == "azure":
        order = {mid: i for i, mid in enumerate(lifecycle.preferred_models(catalog, "azure", today,
                                                                           runnable_only=False))}
        names = []
        for dep, mid in (deployments or {}).items():
            if not catalog.has_model(mid):
                left_out.append(f"deployment {dep} maps to unknown model {mid}")
                continue
            life = lifecycle.status(catalog, mid, "azure", today)
            if not life.runnable:
                left_out.append(f"deployment {dep}: {life.sentence.rstrip('.')}")
            else:
                names.append(dep)
        if not deployments:
            left_out.append("no Azure deployments are configured (set IMAGEGEN_AZURE_DEPLOYMENTS or "
                            "AZURE_OPENAI_API_IMAGE_MODEL)")
        names.sort(key=lambda d: order.get(catalog.model(deployments[d]).id, len(order)))
        return tuple(names), "; ".join(left_out)
    names = lifecycle.preferred_models(catalog, provider, today)
    left_out = [lifecycle.status(catalog, mid, provider, today).sentence.rstrip(".")
                for mid in catalog.models if mid not in names]
    return tuple(names), "; ".join(left_out)


def default_model(catalog: Catalog, provider: str, deployments: Mapping[str, str] | None = None, *, today: date,
                  preferred: str | None = None) -> str | None:
    """The model (or Azure deployment) a new grid starts with on ``today``.

    ``preferred`` (e.g. the configured ``AZURE_OPENAI_API_IMAGE_MODEL`` deployment) wins when it may
    run; otherwise the first name :func:`model_values` offers (the data's preference order).
    """
    names, _ = model_values(catalog, provider, deployments, today=today)
    if preferred is not None and preferred in names:
        return preferred
    return names[0] if names else None


def _intersect(lists: Sequence[Sequence]) -> tuple:
    if not lists:
        return ()
    first = list(dict.fromkeys(lists[0]))
    return tuple(v for v in first if all(v in other for other in lists[1:]))


def allowed_values(param: str, catalog: Catalog, *, model: str | Sequence[str], provider: str | Sequence[str],
                   context: Mapping[str, object] | None = None, deployments: Mapping[str, str] | None = None,
                   providers: Sequence[str] = ("simulator",), today: date) -> Choice:
    """The values ``param`` may take given the model(s), provider(s) and the rest of the grid.

    ``model``/``provider`` may be several values (a model or provider axis): a value is offered
    only when it is valid for every combination. ``context`` maps other parameters to their
    fixed value or axis values; it drives the conditional rules. ``providers`` lists the
    runtime providers the user may pick (for a provider axis).
    """
    context = dict(context or {})
    provs = _as_tuple(provider) or ("simulator",)
    names = _as_tuple(model)
    if param == "provider":
        return Choice("provider", tuple(providers), provs[0])
    if param == "model":
        lists, notes = [], []
        for p in provs:
            vals, note = model_values(catalog, p, deployments, today=today)
            if p == "azure" and len(provs) > 1:  # across providers, name models by catalog id
                vals = tuple(dict.fromkeys((deployments or {})[d] for d in vals))
            lists.append(vals)
            if note:
                notes.append(note)
        values = _intersect(lists)
        default = names[0] if names and names[0] in values else (values[0] if values else None)
        return Choice("model", values, default, "; ".join(notes))
    seen: dict[tuple[str, str], tuple[ModelSpec, str]] = {}
    for p in provs:
        for mid in model_ids(names, p, deployments, catalog):
            seen.setdefault((mid, p), (catalog.model(mid), p))
    pairs = list(seen.values())
    if not pairs:
        return Choice(param, (), API_DEFAULTS.get(param), "choose a model first")
    fn = _RULES.get(param)
    if fn is None:
        raise ValueError(f"{param!r} is not a grid parameter; use one of {', '.join(AXIS_PARAMS)}")
    return fn(pairs, context)


def _choice_quality(pairs, context) -> Choice:
    values = _intersect([(*m.qualities, "auto") for m, _ in pairs])
    return Choice("quality", values, "auto")


def _choice_size(pairs, context) -> Choice:
    values = _intersect([(*m.size_values(), "auto") for m, _ in pairs])
    custom = all(m.size_rule is not None for m, _ in pairs)
    note = "" if all(m.sizes is not None for m, _ in pairs) else \
        "this model takes any WIDTHxHEIGHT within its size rule; the common sizes are offered" if custom else \
        "only sizes every model accepts are offered"
    default = "1024x1024" if "1024x1024" in values else "auto"

    def check(value: object) -> str | None:
        for m, p in pairs:
            why = size_problem(m, value, p)
            if why:
                return f"{m.id}: {why}"
        return None

    return Choice("size", values, default, note, check)


def _choice_format(pairs, context) -> Choice:
    values = _intersect([m.formats_for(p) for m, p in pairs])
    notes = []
    gated = tuple(v for v in values if any(v in m.gated_formats for m, _ in pairs))
    if gated:
        # access-gated formats are not offered on an axis: most accounts are refused them
        values = tuple(v for v in values if v not in gated)
        notes.append(f"{'/'.join(gated)} output needs preview access (set it in a spec; it may be refused)")
    if any(p == "azure" for _, p in pairs) and "webp" not in values:
        notes.append("Azure documents PNG and JPEG only (no WEBP)")
    if "transparent" in _vals(context, "background", "auto"):
        values = tuple(v for v in values if v in TRANSPARENT_FORMATS)
        notes.append("a transparent background needs png or webp")
    if any(c is not None for c in _vals(context, "output_compression", None)):
        values = tuple(v for v in values if v in COMPRESSIBLE_FORMATS)
        notes.append("output_compression needs jpeg or webp")
    return Choice("output_format", values, "png" if "png" in values else (values[0] if values else None),
                  "; ".join(notes))


def _choice_compression(pairs, context) -> Choice:
    formats = _vals(context, "output_format", "png")
    if not all(m.compression for m, _ in pairs):
        return Choice("output_compression", (None,), None, "this model takes no output_compression")
    if not all(f in COMPRESSIBLE_FORMATS for f in formats):
        return Choice("output_compression", (None,), None,
                      f"output_compression applies only to jpeg or webp (output_format: {', '.join(map(str, formats))})")
    return Choice("output_compression", COMPRESSION_PRESETS, 100, "0-100; any integer may be fixed")


def _choice_background(pairs, context) -> Choice:
    values = list(BACKGROUNDS)
    note = ""
    formats = _vals(context, "output_format", "png")
    if not all(m.transparency for m, _ in pairs):
        values.remove("transparent")
        note = "no transparent background on " + ", ".join(sorted({m.id for m, _ in pairs if not m.transparency}))
    elif not all(f in TRANSPARENT_FORMATS for f in formats):
        values.remove("transparent")
        note = f"transparent needs output_format png or webp (output_format: {', '.join(map(str, formats))})"
    else:
        preview = sorted({m.id for m, _ in pairs if m.transparency_stage == "preview"})
        if preview:
            note = f"transparent on {', '.join(preview)} is in preview (SDK 3.57): it may be refused"
    return Choice("background", tuple(values), "auto", note)


def _choice_complexity(pairs, context) -> Choice:
    if not all(m.complexity for m, _ in pairs):
        return Choice("complexity", (None,), None, "complexity is documented for gpt-image-2.6 only")
    values = _intersect([m.complexity for m, _ in pairs])
    return Choice("complexity", (None, *values), None,
                  "planning effort, independent of quality; unset = the model's default (third-party docs: no extra charge)")


def _is_edit(context) -> bool:
    return context.get("operation") == "edit"


def _choice_moderation(pairs, context) -> Choice:
    if _is_edit(context):  # the SDK's images.edit takes no moderation (the OpenAPI spec differs; we follow the SDK)
        return Choice("moderation", ("auto",), "auto", "edits take no moderation (the SDK's images.edit has none)")
    return Choice("moderation", _intersect([m.moderation for m, _ in pairs]), "auto")


def _choice_input_fidelity(pairs, context) -> Choice:
    if not _is_edit(context):
        return Choice("input_fidelity", (None,), None, "input_fidelity applies to edits only")
    if not all(m.input_fidelity for m, _ in pairs):
        without = ", ".join(sorted({m.id for m, _ in pairs if not m.input_fidelity}))
        return Choice("input_fidelity", (None,), None, f"{without} takes no input_fidelity (it is omitted)")
    values = _intersect([m.input_fidelity for m, _ in pairs])
    return Choice("input_fidelity", values, values[0] if values else None,
                  "how closely the edit keeps the first input image; high adds input image tokens")


def _choice_n(pairs, context) -> Choice:
    top = min(m.n_max for m, _ in pairs)
    return Choice("n", tuple(range(1, top + 1)), 1, f"images per request, 1..{top}; each one is billed")


def _choice_stream(pairs, context) -> Choice:
    if not all(m.streaming for m, _ in pairs):
        return Choice("stream", (False,), False, "this model does not stream")
    return Choice("stream", (False, True), False)


def _choice_partial(pairs, context) -> Choice:
    if True not in _vals(context, "stream", False) or not all(m.streaming for m, _ in pairs):
        return Choice("partial_images", (0,), 0, "partial_images needs stream = true")
    if False in _vals(context, "stream", False):
        return Choice("partial_images", (0,), 0, "partial_images needs stream = true in every cell")
    top = min(m.partial_images_max for m, _ in pairs)
    return Choice("partial_images", tuple(range(0, top + 1)), 0, "each partial image adds 100 output tokens")


_RULES = {
    "quality": _choice_quality, "size": _choice_size, "output_format": _choice_format,
    "output_compression": _choice_compression, "background": _choice_background,
    "moderation": _choice_moderation, "n": _choice_n, "stream": _choice_stream,
    "partial_images": _choice_partial, "complexity": _choice_complexity, "input_fidelity": _choice_input_fidelity,
}


def all_values(param: str, catalog: Catalog, **kwargs) -> list:
    """Every value an axis on ``param`` may take ("all values" shortcut); [] when it cannot vary."""
    choice = allowed_values(param, catalog, **kwargs)
    return list(choice.values) if choice.available else []


def keep_allowed(values: Iterable, choice: Choice) -> list:
    """``values`` without the ones ``choice`` no longer allows (order kept, duplicates dropped).

    Open parameters (a size rule) keep any value that passes the rule, e.g. a custom ``2048x1152``.
    """
    return [v for v in dict.fromkeys(values) if choice.accepts(v)]


def refused_values(values: Iterable, choice: Choice) -> list[tuple[object, str]]:
    """``(value, the rule that refuses it)`` for each of ``values`` that ``choice`` does not allow."""
    out = []
    for v in dict.fromkeys(values):
        why = choice.refusal(v)
        if why is not None:
            out.append((v, why))
    return out


def axis_options(choice: Choice, current: Iterable) -> list:
    """What a picker lists: the offered values, then any accepted custom value already chosen."""
    offered = list(choice.values)
    return offered + [v for v in dict.fromkeys(current) if v not in offered and choice.accepts(v)]


def swap_axes(axes: Sequence[Axis | None], i: int, j: int) -> list[Axis | None]:
    """A copy of the X/Y/Z list with positions ``i`` and ``j`` exchanged ("swap axes")."""
    out = list(axes) + [None] * (MAX_AXES - len(axes))
    if not (0 <= i < MAX_AXES and 0 <= j < MAX_AXES):
        raise ValueError(f"axis positions must be 0..{MAX_AXES - 1} (X, Y, Z); got {i} and {j}")
    out[i], out[j] = out[j], out[i]
    return out


def fixed_params(params: Mapping[str, object], catalog: Catalog, *, model: str | Sequence[str],
                 provider: str | Sequence[str], today: date, axes: Sequence[Axis | None] = (),
                 deployments: Mapping[str, str] | None = None, operation: str = "generate"
                 ) -> tuple[dict, list[str]]:
    """The ``[params]`` table for a spec: fixed values made consistent with the rules and axes.

    ``operation="edit"`` (an ``[edit]`` grid) offers ``input_fidelity`` and refuses ``moderation``.

    Parameters on an axis are left out; a fixed value the rules no longer allow (compression
    after switching to png, transparent with jpeg, partial images without streaming) is
    replaced by its default and reported. Values equal to the API default are omitted, so
    saved specs stay short. Returns ``(params, notes)``.
    """
    on_axis = {a.param: a.values for a in axes if a is not None}
    context: dict[str, object] = {**on_axis, "operation": operation}
    out: dict = {}
    notes: list[str] = []
    # Order matters: the format decides compression and background; stream decides partial_images.
    for param in ("output_format", "stream", "size", "quality", "moderation", "n", "background",
                  "output_compression", "partial_images", "complexity", "input_fidelity"):
        if param in on_axis or param in ("model", "provider"):
            continue
        value = params.get(param, API_DEFAULTS[param])
        choice = allowed_values(param, catalog, model=model, provider=provider, context=context,
                                deployments=deployments, today=today)
        if param == "output_compression" and value is not None and isinstance(value, int) \
                and 0 <= value <= 100 and choice.available:
            pass  # any integer 0..100 is allowed once the format takes compression
        elif not choice.accepts(value) and choice.values:
            notes.append(f"{param}={value!r} does not apply here ({choice.note or 'not offered'}); "
                         f"using {choice.default!r}")
            value = choice.default
        context[param] = value
        if value != API_DEFAULTS[param]:
            out[param] = value
    return out, notes


def format_value(param: str, value) -> str:
    """A value as shown in pickers and grid labels."""
    if value is None:
        return "unset" if param in ("output_compression", "complexity") else "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)
