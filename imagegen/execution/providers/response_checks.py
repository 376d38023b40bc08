"""Boundary checks on every Images API answer, before anything is priced or stored.

An endpoint can answer HTTP 200 with anything: usage as a string or 10**13 tokens, a quality that is
a list, the wrong number of images, plain text, an SVG with a script, a truncated PNG or a
20000x20000 decompression bomb. :func:`check_answer` turns a parsed body (or a stream's completed
event) plus the decoded image bytes into a :class:`CheckedAnswer`, or raises :class:`BadResponse`
naming the first rule that failed. Images are read from their header only (dimensions, structure,
CRCs); nothing is decompressed, so a bomb costs nothing to refuse.

Decisions:
- ``usage`` is required: every GPT image model returns it, and without it the cost is unknown.
  The caller keeps the whole reservation charged for such an answer.
- An image whose size differs from the explicit size asked for (or from the size the response
  says it resolved to) is a bad response, not "ok with a flag": every figure of that cell (tokens
  vs documented, cost per image of that size) would describe a different request, and analytics
  aggregate ok rows by the requested size. What the answer cost is still counted as spent.
"""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
import zlib
from dataclasses import dataclass

from imagegen.core.imagefile import MAX_IMAGE_PIXELS, sniff_format
from imagegen.core.pricing import Usage
from imagegen.core.request import ImageRequest

