"""The model catalog: models, token tables and prices, loaded from validated TOML data.

Nothing here is a constant in code: ``imagegen/core/data/*.toml`` holds every figure with its source
and checked date. Loading validates the files and reports mistakes with the file, the key path
and a fix. Money is ``Decimal`` (TOML floats are parsed as ``Decimal``, never ``float``).
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from imagegen.core.validation import explain
from imagegen.errors import CatalogError

if TYPE_CHECKING:
    from imagegen.core.token_overrides import TokenOverride

DATA_DIR = Path(__file__).with_name("data")
PROVIDERS = ("openai", "azure")
#: Which catalog provider's rules and prices each runtime provider follows.
PROVIDER_FLAVOUR = {"openai": "openai", "azure": "azure", "simulator": "openai", "compatible": "openai"}
STANDARD_QUALITIES = ("low", "medium", "high")
#: How far a figure can be trusted: documented (vendor page/spec), measured (observed on real requests,
#: by whom is said next to it), derived (arithmetic reproducing documented/measured figures), assumed.
Status = Literal["documented", "measured", "derived", "assumed"]
#: Weakest first: a figure built from several inputs takes the weakest status among them.
STATUS_ORDER = ("assumed", "derived", "measured", "documented")


def weakest(statuses) -> str:
    """The least trustworthy of ``statuses`` (``assumed`` < ``derived`` < ``measured`` < ``documented``)."""
    found = [s for s in statuses if s]
    return min(found, key=STATUS_ORDER.index) if found else "assumed"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ProviderSpec(_Strict):
    """Lifecycle and overrides of one model on one provider."""

    available: bool = True
    released: date | None = None
    deprecated: date | None = None
    shutdown: date | None = None
    successor: str | None = None
    default_quality: str | None = None
    output_formats: tuple[str, ...] | None = None
    #: The longest edge must be strictly below this on this provider (Azure: "less than 3840").
    max_edge_below: int | None = None
    #: A second source that contradicts this entry (kept visible, never silently resolved).
    conflict: str = ""
    source: str
    checked: date
    note: str = ""


class SizeRule(_Strict):
    """Arbitrary WIDTHxHEIGHT rules of the newer models."""

    multiple: int
    max_aspect: float
    max_edge: int
    min_pixels: int
    max_pixels: int

    def problem(self, width: int, height: int, max_edge_below: int | None = None) -> str | None:
        """Return which rule ``width x height`` breaks (with the numbers that break it), or None."""
        bad = [f"{e} is not" for e in (width, height) if e % self.multiple]
        if bad:
            return f"both edges must be multiples of {self.multiple} ({', '.join(bad)})"
        long_edge = max(width, height)
        if long_edge > self.max_edge:
            return f"the longest edge must be at most {self.max_edge} (it is {long_edge})"
        if max_edge_below is not None and long_edge >= max_edge_below:
            return f"the longest edge must be less than {max_edge_below} on this provider (it is {long_edge})"
        ratio = long_edge / min(width, height)
        if ratio > self.max_aspect:
            return (f"the aspect ratio must be between 1:{self.max_aspect:g} and {self.max_aspect:g}:1 "
                    f"(it is {ratio:.2f}:1)")
        if not self.min_pixels <= width * height <= self.max_pixels:
            return f"the pixel count must be between {self.min_pixels:,} and {self.max_pixels:,} (it is {width * height:,})"
        return None

    def describe(self) -> str:
        return (
            f"WIDTHxHEIGHT with edges multiples of {self.multiple}, longest edge <= {self.max_edge}, "
            f"aspect between 1:{self.max_aspect:g} and {self.max_aspect:g}:1, "
            f"{self.min_pixels:,}..{self.max_pixels:,} pixels, or auto"
        )


class Markup(_Strict):
    """``[models.X.markup]``: the model takes ``markup`` on edits (a transparent PNG overlaid on the first image)."""

    source: str
    checked: date
    status: Status = "documented"
    note: str = ""


class ModelSpec(_Strict):
    """What one model accepts (OpenAI rules; a provider table may narrow formats)."""

    id: str
    label: str
    aliases: tuple[str, ...] = ()
    sizes: tuple[str, ...] | None = None
    size_rule: SizeRule | None = None
    common_sizes: tuple[str, ...]
    qualities: tuple[str, ...]
    output_formats: tuple[str, ...]
    transparency: bool
    #: "preview": accepted, with a warning that the vendor calls the support a preview.
    transparency_stage: Literal["ga", "preview"] = "ga"
    compression: bool
    #: ``complexity`` values accepted ([] = the parameter must be omitted).
    complexity: tuple[str, ...] = ()
    #: Output formats behind an access gate: validation lets them through with a warning, the service
    #: (and the simulator, unless granted) may refuse them.
    gated_formats: tuple[str, ...] = ()
    moderation: tuple[str, ...]
    n_max: int
    streaming: bool
    partial_images_max: int
    edits: bool
    input_fidelity: tuple[str, ...]
    #: Present when edits take ``markup`` (absent: the parameter must be omitted).
    markup: Markup | None = None
    tokens: str
    #: Sources that contradict what this entry accepts (kept visible, never silently resolved).
    conflict: str = ""
    #: The request fields that ``conflict`` is about: refusing one of them says that sources disagree.
    disputed: tuple[str, ...] = ()
    source: str
    checked: date
    note: str = ""
    providers: dict[str, ProviderSpec]

    @model_validator(mode="after")
    def _sizes_xor_rule(self) -> ModelSpec:
        if (self.sizes is None) == (self.size_rule is None):
            raise ValueError("give exactly one of `sizes` (a fixed list) or `[size_rule]`")
        if self.disputed and not self.conflict:
            raise ValueError("`disputed` names fields of a `conflict`: add the conflict (its sources) or remove it")
        for p in self.providers:
            if p not in PROVIDERS:
                raise ValueError(f"unknown provider {p!r}; use one of {', '.join(PROVIDERS)}")
        return self

    def provider(self, name: str) -> ProviderSpec | None:
        """The lifecycle entry for a runtime provider name (simulator follows openai)."""
        return self.providers.get(PROVIDER_FLAVOUR.get(name, name))

    def formats_for(self, provider: str) -> tuple[str, ...]:
        spec = self.provider(provider)
        if spec is not None and spec.output_formats is not None:
            return spec.output_formats
        return self.output_formats

    def size_values(self) -> tuple[str, ...]:
        """Sizes to offer in a picker: the fixed list or the common sizes (never the allowed set)."""
        return self.sizes if self.sizes is not None else self.common_sizes

    @property
    def custom_sizes(self) -> bool:
        """True when any WIDTHxHEIGHT within the size rule is accepted."""
        return self.size_rule is not None


def allows_custom_sizes(model: ModelSpec) -> bool:
    """True when ``model`` takes any WIDTHxHEIGHT within its size rule (gpt-image-2, 2.5)."""
    return model.size_rule is not None


def size_problem(model: ModelSpec, size: object, provider: str = "openai") -> str | None:
    """Why ``size`` is refused for ``model`` on ``provider`` (the rule that failed), or None when valid.

    The one size rule for validation, the Generate axes and spec loading: fixed-size models accept
    their list, rule models any WIDTHxHEIGHT passing the rule (``common_sizes`` only order pickers).
    """
    if size == "auto":
        return None
    if not isinstance(size, str):
        return f"{size!r} is not a WIDTHxHEIGHT text"
    if model.sizes is not None:
        if size in model.sizes:
            return None
        return (f"{model.id} takes only the fixed sizes {', '.join(model.sizes)} or auto "
                "(arbitrary sizes are documented only for gpt-image-2 and gpt-image-2.5)")
    rule = model.size_rule
    assert rule is not None
    w, sep, h = size.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) <= 0 or int(h) <= 0:
        return f"{size!r} is not WIDTHxHEIGHT (write it like 2048x1152)"
    spec = model.provider(provider)
    return rule.problem(int(w), int(h), spec.max_edge_below if spec is not None else None)


def status_label(status: str, by: str = "", on: date | None = None) -> str:
    """``measured (third party, 2026-09-16)``: a status with who observed it and when, where known."""
    extra = ", ".join(x for x in (by, on.isoformat() if on else "") if x)
    return f"{status} ({extra})" if extra else status


class InputImageRule(_Strict):
    """Input (edit) image tokens of one token model.

    ``tiles_512``: the published gpt-image-1 method (shortest side scaled to 512, ``65 + 129 x tiles``,
    plus a fixed high-fidelity surcharge by shape). ``per_pixels``: ``ceil(W x H / pixels_per_token)``,
    scaled from a single measured point (an assumption away from that point).
    """

    method: Literal["tiles_512", "per_pixels"]
    status: Status
    high_surcharge: tuple[int, int] = (4160, 6240)
    pixels_per_token: int | None = None
    #: Inputs are always processed at high fidelity (gpt-image-2 family); the surcharge is NOT added
    #: on top of the per-pixel figure, which already is the high-fidelity measurement.
    always_high: bool = False
    measured_by: str = ""
    measured_on: date | None = None
    source: str
    checked: date
    note: str = ""

    @model_validator(mode="after")
    def _params(self) -> InputImageRule:
        if self.method == "per_pixels" and not self.pixels_per_token:
            raise ValueError("method per_pixels needs `pixels_per_token`")
        return self

    @property
    def label(self) -> str:
        return status_label(self.status, self.measured_by, self.measured_on)


class TokenModel(_Strict):
    """How output tokens follow from quality, size (and complexity), with the status of each figure.

    ``[table]`` cells carry ``status`` (with ``measured_by``/``measured_on`` when measured); formula
    figures carry ``quality_status[quality]`` or else ``formula_status``. A quality listed in
    ``quality_factor_range`` (area_v2) or ``multiplier_range`` (relative) has no published figure:
    its point value is an estimate and budgets reserve the top of the range.
    """

    method: Literal["patch_grid", "area_v2", "relative"]
    status: Status
    formula_status: Status
    quality_status: dict[str, Status] = {}
    patch: dict[str, int] | None = None
    quality_factor: dict[str, int] | None = None
    quality_factor_range: dict[str, tuple[int, int]] = {}
    #: relative: tokens = ceil(tokens of ``base`` x multiplier[quality]) (x complexity multiplier).
    base: str | None = None
    multiplier: dict[str, Decimal] = {}
    multiplier_range: dict[str, tuple[Decimal, Decimal]] = {}
    #: complexity -> token multiplier (models with a complexity parameter); absent = 1.
    complexity_multiplier: dict[str, Decimal] = {}
    complexity_status: Status = "assumed"
    complexity_source: str = ""
    partial_image_tokens: int
    #: Whether "each partial image costs +100" is per request or per image with n > 1; the guide is
    #: ambiguous, so budgets reserve the larger reading (n x partial_images x 100).
    partial_images_reading: Literal["ambiguous", "per_request", "per_image"] = "ambiguous"
    table: dict[str, dict[str, int]] = {}
    measured_by: str = ""
    measured_on: date | None = None
    measured_source: str = ""
    input_image: InputImageRule | None = None
    source: str
    checked: date
    note: str = ""
    #: The resolved ``base`` token model (set by the loader, not read from TOML).
    base_model: TokenModel | None = None

    @model_validator(mode="after")
    def _params(self) -> TokenModel:
        if self.method == "patch_grid" and not self.patch:
            raise ValueError("method patch_grid needs `patch = {quality = size}`")
        if self.method == "area_v2" and not self.quality_factor:
            raise ValueError("method area_v2 needs `quality_factor = {quality = factor}`")
        if self.method == "relative" and (not self.base or not self.multiplier):
            raise ValueError("method relative needs `base = \"token model\"` and `multiplier = {quality = x}`")
        for q, (lo, hi) in {**self.quality_factor_range, **self.multiplier_range}.items():
            if lo > hi:
                raise ValueError(f"range for {q!r} is [{lo}, {hi}]: the lower bound must come first")
        if self.status == "measured" and not self.measured_by:
            raise ValueError("a measured table needs `measured_by` (who measured it) and `measured_on`")
        return self

    def qualities(self) -> tuple[str, ...]:
        if self.method == "relative":
            return tuple(self.multiplier)
        return tuple((self.patch or self.quality_factor or {}).keys())

    def status_of(self, quality: str, size: str | None = None) -> str:
        """The status of the figure for ``quality`` (at ``size``): table cell or formula."""
        if size is not None and self.table.get(quality, {}).get(size) is not None:
            return self.status
        return self.quality_status.get(quality, self.formula_status)

    def label_of(self, quality: str, size: str | None = None) -> str:
        """``status_of`` with who measured it and when, e.g. ``measured (third party, 2026-09-16)``."""
        status = self.status_of(quality, size)
        if status == "measured" and size is not None and self.table.get(quality, {}).get(size) is not None:
            return status_label(status, self.measured_by, self.measured_on)
        return status

    def is_range(self, quality: str) -> bool:
        """True when ``quality`` has no published figure and its estimate is a range."""
        base_range = self.base_model.is_range(quality) if self.base_model is not None else False
        return quality in self.quality_factor_range or quality in self.multiplier_range or base_range


class PriceEntry(_Strict):
    """USD per 1M tokens per token type, from ``effective_from`` on."""

    model: str
    provider: str
    effective_from: date
    text_input: Decimal
    cached_text_input: Decimal
    image_input: Decimal
    cached_image_input: Decimal
    image_output: Decimal
    text_output: Decimal | None = None
    status: Status = "documented"
    source: str
    checked: date
    note: str = ""
    override: bool = False

    @field_validator("text_input", "cached_text_input", "image_input", "cached_image_input", "image_output")
    @classmethod
    def _non_negative(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("a price cannot be negative")
        return v

    @property
    def key(self) -> str:
        """The id stored with every cost: ``provider/model@effective_from`` (+override)."""
        suffix = "+override" if self.override else ""
        return f"{self.provider}/{self.model}@{self.effective_from.isoformat()}{suffix}"


class ListPrice(_Strict):
    """Published per-image list prices (USD, output only)."""

    model: str
    provider: str
    effective_from: date
    status: Status = "documented"
    source: str
    checked: date
    note: str = ""
    low: dict[str, Decimal] = {}
    medium: dict[str, Decimal] = {}
    high: dict[str, Decimal] = {}

    def get(self, quality: str, size: str) -> Decimal | None:
        return getattr(self, quality, {}).get(size) if quality in STANDARD_QUALITIES else None


@dataclass(frozen=True)
class Catalog:
    """Everything the estimates and validation need, loaded from data files."""

    models: dict[str, ModelSpec]
    tokens: dict[str, TokenModel]
    prices: tuple[PriceEntry, ...]
    list_prices: tuple[ListPrice, ...]
    aliases: dict[str, str]
    #: Catalog ids per provider in the order defaults are picked (models.toml ``[preference]``).
    preference: dict[str, tuple[str, ...]]
    #: A shutdown this many days ahead marks a model "retiring" (models.toml ``[lifecycle] soon_days``).
    soon_days: int
    #: Local token overrides (our own measurements, ``imagegen.core.token_overrides``); they win over the tables.
    token_overrides: tuple[TokenOverride, ...] = ()

    def model(self, model_id: str) -> ModelSpec:
        """Look up a model by id or dated alias; raise CatalogError naming the known ids."""
        key = self.aliases.get(model_id, model_id)
        try:
            return self.models[key]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise CatalogError(
                f"model {model_id!r} is not in the catalog. Known models: {known}. "
                "Fix: pick one of these, or add it to imagegen/core/data/models.toml."
            ) from None

    def markup_models(self) -> tuple[str, ...]:
        """Catalog ids whose edits take ``markup`` (``[models.X.markup]`` in models.toml), sorted."""
        return tuple(sorted(m.id for m in self.models.values() if m.markup is not None))

    def has_model(self, model_id: str) -> bool:
        return self.aliases.get(model_id, model_id) in self.models

    def token_model(self, model: ModelSpec) -> TokenModel:
        return self.tokens[model.tokens]

    def price_in_force(self, model_id: str, provider: str, on: date, *, overrides: bool = True) -> PriceEntry | None:
        """The price entry in force on ``on`` (None when there is none): the one place this is decided.

        The latest ``effective_from`` on or before ``on`` wins; a local override wins over the catalog's
        own entries (``overrides=False`` ignores overrides, e.g. to prefill the override form).
        """
        flavour = PROVIDER_FLAVOUR.get(provider, provider)
        mid = self.aliases.get(model_id, model_id)
        candidates = [
            p for p in self.prices if p.model == mid and p.provider == flavour and p.effective_from <= on
            and (overrides or not p.override)
        ]
        return max(candidates, key=lambda p: (p.override, p.effective_from)) if candidates else None

    def price_for(self, model_id: str, provider: str, on: date) -> PriceEntry:
        """The price entry in force on ``on`` (overrides win); raise CatalogError naming the fix when none is."""
        found = self.price_in_force(model_id, provider, on)
        if found is None:
            flavour = PROVIDER_FLAVOUR.get(provider, provider)
            mid = self.aliases.get(model_id, model_id)
            raise CatalogError(
                f"no price for model {mid!r} on provider {flavour!r} in force on {on.isoformat()}. "
                "Fix: add a [[price]] entry to imagegen/core/data/prices.toml or a local price override."
            )
        return found

    def list_price(self, model_id: str, provider: str, quality: str, size: str,
                   on: date | None = None) -> Decimal | None:
        """The published per-image list price in force on ``on`` (latest ``effective_from`` on or before it),
        as :meth:`price_in_force` decides for token prices; ``on=None``: the newest entry. None when none is."""
        flavour = PROVIDER_FLAVOUR.get(provider, provider)
        mid = self.aliases.get(model_id, model_id)
        entries = [lp for lp in self.list_prices if lp.model == mid and lp.provider == flavour
                   and (on is None or lp.effective_from <= on)]
        if not entries:
            return None
        return max(entries, key=lambda lp: lp.effective_from).get(quality, size)

    def oldest_check(self) -> date:
        """The oldest `checked` date over models, token tables, prices and list prices (catalog freshness)."""
        dates = [m.checked for m in self.models.values()]
        dates += [t.checked for t in self.tokens.values()]
        dates += [p.checked for p in self.prices if not p.override]
        dates += [lp.checked for lp in self.list_prices]
        return min(dates)

    def with_overrides(self, overrides: list[PriceEntry]) -> Catalog:
        """A copy whose price list also holds ``overrides`` (they win over catalog entries)."""
        return Catalog(self.models, self.tokens, self.prices + tuple(overrides), self.list_prices, self.aliases,
                       self.preference, self.soon_days, self.token_overrides)

    def with_token_overrides(self, overrides) -> Catalog:
        """A copy whose output tokens for the overridden model x quality x size are our measurements."""
        return Catalog(self.models, self.tokens, self.prices, self.list_prices, self.aliases, self.preference,
                       self.soon_days, tuple(overrides))

    def measured_tokens(self, model_id: str, quality: str, size: str) -> TokenOverride | None:
        """The local token override (ours, measured) for one model x quality x size, if one is adopted."""
        mid = self.aliases.get(model_id, model_id)
        for entry in self.token_overrides:
            if (entry.model, entry.quality, entry.size) == (mid, quality, size):
                return entry
        return None


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found. Fix: restore it from git or set IMAGEGEN_DATA.") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax at that line.") from None


def _explain(path: Path, prefix: str, exc: ValidationError) -> CatalogError:
    """The shared formatter's message (``file: key.path = value …. Fix: ….``) for a catalog table.

    ``prefix`` is ``"models.<id>"``, ``"tokens.<key>"`` or ``"price[<i>]"``; ids may hold dots, so only the
    first one separates.
    """
    m = re.fullmatch(r"(\w+)\[(\d+)\]", prefix)
    parts: tuple = (m.group(1), int(m.group(2))) if m else tuple(prefix.split(".", 1))
    model = globals().get(exc.title)
    model = model if isinstance(model, type) and issubclass(model, BaseModel) else None
    return CatalogError(explain(exc, path.name, model=model, prefix=parts))


def load_catalog(data_dir: Path | str | None = None) -> Catalog:
    """Load and validate ``models.toml``, ``tokens.toml`` and ``prices.toml``.

    Raises CatalogError naming the file, key path and fix for any mistake.
    """
    data_dir = Path(data_dir or os.environ.get("IMAGEGEN_DATA") or DATA_DIR)
    models_path, tokens_path, prices_path = (data_dir / n for n in ("models.toml", "tokens.toml", "prices.toml"))

    raw_tokens = _read_toml(tokens_path).get("tokens", {})
    tokens: dict[str, TokenModel] = {}
    for key, body in raw_tokens.items():
        try:
            tokens[key] = TokenModel(**body)
        except ValidationError as exc:
            raise _explain(tokens_path, f"tokens.{key}", exc) from None
    for key, tm in list(tokens.items()):
        if tm.method == "relative":
            base = tokens.get(tm.base or "")
            if base is None or base.method == "relative":
                raise CatalogError(
                    f"{tokens_path.name}: tokens.{key}.base = {tm.base!r} is not a table/formula token model "
                    f"(known: {', '.join(sorted(k for k, t in tokens.items() if t.method != 'relative'))}). "
                    "Fix: name one of those.")
            missing = set(tm.multiplier) - set(base.qualities())
            if missing:
                raise CatalogError(f"{tokens_path.name}: tokens.{key}.multiplier has {sorted(missing)}, which "
                                   f"tokens.{tm.base} has no figure for. Fix: remove them or add them to the base.")
            tokens[key] = tm.model_copy(update={"base_model": base})

    raw_file = _read_toml(models_path)
    raw_models = raw_file.get("models")
    if not raw_models:
        raise CatalogError(f"{models_path.name}: no [models.*] tables. Fix: restore the file from git.")
    models: dict[str, ModelSpec] = {}
    aliases: dict[str, str] = {}
    for mid, body in raw_models.items():
        try:
            spec = ModelSpec(id=mid, **body)
        except ValidationError as exc:
            raise _explain(models_path, f"models.{mid}", exc) from None
        if spec.tokens not in tokens:
            raise CatalogError(
                f"{models_path.name}: models.{mid}.tokens = {spec.tokens!r} is not in tokens.toml "
                f"(known: {', '.join(sorted(tokens))}). Fix: use one of those keys or add the table."
            )
        missing = set(spec.qualities) - set(tokens[spec.tokens].qualities())
        if missing:
            raise CatalogError(
                f"{models_path.name}: models.{mid}.qualities has {sorted(missing)} but tokens.{spec.tokens} "
                "has no figure for them. Fix: add them to the token table or remove them from the model."
            )
        models[mid] = spec
        for alias in spec.aliases:
            aliases[alias] = mid

    raw_prices = _read_toml(prices_path)
    prices = []
    for i, body in enumerate(raw_prices.get("price", [])):
        try:
            prices.append(PriceEntry(**body))
        except ValidationError as exc:
            raise _explain(prices_path, f"price[{i}]", exc) from None
    list_prices = []
    for i, body in enumerate(raw_prices.get("list_price", [])):
        try:
            list_prices.append(ListPrice(**body))
        except ValidationError as exc:
            raise _explain(prices_path, f"list_price[{i}]", exc) from None
    for p in prices:
        if p.model not in models:
            raise CatalogError(
                f"{prices_path.name}: a [[price]] names model {p.model!r}, which is not in models.toml. "
                "Fix: correct the model id."
            )
    preference, soon_days = _defaults(models_path, raw_file, models, aliases)
    return Catalog(models, tokens, tuple(prices), tuple(list_prices), aliases, preference, soon_days)


def _defaults(path: Path, raw: dict, models: dict[str, ModelSpec],
              aliases: dict[str, str]) -> tuple[dict[str, tuple[str, ...]], int]:
    """``[preference]`` (provider -> ordered model ids) and ``[lifecycle] soon_days``, validated."""
    extra = sorted(set(raw) - {"models", "preference", "lifecycle"})
    if extra:
        raise CatalogError(f"{path.name}: unknown top-level table(s) {extra}. "
                           "Fix: use [models.*], [preference] and [lifecycle] only.")
    life = raw.get("lifecycle", {})
    soon = life.get("soon_days") if isinstance(life, dict) else None
    if not isinstance(soon, int) or isinstance(soon, bool) or not 0 <= soon <= 3650:
        raise CatalogError(f"{path.name}: lifecycle.soon_days = {soon!r} is not allowed: a whole number of days "
                           "0..3650. Fix: set [lifecycle] soon_days, e.g. 180.")
    unknown = sorted(set(life) - {"soon_days"})
    if unknown:
        raise CatalogError(f"{path.name}: lifecycle has unknown key(s) {unknown}. Fix: keep only soon_days.")
    pref_raw = raw.get("preference", {})
    if not isinstance(pref_raw, dict):
        raise CatalogError(f"{path.name}: preference must be a table. Fix: write [preference] openai = [\"...\"].")
    preference: dict[str, tuple[str, ...]] = {}
    for provider, names in pref_raw.items():
        if provider not in PROVIDERS:
            raise CatalogError(f"{path.name}: preference.{provider} names an unknown provider. "
                               f"Fix: use one of {', '.join(PROVIDERS)}.")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise CatalogError(f"{path.name}: preference.{provider} = {names!r} is not a list of model ids. "
                               "Fix: write e.g. openai = [\"gpt-image-2\"].")
        ids = []
        for n in names:
            mid = aliases.get(n, n)
            if mid not in models:
                raise CatalogError(f"{path.name}: preference.{provider} names {n!r}, which is not in [models]. "
                                   f"Fix: use one of {', '.join(models)}.")
            if mid in ids:
                raise CatalogError(f"{path.name}: preference.{provider} lists {mid!r} twice. Fix: keep one.")
            ids.append(mid)
        preference[provider] = tuple(ids)
    return preference, soon


@functools.lru_cache(maxsize=4)
def _cached(data_dir: str) -> Catalog:
    return load_catalog(data_dir)


def default_catalog() -> Catalog:
    """The packaged catalog, loaded once per process."""
    return _cached(str(Path(os.environ.get("IMAGEGEN_DATA") or DATA_DIR)))
