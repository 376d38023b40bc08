"""Cost estimates before a request and billed cost from a response's ``usage``.

Money is ``Decimal``. Every cost names the price entry it used (``PriceEntry.key``) so a stored
figure can be traced to its source and date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from imagegen.core.catalog import STANDARD_QUALITIES, Catalog, PriceEntry, weakest
from imagegen.core.request import ImageRequest, warnings
from imagegen.core.tokens import (
    TokenFigure,
    count_text_tokens,
    edit_input_tokens,
    partial_tokens,
    request_output_tokens,
    token_figure,
)

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Cost:
    """A cost split by token type, with the price entry it came from."""

    text_input: Decimal
    image_input: Decimal
    image_output: Decimal
    text_output: Decimal
    price_key: str

    @property
    def total(self) -> Decimal:
        return self.text_input + self.image_input + self.image_output + self.text_output


@dataclass(frozen=True)
class Usage:
    """Token counts as billed (from the API's ``usage``) or as estimated."""

    input_text_tokens: int = 0
    input_image_tokens: int = 0
    output_tokens: int = 0
    output_text_tokens: int = 0

    @property
    def output_image_tokens(self) -> int:
        return self.output_tokens - self.output_text_tokens

    @classmethod
    def from_api(cls, usage: dict | None) -> Usage | None:
        """Read an Images API ``usage`` dict; ``output_tokens_details`` is optional (absent = all image)."""
        if not usage:
            return None
        details = usage.get("input_tokens_details") or {}
        out_details = usage.get("output_tokens_details") or {}
        text = details.get("text_tokens")
        image = details.get("image_tokens") or 0
        if text is None:
            text = (usage.get("input_tokens") or 0) - image
        return cls(
            input_text_tokens=int(text),
            input_image_tokens=int(image),
            output_tokens=int(usage.get("output_tokens") or 0),
            output_text_tokens=int(out_details.get("text_tokens") or 0),
        )


def cost_of(usage: Usage, price: PriceEntry) -> Cost:
    """Tokens x rate per token type (text output only where the model bills it)."""
    text_out_rate = price.text_output if price.text_output is not None else price.image_output
    return Cost(
        text_input=usage.input_text_tokens * price.text_input / MILLION,
        image_input=usage.input_image_tokens * price.image_input / MILLION,
        image_output=usage.output_image_tokens * price.image_output / MILLION,
        text_output=usage.output_text_tokens * text_out_rate / MILLION,
        price_key=price.key,
    )


@dataclass(frozen=True)
class Estimate:
    """The min-max estimate of one request; budgets use the maximum."""

    request: ImageRequest
    input_text_tokens: int
    input_image_tokens: int
    output_tokens_min: int
    output_tokens_max: int
    cost_min: Cost
    cost_max: Cost
    token_status: str
    list_price_per_image: Decimal | None
    #: The status with who measured it and when where known, e.g. "measured (third party, 2026-09-16)".
    token_label: str = ""
    #: What the figure rests on beyond its status: assumed ranges, the ambiguous partial-image rule,
    #: preview/gated warnings. Shown wherever a budget is formed from this estimate.
    notes: tuple[str, ...] = ()

    @property
    def cost_usd_min(self) -> Decimal:
        return self.cost_min.total

    @property
    def cost_usd_max(self) -> Decimal:
        return self.cost_max.total


def auto_candidates(catalog: Catalog, req: ImageRequest) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (qualities, sizes) an ``auto`` value may resolve to; fixed values stand alone.

    ``auto`` quality ranges over low..high (xhigh/max are never chosen by auto, an assumption);
    ``auto`` size over the model's fixed sizes, or its first three common sizes.
    """
    model = catalog.model(req.model)
    qualities = tuple(q for q in model.qualities if q in STANDARD_QUALITIES) if req.quality == "auto" else (req.quality,)
    sizes = (model.sizes or model.common_sizes[:3]) if req.size == "auto" else (req.size,)
    return qualities, sizes


def documented_output_tokens(catalog: Catalog, model_id: str, quality: str, size: str, n: int = 1,
                             partial_images: int = 0, complexity: str | None = None) -> int:
    """Output tokens the catalog's table/formula gives for a resolved quality and size (point figure;
    partial images at the larger reading)."""
    tm = catalog.token_model(catalog.model(model_id))
    return request_output_tokens(tm, quality, size, n, partial_images, complexity)


def figure_label(catalog: Catalog, model_id: str, quality: str, size: str, complexity: str | None = None) -> str:
    """The status label of one catalog figure, e.g. ``measured (third party, 2026-09-16)``."""
    tm = catalog.token_model(catalog.model(model_id))
    return token_figure(tm, quality, size, complexity).label


def expected_figure(catalog: Catalog, model_id: str, quality: str, size: str,
                    complexity: str | None = None) -> TokenFigure:
    """The output-token figure an estimate uses for one image: ours when adopted, else the catalog's.

    A local token override (our own measurement, ``calibrate --adopt``) wins, status ``measured``,
    labelled ``measured (ours, n = …)``; it covers requests without ``complexity`` (it was measured so).
    Removing the override restores the catalog's figure and label.
    """
    model = catalog.model(model_id)
    ours = catalog.measured_tokens(model.id, quality, size) if not complexity else None
    if ours is not None:
        return TokenFigure(ours.output_tokens, ours.output_tokens, ours.output_tokens, "measured", ours.label)
    return token_figure(catalog.token_model(model), quality, size, complexity)


def expected_output_tokens(catalog: Catalog, model_id: str, quality: str, size: str, n: int = 1,
                           partial_images: int = 0, complexity: str | None = None) -> tuple[int, str]:
    """(output tokens of a request at the point figure, the figure's label): ours when adopted, else the catalog's."""
    fig = expected_figure(catalog, model_id, quality, size, complexity)
    tm = catalog.token_model(catalog.model(model_id))
    return fig.tokens * n + partial_tokens(tm, n, partial_images)[1], fig.label


def request_input_image_tokens(catalog: Catalog, req: ImageRequest) -> int:
    """Estimated input image tokens of an edit: the first image at the requested fidelity, the rest low."""
    rule = catalog.token_model(catalog.model(req.model)).input_image
    return sum(edit_input_tokens(rule, w, h, (req.input_fidelity or "low") if i == 0 else "low")
               for i, (w, h) in enumerate(req.input_images))


def estimate(req: ImageRequest, catalog: Catalog, on: date) -> Estimate:
    """Estimate a validated request: tokens and cost as a min-max range over any ``auto`` values."""
    model = catalog.model(req.model)
    tm = catalog.token_model(model)
    price = catalog.price_for(model.id, req.provider, on)
    text_tokens = count_text_tokens(req.prompt)
    image_tokens = request_input_image_tokens(catalog, req)
    partial = req.partial_images if req.stream else 0
    qualities, sizes = auto_candidates(catalog, req)
    complexity = req.complexity
    figures = {(q, s): expected_figure(catalog, model.id, q, s, complexity) for q in qualities for s in sizes}
    p_lo, p_hi = partial_tokens(tm, req.n, partial)
    lo = min(f.low * req.n + p_lo for f in figures.values())
    hi = max(f.high * req.n + p_hi for f in figures.values())
    cost_lo = cost_of(Usage(text_tokens, image_tokens, lo), price)
    cost_hi = cost_of(Usage(text_tokens, image_tokens, hi), price)
    list_price = None
    if len(qualities) == 1 and len(sizes) == 1:
        list_price = catalog.list_price(model.id, req.provider, qualities[0], sizes[0], on)
    status = weakest(f.status for f in figures.values())
    labels = {f.label for f in figures.values()}
    label = labels.pop() if len(labels) == 1 else status
    notes = []
    for (q, s), f in figures.items():
        if f.is_range:
            notes.append(f"{model.id} {q} {s}: {f.status}, no published figure; estimate {f.tokens:,} tokens per "
                         f"image, range {f.low:,}-{f.high:,}; the budget reserves {f.high:,}")
    if partial and req.n > 1:
        small, large = partial_tokens(tm, req.n, partial)
        if small != large:
            notes.append(f"partial images: ambiguous whether +{tm.partial_image_tokens} tokens per partial image is "
                         f"per request ({small:,}) or per image ({large:,}); the budget reserves the larger reading")
    notes += warnings(req, catalog)
    return Estimate(req, text_tokens, image_tokens, lo, hi, cost_lo, cost_hi, status, list_price, label,
                    tuple(notes))


@dataclass(frozen=True)
class Billed:
    """The billed cost of a response, next to what the catalog documents for its resolved settings."""

    usage: Usage
    cost: Cost
    resolved_quality: str | None
    resolved_size: str | None
    documented_output_tokens: int | None


def billed_cost(usage: Usage, req: ImageRequest, catalog: Catalog, resolved_quality: str | None,
                resolved_size: str | None, on: date) -> Billed:
    """Cost from a real ``usage`` with the quality/size the response says it resolved to."""
    model = catalog.model(req.model)
    price = catalog.price_for(model.id, req.provider, on)
    documented = None
    q = resolved_quality if resolved_quality not in (None, "auto") else (req.quality if req.quality != "auto" else None)
    s = resolved_size if resolved_size not in (None, "auto") else (req.size if req.size != "auto" else None)
    if q in catalog.token_model(model).qualities() and s is not None:
        try:
            documented = documented_output_tokens(catalog, model.id, q, s, req.n,
                                                  req.partial_images if req.stream else 0, req.complexity)
        except ValueError:
            documented = None
    return Billed(usage, cost_of(usage, price), q, s, documented)
