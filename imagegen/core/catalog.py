"""The model catalog: models, token tables and prices, loaded from validated TOML data.

Nothing here is a constant in code: ``imagegen/core/data/*.toml`` holds every figure with its source
and checked date. Loading validates the files and reports mistakes with the file, the key path
and a fix. Money is ``Decimal`` (TOML floats are parsed as ``Decimal``, never ``float``).
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from imagegen.errors import CatalogError

DATA_DIR = Path(__file__).with_name("data")
PROVIDERS = ("openai", "azure")
#: Which catalog provider's rules and prices each runtime provider follows.
PROVIDER_FLAVOUR = {"openai": "openai", "azure": "azure", "simulator": "openai", "compatible": "openai"}
STANDARD_QUALITIES = ("low", "medium", "high")
Status = Literal["documented", "derived", "assumed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderSpec(_Strict):
    """Lifecycle and overrides of one model on one provider."""

    available: bool = True
    released: date | None = None
    deprecated: date | None = None
    shutdown: date | None = None
    successor: str | None = None
    default_quality: str | None = None
    output_formats: tuple[str, ...] | None = None
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

    def problem(self, width: int, height: int) -> str | None:
        """Return why ``width x height`` breaks the rule, or None."""
        if width % self.multiple or height % self.multiple:
            return f"both edges must be multiples of {self.multiple}"
        if max(width, height) > self.max_edge:
            return f"the longest edge must be at most {self.max_edge}"
        if max(width, height) / min(width, height) > self.max_aspect:
            return f"the aspect ratio must be between 1:{self.max_aspect:g} and {self.max_aspect:g}:1"
        if not self.min_pixels <= width * height <= self.max_pixels:
            return f"the pixel count must be between {self.min_pixels:,} and {self.max_pixels:,}"
        return None

    def describe(self) -> str:
        return (
            f"WIDTHxHEIGHT with edges multiples of {self.multiple}, longest edge <= {self.max_edge}, "
            f"aspect between 1:{self.max_aspect:g} and {self.max_aspect:g}:1, "
            f"{self.min_pixels:,}..{self.max_pixels:,} pixels, or auto"
        )


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
    compression: bool
    moderation: tuple[str, ...]
    n_max: int
    streaming: bool
    partial_images_max: int
    edits: bool
    input_fidelity: tuple[str, ...]
    tokens: str
    source: str
    checked: date
    note: str = ""
    providers: dict[str, ProviderSpec]

    @model_validator(mode="after")
    def _sizes_xor_rule(self) -> ModelSpec:
        if (self.sizes is None) == (self.size_rule is None):
            raise ValueError("give exactly one of `sizes` (a fixed list) or `[size_rule]`")
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
        """Sizes to offer in a picker: the fixed list or the common sizes."""
        return self.sizes if self.sizes is not None else self.common_sizes


class TokenModel(_Strict):
    """How output tokens follow from quality and size."""

    method: Literal["patch_grid", "area_v2"]
    status: Status
    formula_status: Status
    patch: dict[str, int] | None = None
    quality_factor: dict[str, int] | None = None
    partial_image_tokens: int
    table: dict[str, dict[str, int]] = {}
    source: str
    checked: date
    note: str = ""

    @model_validator(mode="after")
    def _params(self) -> TokenModel:
        if self.method == "patch_grid" and not self.patch:
            raise ValueError("method patch_grid needs `patch = {quality = size}`")
        if self.method == "area_v2" and not self.quality_factor:
            raise ValueError("method area_v2 needs `quality_factor = {quality = factor}`")
        return self

    def qualities(self) -> tuple[str, ...]:
        return tuple((self.patch or self.quality_factor or {}).keys())


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

    def has_model(self, model_id: str) -> bool:
        return self.aliases.get(model_id, model_id) in self.models

    def token_model(self, model: ModelSpec) -> TokenModel:
        return self.tokens[model.tokens]

    def price_for(self, model_id: str, provider: str, on: date | None = None) -> PriceEntry:
        """The price entry in force on ``on`` (today by default); overrides win."""
        on = on or date.today()
        flavour = PROVIDER_FLAVOUR.get(provider, provider)
        mid = self.aliases.get(model_id, model_id)
        candidates = [
            p for p in self.prices if p.model == mid and p.provider == flavour and p.effective_from <= on
        ]
        if not candidates:
            raise CatalogError(
                f"no price for model {mid!r} on provider {flavour!r} in force on {on.isoformat()}. "
                "Fix: add a [[price]] entry to imagegen/core/data/prices.toml or a local price override."
            )
        return max(candidates, key=lambda p: (p.override, p.effective_from))

    def list_price(self, model_id: str, provider: str, quality: str, size: str) -> Decimal | None:
        flavour = PROVIDER_FLAVOUR.get(provider, provider)
        mid = self.aliases.get(model_id, model_id)
        entries = [lp for lp in self.list_prices if lp.model == mid and lp.provider == flavour]
        if not entries:
            return None
        return max(entries, key=lambda lp: lp.effective_from).get(quality, size)

    def oldest_check(self) -> date:
        """The oldest `checked` date over models, token tables and prices (catalog freshness)."""
        dates = [m.checked for m in self.models.values()]
        dates += [t.checked for t in self.tokens.values()]
        dates += [p.checked for p in self.prices if not p.override]
        return min(dates)

    def with_overrides(self, overrides: list[PriceEntry]) -> Catalog:
        """A copy whose price list also holds ``overrides`` (they win over catalog entries)."""
        return Catalog(self.models, self.tokens, self.prices + tuple(overrides), self.list_prices, self.aliases)


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found. Fix: restore it from git or set IMAGEGEN_DATA.") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax at that line.") from None


def _explain(path: Path, prefix: str, exc: ValidationError) -> CatalogError:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            fix = "remove the key or check its spelling against the field reference at the top of the file"
        elif err["type"] == "missing":
            fix = "add the key"
        else:
            fix = "correct the value"
        lines.append(f"{path.name}: {loc}: {msg}. Fix: {fix}.")
    return CatalogError(" ".join(lines))


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

    raw_models = _read_toml(models_path).get("models")
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
    return Catalog(models, tokens, tuple(prices), tuple(list_prices), aliases)


@functools.lru_cache(maxsize=4)
def _cached(data_dir: str) -> Catalog:
    return load_catalog(data_dir)


def default_catalog() -> Catalog:
    """The packaged catalog, loaded once per process."""
    return _cached(str(Path(os.environ.get("IMAGEGEN_DATA") or DATA_DIR)))
