"""Deterministic images for the simulator: the prompt decides the scene, quality the detail.

The scene is drawn on a latent grid of ``ceil(W/p) x ceil(H/p)`` cells, ``p`` being the token
patch size of the quality (64 low, 32 medium, 16 high, as in the gpt-image-1 token formula),
then upscaled to the exact requested size, with a fine per-row texture so lossy encoders have
something to keep or throw away. A low-quality image is visibly blockier than a high-quality
one, and the same prompt always gives the same picture. Rendering is cached by its parameters.

Speed matters (the simulator's latency model sleeps *minus* render time, and the dashboard runs
grids in-process): PNGs are written by a small encoder that uses the PNG "Up" filter, so the
repeated rows of the upscaled grid compress to almost nothing; a 1536x1024 PNG takes ~20 ms.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw

#: Latent patch size per quality (pixels per latent cell). xhigh/max are the 2.5 models' extras.
PATCH = {"low": 64, "medium": 32, "high": 16, "xhigh": 8, "max": 4}
FORMATS = ("png", "jpeg", "webp")
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
LABEL = "SIMULATED"
_TEXTURE = 20  # +- texture amplitude; colours are kept inside [24, 231] so uint8 adds never wrap


def _seed(prompt: str) -> int:
    return int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big")


@functools.lru_cache(maxsize=32)
def _scene(prompt: str) -> tuple:
    """Resolution-free scene description: background colours and shapes in unit coordinates."""
    rng = np.random.default_rng(_seed(prompt))
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    shapes = []
    for _ in range(int(rng.integers(4, 9))):
        cx, cy = rng.uniform(0.1, 0.9, 2)
        rx, ry = rng.uniform(0.06, 0.3, 2)
        colour = rng.integers(0, 256, 3)
        shapes.append((float(cx), float(cy), float(rx), float(ry), tuple(int(c) for c in colour)))
    return tuple(int(c) for c in top), tuple(int(c) for c in bottom), tuple(shapes)


def latent(prompt: str, width: int, height: int, patch: int, transparent: bool = False) -> np.ndarray:
    """The scene on the latent grid: RGBA uint8 of shape (ceil(H/p), ceil(W/p), 4)."""
    gw, gh = max(1, math.ceil(width / patch)), max(1, math.ceil(height / patch))
    top, bottom, shapes = _scene(prompt)
    ys = (np.arange(gh, dtype=np.float32) + 0.5) / gh
    xs = (np.arange(gw, dtype=np.float32) + 0.5) / gw
    t = ys[:, None, None]
    rgb = (np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t) * np.ones((1, gw, 1), np.float32)
    alpha = np.zeros((gh, gw), np.float32) if transparent else np.full((gh, gw), 255.0, np.float32)
    aspect = width / height
    for cx, cy, rx, ry, colour in shapes:
        d = ((xs[None, :] - cx) * aspect / rx) ** 2 + ((ys[:, None] - cy) / ry) ** 2
        inside = d <= 1.0
        shade = (1.15 - 0.35 * np.clip(d, 0, 1))[..., None]  # a little shading so shapes look round
        rgb = np.where(inside[..., None], np.array(colour, np.float32) * shade, rgb)
        alpha = np.where(inside, 255.0, alpha)
    noise = np.random.default_rng([_seed(prompt) & 0xFFFFFFFF, gw, gh]).normal(0, 12, (gh, gw, 1))
    rgb = np.clip(rgb + noise, _TEXTURE + 4, 255 - _TEXTURE - 4)
    return np.dstack([rgb, alpha]).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _label_mask(text: str) -> np.ndarray:
    img = Image.new("L", (8 * len(text) + 4, 14))
    ImageDraw.Draw(img).text((2, 1), text, fill=255)
    return np.asarray(img) > 127


def pixels(prompt: str, width: int, height: int, patch: int, transparent: bool = False,
           label: str = LABEL) -> np.ndarray:
    """Full-resolution pixels (H, W, 3 or 4) of the scene at this patch size."""
    g = latent(prompt, width, height, patch, transparent)
    if not transparent:
        g = g[..., :3]
    rows = np.repeat(g, patch, axis=1)[:, :width]  # (gh, W, C): one row per latent row
    tex = np.random.default_rng([_seed(prompt) & 0xFFFF, patch]).integers(
        -_TEXTURE, _TEXTURE + 1, (rows.shape[0], width, 1)).astype(np.int8).view(np.uint8)
    if transparent:
        rows[..., :3] += tex  # wraps in uint8, never overflows: colours sit inside [24, 231]
    else:
        rows += tex
    full = np.repeat(rows, patch, axis=0)[:height]
    if label and height >= 24 and width >= 8 * len(label) + 16:
        mask = _label_mask(label)
        y0, x0 = height - mask.shape[0] - 4, 8
        region = full[y0:y0 + mask.shape[0], x0:x0 + mask.shape[1]]
        region[mask] = 255
    return full


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def encode_png(a: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """A valid 8-bit RGB/RGBA PNG using the Up filter on every row (fast on upscaled images)."""
    h, w, c = a.shape
    raw = a.reshape(h, w * c)
    filtered = np.empty((h, w * c + 1), np.uint8)
    filtered[:, 0] = 2  # filter type Up; row 0's "previous row" is zeros, so it is stored as is
    filtered[0, 1:] = raw[0]
    np.subtract(raw[1:], raw[:-1], out=filtered[1:, 1:])
    out = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6 if c == 4 else 2, 0, 0, 0))]
    for key, value in (text or {}).items():
        out.append(_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1", "replace")))
    out += [_chunk(b"IDAT", zlib.compress(filtered.tobytes(), 1)), _chunk(b"IEND", b"")]
    return b"".join(out)


def quality_value(compression: int | None) -> int:
    """Encoder quality for an ``output_compression`` (None = the API default, 100).

    ``output_compression`` acts as a JPEG/WebP quality value (100 = best and largest), as the
    real API behaves in practice; see the note at the top of ``imagegen/core/data/models.toml``.
    """
    value = 100 if compression is None else int(compression)
    return max(1, min(100, value))


@functools.lru_cache(maxsize=128)
def render(
    prompt: str,
    width: int,
    height: int,
    quality: str = "high",
    output_format: str = "png",
    compression: int | None = None,
    transparent: bool = False,
    coarsen: int = 0,
    label: str = LABEL,
) -> bytes:
    """Encoded image bytes of exactly ``width x height``; deterministic and cached.

    ``coarsen`` doubles the patch size that many times (partial images show less detail).
    ``transparent`` gives an RGBA image with a fully transparent background (png/webp only;
    ignored for jpeg, which has no alpha channel).
    """
    if output_format not in FORMATS:
        raise ValueError(f"output_format {output_format!r} is not one of {FORMATS}")
    if width <= 0 or height <= 0:
        raise ValueError(f"size {width}x{height} must be positive")
    patch = PATCH.get(quality, PATCH["high"]) * (2 ** max(0, coarsen))
    alpha = transparent and output_format != "jpeg"
    return _encode(pixels(prompt, width, height, patch, alpha, label), output_format, compression, alpha)


def _encode(a: np.ndarray, output_format: str, compression: int | None, alpha: bool) -> bytes:
    if output_format == "png":
        return encode_png(a, {"Software": "imagegen simulator", "Comment": "simulated image, not from a real model"})
    img = Image.fromarray(a, "RGBA" if alpha else "RGB")
    buf = io.BytesIO()
    if output_format == "jpeg":
        img.save(buf, "JPEG", quality=quality_value(compression))
    else:
        img.save(buf, "WEBP", quality=quality_value(compression), method=0)
    return buf.getvalue()


def decode_rgb(data: bytes, width: int, height: int, channels: int = 3) -> np.ndarray:
    """An input image's pixels as uint8 (height, width, channels), resized with Lanczos when its size differs.

    Raises ValueError for bytes that are no image. RGBA keeps the input's own alpha (opaque when it has none).
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGBA" if channels == 4 else "RGB")
    except Exception as exc:  # any undecodable upload
        raise ValueError(f"not a decodable image ({exc})") from None
    if img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.uint8)


