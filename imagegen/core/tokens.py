"""Token arithmetic: output tokens from the catalog's tables/formulas, input tokens offline.

Text tokens are counted with the o200k_base encoding from ``bpe-openai``, which ships its data
in the wheel (``tiktoken`` downloads its encodings on first use, which fails offline).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import Decimal

from imagegen.core.catalog import InputImageRule, TokenModel, weakest
from imagegen.core.encoding import encoding


def parse_size(size: str) -> tuple[int, int]:
    """``"1536x1024"`` -> ``(1536, 1024)``; raise ValueError on anything else."""
    w, sep, h = size.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) <= 0 or int(h) <= 0:
        raise ValueError(f"size {size!r} is not WIDTHxHEIGHT")
    return int(w), int(h)


def formula_tokens(tm: TokenModel, quality: str, width: int, height: int, factor: int | None = None) -> int:
    """Output image tokens for one image by the token model's formula (no table lookup).

    ``factor`` replaces the quality's patch size / quality factor (for the ends of an assumed range).
    """
    if tm.method == "patch_grid":
        p = factor or tm.patch[quality]  # type: ignore[index]
        return math.ceil(height / p) * (math.ceil(width / p) + 1)
    qf = factor or tm.quality_factor[quality]  # type: ignore[index]
    long_edge, short_edge = max(width, height), min(width, height)
    sa = (2 * qf * short_edge + long_edge) // (2 * long_edge)
    return math.ceil(qf * sa * (2_000_000 + width * height) / 4_000_000)


@dataclass(frozen=True)
class TokenFigure:
    """Output tokens of one image: a point value, the range it may take, and how it is known.

    ``low``/``high`` equal ``tokens`` unless the quality has no published figure (an assumed
    range); budgets reserve ``high``. ``label`` is the status with who measured it and when.
    """

    tokens: int
    low: int
    high: int
    status: str
    label: str

    @property
    def is_range(self) -> bool:
        return self.low != self.high


def _ceil_mul(value: int, factor: Decimal) -> int:
    return math.ceil(Decimal(value) * factor)


#: (id(token model), quality, size, complexity) -> (token model, figure). The entry holds the model
#: itself, so its id cannot be reused by another object while the entry lives. Bounded by clearing.
_FIGURES: dict[tuple, tuple[TokenModel, TokenFigure]] = {}
_FIGURES_MAX = 50_000


def token_figure(tm: TokenModel, quality: str, size: str, complexity: str | None = None) -> TokenFigure:
    """Output tokens for one image at ``quality``/``size`` (and ``complexity``), with range and status."""
    key = (id(tm), quality, size, complexity)
    hit = _FIGURES.get(key)
    if hit is not None and hit[0] is tm:
        return hit[1]
    fig = _token_figure(tm, quality, size, complexity)
    if len(_FIGURES) >= _FIGURES_MAX:
        _FIGURES.clear()
    _FIGURES[key] = (tm, fig)
    return fig


def _token_figure(tm: TokenModel, quality: str, size: str, complexity: str | None) -> TokenFigure:
    table_value = tm.table.get(quality, {}).get(size)
    if table_value is not None:  # a published or measured cell wins over the formula and the multipliers
        fig = TokenFigure(table_value, table_value, table_value, tm.status, tm.label_of(quality, size))
    elif tm.method == "relative":
        assert tm.base_model is not None, "relative token models are resolved by load_catalog"
        base = token_figure(tm.base_model, quality, size)
        m = tm.multiplier[quality]
        lo_m, hi_m = tm.multiplier_range.get(quality, (m, m))
        status = weakest((base.status, tm.status_of(quality)))
        label = status if status != base.status else base.label
        fig = TokenFigure(_ceil_mul(base.tokens, m), _ceil_mul(base.low, lo_m), _ceil_mul(base.high, hi_m),
                          status, label)
    else:
        w, h = parse_size(size)
        point = formula_tokens(tm, quality, w, h)
        lo = hi = point
        if quality in tm.quality_factor_range:
            f_lo, f_hi = tm.quality_factor_range[quality]
            lo, hi = formula_tokens(tm, quality, w, h, f_lo), formula_tokens(tm, quality, w, h, f_hi)
        status = tm.status_of(quality)
        fig = TokenFigure(point, lo, hi, status, status)
    if complexity and tm.complexity_multiplier:
        c = tm.complexity_multiplier.get(complexity, Decimal(1))
        status = weakest((fig.status, tm.complexity_status))
        fig = TokenFigure(_ceil_mul(fig.tokens, c), _ceil_mul(fig.low, c), _ceil_mul(fig.high, c), status,
                          fig.label if status == fig.status else status)
    return fig


def image_output_tokens(tm: TokenModel, quality: str, size: str, complexity: str | None = None) -> int:
    """Output tokens for one image (point value): the table where it has the cell, else the formula."""
    return token_figure(tm, quality, size, complexity).tokens


def partial_tokens(tm: TokenModel, n: int, partial_images: int) -> tuple[int, int]:
    """(smaller, larger) reading of the partial-image surcharge for ``n`` images.

    The guide says each partial image costs 100 more output tokens; with ``n > 1`` it does not say
    whether that is per request (``100 x partial_images``) or per image (``n x partial_images x 100``).
    """
    per_request = tm.partial_image_tokens * partial_images
    per_image = per_request * n
    if tm.partial_images_reading == "per_request":
        return per_request, per_request
    if tm.partial_images_reading == "per_image":
        return per_image, per_image
    return min(per_request, per_image), max(per_request, per_image)


def request_output_range(tm: TokenModel, quality: str, size: str, n: int = 1, partial_images: int = 0,
                         complexity: str | None = None) -> tuple[int, int]:
    """(min, max) output tokens a request may be billed; budgets reserve the max."""
    fig = token_figure(tm, quality, size, complexity)
    p_lo, p_hi = partial_tokens(tm, n, partial_images)
    return fig.low * n + p_lo, fig.high * n + p_hi


def request_output_tokens(tm: TokenModel, quality: str, size: str, n: int = 1, partial_images: int = 0,
                          complexity: str | None = None) -> int:
    """Output tokens of a request at the point figure, partial images at the larger reading (budgets)."""
    return image_output_tokens(tm, quality, size, complexity) * n + partial_tokens(tm, n, partial_images)[1]


def _utf8_safe(text: str) -> str:
    """Lone surrogates (which UTF-8 cannot hold) become U+FFFD, as bpe-openai's wrapper does."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


