"""Generate's Edit mode: the input images (uploaded or earlier results), the mask and their previews.

Every cell of an edit grid edits the same inputs (``[edit]`` in a spec). The inputs are checked by
:func:`imagegen.facade.edit_inputs` (the spec's own checks, :mod:`imagegen.core.editinputs`) before
anything is estimated or sent; each refusal names the file, what is allowed and the fix.

The mask can be uploaded, drawn as a rectangle (percent of the image), or painted on the first image
with ``streamlit-drawable-canvas`` (0.13, Streamlit components v2; works with our Streamlit 1.67).
Painted or boxed pixels become transparent: that is where the image is edited (OpenAI: "fully
transparent areas ... indicate where the image should be edited"); the rest is kept.
"""

from __future__ import annotations

import streamlit as st

from imagegen import facade
from imagegen.facade import MAX_EDIT_IMAGES, EditInputs, mask_from_box, mask_from_painting
from ui import Context
from ui.i18n import N_, _
from ui.plain import md_escape
from ui.state import generate as gen_state

MODES = ("generate", "edit")
MODE_LABELS = {"generate": N_("Generate (text → image)"), "edit": N_("Edit (image + mask → image)")}
MASK_MODES = ("none", "paint", "box", "upload")
MASK_LABELS = {"none": N_("No mask (the whole image may change)"), "paint": N_("Paint on the first image"),
               "box": N_("Rectangle"), "upload": N_("Upload a mask PNG")}
CANVAS_MAX_PX = 512


def mode() -> str:
    """The Generate page's mode: ``generate`` or ``edit``."""
    value = gen_state.widgets.get("edit_mode", "generate")
    return value if value in MODES else "generate"


def render_mode() -> str:
    """The Generate / Edit switch."""
    gen_state.widgets.setdefault("edit_mode", "generate")
    st.radio(_("Mode"), MODES, key="edit_mode", horizontal=True, format_func=lambda m: _(MODE_LABELS[m]),
             help=_("Edit sends every cell to the edit endpoint (/images/edits) with the same input images."))
    return mode()


def _picked_label(row) -> str:
    prompt = str(row.prompt)
    prompt = prompt if len(prompt) <= 40 else prompt[:39] + "…"
    return f"#{row.result_id} · {row.model} · {row.quality} · {row.size} · {prompt}"


def _render_inputs(ctx: Context) -> tuple[list[tuple[str, bytes]], list[int]]:
    c1, c2 = st.columns(2)
    files = c1.file_uploader(_("Input images (1–{n}: PNG, WEBP or JPEG, each < 50 MB)").format(n=MAX_EDIT_IMAGES),
                             type=["png", "webp", "jpg", "jpeg"], accept_multiple_files=True, key="edit_images",
                             help=_("The first image is the one the mask applies to and input_fidelity keeps."))
    uploads = [(f.name, f.getvalue()) for f in (files or [])]
    picked: list[int] = []
    recent = ctx.store.recent_images() if ctx.store is not None else None
    if recent is not None and not recent.empty:
        labels = {int(r.result_id): _picked_label(r) for r in recent.itertuples()}
        picked = c2.multiselect(_("…or earlier results (iterative refinement)"), list(labels), key="edit_results",
                                format_func=lambda rid: labels.get(rid, f"#{rid}"),
                                help=_("Stored results; they come after any uploaded images, in this order."))
    else:
        c2.caption(_("Earlier results appear here once a run has stored images."))
    return uploads, [int(r) for r in picked]


def _first_size(uploads: list[tuple[str, bytes]], picked: list[int], ctx: Context) -> tuple[bytes, int, int] | None:
    """The first input image's bytes and size (None when there is none or it cannot be read)."""
    draft = facade.edit_inputs(uploads[:1], picked[:1] if not uploads else [], None, ctx.store)
    if draft.inputs is None:
        return None
    first = draft.inputs.images[0]
    return first.data, first.width, first.height