def mask_keep(mask: bytes, width: int, height: int) -> np.ndarray:
    """Where a mask keeps the input: a bool (height, width) array, True where its alpha is 255 (opaque).

    OpenAI: "fully transparent areas (alpha zero) indicate where the image should be edited"; partly
    transparent pixels are edited too here (only fully opaque ones are kept). A mask of another size is
    scaled with nearest-neighbour, so its edges stay hard.
    """
    try:
        with Image.open(io.BytesIO(mask)) as img:
            alpha = img.convert("RGBA").getchannel("A")
    except Exception as exc:
        raise ValueError(f"not a decodable PNG ({exc})") from None
    if alpha.size != (width, height):
        alpha = alpha.resize((width, height), Image.Resampling.NEAREST)
    return np.asarray(alpha, dtype=np.uint8) == 255


def composite(generated: np.ndarray, image: bytes, mask: bytes | None) -> np.ndarray:
    """A simulated edit of ``image``: its pixels where ``mask`` is opaque, ``generated`` where it is transparent.

    The input is first resized to the output's size (Lanczos) when they differ. Without a mask the whole
    image may change: the result is the input and the generated scene blended half and half, so the input
    stays recognisable (image-to-image).
    """
    height, width, channels = generated.shape
    source = decode_rgb(image, width, height, channels)
    if mask is None:
        blend = (source.astype(np.uint16) + generated.astype(np.uint16)) // 2
        return blend.astype(np.uint8)
    keep = mask_keep(mask, width, height)
    return np.where(keep[..., None], source, generated)


