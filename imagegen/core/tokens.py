"""Token arithmetic: output tokens from the catalog's tables/formulas, input tokens offline.

Text tokens are counted with the o200k_base encoding from ``bpe-openai``, which ships its data
in the wheel (``tiktoken`` downloads its encodings on first use, which fails offline).
"""

from __future__ import annotations

import functools
import math

from imagegen.core.catalog import TokenModel


def parse_size(size: str) -> tuple[int, int]:
    """``"1536x1024"`` -> ``(1536, 1024)``; raise ValueError on anything else."""
    w, sep, h = size.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) <= 0 or int(h) <= 0:
        raise ValueError(f"size {size!r} is not WIDTHxHEIGHT")
    return int(w), int(h)


def formula_tokens(tm: TokenModel, quality: str, width: int, height: int) -> int:
    """Output image tokens for one image by the token model's formula (no table lookup)."""
    if tm.method == "patch_grid":
        p = tm.patch[quality]  # type: ignore[index]
        return math.ceil(height / p) * (math.ceil(width / p) + 1)
    qf = tm.quality_factor[quality]  # type: ignore[index]
    long_edge, short_edge = max(width, height), min(width, height)
    sa = (2 * qf * short_edge + long_edge) // (2 * long_edge)
    return math.ceil(qf * sa * (2_000_000 + width * height) / 4_000_000)


def image_output_tokens(tm: TokenModel, quality: str, size: str) -> int:
    """Output tokens for one image: the documented table where it has the cell, else the formula."""
    table_value = tm.table.get(quality, {}).get(size)
    if table_value is not None:
        return table_value
    w, h = parse_size(size)
    return formula_tokens(tm, quality, w, h)


def request_output_tokens(tm: TokenModel, quality: str, size: str, n: int = 1, partial_images: int = 0) -> int:
    """Output tokens billed for a request: per image x n, plus 100 per partial image."""
    return image_output_tokens(tm, quality, size) * n + tm.partial_image_tokens * partial_images


@functools.lru_cache(maxsize=1)
def _encoding():
    import bpe_openai

    return bpe_openai.get_encoding("o200k_base")


@functools.lru_cache(maxsize=4096)
def count_text_tokens(text: str) -> int:
    """Prompt tokens with o200k_base, offline (an estimate of what the API bills)."""
    return len(_encoding().encode(text))


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