def _render_mask(ctx: Context, first: tuple[bytes, int, int] | None) -> tuple[str, bytes] | None:
    ss = gen_state.widgets
    ss.setdefault("edit_mask_mode", "none")
    how = st.radio(_("Mask"), MASK_MODES, key="edit_mask_mode", horizontal=True,
                   format_func=lambda m: _(MASK_LABELS[m]),
                   help=_("Transparent mask pixels are edited; opaque ones keep the first image's pixels."))
    if how == "upload":
        upload = st.file_uploader(_("Mask PNG (alpha channel, the first image's size, < 4 MB)"), type=["png"],
                                  key="edit_mask_file")
        return (upload.name, upload.getvalue()) if upload is not None else None
    if first is None:
        if how != "none":
            st.caption(_("Add an input image first; the mask is drawn on it."))
        return None
    data, width, height = first
    if how == "box":
        cols = st.columns(4)
        box = []
        sides = (("left", N_("left (%)"), 25.0), ("top", N_("top (%)"), 25.0), ("right", N_("right (%)"), 75.0),
                 ("bottom", N_("bottom (%)"), 75.0))
        for col, (name, label, default) in zip(cols, sides):
            ss.setdefault(f"edit_box_{name}", default)
            box.append(col.number_input(_(label), min_value=0.0, max_value=100.0, step=5.0,
                                        key=f"edit_box_{name}"))
        return "mask-rectangle.png", mask_from_box(width, height, tuple(box))
    if how == "paint":
        return _render_canvas(data, width, height)
    return None


def _render_canvas(data: bytes, width: int, height: int) -> tuple[str, bytes] | None:
    from streamlit_drawable_canvas import st_canvas

    scale = min(1.0, CANVAS_MAX_PX / max(width, height))
    cw, ch = max(1, round(width * scale)), max(1, round(height * scale))
    c1, c2 = st.columns(2)
    tools = {"freedraw": N_("free hand"), "rect": N_("rectangle")}
    tool = c1.selectbox(_("Brush"), tuple(tools), key="edit_tool", format_func=lambda t: _(tools[t]))
    stroke = c2.slider(_("Brush width (px on screen)"), 5, 80, 30, key="edit_brush")
    st.caption(_("Paint over the area to change; everything unpainted is kept as it is."))
    result = st_canvas(fill_color="rgba(255, 0, 80, 0.5)", stroke_color="rgba(255, 0, 80, 0.5)",
                       stroke_width=stroke, background_image=data, width=cw, height=ch, drawing_mode=tool,
                       return_image_data=True, key="edit_canvas")
    painting = result.image_data if result is not None else None
    mask = mask_from_painting(painting, width, height) if painting is not None else None
    return ("mask-painted.png", mask) if mask is not None else None


def render_inputs(ctx: Context) -> tuple[EditInputs | None, list[str]]:
    """The inputs, mask and their previews; (the checked inputs, []) or (None, why not and the fix)."""
    st.markdown(_("**Edit inputs** — every cell edits these images (the mask applies to the first one)."))
    uploads, picked = _render_inputs(ctx)
    first = _first_size(uploads, picked, ctx) if uploads or picked else None
    mask = _render_mask(ctx, first)
    if not uploads and not picked:
        return None, [_("no input image: an edit takes 1 to {n} images. Fix: upload an image or pick an earlier "
                        "result.").format(n=MAX_EDIT_IMAGES)]
    draft = facade.edit_inputs(uploads, picked, mask, ctx.store)
    for why in draft.errors:
        st.error(md_escape(why))
    if draft.inputs is not None:
        render_previews(draft.inputs)
    return draft.inputs, draft.errors


def render_previews(inputs: EditInputs, *, width: int = 160) -> None:
    """The inputs and the mask side by side, each with its source, size and short hash."""
    items = [(i.data, f"{i.source} · {i.width}×{i.height} · {i.sha256[:10]}") for i in inputs.images]
    if inputs.mask is not None:
        items.append((inputs.mask.data, f"mask · {inputs.mask.source} · {inputs.mask.sha256[:10]}"))
    cols = st.columns(min(len(items), 6))
    for i, (data, caption) in enumerate(items[:12]):
        cols[i % len(cols)].image(data, caption=md_escape(caption), width=width)
    if len(items) > 12:
        st.caption(_("…and {n} more inputs.").format(n=len(items) - 12))
