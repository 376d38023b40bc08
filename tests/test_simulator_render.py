"""The simulator's images: exact size and format, compression, alpha, detail by quality, speed."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from imagegen.execution.simulator.render import encode_png, pixels, render


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize(("fmt", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_exact_format(fmt, pil_format):
    img = _open(render("a red fox", 1024, 1536, "low", fmt))
    assert img.format == pil_format and img.size == (1024, 1536)


@pytest.mark.parametrize("size", [(1024, 1024), (1536, 1024), (1024, 1536), (2560, 1440), (1008, 720)])
def test_exact_size(size):
    assert _open(render("a red fox", *size, "medium", "png")).size == size


def test_png_1536x1024_high_is_a_valid_png_of_that_size():
    data = render("F1 racer", 1536, 1024, "high", "png")
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    img = _open(data)
    assert (img.size, img.mode) == ((1536, 1024), "RGB")


def test_jpeg_compression_30_is_clearly_smaller_than_90():
    low = len(render("a lighthouse", 1024, 1024, "high", "jpeg", 30))
    high = len(render("a lighthouse", 1024, 1024, "high", "jpeg", 90))
    assert high > 1.5 * low  # output_compression acts as a JPEG quality value (100 = best, largest)


def test_transparent_png_and_webp_have_an_alpha_channel_with_transparent_pixels():
    for fmt in ("png", "webp"):
        img = _open(render("a sticker", 1024, 1024, "medium", fmt, transparent=True))
        assert img.mode == "RGBA"
        alpha = np.asarray(img)[..., 3]
        assert alpha.min() == 0 and alpha.max() == 255
    assert _open(render("a sticker", 1024, 1024, "medium", "png")).mode == "RGB"


def _distinct_rows(data: bytes) -> int:
    a = np.asarray(_open(data).convert("RGB"))[:-30]  # above the SIMULATED label
    return int((np.any(a[1:] != a[:-1], axis=(1, 2))).sum()) + 1


def test_detail_rises_with_quality():
    rows = {q: _distinct_rows(render("a castle", 1024, 1024, q, "png")) for q in ("low", "medium", "high")}
    assert rows["low"] < rows["medium"] < rows["high"]
    assert rows["high"] > 1.8 * rows["medium"] > 3.2 * rows["low"] > 0  # patch 64 -> 32 -> 16


def test_partial_images_are_coarser():
    full = _distinct_rows(render("a castle", 1024, 1024, "high", "png"))
    partial = _distinct_rows(render("a castle", 1024, 1024, "high", "png", coarsen=2))
    assert partial < full


def test_deterministic_and_prompt_dependent():
    a1 = render.__wrapped__("a cat", 1024, 1024, "low", "png")  # bypass the cache
    a2 = render.__wrapped__("a cat", 1024, 1024, "low", "png")
    b = render.__wrapped__("a dog", 1024, 1024, "low", "png")
    assert a1 == a2 and a1 != b
    mean_a = np.asarray(_open(a1)).mean(axis=(0, 1))
    mean_b = np.asarray(_open(b)).mean(axis=(0, 1))
    assert np.abs(mean_a - mean_b).sum() > 1.0


def test_png_marks_itself_simulated():
    img = _open(render("x", 1024, 1024, "low", "png"))
    assert "simulat" in img.info.get("Comment", "")


def test_png_encoder_round_trips_exactly():
    a = pixels("round trip", 320, 200, 16, transparent=True)
    assert np.array_equal(np.asarray(_open(encode_png(a))), a)
    b = pixels("round trip", 320, 200, 16)
    assert np.array_equal(np.asarray(_open(encode_png(b))), b)


def test_1536x1024_png_renders_well_under_50_ms():
    timings = []
    for i in range(5):  # distinct prompts: the render cache must not help
        start = time.perf_counter()
        render(f"speed test {i} {time.time_ns()}", 1536, 1024, "high", "png")
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.05, timings


def test_bad_arguments():
    with pytest.raises(ValueError, match="output_format"):
        render("x", 64, 64, "low", "gif")
    with pytest.raises(ValueError, match="size"):
        render("x", 0, 64, "low", "png")
