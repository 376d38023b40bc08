"""A run's grid as one labelled PNG (A1111 X/Y/Z-plot style), with each cell's figures under its image.

Columns are the X axis's values, rows the Y axis's, and each Z value (every combination, when
several axes are left over) gets its own sub-grid, stacked vertically under a header. Under each
image: latency and file size, output tokens billed vs documented, cost billed, and the word
"simulated" for simulator rows, so the picture stays honest once it leaves the app. Failed cells
are grey boxes with their error kind and a shortened message; of several repeats the first
successful one is shown with a "+k repeats" note. Pure (PIL only): images come through
``image_loader`` (thumbnails are enough and much faster than full images).

The geometry is fixed by ``cell_px`` alone (never by font metrics), see :class:`Geometry`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from imagegen.core.axes import format_value
from imagegen.errors import LayoutError
from imagegen.insight.gridlayout import (
    Layout,
    SubGrid,
    as_decimal,
    as_float,
    cell_key,
    file_format,
    human_bytes,
    layout_for,
    records,
    rows_by_cell,
)

#: Fonts with Japanese glyphs, tried in order (file names PIL also finds under XDG font dirs).
FONT_FILES = {
    "regular": ("NotoSansCJK-Regular.ttc", "NotoSansJP-Regular.otf", "NotoSansCJKjp-Regular.otf"),
    "bold": ("NotoSansCJK-Bold.ttc", "NotoSansJP-Bold.otf", "NotoSansCJKjp-Bold.otf"),
}
FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/google-noto-cjk",
             "/usr/share/fonts/opentype/noto-cjk", "/usr/local/share/fonts", "/Library/Fonts",
             "/System/Library/Fonts")
MIN_CELL_PX = 128
MAX_CELL_PX = 1024
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
MUTED = (90, 90, 90)
RULE = (210, 210, 210)
FAILED = (190, 190, 190)     # the grey box of a failed cell
NOT_SENT = (228, 228, 228)   # cancelled / skipped / no image
STATUS_TEXT = {"cancelled": "cancelled before it was sent", "skipped": "skipped (budget or earlier stop)"}
TEXT_LINES = 3
MESSAGE_CHARS = 140  # an error message is shortened to this before wrapping


@dataclass(frozen=True)
class Geometry:
    """Pixel sizes of the composite, all derived from ``cell_px``.

    Width = ``pad + label_w + columns * (cell_px + pad)`` (``label_w`` only with a Y axis);
    height = ``title_h + sub_grids * (z_header_h + header_h + rows * slot_h) + pad`` where
    ``slot_h = cell_px + text_h + pad``; ``header_h`` only with an X axis, ``z_header_h`` only with
    Z axes; with a title, the title block is ``title_h`` plus ``line_h`` per context line under it.
    """

    cell_px: int
    font_px: int
    line_h: int
    pad: int
    text_h: int
    label_w: int
    header_h: int
    z_header_h: int
    title_px: int
    title_h: int

    @classmethod
    def for_cell(cls, cell_px: int) -> Geometry:
        """The sizes for images of ``cell_px`` (square boxes; an image keeps its aspect ratio inside)."""
        font_px = max(10, round(cell_px / 20))
        line_h = font_px + 4
        pad = max(6, cell_px // 32)
        title_px = round(font_px * 1.4)
        return cls(cell_px=cell_px, font_px=font_px, line_h=line_h, pad=pad, text_h=TEXT_LINES * line_h,
                   label_w=cell_px // 2 + pad, header_h=2 * line_h + pad, z_header_h=2 * line_h + pad,
                   title_px=title_px, title_h=title_px + 2 * pad)

    @property
    def slot_h(self) -> int:
        """Height of one grid row: image box, its text lines and the gap."""
        return self.cell_px + self.text_h + self.pad


@dataclass(frozen=True)
class _Frame:
    """Where things go for one composite: the geometry plus which margins this grid has."""

    g: Geometry
    layout: Layout
    title: bool
    title_lines: int  # context lines under the title

    @property
    def left(self) -> int:
        return self.g.pad + (self.g.label_w if self.layout.y else 0)

    @property
    def top(self) -> int:
        return self.g.header_h if self.layout.x else 0

    @property
    def z_head(self) -> int:
        return self.g.z_header_h if self.layout.z else 0

    @property
    def title_h(self) -> int:
        return self.g.title_h + self.title_lines * self.g.line_h if self.title else 0

    @property
    def sub_h(self) -> int:
        return self.z_head + self.top + len(self.layout.ys) * self.g.slot_h

    @property
    def size(self) -> tuple[int, int]:
        width = self.left + len(self.layout.xs) * (self.g.cell_px + self.g.pad)
        return width, self.title_h + len(self.layout.sub_grids()) * self.sub_h + self.g.pad

    def box(self, sub: int, col: int, row: int) -> tuple[int, int, int, int]:
        """The image box (x0, y0, x1, y1) of a cell; its text lines follow below it."""
        x0 = self.left + col * (self.g.cell_px + self.g.pad)
        y0 = self.title_h + sub * self.sub_h + self.z_head + self.top + row * self.g.slot_h + self.g.pad
        return x0, y0, x0 + self.g.cell_px, y0 + self.g.cell_px


# -- fonts and text --------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font with Japanese glyphs when one is installed (Noto Sans CJK), else PIL's default at ``size``."""
    names = FONT_FILES["bold" if bold else "regular"] + (FONT_FILES["regular"] if bold else ())
    for name in names:
        for candidate in (*(f"{d}/{name}" for d in FONT_DIRS), name):
            try:
                return ImageFont.truetype(candidate, size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def _width(text: str, f) -> float:
    return f.getlength(text)


def _fit(text: str, f, width: int) -> str:
    """``text`` cut to ``width`` pixels with an ellipsis."""
    if _width(text, f) <= width:
        return text
    while text and _width(text + "…", f) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, f, width: int, max_lines: int) -> list[str]:
    """Greedy wrap by pixel width, at spaces when possible (Japanese text breaks anywhere)."""
    lines: list[str] = []
    rest = " ".join(text.split())
    while rest and len(lines) < max_lines:
        if _width(rest, f) <= width:
            lines.append(rest)
            rest = ""
            break
        cut = 1
        while cut < len(rest) and _width(rest[: cut + 1], f) <= width:
            cut += 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0 and rest[cut:cut + 1] != " ":
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest and lines:
        lines[-1] = _fit(lines[-1] + "…", f, width)
    return lines


