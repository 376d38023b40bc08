"""The simulator's own behaviour profile (``profile.toml``), kept apart from the estimator's catalog.

The simulator answers from this profile: the usage it bills per model x quality x size x
complexity (with a content-dependent spread, deterministic per prompt), the parameters it
accepts, and its latency per model. Where facts are documented or measured the profile states
the same figures as the catalog; where the catalog is uncertain it may differ, so a wrong catalog
entry shows up as a deviation in the Analytics charts instead of +0.0% by construction.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from imagegen.core.catalog import Catalog, ModelSpec, TokenModel
from imagegen.core.tokens import edit_input_tokens, partial_tokens, token_figure
from imagegen.errors import CatalogError

PROFILE_PATH = Path(__file__).with_name("profile.toml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Latency(_Strict):
    """Latency model of one model: ``overhead_s + output_tokens / tokens_per_s`` (x complexity factor)."""

    tokens_per_s: float
    overhead_s: float
    complexity_factor: dict[str, float] = {}
    source: str
    checked: date


class Accept(_Strict):
    """Acceptance rules the simulator applies itself for one model (they replace the catalog's)."""

    transparency: bool | None = None
    transparency_stage: Literal["ga", "preview"] | None = None
    complexity: tuple[str, ...] | None = None
    gated_formats: tuple[str, ...] | None = None
    qualities: tuple[str, ...] | None = None
    source: str


class TextOutput(_Strict):
    tokens: dict[str, int] = {}
    source: str
    checked: date


@dataclass(frozen=True)
class Usage:
    """One usage rule: a token model plus the spread that content adds to it."""

    token_model: TokenModel
    spread: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """The whole profile: usage per model, acceptance rules, latency, text output."""

    usage: dict[str, Usage]
    accept: dict[str, Accept]
    latency: dict[str, Latency]
    text_output: dict[str, int]
    path: str

    def usage_for(self, model_id: str) -> Usage:
        try:
            return self.usage[model_id]
        except KeyError:
            raise CatalogError(f"{self.path}: no [usage] rule lists model {model_id!r}. "
                               "Fix: add it to the models list of a [usage.*] table.") from None

    def latency_for(self, model_id: str) -> Latency:
        return self.latency.get(model_id) or self.latency["default"]

    def accepting_catalog(self, catalog: Catalog) -> Catalog:
        """``catalog`` with each model's acceptance fields replaced by this profile's rules."""
        models: dict[str, ModelSpec] = {}
        for mid, spec in catalog.models.items():
            rule = self.accept.get(mid)
            if rule is None:
                models[mid] = spec
                continue
            update = {k: v for k, v in rule.model_dump(exclude={"source"}).items() if v is not None}
            models[mid] = spec.model_copy(update=update)
        return dataclasses.replace(catalog, models=models)  # every other catalog field as it is


def spread_factor(prompt: str, spread: float) -> float:
    """A factor in ``[1 - spread, 1 + spread]``, the same for the same prompt (a hash, no randomness)."""
    if not spread:
        return 1.0
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    return 1.0 + spread * (2 * u - 1)


def image_tokens(profile: Profile, model_id: str, quality: str, size: str, prompt: str,
                 complexity: str | None = None) -> int:
    """Output image tokens of one image as the simulator bills them (spread applied per prompt).

    A published or measured cell is billed exactly; the spread is for figures nobody has published.
    """
    rule = profile.usage_for(model_id)
    fig = token_figure(rule.token_model, quality, size, complexity)
    spread = 0.0 if fig.status in ("documented", "measured") else rule.spread.get(quality, 0.0)
    return max(1, math.ceil(fig.tokens * spread_factor(f"{prompt}\x00{quality}", spread)))


def output_usage(profile: Profile, model_id: str, quality: str, size: str, prompt: str, n: int = 1,
                 partial_images: int = 0, complexity: str | None = None) -> tuple[int, int]:
    """(image output tokens, text output tokens) of a request: n images, partials per the profile."""
    tm = profile.usage_for(model_id).token_model
    per_image = image_tokens(profile, model_id, quality, size, prompt, complexity)
    partial = partial_tokens(tm, n, partial_images)[1]
    return per_image * n + partial, profile.text_output.get(model_id, 0)


def input_image_tokens(profile: Profile, model_id: str, images: tuple[tuple[int, int], ...],
                       fidelity: str | None) -> int:
    """Input image tokens of an edit: the first image at ``fidelity``, the others at low."""
    rule = profile.usage_for(model_id).token_model.input_image
    return sum(edit_input_tokens(rule, w, h, (fidelity or "low") if i == 0 else "low")
               for i, (w, h) in enumerate(images))


def modelled_latency_s(profile: Profile, model_id: str, output_tokens: int, complexity: str | None = None,
                       tokens_per_s: float | None = None, overhead_s: float | None = None) -> float:
    """Latency the profile models for a request at time scale 1 (before jitter); overrides win."""
    lat = profile.latency_for(model_id)
    rate = tokens_per_s or lat.tokens_per_s
    overhead = lat.overhead_s if overhead_s is None else overhead_s
    factor = lat.complexity_factor.get(complexity, 1.0) if complexity else 1.0
    return (overhead + output_tokens / rate) * factor


def _explain(path: Path, where: str, exc: ValidationError) -> CatalogError:
    parts = [f"{path.name}: {'.'.join(str(p) for p in (where, *e['loc']))}: {e['msg']}" for e in exc.errors()]
    return CatalogError(" ".join(parts) + ". Fix: correct the value against the field reference at the top "
                        "of the file.")


def load_profile(path: Path | str | None = None) -> Profile:
    """Load and validate ``profile.toml``; CatalogError names the file, key and fix."""
    path = Path(path or PROFILE_PATH)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found. Fix: restore it from git.") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML ({exc}). Fix: correct the syntax at that line.") from None

    tokens: dict[str, TokenModel] = {}
    spreads: dict[str, dict[str, float]] = {}
    members: dict[str, list[str]] = {}
    for key, body in raw.get("usage", {}).items():
        body = dict(body)
        members[key] = list(body.pop("models", []))
        spreads[key] = {q: float(v) for q, v in body.pop("spread", {}).items()}
        try:
            tokens[key] = TokenModel(**body)
        except ValidationError as exc:
            raise _explain(path, f"usage.{key}", exc) from None
    for key, tm in list(tokens.items()):
        if tm.method == "relative":
            if tm.base not in tokens:
                raise CatalogError(f"{path.name}: usage.{key}.base = {tm.base!r} is not a [usage] table. "
                                   "Fix: name one of " + ", ".join(sorted(tokens)) + ".")
            tokens[key] = tm.model_copy(update={"base_model": tokens[tm.base or ""]})
    usage: dict[str, Usage] = {}
    for key, models in members.items():
        for mid in models:
            if mid in usage:
                raise CatalogError(f"{path.name}: model {mid!r} is listed in two [usage] tables. Fix: keep one.")
            usage[mid] = Usage(tokens[key], spreads[key])
    try:
        accept = {mid: Accept(**body) for mid, body in raw.get("accept", {}).items()}
        latency = {mid: Latency(**{k: (float(v) if isinstance(v, Decimal) else v) for k, v in body.items()})
                   for mid, body in raw.get("latency", {}).items()}
        text = TextOutput(**raw["text_output"]) if "text_output" in raw else None
    except ValidationError as exc:
        raise _explain(path, "profile", exc) from None
    if "default" not in latency:
        raise CatalogError(f"{path.name}: [latency.default] is missing. Fix: add tokens_per_s and overhead_s.")
    return Profile(usage, accept, latency, dict(text.tokens) if text else {}, str(path))


@functools.lru_cache(maxsize=4)
def _cached(path: str) -> Profile:
    return load_profile(path)


def default_profile() -> Profile:
    """The packaged profile, loaded once per process."""
    return _cached(str(PROFILE_PATH))