@functools.lru_cache(maxsize=4096)
def count_text_tokens(text: str) -> int:
    """Prompt tokens with o200k_base, offline (an estimate of what the API bills).

    Special-token markers such as ``<|endoftext|>`` in a prompt are counted as the plain text
    they are (the API receives them as text).
    """
    return len(encoding().encode(_utf8_safe(text)))


def input_image_tokens(width: int, height: int, fidelity: str = "low", high_surcharge: tuple[int, int] = (4160, 6240)) -> int:
    """Input tokens for one edit image by the published gpt-image-1 tile method.

    Scale so the shortest side is 512 px, count 512-px tiles: ``65 + 129 * tiles``.
    High fidelity adds a fixed amount by shape (documented as +4160 square / +6240 otherwise in
    later copies of the guide, +4096/+6144 in older ones; the later copy is used).
    """
    scale = 512 / min(width, height)
    sw, sh = width * scale, height * scale
    tiles = math.ceil(sw / 512) * math.ceil(sh / 512)
    tokens = 65 + 129 * tiles
    if fidelity == "high":
        tokens += high_surcharge[0] if width == height else high_surcharge[1]
    return tokens


def edit_input_tokens(rule: InputImageRule | None, width: int, height: int, fidelity: str = "low") -> int:
    """Input tokens of one edit image under a token model's input rule (gpt-image-1 tiles by default)."""
    if rule is None or rule.method == "tiles_512":
        surcharge = rule.high_surcharge if rule is not None else (4160, 6240)
        high = fidelity == "high" or (rule is not None and rule.always_high)
        return input_image_tokens(width, height, "high" if high else "low", surcharge)
    assert rule.pixels_per_token
    return math.ceil(width * height / rule.pixels_per_token)