def _text(value) -> str:
    """A text column's value; '' for NULL/NaN."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


# -- cells -----------------------------------------------------------------------------------------


def _shown(cell_rows: Sequence[dict]) -> dict | None:
    """The repeat a cell shows: the first successful one with an image, else the first."""
    for r in cell_rows:
        if r.get("status") == "ok" and _text(r.get("image_sha256")):
            return r
    return cell_rows[0] if cell_rows else None


def short_status(label: object) -> str:
    """A catalog figure's status as it fits under a cell: "documented", "derived", "assumed",
    "measured (third party)" for "measured (third party, 2026-09-16)", "measured (ours, n = 12)" kept
    whole; rows stored before statuses were recorded say "catalog"."""
    text = _text(label).strip()
    if not text:
        return "catalog"
    head, _, rest = text.partition(" (")
    if not rest:
        return head
    who = rest.rstrip(")")
    return f"{head} ({who})" if who.startswith("ours") else f"{head} ({who.split(',')[0]})"


def figure_lines(row: Mapping, extra_repeats: int = 0, failed_repeats: int = 0) -> list[str]:
    """The (at most three) short lines under a cell: latency · file, tokens billed/documented, cost.

    The last line carries "simulated" for simulator rows and "+k repeats (j failed)" when the cell
    has more repeats than the one shown.
    """
    simulated = bool(as_float(row.get("simulated")))
    first = []
    latency = as_float(row.get("latency_s"))
    if latency is not None:
        first.append(f"{latency:.2f} s")
    if as_float(row.get("image_bytes")) is not None:
        first.append(f"{human_bytes(row.get('image_bytes'))} {file_format(row)}")
    lines = [" · ".join(first)] if first else []
    tokens, documented = as_float(row.get("output_tokens")), as_float(row.get("documented_output_tokens"))
    if tokens is not None:
        # the catalog figure with its real status (documented / derived / measured (by whom) / assumed)
        doc = f"{documented:,.0f} {short_status(row.get('token_status'))}" if documented is not None \
            else "no catalog figure"
        lines.append(f"{tokens:,.0f} tok billed / {doc}")
    last = []
    cost = as_decimal(row.get("cost_usd"))
    if cost is not None:
        last.append(f"${cost:.4f} billed" + (" (reused)" if as_float(row.get("reused")) else ""))
    replayed = _text(row.get("replayed_from"))
    if replayed:  # a copy of a recorded answer: where from, never "measured" or plain "simulated"
        last.append(replayed)
    elif simulated:
        last.append("simulated")
    if extra_repeats:
        note = f"+{extra_repeats} repeat{'s' if extra_repeats > 1 else ''}"
        last.append(note + (f" ({failed_repeats} failed)" if failed_repeats else ""))
    if last:
        lines.append(" · ".join(last))
    return lines[:TEXT_LINES]


def _paste_image(canvas: Image.Image, box: tuple[int, int, int, int], data: bytes) -> None:
    x0, y0, x1, y1 = box
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (x1 - x0, y1 - y0))  # JPEG: decode at a reduced scale
        alpha = "A" in im.getbands() or "transparency" in im.info
        im = im.convert("RGBA" if alpha else "RGB")
        im.thumbnail((x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
        # centred across, bottom-aligned so the figures sit right under the picture
        canvas.paste(im, (x0 + (x1 - x0 - im.width) // 2, y1 - im.height), im if alpha else None)


def _boxed_note(draw: ImageDraw.ImageDraw, box, fill, head: str, body: str, g: Geometry) -> None:
    """A filled box with a bold heading and a wrapped message (failed / not sent / missing)."""
    x0, y0, x1, y1 = box
    draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill, outline=RULE)  # PIL's x1/y1 are inclusive
    inner = x1 - x0 - 2 * g.pad
    y = y0 + g.pad
    for line in _wrap(head, font(g.font_px, True), inner, 2):
        draw.text((x0 + g.pad, y), line, fill=INK, font=font(g.font_px, True))
        y += g.line_h
    body_lines = max(0, (y1 - g.pad - y) // g.line_h)
    for line in _wrap(body, font(g.font_px), inner, body_lines):
        draw.text((x0 + g.pad, y), line, fill=INK, font=font(g.font_px))
        y += g.line_h


def _draw_cell(canvas: Image.Image, draw: ImageDraw.ImageDraw, box, cell_rows: Sequence[dict],
               image_loader: Callable[[str], bytes], g: Geometry) -> None:
    row = _shown(cell_rows)
    if row is None:
        draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=BACKGROUND, outline=RULE)
        draw.text((box[0] + g.pad, box[1] + g.pad), "no result", fill=MUTED, font=font(g.font_px))
        return
    status = _text(row.get("status"))
    sha = _text(row.get("image_sha256"))
    if status == "ok" and sha:
        try:
            _paste_image(canvas, box, image_loader(sha))
        except Exception as err:  # a deleted file, an unreadable thumbnail, a bomb: a placeholder, never a crash
            _boxed_note(draw, box, NOT_SENT, "image unavailable", type(err).__name__, g)
    elif status == "error":
        message = " ".join(_text(row.get("error_message")).split()) or "no message"
        if len(message) > MESSAGE_CHARS:
            message = message[: MESSAGE_CHARS - 1] + "…"
        _boxed_note(draw, box, FAILED, _text(row.get("error_kind")) or "error", message, g)
    else:
        _boxed_note(draw, box, NOT_SENT, status or "no image", STATUS_TEXT.get(status, ""), g)
    y = box[3] + 2
    others = [r for r in cell_rows if r is not row]
    failed = sum(1 for r in others if r.get("status") == "error")
    for line in figure_lines(row, len(others), failed):
        draw.text((box[0], y), _fit(line, font(g.font_px), g.cell_px), fill=MUTED, font=font(g.font_px))
        y += g.line_h


# -- the composite ---------------------------------------------------------------------------------


def _label(name: str, value) -> str:
    return f"{name} = {format_value(name, value)}"


TITLE_PROMPT_LINES = 3  # at most this many prompt lines in the title block (the rest is "+k more")


def missing_glyphs(text: str, f) -> str:
    """The characters of ``text`` that ``f`` draws as its "missing glyph" box (tofu), in order.

    A character is missing when its bitmap equals that of a private-use code point no font maps.
    Spaces are never missing.
    """
    def bitmap(ch: str) -> bytes:
        im = Image.new("L", (4 * getattr(f, "size", 16), 2 * getattr(f, "size", 16)), 0)
        ImageDraw.Draw(im).text((0, 0), ch, fill=255, font=f)
        return im.tobytes()

    notdef = bitmap("\U000f0000")
    return "".join(ch for ch in dict.fromkeys(text) if not ch.isspace() and bitmap(ch) == notdef)


def title_block(data: Sequence[Mapping], title: str = "") -> list[str]:
    """The lines of the composite's title block: the title, then what the figures are about.

    ``model · provider``, the run's UTC date and whether its figures are simulated, then the prompts.
    The picture stays honest once it leaves the app (a slide, a chat message).
    """
    def distinct(name: str) -> list[str]:
        return list(dict.fromkeys(t for t in (_text(r.get(name)) for r in data) if t))

    models, providers = distinct("model"), distinct("provider")
    dates = sorted(d[:10] for d in distinct("created_at"))
    sim = {bool(as_float(r.get("simulated"))) for r in data if r.get("simulated") is not None}
    replays = distinct("replayed_from")
    figures = (f"figures {'; '.join(replays)} (a recording served by the simulator, not measured)"
               if replays and all(_text(r.get("replayed_from")) for r in data)
               else "figures: replayed and other cells mixed (each cell says which)" if replays
               else "figures SIMULATED (built-in simulator, not a real service)" if sim == {True}
               else "figures measured on a real service" if sim == {False}
               else "figures: simulated and measured cells mixed (each cell says which)" if sim else "")
    when = dates[0] if dates and dates[0] == dates[-1] else f"{dates[0]} – {dates[-1]}" if dates else ""
    context = " · ".join(t for t in (", ".join(models), ", ".join(providers), when and f"{when} (UTC)", figures) if t)
    prompts = distinct("prompt")
    lines = [title or (data[0].get("run_name") or data[0].get("run_id") or "grid" if data else "grid")]
    if context:
        lines.append(context)
    shown = prompts[:TITLE_PROMPT_LINES]
    for i, prompt in enumerate(shown):
        more = len(prompts) - len(shown)
        label = "prompt" if len(prompts) == 1 else f"prompt {i + 1}"
        lines.append(f"{label}: {prompt}" + (f"  (+{more} more)" if more and i == len(shown) - 1 else ""))
    return [str(line) for line in lines]


def compose_grid(rows, image_loader: Callable[[str], bytes], *, x: str | None, y: str | None,
                 z: str | Sequence[str] | None, cell_px: int = 256, title: str = "",
                 axes: Mapping[str, Sequence] | None = None) -> bytes:
    """The grid of one run's ``rows`` (``result_rows`` as a DataFrame or list of dicts) as PNG bytes.

    ``x``/``y`` name the axes for columns and rows, ``z`` the axis (or axes) of stacked sub-grids;
    ``None`` leaves a role empty, and axes not named become further sub-grid axes (nothing is
    hidden). ``axes`` (the spec's axes) fixes the order of values; otherwise they keep the order
    they first appear in. ``image_loader(sha256)`` returns the bytes of a row's image (a
    thumbnail is enough). Raises LayoutError (a ValueError) for an axis the rows do not have or ``cell_px``
    outside ``MIN_CELL_PX..MAX_CELL_PX``.
    """
    if not isinstance(cell_px, int) or not MIN_CELL_PX <= cell_px <= MAX_CELL_PX:
        raise LayoutError(f"cell_px = {cell_px!r} is out of range. Allowed: an integer {MIN_CELL_PX}..{MAX_CELL_PX}. "
                         f"Fix: pass e.g. cell_px=256.")
    data = records(rows)
    layout = layout_for(data, axes).arranged(x, y, z)
    g = Geometry.for_cell(cell_px)
    head, *context = title_block(data, title) if title else ("",)
    frame = _Frame(g, layout, bool(title), len(context))
    canvas = Image.new("RGB", frame.size, BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    regular, bold = font(g.font_px), font(g.font_px, True)
    inner = frame.size[0] - 2 * g.pad
    if title:
        draw.text((g.pad, g.pad), _fit(head, font(g.title_px, True), inner), fill=INK, font=font(g.title_px, True))
    for i, line in enumerate(context):
        draw.text((g.pad, g.pad + g.title_px + g.pad // 2 + i * g.line_h), _fit(line, regular, inner),
                  fill=INK if i else MUTED, font=regular)
    by_cell = rows_by_cell(data, layout)
    for s, sub in enumerate(layout.sub_grids()):
        _draw_headers(draw, frame, s, sub, regular, bold)
        for r, yv in enumerate(layout.ys):
            for c, xv in enumerate(layout.xs):
                cell_rows = by_cell.get(cell_key(layout.coords(sub, xv, yv), layout.names), [])
                _draw_cell(canvas, draw, frame.box(s, c, r), cell_rows, image_loader, g)
    out = io.BytesIO()
    canvas.save(out, "PNG", compress_level=3)  # level 6 takes twice as long for ~7 % less
    return out.getvalue()


def _draw_headers(draw: ImageDraw.ImageDraw, frame: _Frame, s: int, sub: SubGrid, regular, bold) -> None:
    """The Z header of sub-grid ``s``, its column labels (X) and row labels (Y)."""
    g, layout = frame.g, frame.layout
    width = frame.size[0]
    top = frame.title_h + s * frame.sub_h
    if sub:
        if s:
            draw.line((g.pad, top + g.pad // 2, width - g.pad, top + g.pad // 2), fill=RULE, width=2)
        text = " · ".join(_label(n, v) for n, v in sub)
        for i, line in enumerate(_wrap(text, bold, width - 2 * g.pad, 2)):
            draw.text((g.pad, top + g.pad + i * g.line_h), line, fill=INK, font=bold)
    head_y = top + frame.z_head
    if layout.x:
        for c, xv in enumerate(layout.xs):
            x0 = frame.box(s, c, 0)[0]
            for i, line in enumerate(_wrap(_label(layout.x[0], xv), bold, g.cell_px, 2)):
                draw.text((x0, head_y + g.pad // 2 + i * g.line_h), line, fill=INK, font=bold)
        if layout.y:
            corner = f"rows: {layout.y[0]}"
            draw.text((g.pad, head_y + g.pad // 2), _fit(corner, regular, g.label_w - g.pad), fill=MUTED,
                      font=regular)
            draw.text((g.pad, head_y + g.pad // 2 + g.line_h), _fit(f"columns: {layout.x[0]}", regular,
                      g.label_w - g.pad), fill=MUTED, font=regular)
    if layout.y:
        for r, yv in enumerate(layout.ys):
            _, y0, _, _ = frame.box(s, 0, r)
            lines = _wrap(_label(layout.y[0], yv), bold, g.label_w - g.pad, max(1, g.cell_px // g.line_h))
            y_text = y0 + (g.cell_px - len(lines) * g.line_h) // 2  # centred on the image box
            for i, line in enumerate(lines):
                draw.text((g.pad, y_text + i * g.line_h), line, fill=INK, font=bold)