def render_edit(prompt: str, width: int, height: int, quality: str, output_format: str, compression: int | None,
                transparent: bool, image: bytes, mask: bytes | None, coarsen: int = 0) -> bytes:
    """Encoded bytes of a simulated edit of ``image`` (see :func:`composite`), exactly ``width x height``.

    The ``SIMULATED`` label is part of the generated scene, so it shows only where the mask lets the image
    change (the PNG's Comment chunk says "simulated" in every case). With a lossy ``output_format`` (jpeg,
    webp) the kept pixels are only as close to the input as the encoder keeps them; png keeps them exactly.
    """
    if output_format not in FORMATS:
        raise ValueError(f"output_format {output_format!r} is not one of {FORMATS}")
    patch = PATCH.get(quality, PATCH["high"]) * (2 ** max(0, coarsen))
    alpha = transparent and output_format != "jpeg"
    generated = pixels(prompt, width, height, patch, alpha, LABEL)
    return _encode(composite(generated, image, mask), output_format, compression, alpha)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of encoded image bytes (reads the header only), or None when unreadable."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:  # any undecodable upload simply has an unknown size
        return None


def render_gif(prompt: str, width: int, height: int, quality: str = "high", frames: int = 9,
               frame_duration_ms: int = 200) -> bytes:
    """An animated GIF of ``frames`` frames (the scene drifting), deterministic per prompt."""
    patch = PATCH.get(quality, PATCH["high"])
    base = Image.fromarray(pixels(prompt, width, height, patch, False, LABEL), "RGB")
    images = []
    for i in range(max(1, frames)):
        shift = (i * max(1, width // max(1, frames))) % max(1, width)
        arr = np.roll(np.asarray(base), shift, axis=1)
        images.append(Image.fromarray(arr, "RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=frame_duration_ms, loop=0)
    return buf.getvalue()


def render_svg(prompt: str, width: int, height: int) -> bytes:
    """A small SVG of the prompt's scene (background gradient and shapes), deterministic per prompt."""
    top, bottom, shapes = _scene(prompt)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">',
             '<defs><linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">'
             f'<stop offset="0" stop-color="rgb{top}"/><stop offset="1" stop-color="rgb{bottom}"/>'
             '</linearGradient></defs>', f'<rect width="{width}" height="{height}" fill="url(#bg)"/>']
    for cx, cy, rx, ry, colour in shapes:
        parts.append(f'<ellipse cx="{cx * width:.0f}" cy="{cy * height:.0f}" rx="{rx * width:.0f}" '
                     f'ry="{ry * height:.0f}" fill="rgb{colour}"/>')
    parts.append(f'<text x="8" y="24" font-size="20" fill="white">{LABEL}</text></svg>')
    return "".join(parts).encode("utf-8")