#: Sane bounds on usage: output tokens per megapixel per image (documented tables sit near 4,000/MP
#: at high quality), and input tokens per request (a 32,000-character prompt plus 16 input images).
MAX_OUTPUT_TOKENS_PER_MEGAPIXEL = 50_000
MAX_INPUT_TOKENS = 2_000_000
FORMATS = ("png", "jpeg", "webp")
_SIZE_RE = re.compile(r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")
_WORD_RE = re.compile(r"^[a-z][a-z0-9_\-]{0,23}$")
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


class BadResponse(ValueError):
    """An answer that fails a boundary check; ``usage`` is set when usage itself passed."""

    def __init__(self, reason: str, usage: Usage | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage


@dataclass(frozen=True)
class CheckedAnswer:
    """What passed the checks: the usage (None only when the caller allows it), images' formats/sizes."""

    usage: Usage | None
    formats: tuple[str, ...]
    dimensions: tuple[tuple[int, int], ...]


def _short(value: object, n: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def _count(value: object, where: str, bound: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadResponse(f"usage.{where} is {_short(value)} ({type(value).__name__}), not a whole number of tokens")
    if value < 0:
        raise BadResponse(f"usage.{where} is {value}, a negative token count")
    if value > bound:
        raise BadResponse(f"usage.{where} is {value:,}, above the sane bound {bound:,} for this request")
    return value


def output_token_bound(request: ImageRequest) -> int:
    """The most output tokens a sane answer to ``request`` can bill (images x pixels, with room to spare)."""
    if _SIZE_RE.match(request.size or ""):
        w, h = (int(v) for v in request.size.split("x"))
        pixels = w * h
    else:
        pixels = MAX_IMAGE_PIXELS
    per_image = math.ceil(pixels / 1_000_000 * MAX_OUTPUT_TOKENS_PER_MEGAPIXEL)
    images = max(1, int(request.n or 1)) + max(0, int(request.partial_images or 0))
    return per_image * images


def check_usage(usage: object, request: ImageRequest) -> Usage:
    """A validated :class:`Usage` from a response's ``usage``; BadResponse when any field is off."""
    if usage is None:
        raise BadResponse("the response has no usage, so what it billed is unknown")
    if not isinstance(usage, dict):
        raise BadResponse(f"usage is {_short(usage)} ({type(usage).__name__}), not an object")
    out_bound = output_token_bound(request)
    fields = {"input_tokens": MAX_INPUT_TOKENS, "output_tokens": out_bound,
              "total_tokens": MAX_INPUT_TOKENS + out_bound}
    for name in ("input_tokens", "output_tokens"):
        if name not in usage:
            raise BadResponse(f"usage has no {name}")
    values = {name: _count(usage[name], name, bound) for name, bound in fields.items() if name in usage}
    for detail, total in (("input_tokens_details", "input_tokens"), ("output_tokens_details", "output_tokens")):
        inner = usage.get(detail)
        if inner is None:
            continue
        if not isinstance(inner, dict):
            raise BadResponse(f"usage.{detail} is {_short(inner)} ({type(inner).__name__}), not an object")
        parts = [_count(inner[k], f"{detail}.{k}", fields[total]) for k in ("text_tokens", "image_tokens")
                 if inner.get(k) is not None]
        if sum(parts) > values[total]:
            raise BadResponse(f"usage.{detail} adds up to {sum(parts):,}, more than usage.{total} "
                              f"({values[total]:,})")
    parsed = Usage.from_api(usage)
    if parsed is None or parsed.input_text_tokens < 0 or parsed.output_image_tokens < 0:
        raise BadResponse("usage does not add up (negative text or image tokens)")
    return parsed


def check_resolved(body: dict, request: ImageRequest) -> None:
    """The resolved fields (quality, size, background, output_format) have the expected types and values."""
    for name in ("quality", "size", "background", "output_format"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadResponse(f"{name} is {_short(value)} ({type(value).__name__}), not a string")
        if name == "size":
            if value != "auto" and not _SIZE_RE.match(value):
                raise BadResponse(f"size is {_short(value)}, not WIDTHxHEIGHT")
        elif not _WORD_RE.match(value):
            raise BadResponse(f"{name} is {_short(value)}, not a setting name")
        asked = getattr(request, name, None)
        if asked and asked != "auto" and value != asked and not (name == "size" and value == "auto"):
            raise BadResponse(f"{name} is {value!r}, but {asked!r} was asked for")
    if body.get("output_format") is not None and body["output_format"] not in FORMATS:
        raise BadResponse(f"output_format is {body['output_format']!r}, not one of {', '.join(FORMATS)}")


def _png_checked(data: bytes) -> tuple[int, int]:
    """PNG dimensions from IHDR, after walking every chunk's length and CRC (no decompression)."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise BadResponse("the PNG has no IHDR header")
    w, h = struct.unpack(">II", data[16:24])
    pos = 8
    while True:
        if pos + 12 > len(data):
            raise BadResponse(f"the PNG is truncated ({len(data):,} bytes, no IEND chunk)")
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise BadResponse(f"the PNG is truncated inside a {kind.decode('latin-1')!r} chunk "
                              f"({len(data):,} bytes)")
        crc = struct.unpack(">I", data[end - 4:end])[0]
        if zlib.crc32(data[pos + 4:end - 4]) != crc:
            raise BadResponse(f"the PNG is damaged (bad CRC in a {kind.decode('latin-1')!r} chunk)")
        if kind == b"IEND":
            return int(w), int(h)
        pos = end


def _pil_header_size(data: bytes, fmt: str) -> tuple[int, int]:
    """(width, height) from the header through Pillow's lazy open (no pixel data is decoded)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if (im.format or "").lower() != fmt:
                    raise BadResponse(f"the {fmt} bytes read as {im.format}")
                return im.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadResponse(f"the {fmt} image is larger than {MAX_IMAGE_PIXELS:,} pixels (a decompression bomb?)") \
            from None
    except BadResponse:
        raise
    except Exception as exc:
        raise BadResponse(f"the {fmt} image cannot be read ({type(exc).__name__})") from None


def check_image(data: bytes, request: ImageRequest, resolved_size: str | None = None, index: int = 0) -> tuple[str, int,
                                                                                                               int]:
    """(format, width, height) of one returned image, read from its header; BadResponse when it is not a
    complete image of the format and size asked for, or is larger than :data:`MAX_IMAGE_PIXELS`."""
    which = f"image {index + 1}"
    if not data:
        raise BadResponse(f"{which} is empty")
    fmt = sniff_format(data)
    if fmt not in FORMATS:
        head = data[:40].decode("utf-8", "replace")
        what = "an SVG document" if fmt == "svg" else (f"a {fmt.upper()}" if fmt else f"not an image ({head!r}…)")
        raise BadResponse(f"{which} is {what}, not {'/'.join(FORMATS)}")
    asked_format = request.output_format or "png"
    if fmt != asked_format:
        raise BadResponse(f"{which} is {fmt}, but {asked_format} was asked for")
    if fmt == "png":
        w, h = _png_checked(data)
    else:
        if fmt == "jpeg" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
            raise BadResponse(f"{which} (jpeg) is truncated: no end-of-image marker")
        if fmt == "webp" and struct.unpack("<I", data[4:8])[0] + 8 > len(data):
            raise BadResponse(f"{which} (webp) is truncated ({len(data):,} bytes, the header says more)")
        w, h = _pil_header_size(data, fmt)
    if w <= 0 or h <= 0 or w * h > MAX_IMAGE_PIXELS:
        raise BadResponse(f"{which} is {w}x{h} = {w * h:,} pixels, above the limit {MAX_IMAGE_PIXELS:,} "
                          "(a decompression bomb?)")
    expected = request.size if request.size and request.size != "auto" else resolved_size
    if expected and expected != "auto" and f"{w}x{h}" != expected:
        raise BadResponse(f"{which} is {w}x{h}, but {expected} was asked for")
    return fmt, w, h


def check_answer(body: object, images: tuple[bytes, ...], request: ImageRequest, *,
                 expected_images: int | None = None) -> CheckedAnswer:
    """Every check, usage first (so a bad image still reports what it cost); BadResponse on the first failure."""
    if not isinstance(body, dict):
        raise BadResponse(f"the response is {type(body).__name__}, not a JSON object")
    usage = check_usage(body.get("usage"), request)
    try:
        check_resolved(body, request)
        want = expected_images if expected_images is not None else max(1, int(request.n or 1))
        if len(images) != want:
            raise BadResponse(f"the response holds {len(images)} image(s), but {want} were asked for")
        dims = [check_image(data, request, body.get("size"), i) for i, data in enumerate(images)]
    except BadResponse as exc:
        raise BadResponse(exc.reason, usage) from None
    return CheckedAnswer(usage, tuple(d[0] for d in dims), tuple((d[1], d[2]) for d in dims))
