"""The input images and mask of an edit grid (``[edit]`` in a spec), read and checked before anything is sent.

Limits follow the SDK's ``images.edit`` docstrings (openai ``types/image_edit_params.py``): up to 16
images, each png/webp/jpg under 50 MB; the mask a PNG with an alpha channel, under 4 MB, the same size
as the first image (the API applies it to the first image); ``markup`` (GPT Image 2.5) a PNG the first
image's size with at least one transparent pixel, never together with the mask. Formats are sniffed from the bytes, never
taken from the file name.
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from imagegen.core.imagefile import MAX_IMAGE_PIXELS, sniff_format

MAX_EDIT_IMAGES = 16
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_MASK_BYTES = 4 * 1024 * 1024
EDIT_FORMATS = ("png", "webp", "jpeg")
RESULT_PREFIX = "result:"


@dataclass(frozen=True)
class EditInput:
    """One input file as read: where it came from, its bytes, format and size."""

    source: str          # as written in the spec ("product.png" or "result:<id>")
    data: bytes
    format: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class EditInputs:
    """Every input image of an edit grid, in order, and the optional mask."""

    images: tuple[EditInput, ...]
    mask: EditInput | None = None
    #: gpt-image-2.5: a transparent PNG overlaid on the first image to guide the edit (never with a mask).
    markup: EditInput | None = None

    @property
    def files(self) -> tuple[bytes, ...]:
        return tuple(i.data for i in self.images)

    @property
    def key_files(self) -> tuple[bytes, ...]:
        """What identifies these inputs for ``--reuse``: the images, then the mask and the markup tagged
        by role (an edit with a mask must never be reused for the same edit without one). Without a
        mask or markup it equals :attr:`files`, so older keys stay valid."""
        extra = tuple(role + i.data for role, i in ((b"mask:", self.mask), (b"markup:", self.markup)) if i is not None)
        return self.files + extra

    @property
    def sizes(self) -> tuple[tuple[int, int], ...]:
        return tuple((i.width, i.height) for i in self.images)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def png_header(data: bytes) -> tuple[int, int, bool] | None:
    """(width, height, has alpha) of a PNG from its chunks (colour type 4/6, or a tRNS chunk), no decode."""
    if len(data) < 33 or sniff_format(data) != "png" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    colour = data[25]
    alpha = colour in (4, 6)
    pos = 8
    while not alpha and pos + 8 <= len(data):  # look for tRNS before the image data
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"tRNS":
            alpha = True
        if kind in (b"IDAT", b"IEND"):
            break
        pos += 12 + length
    return int(width), int(height), alpha


def _dimensions(data: bytes, fmt: str) -> tuple[int, int] | None:
    if fmt == "png":
        head = png_header(data)
        return (head[0], head[1]) if head else None
    try:
        from PIL import Image  # header only: Image.open does not decode the pixels

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # unreadable: refused by the caller
        return None


def check_image(source: str, data: bytes, position: int, where: str | None = None
                ) -> tuple[EditInput | None, str | None]:
    """(the input, None) or (None, why it is refused and the fix) for input image number ``position``.

    ``where`` names it in the message (default: the spec's ``[edit] images[N] 'file'``)."""
    where = where or f"[edit] images[{position}] {source!r}"
    if len(data) >= MAX_IMAGE_BYTES:
        return None, f"{where} is {_mb(len(data))}: each image must be under 50 MB. Fix: resize or recompress it."
    fmt = sniff_format(data)
    if fmt not in EDIT_FORMATS:
        seen = f"a {fmt.upper()} file" if fmt else "not an image (its first bytes match no image format)"
        return None, f"{where} is {seen}: edits take PNG, WEBP or JPEG. Fix: convert it to PNG."
    dims = _dimensions(data, fmt)
    if dims is None or min(dims) <= 0:
        return None, f"{where} is a damaged {fmt.upper()} (its size cannot be read). Fix: re-export the image."
    if dims[0] * dims[1] > MAX_IMAGE_PIXELS:
        return None, (f"{where} is {dims[0]}x{dims[1]}: at most {MAX_IMAGE_PIXELS:,} pixels. "
                      "Fix: resize it (e.g. to 1024x1024).")
    return EditInput(source, data, fmt, *dims), None


def _overlay_png(where: str, data: bytes, role: str, limit: int, limit_text: str, needs: str
                 ) -> tuple[tuple[int, int, bool] | None, str | None]:
    """(width, height, has alpha) of a mask or markup PNG, or why it is refused: under ``limit`` bytes,
    a PNG (``needs`` says what it must hold), a readable header."""
    if len(data) >= limit:
        return None, f"{where} is {_mb(len(data))}: the {role} must be under {limit_text}. Fix: save it as a smaller PNG."
    fmt = sniff_format(data)
    if fmt != "png":
        seen = f"a {fmt.upper()} file" if fmt else "not an image"
        return None, f"{where} is {seen}: the {role} must be a PNG with {needs}. Fix: save it as PNG (RGBA)."
    head = png_header(data)
    if head is None:
        return None, f"{where} is a damaged PNG (its header cannot be read). Fix: re-export the {role}."
    return head, None


def _size_mismatch(where: str, width: int, height: int, first: EditInput | None, role: str) -> str | None:
    """Why a mask or markup of ``width`` x ``height`` does not fit the first image (None when it does)."""
    if first is None or (width, height) == (first.width, first.height):
        return None
    return (f"{where} is {width}x{height} but the first image {first.source!r} is "
            f"{first.width}x{first.height}: the {role} must be the same size. Fix: resize the {role}.")


def check_mask(source: str, data: bytes, first: EditInput | None, where: str | None = None
               ) -> tuple[EditInput | None, str | None]:
    """(the mask, None) or (None, why it is refused and the fix); ``where`` names it in the message."""
    where = where or f"[edit] mask {source!r}"
    head, why = _overlay_png(where, data, "mask", MAX_MASK_BYTES, "4 MB", "an alpha channel")
    if head is None:
        return None, why
    width, height, alpha = head
    if not alpha:
        return None, (f"{where} has no alpha channel: the transparent pixels mark where to edit. "
                      "Fix: save it as RGBA with the area to change fully transparent.")
    why = _size_mismatch(where, width, height, first, "mask")
    if why:
        return None, why
    return EditInput(source, data, "png", width, height), None


def _has_transparent_pixel(data: bytes) -> bool | None:
    """True when some pixel's alpha is below 255; None when the PNG cannot be decoded."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            if "A" not in im.getbands() and "transparency" not in im.info:
                return False
            low, _ = im.convert("RGBA").getchannel("A").getextrema()
            return low < 255
    except Exception:  # undecodable: refused by the caller
        return None


def check_markup(source: str, data: bytes, first: EditInput | None, where: str | None = None
                 ) -> tuple[EditInput | None, str | None]:
    """(the markup, None) or (None, why it is refused and the fix); ``where`` names it in the message.

    SDK 3.57 ``images.edit``: a transparent PNG overlaid on the first image, the same size, with
    transparent pixels."""
    where = where or f"[edit] markup {source!r}"
    head, why = _overlay_png(where, data, "markup", MAX_IMAGE_BYTES, "50 MB", "transparent pixels")
    if head is None:
        return None, why
    width, height, _ = head
    why = _size_mismatch(where, width, height, first, "markup")
    if why:
        return None, why
    transparent = _has_transparent_pixel(data)
    if transparent is None:
        return None, f"{where} is a damaged PNG (its pixels cannot be read). Fix: re-export the markup."
    if not transparent:
        return None, (f"{where} has no transparent pixel: the markup is overlaid on the first image, so it must "
                      "contain transparent pixels. Fix: save it as RGBA with everything but your marks transparent.")
    return EditInput(source, data, "png", width, height), None


MARKUP_WITH_MASK = ("[edit] has both mask and markup: markup cannot be combined with mask (SDK images.edit). "
                    "Fix: remove one of them.")


def read_edit_inputs(images: tuple[str, ...], mask: str | None, base_dir: Path,
                     result_file: Callable[[str], bytes | None] | None = None,
                     markup: str | None = None) -> tuple[EditInputs | None, list[str]]:
    """Read and check every input (paths relative to ``base_dir``; ``result:<id>`` through ``result_file``).

    Returns (the inputs, []) or (None, every refusal); nothing is sent in either case.
    """
    errors: list[str] = []
    if not 1 <= len(images) <= MAX_EDIT_IMAGES:
        return None, [f"[edit] images lists {len(images)} files: an edit takes 1 to {MAX_EDIT_IMAGES} images. "
                      + ("Fix: add images = [\"product.png\"]." if not images else "Fix: remove some.")]

    def load(source: str, what: str) -> bytes | None:
        if source.startswith(RESULT_PREFIX):
            rid = source[len(RESULT_PREFIX):]
            data = result_file(rid) if result_file is not None else None
            if data is None:
                errors.append(f"{what} {source!r}: no stored result {rid!r} with an image. "
                              "Fix: use an id from `python -m imagegen runs` / the history, or a file path.")
            return data
        path = base_dir / source
        try:
            return path.read_bytes()
        except FileNotFoundError:
            errors.append(f"{what} {source!r}: file not found (looked for {path}). "
                          "Fix: paths are relative to the spec file; check the name.")
        except IsADirectoryError:
            errors.append(f"{what} {source!r}: is a directory. Fix: name an image file.")
        except OSError as exc:
            errors.append(f"{what} {source!r}: cannot be read ({exc.strerror or exc}). Fix: check the path.")
        return None

    read: list[EditInput] = []
    for i, source in enumerate(images):
        data = load(source, f"[edit] images[{i}]")
        if data is None:
            continue
        item, why = check_image(source, data, i)
        if why:
            errors.append(why)
        elif item is not None:
            read.append(item)
    first = read[0] if read and read[0].source == images[0] else None

    def overlay(source: str | None, what: str, check) -> EditInput | None:
        """The mask or the markup, read and checked against the first image (its refusal collected)."""
        data = load(source, what) if source is not None else None
        if data is None:
            return None
        item, why = check(source, data, first)
        if why:
            errors.append(why)
        return item

    mask_item = overlay(mask, "[edit] mask", check_mask)
    markup_item = None
    if markup is not None and mask is not None:
        errors.append(MARKUP_WITH_MASK)
    else:
        markup_item = overlay(markup, "[edit] markup", check_markup)
    if errors:
        return None, errors
    return EditInputs(tuple(read), mask_item, markup_item), []


def check_uploads(images: Sequence[tuple[str, bytes]], mask: tuple[str, bytes] | None = None
                  ) -> tuple[EditInputs | None, list[str]]:
    """The dashboard's inputs (``(name, bytes)`` uploaded or picked from the history) checked like a spec's.

    Returns (the inputs, []) or (None, every refusal naming the file, what is allowed and the fix).
    """
    if not 1 <= len(images) <= MAX_EDIT_IMAGES:
        return None, [f"{len(images)} input images: an edit takes 1 to {MAX_EDIT_IMAGES} images. "
                      + ("Fix: upload an image or pick an earlier result." if not images else "Fix: remove some.")]
    errors: list[str] = []
    read: list[EditInput] = []
    for i, (name, data) in enumerate(images):
        item, why = check_image(name, data, i, where=f"Input image {i + 1} {name!r}")
        if why:
            errors.append(why)
        elif item is not None:
            read.append(item)
    mask_item = None
    if mask is not None:
        first = read[0] if read and read[0].source == images[0][0] else None
        mask_item, why = check_mask(mask[0], mask[1], first, where=f"Mask {mask[0]!r}")
        if why:
            errors.append(why)
    return (None, errors) if errors else (EditInputs(tuple(read), mask_item), [])


def _png_rgba(alpha) -> bytes:
    """An RGBA PNG, black, with this alpha channel (the mask format the API expects)."""
    import numpy as np
    from PIL import Image

    h, w = alpha.shape
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 3] = alpha
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def mask_from_painting(painting, width: int, height: int) -> bytes | None:
    """A mask PNG (``width x height``) from strokes painted over the first image: painted = edited.

    ``painting`` is the canvas's RGBA drawing (any size, scaled with nearest-neighbour); every pixel with
    any paint (alpha > 0) becomes fully transparent (edited), the rest opaque (kept). None when nothing
    is painted (no mask: the whole image may change).
    """
    import numpy as np
    from PIL import Image

    a = np.asarray(painting)
    if a.ndim != 3 or a.shape[2] != 4 or not (a[..., 3] > 0).any():
        return None
    painted = Image.fromarray(((a[..., 3] > 0) * 255).astype(np.uint8), "L")
    if painted.size != (width, height):
        painted = painted.resize((width, height), Image.Resampling.NEAREST)
    return _png_rgba(np.where(np.asarray(painted) > 0, 0, 255).astype(np.uint8))


def mask_from_box(width: int, height: int, box: tuple[float, float, float, float]) -> bytes:
    """A mask PNG whose rectangle ``box`` = (left, top, right, bottom) in percent of the image is edited.

    The box is rounded to whole pixels and clipped to the image; outside it the mask is opaque (kept).
    """
    import numpy as np

    left, top, right, bottom = (max(0.0, min(100.0, float(v))) for v in box)
    x0, x1 = round(width * min(left, right) / 100), round(width * max(left, right) / 100)
    y0, y1 = round(height * min(top, bottom) / 100), round(height * max(top, bottom) / 100)
    alpha = np.full((height, width), 255, np.uint8)
    alpha[y0:y1, x0:x1] = 0
    return _png_rgba(alpha)
